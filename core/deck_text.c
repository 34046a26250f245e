/*
 * deck_text.c — a run deck as text: the help of `ferrosolv run`, values shown as a deck would write them, the
 * effective deck written back out, and "file:line" of a key.
 *
 * Everything here is generated from the key table (deck.c): the help lists each key with the value fs_deck_init
 * gives it (so the defaults shown cannot drift from the defaults used), its unit, what it accepts and what it
 * does. Values are written so that reading them back gives the same bits: a double is printed with the fewest
 * significant digits (up to 17) that convert back to the same double, an enumeration by its first name, a seed as
 * its number (a drawn seed included, which is what makes a "-1" run repeatable), ld-seed's follower as "ld-seed".
 */
#include "deck.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deck_table.h"

static const char *value_ptr(const fs_deck *d, const fs_deck_row *r)
{
    return (const char *)d + r->offset;
}

static void format_real(double x, char *buf, size_t cap)
{
    if (!buf || !cap) return;
    /* %g switches to an exponent when the exponent reaches the precision: start with enough digits to write the
     * integer part of numbers below 1e15 in full (300, not 3e+02) */
    int start = fabs(x) >= 1 && fabs(x) < 1e15 ? (int)floor(log10(fabs(x))) + 1 : 1;
    for (int prec = start; prec <= 17; ++prec) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

const char *fs_deck_format(const fs_deck *d, int i, char *buf, size_t cap)
{
    if (!cap) return buf;
    buf[0] = '\0';
    if (i < 0 || i >= fs_deck_nrows) return buf;
    const fs_deck_row *r = &fs_deck_rows[i];
    const char *p = value_ptr(d, r);
    switch (r->type) {
    case FS_DK_REAL: {
        double x;
        memcpy(&x, p, sizeof x);
        format_real(x, buf, cap);
        break;
    }
    case FS_DK_INT: {
        int x;
        memcpy(&x, p, sizeof x);
        snprintf(buf, cap, "%d", x);
        break;
    }
    case FS_DK_INT64: {
        int64_t x;
        memcpy(&x, p, sizeof x);
        snprintf(buf, cap, "%" PRId64, x);
        break;
    }
    case FS_DK_ENUM: {
        int x;
        memcpy(&x, p, sizeof x);
        snprintf(buf, cap, "?%d", x);
        for (int k = 0; r->names[k]; ++k)
            if (r->values[k] == x) {
                snprintf(buf, cap, "%s", r->names[k]);
                break;
            }
        break;
    }
    case FS_DK_PATH:
    case FS_DK_DIRS:
    case FS_DK_TEXT:
        snprintf(buf, cap, "%s", p);
        break;
    case FS_DK_SEED: {
        fs_deck_seed s;
        memcpy(&s, p, sizeof s);
        if (s.mode == FS_SEED_FROM_TIME)
            snprintf(buf, cap, "-1");
        else if (s.mode == FS_SEED_LD)
            snprintf(buf, cap, "ld-seed");
        else
            snprintf(buf, cap, "%" PRIu64, s.value);
        break;
    }
    }
    return buf;
}

const char *fs_deck_accepted(int i, char *buf, size_t cap)
{
    if (!cap) return buf;
    buf[0] = '\0';
    if (i < 0 || i >= fs_deck_nrows) return buf;
    const fs_deck_row *r = &fs_deck_rows[i];
    int mdp = (r->flags & FS_DKF_MDP) != 0;
    switch (r->type) {
    case FS_DK_REAL:
    case FS_DK_INT:
    case FS_DK_INT64:
        if (mdp)
            snprintf(buf, cap, "%s",
                     r->type == FS_DK_REAL ? "a number, as in an .mdp" : "a whole number, as in an .mdp");
        else if (r->lo <= -1e15 && r->hi >= 1e15)
            snprintf(buf, cap, "a number");
        else if (r->hi >= INT_MAX)
            snprintf(buf, cap, "%s %g", r->flags & FS_DKF_LO_OPEN ? ">" : ">=", r->lo);
        else
            snprintf(buf, cap, "%c%g, %g]", r->flags & FS_DKF_LO_OPEN ? '(' : '[', r->lo, r->hi);
        break;
    case FS_DK_ENUM: {
        size_t len = 0;
        for (int k = 0; r->names[k] && len + 1 < cap; ++k) {
            int w = snprintf(buf + len, cap - len, "%s%s", k ? " | " : "", r->names[k]);
            if (w < 0) break;
            len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
        }
        break;
    }
    case FS_DK_PATH:
        snprintf(buf, cap, "a path, relative to the deck's directory");
        break;
    case FS_DK_DIRS:
        snprintf(buf, cap, "directories separated by ':'");
        break;
    case FS_DK_TEXT:
        snprintf(buf, cap, "text");
        break;
    case FS_DK_SEED:
        snprintf(buf, cap, "0 .. 18446744073709551615, or -1 (drawn from the clock%s)",
                 r->flags & FS_DKF_SEED_LD ? "), or ld-seed (the same as ld-seed" : "");
        break;
    }
    return buf;
}

/* Writes `indent` spaces then `text` word-wrapped to HELP_WIDTH columns, each line indented the same; the first
 * line's indent has already been written when `first_done`. */
#define HELP_WIDTH 118
static void wrap(FILE *out, int indent, int first_done, const char *text)
{
    int room = HELP_WIDTH - indent > 30 ? HELP_WIDTH - indent : 30;
    if (!first_done) fprintf(out, "%*s", indent, "");
    while (*text) {
        int n = (int)strlen(text);
        if (n > room) {
            n = room;
            while (n > 0 && text[n] != ' ') n--;
            if (n == 0) n = room;
        }
        fprintf(out, "%.*s\n", n, text);
        text += n;
        while (*text == ' ') text++;
        if (*text) fprintf(out, "%*s", indent, "");
    }
}

void fs_deck_help(FILE *out)
{
    fs_deck d;
    fs_deck_init(&d);
    fprintf(
        out,
        "Run deck keys. The deck is an INI file: [section] headers, key = value lines; a line starting with ';'\n"
        "or '#' is a comment, and ' ;' starts a comment after a value. Keys match as in an .mdp (case-insensitive,\n"
        "'-' equal to '_'); unknown keys and bad values are errors naming file:line. Relative paths (outputs too)\n"
        "are relative to the deck's directory. Energy keys are first taken from [input] mdp, then from the deck.\n"
        "Shown: key = default, unit, description, accepted values.\n");
    const char *section = "";
    for (int i = 0; i < fs_deck_nrows; ++i) {
        const fs_deck_row *r = &fs_deck_rows[i];
        if (strcmp(section, r->info.section)) {
            section = r->info.section;
            fprintf(out, "\n[%s]\n", section);
        }
        char value[FS_DECK_PATH_MAX], acc[512];
        fs_deck_format(&d, i, value, sizeof value);
        const char *shown = value;
        if (!*value) shown = r->flags & FS_DKF_REQUIRED ? "(required)" : "\"\"";
        fs_deck_accepted(i, acc, sizeof acc);
        char first[128];
        snprintf(first, sizeof first, "  %-18s = %-16s %-10s ", r->info.name, shown,
                 *r->info.unit ? r->info.unit : "-");
        fputs(first, out);
        wrap(out, (int)strlen(first), 1, r->info.help);
        char text[600];
        snprintf(text, sizeof text, "accepts: %s", acc);
        wrap(out, (int)strlen(first), 0, text);
    }
}

fs_status fs_deck_write(FILE *out, const fs_deck *d)
{
    fprintf(out, "; ferrosolv run deck: every key with the value the run used\n");
    const char *section = "";
    for (int i = 0; i < fs_deck_nrows; ++i) {
        const fs_deck_row *r = &fs_deck_rows[i];
        if (strcmp(section, r->info.section)) {
            section = r->info.section;
            fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
        }
        char value[FS_DECK_PATH_MAX];
        fprintf(out, "%s = %s\n", r->info.name, fs_deck_format(d, i, value, sizeof value));
    }
    if (ferror(out)) return fs_fail(FS_ERR_IO, "writing the run deck failed");
    return FS_OK;
}

const char *fs_deck_where_i(const fs_deck *d, int i, char *buf, size_t cap)
{
    const char *deck = d->deck[0] ? d->deck : "(defaults)";
    if (i >= 0 && i < fs_deck_nrows && d->line[i] > 0)
        snprintf(buf, cap, "%s:%d", deck, d->line[i]);
    else if (i >= 0 && i < fs_deck_nrows && d->line[i] < 0)
        snprintf(buf, cap, "%s (overridden on the command line)", deck);
    else
        snprintf(buf, cap, "%s", deck);
    return buf;
}

const char *fs_deck_where(const fs_deck *d, const char *key, char *buf, size_t cap)
{
    return fs_deck_where_i(d, fs_deck_key_find(key), buf, cap);
}
