/* Events (OTLP logs) through the C API: every log record of the shared capture
 * STRATA_DATA_DIR/genai-otlp-otel-v2-events imported with strata_db_import_otlp_logs (beside
 * its traces), a trace's events read back with strata_db_trace_events_json and under their
 * span in strata_db_trace_json, before and after a compaction and a reopen; the error paths.
 * Run under AddressSanitizer (with leak detection) by .ci/ffi.sh. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"

/* The capture's log records (its expect.json, an independent decode). */
#define WANT_EVENTS 2277
/* The record the data's README decodes (v1_logs_00000.pb) and its chat span. */
#define TRACE "309c50cc522a62b1eed122d7bc96726a"
#define SPAN "\"bbc3e2df9dfcda09\""

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

static int is_pb(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 3 && strcmp(d->d_name + n - 3, ".pb") == 0;
}

static strata_db *open_db(const char *dir) {
  strata_error *err = NULL;
  strata_options o;
  MUST(strata_options_default(&o, &err));
  o.fsync = STRATA_FSYNC_NEVER;
  /* 2026-12-04: after the capture, inside every bucket's retention. */
  o.clock_fixed_ms = INT64_C(1796400000000);
  strata_db *db = NULL;
  MUST(strata_db_open(dir, &o, &db, &err));
  return db;
}

static uint64_t import_all(strata_db *db, const char *data) {
  strata_error *err = NULL;
  struct dirent **list = NULL;
  int n = scandir(data, &list, is_pb, alphasort);
  REQUIRE(n > 0);
  uint64_t events = 0;
  char path[4096];
  for (int i = 0; i < n; i++) {
    REQUIRE(snprintf(path, sizeof path, "%s/%s", data, list[i]->d_name) < (int)sizeof path);
    size_t len = 0;
    char *bytes = read_file(path, &len);
    uint64_t got = 12345;
    if (strncmp(list[i]->d_name, "v1_traces_", 10) == 0) {
      MUST(strata_db_import_otlp_traces(db, (const uint8_t *)bytes, len, &got, &err));
    } else if (strncmp(list[i]->d_name, "v1_logs_", 8) == 0) {
      MUST(strata_db_import_otlp_logs(db, (const uint8_t *)bytes, len, &got, &err));
      CHECK(got > 0);
      events += got;
    }
    free(bytes);
    free(list[i]);
  }
  free(list);
  return events;
}

static void check_trace(strata_db *db, const char *what) {
  strata_error *err = NULL;
  char *json = NULL;
  MUST(strata_db_trace_events_json(db, TRACE, &json, &err));
  REQUIRE(json != NULL);
  if (!strstr(json, SPAN) || !strstr(json, "gen_ai.input.messages") ||
      !strstr(json, "\"gen_ai.client.inference.operation.details\"")) {
    fprintf(stderr, "%s: events of %s: %.300s\n", what, TRACE, json);
    CHECK(0);
  }
  strata_string_free(&json);
  CHECK(json == NULL);
  MUST(strata_db_trace_json(db, TRACE, &json, &err));
  REQUIRE(json != NULL);
  const char *ev = strstr(json, "\"log_events\":[{");
  CHECK(ev != NULL && strstr(ev, SPAN) != NULL);
  strata_string_free(&json);
}

static void check_errors(strata_db *db) {
  strata_error *err = NULL;
  const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  uint64_t n = 7;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_import_otlp_logs(db, garbage, sizeof garbage, &n, &err));
  CHECK(n == 0);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_import_otlp_logs(NULL, garbage, 0, &n, &err));
  n = 7;
  CHECK_STATUS(STRATA_OK, strata_db_import_otlp_logs(db, NULL, 0, &n, &err));
  CHECK(n == 0);
  CHECK_STATUS(STRATA_OK, strata_db_import_otlp_logs(db, NULL, 0, NULL, &err));
  char *json = (char *)1;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_trace_events_json(db, "xyz", &json, &err));
  CHECK(json == NULL);
  json = (char *)1;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_trace_events_json(NULL, TRACE, &json, &err));
  CHECK(json == NULL);
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_trace_events_json(db, TRACE, NULL, &err));
  MUST(strata_db_trace_events_json(db, "00000000000000000000000000000001", &json, &err));
  CHECK(json != NULL && strcmp(json, "[]") == 0);
  strata_string_free(&json);
}

int main(void) {
  const char *root = getenv("STRATA_DATA_DIR");
  if (!root || !*root) {
    fprintf(stderr, "test_events: set STRATA_DATA_DIR to the shared data directory\n");
    return 1;
  }
  char data[4096];
  REQUIRE(snprintf(data, sizeof data, "%s/genai-otlp-otel-v2-events", root) < (int)sizeof data);
  strata_error *err = NULL;
  char *dir = make_temp_dir("events");
  strata_db *db = open_db(dir);
  CHECK(import_all(db, data) == WANT_EVENTS);
  check_trace(db, "in memory");
  check_errors(db);
  strata_compact_report report;
  MUST(strata_db_compact(db, &report, &err));
  check_trace(db, "sealed");
  strata_db_free(&db);
  db = open_db(dir);
  check_trace(db, "reopened");
  strata_db_free(&db);
  CHECK(db == NULL);
  remove_tree(dir);
  return check_report("test_events");
}
