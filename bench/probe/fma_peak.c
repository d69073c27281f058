// MetaPrune hardware probe: single-precision FMA peak and main-memory bandwidth.
//
// Build: gcc -O3 -march=native -fopenmp -o fma_peak fma_peak.c      (run_probe.sh does this)
// Run:   ./fma_peak [--threads 1,2] [--seconds 0.25] [--reps 7] [--mib 256] [--quiet]
//
// FMA peak: each thread runs NACC independent chains acc[i] = acc[i] * a + b on the widest vector
// type the compiler was allowed (-march=native): AVX-512 (16 floats) if present, also AVX2 (8 floats)
// for comparison, or a scalar fallback. NACC is well above FMA latency x FMA ports (4 x 2 on current
// x86), so the loop is throughput-bound. FLOPs counted: 2 per lane per FMA.
//
// Bandwidth (STREAM-style, arrays of --mib MiB each, default 256 MiB, far beyond any L3):
//   copy : c[i] = a[i]             bytes counted = 2 x 4 x N   (read a, write c)
//   triad: a[i] = b[i] + s * c[i]  bytes counted = 3 x 4 x N   (read b, c, write a)
// Bytes are counted WITHOUT write-allocate (the cache line read before a normal store), as STREAM
// does: the traffic the memory really sees is up to 1.5x (copy) / 1.33x (triad) higher unless the
// compiler emits non-temporal stores. Arrays are first-touched by the same threads / static schedule.
//
// Each figure is the best of --reps timed windows (best = least disturbed by other load on a shared
// machine); the median is printed too. Output: a human table on stderr, one JSON object on stdout.
#define _GNU_SOURCE
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of this process (all threads), seconds. */
static double self_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Busy jiffies of the whole machine (user nice system irq softirq steal), from /proc/stat. */
static double machine_busy_s(void) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    unsigned long long v[8] = {0};
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) != 8) { fclose(f); return 0; }
    fclose(f);
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / 100.0; /* USER_HZ = 100 on Linux */
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct { double best, median, foreign; } stat_t;

/* foreign = cores used by other processes during the timed windows (machine busy - our CPU time). */
static stat_t summarize(double *v, int n, double foreign) {
    qsort(v, n, sizeof(double), cmp_d);
    stat_t s = {v[n - 1], n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), foreign};
    return s;
}

/* ---------------- FMA throughput kernels ---------------- */

#define NACC512 24 /* 32 zmm registers: 24 accumulators + 2 constants */
#define NACC256 12 /* 16 ymm registers without AVX-512VL: 12 accumulators + 2 constants */

#ifdef __AVX512F__
static float fma_kernel_512(long iters) {
    __m512 acc[NACC512];
    for (int i = 0; i < NACC512; i++) acc[i] = _mm512_set1_ps(0.001f * i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < NACC512; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 s = acc[0];
    for (int i = 1; i < NACC512; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}
#endif

#if defined(__AVX2__) && defined(__FMA__)
static float fma_kernel_256(long iters) {
    __m256 acc[NACC256];
    for (int i = 0; i < NACC256; i++) acc[i] = _mm256_set1_ps(0.001f * i);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < NACC256; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 s = acc[0];
    for (int i = 1; i < NACC256; i++) s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

#define NACC1 8
static float fma_kernel_scalar(long iters) {
    float acc[NACC1];
    for (int i = 0; i < NACC1; i++) acc[i] = 0.001f * i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < NACC1; i++) acc[i] = __builtin_fmaf(acc[i], 0.999999f, 1e-7f);
    float s = 0;
    for (int i = 0; i < NACC1; i++) s += acc[i];
    return s;
}

typedef float (*kernel_fn)(long);
typedef struct { const char *name; kernel_fn fn; int lanes, nacc; } isa_t;

static volatile float g_sink;

/* One timed window of `iters` iterations on `threads` threads; returns GFLOP/s. */
static double fma_window(const isa_t *k, int threads, long iters) {
    double t0 = now();
    float s = 0;
#pragma omp parallel num_threads(threads) reduction(+ : s)
    s += k->fn(iters);
    double dt = now() - t0;
    g_sink = s;
    return 2.0 * k->lanes * k->nacc * (double)iters * threads / dt * 1e-9;
}

static stat_t fma_peak(const isa_t *k, int threads, double seconds, int reps) {
    /* calibrate: grow iters until a window lasts ~seconds */
    long iters = 1 << 16;
    for (;;) {
        double t0 = now();
        fma_window(k, threads, iters);
        double dt = now() - t0;
        if (dt > seconds * 0.5 || iters > (1L << 40)) {
            iters = (long)(iters * seconds / (dt > 1e-6 ? dt : 1e-6));
            break;
        }
        iters *= 4;
    }
    if (iters < 1) iters = 1;
    double v[64];
    if (reps > 64) reps = 64;
    double b0 = machine_busy_s(), c0 = self_cpu(), w0 = now();
    for (int r = 0; r < reps; r++) v[r] = fma_window(k, threads, iters);
    double w = now() - w0, foreign = ((machine_busy_s() - b0) - (self_cpu() - c0)) / w;
    return summarize(v, reps, foreign < 0 ? 0 : foreign);
}

/* ---------------- bandwidth ---------------- */

static stat_t bw(int kind, float *a, float *b, float *c, long n, int threads, int reps) {
    double v[64];
    if (reps > 64) reps = 64;
    const float s = 1.0001f;
    double bytes = (kind == 0 ? 2.0 : 3.0) * sizeof(float) * (double)n;
    double b0 = machine_busy_s(), c0 = self_cpu(), w0 = now();
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        double t0 = now();
        if (kind == 0) {
#pragma omp parallel for num_threads(threads) schedule(static)
            for (long i = 0; i < n; i++) c[i] = a[i];
        } else {
#pragma omp parallel for num_threads(threads) schedule(static)
            for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
        }
        double dt = now() - t0;
        if (r >= 0) v[r] = bytes / dt * 1e-9;
    }
    double w = now() - w0, foreign = ((machine_busy_s() - b0) - (self_cpu() - c0)) / w;
    g_sink = a[n / 3] + c[n / 2];
    return summarize(v, reps, foreign < 0 ? 0 : foreign);
}

static void usage(void) {
    fprintf(stderr,
            "usage: fma_peak [--threads 1,2] [--seconds S] [--reps R] [--mib M] [--no-bw] [--no-fma]\n"
            "  --threads  comma-separated thread counts (default 1,2)\n"
            "  --seconds  length of one FMA timing window (default 0.25)\n"
            "  --reps     timed windows per figure, best and median reported (default 7)\n"
            "  --mib      size of EACH of the three bandwidth arrays in MiB (default 256)\n");
}

int main(int argc, char **argv) {
    int thr[8] = {1, 2}, nthr = 2, reps = 7, do_bw = 1, do_fma = 1;
    double seconds = 0.25, mib = 256;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            nthr = 0;
            for (char *t = strtok(argv[++i], ","); t && nthr < 8; t = strtok(NULL, ",")) thr[nthr++] = atoi(t);
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-bw")) do_bw = 0;
        else if (!strcmp(argv[i], "--no-fma")) do_fma = 0;
        else { usage(); return 2; }
    }
    if (reps < 1) reps = 1;

    isa_t isas[3];
    int nisa = 0;
#ifdef __AVX512F__
    isas[nisa++] = (isa_t){"avx512", fma_kernel_512, 16, NACC512};
#endif
#if defined(__AVX2__) && defined(__FMA__)
    isas[nisa++] = (isa_t){"avx2", fma_kernel_256, 8, NACC256};
#endif
    if (nisa == 0) isas[nisa++] = (isa_t){"scalar", fma_kernel_scalar, 1, NACC1};

    fprintf(stderr, "# fma_peak: omp_get_num_procs=%d, window %.2f s, %d reps (best | median), "
                    "foreign = other processes' load in cores during the windows\n",
            omp_get_num_procs(), seconds, reps);
    printf("{\"probe\":\"fma_peak.c\",\"reps\":%d,\"window_s\":%.3f", reps, seconds);

    if (do_fma) {
        fprintf(stderr, "%-8s %-7s %12s %12s %8s\n", "isa", "threads", "best GF/s", "median", "foreign");
        printf(",\"fma\":[");
        int first = 1;
        for (int k = 0; k < nisa; k++)
            for (int t = 0; t < nthr; t++) {
                stat_t s = fma_peak(&isas[k], thr[t], seconds, reps);
                fprintf(stderr, "%-8s %-7d %12.1f %12.1f %8.2f\n", isas[k].name, thr[t], s.best, s.median, s.foreign);
                printf("%s{\"isa\":\"%s\",\"lanes\":%d,\"accumulators\":%d,\"threads\":%d,"
                       "\"gflops_best\":%.2f,\"gflops_median\":%.2f,\"foreign_cores\":%.2f}",
                       first ? "" : ",", isas[k].name, isas[k].lanes, isas[k].nacc, thr[t], s.best, s.median, s.foreign);
                first = 0;
                fflush(stderr);
            }
        printf("]");
    }

    if (do_bw) {
        long n = (long)(mib * 1024 * 1024 / sizeof(float));
        float *a = aligned_alloc(64, n * sizeof(float)), *b = aligned_alloc(64, n * sizeof(float)),
              *c = aligned_alloc(64, n * sizeof(float));
        if (!a || !b || !c) { fprintf(stderr, "cannot allocate 3 x %.0f MiB\n", mib); return 1; }
        int maxthr = 1;
        for (int t = 0; t < nthr; t++) if (thr[t] > maxthr) maxthr = thr[t];
#pragma omp parallel for num_threads(maxthr) schedule(static)
        for (long i = 0; i < n; i++) { a[i] = 1.0f; b[i] = 2.0f; c[i] = 0.5f; }
        fprintf(stderr, "%-8s %-7s %12s %12s %8s   (arrays 3 x %.0f MiB; bytes without write-allocate)\n",
                "stream", "threads", "best GB/s", "median", "foreign", mib);
        printf(",\"bw_array_mib\":%.0f,\"bw_bytes\":\"without write-allocate: copy 8 B/elem, triad 12 B/elem\",\"bw\":[", mib);
        int first = 1;
        for (int t = 0; t < nthr; t++)
            for (int kind = 0; kind < 2; kind++) {
                stat_t s = bw(kind, a, b, c, n, thr[t], reps);
                const char *nm = kind == 0 ? "copy" : "triad";
                fprintf(stderr, "%-8s %-7d %12.1f %12.1f %8.2f\n", nm, thr[t], s.best, s.median, s.foreign);
                printf("%s{\"kernel\":\"%s\",\"threads\":%d,\"gbs_best\":%.2f,\"gbs_median\":%.2f,\"foreign_cores\":%.2f}",
                       first ? "" : ",", nm, thr[t], s.best, s.median, s.foreign);
                first = 0;
                fflush(stderr);
            }
        printf("]");
        free(a); free(b); free(c);
    }
    printf("}\n");
    return 0;
}
