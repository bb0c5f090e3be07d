/* Spans and OTLP through the C API: every real OpenLLMetry payload of the shared data
 * (STRATA_DATA_DIR/genai-otlp-openllmetry, set by .ci/ffi.sh) imported, then find, trace and
 * genai JSON checked against each other and against the import counts; every error path.
 * Run under AddressSanitizer (with leak detection) by .ci/ffi.sh.
 *
 * The JSON is read with the small reader below (enough for the library's own output: objects,
 * arrays, strings with escapes, numbers, literals), not by matching substrings. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"

/* What the Rust engine counts for the same files (engine/tests/db_spans.rs, the data's
 * README): every span of the 87 v1_traces_*.pb payloads. */
#define WANT_SPANS 18097
#define WANT_TRACE_FILES 87
/* Of which LLM calls (a request or response model): cli/tests/spans_cli.rs counts the same
 * straight from the protobuf. */
#define WANT_LLM_SPANS 9034

/* ---- a minimal JSON reader ------------------------------------------------------------- */

static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

/* p at a value; returns the first byte after it, or NULL if malformed. */
static const char *skip_value(const char *p) {
  p = ws(p);
  if (*p == '"') {
    for (p++; *p && *p != '"'; p++) {
      if (*p == '\\' && !*++p) return NULL;
    }
    return *p == '"' ? p + 1 : NULL;
  }
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
      if (close == '}') {
        p = skip_value(p); /* the key */
        if (!p || *(p = ws(p)) != ':') return NULL;
        p++;
      }
      p = skip_value(p);
      if (!p) return NULL;
      p = ws(p);
      if (*p == ',') {
        p = ws(p + 1);
        continue;
      }
      return *p == close ? p + 1 : NULL;
    }
  }
  const char *start = p;
  while (*p && strchr("+-.0123456789eEtruefalsn", *p)) p++;
  return p > start ? p : NULL;
}

/* The value of `key` in the object at `obj` (top level only), or NULL. */
static const char *field(const char *obj, const char *key) {
  const char *p = ws(obj);
  if (*p != '{') return NULL;
  p = ws(p + 1);
  size_t klen = strlen(key);
  while (*p == '"') {
    const char *k = p + 1;
    const char *after = skip_value(p);
    if (!after || *(after = ws(after)) != ':') return NULL;
    const char *v = ws(after + 1);
    if ((size_t)(after - k) >= klen + 1 && strncmp(k, key, klen) == 0 && k[klen] == '"' &&
        ws(k + klen + 1) == after)
      return v;
    p = skip_value(v);
    if (!p) return NULL;
    p = ws(p);
    if (*p != ',') return NULL;
    p = ws(p + 1);
  }
  return NULL;
}

/* First element of the array at `arr`, NULL when empty or not an array. */
static const char *first(const char *arr) {
  const char *p = ws(arr);
  if (*p != '[') return NULL;
  p = ws(p + 1);
  return *p == ']' ? NULL : p;
}

/* The element after `elem`, NULL at the end. */
static const char *next(const char *elem) {
  const char *p = skip_value(elem);
  if (!p) return NULL;
  p = ws(p);
  return *p == ',' ? ws(p + 1) : NULL;
}

static size_t count(const char *arr) {
  size_t n = 0;
  for (const char *e = first(arr); e; e = next(e)) n++;
  return n;
}

/* Copies a string value without its quotes (escapes kept as written); "" for null/absent. */
static void str(const char *v, char *out, size_t cap) {
  out[0] = 0;
  if (!v || *v != '"') return;
  const char *end = skip_value(v);
  size_t n = (size_t)(end - v) - 2;
  if (n >= cap) n = cap - 1;
  memcpy(out, v + 1, n);
  out[n] = 0;
}

static int is_null(const char *v) { return v && strncmp(v, "null", 4) == 0; }
static int is_str(const char *v) { return v && *v == '"'; }
static double num(const char *v) { return v ? strtod(v, NULL) : -1; }

/* ---- helpers --------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    perror(path);
    exit(1);
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* out = dir/name, exiting if it does not fit. */
static void join(char *out, size_t cap, const char *dir, const char *name) {
  if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap) {
    fprintf(stderr, "path too long: %s/%s\n", dir, name);
    exit(1);
  }
}

static int is_pb(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 3 && strcmp(d->d_name + n - 3, ".pb") == 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "Now" for the database: pinned, so the test passes on any date (the capture grows older
 * every day and the spans bucket keeps 10 days). Set in main from the data itself. */
static int64_t clock_ms = 0;

static strata_db *open_db(const char *dir) {
  strata_error *err = NULL;
  strata_options o;
  MUST(strata_options_default(&o, &err));
  o.fsync = STRATA_FSYNC_NEVER;
  o.clock_fixed_ms = clock_ms;
  strata_db *db = NULL;
  MUST(strata_db_open(dir, &o, &db, &err));
  return db;
}

static char *find_json(strata_db *db, const strata_span_filter *f) {
  strata_error *err = NULL;
  char *json = NULL;
  MUST(strata_db_find_spans_json(db, f, &json, &err));
  return json;
}

static strata_span_filter all_spans(void) {
  strata_error *err = NULL;
  strata_span_filter f;
  MUST(strata_span_filter_default(&f, &err));
  f.limit = 1000000;
  return f;
}

/* Imports every payload; returns the spans stored. Trace payloads are the v1_traces_* files,
 * metric payloads the v1_metrics_* files (the OTLP/HTTP paths they were posted to). */
static uint64_t import_all(strata_db *db, const char *data) {
  strata_error *err = NULL;
  struct dirent **list = NULL;
  int n = scandir(data, &list, is_pb, alphasort);
  if (n <= 0) {
    fprintf(stderr, "no .pb payloads in %s\n", data);
    exit(1);
  }
  uint64_t spans = 0, points = 0, trace_files = 0, metric_files = 0;
  char path[4096];
  for (int i = 0; i < n; i++) {
    join(path, sizeof path, data, list[i]->d_name);
    size_t len = 0;
    char *bytes = read_file(path, &len);
    if (strncmp(list[i]->d_name, "v1_traces_", 10) == 0) {
      uint64_t got = 12345;
      MUST(strata_db_import_otlp_traces(db, (const uint8_t *)bytes, len, &got, &err));
      CHECK(got > 0);
      spans += got;
      trace_files++;
    } else if (strncmp(list[i]->d_name, "v1_metrics_", 11) == 0) {
      strata_otlp_metrics_result r = {1, 1, 1};
      MUST(strata_db_import_otlp_metrics(db, (const uint8_t *)bytes, len, &r, &err));
      points += r.samples + r.histograms;
      metric_files++;
    } else {
      fprintf(stderr, "unexpected payload %s\n", path);
      CHECK(0);
    }
    free(bytes);
    free(list[i]);
  }
  free(list);
  CHECK(trace_files == WANT_TRACE_FILES);
  CHECK(metric_files > 0 && points > 0);
  return spans;
}

/* The newest span start in the capture, in ms: imported into a scratch database. */
static int64_t newest_start_ms(const char *data) {
  char *dir = make_temp_dir("spans-probe");
  strata_db *db = open_db(dir);
  REQUIRE(import_all(db, data) > 0);
  strata_span_filter f = all_spans();
  f.limit = 1; /* newest first */
  char *json = find_json(db, &f);
  const char *h = first(json);
  REQUIRE(h != NULL);
  int64_t start_ns = strtoll(field(h, "start_ns"), NULL, 10);
  strata_string_free(&json);
  strata_db_free(&db);
  remove_tree(dir);
  return start_ns / 1000000;
}

/* ---- the checks ------------------------------------------------------------------------ */

/* Find, trace and genai agree with each other and with the import. */
static void check_queries(strata_db *db, uint64_t imported, const char *phase) {
  strata_error *err = NULL;
  printf("  queries (%s)\n", phase);
  strata_span_filter f = all_spans();
  char *all = find_json(db, &f);
  size_t n = count(all);
  CHECK(n == imported);

  /* Every hit: ids of the right width, LLM calls counted, trace ids collected. */
  char **trace_ids = malloc(n * sizeof *trace_ids);
  size_t llm = 0, i = 0, errors = 0;
  int64_t prev_start = INT64_MAX;
  int newest_first = 1;
  char buf[256];
  for (const char *h = first(all); h; h = next(h), i++) {
    str(field(h, "trace_id"), buf, sizeof buf);
    CHECK(strlen(buf) == 32);
    trace_ids[i] = strdup(buf);
    str(field(h, "span_id"), buf, sizeof buf);
    CHECK(strlen(buf) == 16);
    const char *model = field(h, "model");
    CHECK(is_null(model) || is_str(model));
    if (is_str(model)) llm++;
    if (strncmp(field(h, "status"), "\"error\"", 7) == 0) errors++;
    CHECK(field(h, "attributes") == NULL); /* find returns the hot columns only */
    int64_t start = strtoll(field(h, "start_ns"), NULL, 10);
    if (start > prev_start) newest_first = 0;
    prev_start = start;
  }
  REQUIRE(i == n);
  CHECK(newest_first);
  CHECK(llm == WANT_LLM_SPANS);
  CHECK(errors > 0);

  /* The trace with the most spans (ties: the smallest id), counted from the find result. */
  qsort(trace_ids, n, sizeof *trace_ids, cmp_str);
  size_t best = 0, best_n = 0;
  for (size_t a = 0, b; a < n; a = b) {
    for (b = a; b < n && strcmp(trace_ids[a], trace_ids[b]) == 0; b++) {
    }
    if (b - a > best_n) {
      best = a;
      best_n = b - a;
    }
  }
  REQUIRE(best_n >= 3);
  char id[33];
  snprintf(id, sizeof id, "%s", trace_ids[best]);
  for (size_t k = 0; k < n; k++) free(trace_ids[k]);
  free(trace_ids);

  char *trace = NULL;
  MUST(strata_db_trace_json(db, id, &trace, &err));
  CHECK(count(trace) == best_n);
  char span_ids[64][17];
  size_t ns = 0, roots = 0;
  for (const char *s = first(trace); s && ns < 64; s = next(s)) {
    str(field(s, "trace_id"), buf, sizeof buf);
    CHECK(strcmp(buf, id) == 0);
    str(field(s, "span_id"), span_ids[ns++], 17);
    CHECK(field(s, "attributes") && *field(s, "attributes") == '{'); /* whole spans */
    CHECK(field(s, "resource") && field(s, "events") && field(s, "links") &&
          field(s, "content"));
  }
  for (const char *s = first(trace); s; s = next(s)) {
    const char *parent = field(s, "parent_span_id");
    if (is_null(parent)) {
      roots++;
      continue;
    }
    str(parent, buf, sizeof buf);
    int found = 0;
    for (size_t k = 0; k < ns; k++) found |= strcmp(span_ids[k], buf) == 0;
    CHECK(found); /* every parent link points into the trace */
  }
  CHECK(roots == 1);
  /* Upper-case hex is the same id. */
  char upper[33];
  for (int k = 0; k < 33; k++) upper[k] = (char)(id[k] >= 'a' && id[k] <= 'f' ? id[k] - 32 : id[k]);
  char *again = NULL;
  MUST(strata_db_trace_json(db, upper, &again, &err));
  CHECK(strcmp(again, trace) == 0);
  strata_string_free(&again);
  strata_string_free(&trace);

  /* An unknown trace is an empty array. */
  MUST(strata_db_trace_json(db, "0123456789abcdef0123456789abcdef", &trace, &err));
  CHECK(strcmp(trace, "[]") == 0);
  strata_string_free(&trace);

  /* GenAI by model: the LLM calls, each in one row. */
  char *rows = NULL;
  MUST(strata_db_genai_json(db, NULL, "model", 0, &rows, &err));
  size_t nrows = count(rows);
  CHECK(nrows >= 2);
  uint64_t sum = 0, sum_errors = 0;
  char some_model[256] = "";
  uint64_t some_model_count = 0;
  for (const char *r = first(rows); r; r = next(r)) {
    const char *group = field(r, "group");
    str(field(group, "model"), buf, sizeof buf);
    CHECK(buf[0] != 0);
    CHECK(is_null(field(r, "step_start_ms")));
    uint64_t c = (uint64_t)num(field(r, "count"));
    sum += c;
    sum_errors += (uint64_t)num(field(r, "errors"));
    const char *lat = field(r, "latency_ms");
    CHECK(num(field(lat, "p50")) <= num(field(lat, "p99")));
    if (c > some_model_count) {
      some_model_count = c;
      snprintf(some_model, sizeof some_model, "%s", buf);
    }
  }
  CHECK(sum == llm);
  CHECK(sum_errors > 0);
  strata_string_free(&rows);

  /* Per minute and by two names: the same calls, split further. */
  MUST(strata_db_genai_json(db, NULL, "service, model", 60000000000LL, &rows, &err));
  CHECK(count(rows) > nrows);
  sum = 0;
  for (const char *r = first(rows); r; r = next(r)) {
    sum += (uint64_t)num(field(r, "count"));
    CHECK(!is_null(field(r, "step_start_ms")));
    CHECK(is_str(field(field(r, "group"), "service")));
  }
  CHECK(sum == llm);
  strata_string_free(&rows);

  /* The filter: one model's spans are its row's count; a status; an order; a limit. */
  f = all_spans();
  f.model = some_model;
  char *mine = find_json(db, &f);
  CHECK(count(mine) == some_model_count);
  strata_string_free(&mine);
  f.model = "";
  f.status = STRATA_SPAN_STATUS_ERROR;
  mine = find_json(db, &f);
  CHECK(count(mine) > 0);
  for (const char *h = first(mine); h; h = next(h))
    CHECK(strncmp(field(h, "status"), "\"error\"", 7) == 0);
  strata_string_free(&mine);
  f = all_spans();
  f.order = STRATA_SPAN_ORDER_SLOWEST;
  f.limit = 25;
  f.min_duration_ns = 1000000; /* 1 ms */
  mine = find_json(db, &f);
  CHECK(count(mine) == 25);
  double prev = 1e300;
  for (const char *h = first(mine); h; h = next(h)) {
    double d = num(field(h, "duration_ms"));
    CHECK(d <= prev && d >= 1.0);
    prev = d;
  }
  strata_string_free(&mine);
  f = all_spans();
  f.start_ns = INT64_MAX - 1; /* nothing starts that late */
  mine = find_json(db, &f);
  CHECK(strcmp(mine, "[]") == 0);
  strata_string_free(&mine);
  MUST(strata_db_genai_json(db, &f, "model", 0, &rows, &err));
  CHECK(strcmp(rows, "[]") == 0);
  strata_string_free(&rows);
  /* NULL filter: the defaults (newest 100). */
  mine = find_json(db, NULL);
  CHECK(count(mine) == 100);
  strata_string_free(&mine);

  strata_string_free(&all);
}

static void check_errors(strata_db *db, const char *data) {
  strata_error *err = NULL;
  char *json = (char *)1; /* must be set to NULL by a failing call */
  uint64_t spans = 99;
  strata_otlp_metrics_result mr = {9, 9, 9};
  strata_span_filter f;
  MUST(strata_span_filter_default(&f, &err));
  const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};

  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_span_filter_default(NULL, &err));
  CHECK(f.start_ns == INT64_MIN && f.end_ns == INT64_MAX && f.limit == 100 &&
        f.min_duration_ns < 0 && f.status == STRATA_SPAN_STATUS_ANY &&
        f.order == STRATA_SPAN_ORDER_NEWEST && f.service == NULL);

  /* NULL db. */
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_import_otlp_traces(NULL, garbage, 0, &spans, &err));
  CHECK(spans == 0);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_import_otlp_metrics(NULL, garbage, 0, &mr, &err));
  CHECK(mr.samples == 0 && mr.histograms == 0 && mr.rejected == 0);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_find_spans_json(NULL, &f, &json, &err));
  CHECK(json == NULL);
  json = (char *)1;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_trace_json(NULL, "0123456789abcdef0123456789abcdef", &json, &err));
  CHECK(json == NULL);
  json = (char *)1;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_genai_json(NULL, &f, "model", 0, &json, &err));
  CHECK(json == NULL);

  /* NULL out pointers: the JSON calls need one; the imports' counts are optional. */
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_find_spans_json(db, &f, NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_trace_json(db, "0123456789abcdef0123456789abcdef", NULL, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_genai_json(db, &f, "model", 0, NULL, &err));
  CHECK_STATUS(STRATA_OK, strata_db_import_otlp_traces(db, NULL, 0, NULL, &err));
  CHECK_STATUS(STRATA_OK, strata_db_import_otlp_metrics(db, NULL, 0, NULL, &err));
  /* NULL err is fine too. */
  CHECK(strata_db_find_spans_json(db, &f, NULL, NULL) == STRATA_ERR_INVALID_ARGUMENT);

  /* Empty requests: NULL bytes with length 0, or any pointer with length 0. */
  spans = 99;
  CHECK_STATUS(STRATA_OK, strata_db_import_otlp_traces(db, NULL, 0, &spans, &err));
  CHECK(spans == 0);
  CHECK_STATUS(STRATA_OK, strata_db_import_otlp_traces(db, garbage, 0, &spans, &err));
  mr.samples = 9;
  CHECK_STATUS(STRATA_OK, strata_db_import_otlp_metrics(db, NULL, 0, &mr, &err));
  CHECK(mr.samples == 0 && mr.histograms == 0 && mr.rejected == 0);

  /* NULL bytes with a length; a length over the maximum. */
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_import_otlp_traces(db, NULL, 5, &spans, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_import_otlp_metrics(db, NULL, 5, &mr, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_import_otlp_traces(db, garbage, (size_t)STRATA_MAX_OTLP_BYTES + 1, &spans,
                                            &err));

  /* Garbage protobuf: the decoder's message. */
  spans = 99;
  CHECK(strata_db_import_otlp_traces(db, garbage, sizeof garbage, &spans, &err) ==
        STRATA_ERR_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(strata_error_message(err), "OTLP traces") != NULL);
  CHECK(err != NULL && strstr(strata_error_message(err), "byte") != NULL);
  CHECK(spans == 0);
  strata_error_free(&err);
  CHECK(strata_db_import_otlp_metrics(db, garbage, sizeof garbage, &mr, &err) ==
        STRATA_ERR_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(strata_error_message(err), "OTLP metrics") != NULL);
  strata_error_free(&err);
  /* A metrics payload is not a traces payload (and the reverse). */
  char path[4096];
  join(path, sizeof path, data, "v1_metrics_00000.pb");
  size_t len = 0;
  char *metrics = read_file(path, &len);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_import_otlp_traces(db, (const uint8_t *)metrics, len, &spans, &err));
  free(metrics);

  /* Bad trace ids. */
  const char *bad_ids[] = {"", "xyz", "0123456789abcdef0123456789abcde",
                           "0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcdeg",
                           "+123456789abcdef0123456789abcdef", " 123456789abcdef0123456789abcdef"};
  for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
    json = (char *)1;
    CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_trace_json(db, bad_ids[i], &json, &err));
    CHECK(json == NULL);
  }
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_trace_json(db, NULL, &json, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_trace_json(db, "\xff\xfe", &json, &err));

  /* Bad group-by lists. */
  const char *bad_by[] = {"", "colour", "model,colour", "model,", "Model"};
  for (size_t i = 0; i < sizeof bad_by / sizeof *bad_by; i++) {
    json = (char *)1;
    CHECK(strata_db_genai_json(db, &f, bad_by[i], 0, &json, &err) == STRATA_ERR_INVALID_ARGUMENT);
    CHECK(err != NULL && strstr(strata_error_message(err), "group_by") != NULL);
    CHECK(json == NULL);
    strata_error_free(&err);
  }
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_genai_json(db, &f, NULL, 0, &json, &err));

  /* Bad filters: unknown enum values, invalid UTF-8. */
  strata_span_filter bad = f;
  bad.status = 4;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_find_spans_json(db, &bad, &json, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_genai_json(db, &bad, "model", 0, &json, &err));
  bad = f;
  bad.order = 77;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_find_spans_json(db, &bad, &json, &err));
  bad = f;
  bad.service = "gw\xc3";
  CHECK(strata_db_find_spans_json(db, &bad, &json, &err) == STRATA_ERR_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(strata_error_message(err), "service") != NULL);
  strata_error_free(&err);
}

static void check_closed(strata_db *db) {
  strata_error *err = NULL;
  char *json = NULL;
  uint64_t spans = 0;
  MUST(strata_db_close(db, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_import_otlp_traces(db, NULL, 0, &spans, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_import_otlp_metrics(db, NULL, 0, NULL, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_find_spans_json(db, NULL, &json, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED,
               strata_db_trace_json(db, "0123456789abcdef0123456789abcdef", &json, &err));
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_genai_json(db, NULL, "model", 0, &json, &err));
  CHECK(json == NULL);
}

int main(void) {
  const char *root = getenv("STRATA_DATA_DIR");
  if (!root || !*root) {
    fprintf(stderr, "test_spans: set STRATA_DATA_DIR to the shared data directory "
                    "(.ci/ffi.sh sets it)\n");
    return 1;
  }
  char data[4096];
  join(data, sizeof data, root, "genai-otlp-openllmetry");

  strata_error *err = NULL;
  char *dir = make_temp_dir("spans");
  /* The capture's own time: an hour after its newest span (asked of a scratch database,
   * whose clock does not matter before a compaction). */
  clock_ms = newest_start_ms(data) + 3600 * 1000;
  strata_db *db = open_db(dir);
  uint64_t imported = import_all(db, data);
  CHECK(imported == WANT_SPANS);
  check_queries(db, imported, "in memory");
  check_errors(db, data);

  /* Sealed into partitions, then from disk after a reopen: the same answers. */
  strata_compact_report report;
  MUST(strata_db_compact(db, &report, &err));
  check_queries(db, imported, "sealed");
  check_closed(db);
  strata_db_free(&db);
  db = open_db(dir);
  check_queries(db, imported, "reopened");
  strata_db_free(&db);
  CHECK(db == NULL);

  remove_tree(dir);
  return check_report("test_spans");
}
