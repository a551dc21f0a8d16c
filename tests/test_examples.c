/*
 * The examples print what their Python twins print, in the same order,
 * line for line, under every start method: the seeds' programs whose
 * order is set by joins, queues, locks and blocking applies (not by
 * timing). Numbers of two digits or more (pids, mostly) and decimals
 * (timings) are normalised on both sides (to N and T). The twins ran once at
 * build time (tests/CMakeLists.txt, MPROC_TWINS); here each example runs as a
 * whole program with the leg's start method, its stdout and stderr
 * together.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define OUT_CAP (1 << 16)

/* Digit runs of two or more become "N", decimals "T" (never longer than
 * what they replace); "\r\n" (a Windows program's text mode) becomes
 * "\n". In place. */
static void normalise(char *s)
{
  char *w = s;

  for (const char *r = s; *r != '\0';) {
    size_t n = 0;
    while (isdigit((unsigned char)r[n]))
      n++;
    if (n > 0 && r[n] == '.' && isdigit((unsigned char)r[n + 1])) {
      n++;
      while (isdigit((unsigned char)r[n]))
        n++;
      *w++ = 'T';
      r += n;
    } else if (n >= 2) {
      *w++ = 'N';
      r += n;
    } else if (n == 1) {
      *w++ = *r++;
    } else if (r[0] == '\r' && r[1] == '\n') {
      r++;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
}

/* Report the first line where @got and @want differ; 0 when equal. */
static int compare(const char *name, const char *got, const char *want)
{
  int line = 1;

  while (*got != '\0' || *want != '\0') {
    size_t gl = strcspn(got, "\n"), wl = strcspn(want, "\n");
    if (gl != wl || memcmp(got, want, gl) != 0) {
      fprintf(stderr,
              "%s, line %d:\n  C:      %.*s\n  Python: %.*s\n"
              "whole C output (normalised):\n%s\n",
              name, line, (int)gl, got, (int)wl, want, got);
      return -1;
    }
    got += gl + (got[gl] == '\n');
    want += wl + (want[wl] == '\n');
    line++;
  }
  return 0;
}

/* Run example @name under this leg's method; 0 when its output matches
 * its twin's. */
static int check_example(const char *name, char *got, char *want)
{
  char exe[600], twin[600], out[512];
  const char *argv[] = {exe, NULL};
  int code = -1000, rc;

  snprintf(exe, sizeof exe, "%s/%s%s", MPROC_TEST_EXAMPLES_DIR, name,
           MPROC_TEST_EXE_SUFFIX);
  snprintf(twin, sizeof twin, "%s/%s.out", MPROC_TEST_TWINS_DIR, name);
  if (mproc_test_tmp_path(out, sizeof out) != 0 ||
      mproc_test_read_file(twin, want, OUT_CAP) != 0) {
    fprintf(stderr, "%s: no twin output at %s\n", name, twin);
    return -1;
  }
  rc = mproc_test_run_capture(exe, argv, out, &code);
  if (rc == 0)
    rc = mproc_test_read_file(out, got, OUT_CAP);
  mproc_test_remove(out);
  if (rc != 0 || code != 0) {
    fprintf(stderr, "%s: could not run it, or it failed (exit code %d)\n", name,
            code);
    return -1;
  }
  normalise(got);
  normalise(want);
  return compare(name, got, want);
}

static void test_examples_match_python_twins(void)
{
  char names[] = MPROC_TEST_TWINS;
  char *got = malloc(OUT_CAP), *want = malloc(OUT_CAP);
  int checked = 0;

  if (MPROC_TEST_EXAMPLES_DIR[0] == '\0' || MPROC_TEST_TWINS_DIR[0] == '\0') {
    printf("skipped: %s\n",
           MPROC_TEST_EXAMPLES_DIR[0] == '\0'
               ? "the examples are not built (MPROC_BUILD_EXAMPLES=OFF)"
               : "no python3 at configure time to run the Python twins");
    free(got);
    free(want);
    return;
  }
  CU_ASSERT_PTR_NOT_NULL_FATAL(got);
  CU_ASSERT_PTR_NOT_NULL_FATAL(want);
  /* Each example's processes use the leg's start method. */
  mproc_test_setenv("MPROC_START_METHOD",
                    mproc_start_method_name(mproc_get_start_method()));
  for (char *name = strtok(names, ","); name != NULL;
       name = strtok(NULL, ",")) {
    int same = check_example(name, got, want) == 0;
    CU_ASSERT(same);
    checked++;
  }
  mproc_test_setenv("MPROC_START_METHOD", NULL);
  CU_ASSERT(checked >= 7);
  free(got);
  free(want);
}

void mproc_test_register_examples(void)
{
  static const mproc_test_case_t cases[] = {
      MPROC_TEST_CASE(test_examples_match_python_twins), {NULL, NULL}};

  (void)mproc_test_add_suite("examples", cases);
}
