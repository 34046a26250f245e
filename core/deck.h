/*
 * deck.h — the run deck: the INI file that `ferrosolv run deck.ini` reads.
 *
 * A deck has four sections:
 *   [input]   conf (.gro), top (.top), mdp (optional .mdp), include (extra #include directories), define
 *   [run]     integrator, dt, nsteps, coupling, constraints and every energy key of an .mdp (rcoulomb, DispCorr, ...)
 *   [output]  H5MD trajectory and its frequencies, thermo log, final coordinates, checkpoints
 *   [seeds]   ld-seed (every random number of the dynamics), gen-seed (initial velocities)
 * Keys follow the .mdp names wherever GROMACS has the concept and are matched the way grompp matches them: case
 * does not matter and '-' equals '_'. Unlike an .mdp, a deck is ferrosolv's own format, so an unknown section or
 * key, a bad value and conflicting keys are errors naming "deck.ini:line", the key and what is accepted.
 *
 * Order of application: fs_deck_init's defaults, then the energy keys of the [input] mdp file (its other keys are
 * listed in fs_deck.notes and not used: dynamics is set by the deck), then the deck's own keys, wherever `mdp =`
 * stands in the file. Paths in the deck are relative to the deck file's directory; fs_deck_read stores them
 * resolved (joined to that directory), so they can be opened from the current directory.
 *
 * One table in deck.c lists every key with its section, type, unit, accepted values and description; parsing,
 * fs_deck_help, fs_deck_write and the defaults shown in the help all come from it (fs_deck_key() exposes it).
 */
#ifndef FS_DECK_H
#define FS_DECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../forcefields/mdp.h"
#include "dynamics.h"
#include "status.h"

#define FS_DECK_PATH_MAX 4096 /* room for one path (resolved), including the terminating NUL */
#define FS_DECK_MAX_KEYS 128  /* room in fs_deck.line for the table's keys */
#define FS_DECK_NOTES_MAX 4096

/* integrator: what `ferrosolv run` does with the system. */
typedef enum {
    FS_DECK_MD,    /* md (alias md-vv): velocity Verlet, NVE or v-rescale NVT; dyn.integrator = FS_INTEGRATOR_MD */
    FS_DECK_SD,    /* sd: Langevin BAOAB; dyn.integrator = FS_INTEGRATOR_SD */
    FS_DECK_STEEP  /* steep: steepest-descent minimization (core/minimize.h) */
} fs_deck_integrator;

/* A seed as the deck gives it. */
typedef enum {
    FS_SEED_GIVEN,     /* a number 0 .. 2^64-1 */
    FS_SEED_FROM_TIME, /* -1: to be drawn from the clock by fs_deck_validate */
    FS_SEED_DRAWN,     /* was -1; fs_deck_validate drew `value` (write it to the log: it makes the run repeatable) */
    FS_SEED_LD         /* gen-seed = ld-seed: use ld-seed's value (gen-seed's default) */
} fs_seed_mode;

typedef struct {
    uint64_t value; /* the seed (valid after fs_deck_validate for every mode) */
    fs_seed_mode mode;
} fs_deck_seed;

typedef struct {                    /* [input] */
    char conf[FS_DECK_PATH_MAX];    /* conf: coordinates, GROMACS .gro (required) */
    char top[FS_DECK_PATH_MAX];     /* top: topology, GROMACS .top (required) */
    char mdp[FS_DECK_PATH_MAX];     /* mdp: .mdp whose energy keys were applied before the deck's ("" = none) */
    char include[FS_DECK_PATH_MAX]; /* include: extra #include directories, ':'-separated, each resolved ("") */
} fs_deck_input;

typedef struct {                    /* [output]; a path "" means "do not write it" */
    char h5md[FS_DECK_PATH_MAX];    /* h5md: H5MD trajectory and observables (traj.h5md) */
    int nstxout;                    /* nstxout: positions into H5MD every this many steps, 0 = never (0) */
    int nstvout;                    /* nstvout: velocities, likewise (0) */
    int nstfout;                    /* nstfout: forces, likewise (0) */
    int nstenergy;                  /* nstenergy: observables (energies, T, P, box) into H5MD, 0 = never (1000) */
    int nstlog;                     /* nstlog: one thermo line (stdout and log), 0 = never (1000) */
    char log[FS_DECK_PATH_MAX];     /* log: the thermo log file (md.log) */
    int compression;                /* compression: H5MD deflate level 0 (none) .. 9 (0) */
    char confout[FS_DECK_PATH_MAX]; /* confout: final coordinates, .gro (confout.gro) */
} fs_deck_output;

typedef struct { /* [output] checkpoints: written when either interval has passed; both 0 = no checkpoints */
    char path[FS_DECK_PATH_MAX]; /* checkpoint: file, replaced atomically (state.cpt) */
    int nstcheckpoint;           /* nstcheckpoint: every this many steps, 0 = not by steps (0) */
    double minutes;              /* checkpoint-minutes: every this many minutes of wall time, 0 = not by time (15) */
} fs_deck_checkpoint;

typedef struct {
    char deck[FS_DECK_PATH_MAX]; /* the deck file as given to fs_deck_read ("" when not read from a file) */
    char dir[FS_DECK_PATH_MAX];  /* its directory ("" when the deck path has no '/'): base of relative paths */

    fs_deck_input input;
    fs_mdp mdp; /* force parameters (the [run] energy keys), constraints ([run]) and define ([input]) */

    /* [run] */
    fs_deck_integrator integrator; /* integrator: md | sd | steep (md) */
    fs_dynamics dyn;   /* dt, tcoupl, ref-t, tau-t, pcoupl, ref-p, nstpcouple, comm-mode, nstcomm, shake-tol; its
                          integrator and seed are set by fs_deck_validate from `integrator` and ld_seed */
    int64_t nsteps;    /* nsteps: MD steps, or the most minimization steps (0) */
    double tinit;      /* tinit: time of step 0, ps (0) */
    int nstcalcenergy; /* nstcalcenergy: energies and virial every this many steps (100; lowered by
                          fs_deck_validate to divide nstenergy and nstlog when the deck does not set it) */
    int gen_vel;       /* gen-vel: 1 = draw Maxwell-Boltzmann velocities at gen_temp before step 0 (no) */
    double gen_temp;   /* gen-temp: their temperature, K (300) */
    double emtol;      /* emtol: minimization converged below this largest force, kJ mol^-1 nm^-1 (10) */
    double emstep;     /* emstep: initial largest displacement of a minimization step, nm (0.01) */

    fs_deck_output out;
    fs_deck_checkpoint cpt;

    /* [seeds] */
    fs_deck_seed ld_seed;  /* ld-seed: key of every random number of the dynamics (0); -1 = from the clock */
    fs_deck_seed gen_seed; /* gen-seed: key of the initial velocities (= ld-seed); -1 = from the clock */

    char notes[FS_DECK_NOTES_MAX]; /* keys of the [input] mdp that were not used, one "file:line: ..." per line */
    int line[FS_DECK_MAX_KEYS];    /* line of the deck that set key i of the table; 0 = not set (default or .mdp),
                                      -1 = set by fs_deck_set (see fs_deck_where) */
} fs_deck;

/* Every field to its default (the values in parentheses above): input paths "", output names as in parentheses
 * (relative; fs_deck_read joins them to the deck's directory). An fs_deck is large (~47 KB, paths inline). */
void fs_deck_init(fs_deck *d);

/* Reads the deck at `path` into *d, starting from fs_deck_init (the result depends on the file alone), then runs
 * fs_deck_validate. Errors: FS_ERR_IO (deck, mdp, conf or top unreadable; include not a directory), FS_ERR_PARSE
 * (syntax, unknown section or key, a key twice), FS_ERR_INVALID (bad number, out of range, bad value, conflicting
 * keys, missing conf/top), FS_ERR_UNSUPPORTED (an .mdp energy option ferrosolv does not implement). The message
 * starts with "deck.ini:line:" of the offending key, or with the deck's path when no line is at fault, and names
 * the key and what it accepts. On error *d holds what was read so far. */
fs_status fs_deck_read(const char *path, fs_deck *d);

/* Sets one key as the deck would (section found from the key's name; key names are unique across sections), e.g.
 * for command-line overrides; `where` names the origin for messages ("--nsteps"). A relative path is joined to
 * `base_dir` (NULL or "": kept as given). `mdp` is refused (FS_ERR_INVALID): its keys must apply before the deck's,
 * so it belongs in the deck. Call fs_deck_validate afterwards. */
fs_status fs_deck_set(fs_deck *d, const char *key, const char *value, const char *where, const char *base_dir);

/* Cross-key checks and derived fields: required inputs present and readable; sd with tcoupl = v-rescale,
 * pcoupl without a thermostat or without ref-p, thermostat without ref-t, couplings or gen-vel with a minimizer,
 * outputs asked for without a file, nstcalcenergy not dividing nstenergy/nstlog: errors naming the line of the
 * key at fault. Sets dyn.integrator, draws -1 seeds from the clock (once), copies ld_seed into dyn.seed and
 * resolves gen-seed = ld-seed. */
fs_status fs_deck_validate(fs_deck *d);

/* Writes the help for `ferrosolv run`: every key grouped by section with its default, unit, accepted values and
 * description. */
void fs_deck_help(FILE *out);

/* Writes *d as a complete deck (every key = its value, paths as stored), which read back gives the same
 * values. For the log and H5MD: a record of exactly what ran (drawn seeds included). */
fs_status fs_deck_write(FILE *out, const fs_deck *d);

/* "deck.ini:line" of the line that set `key` (any spelling), else the deck's path (or "(defaults)"); in buf. */
const char *fs_deck_where(const fs_deck *d, const char *key, char *buf, size_t cap);

/* Splits input.include into directories: writes up to `max` pointers into `storage` (which must hold
 * strlen(d->input.include)+1 bytes) and returns how many (for fs_gromacs_load's include_dirs). */
int fs_deck_includes(const fs_deck *d, char *storage, const char **dirs, int max);

/* The key table, read-only. */
typedef struct {
    const char *section; /* "input", "run", "output", "seeds" */
    const char *name;    /* canonical spelling */
    const char *unit;    /* "ps", "K", ..., "" when none */
    const char *help;    /* one-line description */
} fs_deck_keyinfo;

/* Number of keys in the table. */
int fs_deck_key_count(void);

/* Key i (0 <= i < fs_deck_key_count()), or NULL. */
const fs_deck_keyinfo *fs_deck_key(int i);

/* Index of `name` (any spelling), or -1. */
int fs_deck_key_find(const char *name);

/* The value of key i in *d as deck text ("0.002", "v-rescale", "" for an empty path) into buf; returns buf. */
const char *fs_deck_format(const fs_deck *d, int i, char *buf, size_t cap);

/* What key i accepts ("(0, 0.1]", "md | md-vv | sd | steep", "a path") into buf; returns buf. */
const char *fs_deck_accepted(int i, char *buf, size_t cap);

#endif
