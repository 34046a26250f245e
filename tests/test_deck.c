/*
 * test_deck.c — the run deck: values land in their fields, defaults are the documented ones, relative paths are
 * resolved against the deck, every broken deck fails with its status and the exact "file:line" and key, the help
 * lists every key of the table with its default and unit, and a written deck reads back to the same values.
 *
 * Each check is a function that counts or reports mismatches, so that the negative controls can run the same check
 * on a perturbed deck (or a wrong line number) and assert that it fails.
 */
#include "support/fs_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/deck.h"

#define DECK(name) fs_test_path("tests/data/deck/" name)

static fs_deck *new_deck(void)
{
    fs_deck *d = malloc(sizeof *d);
    assert_non_null(d);
    return d;
}

static void read_ok(const char *path, fs_deck *d)
{
    fs_status st = fs_deck_read(path, d);
    if (st != FS_OK) fail_msg("%s: %s", path, fs_error_message());
}

/* dir + "/" + rel */
static const char *joined(const char *dir, const char *rel)
{
    static char buf[4][FS_DECK_PATH_MAX + 64];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, rel);
    return b;
}

/* 1 while a negative control runs a check that is meant to fail: its reasons are not printed. */
static int quiet;

#define MISMATCH(cond, ...)                                                                                            \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            if (!quiet) {                                                                                              \
                print_message("mismatch: " __VA_ARGS__);                                                               \
                print_message("\n");                                                                                   \
            }                                                                                                          \
            bad++;                                                                                                     \
        }                                                                                                              \
    } while (0)

/* Runs `expr` with the check's messages silenced. */
#define QUIET(expr) (quiet = 1, quiet_result = (expr), quiet = 0, quiet_result)
static int quiet_result;

/* Field by field (structs have padding): 1 when equal. */
static int same_dynamics(const fs_dynamics *a, const fs_dynamics *b)
{
    return a->integrator == b->integrator && a->dt == b->dt && a->tcoupl == b->tcoupl && a->ref_t == b->ref_t &&
           a->tau_t == b->tau_t && a->pcoupl == b->pcoupl && a->ref_p == b->ref_p && a->nstpcouple == b->nstpcouple &&
           a->comm_mode == b->comm_mode && a->nstcomm == b->nstcomm && a->shake_tol == b->shake_tol &&
           a->seed == b->seed;
}

static int same_mdp(const fs_mdp *a, const fs_mdp *b)
{
    const fs_forceparams *p = &a->force, *q = &b->force;
    return p->coulombtype == q->coulombtype && p->coulomb_modifier == q->coulomb_modifier &&
           p->vdw_modifier == q->vdw_modifier && p->rcoulomb == q->rcoulomb && p->rvdw == q->rvdw &&
           p->verlet_buffer == q->verlet_buffer && p->fourierspacing == q->fourierspacing &&
           !memcmp(p->fourier_n, q->fourier_n, sizeof p->fourier_n) && p->pme_order == q->pme_order &&
           p->ewald_rtol == q->ewald_rtol && p->epsilon_r == q->epsilon_r && p->dispcorr == q->dispcorr &&
           a->constraints == b->constraints && !strcmp(a->define, b->define);
}

/* Mismatches of *d against the documented defaults of a deck read from directory `dir` with conf and top set. */
static int default_mismatches(const fs_deck *d, const char *dir)
{
    int bad = 0;
    fs_dynamics dyn = fs_dynamics_default();
    fs_mdp mdp;
    fs_mdp_init(&mdp);
    MISMATCH(d->integrator == FS_DECK_MD && d->dyn.integrator == FS_INTEGRATOR_MD, "integrator");
    MISMATCH(d->dyn.dt == 0.002 && d->dyn.dt == dyn.dt, "dt %g", d->dyn.dt);
    MISMATCH(d->dyn.tcoupl == FS_TCOUPL_NO && d->dyn.pcoupl == FS_PCOUPL_NO, "couplings");
    MISMATCH(d->dyn.ref_t == dyn.ref_t && d->dyn.tau_t == dyn.tau_t && d->dyn.ref_p == dyn.ref_p, "ref-t/tau-t/ref-p");
    MISMATCH(d->dyn.nstpcouple == 25 && d->dyn.comm_mode == FS_COMM_LINEAR && d->dyn.nstcomm == 100, "nstpcouple");
    MISMATCH(d->dyn.shake_tol == 1e-10, "shake-tol %g", d->dyn.shake_tol);
    MISMATCH(same_mdp(&d->mdp, &mdp), "mdp differs from fs_mdp_init");
    MISMATCH(d->nsteps == 0 && d->tinit == 0.0 && d->nstcalcenergy == 100, "nsteps/tinit/nstcalcenergy");
    MISMATCH(!d->gen_vel && d->gen_temp == 300.0, "gen-vel/gen-temp");
    MISMATCH(d->emtol == 10.0 && d->emstep == 0.01, "emtol/emstep");
    MISMATCH(!strcmp(d->input.mdp, "") && !strcmp(d->input.include, ""), "mdp/include");
    MISMATCH(!strcmp(d->out.h5md, joined(dir, "traj.h5md")), "h5md '%s'", d->out.h5md);
    MISMATCH(!strcmp(d->out.log, joined(dir, "md.log")), "log '%s'", d->out.log);
    MISMATCH(!strcmp(d->out.confout, joined(dir, "confout.gro")), "confout '%s'", d->out.confout);
    MISMATCH(!strcmp(d->cpt.path, joined(dir, "state.cpt")), "checkpoint '%s'", d->cpt.path);
    MISMATCH(d->out.nstxout == 0 && d->out.nstvout == 0 && d->out.nstfout == 0, "nstxout/nstvout/nstfout");
    MISMATCH(d->out.nstenergy == 1000 && d->out.nstlog == 1000 && d->out.compression == 0, "nstenergy/nstlog");
    MISMATCH(d->cpt.nstcheckpoint == 0 && d->cpt.minutes == 15.0, "checkpoint frequency");
    MISMATCH(d->ld_seed.mode == FS_SEED_GIVEN && d->ld_seed.value == 0 && d->dyn.seed == 0, "ld-seed");
    MISMATCH(d->gen_seed.mode == FS_SEED_LD && d->gen_seed.value == 0, "gen-seed");
    MISMATCH(!strcmp(d->notes, ""), "notes");
    return bad;
}

static void test_minimal_deck_gets_defaults(void **state)
{
    (void)state;
    fs_deck *d = new_deck();
    read_ok(DECK("minimal.ini"), d);
    const char *dir = fs_test_path("tests/data/deck");
    assert_string_equal(d->dir, dir);
    assert_string_equal(d->input.conf, joined(dir, "../bonded/a/conf.gro"));
    assert_string_equal(d->input.top, joined(dir, "../bonded/a/topol.top"));
    assert_int_equal(default_mismatches(d, dir), 0);
    /* negative control: one changed value is seen */
    assert_int_equal(fs_deck_set(d, "nstlog", "999", "--nstlog", NULL), FS_OK);
    assert_int_equal(QUIET(default_mismatches(d, dir)), 1);
    free(d);
}

/* Mismatches of *d against what tests/data/deck/full.ini (with energy.mdp) says. */
static int full_mismatches(const fs_deck *d, const char *dir)
{
    int bad = 0;
    MISMATCH(!strcmp(d->input.conf, joined(dir, "../bonded/a/conf.gro")), "conf '%s'", d->input.conf);
    MISMATCH(!strcmp(d->input.top, joined(dir, "../bonded/a/topol.top")), "top '%s'", d->input.top);
    MISMATCH(!strcmp(d->input.mdp, joined(dir, "energy.mdp")), "mdp '%s'", d->input.mdp);
    char inc[3 * FS_DECK_PATH_MAX];
    snprintf(inc, sizeof inc, "%s/.:/tmp:%s/../bonded", dir, dir);
    MISMATCH(!strcmp(d->input.include, inc), "include '%s'", d->input.include);
    MISMATCH(!strcmp(d->mdp.define, "-DFLEXIBLE -DPOSRES_FC=500"), "define '%s'", d->mdp.define);
    /* [run] */
    MISMATCH(d->integrator == FS_DECK_SD && d->dyn.integrator == FS_INTEGRATOR_SD, "integrator");
    MISMATCH(d->dyn.dt == 0.001, "dt %g (the deck's, not energy.mdp's 0.004)", d->dyn.dt);
    MISMATCH(d->nsteps == 5000000000LL, "nsteps %lld", (long long)d->nsteps);
    MISMATCH(d->tinit == 10.5, "tinit");
    MISMATCH(d->dyn.ref_t == 313.15 && d->dyn.tau_t == 2.0, "ref-t %g tau-t %g", d->dyn.ref_t, d->dyn.tau_t);
    MISMATCH(d->dyn.pcoupl == FS_PCOUPL_MC_Z && d->dyn.ref_p == 1.01325 && d->dyn.nstpcouple == 50, "pcoupl");
    MISMATCH(d->dyn.comm_mode == FS_COMM_NONE && d->dyn.nstcomm == 10, "comm-mode");
    MISMATCH(d->mdp.constraints == FS_CONSTRAIN_H_BONDS && d->dyn.shake_tol == 1e-8, "constraints");
    MISMATCH(d->gen_vel == 1 && d->gen_temp == 313.15, "gen-vel");
    MISMATCH(d->emtol == 100.0 && d->emstep == 0.02 && d->nstcalcenergy == 50, "emtol/emstep/nstcalcenergy");
    const fs_forceparams *f = &d->mdp.force;
    MISMATCH(f->coulombtype == FS_COUL_EWALD && f->coulomb_modifier == FS_MOD_NONE && f->vdw_modifier == FS_MOD_NONE,
             "coulombtype/modifiers");
    MISMATCH(f->rcoulomb == 1.2, "rcoulomb %g (from energy.mdp)", f->rcoulomb);
    MISMATCH(f->rvdw == 1.1, "rvdw %g (the deck's over energy.mdp's 1.2)", f->rvdw);
    MISMATCH(f->dispcorr == FS_DISPCORR_ENERPRES && f->pme_order == 6, "DispCorr/pme-order from energy.mdp");
    MISMATCH(f->verlet_buffer == 0.15 && f->fourierspacing == 0.1, "verlet-buffer/fourierspacing");
    MISMATCH(f->fourier_n[0] == 40 && f->fourier_n[1] == 44 && f->fourier_n[2] == 48, "fourier-n");
    MISMATCH(f->ewald_rtol == 1e-6 && f->epsilon_r == 2.0, "ewald-rtol/epsilon-r");
    /* [output] */
    MISMATCH(!strcmp(d->out.h5md, joined(dir, "out/traj.h5md")), "h5md '%s'", d->out.h5md);
    MISMATCH(d->out.nstxout == 500 && d->out.nstvout == 1000 && d->out.nstfout == 2000, "nstxout/nstvout/nstfout");
    MISMATCH(d->out.nstenergy == 100 && d->out.nstlog == 250 && d->out.compression == 4, "nstenergy/nstlog");
    MISMATCH(!strcmp(d->out.log, joined(dir, "out/run.log")), "log '%s'", d->out.log);
    MISMATCH(!strcmp(d->out.confout, "/tmp/final.gro"), "confout '%s' (absolute: kept)", d->out.confout);
    MISMATCH(!strcmp(d->cpt.path, joined(dir, "out/run.cpt")), "checkpoint '%s'", d->cpt.path);
    MISMATCH(d->cpt.nstcheckpoint == 10000 && d->cpt.minutes == 30.0, "checkpoint frequency");
    /* [seeds] */
    MISMATCH(d->ld_seed.mode == FS_SEED_GIVEN && d->ld_seed.value == UINT64_MAX && d->dyn.seed == UINT64_MAX,
             "ld-seed");
    MISMATCH(d->gen_seed.mode == FS_SEED_GIVEN && d->gen_seed.value == 42, "gen-seed");
    return bad;
}

static void test_full_deck_lands_in_fields(void **state)
{
    (void)state;
    fs_deck *d = new_deck();
    const char *path = DECK("full.ini");
    read_ok(path, d);
    const char *dir = fs_test_path("tests/data/deck");
    assert_int_equal(full_mismatches(d, dir), 0);

    /* the .mdp's dynamics keys are not used, and say so with their file:line */
    assert_non_null(strstr(d->notes, "energy.mdp:2: ignoring 'integrator'"));
    assert_non_null(strstr(d->notes, "energy.mdp:3: ignoring 'dt'"));
    assert_null(strstr(d->notes, "rcoulomb"));

    char w[FS_DECK_PATH_MAX + 64], expect[FS_DECK_PATH_MAX + 64];
    snprintf(expect, sizeof expect, "%s:14", path);
    assert_string_equal(fs_deck_where(d, "REF-T", w, sizeof w), expect); /* Ref_T on line 14 */
    snprintf(expect, sizeof expect, "%s:56", path);
    assert_string_equal(fs_deck_where(d, "gen_seed", w, sizeof w), expect);
    assert_string_equal(fs_deck_where(d, "rcoulomb", w, sizeof w), path); /* from the .mdp: no deck line */

    char storage[sizeof d->input.include];
    const char *dirs[8];
    assert_int_equal(fs_deck_includes(d, storage, dirs, 8), 3);
    assert_string_equal(dirs[0], joined(dir, "."));
    assert_string_equal(dirs[1], "/tmp");
    assert_string_equal(dirs[2], joined(dir, "../bonded"));

    /* negative controls: one changed value is one mismatch; the defaults check rejects this deck */
    assert_int_equal(fs_deck_set(d, "epsilon_r", "3", "--epsilon-r", NULL), FS_OK);
    assert_int_equal(QUIET(full_mismatches(d, dir)), 1);
    assert_true(QUIET(default_mismatches(d, dir)) > 10);
    free(d);
}

static void test_minimize_deck_and_derived_nstcalcenergy(void **state)
{
    (void)state;
    fs_deck *d = new_deck();
    read_ok(DECK("minimize.ini"), d);
    assert_int_equal(d->integrator, FS_DECK_STEEP);
    assert_true(d->nsteps == 5000 && d->emtol == 50.0);
    assert_string_equal(d->out.h5md, "");
    /* nstcalcenergy left at its default 100 is lowered to divide nstenergy = 1000 and nstlog = 30: gcd = 10 */
    assert_int_equal(d->nstcalcenergy, 10);
    /* negative control: the same numbers with nstcalcenergy set in the deck are an error (nstcalcenergy.ini) */
    assert_int_equal(fs_deck_read(DECK("nstcalcenergy.ini"), d), FS_ERR_INVALID);
    free(d);
}

/* 1 when reading `path` fails with `code` and a message that starts with "path:line: " (line 0: "path: ") and
 * contains each of `needles` (NULL-terminated); prints why not otherwise. */
static int fails_as(const char *path, fs_status code, int line, const char *const *needles)
{
    fs_deck *d = new_deck();
    fs_status st = fs_deck_read(path, d);
    free(d);
    const char *msg = fs_error_message();
    if (st != code) {
        if (!quiet)
            print_message("%s: status %s, expected %s (%s)\n", path, fs_status_name(st), fs_status_name(code), msg);
        return 0;
    }
    char prefix[FS_DECK_PATH_MAX + 32];
    if (line)
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    if (strncmp(msg, prefix, strlen(prefix))) {
        if (!quiet) print_message("'%s' does not start with '%s'\n", msg, prefix);
        return 0;
    }
    for (int k = 0; needles[k]; ++k)
        if (!strstr(msg, needles[k])) {
            if (!quiet) print_message("'%s' lacks '%s'\n", msg, needles[k]);
            return 0;
        }
    return 1;
}

typedef struct {
    const char *file;
    fs_status code;
    int line;
    const char *needles[4];
} broken_case;

static const broken_case broken[] = {
    {"unknown-key.ini",
     FS_ERR_PARSE,
     5,
     {"unknown key 'rcoulmb' in [run]", "did you mean 'rcoulomb'?", "integrator dt"}},
    {"unknown-section.ini", FS_ERR_PARSE, 6, {"unknown section [thermostat]", "'tau'", "[input] [run] [output]"}},
    {"bad-number.ini", FS_ERR_INVALID, 6, {"dt needs a number in ps, got '2fs'"}},
    {"out-of-range.ini", FS_ERR_INVALID, 6, {"compression = 12 is outside [0, 9]"}},
    {"bad-enum.ini", FS_ERR_INVALID, 7, {"tcoupl = 'nose-hoover' is not accepted (no | v-rescale)"}},
    {"bad-mdp-value.ini", FS_ERR_UNSUPPORTED, 6, {"coulombtype", "Reaction-Field", "PME or Ewald"}},
    {"bad-seed.ini", FS_ERR_INVALID, 6, {"ld-seed = '-2' is not accepted", "-1 (drawn from the clock)"}},
    {"conflict-sd-vrescale.ini", FS_ERR_INVALID, 8, {"tcoupl = v-rescale conflicts with integrator = sd", ".ini:6)"}},
    {"mc-no-refp.ini", FS_ERR_INVALID, 9, {"pcoupl = MC needs ref-p (bar)"}},
    {"mc-nve.ini", FS_ERR_INVALID, 6, {"pcoupl = MC needs a thermostat"}},
    {"sd-no-reft.ini", FS_ERR_INVALID, 6, {"integrator = sd needs ref-t (K)"}},
    {"steep-tcoupl.ini", FS_ERR_INVALID, 8, {"tcoupl is for dynamics", "integrator = steep", ".ini:6)"}},
    {"nstcalcenergy.ini", FS_ERR_INVALID, 6, {"nstcalcenergy = 30 does not divide nstenergy = 100", ".ini:8)"}},
    {"no-h5md.ini", FS_ERR_INVALID, 7, {"nstxout = 100 needs an h5md file"}},
    {"missing-conf.ini", FS_ERR_INVALID, 0, {"[input] conf is missing"}},
    {"missing-top.ini", FS_ERR_INVALID, 0, {"[input] top is missing"}},
    {"unreadable-conf.ini", FS_ERR_IO, 3, {"conf = ", "tests/data/deck/no-such-file.gro: cannot read it"}},
    {"duplicate.ini", FS_ERR_PARSE, 8, {"dt is set twice (first at ", "duplicate.ini:6)"}},
    {"continuation.ini", FS_ERR_PARSE, 7, {"dt is set twice", "an indented line continues the previous value"}},
    {"wrong-section.ini", FS_ERR_PARSE, 6, {"key 'nstxout' belongs in [output], not [run]"}},
    {"refused.ini", FS_ERR_PARSE, 10, {"key 'compressibility' is not a deck key", "needs no compressibility"}},
    {"syntax.ini", FS_ERR_PARSE, 4, {"expected '[section]' or 'key = value'"}},
    {"before-section.ini", FS_ERR_PARSE, 2, {"key 'dt' before the first [section]"}},
    {"bad-mdp-file.ini", FS_ERR_UNSUPPORTED, 5, {"mdp: ", "unsupported.mdp:3: ", "Reaction-Field"}},
    {"bad-include.ini", FS_ERR_IO, 5, {"include: ", "no-such-dir is not a directory"}},
};

static void test_broken_decks_name_file_line_and_key(void **state)
{
    (void)state;
    char rel[256];
    for (size_t k = 0; k < sizeof broken / sizeof broken[0]; ++k) {
        const broken_case *c = &broken[k];
        snprintf(rel, sizeof rel, "tests/data/deck/%s", c->file);
        const char *path = fs_test_path(rel);
        if (!fails_as(path, c->code, c->line, c->needles)) fail_msg("%s", c->file);
        /* negative controls: the check rejects a neighbouring line and a status it did not give */
        const char *none[] = {NULL};
        assert_false(QUIET(fails_as(path, c->code, c->line + 1, none)));
        assert_false(QUIET(fails_as(path, c->code == FS_ERR_PARSE ? FS_ERR_INVALID : FS_ERR_PARSE, c->line, none)));
    }
    /* negative control: good decks do not "fail as" anything */
    const char *any[] = {NULL};
    assert_false(QUIET(fails_as(DECK("full.ini"), FS_ERR_INVALID, 0, any)));
    assert_false(QUIET(fails_as(DECK("minimal.ini"), FS_ERR_PARSE, 0, any)));
    /* and a needle the message lacks is caught */
    const char *wrong[] = {"did you mean 'rvdw'?", NULL};
    assert_false(QUIET(fails_as(DECK("unknown-key.ini"), FS_ERR_PARSE, 5, wrong)));
}

/* Text of fs_deck_help. */
static char *help_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    fs_deck_help(fp);
    fclose(fp);
    return text;
}

/* 1 when the help lists `name` under [section] as "  name = dflt unit ...". */
static int help_lists(const char *text, const char *section, const char *name, const char *dflt, const char *unit)
{
    char head[64], cur[64] = "";
    snprintf(head, sizeof head, "  %s ", name);
    for (const char *s = text; *s;) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), s);
        if (line[0] == '[') snprintf(cur, sizeof cur, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
        if (!strncmp(line, head, strlen(head)) && !strcmp(cur, section)) {
            const char *eq = strstr(line, "= ");
            if (!eq) return 0;
            char want[256];
            int w = snprintf(want, sizeof want, "%s", dflt);
            if (strncmp(eq + 2, want, (size_t)w) || eq[2 + w] != ' ') return 0;
            const char *u = eq + 2 + w;
            while (*u == ' ') u++;
            return !strncmp(u, unit, strlen(unit)) && u[strlen(unit)] == ' ';
        }
        s += n + (e != NULL);
    }
    return 0;
}

static void test_help_lists_every_key_with_default_and_unit(void **state)
{
    (void)state;
    char *text = help_text();
    fs_deck *d = new_deck();
    fs_deck_init(d);
    int n = fs_deck_key_count();
    assert_true(n > 40 && n <= FS_DECK_MAX_KEYS);
    for (int i = 0; i < n; ++i) {
        const fs_deck_keyinfo *k = fs_deck_key(i);
        char value[FS_DECK_PATH_MAX];
        fs_deck_format(d, i, value, sizeof value);
        const char *shown = *value                                                ? value
                            : !strcmp(k->name, "conf") || !strcmp(k->name, "top") ? "(required)"
                                                                                  : "\"\"";
        if (!help_lists(text, k->section, k->name, shown, *k->unit ? k->unit : "-"))
            fail_msg("help lacks '%s = %s %s' in [%s]", k->name, shown, k->unit, k->section);
        /* names are unique across sections (fs_deck_set relies on it) */
        assert_int_equal(fs_deck_key_find(k->name), i);
    }
    /* spot checks of values that come from elsewhere: fs_dynamics_default, fs_mdp_init */
    assert_true(help_lists(text, "run", "dt", "0.002", "ps"));
    assert_true(help_lists(text, "run", "rcoulomb", "1", "nm"));
    assert_true(help_lists(text, "run", "DispCorr", "no", "-"));
    assert_true(help_lists(text, "seeds", "gen-seed", "ld-seed", "-"));
    /* negative controls: a wrong default, a wrong unit, a wrong section, a key not in the table */
    assert_false(help_lists(text, "run", "dt", "0.003", "ps"));
    assert_false(help_lists(text, "run", "dt", "0.002", "fs"));
    assert_false(help_lists(text, "output", "dt", "0.002", "ps"));
    assert_false(help_lists(text, "run", "tau-p", "1", "ps"));
    assert_null(fs_deck_key(n));
    free(d);
    free(text);
}

/* Keys whose values differ between a and b (as deck text), printed. */
static int differing_keys(const fs_deck *a, const fs_deck *b)
{
    int bad = 0;
    char va[FS_DECK_PATH_MAX], vb[FS_DECK_PATH_MAX];
    for (int i = 0; i < fs_deck_key_count(); ++i) {
        fs_deck_format(a, i, va, sizeof va);
        fs_deck_format(b, i, vb, sizeof vb);
        MISMATCH(!strcmp(va, vb), "%s: '%s' vs '%s'", fs_deck_key(i)->name, va, vb);
    }
    return bad;
}

/* Writes *d with fs_deck_write into a temporary file and reads it back into *back. */
static void write_and_read(const fs_deck *d, fs_deck *back)
{
    char path[] = "/tmp/fs_test_deck_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    assert_non_null(fp);
    assert_int_equal(fs_deck_write(fp, d), FS_OK);
    fclose(fp);
    fs_status st = fs_deck_read(path, back);
    if (st != FS_OK) fail_msg("%s", fs_error_message());
    remove(path);
}

static void test_written_deck_reads_back_the_same(void **state)
{
    (void)state;
    fs_deck *d = new_deck(), *back = new_deck();
    read_ok(DECK("full.ini"), d);
    write_and_read(d, back);
    assert_int_equal(differing_keys(d, back), 0);
    /* bit-identical doubles and enums, not only the same text */
    assert_true(same_dynamics(&d->dyn, &back->dyn));
    assert_true(same_mdp(&d->mdp, &back->mdp));
    assert_true(d->nsteps == back->nsteps && d->gen_temp == back->gen_temp);
    /* a seed drawn from the clock is written as its number and reads back as given */
    read_ok(DECK("from-clock.ini"), d);
    write_and_read(d, back);
    assert_int_equal(back->ld_seed.mode, FS_SEED_GIVEN);
    assert_true(back->ld_seed.value == d->ld_seed.value && back->dyn.seed == d->dyn.seed);
    assert_int_equal(back->gen_seed.mode, FS_SEED_LD);
    /* negative control: one differing key is found */
    assert_int_equal(fs_deck_set(back, "tau_t", "0.5", "--tau-t", NULL), FS_OK);
    assert_int_equal(QUIET(differing_keys(d, back)), 1);
    free(d);
    free(back);
}

static void test_seeds(void **state)
{
    (void)state;
    fs_deck *a = new_deck(), *b = new_deck();
    read_ok(DECK("from-clock.ini"), a);
    read_ok(DECK("from-clock.ini"), b);
    assert_int_equal(a->ld_seed.mode, FS_SEED_DRAWN);
    assert_true(a->dyn.seed == a->ld_seed.value);
    assert_int_equal(a->gen_seed.mode, FS_SEED_LD);
    assert_true(a->gen_seed.value == a->ld_seed.value);
    /* two reads draw two seeds (clock in ns, mixed by SplitMix64) */
    assert_true(a->ld_seed.value != b->ld_seed.value);
    /* validating again keeps a drawn seed */
    uint64_t drawn = a->ld_seed.value;
    assert_int_equal(fs_deck_validate(a), FS_OK);
    assert_true(a->ld_seed.value == drawn && a->dyn.seed == drawn);
    /* gen-seed = -1 is drawn separately */
    assert_int_equal(fs_deck_set(a, "gen-seed", "-1", "--gen-seed", NULL), FS_OK);
    assert_int_equal(fs_deck_validate(a), FS_OK);
    assert_int_equal(a->gen_seed.mode, FS_SEED_DRAWN);
    assert_true(a->gen_seed.value != a->ld_seed.value);
    /* given seeds stay as given; the largest uint64 is accepted, one more is not */
    assert_int_equal(fs_deck_set(a, "ld-seed", "18446744073709551615", "x", NULL), FS_OK);
    assert_int_equal(fs_deck_set(a, "ld-seed", "18446744073709551616", "x", NULL), FS_ERR_INVALID);
    assert_int_equal(fs_deck_validate(a), FS_OK);
    assert_true(a->dyn.seed == UINT64_MAX && a->ld_seed.mode == FS_SEED_GIVEN);
    /* negative control: "ld-seed" is a value only gen-seed takes */
    assert_int_equal(fs_deck_set(a, "ld-seed", "ld-seed", "x", NULL), FS_ERR_INVALID);
    free(a);
    free(b);
}

static void test_set_overrides_and_spellings(void **state)
{
    (void)state;
    fs_deck *d = new_deck();
    read_ok(DECK("minimal.ini"), d);
    assert_int_equal(fs_deck_set(d, "NSTEPS", "1000", "--nsteps", NULL), FS_OK);
    assert_true(d->nsteps == 1000);
    char w[FS_DECK_PATH_MAX + 64];
    assert_non_null(strstr(fs_deck_where(d, "nsteps", w, sizeof w), "(overridden on the command line)"));
    assert_int_equal(fs_deck_set(d, "h5md", "x.h5md", "--h5md", "/data/runs"), FS_OK);
    assert_string_equal(d->out.h5md, "/data/runs/x.h5md");
    assert_int_equal(fs_deck_set(d, "h5md", "x.h5md", "--h5md", NULL), FS_OK);
    assert_string_equal(d->out.h5md, "x.h5md");
    assert_int_equal(fs_deck_set(d, "h5md", "\"my run.h5md\"", "--h5md", NULL), FS_OK);
    assert_string_equal(d->out.h5md, "my run.h5md");
    /* values of ferrosolv's enumerations: case, '-' and '_' do not matter (grompp's rule) */
    assert_int_equal(fs_deck_set(d, "tcoupl", "V_Rescale", "--tcoupl", NULL), FS_OK);
    assert_int_equal(d->dyn.tcoupl, FS_TCOUPL_V_RESCALE);
    assert_int_equal(fs_deck_set(d, "pcoupl", "mcz", "--pcoupl", NULL), FS_OK);
    assert_int_equal(d->dyn.pcoupl, FS_PCOUPL_MC_Z);
    assert_int_equal(fs_deck_set(d, "integrator", "MD-VV", "--integrator", NULL), FS_OK);
    assert_int_equal(d->integrator, FS_DECK_MD);
    /* a v-rescale run without ref-t is refused; the message names where tcoupl came from */
    assert_int_equal(fs_deck_validate(d), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "(overridden on the command line): tcoupl = v-rescale needs ref-t"));
    assert_int_equal(fs_deck_set(d, "ref-t", "313", "--ref-t", NULL), FS_OK);
    assert_int_equal(fs_deck_validate(d), FS_ERR_INVALID); /* pcoupl still lacks ref-p */
    assert_int_equal(fs_deck_set(d, "ref-p", "1", "--ref-p", NULL), FS_OK);
    assert_int_equal(fs_deck_validate(d), FS_OK);
    /* bad keys and values from the command line name their origin */
    assert_int_equal(fs_deck_set(d, "nsteps", "-5", "--nsteps", NULL), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "--nsteps: nsteps = -5 is outside >= 0"));
    assert_int_equal(fs_deck_set(d, "no-such-key", "1", "--no-such-key", NULL), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "--no-such-key: unknown key"));
    assert_int_equal(fs_deck_set(d, "mdp", "x.mdp", "--mdp", NULL), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "--mdp: mdp can only be given in the deck's [input]"));
    assert_int_equal(fs_deck_set(d, "dt", "0", "--dt", NULL), FS_ERR_INVALID); /* dt > 0: the lower end is open */
    assert_int_equal(fs_deck_set(d, "dt", "1e-9", "--dt", NULL), FS_OK);
    assert_int_equal(fs_deck_set(d, "rcoulomb", "0", "--rcoulomb", NULL), FS_ERR_INVALID); /* fs_mdp_set's range */
    free(d);
}

/* Copies examples/<name> into a fresh directory with empty files for its inputs, and reads it. */
static void read_example(const char *name, const char *conf, const char *top, fs_deck *d, char *dir)
{
    strcpy(dir, "/tmp/fs_test_example_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char src[FS_DECK_PATH_MAX], dst[FS_DECK_PATH_MAX];
    snprintf(src, sizeof src, "%s/examples/%s", FS_SOURCE_DIR, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    assert_true(in && out);
    int ch;
    while ((ch = fgetc(in)) != EOF) fputc(ch, out);
    fclose(in);
    fclose(out);
    const char *inputs[] = {conf, top};
    for (int k = 0; k < 2; ++k) {
        FILE *fp = fopen(joined(dir, inputs[k]), "w");
        assert_non_null(fp);
        fclose(fp);
    }
    fs_status st = fs_deck_read(dst, d);
    if (st != FS_OK) fail_msg("%s", fs_error_message());
    remove(dst);
    remove(joined(dir, conf));
    remove(joined(dir, top));
    rmdir(dir);
}

static void test_example_deck_reads(void **state)
{
    (void)state;
    fs_deck *d = new_deck();
    char dir[64];
    read_example("electrolyte-nvt.ini", "electrolyte.gro", "electrolyte.top", d, dir);
    assert_int_equal(d->integrator, FS_DECK_SD);
    assert_true(d->dyn.ref_t == 298.15 && d->dyn.dt == 0.002);
    assert_int_equal(d->mdp.constraints, FS_CONSTRAIN_H_BONDS);
    assert_int_equal(d->mdp.force.dispcorr, FS_DISPCORR_ENERPRES);
    assert_string_equal(d->out.h5md, joined(dir, "electrolyte-nvt.h5md"));
    assert_true(d->out.nstxout > 0 && d->out.nstenergy > 0 && d->nsteps > 0);
    assert_int_equal(d->out.nstenergy % d->nstcalcenergy, 0);
    /* negative control: the example is not the defaults */
    assert_true(QUIET(default_mismatches(d, dir)) > 0);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_deck_gets_defaults),
        cmocka_unit_test(test_full_deck_lands_in_fields),
        cmocka_unit_test(test_minimize_deck_and_derived_nstcalcenergy),
        cmocka_unit_test(test_broken_decks_name_file_line_and_key),
        cmocka_unit_test(test_help_lists_every_key_with_default_and_unit),
        cmocka_unit_test(test_written_deck_reads_back_the_same),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_set_overrides_and_spellings),
        cmocka_unit_test(test_example_deck_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
