/* One strata_db handle shared by several pthreads: concurrent batch appends (each thread its
 * own series), per-sample appends, selects and stats at the same time, then a close racing a
 * late appender (which must get STRATA_ERR_CLOSED, never a crash). */
#include <pthread.h>
#include <stdint.h>

#include "check.h"

enum { THREADS = 4, SERIES_PER_THREAD = 50, BATCHES = 40, PER_SERIES = 20 };

typedef struct {
  strata_db *db;
  int id;
  int failures;
  size_t accepted;
} worker;

static void *append_worker(void *arg) {
  worker *w = arg;
  strata_error *err = NULL;
  const char *names[] = {"__name__", "thread", "series"};
  uint64_t refs[SERIES_PER_THREAD];
  for (int s = 0; s < SERIES_PER_THREAD; s++) {
    char tid[16], sid[16];
    snprintf(tid, sizeof tid, "%d", w->id);
    snprintf(sid, sizeof sid, "%d", s);
    const char *values[] = {"concurrent_total", tid, sid};
    if (strata_db_series_ref(w->db, names, values, 3, &refs[s], &err) != STRATA_OK) {
      fprintf(stderr, "series_ref: %s\n", strata_error_message(err));
      strata_error_free(&err);
      w->failures++;
      return NULL;
    }
  }
  enum { N = SERIES_PER_THREAD * PER_SERIES };
  static __thread uint64_t br[N];
  static __thread int64_t bt[N];
  static __thread double bv[N];
  for (int b = 0; b < BATCHES; b++) {
    for (int i = 0; i < N; i++) {
      int s = i % SERIES_PER_THREAD, k = i / SERIES_PER_THREAD;
      br[i] = refs[s];
      bt[i] = ((int64_t)b * PER_SERIES + k) * 1000;
      bv[i] = (double)(b * PER_SERIES + k);
    }
    strata_batch_result r;
    if (strata_db_append_batch(w->db, br, bt, bv, N, &r, &err) != STRATA_OK) {
      fprintf(stderr, "thread %d batch %d: %s\n", w->id, b, strata_error_message(err));
      strata_error_free(&err);
      w->failures++;
    }
    w->accepted += r.accepted;
  }
  return NULL;
}

static void *reader(void *arg) {
  worker *w = arg;
  strata_error *err = NULL;
  strata_matcher m = {STRATA_MATCH_EQUAL, "__name__", "concurrent_total"};
  for (int i = 0; i < 20; i++) {
    strata_series_cursor *cur = NULL;
    if (strata_db_select(w->db, &m, 1, 0, INT64_MAX, &cur, &err) != STRATA_OK) {
      w->failures++;
      strata_error_free(&err);
      continue;
    }
    strata_series_view v;
    uint32_t has;
    while (strata_series_cursor_next(cur, &v, &has, NULL) == STRATA_OK && has) {
      for (size_t j = 1; j < v.sample_count; j++)
        if (v.timestamps_ms[j] <= v.timestamps_ms[j - 1]) w->failures++;
    }
    strata_series_cursor_free(&cur);
    strata_stats st;
    if (strata_db_stats(w->db, &st, NULL) != STRATA_OK) w->failures++;
  }
  return NULL;
}

static void *late_appender(void *arg) {
  worker *w = arg;
  const char *names[] = {"__name__"};
  const char *values[] = {"late"};
  for (int i = 0; i < 2000; i++) {
    strata_status st = strata_db_append(w->db, names, values, 1, i, 1, NULL);
    if (st == STRATA_ERR_CLOSED) return NULL;
    if (st != STRATA_OK) w->failures++;
  }
  return NULL;
}

int main(void) {
  strata_error *err = NULL;
  char *dir = make_temp_dir("threads");
  strata_options o;
  MUST(strata_options_default(&o, &err));
  o.fsync = STRATA_FSYNC_ALWAYS; /* concurrent commits share fsyncs */
  strata_db *db = NULL;
  MUST(strata_db_open(dir, &o, &db, &err));

  pthread_t th[THREADS + 1];
  worker ws[THREADS + 1];
  for (int i = 0; i <= THREADS; i++) {
    ws[i] = (worker){db, i, 0, 0};
    pthread_create(&th[i], NULL, i < THREADS ? append_worker : reader, &ws[i]);
  }
  size_t total = 0;
  for (int i = 0; i <= THREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(ws[i].failures == 0);
    total += ws[i].accepted;
  }
  CHECK(total == (size_t)THREADS * BATCHES * SERIES_PER_THREAD * PER_SERIES);

  strata_stats st;
  MUST(strata_db_stats(db, &st, &err));
  CHECK(st.series == THREADS * SERIES_PER_THREAD);
  CHECK(st.samples == total);

  /* Close while another thread appends: it sees STRATA_ERR_CLOSED, then stops. */
  worker late = {db, 99, 0, 0};
  pthread_t lt;
  pthread_create(&lt, NULL, late_appender, &late);
  CHECK_STATUS(STRATA_OK, strata_db_close(db, &err));
  pthread_join(lt, NULL);
  CHECK(late.failures == 0);
  CHECK_STATUS(STRATA_ERR_CLOSED, strata_db_stats(db, &st, &err));
  strata_db_free(&db);

  /* Everything is there after reopening. */
  MUST(strata_db_open(dir, &o, &db, &err));
  MUST(strata_db_stats(db, &st, &err));
  CHECK(st.samples >= total);
  strata_db_free(&db);
  remove_tree(dir);
  return check_report("test_threads");
}
