/* Query through the C API: write a small data set into a fresh temporary directory, then read
 * it back with a label-matcher select (raw samples) and with PromQL evaluated at a step.
 * Runs without arguments:
 *
 *   cc -Iffi/include ffi/examples/query.c -Ltarget/release -lstrata -o query && ./query
 */
#define _XOPEN_SOURCE 700
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "strata.h"

static int fail(const char *what, strata_error **err) {
  fprintf(stderr, "%s: %s\n", what, strata_error_message(*err));
  strata_error_free(err);
  return 1;
}

static void print_series(const strata_series_view *v) {
  printf("  {");
  for (size_t i = 0; i < v->label_count; i++)
    printf("%s%s=\"%s\"", i ? ", " : "", v->labels[i].name, v->labels[i].value);
  printf("}: %zu points", v->sample_count);
  if (v->sample_count > 0)
    printf(", first (%lld, %g), last (%lld, %g)", (long long)v->timestamps_ms[0], v->values[0],
           (long long)v->timestamps_ms[v->sample_count - 1], v->values[v->sample_count - 1]);
  printf("\n");
}

/* Drains a cursor, printing each series; frees it. */
static int drain(strata_series_cursor **cur) {
  strata_error *err = NULL;
  strata_series_view v;
  uint32_t has = 0;
  while (strata_series_cursor_next(*cur, &v, &has, &err) == STRATA_OK && has) print_series(&v);
  strata_series_cursor_free(cur);
  return err ? fail("next", &err) : 0;
}

int main(void) {
  char dir[] = "/tmp/strata-query-XXXXXX";
  if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
  strata_error *err = NULL;
  strata_db *db = NULL;
  if (strata_db_open(dir, NULL, &db, &err) != STRATA_OK) return fail("open", &err);

  /* Ten minutes of a request counter for three models, every 15 s. */
  const char *models[] = {"gpt-4o", "gpt-4o-mini", "claude-sonnet"};
  const char *names[] = {"__name__", "model"};
  for (int m = 0; m < 3; m++) {
    const char *values[] = {"llm_requests_total", models[m]};
    uint64_t ref;
    if (strata_db_series_ref(db, names, values, 2, &ref, &err) != STRATA_OK)
      return fail("series_ref", &err);
    enum { N = 41 };
    uint64_t refs[N];
    int64_t ts[N];
    double vs[N];
    for (int i = 0; i < N; i++) {
      refs[i] = ref;
      ts[i] = (int64_t)i * 15000;
      vs[i] = (double)i * (m + 1) * 3;
    }
    if (strata_db_append_batch(db, refs, ts, vs, N, NULL, &err) != STRATA_OK)
      return fail("append_batch", &err);
  }

  printf("select {__name__=\"llm_requests_total\", model=~\"gpt-4o.*\"}:\n");
  strata_matcher matchers[] = {{STRATA_MATCH_EQUAL, "__name__", "llm_requests_total"},
                               {STRATA_MATCH_REGEX, "model", "gpt-4o.*"}};
  strata_series_cursor *cur = NULL;
  if (strata_db_select(db, matchers, 2, 0, INT64_MAX, &cur, &err) != STRATA_OK)
    return fail("select", &err);
  if (drain(&cur)) return 1;

  const char *expr = "sum by (model) (rate(llm_requests_total[2m]))";
  printf("query %s, 2 min steps:\n", expr);
  if (strata_db_query_range(db, expr, 120000, 600000, 120000, &cur, &err) != STRATA_OK)
    return fail("query", &err);
  if (drain(&cur)) return 1;

  /* PromQL Strata does not evaluate (info, native histograms): a typed error, not a crash. */
  strata_status st = strata_db_query_range(db, "info(x)", 0, 1, 1, &cur, &err);
  printf("unsupported query: %s: %s\n", strata_status_name(st), strata_error_message(err));
  strata_error_free(&err);

  strata_db_free(&db);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
