/* tests/unit/test_http_fixture.h: an HTTP session without sockets whose journal is kept in
 * memory, for the session and answer tests. Header-only (static inline). */
#ifndef AD_TESTS_TEST_HTTP_FIXTURE_H
#define AD_TESTS_TEST_HTTP_FIXTURE_H

#include "proxy/http/internal.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>

struct fixture {
  FILE *mem;
  char *text;
  size_t text_len;
  struct jnl *j;
  struct http_session s;
};

/* fixture_new starts a session for `host`'s listener `l` (both must outlive it). */
static inline struct fixture *fixture_new(const struct scn_host *host,
                                          const struct scn_listener *l) {
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->mem = open_memstream(&f->text, &f->text_len);
  f->j = jnl_open_stream(f->mem);
  http__session_init(&f->s, host, l, f->j);
  return f;
}

static inline void fixture_free(struct fixture *f) {
  http__session_cleanup(&f->s);
  jnl_close(f->j);
  fclose(f->mem);
  free(f->text);
  free(f);
}

/* journal returns what the session journaled so far. */
static inline const char *journal(struct fixture *f) {
  fflush(f->mem);
  return f->text == NULL ? "" : f->text;
}

/* out returns the bytes the session has to send. */
static inline const char *out(struct fixture *f) {
  return buf_cstr(&f->s.out);
}

static inline struct slice S(const char *s) { return slice_of_str(s); }

#endif
