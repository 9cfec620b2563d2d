/* sfumato-bench-ops [SUITE...]: times the ops at SDXL's shapes on the
 * chosen device (SFUMATO_DEVICE) and compares with this CPU's measured
 * fp32 FMA peak. */
#include <immintrin.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

typedef struct {
  const char *name;
  SfBenchSuiteFunc func;
} Suite;

static Suite suites[64];
static guint suite_count;

struct SfBench {
  SfDevice *device;
  SfArena *arena;
  double peak_gflops;
  double min_seconds;
  guint64 rng;
};

void
sf_bench_register (const char *name, SfBenchSuiteFunc func)
{
  g_assert (suite_count < G_N_ELEMENTS (suites));
  suites[suite_count++] = (Suite) { name, func };
}

SfDevice *
sf_bench_get_device (SfBench *bench)
{
  return bench->device;
}

SfArena *
sf_bench_get_arena (SfBench *bench)
{
  return bench->arena;
}

gboolean
sf_bench_randomize (SfBench *bench, SfTensor *tensor, GError **error)
{
  gsize count = (gsize) sf_tensor_numel (tensor);
  if (tensor->dtype == SF_DTYPE_I32)
    {
      g_autofree gint32 *ids = g_new (gint32, MAX (count, 1));
      for (gsize i = 0; i < count; i++)
        ids[i] = (gint32) (i % 1000);
      return sf_tensor_upload_raw (tensor, ids, error);
    }
  g_autofree float *data = g_new (float, MAX (count, 1));
  for (gsize i = 0; i < count; i++)
    {
      bench->rng = bench->rng * 6364136223846793005ull + 1442695040888963407ull;
      data[i] = (float) ((double) (bench->rng >> 40) / (double) (1ull << 24)) * 2.0f - 1.0f;
    }
  return sf_tensor_upload (tensor, data, error);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
sf_bench_case (SfBench *bench, const char *name, const char *shape, double flops, double bytes,
               SfBenchRecordFunc record, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfStream) stream = sf_stream_new (bench->device, &error);
  if (!stream || !record (stream, data, &error) || !sf_stream_run (stream, NULL, &error))
    {
      printf ("%-24s %-28s FAILED: %s\n", name, shape, error ? error->message : "?");
      return;
    }
  double times[64];
  guint runs = 0;
  double start = g_get_monotonic_time () * 1e-6;
  while (runs < G_N_ELEMENTS (times)
         && (runs < 3 || g_get_monotonic_time () * 1e-6 - start < bench->min_seconds))
    {
      double t0 = g_get_monotonic_time () * 1e-6;
      if (!sf_stream_run (stream, NULL, &error))
        {
          printf ("%-24s %-28s FAILED: %s\n", name, shape, error->message);
          return;
        }
      times[runs++] = g_get_monotonic_time () * 1e-6 - t0;
    }
  qsort (times, runs, sizeof times[0], compare_doubles);
  double median = times[runs / 2];
  if (flops > 0)
    printf ("%-24s %-28s %10.3f ms %9.1f GFLOP/s %6.1f%% of peak\n", name, shape, median * 1e3,
            flops / median * 1e-9, 100.0 * flops / median * 1e-9 / bench->peak_gflops);
  else
    printf ("%-24s %-28s %10.3f ms %9.2f GB/s\n", name, shape, median * 1e3,
            bytes / median * 1e-9);
  fflush (stdout);
}

/* ---- the CPU's fp32 FMA peak ------------------------------------------ */

#define FMA_ITERATIONS 100000000

__attribute__ ((target ("avx2,fma"))) static gpointer
fma_thread (gpointer data)
{
  /* 12 independent chains in registers hide the FMA latency on every x86
   * core (written out: the compiler keeps an array in memory). */
  const __m256 a = _mm256_set1_ps (0.999999f), b = _mm256_set1_ps (1e-7f);
  __m256 c0 = _mm256_set1_ps (0.0f), c1 = _mm256_set1_ps (0.1f), c2 = _mm256_set1_ps (0.2f),
         c3 = _mm256_set1_ps (0.3f), c4 = _mm256_set1_ps (0.4f), c5 = _mm256_set1_ps (0.5f),
         c6 = _mm256_set1_ps (0.6f), c7 = _mm256_set1_ps (0.7f), c8 = _mm256_set1_ps (0.8f),
         c9 = _mm256_set1_ps (0.9f), c10 = _mm256_set1_ps (1.0f), c11 = _mm256_set1_ps (1.1f);
  for (int n = 0; n < FMA_ITERATIONS; n++)
    {
      c0 = _mm256_fmadd_ps (c0, a, b);
      c1 = _mm256_fmadd_ps (c1, a, b);
      c2 = _mm256_fmadd_ps (c2, a, b);
      c3 = _mm256_fmadd_ps (c3, a, b);
      c4 = _mm256_fmadd_ps (c4, a, b);
      c5 = _mm256_fmadd_ps (c5, a, b);
      c6 = _mm256_fmadd_ps (c6, a, b);
      c7 = _mm256_fmadd_ps (c7, a, b);
      c8 = _mm256_fmadd_ps (c8, a, b);
      c9 = _mm256_fmadd_ps (c9, a, b);
      c10 = _mm256_fmadd_ps (c10, a, b);
      c11 = _mm256_fmadd_ps (c11, a, b);
    }
  __m256 sum = _mm256_add_ps (_mm256_add_ps (_mm256_add_ps (c0, c1), _mm256_add_ps (c2, c3)),
                              _mm256_add_ps (_mm256_add_ps (c4, c5), _mm256_add_ps (c6, c7)));
  sum = _mm256_add_ps (sum, _mm256_add_ps (_mm256_add_ps (c8, c9), _mm256_add_ps (c10, c11)));
  float out[8];
  _mm256_storeu_ps (out, sum);
  *(float *) data = out[0];
  return NULL;
}

/* fp32 GFLOP/s of 256-bit FMAs on @threads threads (2 flops × 8 lanes). */
static double
measure_fma_peak (guint threads)
{
  if (!__builtin_cpu_supports ("avx2") || !__builtin_cpu_supports ("fma"))
    return 0;
  float sinks[16];
  GThread *workers[16];
  double t0 = g_get_monotonic_time () * 1e-6;
  for (guint i = 0; i < threads; i++)
    workers[i] = g_thread_new ("fma", fma_thread, &sinks[i]);
  for (guint i = 0; i < threads; i++)
    g_thread_join (workers[i]);
  double seconds = g_get_monotonic_time () * 1e-6 - t0;
  return (double) threads * FMA_ITERATIONS * 12 * 16 / seconds * 1e-9;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  SfBench bench = { .min_seconds = 2.0, .rng = 42 };
  const char *min = g_getenv ("SF_BENCH_SECONDS");
  if (min)
    bench.min_seconds = g_ascii_strtod (min, NULL);
  bench.device = sf_device_open (NULL, &error);
  if (!bench.device)
    {
      fprintf (stderr, "sfumato-bench-ops: %s\n", error->message);
      return 1;
    }
  const SfDeviceInfo *info = sf_device_get_info (bench.device);
  guint threads = g_get_num_processors ();
  const char *lp = g_getenv ("LP_NUM_THREADS");
  if (lp && sf_device_is_cpu (bench.device))
    threads = MAX (1, (guint) g_ascii_strtoull (lp, NULL, 10));
  threads = MIN (threads, 16);
  bench.peak_gflops = measure_fma_peak (threads);
  printf ("device: %s (%s)\n", info->name, info->driver_info);
  printf ("fp32 FMA peak (256-bit, %u threads, measured): %.1f GFLOP/s\n\n", threads,
          bench.peak_gflops);
  if (bench.peak_gflops <= 0)
    bench.peak_gflops = 1;
  printf ("%-24s %-28s %13s %17s\n", "op", "shape", "time", "rate");

  for (guint i = 0; i < suite_count; i++)
    {
      gboolean wanted = argc < 2;
      for (int a = 1; a < argc; a++)
        wanted = wanted || strcmp (argv[a], suites[i].name) == 0;
      if (!wanted)
        continue;
      bench.arena = sf_arena_new (bench.device, "bench");
      suites[i].func (&bench);
      sf_arena_free (bench.arena);
      bench.arena = NULL;
    }
  sf_device_free (bench.device);
  return 0;
}
