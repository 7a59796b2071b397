/* tests/unit/test_scenario_fixture.h: what the scenario tests share — loading that fails the test
 * with the loader's message, running from tests/data so that marks are short relative paths, and
 * finding a record, client or expectation in a model. Header-only (static inline: each test
 * includes what it uses). */
#ifndef AD_TESTS_TEST_SCENARIO_FIXTURE_H
#define AD_TESTS_TEST_SCENARIO_FIXTURE_H

#include "common/buf.h"
#include "scenario/scn.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* to_data is a group setup: the tests run from tests/data ($AD_TEST_DATA). */
static inline int to_data(void **state) {
  const char *data = getenv("AD_TEST_DATA");
  assert_non_null(data);
  assert_int_equal(chdir(data), 0);
  return 0;
}

/* load_ok loads a scenario file, or fails the test with the loader's message. */
static inline struct scn *load_ok(const char *path) {
  struct scn *s = NULL;
  char err[1024] = "";
  enum scn_status st = scn_load(&s, path, err, sizeof err);
  if (st != SCN_OK) {
    fail_msg("%s", err);
  }
  assert_non_null(s);
  return s;
}

/* load_text_ok is load_ok for text in memory, named `path` in marks and messages. */
static inline struct scn *load_text_ok(const char *path, const char *text) {
  struct scn *s = NULL;
  char err[1024] = "";
  if (scn_load_string(&s, path, text, strlen(text), err, sizeof err) != SCN_OK) {
    fail_msg("%s", err);
  }
  return s;
}

/* record returns the first record of `name` and `type`, or NULL. */
static inline const struct scn_record *record(const struct scn *s, const char *name,
                                              uint16_t type) {
  for (size_t i = 0; i < s->n_records; i++) {
    if (strcmp(s->records[i].name, name) == 0 && s->records[i].type == type) {
      return &s->records[i];
    }
  }
  return NULL;
}

/* client returns the client of that model, or NULL. */
static inline const struct scn_client *client(const struct scn *s, const char *model) {
  for (size_t i = 0; i < s->n_clients; i++) {
    if (strcmp(s->clients[i].model, model) == 0) {
      return &s->clients[i];
    }
  }
  return NULL;
}

/* expect_for returns the expectation for that client model, or NULL. */
static inline const struct scn_expect *expect_for(const struct scn *s, const char *model) {
  for (size_t i = 0; i < s->n_expects; i++) {
    if (strcmp(s->expects[i].client, model) == 0) {
      return &s->expects[i];
    }
  }
  return NULL;
}

/* write_file writes `text` to dir/name. */
static inline void write_file(const char *dir, const char *name, const char *text) {
  char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/%s", dir, name));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

#endif
