/*
 * deck_check.c — cross-key checks of a run deck and the values derived from it.
 *
 * Single keys are range-checked as they are read (deck.c); what is checked here needs several keys at once, and
 * each message names the line of the key that has to change:
 *   - [input] conf and top are required and must be readable; include entries must be directories;
 *   - integrator = sd is its own thermostat: tcoupl = v-rescale beside it is a contradiction, not a choice;
 *   - a thermostat (sd, or md with v-rescale) needs ref-t set in the deck: the temperature is the one number of an
 *     NVT run that no default can know;
 *   - pcoupl = MC or MC-z needs ref-p and a thermostat (the Monte Carlo acceptance rule exp(-w/kT) samples the
 *     isothermal-isobaric ensemble only at a fixed temperature);
 *   - steep minimizes the energy: tcoupl, pcoupl and gen-vel would be silently dropped, so they are errors;
 *   - an output frequency set in the deck needs its file (h5md, checkpoint); defaults are dropped quietly when the
 *     deck sets the file to "" ("do not write it");
 *   - nstenergy and nstlog must be multiples of nstcalcenergy, as in GROMACS; when the deck leaves nstcalcenergy at
 *     its default it is lowered to the greatest common divisor instead.
 * Derived: dyn.integrator from integrator; seeds given as -1 are drawn once from the clock (nanoseconds, process id
 * and a counter mixed by SplitMix64, Steele, Lea & Flood, OOPSLA 2014) and marked FS_SEED_DRAWN so the run can
 * record them; dyn.seed = ld-seed; gen-seed = ld-seed unless given.
 */
#include "deck.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deck_table.h"

#define WHERE_CAP (FS_DECK_PATH_MAX + 32)

/* The row of `name` (a canonical name of the table). */
static int row(const char *name)
{
    return fs_deck_key_find(name);
}

static int given(const fs_deck *d, const char *name)
{
    return d->line[row(name)] != 0;
}

static const char *where(const fs_deck *d, const char *name, char *buf)
{
    return fs_deck_where_i(d, row(name), buf, WHERE_CAP);
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void draw_seed(fs_deck_seed *s, uint64_t *state)
{
    if (s->mode != FS_SEED_FROM_TIME) return;
    s->value = splitmix64(state);
    s->mode = FS_SEED_DRAWN;
}

static void resolve_seeds(fs_deck *d)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t state = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    state ^= (uint64_t)getpid() << 40;
    draw_seed(&d->ld_seed, &state);
    draw_seed(&d->gen_seed, &state);
    if (d->gen_seed.mode == FS_SEED_LD) d->gen_seed.value = d->ld_seed.value;
    d->dyn.seed = d->ld_seed.value;
}

static long gcd(long a, long b)
{
    while (b) {
        long t = a % b;
        a = b, b = t;
    }
    return a;
}

static fs_status check_inputs(fs_deck *d)
{
    char w[WHERE_CAP];
    const char *deck = d->deck[0] ? d->deck : "(deck)";
    for (int i = 0; i < fs_deck_nrows; ++i) {
        const fs_deck_row *r = &fs_deck_rows[i];
        if (!(r->flags & FS_DKF_REQUIRED)) continue;
        const char *p = (const char *)d + r->offset;
        if (!*p)
            return fs_fail(FS_ERR_INVALID, "%s: [%s] %s is missing (%s)", deck, r->info.section, r->info.name,
                           r->info.help);
        if (access(p, R_OK) != 0)
            return fs_fail(FS_ERR_IO, "%s: %s = %s: cannot read it", fs_deck_where_i(d, i, w, sizeof w), r->info.name,
                           p);
    }
    char storage[FS_DECK_PATH_MAX];
    const char *dirs[256];
    int n = fs_deck_includes(d, storage, dirs, 256);
    for (int k = 0; k < n; ++k) {
        struct stat sb;
        if (stat(dirs[k], &sb) != 0 || !S_ISDIR(sb.st_mode))
            return fs_fail(FS_ERR_IO, "%s: include: %s is not a directory", where(d, "include", w), dirs[k]);
    }
    return FS_OK;
}

static fs_status check_dynamics(fs_deck *d)
{
    char w[WHERE_CAP], w2[WHERE_CAP];
    int minimize = d->integrator == FS_DECK_STEEP;
    int vrescale = d->dyn.tcoupl == FS_TCOUPL_V_RESCALE;
    if (d->integrator == FS_DECK_SD && vrescale)
        return fs_fail(FS_ERR_INVALID,
                       "%s: tcoupl = v-rescale conflicts with integrator = sd (%s): sd is its own thermostat; remove "
                       "tcoupl",
                       where(d, "tcoupl", w), where(d, "integrator", w2));
    if (minimize) {
        static const char *const dyn_only[] = {"tcoupl", "pcoupl", "gen-vel"};
        int set[] = {d->dyn.tcoupl != FS_TCOUPL_NO, d->dyn.pcoupl != FS_PCOUPL_NO, d->gen_vel};
        for (int k = 0; k < 3; ++k)
            if (set[k])
                return fs_fail(FS_ERR_INVALID,
                               "%s: %s is for dynamics; integrator = %s (%s) minimizes the energy: remove %s",
                               where(d, dyn_only[k], w), dyn_only[k], "steep",
                               where(d, "integrator", w2), dyn_only[k]);
        return FS_OK;
    }
    int thermostat = d->integrator == FS_DECK_SD || vrescale;
    if (thermostat && !given(d, "ref-t"))
        return fs_fail(FS_ERR_INVALID, "%s: %s needs ref-t (K) in [run]",
                       where(d, vrescale ? "tcoupl" : "integrator", w),
                       vrescale ? "tcoupl = v-rescale" : "integrator = sd");
    if (d->dyn.pcoupl != FS_PCOUPL_NO) {
        const char *what = d->dyn.pcoupl == FS_PCOUPL_MC_Z ? "pcoupl = MC-z" : "pcoupl = MC";
        if (!thermostat)
            return fs_fail(FS_ERR_INVALID,
                           "%s: %s needs a thermostat (integrator = sd, or tcoupl = v-rescale): the Monte Carlo "
                           "barostat samples at constant temperature",
                           where(d, "pcoupl", w), what);
        if (!given(d, "ref-p"))
            return fs_fail(FS_ERR_INVALID, "%s: %s needs ref-p (bar) in [run]", where(d, "pcoupl", w), what);
    }
    return FS_OK;
}

static fs_status check_output(fs_deck *d)
{
    char w[WHERE_CAP];
    static const char *const h5md_keys[] = {"nstxout", "nstvout", "nstfout", "nstenergy"};
    const int h5md_vals[] = {d->out.nstxout, d->out.nstvout, d->out.nstfout, d->out.nstenergy};
    for (int k = 0; k < 4; ++k)
        if (!d->out.h5md[0] && h5md_vals[k] > 0 && given(d, h5md_keys[k]))
            return fs_fail(FS_ERR_INVALID, "%s: %s = %d needs an h5md file in [output] (it is \"\")",
                           where(d, h5md_keys[k], w), h5md_keys[k], h5md_vals[k]);
    if (!d->cpt.path[0] && d->cpt.nstcheckpoint > 0 && given(d, "nstcheckpoint"))
        return fs_fail(FS_ERR_INVALID, "%s: nstcheckpoint = %d needs a checkpoint file in [output] (it is \"\")",
                       where(d, "nstcheckpoint", w), d->cpt.nstcheckpoint);
    if (!d->cpt.path[0] && d->cpt.minutes > 0 && given(d, "checkpoint-minutes"))
        return fs_fail(FS_ERR_INVALID, "%s: checkpoint-minutes = %g needs a checkpoint file in [output] (it is \"\")",
                       where(d, "checkpoint-minutes", w), d->cpt.minutes);

    long calc = d->nstcalcenergy;
    static const char *const nst_keys[] = {"nstenergy", "nstlog"};
    const int nst_vals[] = {d->out.nstenergy, d->out.nstlog};
    for (int k = 0; k < 2; ++k) {
        if (nst_vals[k] <= 0 || nst_vals[k] % calc == 0) continue;
        if (given(d, "nstcalcenergy"))
            return fs_fail(FS_ERR_INVALID, "%s: nstcalcenergy = %ld does not divide %s = %d (%s)",
                           where(d, "nstcalcenergy", w), calc, nst_keys[k], nst_vals[k],
                           fs_deck_where_i(d, row(nst_keys[k]), (char[WHERE_CAP]){0}, WHERE_CAP));
        calc = gcd(calc, nst_vals[k]);
    }
    d->nstcalcenergy = (int)calc;
    return FS_OK;
}

fs_status fs_deck_validate(fs_deck *d)
{
    fs_status st = check_inputs(d);
    if (st == FS_OK) st = check_dynamics(d);
    if (st == FS_OK) st = check_output(d);
    if (st != FS_OK) return st;
    d->dyn.integrator = d->integrator == FS_DECK_SD ? FS_INTEGRATOR_SD : FS_INTEGRATOR_MD;
    resolve_seeds(d);
    return FS_OK;
}
