/* Exemplars and metric metadata through the C API: appended, returned as the Prometheus API's
 * JSON (also after a reopen), and every refusal a typed error. Run under AddressSanitizer
 * (with leak detection) by .ci/ffi.sh. */
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"

static strata_db *open_db(const char *dir) {
  strata_error *err = NULL;
  strata_options o;
  MUST(strata_options_default(&o, &err));
  o.fsync = 0;
  o.clock_fixed_ms = 86400 * 1000;
  strata_db *db = NULL;
  MUST(strata_db_open(dir, &o, &db, &err));
  return db;
}

static void check_json(strata_db *db, uint64_t want_exemplars) {
  strata_error *err = NULL;
  strata_matcher m = {.op = 0, .name = "__name__", .value = "llm_latency_seconds_bucket"};
  char *json = NULL;
  MUST(strata_db_exemplars_json(db, &m, 1, 0, 86400 * 1000, &json, &err));
  REQUIRE(json != NULL);
  CHECK(strstr(json, "\"status\":\"success\"") != NULL);
  CHECK(strstr(json, "\"seriesLabels\":{\"__name__\":\"llm_latency_seconds_bucket\",\"le\":\"1\"}") != NULL);
  uint64_t seen = 0;
  for (const char *p = json; (p = strstr(p, "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e47")); p++) seen++;
  CHECK(seen == want_exemplars);
  strata_string_free(&json);
  CHECK(json == NULL);
  MUST(strata_db_metadata_json(db, "llm_latency_seconds", &json, &err));
  REQUIRE(json != NULL);
  CHECK(strstr(json, "\"llm_latency_seconds\":[{\"help\":\"Model call latency.\",\"type\":\"histogram\",\"unit\":\"seconds\"}]") != NULL);
  strata_string_free(&json);
  MUST(strata_db_metadata_json(db, NULL, &json, &err));
  CHECK(json != NULL && strstr(json, "llm_latency_seconds") != NULL);
  strata_string_free(&json);
}

int main(void) {
  char *dir = make_temp_dir("exemplars");
  strata_error *err = NULL;
  strata_db *db = open_db(dir);
  const char *names[] = {"__name__", "le"};
  const char *values[] = {"llm_latency_seconds_bucket", "1"};
  uint64_t ref = 0;
  MUST(strata_db_series_ref(db, names, values, 2, &ref, &err));
  const char *ex_names[] = {"trace_id", "span_id"};
  const char *ex_values[] = {"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"};
  MUST(strata_db_append_exemplar(db, ref, ex_names, ex_values, 2, 0.82, 60000, &err));
  ex_values[0] = "4bf92f3577b34da6a3ce929d0e0e4737";
  MUST(strata_db_append_exemplar(db, ref, ex_names, ex_values, 2, 0.91, 120000, &err));
  /* A repeat is fine; older, unknown series, too long, too far ahead: refused. */
  MUST(strata_db_append_exemplar(db, ref, ex_names, ex_values, 2, 0.91, 120000, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_append_exemplar(db, ref, ex_names, ex_values, 2, 0.5, 1000, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_append_exemplar(db, ref + 100, ex_names, ex_values, 2, 0.5, 200000, &err));
  char long_value[200];
  memset(long_value, 'a', sizeof long_value - 1);
  long_value[sizeof long_value - 1] = 0;
  const char *long_values[] = {long_value, "x"};
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_append_exemplar(db, ref, ex_names, long_values, 2, 0.5, 300000, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_append_exemplar(db, ref, ex_names, ex_values, 2, 0.5, INT64_MAX, &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_append_exemplar(db, ref, NULL, ex_values, 2, 0.5, 300000, &err));
  MUST(strata_db_set_metadata(db, "llm_latency_seconds", "histogram", "seconds",
                              "Model call latency.", &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_set_metadata(db, "x", "bogus", "", "", &err));
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT,
               strata_db_set_metadata(db, NULL, "gauge", "", "", &err));
  char *long_help = malloc(20000);
  memset(long_help, 'h', 19999);
  long_help[19999] = 0;
  CHECK_STATUS(STRATA_ERR_LIMIT, strata_db_set_metadata(db, "y", "gauge", "", long_help, &err));
  free(long_help);
  char *json = (char *)1;
  CHECK_STATUS(STRATA_ERR_INVALID_ARGUMENT, strata_db_exemplars_json(NULL, NULL, 0, 0, 1, &json, &err));
  CHECK(json == NULL);
  check_json(db, 2);
  MUST(strata_db_close(db, &err));
  strata_db_free(&db);
  db = open_db(dir);
  check_json(db, 2);
  strata_db_free(&db);
  remove_tree(dir);
  return check_report("test_exemplars");
}
