/* Small test helpers shared by the C tests: CHECK macros, temp dirs, recursive removal. */
#ifndef STRATA_TEST_CHECK_H
#define STRATA_TEST_CHECK_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

static int check_failures = 0;
static int check_passes = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      check_passes++;                                                            \
    } else {                                                                     \
      check_failures++;                                                          \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

/* Like CHECK, but the test cannot go on without it (what follows relies on it): report and
 * exit at once, instead of reading past a buffer the failed condition was guarding. */
#define REQUIRE(cond)                                                            \
  do {                                                                           \
    if (cond) {                                                                  \
      check_passes++;                                                            \
    } else {                                                                     \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

/* The macros below use a `strata_error *err` in scope, which every call under test fills. */

/* Checks that `call` returned `want`; when it failed, that `err` carries the same code and a
 * non-empty message. Frees `err` either way. */
#define CHECK_STATUS(want, call) check_status((want), (call), &err, #call, __FILE__, __LINE__)

static void check_status(strata_status want, strata_status got, strata_error **err,
                         const char *what, const char *file, int line) {
  int ok = got == want;
  if (got == STRATA_OK) {
    ok = ok && *err == NULL;
  } else {
    ok = ok && *err != NULL && strata_error_code(*err) == got &&
         strlen(strata_error_message(*err)) > 0;
  }
  if (ok) {
    check_passes++;
  } else {
    check_failures++;
    fprintf(stderr, "%s:%d: %s returned %s (%s), want %s\n", file, line, what,
            strata_status_name(got), *err ? strata_error_message(*err) : "no error object",
            strata_status_name(want));
  }
  strata_error_free(err);
}

/* Exits when a call that must succeed does not. */
#define MUST(call) must_ok((call), &err, #call, __FILE__, __LINE__)

static void must_ok(strata_status got, strata_error **err, const char *what, const char *file,
                    int line) {
  if (got != STRATA_OK) {
    fprintf(stderr, "%s:%d: %s failed: %s: %s\n", file, line, what, strata_status_name(got),
            strata_error_message(*err));
    exit(1);
  }
  strata_error_free(err);
}

static char *make_temp_dir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char *path = malloc(4096);
  snprintf(path, 4096, "%s/strata-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  if (!mkdtemp(path)) {
    perror("mkdtemp");
    exit(1);
  }
  return path;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  return remove(path);
}

static void remove_tree(char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(path);
}

/* The plain closing line CI reads: "N passed, N failed". Returns the exit status. */
static int check_report(const char *name) {
  printf("%s: %d passed, %d failed\n", name, check_passes, check_failures);
  return check_failures == 0 ? 0 : 1;
}

#endif
