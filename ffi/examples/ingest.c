/* Ingest through the C API: open a database in a fresh temporary directory, create series for
 * a few models, append an hour of token counters as columnar batches and a latency histogram
 * per minute, then print the statistics. Runs without arguments:
 *
 *   cc -Iffi/include ffi/examples/ingest.c -Ltarget/release -lstrata -o ingest && ./ingest
 */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>

#include "strata.h"

static int fail(const char *what, strata_error **err) {
  fprintf(stderr, "%s: %s\n", what, strata_error_message(*err));
  strata_error_free(err);
  return 1;
}

int main(void) {
  char dir[] = "/tmp/strata-ingest-XXXXXX";
  if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
  printf("libstrata %s (header %s), database in %s\n", strata_version(), STRATA_VERSION, dir);

  strata_error *err = NULL;
  strata_options opts;
  strata_options_default(&opts, NULL);
  opts.fsync = STRATA_FSYNC_INTERVAL;
  opts.fsync_interval_ms = 200;
  strata_db *db = NULL;
  if (strata_db_open(dir, &opts, &db, &err) != STRATA_OK) return fail("open", &err);

  /* One series per model and token type: resolve the label sets once, append by reference. */
  const char *models[] = {"gpt-4o", "claude-sonnet", "llama-3-70b"};
  const char *types[] = {"input", "output"};
  const char *names[] = {"__name__", "model", "provider", "gen_ai_token_type"};
  uint64_t refs[6];
  for (int m = 0; m < 3; m++)
    for (int t = 0; t < 2; t++) {
      const char *values[] = {"llm_tokens_total", models[m], m == 0 ? "openai" : "other", types[t]};
      if (strata_db_series_ref(db, names, values, 4, &refs[m * 2 + t], &err) != STRATA_OK)
        return fail("series_ref", &err);
    }

  /* An hour at a 15 s scrape interval: 240 timestamps x 6 series, in batches of 10 scrapes. */
  enum { SCRAPES = 240, PER_BATCH = 10, N = PER_BATCH * 6 };
  uint64_t br[N];
  int64_t bt[N];
  double bv[N];
  double counters[6] = {0};
  size_t total = 0;
  for (int scrape = 0; scrape < SCRAPES; scrape += PER_BATCH) {
    size_t n = 0;
    for (int k = scrape; k < scrape + PER_BATCH; k++)
      for (int s = 0; s < 6; s++) {
        counters[s] += 100.0 * (s + 1) + (k % 7);
        br[n] = refs[s];
        bt[n] = (int64_t)k * 15000;
        bv[n] = counters[s];
        n++;
      }
    strata_batch_result r;
    if (strata_db_append_batch(db, br, bt, bv, n, &r, &err) != STRATA_OK)
      return fail("append_batch", &err);
    total += r.accepted;
  }
  printf("appended %zu counter samples in %d batches\n", total, SCRAPES / PER_BATCH);

  /* A latency histogram per minute (per-bucket counts; the +Inf bucket is the last count). */
  const char *hnames[] = {"__name__", "model"};
  const char *hvalues[] = {"gen_ai_client_operation_duration_seconds", "gpt-4o"};
  uint64_t href;
  if (strata_db_series_ref(db, hnames, hvalues, 2, &href, &err) != STRATA_OK)
    return fail("series_ref", &err);
  double bounds[] = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24};
  uint64_t counts[12] = {0};
  for (int minute = 0; minute < 60; minute++) {
    uint64_t count = 0;
    for (int b = 0; b < 12; b++) count += (counts[b] += (uint64_t)((b * 7 + minute) % 5));
    strata_histogram h = {bounds, 11, counts, 12, count, 0.5 * (double)count, 0.005, 12.0};
    if (strata_db_append_histogram(db, href, (int64_t)minute * 60000, &h, &err) != STRATA_OK)
      return fail("append_histogram", &err);
  }

  /* The per-sample convenience path. */
  const char *cnames[] = {"__name__", "service"};
  const char *cvalues[] = {"llm_proxy_up", "gateway"};
  if (strata_db_append(db, cnames, cvalues, 2, 0, 1.0, &err) != STRATA_OK)
    return fail("append", &err);

  if (strata_db_sync(db, &err) != STRATA_OK) return fail("sync", &err);
  char *json = NULL;
  if (strata_db_stats_json(db, &json, &err) != STRATA_OK) return fail("stats", &err);
  printf("stats: %s\n", json);
  strata_string_free(&json);

  if (strata_db_close(db, &err) != STRATA_OK) return fail("close", &err);
  strata_db_free(&db);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
