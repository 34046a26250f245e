/*
 * deck_table.h — the run deck's key table, shared by deck.c (parsing), deck_check.c (cross-key checks) and
 * deck_text.c (help, formatting). Internal to core/: users of the deck include deck.h.
 *
 * Each row says where a key lives (section), what it is (type, field of fs_deck, accepted range or names), how it
 * is shown (unit, description) and whether its value goes through forcefields/mdp.c's fs_mdp_set, so that an
 * energy key means exactly what it means in an .mdp. Defaults are not in the table: they are what fs_deck_init
 * leaves in the fields (fs_dynamics_default, fs_mdp_init and the deck's own), and the help prints those.
 */
#ifndef FS_DECK_TABLE_H
#define FS_DECK_TABLE_H

#include <stddef.h>

#include "deck.h"

typedef enum {
    FS_DK_REAL,  /* double, range [lo, hi] or (lo, hi] */
    FS_DK_INT,   /* int, range [lo, hi] */
    FS_DK_INT64, /* int64_t, range [lo, hi] */
    FS_DK_ENUM,  /* int-sized enum, one of names[] (case-insensitive, '-' and '_' ignored) -> values[] */
    FS_DK_PATH,  /* char[size], a file path resolved against the deck's directory; "" = none */
    FS_DK_DIRS,  /* char[size], ':'-separated directories, each resolved */
    FS_DK_TEXT,  /* char[size], kept as given */
    FS_DK_SEED   /* fs_deck_seed: 0 .. 2^64-1, or -1 (from the clock), or "ld-seed" where allowed */
} fs_deck_type;

enum {
    FS_DKF_MDP = 1,      /* the value is parsed by fs_mdp_set (energy keys; define; constraints) */
    FS_DKF_REQUIRED = 2, /* the deck must set it */
    FS_DKF_LO_OPEN = 4,  /* the range excludes lo */
    FS_DKF_SEED_LD = 8   /* a seed that may be "ld-seed" */
};

typedef struct {
    fs_deck_keyinfo info; /* section, name, unit, description (public view) */
    fs_deck_type type;
    size_t offset; /* of the field in fs_deck */
    size_t size;   /* of the field (strings: capacity) */
    double lo, hi; /* numbers: accepted range (not checked here for FS_DKF_MDP keys: fs_mdp_set checks) */
    const char *const *names;
    const int *values;
    unsigned flags;
} fs_deck_row;

extern const fs_deck_row fs_deck_rows[];
extern const int fs_deck_nrows;

/* Lower case, '_' -> '-' (grompp's key matching). */
void fs_deck_normalize(const char *in, char *out, size_t cap);

/* "path:line" of key i in buf when the deck set it, else the deck path (or "(defaults)"). */
const char *fs_deck_where_i(const fs_deck *d, int i, char *buf, size_t cap);

#endif
