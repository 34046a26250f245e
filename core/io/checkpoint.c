/*
 * checkpoint.c — writing and reading the run state as one HDF5 file, atomically and bit for bit.
 *
 * Layout (all numbers little-endian IEEE float64 or 64-bit integers, so a value reads back bit-identical):
 *
 *   user block (512 B)   our own header, which HDF5 skips: "ferrosolv-ckpt1\n", then the file's length and a
 *                        64-bit FNV-1a hash of every byte after the user block (little-endian uint64 each)
 *   /                    attributes: format = "ferrosolv checkpoint", version (int32), natoms, topology_natoms,
 *                        step (int64), topology_hash (uint64), time (float64), box_length (float64[3]),
 *                        box_periodic (int32[3])
 *   /position            float64 [3][natoms]: x, y, z rows, the state's structure-of-arrays order, nm
 *   /velocity            float64 [3][natoms], nm/ps
 *   /id                  int64 [natoms]
 *   /scalars             [n] compound {name: string[64], type: int32 (fs_ckpt_type), bits: uint64}: each scalar's
 *                        64-bit pattern (a double's IEEE bits, or the integer)
 *
 * Integrity. The reader loads the whole file, checks its length and hash, and only then lets HDF5 open the bytes
 * (from memory, HDF5's core driver with a file image). A truncated file or any changed byte is therefore an error
 * before HDF5 parses anything: HDF5's own checks are not enough, because its original file format has no metadata
 * checksums and HDF5 1.10 can read out of bounds on a damaged chunk index (found by this module's corruption test
 * under AddressSanitizer). FNV-1a detects every single-byte change with certainty: each step is a bijection of the
 * 64-bit state. We write HDF5's original format (superblock 0) also because HDF5 1.10's H5Fget_file_image returns
 * images of the newer superblock 2 with a stale checksum. h5py and h5dump read the file as any HDF5 file.
 *
 * Atomicity (the classic write-then-rename of any careful editor's save): the HDF5 file is built in memory
 * (HDF5's core driver without backing store) and its image (H5Fget_file_image) written with plain write(2) calls to
 * "<path>.tmp", fsync'ed so that its data are on the disk, and renamed over `path` (rename(2) replaces the target
 * atomically: a reader sees the old file or the new one, never a mixture); then the directory is fsync'ed so that
 * the rename itself survives a power failure. On any failure the temporary file is removed and the old checkpoint
 * is untouched. Building in memory also means HDF5 never meets a full disk: an HDF5 file whose flush fails cannot
 * be closed cleanly (its handle lingers and HDF5 1.10 crashes closing it at exit), whereas a failed write(2) is
 * just an error.
 *
 * The topology fingerprint is 64-bit FNV-1a (Fowler, Noll, Vo) over each atom's type index, charge and mass bit
 * patterns, atom name and residue name: cheap, order-sensitive, and different for any realistic change of system.
 */
#include "checkpoint.h"

#include "h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT_NAME "ferrosolv checkpoint"
#define SCALAR_NAME_MAX 63

/* ---- hashing --------------------------------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

#define FNV_START 0xcbf29ce484222325ULL

uint64_t fs_checkpoint_topology_hash(const fs_topology *top)
{
    uint64_t h = FNV_START;
    int32_t n = top->natoms;
    h = fnv(h, &n, sizeof n);
    for (int i = 0; i < top->natoms; ++i) {
        const fs_atom *a = &top->atoms[i];
        int32_t type = a->type;
        h = fnv(h, &type, sizeof type);
        h = fnv(h, &a->charge, sizeof a->charge); /* the bit patterns */
        h = fnv(h, &a->mass, sizeof a->mass);
        h = fnv(h, a->name, strlen(a->name) + 1);
        h = fnv(h, a->resname, strlen(a->resname) + 1);
    }
    return h;
}

/* One row of the scalar table, in memory. */
typedef struct {
    char name[SCALAR_NAME_MAX + 1];
    int32_t type;
    uint64_t bits;
} scalar_row;

/* What the file holds besides the arrays of the state. */
typedef struct {
    int32_t version;
    int64_t natoms, topology_natoms, step;
    uint64_t topology_hash;
    int32_t periodic[3];
} header;

/* ---- the user block: length and hash of the file ------------------------------------------------------------ */

#define USERBLOCK 512
#define MAGIC "ferrosolv-ckpt1\n" /* 16 bytes */
#define MAGIC_LEN 16

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; ++k) p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static void seal(unsigned char *image, size_t n)
{
    memset(image, 0, USERBLOCK);
    memcpy(image, MAGIC, MAGIC_LEN);
    put_u64(image + 16, n);
    put_u64(image + 24, fnv(FNV_START, image + USERBLOCK, n - USERBLOCK));
}

/* FS_OK if the n bytes are a sealed checkpoint, intact. */
static fs_status check_seal(const char *p, const unsigned char *image, size_t n)
{
    if (n < USERBLOCK + 8 || memcmp(image, MAGIC, MAGIC_LEN) != 0) {
        if (n >= 8 && memcmp(image, "\x89HDF\r\n\x1a\n", 8) == 0)
            return fs_fail(FS_ERR_PARSE, "%s: an HDF5 file, but not a ferrosolv checkpoint", p);
        return fs_fail(FS_ERR_IO, "%s: not a ferrosolv checkpoint, or its header is damaged", p);
    }
    uint64_t len = get_u64(image + 16);
    if (len != n)
        return fs_fail(FS_ERR_IO, "%s: the checkpoint is damaged: %zu bytes, its header says %llu%s", p, n,
                       (unsigned long long)len, n < len ? " (truncated)" : "");
    if (get_u64(image + 24) != fnv(FNV_START, image + USERBLOCK, n - USERBLOCK))
        return fs_fail(FS_ERR_IO, "%s: the checkpoint is damaged: its contents do not match their hash", p);
    return FS_OK;
}

/* Reads the whole file. */
static fs_status slurp(const char *p, unsigned char **out, size_t *n)
{
    *out = NULL;
    FILE *f = fopen(p, "rb");
    if (!f) return fs_fail(FS_ERR_IO, "%s: cannot read checkpoint: %s", p, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0) {
        fclose(f);
        return fs_fail(FS_ERR_IO, "%s: cannot stat: %s", p, strerror(errno));
    }
    *n = (size_t)sb.st_size;
    *out = malloc(*n > 0 ? *n : 1);
    if (!*out) {
        fclose(f);
        return fs_fail(FS_ERR_NOMEM, "%s: out of memory for %zu bytes", p, *n);
    }
    size_t got = fread(*out, 1, *n, f);
    fclose(f);
    if (got != *n) {
        free(*out);
        *out = NULL;
        return fs_fail(FS_ERR_IO, "%s: read %zu of %zu bytes", p, got, *n);
    }
    return FS_OK;
}

/* ---- helpers --------------------------------------------------------------------------------------------- */

static const char *type_name(int t)
{
    return t == FS_CKPT_DOUBLE ? "float64" : t == FS_CKPT_INT64 ? "int64" : t == FS_CKPT_UINT64 ? "uint64" : "?";
}

static fs_status check_scalars(const char *path, const fs_ckpt_scalar *sc, int n)
{
    if (n < 0 || (n > 0 && !sc)) return fs_fail(FS_ERR_INVALID, "%s: bad scalar list", path);
    for (int k = 0; k < n; ++k) {
        const char *name = sc[k].name;
        if (!name || !*name || strlen(name) > SCALAR_NAME_MAX || strchr(name, '/'))
            return fs_fail(FS_ERR_INVALID, "%s: scalar name '%s' is not valid", path, name ? name : "(null)");
        if (sc[k].type != FS_CKPT_DOUBLE && sc[k].type != FS_CKPT_INT64 && sc[k].type != FS_CKPT_UINT64)
            return fs_fail(FS_ERR_INVALID, "%s: scalar '%s' has an unknown type", path, name);
        for (int j = 0; j < k; ++j)
            if (strcmp(sc[j].name, name) == 0)
                return fs_fail(FS_ERR_INVALID, "%s: scalar '%s' is given twice", path, name);
    }
    return FS_OK;
}

/* The compound type of a scalar row: in the file (packed, little-endian) or in memory. */
static fs_status row_type(const char *p, int in_file, hid_t *out)
{
    fs_status st = FS_OK;
    hid_t str = -1, t = -1;
    FS_H5(p, str = H5Tcopy(H5T_C_S1));
    FS_H5(p, H5Tset_size(str, SCALAR_NAME_MAX + 1));
    FS_H5(p, H5Tset_strpad(str, H5T_STR_NULLPAD));
    if (in_file) {
        FS_H5(p, t = H5Tcreate(H5T_COMPOUND, SCALAR_NAME_MAX + 1 + 4 + 8));
        FS_H5(p, H5Tinsert(t, "name", 0, str));
        FS_H5(p, H5Tinsert(t, "type", SCALAR_NAME_MAX + 1, H5T_STD_I32LE));
        FS_H5(p, H5Tinsert(t, "bits", SCALAR_NAME_MAX + 1 + 4, H5T_STD_U64LE));
    } else {
        FS_H5(p, t = H5Tcreate(H5T_COMPOUND, sizeof(scalar_row)));
        FS_H5(p, H5Tinsert(t, "name", offsetof(scalar_row, name), str));
        FS_H5(p, H5Tinsert(t, "type", offsetof(scalar_row, type), H5T_NATIVE_INT32));
        FS_H5(p, H5Tinsert(t, "bits", offsetof(scalar_row, bits), H5T_NATIVE_UINT64));
    }
    *out = t;
    t = -1;
fail:
    fs_h5_close(p, &t, &st);
    fs_h5_close(p, &str, &st);
    return st;
}

/* Writes attribute `name` of `n` elements (n = 0: scalar) to loc. */
static fs_status put_attr(const char *p, hid_t loc, const char *name, hid_t ftype, hid_t mtype, int n, const void *v)
{
    fs_status st = FS_OK;
    hid_t sp = -1, a = -1;
    hsize_t dim = (hsize_t)n;
    FS_H5(p, sp = n > 0 ? H5Screate_simple(1, &dim, NULL) : H5Screate(H5S_SCALAR));
    FS_H5(p, a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT));
    FS_H5(p, H5Awrite(a, mtype, v));
fail:
    fs_h5_close(p, &a, &st);
    fs_h5_close(p, &sp, &st);
    return st;
}

/* Reads attribute `name` (n elements, n = 0: scalar) of loc, requiring its stored type to have class `cls` and
 * size `size` (and, for integers, signedness `sign`). Missing or of another type: FS_ERR_PARSE. */
static fs_status get_attr(const char *p, hid_t loc, const char *name, H5T_class_t cls, size_t size, H5T_sign_t sign,
                          hid_t mtype, int n, void *v)
{
    fs_status st = FS_OK;
    hid_t a = -1, t = -1, sp = -1;
    htri_t yes;
    hssize_t npoints;
    size_t tsize;
    H5T_class_t c;
    H5T_sign_t s = H5T_SGN_NONE;
    FS_H5(p, yes = H5Aexists(loc, name));
    if (!yes) return fs_fail(FS_ERR_PARSE, "%s: not a complete checkpoint: attribute '%s' is missing", p, name);
    FS_H5(p, a = H5Aopen(loc, name, H5P_DEFAULT));
    FS_H5(p, t = H5Aget_type(a));
    FS_H5(p, c = H5Tget_class(t));
    if (c == H5T_INTEGER) FS_H5(p, s = H5Tget_sign(t));
    FS_H5(p, sp = H5Aget_space(a));
    FS_H5(p, npoints = H5Sget_simple_extent_npoints(sp));
    if ((st = fs_h5_type_size(p, t, &tsize))) goto fail;
    if (c != cls || tsize != size || (cls == H5T_INTEGER && s != sign) || npoints != (n > 0 ? n : 1)) {
        st = fs_fail(FS_ERR_PARSE, "%s: checkpoint attribute '%s' is stored with another type or shape", p, name);
        goto fail;
    }
    FS_H5(p, H5Aread(a, mtype, v));
fail:
    fs_h5_close(p, &sp, &st);
    fs_h5_close(p, &t, &st);
    fs_h5_close(p, &a, &st);
    return st;
}

/* Writes a contiguous dataset of `nrows` rows (rank 2; rank 1 if nrows = 0) of `len` elements,
 * row r from rows[r]. */
static fs_status put_data(const char *p, hid_t loc, const char *name, hid_t ftype, hid_t mtype, int nrows, hsize_t len,
                          const void *const *rows)
{
    fs_status st = FS_OK;
    hid_t sp = -1, dcpl = -1, d = -1, fsp = -1, msp = -1;
    int rank = nrows > 0 ? 2 : 1;
    hsize_t dims[2] = {(hsize_t)nrows, len};
    FS_H5(p, sp = H5Screate_simple(rank, rank == 2 ? dims : dims + 1, NULL));
    FS_H5(p, dcpl = H5Pcreate(H5P_DATASET_CREATE));
    FS_H5(p, H5Pset_layout(dcpl, H5D_CONTIGUOUS));
    FS_H5(p, d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    if (len > 0) {
        FS_H5(p, msp = H5Screate_simple(1, &len, NULL));
        for (int r = 0; r < (nrows > 0 ? nrows : 1); ++r) {
            hsize_t start[2] = {(hsize_t)r, 0}, count[2] = {1, len};
            FS_H5(p, fsp = H5Dget_space(d));
            FS_H5(p, H5Sselect_hyperslab(fsp, H5S_SELECT_SET, rank == 2 ? start : start + 1, NULL,
                                         rank == 2 ? count : count + 1, NULL));
            FS_H5(p, H5Dwrite(d, mtype, msp, fsp, H5P_DEFAULT, rows[r]));
            fs_h5_close(p, &fsp, &st);
            if (st) goto fail;
        }
    }
fail:
    fs_h5_close(p, &fsp, &st);
    fs_h5_close(p, &msp, &st);
    fs_h5_close(p, &d, &st);
    fs_h5_close(p, &dcpl, &st);
    fs_h5_close(p, &sp, &st);
    return st;
}

/* Opens dataset `name` and returns its rank and dimensions (at most 2). */
static fs_status data_shape(const char *p, hid_t loc, const char *name, int *rank, hsize_t dims[2])
{
    fs_status st = FS_OK;
    hid_t d = -1, sp = -1;
    htri_t yes;
    dims[0] = dims[1] = 0;
    FS_H5(p, yes = H5Lexists(loc, name, H5P_DEFAULT));
    if (!yes) return fs_fail(FS_ERR_PARSE, "%s: not a complete checkpoint: dataset '%s' is missing", p, name);
    FS_H5(p, d = H5Dopen2(loc, name, H5P_DEFAULT));
    FS_H5(p, sp = H5Dget_space(d));
    FS_H5(p, *rank = H5Sget_simple_extent_ndims(sp));
    if (*rank >= 1 && *rank <= 2) FS_H5(p, H5Sget_simple_extent_dims(sp, dims, NULL));
fail:
    fs_h5_close(p, &sp, &st);
    fs_h5_close(p, &d, &st);
    return st;
}

/* Reads dataset `name` (shape checked by the caller) row by row into rows[] (nrows = 0: rank 1). */
static fs_status get_data(const char *p, hid_t loc, const char *name, hid_t mtype, int nrows, hsize_t len,
                          void *const *rows)
{
    fs_status st = FS_OK;
    hid_t d = -1, sp = -1, msp = -1;
    if (len == 0) return FS_OK;
    FS_H5(p, d = H5Dopen2(loc, name, H5P_DEFAULT));
    FS_H5(p, sp = H5Dget_space(d));
    FS_H5(p, msp = H5Screate_simple(1, &len, NULL));
    for (int r = 0; r < (nrows > 0 ? nrows : 1); ++r) {
        hsize_t start[2] = {(hsize_t)r, 0}, count[2] = {1, len};
        FS_H5(p, H5Sselect_hyperslab(sp, H5S_SELECT_SET, nrows > 0 ? start : start + 1, NULL,
                                     nrows > 0 ? count : count + 1, NULL));
        FS_H5(p, H5Dread(d, mtype, msp, sp, H5P_DEFAULT, rows[r]));
    }
fail:
    fs_h5_close(p, &msp, &st);
    fs_h5_close(p, &sp, &st);
    fs_h5_close(p, &d, &st);
    return st;
}

/* fsync on a path (a file, or a directory opened read-only). */
static fs_status sync_path(const char *path, const char *what)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return fs_fail(FS_ERR_IO, "%s: cannot open %s for fsync: %s", path, what, strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL) { /* EINVAL: this file system does not sync directories */
        int e = errno;
        close(fd);
        return fs_fail(FS_ERR_IO, "%s: fsync failed: %s", path, strerror(e));
    }
    close(fd);
    return FS_OK;
}

/* Writes n bytes to a new file `path` and fsyncs it; removes it on failure. */
static fs_status write_file(const char *path, const unsigned char *buf, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return fs_fail(FS_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            close(fd);
            remove(path);
            return fs_fail(FS_ERR_IO, "%s: write failed after %zu of %zu bytes: %s", path, done, n, strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        remove(path);
        return fs_fail(FS_ERR_IO, "%s: fsync failed: %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        remove(path);
        return fs_fail(FS_ERR_IO, "%s: close failed: %s", path, strerror(e));
    }
    return FS_OK;
}

/* ---- writing --------------------------------------------------------------------------------------------- */

static fs_status write_contents(const char *p, hid_t f, const fs_topology *top, const fs_state *s,
                                const fs_ckpt_scalar *sc, int n, const fs_ckpt_history *hist)
{
    fs_status st = FS_OK;
    hid_t ftype = -1, mtype = -1;
    header hd = {FS_CHECKPOINT_VERSION, s->natoms, top->natoms, s->step, fs_checkpoint_topology_hash(top), {0}};
    scalar_row *rows = calloc((size_t)(n > 0 ? n : 1), sizeof *rows);
    if (!rows) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", p);
    for (int d = 0; d < 3; ++d) hd.periodic[d] = s->box.periodic[d] != 0;
    for (int k = 0; k < n; ++k) {
        strcpy(rows[k].name, sc[k].name);
        rows[k].type = (int32_t)sc[k].type;
        rows[k].bits = sc[k].u; /* the union's 64 bits, whatever the type */
    }
    if ((st = fs_h5_attr_fixstr(p, f, "format", FORMAT_NAME))) goto fail;
    if ((st = put_attr(p, f, "version", H5T_STD_I32LE, H5T_NATIVE_INT32, 0, &hd.version))) goto fail;
    if ((st = put_attr(p, f, "natoms", H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &hd.natoms))) goto fail;
    if ((st = put_attr(p, f, "topology_natoms", H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &hd.topology_natoms))) goto fail;
    if ((st = put_attr(p, f, "topology_hash", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, &hd.topology_hash))) goto fail;
    if ((st = put_attr(p, f, "step", H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &hd.step))) goto fail;
    if ((st = put_attr(p, f, "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &s->time))) goto fail;
    if ((st = put_attr(p, f, "box_length", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, s->box.len))) goto fail;
    if ((st = put_attr(p, f, "box_periodic", H5T_STD_I32LE, H5T_NATIVE_INT32, 3, hd.periodic))) goto fail;
    const void *r[3] = {s->r[0], s->r[1], s->r[2]}, *v[3] = {s->v[0], s->v[1], s->v[2]}, *id[1] = {s->id};
    const hsize_t na = (hsize_t)s->natoms;
    if ((st = put_data(p, f, "position", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, na, r))) goto fail;
    if ((st = put_data(p, f, "velocity", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, na, v))) goto fail;
    _Static_assert(sizeof(long) == 8, "fs_state.id is stored as int64");
    if ((st = put_data(p, f, "id", H5T_STD_I64LE, H5T_NATIVE_LONG, 0, na, id))) goto fail;
    if ((st = row_type(p, 1, &ftype)) || (st = row_type(p, 0, &mtype))) goto fail;
    const void *table[1] = {rows};
    if ((st = put_data(p, f, "scalars", ftype, mtype, 0, (hsize_t)n, table))) goto fail;
    if (hist && hist->bytes > 0) {
        const void *blob[1] = {hist->data};
        if ((st = fs_h5_attr_fixstr(p, f, "history_backend", hist->backend))) goto fail;
        st = put_data(p, f, "backend_history", H5T_STD_U8LE, H5T_NATIVE_UINT8, 0, (hsize_t)hist->bytes, blob);
    }
fail:
    fs_h5_close(p, &mtype, &st);
    fs_h5_close(p, &ftype, &st);
    free(rows);
    return st;
}

fs_status fs_checkpoint_write(const char *path, const fs_topology *top, const fs_state *s,
                              const fs_ckpt_scalar *scalars, int n)
{
    return fs_checkpoint_write_history(path, top, s, scalars, n, NULL);
}

fs_status fs_checkpoint_write_history(const char *path, const fs_topology *top, const fs_state *s,
                                      const fs_ckpt_scalar *scalars, int n, const fs_ckpt_history *history)
{
    fs_status st;
    hid_t fapl = -1, fcpl = -1, f = -1;
    char *tmp = NULL;
    unsigned char *image = NULL;
    ssize_t size = 0;
    fs_h5_quiet();
    if (!path || !top || !s) return fs_fail(FS_ERR_INVALID, "fs_checkpoint_write: NULL argument");
    if (s->natoms != top->natoms || s->natoms < 1)
        return fs_fail(FS_ERR_INVALID, "%s: the state has %d atoms, the topology %d", path, s->natoms, top->natoms);
    if ((st = check_scalars(path, scalars, n))) return st;
    if (history && history->bytes > 0 &&
        (!history->data || !history->backend[0] || memchr(history->backend, 0, sizeof history->backend) == NULL))
        return fs_fail(FS_ERR_INVALID, "%s: a backend history needs data and a backend name", path);
    tmp = malloc(strlen(path) + 5);
    if (!tmp) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    sprintf(tmp, "%s.tmp", path);
    /* build the file in memory (HDF5's core driver, no backing store): HDF5 itself never meets an I/O error */
    FS_H5(path, fapl = H5Pcreate(H5P_FILE_ACCESS));
    FS_H5(path, H5Pset_fapl_core(fapl, 1 << 20, 0));
    FS_H5(path, fcpl = H5Pcreate(H5P_FILE_CREATE));
    FS_H5(path, H5Pset_userblock(fcpl, USERBLOCK));
    FS_H5(path, f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl));
    if ((st = write_contents(path, f, top, s, scalars, n, history))) goto fail;
    FS_H5(path, H5Fflush(f, H5F_SCOPE_LOCAL));
    FS_H5(path, size = H5Fget_file_image(f, NULL, 0));
    image = malloc(USERBLOCK + (size_t)size); /* H5Fget_file_image leaves the user block out: we put it in front */
    if (!image) {
        st = fs_fail(FS_ERR_NOMEM, "%s: out of memory for a checkpoint of %zd bytes", path, size);
        goto fail;
    }
    FS_H5(path, H5Fget_file_image(f, image + USERBLOCK, (size_t)size));
    fs_h5_close(path, &f, &st);
    fs_h5_close(path, &fcpl, &st);
    fs_h5_close(path, &fapl, &st);
    if (st) goto fail;
    seal(image, USERBLOCK + (size_t)size);
    /* then the image to <path>.tmp, fsync, rename over path, fsync the directory */
    if ((st = write_file(tmp, image, USERBLOCK + (size_t)size))) goto fail;
    if (rename(tmp, path) != 0) {
        st = fs_fail(FS_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
        remove(tmp);
        goto fail;
    }
    char *slash = strrchr(tmp, '/');
    if (slash == tmp)
        tmp[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(tmp, ".");
    st = sync_path(tmp, "its directory");
fail:
    fs_h5_close(path, &f, &st);
    fs_h5_close(path, &fcpl, &st);
    fs_h5_close(path, &fapl, &st);
    free(image);
    free(tmp);
    return st;
}

/* ---- reading --------------------------------------------------------------------------------------------- */

static fs_status read_header(const char *p, hid_t f, header *hd, fs_box *box, double *time)
{
    fs_status st = FS_OK;
    hid_t t = -1, a = -1;
    char format[64] = "";
    htri_t yes, vl = 0;
    H5T_class_t cls = H5T_NO_CLASS;
    size_t len = 0;
    FS_H5(p, yes = H5Aexists(f, "format"));
    if (yes) {
        FS_H5(p, a = H5Aopen(f, "format", H5P_DEFAULT));
        FS_H5(p, t = H5Aget_type(a));
        FS_H5(p, cls = H5Tget_class(t));
        if (cls == H5T_STRING) FS_H5(p, vl = H5Tis_variable_str(t));
        if ((st = fs_h5_type_size(p, t, &len))) goto fail;
        if (cls == H5T_STRING && !vl && len < sizeof format) FS_H5(p, H5Aread(a, t, format));
    }
    if (strcmp(format, FORMAT_NAME) != 0) {
        st = fs_fail(FS_ERR_PARSE, "%s: not a ferrosolv checkpoint (no format attribute '%s')", p, FORMAT_NAME);
        goto fail;
    }
    if ((st = get_attr(p, f, "version", H5T_INTEGER, 4, H5T_SGN_2, H5T_NATIVE_INT32, 0, &hd->version))) goto fail;
    if (hd->version != FS_CHECKPOINT_VERSION) {
        st = fs_fail(FS_ERR_PARSE, "%s: checkpoint format version %d, this program reads version %d", p,
                     (int)hd->version, FS_CHECKPOINT_VERSION);
        goto fail;
    }
#define GET(name, cls, size, sign, mtype, count, dst)                                                                  \
    if ((st = get_attr(p, f, name, cls, size, sign, mtype, count, dst))) goto fail
    GET("natoms", H5T_INTEGER, 8, H5T_SGN_2, H5T_NATIVE_INT64, 0, &hd->natoms);
    GET("topology_natoms", H5T_INTEGER, 8, H5T_SGN_2, H5T_NATIVE_INT64, 0, &hd->topology_natoms);
    GET("topology_hash", H5T_INTEGER, 8, H5T_SGN_NONE, H5T_NATIVE_UINT64, 0, &hd->topology_hash);
    GET("step", H5T_INTEGER, 8, H5T_SGN_2, H5T_NATIVE_INT64, 0, &hd->step);
    GET("time", H5T_FLOAT, 8, H5T_SGN_NONE, H5T_NATIVE_DOUBLE, 0, time);
    GET("box_length", H5T_FLOAT, 8, H5T_SGN_NONE, H5T_NATIVE_DOUBLE, 3, box->len);
    GET("box_periodic", H5T_INTEGER, 4, H5T_SGN_2, H5T_NATIVE_INT32, 3, hd->periodic);
#undef GET
fail:
    fs_h5_close(p, &t, &st);
    fs_h5_close(p, &a, &st);
    return st;
}

static fs_status damaged(const char *p, const char *what)
{
    return fs_fail(FS_ERR_IO, "%s: the checkpoint is damaged (%s)", p, what);
}

/* The backend history, if the file holds one. */
static fs_status read_history(const char *p, hid_t f, fs_ckpt_history *h)
{
    fs_status st = FS_OK;
    hid_t t = -1, a = -1;
    htri_t yes, vl = 0;
    size_t len = 0;
    int rank;
    hsize_t dims[2];
    FS_H5(p, yes = H5Lexists(f, "backend_history", H5P_DEFAULT));
    if (!yes) return FS_OK;
    FS_H5(p, yes = H5Aexists(f, "history_backend"));
    if (!yes) return damaged(p, "backend history without its backend's name");
    FS_H5(p, a = H5Aopen(f, "history_backend", H5P_DEFAULT));
    FS_H5(p, t = H5Aget_type(a));
    if (H5Tget_class(t) == H5T_STRING) FS_H5(p, vl = H5Tis_variable_str(t));
    if ((st = fs_h5_type_size(p, t, &len))) goto fail;
    if (H5Tget_class(t) != H5T_STRING || vl || len >= sizeof h->backend) {
        st = damaged(p, "bad backend name of the history");
        goto fail;
    }
    FS_H5(p, H5Aread(a, t, h->backend));
    h->backend[len] = '\0';
    if ((st = data_shape(p, f, "backend_history", &rank, dims))) goto fail;
    if (rank != 1 || dims[0] == 0 || dims[0] > ((hsize_t)1 << 34)) {
        st = damaged(p, "bad backend history");
        goto fail;
    }
    h->data = malloc((size_t)dims[0]);
    if (!h->data) {
        st = fs_fail(FS_ERR_NOMEM, "%s: out of memory", p);
        goto fail;
    }
    h->bytes = (size_t)dims[0];
    void *rows[1] = {h->data};
    st = get_data(p, f, "backend_history", H5T_NATIVE_UINT8, 0, dims[0], rows);
fail:
    fs_h5_close(p, &t, &st);
    fs_h5_close(p, &a, &st);
    if (st != FS_OK) {
        free(h->data);
        memset(h, 0, sizeof *h);
    }
    return st;
}

static fs_status read_contents(const char *p, hid_t f, const fs_topology *top, fs_state **out, fs_ckpt_scalar *sc,
                               int n, fs_ckpt_history *hist)
{
    fs_status st = FS_OK;
    hid_t mtype = -1;
    header hd;
    fs_box box;
    double time;
    fs_state *s = NULL;
    scalar_row *rows = NULL;
    int rank;
    hsize_t dims[2];
    if ((st = read_header(p, f, &hd, &box, &time))) goto fail;
    /* shapes first, so that nothing is allocated from a damaged count */
    if ((st = data_shape(p, f, "position", &rank, dims))) goto fail;
    if (rank != 2 || dims[0] != 3 || (int64_t)dims[1] != hd.natoms || hd.natoms < 1 || hd.natoms > 0x7fffffff) {
        st = damaged(p, "position does not hold natoms atoms");
        goto fail;
    }
    for (int k = 0; k < 2; ++k) {
        const char *name = k ? "id" : "velocity";
        if ((st = data_shape(p, f, name, &rank, dims))) goto fail;
        if (rank != 2 - k || dims[0] != (k ? (hsize_t)hd.natoms : 3) || (!k && (int64_t)dims[1] != hd.natoms)) {
            st = damaged(p, k ? "id does not hold natoms atoms" : "velocity does not hold natoms atoms");
            goto fail;
        }
    }
    if ((st = data_shape(p, f, "scalars", &rank, dims))) goto fail;
    if (rank != 1 || dims[0] > 100000) {
        st = damaged(p, "bad scalar table");
        goto fail;
    }
    int nrows = (int)dims[0];
    rows = calloc((size_t)(nrows > 0 ? nrows : 1), sizeof *rows);
    if (!rows) {
        st = fs_fail(FS_ERR_NOMEM, "%s: out of memory", p);
        goto fail;
    }
    if ((st = fs_state_create((int)hd.natoms, (int)hd.natoms, &s))) goto fail;
    s->step = (long)hd.step;
    s->time = time;
    s->box = box;
    for (int d = 0; d < 3; ++d) s->box.periodic[d] = hd.periodic[d] != 0;
    void *r[3] = {s->r[0], s->r[1], s->r[2]}, *v[3] = {s->v[0], s->v[1], s->v[2]}, *id[1] = {s->id}, *tab[1] = {rows};
    const hsize_t na = (hsize_t)hd.natoms;
    if ((st = get_data(p, f, "position", H5T_NATIVE_DOUBLE, 3, na, r))) goto fail;
    if ((st = get_data(p, f, "velocity", H5T_NATIVE_DOUBLE, 3, na, v))) goto fail;
    if ((st = get_data(p, f, "id", H5T_NATIVE_LONG, 0, na, id))) goto fail;
    if ((st = row_type(p, 0, &mtype))) goto fail;
    if ((st = get_data(p, f, "scalars", mtype, 0, (hsize_t)nrows, tab))) goto fail;
    for (int k = 0; k < nrows; ++k) rows[k].name[SCALAR_NAME_MAX] = '\0';
    /* is it this system's? */
    if (hd.topology_natoms != top->natoms || hd.natoms != top->natoms) {
        st = fs_fail(FS_ERR_INVALID, "%s: the checkpoint holds %lld atoms (topology of %lld), this topology has %d", p,
                     (long long)hd.natoms, (long long)hd.topology_natoms, top->natoms);
        goto fail;
    }
    if (hd.topology_hash != fs_checkpoint_topology_hash(top)) {
        st = fs_fail(FS_ERR_INVALID,
                     "%s: the checkpoint was written for another topology with the same atom count (types, charges, "
                     "masses or names differ)",
                     p);
        goto fail;
    }
    for (int k = 0; k < n; ++k) {
        int j = 0;
        while (j < nrows && strcmp(rows[j].name, sc[k].name) != 0) j++;
        if (j == nrows) {
            st = fs_fail(FS_ERR_PARSE, "%s: checkpoint has no scalar '%s'", p, sc[k].name);
            goto fail;
        }
        if (rows[j].type != (int32_t)sc[k].type) {
            st = fs_fail(FS_ERR_PARSE, "%s: checkpoint scalar '%s' is %s, not %s", p, sc[k].name,
                         type_name(rows[j].type), type_name(sc[k].type));
            goto fail;
        }
        sc[k].u = rows[j].bits;
    }
    if (hist) st = read_history(p, f, hist);
fail:
    fs_h5_close(p, &mtype, &st);
    free(rows);
    if (st == FS_OK)
        *out = s;
    else
        fs_state_destroy(&s);
    return st;
}

fs_status fs_checkpoint_read(const char *path, const fs_topology *top, fs_state **out, fs_ckpt_scalar *scalars, int n)
{
    return fs_checkpoint_read_history(path, top, out, scalars, n, NULL);
}

fs_status fs_checkpoint_read_history(const char *path, const fs_topology *top, fs_state **out, fs_ckpt_scalar *scalars,
                                     int n, fs_ckpt_history *history)
{
    fs_status st = FS_OK;
    hid_t fapl = -1, f = -1;
    unsigned char *image = NULL;
    char *name = NULL;
    size_t size = 0;
    if (out) *out = NULL;
    if (history) memset(history, 0, sizeof *history);
    fs_h5_quiet();
    if (!path || !top || !out) return fs_fail(FS_ERR_INVALID, "fs_checkpoint_read: NULL argument");
    if ((st = check_scalars(path, scalars, n))) return st;
    if ((st = slurp(path, &image, &size))) return st;
    if ((st = check_seal(path, image, size))) goto fail;
    /* HDF5 opens the verified bytes from memory; the core driver refuses a file image under the name of a file
     * that exists on disk, so the image gets a name of its own */
    name = malloc(strlen(path) + 8);
    if (!name) {
        st = fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    sprintf(name, "%s#image", path);
    FS_H5(path, fapl = H5Pcreate(H5P_FILE_ACCESS));
    FS_H5(path, H5Pset_fapl_core(fapl, 1 << 20, 0));
    FS_H5(path, H5Pset_file_image(fapl, image, size));
    FS_H5(path, H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG));
    FS_H5(path, f = H5Fopen(name, H5F_ACC_RDONLY, fapl));
    st = read_contents(path, f, top, out, scalars, n, history);
fail:
    fs_h5_close(path, &f, &st);
    fs_h5_close(path, &fapl, &st);
    free(image);
    free(name);
    if (st != FS_OK && out) fs_state_destroy(out);
    if (st != FS_OK && history) {
        free(history->data);
        memset(history, 0, sizeof *history);
    }
    return st;
}
