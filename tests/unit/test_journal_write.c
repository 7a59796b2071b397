/* tests/unit/test_journal_write.c: when the journal's lines reach their file — each as it ends,
 * or once per loop iteration and past a threshold when attached to a loop — that "t" keeps its
 * text with an injected clock, and that lines a write could not take are counted, never written
 * in part. */
#include "journal/jnl.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef F_SETPIPE_SZ /* Linux's, which <fcntl.h> names only with _GNU_SOURCE */
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#endif

struct fixed_clock {
  struct timespec now;
};

static void fixed_clock(void *ctx, struct timespec *out_now) {
  *out_now = ((struct fixed_clock *) ctx)->now;
}

static void write_event(struct jnl *j, const char *name) {
  struct jnl_event ev;
  jnl_begin(&ev, j, name);
  jnl_int(&ev, "n", -42);
  jnl_uint(&ev, "big", UINT64_MAX);
  jnl_int(&ev, "min", INT64_MIN);
  jnl_str(&ev, "s", "a\"b\\c\n\x01 \xc3\xa9 \xff");
  jnl_end(&ev);
}

/* pipe_text reads what a pipe holds now (its write end kept open). */
static size_t pipe_text(int fd, char *out, size_t out_size) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  size_t len = 0;
  ssize_t n;
  while (len + 1 < out_size && (n = read(fd, out + len, out_size - 1 - len)) > 0) {
    len += (size_t) n;
  }
  out[len] = '\0';
  fcntl(fd, F_SETFL, flags);
  return len;
}

static void test_time_text_and_escaping_are_unchanged(void **state) {
  (void) state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  struct jnl *j = jnl_open_fd(p[1]);
  struct fixed_clock clock = {{1795813376, 123456789}}; /* 2026-11-27T21:02:56.123456Z */
  jnl_set_clock(j, fixed_clock, &clock);
  write_event(j, "x");
  clock.now.tv_nsec = 7000; /* the same second again: the cached part, new microseconds */
  write_event(j, "y");
  clock.now = (struct timespec){951782400, 0}; /* 2000-02-29T00:00:00: a leap day */
  write_event(j, "z");
  clock.now = (struct timespec){0, 999999999};
  write_event(j, "e");
  char text[4096];
  pipe_text(p[0], text, sizeof text);
  const char *rest = "\"n\":-42,\"big\":18446744073709551615,\"min\":-9223372036854775808,"
                     "\"s\":\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \\ufffd\"}\n";
  char want[4096];
  snprintf(want, sizeof want,
           "{\"t\":\"2026-11-27T21:02:56.123456Z\",\"ev\":\"x\",%s"
           "{\"t\":\"2026-11-27T21:02:56.000007Z\",\"ev\":\"y\",%s"
           "{\"t\":\"2000-02-29T00:00:00.000000Z\",\"ev\":\"z\",%s"
           "{\"t\":\"1970-01-01T00:00:00.999999Z\",\"ev\":\"e\",%s",
           rest, rest, rest, rest);
  assert_string_equal(text, want);
  assert_int_equal(jnl_n_events(j), 4);
  assert_int_equal(jnl_n_lost(j), 0);
  jnl_close(j);
  close(p[0]);
  close(p[1]);
}

static void test_now_matches_strftime(void **state) {
  (void) state;
  char t[32];
  jnl_now_rfc3339(t);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char want[32];
  strftime(want, sizeof want, "%Y-%m-%dT", &tm);
  assert_int_equal(strlen(t), 27);
  assert_memory_equal(t, want, 11); /* the date (the test does not run across midnight) */
  assert_int_equal(t[26], 'Z');
  assert_int_equal(t[19], '.');
}

static void test_unattached_writes_each_line_as_it_ends(void **state) {
  (void) state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  struct jnl *j = jnl_open_fd(p[1]);
  char text[4096];
  write_event(j, "one");
  assert_non_null(strstr(text + 0 * pipe_text(p[0], text, sizeof text), "\"ev\":\"one\""));
  write_event(j, "two");
  pipe_text(p[0], text, sizeof text);
  assert_non_null(strstr(text, "\"ev\":\"two\""));
  jnl_close(j);
  close(p[0]);
  close(p[1]);
}

struct loop_run {
  struct jnl *j;
  int fd;
  uv_timer_t timer;
  size_t seen_in_callback; /* bytes the pipe held right after the event, in its callback */
  char text[8192];
};

static void on_timer(uv_timer_t *t) {
  struct loop_run *r = t->data;
  write_event(r->j, "in.loop");
  r->seen_in_callback = pipe_text(r->fd, r->text, sizeof r->text);
  uv_close((uv_handle_t *) t, NULL);
}

/* event_in_loop attaches a journal on a pipe (p[1]) to a new loop with `delay_ms`, and runs the
 * loop until a callback has written an event and looked at the pipe (on_timer). The journal
 * alone does not keep the loop running: uv_run returns after that callback's iteration. */
static void event_in_loop(uv_loop_t *loop, int p[2], struct loop_run *r, unsigned delay_ms) {
  uv_loop_init(loop);
  assert_int_equal(pipe(p), 0);
  *r = (struct loop_run){.j = jnl_open_fd(p[1]), .fd = p[0]};
  jnl_attach_loop(r->j, loop);
  jnl_set_delay(r->j, delay_ms);
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, on_timer, 0, 0);
  uv_run(loop, UV_RUN_DEFAULT);
}

static void test_attached_writes_once_per_iteration(void **state) {
  (void) state;
  uv_loop_t loop;
  int p[2];
  struct loop_run r;
  event_in_loop(&loop, p, &r, 0);                      /* every iteration */
  assert_int_equal(r.seen_in_callback, 0);             /* kept while the callback ran ... */
  size_t len = pipe_text(p[0], r.text, sizeof r.text); /* ... written by the iteration's end */
  assert_true(len > 0);
  assert_non_null(strstr(r.text, "\"ev\":\"in.loop\""));
  assert_int_equal(r.text[len - 1], '\n');
  write_event(r.j, "after.loop"); /* no iteration will come: detach writes it */
  assert_int_equal(pipe_text(p[0], r.text, sizeof r.text), 0);
  jnl_detach(r.j);
  assert_non_null(strstr(r.text + 0 * pipe_text(p[0], r.text, sizeof r.text), "after.loop"));
  write_event(r.j, "detached"); /* written through again */
  assert_true(pipe_text(p[0], r.text, sizeof r.text) > 0);
  jnl_close(r.j);
  uv_run(&loop, UV_RUN_DEFAULT); /* the journal's handles' close callbacks */
  test_loop_close(&loop);
  close(p[0]);
  close(p[1]);
}

/* When the journal's lines reach the pipe: a poll handle on its reading end. */
struct arrival {
  uv_poll_t poll;
  uv_timer_t give_up;
  uint64_t at_ms; /* the loop's time when the pipe became readable; 0: not yet */
};

static void on_arrival(uv_poll_t *h, int status, int events) {
  struct arrival *a = h->data;
  a->at_ms = uv_now(h->loop);
  uv_poll_stop(h);
  uv_timer_stop(&a->give_up);
}

static void on_give_up(uv_timer_t *t) {
  struct arrival *a = t->data;
  uv_poll_stop(&a->poll);
}

/* With a delay, lines wait past the iteration that made them, and a timer of the journal's own
 * writes them when the delay is over, though nothing else wakes the loop. */
static void test_attached_writes_after_its_delay(void **state) {
  (void) state;
  uv_loop_t loop;
  int p[2];
  struct loop_run r;
  event_in_loop(&loop, p, &r, 20);
  assert_int_equal(r.seen_in_callback, 0);
  assert_int_equal(pipe_text(p[0], r.text, sizeof r.text), 0); /* not at the iteration's end */
  struct arrival a = {0};
  uint64_t start = uv_now(&loop);
  uv_poll_init(&loop, &a.poll, p[0]);
  uv_timer_init(&loop, &a.give_up);
  a.poll.data = &a;
  a.give_up.data = &a;
  uv_poll_start(&a.poll, UV_READABLE, on_arrival);
  uv_timer_start(&a.give_up, on_give_up, 5000, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(a.at_ms > 0);
  assert_true(a.at_ms - start < 2000); /* 20 ms, with room for a slow machine: not 5 s */
  assert_true(pipe_text(p[0], r.text, sizeof r.text) > 0);
  assert_non_null(strstr(r.text, "\"ev\":\"in.loop\""));
  uv_close((uv_handle_t *) &a.poll, NULL);
  uv_close((uv_handle_t *) &a.give_up, NULL);
  jnl_close(r.j);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  close(p[0]);
  close(p[1]);
}

static void test_threshold_writes_before_the_iteration_ends(void **state) {
  (void) state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  int p[2];
  assert_int_equal(pipe(p), 0);
  struct jnl *j = jnl_open_fd(p[1]);
  jnl_attach_loop(j, &loop);
  jnl_set_threshold(j, 200);
  char text[8192];
  write_event(j, "a"); /* about 150 bytes: kept */
  assert_int_equal(pipe_text(p[0], text, sizeof text), 0);
  write_event(j, "b"); /* past 200: both written, whole */
  size_t len = pipe_text(p[0], text, sizeof text);
  assert_true(len > 200);
  assert_int_equal(text[len - 1], '\n');
  assert_non_null(strstr(text, "\"ev\":\"b\""));
  jnl_flush(j);
  jnl_close(j); /* detaches */
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  close(p[0]);
  close(p[1]);
}

static void test_failed_writes_count_lost_lines(void **state) {
  (void) state;
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    skip();
  }
  struct jnl *j = jnl_open_fd(fd);
  write_event(j, "a");
  write_event(j, "b");
  assert_int_equal(jnl_n_lost(j), 2);
  assert_int_equal(jnl_n_events(j), 2);
  jnl_close(j);
  close(fd);
}

/* A pipe that takes part of a line longer than PIPE_BUF (shorter ones go whole or not at all):
 * the rest is kept and written first at the next flush, the
 * lines after it are lost whole — the reader never sees half a line followed by another. */
static void test_short_write_is_completed_never_interleaved(void **state) {
  (void) state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_true(fcntl(p[1], F_SETPIPE_SZ, 16384) >= 16384);
  int size = fcntl(p[1], F_GETPIPE_SZ);
  fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
  char *fill = xcalloc((size_t) size, 1);
  /* one page of room: a pipe takes a long write page by page */
  memset(fill, '\n', (size_t) size - 4096);
  assert_int_equal(write(p[1], fill, (size_t) size - 4096), size - 4096);
  struct jnl *j = jnl_open_fd(p[1]);
  char *big = xcalloc(6001, 1);
  memset(big, 'x', 6000);
  struct jnl_event ev;
  jnl_begin(&ev, j, "cut");
  jnl_str(&ev, "big", big); /* 4096 bytes go, the rest is kept */
  jnl_end(&ev);
  free(big);
  write_event(j, "lost"); /* the pipe is still full: lost, whole */
  assert_int_equal(jnl_n_lost(j), 1);
  char *text = xcalloc(1, 3 * (size_t) size);
  size_t len = pipe_text(p[0], text, 3 * (size_t) size);
  assert_int_equal(len, (size_t) size);
  assert_true(jnl_flush(j)); /* room again: the line's rest */
  write_event(j, "next");
  len = pipe_text(p[0], text, 3 * (size_t) size);
  const char *cut_rest = text; /* the rest of "cut", then "next" whole */
  const char *nl = strchr(cut_rest, '\n');
  assert_non_null(nl);
  assert_int_equal(strncmp(nl + 1, "{\"t\":\"", 6), 0);
  assert_non_null(strstr(nl + 1, "\"ev\":\"next\""));
  assert_null(strstr(text, "\"ev\":\"lost\""));
  assert_int_equal(text[len - 1], '\n');
  assert_int_equal(jnl_n_lost(j), 1);
  jnl_close(j);
  free(text);
  free(fill);
  close(p[0]);
  close(p[1]);
}

/* A regular file that takes half a line (its size limit): the half line is cut off again. */
static void test_short_write_to_a_file_is_cut_off(void **state) {
  (void) state;
  char *dir = test_tmpdir("jnl-write-");
  char path[4096];
  snprintf(path, sizeof path, "%s/journal.jsonl", dir);
  char err[256];
  struct jnl *j = NULL;
  assert_int_equal(jnl_open(&j, path, err, sizeof err), JNL_OK);
  write_event(j, "whole");
  off_t whole = lseek(open(path, O_RDONLY), 0, SEEK_END); /* fd leaks until exit: a test */
  struct rlimit old;
  getrlimit(RLIMIT_FSIZE, &old);
  struct rlimit lim = {(rlim_t) whole + 50, old.rlim_max};
  signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  write_event(j, "half"); /* 50 bytes fit, then EFBIG */
  setrlimit(RLIMIT_FSIZE, &old);
  assert_int_equal(jnl_n_lost(j), 1);
  write_event(j, "after");
  jnl_close(j);
  FILE *f = fopen(path, "r");
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    assert_int_equal(line[strlen(line) - 1], '\n');
    assert_int_equal(strncmp(line, "{\"t\":\"", 6), 0);
    assert_null(strstr(line, "\"ev\":\"half\""));
    n++;
  }
  fclose(f);
  assert_int_equal(n, 2);
  test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_time_text_and_escaping_are_unchanged),
      cmocka_unit_test(test_now_matches_strftime),
      cmocka_unit_test(test_unattached_writes_each_line_as_it_ends),
      cmocka_unit_test(test_attached_writes_once_per_iteration),
      cmocka_unit_test(test_attached_writes_after_its_delay),
      cmocka_unit_test(test_threshold_writes_before_the_iteration_ends),
      cmocka_unit_test(test_failed_writes_count_lost_lines),
      cmocka_unit_test(test_short_write_is_completed_never_interleaved),
      cmocka_unit_test(test_short_write_to_a_file_is_cut_off),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
