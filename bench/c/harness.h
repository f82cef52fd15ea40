/*
 * The timing harness shared by capi_bench.c and native_bench.cc: each row is an operation
 * run n times in a loop; a row's time is the median over batches of the time per operation.
 *
 *   PROGRAM [--smoke]          every row: "row<TAB>median ns per op<TAB>batches" lines
 *   PROGRAM --count ROW N      run ROW's operation N times after one warm-up and exit (for
 *                              callgrind: the difference between two counts is exactly N
 *                              operations, set-up and start-up cancelled out)
 *   PROGRAM --list             the row names
 *
 * A row whose set-up fails (the library lacks a global function it needs) prints "n/a".
 */
#ifndef TVMFFI_BENCH_HARNESS_H_
#define TVMFFI_BENCH_HARNESS_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  const char* name;
  int (*setup)(void); /* non-zero: the library cannot run this row */
  void (*run)(long n);
  double batch_ms; /* target length of one timed batch; 0: one operation per batch */
} BenchRow;

static double bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench_cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Median ns per operation over `batches` batches. */
static double bench_measure(const BenchRow* row, int batches) {
  long n = 1;
  if (row->batch_ms > 0) {
    /* Grow the batch until it lasts batch_ms; this also warms caches and lazy state. */
    for (;;) {
      double t0 = bench_now_ns();
      row->run(n);
      double dt = bench_now_ns() - t0;
      if (dt >= row->batch_ms * 1e6 || n >= (1L << 30)) break;
      n *= 2;
    }
  } else {
    row->run(1); /* warm-up */
  }
  double samples[101];
  if (batches > 101) batches = 101;
  for (int b = 0; b < batches; ++b) {
    double t0 = bench_now_ns();
    row->run(n);
    samples[b] = (bench_now_ns() - t0) / (double)n;
  }
  qsort(samples, (size_t)batches, sizeof(double), bench_cmp_double);
  return samples[batches / 2];
}

/* Handles the command lines above; returns -1 for a command it does not know. */
static int bench_main(const BenchRow* rows, int num_rows, int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < num_rows; ++i) printf("%s\n", rows[i].name);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "--count") == 0) {
    for (int i = 0; i < num_rows; ++i) {
      if (strcmp(rows[i].name, argv[2]) != 0) continue;
      if (rows[i].setup() != 0) return 3;
      rows[i].run(1);
      rows[i].run(atol(argv[3]));
      return 0;
    }
    fprintf(stderr, "unknown row %s\n", argv[2]);
    return 2;
  }
  int smoke = argc == 2 && strcmp(argv[1], "--smoke") == 0;
  if (argc != 1 && !smoke) return -1;
  for (int i = 0; i < num_rows; ++i) {
    const BenchRow* row = &rows[i];
    if (row->setup() != 0) {
      printf("%s\tn/a\t0\n", row->name);
      continue;
    }
    int batches = row->batch_ms > 0 ? (smoke ? 3 : 31) : (smoke ? 1 : 5);
    printf("%s\t%.3f\t%d\n", row->name, bench_measure(row, batches), batches);
    fflush(stdout);
  }
  return 0;
}

#endif /* TVMFFI_BENCH_HARNESS_H_ */
