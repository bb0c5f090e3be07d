/* FFI overhead benchmark, C side: batch ingest through the C ABI. The Rust side,
 * ffi/examples/overhead.rs, does exactly the same through the Rust API; .ci/ffi.sh runs both
 * alternately and prints the ratio. Shape: 1000 series, batches of 10,000 samples (10 per
 * series), 300 batches = 3,000,000 samples, STRATA_FSYNC_NEVER, fresh temporary directory.
 * Only the append calls are timed; prints `c_abi_samples_per_s=<rate>`. */
#define _XOPEN_SOURCE 700
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "strata.h"

enum { SERIES = 1000, PER_BATCH = 10, BATCHES = 300, N = SERIES * PER_BATCH };

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
  char dir[] = "/tmp/strata-overhead-c-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  strata_error *err = NULL;
  strata_options o;
  strata_options_default(&o, NULL);
  o.fsync = STRATA_FSYNC_NEVER;
  strata_db *db = NULL;
  if (strata_db_open(dir, &o, &db, &err) != STRATA_OK) {
    fprintf(stderr, "open: %s\n", strata_error_message(err));
    return 1;
  }
  uint64_t refs[SERIES];
  const char *names[] = {"__name__", "model", "series"};
  for (int s = 0; s < SERIES; s++) {
    char model[16], id[16];
    snprintf(model, sizeof model, "model-%d", s % 10);
    snprintf(id, sizeof id, "%d", s);
    const char *values[] = {"overhead_total", model, id};
    if (strata_db_series_ref(db, names, values, 3, &refs[s], NULL) != STRATA_OK) return 1;
  }
  uint64_t *br = malloc(sizeof(uint64_t) * N * BATCHES);
  int64_t *bt = malloc(sizeof(int64_t) * N * BATCHES);
  double *bv = malloc(sizeof(double) * N * BATCHES);
  for (size_t b = 0; b < BATCHES; b++)
    for (size_t i = 0; i < N; i++) {
      size_t s = i % SERIES, k = b * PER_BATCH + i / SERIES, j = b * N + i;
      br[j] = refs[s];
      bt[j] = (int64_t)k * 1000;
      bv[j] = (double)(s * 7 + k);
    }
  double start = now_s();
  for (size_t b = 0; b < BATCHES; b++) {
    strata_batch_result r;
    if (strata_db_append_batch(db, br + b * N, bt + b * N, bv + b * N, N, &r, &err) != STRATA_OK ||
        r.accepted != N) {
      fprintf(stderr, "append: %s\n", strata_error_message(err));
      return 1;
    }
  }
  double secs = now_s() - start;
  printf("c_abi_samples_per_s=%.0f\n", (double)N * BATCHES / secs);
  strata_db_free(&db);
  free(br);
  free(bt);
  free(bv);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
