/* The C API, call by call: the happy path and every error path. Run under AddressSanitizer
 * (with leak detection) by .ci/ffi.sh, so a leak, a double free or a bad read fails it. */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"

static const char *NAMES[] = {"__name__", "model", "provider"};

static strata_db *open_db(const char *dir, uint32_t fsync) {
  strata_error *err = NULL;
  strata_options o;
  MUST(strata_options_default(&o, &err));
  o.fsync = fsync;
  o.clock_fixed_ms = 86400 * 1000; /* the data starts at the epoch: "now" is pinned a day later */
  strata_db *db = NULL;
  MUST(strata_db_open(dir, &o, &db, &err));
  CHECK(db != NULL);
  return db;
}

static uint64_t series(strata_db *db, const char *name, const char *model) {
  strata_error *err = NULL;
  const char *values[] = {name, model, "openai"};
  uint64_t ref = 0;
  MUST(strata_db_series_ref(db, NAMES, values, 3, &ref, &err));
  return ref;
}

static void test_version(void) {
  CHECK(strcmp(strata_version(), STRATA_VERSION) == 0);
  char built[64];
  snprintf(built, sizeof built, "%d.%d.%d", STRATA_VERSION_MAJOR, STRATA_VERSION_MINOR,
           STRATA_VERSION_PATCH);
  CHECK(strcmp(built, STRATA_VERSION) == 0);
  CHECK(strcmp(strata_status_name(STRATA_ERR_CLOSED), "STRATA_ERR_CLOSED") == 0);
  CHECK(strcmp(strata_status_name(9999), "STRATA_UNKNOWN_STATUS") == 0);
  CHECK(STRATA_OK == 0 && STRATA_ERR_INVALID_ARGUMENT == 1 && STRATA_ERR_INTERNAL == 15);
}

static void test_happy_path(void) {
  strata_error *err = NULL;
  char *dir = make_temp_dir("api");
  strata_db *db = open_db(dir, STRATA_FSYNC_NEVER);

  uint64_t a = series(db, "llm_tokens_total", "gpt-4o");
  uint64_t b = series(db, "llm_tokens_total", "claude");
  CHECK(a != b);
  CHECK(series(db, "llm_tokens_total", "gpt-4o") == a); /* same labels, same ref */

  /* Columnar batch: 100 samples per series, interleaved. */
  enum { N = 200 };
  uint64_t refs[N];
  int64_t ts[N];
  double vs[N];
  for (int i = 0; i < N; i++) {
    refs[i] = i % 2 ? b : a;
    ts[i] = 1000 + (int64_t)(i / 2) * 15000;
    vs[i] = (double)i;
  }
  strata_batch_result r;
  CHECK_STATUS(STRATA_OK, strata_db_append_batch(db, refs, ts, vs, N, &r, &err));
  CHECK(r.accepted == N && r.rejected == 0 && r.first_rejected_status == STRATA_OK);
  CHECK_STATUS(STRATA_OK, strata_db_append_batch(db, refs, ts, vs, 0, NULL, &err));
  CHECK_STATUS(STRATA_OK, strata_db_append_batch(db, NULL, NULL, NULL, 0, &r, &err));
  CHECK(r.accepted == 0);

  /* Per-sample paths. */
  const char *cv[] = {"llm_requests_total", "gpt-4o", "openai"};
  CHECK_STATUS(STRATA_OK, strata_db_append(db, NAMES, cv, 3, 1000, 1.0, &err));
  CHECK_STATUS(STRATA_OK, strata_db_append(db, NAMES, cv, 3, 2000, 2.0, &err));
  CHECK_STATUS(STRATA_OK, strata_db_append_ref(db, a, 1000 + 100 * 15000, 500.0, NULL));

  /* Histograms. */
  uint64_t h = series(db, "gen_ai_client_operation_duration", "gpt-4o");
  double bounds[] = {0.01, 0.1, 1, 10};
  uint64_t counts[] = {1, 2, 3, 4, 5};
  strata_histogram hist = {bounds, 4, counts, 5, 15, 42.5, 0.005, 20.0};
  CHECK_STATUS(STRATA_OK, strata_db_append_histogram(db, h, 1000, &hist, &err));
  hist.min = NAN;
  hist.max = NAN;
  CHECK_STATUS(STRATA_OK, strata_db_append_histogram(db, h, 2000, &hist, &err));

  /* Native histograms: exponential buckets of schema 0, read back through PromQL. */
  uint64_t nh = series(db, "gen_ai_native_duration", "gpt-4o");
  strata_bucket_span pspan[] = {{0, 3}};
  double pb[] = {1, 2, 1};
  strata_native_histogram nat = {0, 0, 0.001, 1, 5, 7.5, pspan, 1, pb, 3, NULL, 0, NULL, 0, NULL, 0};
  CHECK_STATUS(STRATA_OK, strata_db_append_native_histogram(db, nh, 1000, &nat, &err));
  double pb2[] = {2, 4, 2};
  nat.positive_buckets = pb2;
  nat.zero_count = 2;
  nat.count = 10;
  nat.sum = 15;
  CHECK_STATUS(STRATA_OK, strata_db_append_native_histogram(db, nh, 61000, &nat, &err));

  CHECK_STATUS(STRATA_OK, strata_db_sync(db, &err));

  /* Select: both token series, all samples, labels sorted by name. */
  strata_matcher m[] = {{STRATA_MATCH_EQUAL, "__name__", "llm_tokens_total"},
                        {STRATA_MATCH_REGEX, "model", "gpt.*|claude"}};
  strata_series_cursor *cur = NULL;
  CHECK_STATUS(STRATA_OK, strata_db_select(db, m, 2, 0, INT64_MAX, &cur, &err));
  size_t remaining = 0;
  CHECK_STATUS(STRATA_OK, strata_series_cursor_remaining(cur, &remaining, &err));
  CHECK(remaining == 2);
  strata_series_view view;
  uint32_t has = 0;
  int seen = 0;
  size_t samples = 0;
  while (strata_series_cursor_next(cur, &view, &has, &err) == STRATA_OK && has) {
    seen++;
    samples += view.sample_count;
    CHECK(view.label_count == 3);
    CHECK(strcmp(view.labels[0].name, "__name__") == 0);
    CHECK(view.labels[0].name_len == 8);
    CHECK(strcmp(view.labels[0].value, "llm_tokens_total") == 0);
    CHECK(strcmp(view.labels[1].name, "model") == 0);
    CHECK(strcmp(view.labels[2].value, "openai") == 0);
    for (size_t i = 1; i < view.sample_count; i++) CHECK(view.timestamps_ms[i] > view.timestamps_ms[i - 1]);
    if (strcmp(view.labels[1].value, "gpt-4o") == 0) {
      CHECK(view.sample_count == 101);
      CHECK(view.values[0] == 0.0 && view.values[100] == 500.0);
    } else {
      CHECK(view.sample_count == 100);
      CHECK(view.values[0] == 1.0);
    }
  }
  CHECK(err == NULL);
  CHECK(seen == 2 && samples == 201);
  CHECK(has == 0 && view.sample_count == 0 && view.labels == NULL);
  /* Past the end stays at the end. */
  CHECK_STATUS(STRATA_OK, strata_series_cursor_next(cur, &view, &has, &err));
  CHECK(has == 0);
  strata_series_cursor_free(&cur);
  CHECK(cur == NULL);

  /* Query the subset at a step. */
  CHECK_STATUS(STRATA_OK,
               strata_db_query_range(db, "sum by (model) (rate(llm_tokens_total[1m]))", 61000,
                                     1000 + 99 * 15000, 60000, &cur, &err));
  seen = 0;
  while (strata_series_cursor_next(cur, &view, &has, NULL) == STRATA_OK && has) {
    seen++;
    CHECK(view.label_count == 1 && strcmp(view.labels[0].name, "model") == 0);
    CHECK(view.sample_count > 10);
    for (size_t i = 0; i < view.sample_count; i++) CHECK(view.values[i] > 0 && isfinite(view.values[i]));
  }
  CHECK(seen == 2);
  strata_series_cursor_free(&cur);

  /* The native histogram's count and sum at 61 s. */
  CHECK_STATUS(STRATA_OK, strata_db_query_range(db, "histogram_count(gen_ai_native_duration)",
                                                61000, 61000, 1000, &cur, &err));
  CHECK(strata_series_cursor_next(cur, &view, &has, &err) == STRATA_OK && has);
  CHECK(view.sample_count == 1 && view.values[0] == 10.0);
  strata_series_cursor_free(&cur);
  CHECK_STATUS(STRATA_OK,
               strata_db_query_range(db, "histogram_sum(gen_ai_native_duration)", 61000, 61000,
                                     1000, &cur, &err));
  CHECK(strata_series_cursor_next(cur, &view, &has, &err) == STRATA_OK && has);
  CHECK(view.sample_count == 1 && view.values[0] == 15.0);
  strata_series_cursor_free(&cur);

  /* Stats, as a struct and as JSON. */
  strata_stats st;
  CHECK_STATUS(STRATA_OK, strata_db_stats(db, &st, &err));
  CHECK(st.series == 5);
  CHECK(st.samples == 207); /* 201 batch + 2 per-sample floats, 2 histogram, 2 native samples */
  CHECK(st.has_time_range == 1 && st.min_time_ms == 1000);
  char *json = NULL;
  CHECK_STATUS(STRATA_OK, strata_db_stats_json(db, &json, &err));
  CHECK(json != NULL && strstr(json, "\"series\":5") != NULL);
  strata_string_free(&json);
  CHECK(json == NULL);
  strata_string_free(&json);
  strata_string_free(NULL);

  strata_compact_report rep;
  CHECK_STATUS(STRATA_OK, strata_db_compact(db, &rep, &err));
  CHECK_STATUS(STRATA_OK, strata_db_compact(db, NULL, &err));

  CHECK_STATUS(STRATA_OK, strata_db_close(db, &err));
  strata_db_free(&db);
  CHECK(db == NULL);

  /* Everything acknowledged is there after a reopen (from the WAL or blocks). */
  db = open_db(dir, STRATA_FSYNC_NEVER);
  CHECK_STATUS(STRATA_OK, strata_db_stats(db, &st, &err));
  CHECK(st.series == 5);
  /* The same count from blocks: a histogram sample counts once, in the head or in a block. */
  CHECK(st.samples == 207);
  CHECK(series(db, "llm_tokens_total", "claude") == b);
  strata_db_free(&db); /* free without close: closes */
  remove_tree(dir);
}

static void test_open_errors(void) {
  strata_error *err = NULL;
  strata_db *db = (strata_db *)0x1;
  /* A directory under a regular file cannot be created. */
  char *dir = make_temp_dir("bad");
  char file[4200], bad[4300];
  snprintf(file, sizeof file, "%s/file", dir);
  FILE *f = fopen(file, "w");
  fputs("x", f);
  fclose(f);
  snprintf(bad, sizeof bad, "%s/sub", file);
  CHECK_STATUS(STRATA_ERR_IO, strata_db_open(bad, NULL, &db, &err));
  CHECK(db == NULL);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_open(NULL, NULL, &db, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_open("", NULL, &db, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_open(dir, NULL, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_options_default(NULL, &err));

  strata_options o;
  MUST(strata_options_default(&o, &err));
  o.fsync = 7;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_open(dir, &o, &db, &err));
  MUST(strata_options_default(&o, &err));
  o.block_duration_ms = 5;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_open(dir, &o, &db, &err));
  MUST(strata_options_default(&o, &err));
  o.fsync = STRATA_FSYNC_INTERVAL;
  o.fsync_interval_ms = 0;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_open(dir, &o, &db, &err));
  MUST(strata_options_default(&o, &err));
  o.wal_salvage = 2;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_open(dir, &o, &db, &err));

  /* The directory lock: a second handle on the same directory is refused. */
  strata_db *first = open_db(dir, STRATA_FSYNC_INTERVAL);
  CHECK_STATUS(STRATA_ERR_LOCKED, strata_db_open(dir, NULL, &db, &err));
  CHECK(db == NULL);
  /* err may be NULL: the status alone still tells. */
  CHECK(strata_db_open(dir, NULL, &db, NULL) == STRATA_ERR_LOCKED);
  CHECK_STATUS(STRATA_OK, strata_db_close(first, &err));
  /* Closing released the lock. */
  CHECK_STATUS(STRATA_OK, strata_db_open(dir, NULL, &db, &err));
  strata_db_free(&db);
  strata_db_free(&first);
  remove_tree(dir);
}

static void test_null_arguments(void) {
  strata_error *err = NULL;
  char *dir = make_temp_dir("null");
  strata_db *db = open_db(dir, STRATA_FSYNC_NEVER);
  uint64_t a = series(db, "x", "m");
  uint64_t ref;
  const char *vals[] = {"x", "m", "p"};
  const char *with_null[] = {"x", NULL, "p"};
  uint64_t refs[] = {a};
  int64_t ts[] = {1};
  double vs[] = {1};
  strata_series_cursor *cur = NULL;
  strata_series_view view;
  uint32_t has;
  strata_stats st;

  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(NULL, NAMES, vals, 3, &ref, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NULL, vals, 3, &ref, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NAMES, NULL, 3, &ref, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NAMES, with_null, 3, &ref, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NAMES, vals, 3, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NAMES, vals, 100000, &ref, &err));
  /* No labels at all: no metric name. */
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NULL, NULL, 0, &ref, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append(NULL, NAMES, vals, 3, 1, 1, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append(db, NAMES, NULL, 3, 1, 1, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_ref(NULL, a, 1, 1, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_batch(NULL, refs, ts, vs, 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_batch(db, NULL, ts, vs, 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_batch(db, refs, NULL, vs, 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_batch(db, refs, ts, NULL, 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_append_batch(db, refs, ts, vs, (size_t)STRATA_MAX_BATCH_SAMPLES + 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_batch(db, refs, ts, vs, SIZE_MAX, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_histogram(db, a, 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_append_native_histogram(db, a, 1, NULL, &err));
  {
    uint64_t bad = series(db, "bad_native", "x");
    double two[] = {1, 1};
    strata_bucket_span one_span[] = {{0, 1}}; /* covers one bucket, two given */
    strata_native_histogram n = {0, 0, 0, 0, 2, 1, one_span, 1, two, 2, NULL, 0, NULL, 0, NULL, 0};
    CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
                 strata_db_append_native_histogram(db, bad, 1, &n, &err));
    n.positive_bucket_count = 1;
    n.counter_reset_hint = 9;
    CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
                 strata_db_append_native_histogram(db, bad, 1, &n, &err));
    n.counter_reset_hint = 0;
    n.positive_buckets = NULL;
    CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
                 strata_db_append_native_histogram(db, bad, 1, &n, &err));
  }
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_histogram(NULL, a, 1, NULL, &err));
  strata_histogram bad = {NULL, 3, NULL, 4, 0, 0, NAN, NAN};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_histogram(db, a, 1, &bad, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_sync(NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_compact(NULL, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_stats(NULL, &st, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_stats(db, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_stats_json(db, NULL, &err));
  strata_matcher m = {STRATA_MATCH_EQUAL, "__name__", "x"};
  strata_matcher mnull = {STRATA_MATCH_EQUAL, NULL, "x"};
  strata_matcher mbadop = {42, "__name__", "x"};
  strata_matcher mbadre = {STRATA_MATCH_REGEX, "__name__", "(unclosed"};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(NULL, &m, 1, 0, 10, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(db, NULL, 1, 0, 10, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(db, &m, 1, 0, 10, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(db, &mnull, 1, 0, 10, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(db, &mbadop, 1, 0, 10, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(db, &mbadre, 1, 0, 10, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(db, &m, 1000, 0, 10, &cur, &err));
  CHECK(cur == NULL);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_query_range(db, NULL, 0, 10, 1, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_query_range(NULL, "x", 0, 10, 1, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_query_range(db, "x", 0, 10, 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_QUERY_PARSE, strata_db_query_range(db, "sum(", 0, 10, 1, &cur, &err));
  CHECK_STATUS(STRATA_ERR_QUERY_UNSUPPORTED,
               strata_db_query_range(db, "info(x)", 0, 10, 1, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_query_range(db, "x", 0, 10, 0, &cur, &err));
  CHECK(cur == NULL);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_series_cursor_next(NULL, &view, &has, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_series_cursor_remaining(NULL, NULL, &err));
  MUST(strata_db_select(db, &m, 1, 0, 10, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_series_cursor_next(cur, NULL, &has, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_series_cursor_next(cur, &view, NULL, &err));
  strata_series_cursor_free(&cur);
  strata_series_cursor_free(&cur);
  strata_series_cursor_free(NULL);
  CHECK(strata_error_code(NULL) == STRATA_ERR_INVALID_ARGUMENT);
  CHECK(strata_error_message(NULL) != NULL);
  strata_error_free(NULL);
  strata_error_free(&err);
  strata_db_free(NULL);
  CHECK_STATUS(STRATA_OK, strata_db_close(NULL, &err));
  strata_db_free(&db);
  remove_tree(dir);
}

static void test_invalid_utf8_and_labels(void) {
  strata_error *err = NULL;
  char *dir = make_temp_dir("utf8");
  strata_db *db = open_db(dir, STRATA_FSYNC_NEVER);
  uint64_t ref = 0;
  const char *bad_value[] = {"x", "gpt-\xff\xfe", "p"};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NAMES, bad_value, 3, &ref, &err));
  /* The message names the label and the valid prefix. */
  strata_db_series_ref(db, NAMES, bad_value, 3, &ref, &err);
  CHECK(err && strstr(strata_error_message(err), "label 1 value") != NULL);
  CHECK(err && strstr(strata_error_message(err), "UTF-8") != NULL);
  strata_error_free(&err);
  const char *bad_names[] = {"__name__", "mo\xc3", "provider"};
  const char *vals[] = {"x", "m", "p"};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, bad_names, vals, 3, &ref, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append(db, bad_names, vals, 3, 1, 1, &err));
  const char *dup_names[] = {"__name__", "model", "model"};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, dup_names, vals, 3, &ref, &err));
  const char *no_name[] = {"", "m", "p"};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NAMES, no_name, 3, &ref, &err));
  /* An unterminated, oversized string is cut at the maximum, not read without end. */
  size_t big = STRATA_MAX_STRING_BYTES + 10;
  char *huge = malloc(big);
  memset(huge, 'a', big - 1);
  huge[big - 1] = 0;
  const char *huge_vals[] = {"x", huge, "p"};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_series_ref(db, NAMES, huge_vals, 3, &ref, &err));
  free(huge);
  strata_matcher m = {STRATA_MATCH_EQUAL, "model", "\xff"};
  strata_series_cursor *cur = NULL;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_select(db, &m, 1, 0, 1, &cur, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_query_range(db, "x{a=\"\xff\"}", 0, 1, 1, &cur, &err));
  strata_db_free(&db);
  remove_tree(dir);
}

static void test_sample_errors(void) {
  strata_error *err = NULL;
  char *dir = make_temp_dir("samples");
  strata_db *db = open_db(dir, STRATA_FSYNC_NEVER);
  uint64_t a = series(db, "x", "a");
  uint64_t h = series(db, "hist", "a");
  CHECK_STATUS(STRATA_OK, strata_db_append_ref(db, a, 10000, 1, &err));
  CHECK_STATUS(STRATA_ERR_OUT_OF_ORDER, strata_db_append_ref(db, a, 5000, 1, &err));
  CHECK_STATUS(STRATA_ERR_DUPLICATE_TIMESTAMP, strata_db_append_ref(db, a, 10000, 2, &err));
  CHECK_STATUS(STRATA_OK, strata_db_append_ref(db, a, 10000, 1, &err)); /* identical: fine */
  CHECK_STATUS(STRATA_ERR_UNKNOWN_SERIES, strata_db_append_ref(db, 987654, 1, 1, &err));

  /* A batch with refusals: the good samples land, the first refusal is reported. */
  uint64_t refs[] = {a, a, a, 987654, a};
  int64_t ts[] = {11000, 3000, 12000, 13000, 1000};
  double vs[] = {1, 2, 3, 4, 5};
  strata_batch_result r;
  CHECK(strata_db_append_batch(db, refs, ts, vs, 5, &r, &err) == STRATA_ERR_OUT_OF_ORDER);
  CHECK(r.accepted == 2 && r.rejected == 3);
  CHECK(r.first_rejected_index == 1 && r.first_rejected_status == STRATA_ERR_OUT_OF_ORDER);
  CHECK(err && strata_error_code(err) == STRATA_ERR_OUT_OF_ORDER);
  CHECK(err && strstr(strata_error_message(err), "3 of 5 samples refused") != NULL);
  CHECK(err && strstr(strata_error_message(err), "sample 1") != NULL);
  strata_error_free(&err);

  /* Histograms: bad bounds, wrong kind, out of order. */
  double bounds[] = {1, 0.5};
  uint64_t counts[] = {1, 1, 1};
  strata_histogram hist = {bounds, 2, counts, 3, 3, 1, NAN, NAN};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_histogram(db, h, 1000, &hist, &err));
  bounds[1] = 2;
  hist.bucket_count = 2;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_histogram(db, h, 1000, &hist, &err));
  hist.bucket_count = 3;
  CHECK_STATUS(STRATA_OK, strata_db_append_histogram(db, h, 1000, &hist, &err));
  CHECK_STATUS(STRATA_ERR_OUT_OF_ORDER, strata_db_append_histogram(db, h, 500, &hist, &err));
  CHECK_STATUS(STRATA_ERR_KIND_MISMATCH, strata_db_append_histogram(db, a, 20000, &hist, &err));
  CHECK_STATUS(STRATA_ERR_KIND_MISMATCH, strata_db_append_ref(db, h, 2000, 1, &err));
  hist.bound_count = STRATA_MAX_HISTOGRAM_BOUNDS + 1;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_append_histogram(db, h, 3000, &hist, &err));
  strata_db_free(&db);
  remove_tree(dir);
}

static void test_closed_handle(void) {
  strata_error *err = NULL;
  char *dir = make_temp_dir("closed");
  strata_db *db = open_db(dir, STRATA_FSYNC_NEVER);
  uint64_t a = series(db, "x", "a");
  /* A cursor outlives the database it came from. */
  strata_matcher m = {STRATA_MATCH_EQUAL, "__name__", "x"};
  CHECK_STATUS(STRATA_OK, strata_db_append_ref(db, a, 1, 1, &err));
  strata_series_cursor *cur = NULL;
  MUST(strata_db_select(db, &m, 1, 0, 10, &cur, &err));

  CHECK_STATUS(STRATA_OK, strata_db_close(db, &err));
  CHECK_STATUS(STRATA_OK, strata_db_close(db, &err)); /* double close: safe */
  uint64_t ref;
  const char *vals[] = {"x", "a", "p"};
  uint64_t refs[] = {a};
  int64_t ts[] = {2};
  double vs[] = {2};
  strata_stats st;
  strata_series_cursor *cur2 = NULL;
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_series_ref(db, NAMES, vals, 3, &ref, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_append(db, NAMES, vals, 3, 2, 2, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_append_ref(db, a, 2, 2, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_append_batch(db, refs, ts, vs, 1, NULL, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_append_batch(db, NULL, NULL, NULL, 0, NULL, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_sync(db, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_compact(db, NULL, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_stats(db, &st, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_select(db, &m, 1, 0, 10, &cur2, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_query_range(db, "x", 0, 10, 1, &cur2, &err));
  CHECK(cur2 == NULL);

  strata_series_view view;
  uint32_t has = 0;
  CHECK_STATUS(STRATA_OK, strata_series_cursor_next(cur, &view, &has, &err));
  CHECK(has == 1 && view.sample_count == 1 && view.values[0] == 1.0);
  strata_series_cursor_free(&cur);

  strata_db_free(&db);
  CHECK(db == NULL);
  strata_db_free(&db); /* double free through the nulled pointer: a no-op */
  CHECK_STATUS(STRATA_OK, strata_db_close(db, &err));
  remove_tree(dir);
}

int main(void) {
  test_version();
  test_happy_path();
  test_open_errors();
  test_null_arguments();
  test_invalid_utf8_and_labels();
  test_sample_errors();
  test_closed_handle();
  return check_report("test_api");
}
