/*
 * build_deck.c — reading the `ferrosolv build` deck (format in build_deck.h) into an fs_electrolyte_spec.
 *
 * Two passes. While core/ini.h walks the file, each value is only stored, with the "path:line" it came from, under
 * its normalized key (lower case, '_' -> '-'); unknown sections and keys and repeated keys fail at once. Then the
 * values are interpreted and cross-checked (list lengths, exactly one size key, every solvent known or defined in a
 * [molecule NAME] section), each error naming the line of the key at fault. Checking the salt and solvent names here,
 * not only when building, is what lets a deck mistake point at its line.
 */
#include "build_deck.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/ini.h"
#include "species.h"

#define WHERE_LEN 1100
#define VALUE_LEN 4096

typedef struct {
    char value[VALUE_LEN];
    char where[WHERE_LEN]; /* "" = not given */
} slot;

enum {
    K_SALT,
    K_MOLARITY,
    K_SALTVOL,
    K_SOLVENTS,
    K_RATIO,
    K_RATIOTYPE,
    K_MOLECULES,
    K_ATOMS,
    K_BOX,
    K_DENSITY,
    K_TOLERANCE,
    K_CHARGESCALE,
    K_SEED,
    K_ATTEMPTS,
    K_RELAX,
    K_FFDIR,
    K_NSYSTEM
};
static const char *const system_keys[K_NSYSTEM] = {
    "salt", "molarity", "salt-volume", "solvents",     "ratio", "ratio-type",   "molecules",   "atoms",
    "box",  "density",  "tolerance",   "charge-scale", "seed",  "max-attempts", "relax-steps", "forcefield-dir"};

enum { O_GRO, O_TOP, O_ITPDIR, O_NOUTPUT };
static const char *const output_keys[O_NOUTPUT] = {"gro", "top", "itp-dir"};

enum { M_ITP, M_GRO, M_DENSITY, M_NKEYS };
static const char *const molecule_keys[M_NKEYS] = {"itp", "gro", "density"};

typedef struct {
    char name[FS_ELYTE_NAME];
    char where[WHERE_LEN]; /* of its first key */
    slot key[M_NKEYS];
} molecule_section;

typedef struct {
    const char *path;
    char dir[FS_SPECIES_PATH];
    slot sys[K_NSYSTEM];
    slot out[O_NOUTPUT];
    molecule_section mol[FS_ELYTE_MAX];
    int nmol;
} reader;

static void normalize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; ++in) out[n++] = *in == '_' ? '-' : (char)tolower((unsigned char)*in);
    out[n] = '\0';
}

static fs_status store(slot *s, const char *key, const char *value, const char *where)
{
    if (s->where[0]) return fs_fail(FS_ERR_PARSE, "%s: '%s' given twice (first at %s)", where, key, s->where);
    if (strlen(value) >= sizeof s->value) return fs_fail(FS_ERR_PARSE, "%s: value of '%s' too long", where, key);
    strcpy(s->value, value);
    snprintf(s->where, sizeof s->where, "%s", where);
    return FS_OK;
}

static int find_key(const char *const *keys, int n, const char *key)
{
    for (int i = 0; i < n; ++i)
        if (!strcmp(keys[i], key)) return i;
    return -1;
}

static fs_status on_value(void *ctx, const char *section, const char *key, const char *value, const char *where)
{
    reader *r = ctx;
    char sec[256], k[128];
    normalize(section, sec, sizeof sec);
    normalize(key, k, sizeof k);
    if (!strcmp(sec, "system")) {
        int i = find_key(system_keys, K_NSYSTEM, k);
        if (i < 0)
            return fs_fail(FS_ERR_PARSE,
                           "%s: unknown key '%s' in [system] (known: salt, molarity, salt-volume, "
                           "solvents, ratio, ratio-type, molecules, atoms, box, density, tolerance, "
                           "charge-scale, seed, max-attempts, relax-steps, forcefield-dir)",
                           where, key);
        return store(&r->sys[i], key, value, where);
    }
    if (!strcmp(sec, "output")) {
        int i = find_key(output_keys, O_NOUTPUT, k);
        if (i < 0)
            return fs_fail(FS_ERR_PARSE, "%s: unknown key '%s' in [output] (known: gro, top, itp-dir)", where, key);
        return store(&r->out[i], key, value, where);
    }
    if (!strncmp(sec, "molecule", 8) && isspace((unsigned char)sec[8])) {
        const char *name = section + 8;
        while (isspace((unsigned char)*name)) ++name;
        molecule_section *m = NULL;
        for (int j = 0; j < r->nmol; ++j)
            if (!strcasecmp(r->mol[j].name, name)) m = &r->mol[j];
        if (!m) {
            if (r->nmol == FS_ELYTE_MAX)
                return fs_fail(FS_ERR_PARSE, "%s: more than %d [molecule] sections", where, FS_ELYTE_MAX);
            if (!*name || strlen(name) >= FS_ELYTE_NAME || strpbrk(name, ":, \t"))
                return fs_fail(FS_ERR_PARSE, "%s: bad molecule name '%s' in [%s]", where, name, section);
            m = &r->mol[r->nmol++];
            memset(m, 0, sizeof *m);
            strcpy(m->name, name);
            snprintf(m->where, sizeof m->where, "%s", where);
        }
        int i = find_key(molecule_keys, M_NKEYS, k);
        if (i < 0)
            return fs_fail(FS_ERR_PARSE, "%s: unknown key '%s' in [%s] (known: itp, gro, density)", where, key,
                           section);
        return store(&m->key[i], key, value, where);
    }
    return fs_fail(FS_ERR_PARSE, "%s: unknown section [%s] (known: [system], [output], [molecule NAME])", where,
                   section);
}

/* A whole, finite number. */
static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end)) ++end;
    return end != s && !*end && errno == 0 && isfinite(*v);
}

/* Splits "a:b:c" (or commas) into at most max trimmed items; returns the count or -1 when there are more. */
static int split_list(const char *s, char items[][VALUE_LEN], int max)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ":,");
        if (n == max) return -1;
        const char *a = p, *b = p + len;
        while (a < b && isspace((unsigned char)*a)) ++a;
        while (b > a && isspace((unsigned char)b[-1])) --b;
        snprintf(items[n++], VALUE_LEN, "%.*s", (int)(b - a), a);
        if (!p[len]) break;
        p += len + 1;
    }
    return n;
}

static fs_status number_list(const slot *s, const char *key, int max, double *v, int *n, int positive)
{
    char items[FS_ELYTE_MAX][VALUE_LEN];
    *n = split_list(s->value, items, max);
    if (*n < 0) return fs_fail(FS_ERR_INVALID, "%s: '%s' has more than %d items", s->where, key, max);
    for (int i = 0; i < *n; ++i)
        if (!parse_double(items[i], &v[i]) || (positive && !(v[i] > 0)))
            return fs_fail(FS_ERR_INVALID, "%s: %s '%s' is not a %snumber", s->where, key, items[i],
                           positive ? "positive " : "");
    return FS_OK;
}

static fs_status resolve(const reader *r, const char *value, char *out, size_t cap, const char *where)
{
    int n = value[0] == '/' ? snprintf(out, cap, "%s", value) : snprintf(out, cap, "%s/%s", r->dir, value);
    if (n < 0 || (size_t)n >= cap) return fs_fail(FS_ERR_INVALID, "%s: path too long", where);
    return FS_OK;
}

static fs_status positive_value(const slot *s, const char *key, double *v)
{
    if (!parse_double(s->value, v) || !(*v > 0))
        return fs_fail(FS_ERR_INVALID, "%s: %s must be a positive number, got '%s'", s->where, key, s->value);
    return FS_OK;
}

static fs_status interpret_salts(reader *r, fs_electrolyte_spec *sp)
{
    slot *salt = &r->sys[K_SALT], *mol = &r->sys[K_MOLARITY], *vol = &r->sys[K_SALTVOL];
    char items[FS_ELYTE_MAX][VALUE_LEN], known[256];
    if (!salt->where[0] || !strcasecmp(salt->value, "none")) {
        if (mol->where[0] && strcasecmp(mol->value, "0"))
            return fs_fail(FS_ERR_INVALID, "%s: molarity given without a salt", mol->where);
        return FS_OK;
    }
    int n = split_list(salt->value, items, FS_ELYTE_MAX);
    if (n < 0) return fs_fail(FS_ERR_INVALID, "%s: more than %d salts", salt->where, FS_ELYTE_MAX);
    for (int i = 0; i < n; ++i) {
        if (!fs_salt_find(items[i])) {
            fs_salt_names(known, sizeof known);
            return fs_fail(FS_ERR_INVALID, "%s: unknown salt '%s' (known: %s, or none)", salt->where, items[i], known);
        }
        snprintf(sp->salt[i].name, sizeof sp->salt[i].name, "%s", fs_salt_find(items[i])->name);
    }
    sp->nsalts = n;
    if (!mol->where[0]) return fs_fail(FS_ERR_INVALID, "%s: salt given without molarity", salt->where);
    double v[FS_ELYTE_MAX];
    int m;
    fs_status st = number_list(mol, "molarity", FS_ELYTE_MAX, v, &m, 1);
    if (st != FS_OK) return st;
    if (m != n) return fs_fail(FS_ERR_INVALID, "%s: %d molarities for %d salts", mol->where, m, n);
    for (int i = 0; i < n; ++i) sp->salt[i].molarity = v[i];
    if (vol->where[0]) {
        st = number_list(vol, "salt-volume", FS_ELYTE_MAX, v, &m, 1);
        if (st != FS_OK) return st;
        if (m != n) return fs_fail(FS_ERR_INVALID, "%s: %d salt volumes for %d salts", vol->where, m, n);
        for (int i = 0; i < n; ++i) sp->salt[i].molar_volume = v[i];
    }
    return FS_OK;
}

static fs_status interpret_solvents(reader *r, fs_electrolyte_spec *sp)
{
    slot *sol = &r->sys[K_SOLVENTS], *rat = &r->sys[K_RATIO], *typ = &r->sys[K_RATIOTYPE];
    char items[FS_ELYTE_MAX][VALUE_LEN], known[256];
    if (!sol->where[0])
        return fs_fail(FS_ERR_INVALID, "%s: [system] needs 'solvents' (e.g. solvents = EC:DMC)", r->path);
    int n = split_list(sol->value, items, FS_ELYTE_MAX);
    if (n < 0) return fs_fail(FS_ERR_INVALID, "%s: more than %d solvents", sol->where, FS_ELYTE_MAX);
    for (int i = 0; i < n; ++i) {
        fs_solvent_spec *sv = &sp->solvent[i];
        molecule_section *m = NULL;
        for (int j = 0; j < r->nmol; ++j)
            if (!strcasecmp(r->mol[j].name, items[i])) m = &r->mol[j];
        if (!items[i][0] || strlen(items[i]) >= FS_ELYTE_NAME)
            return fs_fail(FS_ERR_INVALID, "%s: bad solvent name '%s'", sol->where, items[i]);
        if (m) {
            snprintf(sv->name, sizeof sv->name, "%s", m->name);
            if (!m->key[M_ITP].where[0] || !m->key[M_GRO].where[0])
                return fs_fail(FS_ERR_INVALID, "%s: [molecule %s] needs both itp and gro", m->where, m->name);
            fs_status st = resolve(r, m->key[M_ITP].value, sv->itp, sizeof sv->itp, m->key[M_ITP].where);
            if (st == FS_OK) st = resolve(r, m->key[M_GRO].value, sv->gro, sizeof sv->gro, m->key[M_GRO].where);
            if (st == FS_OK && m->key[M_DENSITY].where[0])
                st = positive_value(&m->key[M_DENSITY], "density", &sv->density);
            if (st != FS_OK) return st;
        } else if (fs_solvent_find(items[i])) {
            snprintf(sv->name, sizeof sv->name, "%s", fs_solvent_find(items[i])->name);
        } else {
            fs_solvent_names(known, sizeof known);
            return fs_fail(FS_ERR_INVALID,
                           "%s: unknown solvent '%s' (known: %s; define others in a [molecule %s] "
                           "section)",
                           sol->where, items[i], known, items[i]);
        }
        sv->ratio = 1.0;
    }
    sp->nsolvents = n;
    for (int j = 0; j < r->nmol; ++j) {
        int used = 0;
        for (int i = 0; i < n; ++i) used |= !strcasecmp(sp->solvent[i].name, r->mol[j].name);
        if (!used)
            return fs_fail(FS_ERR_INVALID, "%s: [molecule %s] is not among the solvents (%s)", r->mol[j].where,
                           r->mol[j].name, sol->value);
    }
    if (rat->where[0]) {
        double v[FS_ELYTE_MAX];
        int m;
        fs_status st = number_list(rat, "ratio", FS_ELYTE_MAX, v, &m, 1);
        if (st != FS_OK) return st;
        if (m != n) return fs_fail(FS_ERR_INVALID, "%s: %d ratio parts for %d solvents", rat->where, m, n);
        for (int i = 0; i < n; ++i) sp->solvent[i].ratio = v[i];
    } else if (n > 1) {
        return fs_fail(FS_ERR_INVALID, "%s: %d solvents need a ratio (e.g. ratio = 1:1)", sol->where, n);
    }
    if (typ->where[0]) {
        if (!strcasecmp(typ->value, "volume"))
            sp->ratio = FS_RATIO_VOLUME;
        else if (!strcasecmp(typ->value, "molar"))
            sp->ratio = FS_RATIO_MOLAR;
        else
            return fs_fail(FS_ERR_INVALID, "%s: ratio-type must be volume or molar, got '%s'", typ->where, typ->value);
    }
    return FS_OK;
}

static fs_status interpret_system(reader *r, fs_electrolyte_spec *sp)
{
    fs_status st = interpret_salts(r, sp);
    if (st == FS_OK) st = interpret_solvents(r, sp);
    if (st != FS_OK) return st;
    /* size: exactly one of molecules, atoms, box */
    const int size_keys[3] = {K_MOLECULES, K_ATOMS, K_BOX};
    const fs_size_kind kinds[3] = {FS_SIZE_MOLECULES, FS_SIZE_ATOMS, FS_SIZE_BOX};
    int given = -1;
    for (int i = 0; i < 3; ++i) {
        slot *s = &r->sys[size_keys[i]];
        if (!s->where[0]) continue;
        if (given >= 0)
            return fs_fail(FS_ERR_INVALID, "%s: give only one of molecules, atoms and box ('%s' is at %s)", s->where,
                           system_keys[size_keys[given]], r->sys[size_keys[given]].where);
        given = i;
        st = positive_value(s, system_keys[size_keys[i]], &sp->size_value);
        if (st != FS_OK) return st;
        if (i < 2 && (sp->size_value != floor(sp->size_value) || sp->size_value > 1e8))
            return fs_fail(FS_ERR_INVALID, "%s: %s must be a whole number up to 1e8, got '%s'", s->where,
                           system_keys[size_keys[i]], s->value);
        sp->size = kinds[i];
    }
    if (given < 0)
        return fs_fail(FS_ERR_INVALID, "%s: [system] needs one of molecules (solvent molecules), atoms or box (nm)",
                       r->path);
    slot *s = &r->sys[K_DENSITY];
    if (s->where[0] && strcasecmp(s->value, "auto")) {
        if (!parse_double(s->value, &sp->density) || !(sp->density > 0))
            return fs_fail(FS_ERR_INVALID, "%s: density must be auto or a positive number (g/cm^3), got '%s'", s->where,
                           s->value);
    }
    if (r->sys[K_TOLERANCE].where[0]) st = positive_value(&r->sys[K_TOLERANCE], "tolerance", &sp->tolerance);
    if (st == FS_OK && r->sys[K_CHARGESCALE].where[0])
        st = positive_value(&r->sys[K_CHARGESCALE], "charge-scale", &sp->charge_scale);
    if (st != FS_OK) return st;
    s = &r->sys[K_SEED];
    if (s->where[0]) {
        char *end;
        const char *p = s->value;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (!isdigit((unsigned char)*p) || *end || errno)
            return fs_fail(FS_ERR_INVALID, "%s: seed must be a whole number 0 .. 2^64-1, got '%s'", s->where, p);
        sp->seed = v;
    }
    s = &r->sys[K_ATTEMPTS];
    if (s->where[0]) {
        double v;
        if (!parse_double(s->value, &v) || v < 1 || v > 2e9 || v != floor(v))
            return fs_fail(FS_ERR_INVALID, "%s: max-attempts must be a whole number 1 .. 2e9, got '%s'", s->where,
                           s->value);
        sp->max_attempts = (int)v;
    }
    s = &r->sys[K_RELAX];
    if (s->where[0]) {
        double v;
        if (!parse_double(s->value, &v) || v < 0 || v > 2e9 || v != floor(v))
            return fs_fail(FS_ERR_INVALID, "%s: relax-steps must be a whole number 0 .. 2e9, got '%s'", s->where,
                           s->value);
        sp->relax_steps = (int)v;
    }
    if (r->sys[K_FFDIR].where[0])
        st = resolve(r, r->sys[K_FFDIR].value, sp->forcefield_dir, sizeof sp->forcefield_dir, r->sys[K_FFDIR].where);
    return st;
}

fs_status fs_build_deck_read(const char *path, fs_build_deck *d)
{
    reader *r = calloc(1, sizeof *r);
    if (!r) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    memset(d, 0, sizeof *d);
    fs_electrolyte_spec_defaults(&d->spec);
    r->path = path;
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(r->dir, sizeof r->dir, "%.*s", (int)(slash - path) > 0 ? (int)(slash - path) : 1, path);
    else
        snprintf(r->dir, sizeof r->dir, ".");
    fs_status st = fs_ini_parse(path, on_value, r);
    if (st == FS_OK) st = interpret_system(r, &d->spec);
    if (st == FS_OK)
        st = resolve(r, r->out[O_GRO].where[0] ? r->out[O_GRO].value : "system.gro", d->gro, sizeof d->gro,
                     r->out[O_GRO].where[0] ? r->out[O_GRO].where : path);
    if (st == FS_OK)
        st = resolve(r, r->out[O_TOP].where[0] ? r->out[O_TOP].value : "system.top", d->top, sizeof d->top,
                     r->out[O_TOP].where[0] ? r->out[O_TOP].where : path);
    if (st == FS_OK && r->out[O_ITPDIR].where[0]) {
        const slot *s = &r->out[O_ITPDIR];
        if (s->value[0] == '/' || strchr(s->value, '"') || !s->value[0])
            st = fs_fail(FS_ERR_INVALID,
                         "%s: itp-dir must be a relative directory name (relative to the .top), got "
                         "'%s'",
                         s->where, s->value);
        else if (snprintf(d->itp_dir, sizeof d->itp_dir, "%s", s->value) >= (int)sizeof d->itp_dir)
            st = fs_fail(FS_ERR_INVALID, "%s: itp-dir is longer than %zu characters", s->where, sizeof d->itp_dir - 1);
    }
    free(r);
    return st;
}
