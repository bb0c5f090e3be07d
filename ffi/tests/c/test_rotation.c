/* Issue 12's reproduction through the C ABI: 1000 series (`m{i="0".."999"}`), 7000 batches of
 * one sample per series 15 s apart (7,000,000 samples, ~29 h: the WAL outgrows a 64 MiB
 * segment while block cuts checkpoint it). Closed cleanly, the database reopens with every
 * sample, strict and in salvage mode; a child that writes the same and is SIGKILLed before it
 * closes leaves a database that also reopens with every acknowledged sample. */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { SERIES = 1000, SCRAPES = 7000 };
#define T0_MS INT64_C(1795000000000)
#define SCRAPE_MS 15000
#define TOTAL ((uint64_t)SERIES * SCRAPES)

static strata_db *open_db(const char *dir, uint32_t salvage) {
  strata_error *err = NULL;
  strata_options o;
  MUST(strata_options_default(&o, &err));
  o.fsync = STRATA_FSYNC_NEVER; /* fsync ALWAYS fails the same way; NEVER only makes it fast */
  o.wal_salvage = salvage;
  o.clock_fixed_ms = T0_MS + (int64_t)SCRAPES * SCRAPE_MS; /* pinned: no test depends on the date */
  strata_db *db = NULL;
  MUST(strata_db_open(dir, &o, &db, &err));
  return db;
}

/* Writes all 7000 scrapes; after each acknowledged one writes its number to `fd` (if >= 0). */
static void write_all(strata_db *db, int fd) {
  strata_error *err = NULL;
  uint64_t *refs = malloc(sizeof(uint64_t) * SERIES);
  int64_t *ts = malloc(sizeof(int64_t) * SERIES);
  double *vs = malloc(sizeof(double) * SERIES);
  const char *names[] = {"__name__", "i"};
  for (int s = 0; s < SERIES; s++) {
    char id[16];
    snprintf(id, sizeof id, "%d", s);
    const char *values[] = {"m", id};
    MUST(strata_db_series_ref(db, names, values, 2, &refs[s], &err));
  }
  for (int k = 0; k < SCRAPES; k++) {
    for (int s = 0; s < SERIES; s++) {
      ts[s] = T0_MS + (int64_t)k * SCRAPE_MS;
      vs[s] = (double)k * SERIES + s;
    }
    strata_batch_result r;
    MUST(strata_db_append_batch(db, refs, ts, vs, SERIES, &r, &err));
    REQUIRE(r.rejected == 0);
    if (fd >= 0) {
      int32_t acked = k + 1;
      if (write(fd, &acked, sizeof acked) != sizeof acked) _exit(3);
    }
  }
  free(refs);
  free(ts);
  free(vs);
}

/* Reopens strict and salvage; each must hold exactly `want` samples and a clean replay. */
static void check_reopens(const char *dir, uint64_t want, const char *phase) {
  strata_error *err = NULL;
  for (uint32_t salvage = 0; salvage <= 1; salvage++) {
    strata_db *db = open_db(dir, salvage);
    strata_stats st;
    MUST(strata_db_stats(db, &st, &err));
    printf("  %s, salvage %u: %llu samples, %llu series, wal %llu bytes\n", phase, salvage,
           (unsigned long long)st.samples, (unsigned long long)st.series,
           (unsigned long long)st.wal_bytes);
    CHECK(st.samples == want);
    CHECK(st.series == SERIES);
    CHECK(st.unattributable_samples == 0);
    CHECK(st.torn_batches == 0);
    CHECK_STATUS(STRATA_OK, strata_db_close(db, &err));
    strata_db_free(&db);
  }
}

int main(void) {
  strata_error *err = NULL;

  /* A clean close. */
  char *dir = make_temp_dir("rotation");
  strata_db *db = open_db(dir, 0);
  write_all(db, -1);
  MUST(strata_db_close(db, &err));
  strata_db_free(&db);
  check_reopens(dir, TOTAL, "clean close");
  remove_tree(dir);

  /* SIGKILL after the last acknowledged batch, before any close. */
  dir = make_temp_dir("rotation-kill");
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    strata_db *child = open_db(dir, 0);
    write_all(child, fds[1]);
    for (;;) pause(); /* killed here, the handle still open */
  }
  close(fds[1]);
  int32_t acked = 0, got;
  while (acked < SCRAPES && read(fds[0], &got, sizeof got) == sizeof got) acked = got;
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  close(fds[0]);
  REQUIRE(acked == SCRAPES);
  check_reopens(dir, TOTAL, "after SIGKILL");
  remove_tree(dir);

  return check_report("test_rotation");
}
