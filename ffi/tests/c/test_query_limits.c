/* Issue 12 through the C ABI: a query that chains or nests without a bound is STRATA_ERR_LIMIT,
 * not a stack overflow, and a query at the limits is answered, all on a pthread with a 256 KiB
 * stack. `1+1+...+1` with 32,767 operators (64 KB) used to crash even an 8 MiB main thread. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"

enum { SMALL_STACK = 256 * 1024, MAX_DEPTH = 256, MAX_NESTING = 64 };

/* `1` followed by `n` copies of `op1`, NUL-terminated; the caller frees it. */
static char *chain(const char *op1, size_t n) {
  size_t k = strlen(op1);
  char *q = malloc(2 + n * k);
  REQUIRE(q != NULL);
  q[0] = '1';
  for (size_t i = 0; i < n; i++) memcpy(q + 1 + i * k, op1, k);
  q[1 + n * k] = '\0';
  return q;
}

/* `n` open parentheses, `1`, `n` closing ones. */
static char *parens(size_t n) {
  char *q = malloc(2 * n + 2);
  REQUIRE(q != NULL);
  memset(q, '(', n);
  q[n] = '1';
  memset(q + n + 1, ')', n);
  q[2 * n + 1] = '\0';
  return q;
}

/* Runs `q` from 0 to 60 s at a 60 s step; on success checks the one series' values are `want`. */
static void expect(strata_db *db, char *q, strata_status want_status, double want) {
  strata_error *err = NULL;
  strata_series_cursor *cur = NULL;
  strata_status got = strata_db_query_range(db, q, 0, 60000, 60000, &cur, &err);
  if (got != want_status) {
    fprintf(stderr, "query of %zu bytes: %s (%s), want %s\n", strlen(q), strata_status_name(got),
            err ? strata_error_message(err) : "no error", strata_status_name(want_status));
  }
  CHECK(got == want_status);
  if (got == STRATA_ERR_LIMIT) {
    CHECK(err != NULL && strstr(strata_error_message(err), "limit") != NULL);
  }
  if (got == STRATA_OK) {
    strata_series_view view;
    memset(&view, 0, sizeof view);
    uint32_t has = 0;
    MUST(strata_series_cursor_next(cur, &view, &has, &err));
    CHECK(has && view.sample_count == 2);
    for (size_t i = 0; has && i < view.sample_count; i++) CHECK(view.values[i] == want);
    strata_series_cursor_free(&cur);
  }
  CHECK(cur == NULL);
  strata_error_free(&err);
  free(q);
}

static void *run(void *arg) {
  strata_db *db = arg;
  /* The reproducers of the issue. */
  expect(db, chain("+1", 32767), STRATA_ERR_LIMIT, 0);
  expect(db, parens(32767), STRATA_ERR_LIMIT, 0);
  expect(db, chain("+1", 600), STRATA_ERR_LIMIT, 0);
  /* At the limits, and one past them. */
  expect(db, chain("+1", MAX_DEPTH - 1), STRATA_OK, MAX_DEPTH);
  expect(db, chain("+1", MAX_DEPTH), STRATA_ERR_LIMIT, 0);
  expect(db, parens(MAX_NESTING), STRATA_OK, 1);
  expect(db, parens(MAX_NESTING + 1), STRATA_ERR_LIMIT, 0);
  return NULL;
}

int main(void) {
  strata_error *err = NULL;
  char *dir = make_temp_dir("query-limits");
  strata_options o;
  MUST(strata_options_default(&o, &err));
  strata_db *db = NULL;
  MUST(strata_db_open(dir, &o, &db, &err));

  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, SMALL_STACK) == 0);
  pthread_t th;
  REQUIRE(pthread_create(&th, &attr, run, db) == 0);
  REQUIRE(pthread_join(th, NULL) == 0);
  pthread_attr_destroy(&attr);

  CHECK_STATUS(STRATA_OK, strata_db_close(db, &err));
  strata_db_free(&db);
  remove_tree(dir);
  return check_report("test_query_limits");
}
