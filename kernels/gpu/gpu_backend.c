/*
 * gpu_backend.c — the device backend's life cycle: one implementation of fs_backend_ops for OpenCL and CUDA.
 *
 * The backend is written once against the device API table of gpu_api.h; fs_opencl_backend and fs_cuda_backend
 * differ only in the table they use. This file owns what every module shares:
 *   - the program: the kernels of kernels/common, compiled at run time with the system's sizes and constants as
 *     #defines (gpu_build_defines). The defines depend on the box's periodic axes, so the program is built, and the
 *     modules created, at the first upload();
 *   - the master state on the device: positions and velocities as double 4-vectors (velocity .w = 1/m, 0 for
 *     frozen atoms), forces and every energy, virial and kinetic sum in 64-bit fixed point (kernels/common/
 *     _fixed.kernel), and an int flag buffer through which kernels report errors and list rebuilds;
 *   - the force evaluation order: zero forces and energy slots, then nonbonded, bonded, PME (gpu_evaluate);
 *   - transfers: positions, velocities and forces are copied only by upload() and download(), i.e. on output,
 *     analysis and checkpoint steps; observe() reads the small energy buffer.
 * Host-side constants join the device sums in observe()/compute(): the long-range dispersion correction
 * (core/dispcorr.c) and the energy of the neutralizing background of a charged system (core/ewald_setup.c), both
 * functions of the volume only, exactly as the CPU reference adds them.
 *
 * Choices made from the environment (the backend interface has no slot for them; the run deck will):
 *   FERROSOLV_PRECISION = mixed (default: float forces, double integration, fixed-point sums) | double
 *   FERROSOLV_DEVICE    = index in `ferrosolv devices` order (default: the API's best device)
 *   FERROSOLV_PROFILE   = 1: per-kernel timers (bench)
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/dispcorr.h"
#include "../../core/ewald_setup.h"
#include "../../core/integrate.h"
#include "../../core/units.h"
#include "gpu_backend.h"
#include "gpu_backend_impl.h"

/* ---- defines ------------------------------------------------------------------------------------------------ */

static void define_text(gpu_defines *d, const char *fmt, ...)
{
    if (d->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = d->cap - d->len;
        int n = d->text ? vsnprintf(d->text + d->len, room, fmt, ap) : -1;
        va_end(ap);
        if (d->text && n >= 0 && (size_t)n < room) {
            d->len += (size_t)n;
            return;
        }
        size_t cap = d->cap ? 2 * d->cap : 4096;
        if (n >= 0 && (size_t)n + d->len + 1 > cap) cap = (size_t)n + d->len + 1;
        char *t = realloc(d->text, cap);
        if (!t) {
            d->oom = 1;
            return;
        }
        if (!d->text) t[0] = '\0';
        d->text = t;
        d->cap = cap;
    }
}

void gpu_define_int(gpu_defines *d, const char *name, long value)
{
    define_text(d, "#define %s %ld\n", name, value);
}

void gpu_define_real(gpu_defines *d, const char *name, double value)
{
    define_text(d, "#define %s %.17g\n", name, value);
}

static int padded_count(int n)
{
    return ((n > 0 ? n : 1) + 63) / 64 * 64;
}

fs_status gpu_build_defines(const fs_topology *top, const fs_forceparams *p, const int periodic[3], int use_double,
                            gpu_defines *out)
{
    memset(out, 0, sizeof *out);
    gpu_define_int(out, "USE_DOUBLE", use_double ? 1 : 0);
    gpu_define_int(out, "NATOMS", top->natoms);
    gpu_define_int(out, "PADDED_NATOMS", padded_count(top->natoms));
    gpu_define_int(out, "NMOLECULES", top->nmolecules);
    gpu_define_int(out, "PERIODIC_X", periodic[0] != 0);
    gpu_define_int(out, "PERIODIC_Y", periodic[1] != 0);
    gpu_define_int(out, "PERIODIC_Z", periodic[2] != 0);
    static const struct {
        const char *name;
        long value;
    } slots[] = {{"GPU_E_TERM", GPU_E_TERM},
                 {"GPU_E_VIRIAL", GPU_E_VIRIAL},
                 {"GPU_E_CONS_VIRIAL", GPU_E_CONS_VIRIAL},
                 {"GPU_E_EKIN", GPU_E_EKIN},
                 {"GPU_E_THERMO_WORK", GPU_E_THERMO_WORK},
                 {"GPU_E_SCRATCH", GPU_E_SCRATCH},
                 {"GPU_ENERGY_SLOTS", GPU_ENERGY_SLOTS},
                 {"GPU_F_ERROR", GPU_F_ERROR},
                 {"GPU_F_ERROR_ATOM", GPU_F_ERROR_ATOM},
                 {"GPU_F_ERROR_STEP", GPU_F_ERROR_STEP},
                 {"GPU_F_REBUILD", GPU_F_REBUILD},
                 {"GPU_F_LIST_OVERFLOW", GPU_F_LIST_OVERFLOW},
                 {"GPU_F_MODULE", GPU_F_MODULE},
                 {"GPU_FLAG_SLOTS", GPU_FLAG_SLOTS},
                 {"GPU_ERR_MOVED", GPU_ERR_MOVED},
                 {"GPU_ERR_NONFINITE", GPU_ERR_NONFINITE},
                 {"GPU_ERR_CONSTRAINT", GPU_ERR_CONSTRAINT}};
    for (size_t k = 0; k < sizeof slots / sizeof slots[0]; ++k) gpu_define_int(out, slots[k].name, slots[k].value);
    static const char *const term_names[FS_TERM_COUNT] = {
        "TERM_LJ_SR",       "TERM_DISPCORR", "TERM_COUL_SR",    "TERM_COUL_RECIP", "TERM_BOND",
        "TERM_ANGLE",       "TERM_UB",       "TERM_PROPER_DIH", "TERM_RB",         "TERM_IMPROPER_DIH",
        "TERM_PER_IMP_DIH", "TERM_LJ14",     "TERM_COUL14"};
    for (int t = 0; t < FS_TERM_COUNT; ++t) gpu_define_int(out, term_names[t], t);
    fs_status st = gpu_nonbonded_defines(top, p, use_double, out);
    if (st == FS_OK) st = gpu_pme_defines(top, p, use_double, out);
    if (st == FS_OK) st = gpu_bonded_defines(top, p, use_double, out);
    if (st == FS_OK) st = gpu_constraints_defines(top, p, use_double, out);
    if (st == FS_OK) st = gpu_dynamics_defines(top, p, use_double, out);
    if (st == FS_OK && out->oom) st = fs_fail(FS_ERR_NOMEM, "out of memory for the kernels' #defines");
    if (st != FS_OK) {
        free(out->text);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* ---- helpers for the modules -------------------------------------------------------------------------------- */

fs_status gpu_get_kernel(gpu_backend *g, const char *name, gpu_kernel **out)
{
    *out = NULL;
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "kernel %s asked for before the program was built", name);
    fs_status st = g->api->kernel(g->prog, name, out);
    if (st != FS_OK) return st;
    if (g->nkernels == g->kernels_cap) {
        int cap = g->kernels_cap ? 2 * g->kernels_cap : 64;
        void *t = realloc(g->kernels, (size_t)cap * sizeof *g->kernels);
        if (!t) return FS_OK; /* the timers will miss this kernel; nothing else depends on the registry */
        g->kernels = t;
        g->kernels_cap = cap;
    }
    snprintf(g->kernels[g->nkernels].name, sizeof g->kernels[g->nkernels].name, "%s", name);
    g->kernels[g->nkernels++].k = *out;
    return FS_OK;
}

void gpu_register_fft(gpu_backend *g, gpu_fft *fft)
{
    if (g->nffts < (int)(sizeof g->ffts / sizeof g->ffts[0])) g->ffts[g->nffts++] = fft;
}

void gpu_unregister_fft(gpu_backend *g, gpu_fft *fft)
{
    for (int i = 0; i < g->nffts; ++i)
        if (g->ffts[i] == fft) g->ffts[i] = g->ffts[--g->nffts];
}

fs_status gpu_args(gpu_backend *g, gpu_kernel *k, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    fs_status st = FS_OK;
    for (int i = 0; i < n && st == FS_OK; ++i) {
        gpu_arg_item it = va_arg(ap, gpu_arg_item);
        st = it.buf || !it.value ? g->api->arg_buf(k, i, it.buf) : g->api->arg(k, i, it.bytes, it.value);
    }
    va_end(ap);
    return st;
}

fs_status gpu_run(gpu_backend *g, gpu_kernel *k, size_t n, size_t local)
{
    if (n == 0) return FS_OK;
    size_t global = local ? (n + local - 1) / local * local : n;
    return g->api->launch(g->dev, k, global, local);
}

void gpu_box_args(const gpu_backend *g, gpu_float4 *box_f, gpu_float4 *inv_f, gpu_double4 *box_d, gpu_double4 *inv_d)
{
    for (int d = 0; d < 4; ++d) {
        double len = d < 3 ? g->box[d] : 0.0;
        double inv = d < 3 && len > 0.0 ? 1.0 / len : 0.0;
        if (box_f) box_f->v[d] = (float)len;
        if (inv_f) inv_f->v[d] = (float)inv;
        if (box_d) box_d->v[d] = len;
        if (inv_d) inv_d->v[d] = inv;
    }
}

fs_status gpu_alloc(gpu_backend *g, size_t bytes, const char *what, gpu_buf **out)
{
    fs_status st = g->api->alloc(g->dev, bytes ? bytes : 8, out);
    if (st != FS_OK)
        return bytes >= 1048576
                   ? fs_fail_context(st, "out of device memory for %s (%.1f MiB)", what, (double)bytes / 1048576.0)
                   : fs_fail_context(st, "out of device memory for %s (%.1f KiB)", what, (double)bytes / 1024.0);
    return FS_OK;
}

/* The energy buffer is followed by as many guard slots, which no kernel may touch: a reduction that writes past
 * its slots (a work-group reduction gone wrong) is caught at the next read instead of corrupting other memory. */
#define GUARD_SLOTS GPU_ENERGY_SLOTS

fs_status gpu_read_energy(gpu_backend *g, double out[GPU_ENERGY_SLOTS])
{
    long long raw[GPU_ENERGY_SLOTS + GUARD_SLOTS];
    fs_status st = g->api->read(g->dev, g->energy, 0, sizeof raw, raw);
    if (st != FS_OK) return st;
    for (int k = GPU_ENERGY_SLOTS; k < GPU_ENERGY_SLOTS + GUARD_SLOTS; ++k)
        if (raw[k] != 0)
            return fs_fail(FS_ERR_NUMERIC,
                           "%s backend: a kernel wrote past the energy slots (guard slot %d): a device "
                           "code defect, please report it",
                           g->api->name, k);
    for (int k = 0; k < GPU_ENERGY_SLOTS; ++k) out[k] = (double)raw[k] / 4294967296.0;
    return FS_OK;
}

fs_status gpu_read_flags(gpu_backend *g, int out[GPU_FLAG_SLOTS])
{
    return g->api->read(g->dev, g->flags, 0, GPU_FLAG_SLOTS * sizeof(int), out);
}

fs_status gpu_evaluate(gpu_backend *g, unsigned flags)
{
    const gpu_api *api = g->api;
    g->forces_valid = 0;
    fs_status st = api->fill_zero(g->dev, g->force, 3 * (size_t)g->padded * sizeof(long long));
    /* the energy and force-virial slots; the constraint virial, kinetic sums and thermostat work are the dynamics'
     */
    if (st == FS_OK) st = api->fill_zero(g->dev, g->energy, (size_t)GPU_E_CONS_VIRIAL * sizeof(long long));
    if (st == FS_OK) st = gpu_nonbonded_compute(g->nb, flags);
    if (st == FS_OK) st = gpu_bonded_compute(g->bonded, flags);
    if (st == FS_OK) st = gpu_pme_compute(g->pme, flags);
    if (st == FS_OK) {
        g->forces_valid = 1;
        g->valid_flags = flags | FS_COMPUTE_FORCES;
    }
    return st;
}

/* ---- life cycle --------------------------------------------------------------------------------------------- */

static void release_program(gpu_backend *g)
{
    gpu_dynamics_destroy(g);
    gpu_constraints_destroy(&g->cons);
    gpu_pme_destroy(&g->pme);
    gpu_bonded_destroy(&g->bonded);
    gpu_nonbonded_destroy(&g->nb);
    if (g->api) g->api->program_release(&g->prog);
    g->nkernels = 0; /* the modules released their kernels */
    g->nffts = 0;
}

static void gpu_destroy(fs_backend **b)
{
    if (!b || !*b) return;
    gpu_backend *g = (gpu_backend *)*b;
    release_program(g);
    if (g->api) {
        g->api->release(&g->pos);
        g->api->release(&g->vel);
        g->api->release(&g->force);
        g->api->release(&g->energy);
        g->api->release(&g->flags);
        g->api->release(&g->charge);
        g->api->close(&g->dev);
    }
    free(g->kernels);
    free(g);
    *b = NULL;
}

static int env_index(const char *name, int fallback)
{
    const char *s = getenv(name);
    if (!s || !*s) return fallback;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < 0 || v > 1000 ? -2 : (int)v;
}

fs_status gpu_backend_create(const gpu_api *api, const fs_backend_ops *ops, const fs_topology *top,
                             const fs_forceparams *p, fs_backend **out)
{
    *out = NULL;
    if (p->rcoulomb <= 0 || p->rvdw <= 0 || p->verlet_buffer < 0)
        return fs_fail(FS_ERR_INVALID, "cut-offs must be positive (rcoulomb %g, rvdw %g, buffer %g)", p->rcoulomb,
                       p->rvdw, p->verlet_buffer);
    if (p->pme_order < 3 || p->pme_order > 12)
        return fs_fail(FS_ERR_INVALID, "pme-order %d is outside 3..12", p->pme_order);
    const char *prec = getenv("FERROSOLV_PRECISION");
    int use_double = 0;
    if (prec && *prec && strcmp(prec, "mixed") != 0) {
        if (strcmp(prec, "double") != 0)
            return fs_fail(FS_ERR_INVALID, "FERROSOLV_PRECISION is '%s': use mixed or double", prec);
        use_double = 1;
    }
    int index = env_index("FERROSOLV_DEVICE", -1);
    if (index == -2) return fs_fail(FS_ERR_INVALID, "FERROSOLV_DEVICE must be a device index (ferrosolv devices)");
    const char *prof = getenv("FERROSOLV_PROFILE");

    gpu_backend *g = calloc(1, sizeof *g);
    if (!g) return fs_fail(FS_ERR_NOMEM, "out of memory creating the %s backend", api->name);
    g->base.ops = ops;
    g->api = api;
    g->top = top;
    g->p = *p;
    g->use_double = use_double;
    g->natoms = top->natoms;
    g->padded = padded_count(top->natoms);
    g->beta = fs_ewald_beta(p->rcoulomb, p->ewald_rtol);
    g->rlist = fmax(p->rcoulomb, p->rvdw) + p->verlet_buffer;
    fs_status st = FS_OK;
    if (!isfinite(g->beta) || g->beta <= 0.0)
        st = fs_fail(FS_ERR_INVALID, "no Ewald splitting parameter for rcoulomb %g and ewald-rtol %g", p->rcoulomb,
                     p->ewald_rtol);
    if (st == FS_OK) st = fs_dispcorr_prepare(top, &g->dc);
    if (st == FS_OK) st = api->open(index, prof && !strcmp(prof, "1"), &g->dev);
    if (st == FS_OK && use_double && !api->info(g->dev)->has_double)
        st = fs_fail(FS_ERR_UNSUPPORTED, "%s device %s has no double precision (FERROSOLV_PRECISION=double)", api->name,
                     api->info(g->dev)->name);
    size_t n = (size_t)g->padded;
    if (st == FS_OK) st = gpu_alloc(g, n * 4 * sizeof(double), "positions", &g->pos);
    if (st == FS_OK) st = gpu_alloc(g, n * 4 * sizeof(double), "velocities", &g->vel);
    if (st == FS_OK) st = gpu_alloc(g, 3 * n * sizeof(long long), "forces", &g->force);
    if (st == FS_OK) st = gpu_alloc(g, 2 * GPU_ENERGY_SLOTS * sizeof(long long), "energies", &g->energy);
    if (st == FS_OK) st = gpu_alloc(g, GPU_FLAG_SLOTS * sizeof(int), "flags", &g->flags);
    if (st == FS_OK) st = gpu_alloc(g, n * (use_double ? sizeof(double) : sizeof(float)), "charges", &g->charge);
    if (st == FS_OK) st = api->fill_zero(g->dev, g->pos, n * 4 * sizeof(double));
    if (st == FS_OK) st = api->fill_zero(g->dev, g->vel, n * 4 * sizeof(double));
    if (st == FS_OK) st = api->fill_zero(g->dev, g->energy, 2 * GPU_ENERGY_SLOTS * sizeof(long long));
    if (st == FS_OK) st = api->fill_zero(g->dev, g->flags, GPU_FLAG_SLOTS * sizeof(int));
    if (st == FS_OK) {
        void *q = calloc(n, use_double ? sizeof(double) : sizeof(float));
        if (!q) st = fs_fail(FS_ERR_NOMEM, "out of memory for %d charges", g->natoms);
        for (int i = 0; q && i < g->natoms; ++i) {
            if (use_double)
                ((double *)q)[i] = top->atoms[i].charge;
            else
                ((float *)q)[i] = (float)top->atoms[i].charge;
        }
        if (st == FS_OK) st = api->write(g->dev, g->charge, 0, n * (use_double ? sizeof(double) : sizeof(float)), q);
        free(q);
    }
    if (st != FS_OK) {
        fs_backend *b = &g->base;
        gpu_destroy(&b);
        return st;
    }
    *out = &g->base;
    return FS_OK;
}

/* Builds the program for these periodic axes and creates the modules (first upload, or a change of axes). */
static fs_status build_program(gpu_backend *g, const int periodic[3])
{
    release_program(g);
    gpu_defines d;
    fs_status st = gpu_build_defines(g->top, &g->p, periodic, g->use_double, &d);
    if (st != FS_OK) return st;
    st = g->api->build(g->dev, d.text, fs_gpu_kernel_source, &g->prog);
    free(d.text);
    if (st != FS_OK) return st;
    memcpy(g->periodic, periodic, sizeof g->periodic);
    st = gpu_nonbonded_create(g, &g->nb);
    if (st == FS_OK) st = gpu_bonded_create(g, &g->bonded);
    if (st == FS_OK) st = gpu_pme_create(g, &g->pme);
    if (st == FS_OK && g->have_dyn_params) st = gpu_dynamics_set(g, &g->dyn_params);
    if (st != FS_OK) release_program(g);
    return st;
}

static fs_status gpu_upload(fs_backend *b, const fs_state *s)
{
    gpu_backend *g = (gpu_backend *)b;
    if (s->natoms != g->natoms) return fs_fail(FS_ERR_INVALID, "state has %d atoms, topology %d", s->natoms, g->natoms);
    fs_status st = FS_OK;
    if (!g->prog || memcmp(g->periodic, s->box.periodic, sizeof g->periodic) != 0)
        st = build_program(g, s->box.periodic);
    if (st != FS_OK) return st;
    size_t n = (size_t)g->padded;
    double *buf = calloc(n * 4, sizeof(double));
    if (!buf) return fs_fail(FS_ERR_NOMEM, "out of memory uploading %d atoms", g->natoms);
    for (int i = 0; i < g->natoms; ++i)
        for (int d = 0; d < 3; ++d) buf[4 * i + d] = s->r[d][i];
    st = g->api->write(g->dev, g->pos, 0, n * 4 * sizeof(double), buf);
    for (int i = 0; i < g->natoms; ++i) {
        const fs_atom *a = &g->top->atoms[i];
        double invmass = a->frozen || a->mass <= 0.0 ? 0.0 : 1.0 / a->mass;
        for (int d = 0; d < 3; ++d) buf[4 * i + d] = invmass == 0.0 ? 0.0 : s->v[d][i];
        buf[4 * i + 3] = invmass;
    }
    if (st == FS_OK) st = g->api->write(g->dev, g->vel, 0, n * 4 * sizeof(double), buf);
    free(buf);
    if (st != FS_OK) return st;
    for (int d = 0; d < 3; ++d) g->box[d] = s->box.len[d];
    g->step = g->positions_step = s->step;
    g->time = s->time;
    g->forces_valid = 0;
    return gpu_nonbonded_invalidate(g->nb);
}

static fs_status gpu_download(fs_backend *b, fs_state *s, unsigned what)
{
    gpu_backend *g = (gpu_backend *)b;
    if (s->natoms != g->natoms) return fs_fail(FS_ERR_INVALID, "state has %d atoms, backend %d", s->natoms, g->natoms);
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "download() before upload()");
    size_t n = (size_t)g->padded;
    fs_status st = FS_OK;
    if ((what & FS_SYNC_FORCES) && !g->forces_valid) st = gpu_evaluate(g, FS_COMPUTE_FORCES);
    void *buf = st == FS_OK ? malloc(n * 4 * sizeof(double)) : NULL;
    if (st == FS_OK && !buf) st = fs_fail(FS_ERR_NOMEM, "out of memory downloading %d atoms", g->natoms);
    for (int k = 0; k < 2 && st == FS_OK; ++k) {
        if (!(what & (k ? FS_SYNC_VELOCITIES : FS_SYNC_POSITIONS))) continue;
        st = g->api->read(g->dev, k ? g->vel : g->pos, 0, n * 4 * sizeof(double), buf);
        const double *x = buf;
        for (int i = 0; st == FS_OK && i < g->natoms; ++i)
            for (int d = 0; d < 3; ++d) (k ? s->v : s->r)[d][i] = x[4 * i + d];
    }
    if (st == FS_OK && (what & FS_SYNC_FORCES)) {
        st = g->api->read(g->dev, g->force, 0, 3 * n * sizeof(long long), buf);
        const long long *f = buf;
        for (int i = 0; st == FS_OK && i < g->natoms; ++i)
            for (int d = 0; d < 3; ++d) s->f[d][i] = (double)f[(size_t)d * n + (size_t)i] / 4294967296.0;
    }
    free(buf);
    if (st != FS_OK) return st;
    if (what & FS_SYNC_BOX) {
        for (int d = 0; d < 3; ++d) {
            s->box.len[d] = g->box[d];
            s->box.periodic[d] = g->periodic[d];
        }
    }
    s->step = g->step;
    s->time = g->time;
    return FS_OK;
}

/* The potential terms and force virial of the current positions, with the host-side constants added. */
static fs_status current_energies(gpu_backend *g, fs_energies *e, double slots[GPU_ENERGY_SLOTS])
{
    unsigned need = FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL;
    fs_status st = g->forces_valid && (g->valid_flags & need) == need ? FS_OK : gpu_evaluate(g, need);
    if (st == FS_OK) st = gpu_read_energy(g, slots);
    if (st != FS_OK) return st;
    memset(e, 0, sizeof *e);
    for (int t = 0; t < FS_TERM_COUNT; ++t) e->term[t] = slots[GPU_E_TERM + t];
    for (int x = 0; x < 3; ++x)
        for (int y = 0; y < 3; ++y) e->virial[x][y] = slots[GPU_E_VIRIAL + 3 * x + y];
    fs_box box = fs_box_make(g->box[0], g->box[1], g->box[2]);
    memcpy(box.periodic, g->periodic, sizeof box.periodic);
    double coulomb = FS_ONE_4PI_EPS0 / g->p.epsilon_r;
    double qsum = fs_topology_total_charge(g->top);
    double enet = fs_ewald_net_charge_energy(qsum, fs_box_volume(&box), g->beta, coulomb);
    e->term[FS_TERM_COUL_RECIP] += enet;
    for (int a = 0; a < 3; ++a) e->virial[a][a] -= 0.5 * enet;
    double vir[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    e->term[FS_TERM_DISPCORR] += fs_dispcorr_compute(&g->dc, &g->p, &box, vir);
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) e->virial[a][b] += vir[a][b];
    return FS_OK;
}

static fs_status gpu_compute(fs_backend *b, unsigned flags, fs_energies *out)
{
    gpu_backend *g = (gpu_backend *)b;
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "compute() before upload()");
    if (!(flags & (FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL)) || !out)
        return g->forces_valid ? FS_OK : gpu_evaluate(g, FS_COMPUTE_FORCES);
    double slots[GPU_ENERGY_SLOTS];
    fs_energies e;
    fs_status st = current_energies(g, &e, slots);
    if (st != FS_OK) return st;
    memset(out, 0, sizeof *out);
    if (flags & FS_COMPUTE_ENERGY) memcpy(out->term, e.term, sizeof out->term);
    if (flags & FS_COMPUTE_VIRIAL) memcpy(out->virial, e.virial, sizeof out->virial);
    return FS_OK;
}

/* Before the first upload there is no program yet: the dynamics are kept and set up when it is built (as they are
 * again whenever it is rebuilt). */
static fs_status gpu_set_dynamics(fs_backend *b, const fs_dynamics *d)
{
    gpu_backend *g = (gpu_backend *)b;
    if (!(d->dt > 0.0)) return fs_fail(FS_ERR_INVALID, "dt must be positive, got %g", d->dt);
    fs_status st = g->prog ? gpu_dynamics_set(g, d) : FS_OK;
    if (st == FS_OK) {
        g->dyn_params = *d;
        g->have_dyn_params = 1;
    }
    return st;
}

static fs_status gpu_step(fs_backend *b, long nsteps)
{
    gpu_backend *g = (gpu_backend *)b;
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "step() before upload()");
    return gpu_dynamics_step(g, nsteps);
}

static fs_status gpu_observe(fs_backend *b, fs_observables *out)
{
    gpu_backend *g = (gpu_backend *)b;
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "observe() before upload()");
    double slots[GPU_ENERGY_SLOTS];
    memset(out, 0, sizeof *out);
    fs_status st = current_energies(g, &out->pot, slots);
    if (st == FS_OK && g->dyn) {
        for (int x = 0; x < 3; ++x)
            for (int y = 0; y < 3; ++y) out->pot.virial[x][y] += slots[GPU_E_CONS_VIRIAL + 3 * x + y];
    }
    if (st == FS_OK) st = gpu_dynamics_kinetic(g, out->ekin, &out->thermostat_work);
    if (st != FS_OK) return st;
    out->ndf = g->dyn ? gpu_dynamics_ndf(g) : fs_degrees_of_freedom(g->top, FS_COMM_LINEAR);
    out->box = fs_box_make(g->box[0], g->box[1], g->box[2]);
    memcpy(out->box.periodic, g->periodic, sizeof out->box.periodic);
    out->step = g->step;
    out->time = g->time;
    return FS_OK;
}

static fs_status gpu_scale_trial(fs_backend *b, const double s[3])
{
    return gpu_dynamics_scale_trial((gpu_backend *)b, s);
}

static fs_status gpu_scale_revert(fs_backend *b)
{
    return gpu_dynamics_scale_revert((gpu_backend *)b);
}

/* History for a bit-exact continuation: the pair list's (gpu_pairlist.c, "History") and the forces of the current
 * positions. The forces matter because recomputing them after an upload would itself touch the list (a rebuild that
 * a pending box change asks for, after a rejected barostat trial) where the uninterrupted run did not evaluate at
 * all. Block: header, the list's block, the fixed-point forces (when valid). */
#define HISTORY_MAGIC "FSGPUH01"

typedef struct {
    char magic[8];
    int32_t forces_valid, reserved;
    int64_t list_bytes, force_bytes;
} gpu_history_header;

static fs_status gpu_save_history(fs_backend *b, void **data, size_t *bytes)
{
    gpu_backend *g = (gpu_backend *)b;
    *data = NULL;
    *bytes = 0;
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "save_history() before upload()");
    void *list = NULL;
    size_t list_bytes = 0;
    gpu_pairlist *pl = g->nb ? gpu_nonbonded_pairlist(g->nb) : NULL;
    fs_status st = pl ? gpu_pairlist_save(pl, &list, &list_bytes) : FS_OK;
    if (st != FS_OK) return st;
    const size_t force_bytes = g->forces_valid ? 3 * (size_t)g->padded * sizeof(long long) : 0;
    gpu_history_header h = {HISTORY_MAGIC, g->forces_valid, 0, (int64_t)list_bytes, (int64_t)force_bytes};
    unsigned char *buf = malloc(sizeof h + list_bytes + force_bytes);
    if (!buf) st = fs_fail(FS_ERR_NOMEM, "out of memory saving the device history");
    if (st == FS_OK) {
        memcpy(buf, &h, sizeof h);
        if (list_bytes) memcpy(buf + sizeof h, list, list_bytes);
        if (force_bytes) st = g->api->read(g->dev, g->force, 0, force_bytes, buf + sizeof h + list_bytes);
    }
    free(list);
    if (st != FS_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *bytes = sizeof h + list_bytes + force_bytes;
    return FS_OK;
}

static fs_status gpu_restore_history(fs_backend *b, const void *data, size_t bytes)
{
    gpu_backend *g = (gpu_backend *)b;
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "restore_history() before upload()");
    gpu_history_header h;
    if (bytes < sizeof h) return fs_fail(FS_ERR_INVALID, "the device history is truncated (%zu bytes)", bytes);
    memcpy(&h, data, sizeof h);
    const size_t force_bytes = 3 * (size_t)g->padded * sizeof(long long);
    if (memcmp(h.magic, HISTORY_MAGIC, 8) != 0 || h.list_bytes < 0 ||
        (h.force_bytes != 0 && (size_t)h.force_bytes != force_bytes) ||
        bytes != sizeof h + (size_t)h.list_bytes + (size_t)h.force_bytes)
        return fs_fail(FS_ERR_INVALID, "the device history is not one of this system's");
    const unsigned char *p = (const unsigned char *)data + sizeof h;
    gpu_pairlist *pl = g->nb ? gpu_nonbonded_pairlist(g->nb) : NULL;
    fs_status st = pl && h.list_bytes > 0 ? gpu_pairlist_restore(pl, p, (size_t)h.list_bytes) : FS_OK;
    if (st == FS_OK && h.force_bytes > 0) {
        st = g->api->write(g->dev, g->force, 0, force_bytes, p + h.list_bytes);
        if (st == FS_OK) {
            g->forces_valid = 1;
            g->valid_flags = FS_COMPUTE_FORCES;
        }
    }
    return st;
}

/* ---- gpu_backend.h: for the command line --------------------------------------------------------------- */

/* Every instance made by gpu_backend_create observes through gpu_observe, whichever table it reports (the two
 * built-in ones, or a test's copy with a wrapped device API). */
int fs_gpu_backend_is(const fs_backend *b)
{
    return b && b->ops && b->ops->observe == gpu_observe;
}

const char *fs_gpu_backend_device(const fs_backend *b)
{
    if (!fs_gpu_backend_is(b)) return NULL;
    gpu_backend *g = (gpu_backend *)b;
    const gpu_device_info *info = g->api->info(g->dev);
    snprintf(g->device_text, sizeof g->device_text, "%s: %s (%s precision)", g->api->name, info->name,
             g->use_double ? "double" : "mixed");
    return g->device_text;
}

static int timer_cmp(const void *a, const void *b)
{
    double x = ((const fs_gpu_timer *)a)->seconds, y = ((const fs_gpu_timer *)b)->seconds;
    return (x < y) - (x > y);
}

int fs_gpu_backend_timers(fs_backend *b, fs_gpu_timer *out, int max)
{
    if (!fs_gpu_backend_is(b) || max <= 0) return 0;
    gpu_backend *g = (gpu_backend *)b;
    int n = 0;
    for (int i = 0; i <= g->nkernels; ++i) {
        const char *name = i < g->nkernels ? g->kernels[i].name : "fft";
        long launches = 0;
        double t = 0.0;
        if (i < g->nkernels) {
            t = g->api->kernel_time(g->kernels[i].k, &launches);
        } else {
            for (int f = 0; f < g->nffts; ++f) {
                long l = 0;
                t += g->api->fft_time(g->ffts[f], &l);
                launches += l;
            }
        }
        if (launches == 0) continue;
        int k = 0;
        while (k < n && strcmp(out[k].name, name) != 0) ++k;
        if (k == n) {
            if (n == max) continue;
            snprintf(out[n].name, sizeof out[n].name, "%s", name);
            out[n].seconds = 0.0;
            out[n].launches = 0;
            ++n;
        }
        out[k].seconds += t;
        out[k].launches += launches;
    }
    qsort(out, (size_t)n, sizeof *out, timer_cmp);
    return n;
}

void fs_gpu_backend_reset_timers(fs_backend *b)
{
    if (!fs_gpu_backend_is(b)) return;
    gpu_backend *g = (gpu_backend *)b;
    g->api->reset_timers(g->dev);
}

long fs_gpu_backend_pairs(fs_backend *b)
{
    if (!fs_gpu_backend_is(b)) return 0;
    gpu_backend *g = (gpu_backend *)b;
    return g->nb ? gpu_nonbonded_pair_count(g->nb) : 0;
}

/* ---- the two tables ----------------------------------------------------------------------------------------- */

static fs_status opencl_probe(void)
{
    return fs_gpu_api_opencl.available();
}

static fs_status opencl_create(const fs_topology *top, const fs_forceparams *p, fs_backend **out)
{
    return gpu_backend_create(&fs_gpu_api_opencl, &fs_opencl_backend, top, p, out);
}

const fs_backend_ops fs_opencl_backend = {
    .name = "opencl",
    .version = FS_BACKEND_API_VERSION,
    .probe = opencl_probe,
    .create = opencl_create,
    .destroy = gpu_destroy,
    .upload = gpu_upload,
    .download = gpu_download,
    .compute = gpu_compute,
    .set_dynamics = gpu_set_dynamics,
    .step = gpu_step,
    .observe = gpu_observe,
    .scale_trial = gpu_scale_trial,
    .scale_revert = gpu_scale_revert,
    .save_history = gpu_save_history,
    .restore_history = gpu_restore_history,
};

#ifdef FS_HAVE_CUDA
static fs_status cuda_probe(void)
{
    return fs_gpu_api_cuda.available();
}

static fs_status cuda_create(const fs_topology *top, const fs_forceparams *p, fs_backend **out)
{
    return gpu_backend_create(&fs_gpu_api_cuda, &fs_cuda_backend, top, p, out);
}

const fs_backend_ops fs_cuda_backend = {
    .name = "cuda",
    .version = FS_BACKEND_API_VERSION,
    .probe = cuda_probe,
    .create = cuda_create,
    .destroy = gpu_destroy,
    .upload = gpu_upload,
    .download = gpu_download,
    .compute = gpu_compute,
    .set_dynamics = gpu_set_dynamics,
    .step = gpu_step,
    .observe = gpu_observe,
    .scale_trial = gpu_scale_trial,
    .scale_revert = gpu_scale_revert,
    .save_history = gpu_save_history,
    .restore_history = gpu_restore_history,
};
#endif
