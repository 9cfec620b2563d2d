/* The op benchmark's framework: suites register themselves, the program
 * opens the device, measures this CPU's FMA peak, and every case prints
 * one row (time, GFLOP/s or GB/s, % of peak). Not a test: figures only. */
#pragma once

#include "ops.h"

G_BEGIN_DECLS

typedef struct SfBench SfBench;

/* Records the case's dispatches into @stream (called once; the recording
 * is then replayed). */
typedef gboolean (*SfBenchRecordFunc) (SfStream *stream, gpointer data, GError **error);

SfDevice *sf_bench_get_device (SfBench *bench);
/* An arena for the case's tensors, emptied after each suite. */
SfArena *sf_bench_get_arena (SfBench *bench);
/* Fills a tensor with uniform random values in [-1, 1). */
gboolean sf_bench_randomize (SfBench *bench, SfTensor *tensor, GError **error);

/* Times one case: a warm-up run, then replays until ~@min_seconds have
 * passed (at least 3), and prints the median. @flops 0 prints GB/s from
 * @bytes instead. */
void sf_bench_case (SfBench *bench, const char *name, const char *shape, double flops,
                    double bytes, SfBenchRecordFunc record, gpointer data);

typedef void (*SfBenchSuiteFunc) (SfBench *bench);
void sf_bench_register (const char *name, SfBenchSuiteFunc func);

/* SF_BENCH_SUITE (matmul) { ... uses `bench` ... } defines and registers a
 * suite; `sfumato-bench-ops matmul` runs only that one. */
#define SF_BENCH_SUITE(suite) \
  static void sf_bench_suite_##suite (SfBench *bench); \
  __attribute__ ((constructor)) static void sf_bench_register_##suite (void) \
  { sf_bench_register (#suite, sf_bench_suite_##suite); } \
  static void sf_bench_suite_##suite (SfBench *bench)

G_END_DECLS
