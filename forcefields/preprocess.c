/*
 * preprocess.c — the gmxcpp-like preprocessor in front of the topology reader.
 *
 * What it does, in the order it is done to each physical line of the current file:
 *   1. lines ending in '\' (trailing blanks allowed) are joined with the next line; the logical line keeps the number
 *      of its first physical line. A '\' on the last line of a file is an error (a truncated file).
 *   2. everything from the first ';' on is a comment and removed; the rest is trimmed.
 *   3. a line starting with '#' is a directive:
 *        #ifdef NAME / #ifndef NAME / #else / #endif   conditional sections, nestable; always interpreted, so that
 *                                                      nesting is tracked inside inactive sections too
 *        #define NAME [VALUE] / #undef NAME            symbols (only in active sections)
 *        #include "file" or <file>                     a nested file (only in active sections)
 *      Any other directive (#if, #elif, #error, ...) is an error, as in grompp.
 *   4. other lines in active sections are returned, after every word (a maximal run of letters, digits and '_',
 *      the word boundary rule of gmxcpp) that names a symbol with a non-empty value is replaced by that value. The
 *      replacement is one pass, not recursive. This is how GROMOS-style parameter macros work:
 *      "#define gb_1 0.1000 1.5700e+07" makes "1 2 2 gb_1" read as "1 2 2 0.1000 1.5700e+07".
 *
 * Include search (gmxcpp changes into the directory of each file it reads, so the effect is): the directory of the
 * including file, then fs_top_options.include_dirs in order, then each directory of $GMXLIB. Absolute names are
 * used as they are. A file that is already open further up the include chain (compared by realpath) is an include
 * loop and an error, as is nesting deeper than PP_MAX_DEPTH. Every #ifdef must be closed in the file that opened
 * it: reaching the end of a file with an open conditional is an error that names the #ifdef's line.
 *
 * Symbols live in a small open-addressing hash table (FNV-1a), since force fields define hundreds of them and every
 * word of every line is looked up. #undef keeps the slot and clears the "defined" flag.
 */
#include "preprocess.h"

#include "../core/io/textfile.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PP_MAX_DEPTH 64

typedef struct {
    const char *path; /* owned by pp->names */
    char *real;       /* realpath, for loop detection */
    char *buf;        /* file contents, lines NUL-terminated in place */
    char **lines;
    int nlines, next; /* next physical line to read (0-based) */
    int cond_base;    /* pp->nconds when this file was opened */
} pp_file;

typedef struct {
    char *name, *value;
    int defined;
} pp_sym;

typedef struct {
    int active;        /* this branch is being taken (and all enclosing ones) */
    int parent_active; /* the enclosing section is active */
    int seen_else;
    tp_loc at;
    char name[64];
} pp_cond;

struct fs_pp {
    pp_file files[PP_MAX_DEPTH];
    int depth;
    pp_cond *conds;
    int nconds, conds_cap;
    pp_sym *syms; /* hash table of capacity syms_cap (power of two) */
    int nsyms, syms_cap;
    char **dirs; /* include directories: options, then GMXLIB */
    int ndirs;
    char **names; /* every file path handed out, freed at close */
    int nnames, names_cap;
    char *out; /* the current output line */
    size_t out_cap;
    tp_loc last;
};

/* ---- small utilities -------------------------------------------------------------------------------------- */

static char *dupstr(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static const char *keep_name(fs_pp *pp, const char *s)
{
    if (pp->nnames == pp->names_cap) {
        int ncap = pp->names_cap ? 2 * pp->names_cap : 16;
        char **p = realloc(pp->names, (size_t)ncap * sizeof *p);
        if (!p) return NULL;
        pp->names = p;
        pp->names_cap = ncap;
    }
    char *d = dupstr(s, strlen(s));
    if (!d) return NULL;
    pp->names[pp->nnames++] = d;
    return d;
}

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; ++i) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* ---- symbols ---------------------------------------------------------------------------------------------- */

static pp_sym *sym_find(const fs_pp *pp, const char *name, size_t n)
{
    if (pp->syms_cap == 0) return NULL;
    uint32_t mask = (uint32_t)pp->syms_cap - 1;
    for (uint32_t i = hash(name, n) & mask;; i = (i + 1) & mask) {
        pp_sym *s = &pp->syms[i];
        if (!s->name) return NULL;
        if (strlen(s->name) == n && memcmp(s->name, name, n) == 0) return s;
    }
}

static fs_status sym_set(fs_pp *pp, const char *name, const char *value)
{
    pp_sym *s = sym_find(pp, name, strlen(name));
    if (!s) {
        if (2 * (pp->nsyms + 1) > pp->syms_cap) {
            int ncap = pp->syms_cap ? 2 * pp->syms_cap : 64;
            pp_sym *t = calloc((size_t)ncap, sizeof *t);
            if (!t) return fs_fail(FS_ERR_NOMEM, "out of memory for preprocessor symbols");
            for (int k = 0; k < pp->syms_cap; ++k) {
                if (!pp->syms[k].name) continue;
                uint32_t mask = (uint32_t)ncap - 1, i = hash(pp->syms[k].name, strlen(pp->syms[k].name)) & mask;
                while (t[i].name) i = (i + 1) & mask;
                t[i] = pp->syms[k];
            }
            free(pp->syms);
            pp->syms = t;
            pp->syms_cap = ncap;
        }
        uint32_t mask = (uint32_t)pp->syms_cap - 1, i = hash(name, strlen(name)) & mask;
        while (pp->syms[i].name) i = (i + 1) & mask;
        s = &pp->syms[i];
        s->name = dupstr(name, strlen(name));
        if (!s->name) return fs_fail(FS_ERR_NOMEM, "out of memory for preprocessor symbols");
        s->value = NULL;
        pp->nsyms++;
    }
    char *v = dupstr(value, strlen(value));
    if (!v) return fs_fail(FS_ERR_NOMEM, "out of memory for preprocessor symbols");
    free(s->value);
    s->value = v;
    s->defined = 1;
    return FS_OK;
}

static int sym_defined(const fs_pp *pp, const char *name)
{
    const pp_sym *s = sym_find(pp, name, strlen(name));
    return s && s->defined;
}

/* ---- files ------------------------------------------------------------------------------------------------ */

static fs_status push_file(fs_pp *pp, const char *path, const tp_loc *from)
{
    if (pp->depth == PP_MAX_DEPTH)
        return tp_fail(from, FS_ERR_PARSE, "#include nested more than %d deep (an include loop?)", PP_MAX_DEPTH);
    char *real = realpath(path, NULL);
    if (real)
        for (int k = 0; k < pp->depth; ++k)
            if (pp->files[k].real && strcmp(pp->files[k].real, real) == 0) {
                free(real);
                return tp_fail(from, FS_ERR_PARSE, "include loop: '%s' is already being read", path);
            }
    fs_text text;
    fs_status st = fs_text_load(path, &text);
    if (st != FS_OK) {
        free(real);
        if (from && st == FS_ERR_IO) return tp_fail(from, st, "%s", fs_error_message());
        return st;
    }
    const char *name = keep_name(pp, path);
    if (!name) {
        fs_text_free(&text);
        free(real);
        return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    }
    pp_file *pf = &pp->files[pp->depth++];
    pf->path = name;
    pf->real = real;
    pf->buf = text.buf;
    pf->lines = text.line;
    pf->nlines = text.nlines;
    pf->next = 0;
    pf->cond_base = pp->nconds;
    return FS_OK;
}

static void pop_file(fs_pp *pp)
{
    pp_file *pf = &pp->files[--pp->depth];
    free(pf->real);
    free(pf->buf);
    free(pf->lines);
    memset(pf, 0, sizeof *pf);
}

static fs_status add_dir(fs_pp *pp, const char *d, size_t n)
{
    if (n == 0) return FS_OK;
    char **p = realloc(pp->dirs, (size_t)(pp->ndirs + 1) * sizeof *p);
    if (!p) return fs_fail(FS_ERR_NOMEM, "out of memory for include directories");
    pp->dirs = p;
    pp->dirs[pp->ndirs] = dupstr(d, n);
    if (!pp->dirs[pp->ndirs]) return fs_fail(FS_ERR_NOMEM, "out of memory for include directories");
    pp->ndirs++;
    return FS_OK;
}

fs_status fs_pp_open(const char *path, const fs_top_options *opt, fs_pp **out)
{
    *out = NULL;
    fs_pp *pp = calloc(1, sizeof *pp);
    if (!pp) return fs_fail(FS_ERR_NOMEM, "out of memory");
    fs_status st = FS_OK;
    if (opt)
        for (int i = 0; i < opt->n_include_dirs && st == FS_OK; ++i)
            if (opt->include_dirs[i]) st = add_dir(pp, opt->include_dirs[i], strlen(opt->include_dirs[i]));
    const char *gmxlib = getenv("GMXLIB");
    for (const char *p = gmxlib; p && *p && st == FS_OK;) {
        size_t n = strcspn(p, ":");
        st = add_dir(pp, p, n);
        p += n;
        if (*p == ':') p++;
    }
    if (opt)
        for (int i = 0; i < opt->n_defines && st == FS_OK; ++i) {
            const char *d = opt->defines[i];
            if (!d || !*d) continue;
            const char *eq = strchr(d, '=');
            char *name = dupstr(d, eq ? (size_t)(eq - d) : strlen(d));
            if (!name) {
                st = fs_fail(FS_ERR_NOMEM, "out of memory");
                break;
            }
            st = sym_set(pp, name, eq ? eq + 1 : "");
            free(name);
        }
    if (st == FS_OK) st = push_file(pp, path, NULL);
    if (st != FS_OK) {
        fs_pp_close(&pp);
        return st;
    }
    *out = pp;
    return FS_OK;
}

void fs_pp_close(fs_pp **ppp)
{
    if (!ppp || !*ppp) return;
    fs_pp *pp = *ppp;
    while (pp->depth > 0) pop_file(pp);
    free(pp->conds);
    for (int i = 0; i < pp->syms_cap; ++i) {
        free(pp->syms[i].name);
        free(pp->syms[i].value);
    }
    free(pp->syms);
    for (int i = 0; i < pp->ndirs; ++i) free(pp->dirs[i]);
    free(pp->dirs);
    for (int i = 0; i < pp->nnames; ++i) free(pp->names[i]);
    free(pp->names);
    free(pp->out);
    free(pp);
    *ppp = NULL;
}

tp_loc fs_pp_end(const fs_pp *pp)
{
    return pp->last;
}

/* ---- lines ------------------------------------------------------------------------------------------------ */

static fs_status out_reserve(fs_pp *pp, size_t need)
{
    if (need <= pp->out_cap) return FS_OK;
    size_t ncap = pp->out_cap ? pp->out_cap : 256;
    while (ncap < need) ncap *= 2;
    char *p = realloc(pp->out, ncap);
    if (!p) return fs_fail(FS_ERR_NOMEM, "out of memory reading a topology line");
    pp->out = p;
    pp->out_cap = ncap;
    return FS_OK;
}

static size_t trim_end(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\f' || s[n - 1] == '\v'))
        n--;
    return n;
}

/* Reads the next logical line of the top file into pp->out (comment removed, trimmed). */
static fs_status read_logical(fs_pp *pp, pp_file *pf, tp_loc *at)
{
    at->file = pf->path;
    at->line = pf->next + 1;
    size_t len = 0;
    for (;;) {
        const char *s = pf->lines[pf->next++];
        size_t n = trim_end(s, strlen(s));
        int cont = n > 0 && s[n - 1] == '\\';
        if (cont) n--;
        if (out_reserve(pp, len + n + 2) != FS_OK) return FS_ERR_NOMEM;
        memcpy(pp->out + len, s, n);
        len += n;
        pp->out[len++] = ' ';
        if (!cont) break;
        if (pf->next >= pf->nlines) {
            tp_loc end = {pf->path, pf->nlines + 1};
            return tp_fail(&end, FS_ERR_PARSE,
                           "expected a continuation of line %d (it ends in '\\'), found end of file", at->line);
        }
    }
    pp->out[len] = '\0';
    char *c = strchr(pp->out, ';');
    if (c) *c = '\0';
    size_t n = trim_end(pp->out, strlen(pp->out));
    pp->out[n] = '\0';
    size_t b = strspn(pp->out, " \t\r\f\v");
    if (b) memmove(pp->out, pp->out + b, n - b + 1);
    return FS_OK;
}

static int all_active(const fs_pp *pp)
{
    return pp->nconds == 0 || pp->conds[pp->nconds - 1].active;
}

/* The first word of s (blank-delimited) into w[cap]; returns a pointer after it. */
static const char *word(const char *s, char *w, size_t cap)
{
    s += strspn(s, " \t");
    size_t n = strcspn(s, " \t");
    size_t m = n < cap - 1 ? n : cap - 1;
    memcpy(w, s, m);
    w[m] = '\0';
    return s + n;
}

static fs_status do_include(fs_pp *pp, const char *arg, const tp_loc *at)
{
    arg += strspn(arg, " \t");
    char close = arg[0] == '"' ? '"' : arg[0] == '<' ? '>' : 0;
    const char *endq = close ? strchr(arg + 1, close) : NULL;
    if (!close || !endq || endq == arg + 1)
        return tp_fail(at, FS_ERR_PARSE, "expected #include \"file\" or #include <file>, found '#include %s'", arg);
    size_t n = (size_t)(endq - arg - 1);
    char *name = dupstr(arg + 1, n);
    if (!name) return fs_fail(FS_ERR_NOMEM, "out of memory");
    /* candidates: own directory, option directories, GMXLIB */
    const char *cur = pp->files[pp->depth - 1].path;
    const char *slash = strrchr(cur, '/');
    size_t cap = strlen(cur) + n + 2;
    for (int i = 0; i < pp->ndirs; ++i)
        if (strlen(pp->dirs[i]) + n + 2 > cap) cap = strlen(pp->dirs[i]) + n + 2;
    char *cand = malloc(cap);
    if (!cand) {
        free(name);
        return fs_fail(FS_ERR_NOMEM, "out of memory");
    }
    int found = 0;
    if (name[0] == '/') {
        snprintf(cand, cap, "%s", name);
        found = access(cand, F_OK) == 0;
    } else {
        if (slash)
            snprintf(cand, cap, "%.*s/%s", (int)(slash - cur), cur, name);
        else
            snprintf(cand, cap, "%s", name);
        found = access(cand, F_OK) == 0;
        for (int i = 0; i < pp->ndirs && !found; ++i) {
            snprintf(cand, cap, "%s/%s", pp->dirs[i], name);
            found = access(cand, F_OK) == 0;
        }
    }
    fs_status st;
    if (!found)
        st = tp_fail(at, FS_ERR_IO,
                     "include file '%s' not found (searched the including file's directory, %d "
                     "include directories and GMXLIB)",
                     name, pp->ndirs);
    else
        st = push_file(pp, cand, at);
    free(cand);
    free(name);
    return st;
}

static fs_status directive(fs_pp *pp, const tp_loc *at)
{
    char dir[32], name[256];
    const char *rest = word(pp->out + 1, dir, sizeof dir);
    pp_file *pf = &pp->files[pp->depth - 1];
    if (strcmp(dir, "ifdef") == 0 || strcmp(dir, "ifndef") == 0) {
        word(rest, name, sizeof name);
        if (!name[0]) return tp_fail(at, FS_ERR_PARSE, "expected a symbol after #%s", dir);
        if (pp->nconds == pp->conds_cap) {
            int ncap = pp->conds_cap ? 2 * pp->conds_cap : 16;
            pp_cond *c = realloc(pp->conds, (size_t)ncap * sizeof *c);
            if (!c) return fs_fail(FS_ERR_NOMEM, "out of memory");
            pp->conds = c;
            pp->conds_cap = ncap;
        }
        pp_cond *c = &pp->conds[pp->nconds];
        c->parent_active = all_active(pp);
        int def = sym_defined(pp, name);
        c->active = c->parent_active && (dir[2] == 'd' ? def : !def);
        c->seen_else = 0;
        c->at = *at;
        snprintf(c->name, sizeof c->name, "%.8s %.48s", dir, name);
        pp->nconds++;
        return FS_OK;
    }
    if (strcmp(dir, "else") == 0 || strcmp(dir, "endif") == 0) {
        if (pp->nconds <= pf->cond_base)
            return tp_fail(at, FS_ERR_PARSE, "#%s without a matching #ifdef or #ifndef in this file", dir);
        pp_cond *c = &pp->conds[pp->nconds - 1];
        if (dir[1] == 'n') {
            pp->nconds--;
            return FS_OK;
        }
        if (c->seen_else) return tp_fail(at, FS_ERR_PARSE, "second #else for #%s (line %d)", c->name, c->at.line);
        c->seen_else = 1;
        c->active = c->parent_active && !c->active;
        return FS_OK;
    }
    if (!all_active(pp)) return FS_OK; /* other directives in skipped sections are ignored */
    if (strcmp(dir, "define") == 0) {
        rest = word(rest, name, sizeof name);
        if (!name[0]) return tp_fail(at, FS_ERR_PARSE, "expected a symbol after #define");
        rest += strspn(rest, " \t");
        return sym_set(pp, name, rest);
    }
    if (strcmp(dir, "undef") == 0) {
        word(rest, name, sizeof name);
        if (!name[0]) return tp_fail(at, FS_ERR_PARSE, "expected a symbol after #undef");
        pp_sym *s = sym_find(pp, name, strlen(name));
        if (s) s->defined = 0;
        return FS_OK;
    }
    if (strcmp(dir, "include") == 0) return do_include(pp, rest, at);
    return tp_fail(at, FS_ERR_PARSE, "unsupported preprocessor directive '#%s'", dir);
}

/* Replaces defined words of pp->out (one pass) into a new buffer, then swaps. */
static fs_status substitute(fs_pp *pp)
{
    if (pp->nsyms == 0) return FS_OK;
    const char *s = pp->out;
    size_t len = strlen(s), cap = len + 1;
    int any = 0;
    for (size_t i = 0; i < len;) {
        if (!is_word(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && is_word(s[j])) j++;
        const pp_sym *y = sym_find(pp, s + i, j - i);
        if (y && y->defined && y->value[0]) {
            cap += strlen(y->value);
            any = 1;
        }
        i = j;
    }
    if (!any) return FS_OK;
    char *r = malloc(cap);
    if (!r) return fs_fail(FS_ERR_NOMEM, "out of memory");
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        if (!is_word(s[i])) {
            r[w++] = s[i++];
            continue;
        }
        size_t j = i;
        while (j < len && is_word(s[j])) j++;
        const pp_sym *y = sym_find(pp, s + i, j - i);
        if (y && y->defined && y->value[0]) {
            size_t vl = strlen(y->value);
            memcpy(r + w, y->value, vl);
            w += vl;
        } else {
            memcpy(r + w, s + i, j - i);
            w += j - i;
        }
        i = j;
    }
    r[w] = '\0';
    free(pp->out);
    pp->out = r;
    pp->out_cap = cap;
    return FS_OK;
}

fs_status fs_pp_next(fs_pp *pp, char **text, tp_loc *at)
{
    *text = NULL;
    for (;;) {
        if (pp->depth == 0) return FS_OK;
        pp_file *pf = &pp->files[pp->depth - 1];
        if (pf->next >= pf->nlines) {
            if (pp->nconds > pf->cond_base) {
                const pp_cond *c = &pp->conds[pf->cond_base];
                tp_loc end = {pf->path, pf->nlines + 1};
                return tp_fail(&end, FS_ERR_PARSE, "expected #endif for #%s (line %d), found end of file", c->name,
                               c->at.line);
            }
            pp->last.file = pf->path;
            pp->last.line = pf->nlines + 1;
            pop_file(pp);
            continue;
        }
        fs_status st = read_logical(pp, pf, at);
        if (st != FS_OK) return st;
        pp->last = *at;
        pp->last.line++;
        if (pp->out[0] == '#') {
            st = directive(pp, at);
            if (st != FS_OK) return st;
            continue;
        }
        if (!pp->out[0] || !all_active(pp)) continue;
        st = substitute(pp);
        if (st != FS_OK) return st;
        *text = pp->out;
        return FS_OK;
    }
}
