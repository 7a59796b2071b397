/* journal/jnl_out.c: where the journal's lines go and when — one write(2) per line for the
 * short commands, one per JNL_FLUSH_DELAY_MS for serve (jnl_attach_loop) — and the "t" of each
 * line, formatted without strftime. Lines reach the file whole or not at all (docs/journal.md,
 * "Writing"). */
#include "journal/jnl.h"

#include "journal/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_THRESHOLD (64u << 10) /* attached: lines waiting past this are written at once */
#define PENDING_MAX (64u << 20)     /* never reached: a line is at most 1 MiB */
#define SPARE_MAX (64u << 10)       /* a line buffer larger than this is not kept */

/* The handles that write an attached journal's lines (on_loop_turn); their own allocation, freed
 * by their close callbacks, so the journal can be closed before the loop has run them. */
struct jnl_loop {
  uv_loop_t *uv;
  uv_check_t check;     /* after the I/O callbacks: what they wrote */
  uv_prepare_t prepare; /* before the loop waits again: what timers and closes wrote */
  uv_timer_t timer;     /* the loop would wait past the delay: write then */
  struct jnl *j;        /* NULL once detached */
  int n_open_handles;
};

struct jnl {
  int fd;             /* -1: writing to `stream` */
  FILE *stream;       /* jnl_open_stream's, borrowed */
  bool owned_fd;      /* jnl_open opened `fd` */
  bool sync_stdout;   /* fd 1: stdio's stdout buffer goes first, to keep the order of output */
  bool regular;       /* a regular file: a half-written line can be cut off again */
  struct buf pending; /* whole lines not written yet; the first `tail_len` bytes finish a
                       * line the file already holds the start of */
  size_t tail_len;
  size_t threshold;      /* attached: write once pending reaches it */
  unsigned delay_ms;     /* attached: write lines this long after the first of them was made */
  uint64_t first_ms;     /* attached: the loop's time when `pending` last stopped being empty */
  struct jnl_loop *loop; /* NULL: every line is written as it ends */
  struct buf spare;      /* a line buffer kept for the next event */
  jnl_clock_cb clock;
  void *clock_ctx;
  int64_t time_sec;   /* the second time_text spells (valid when time_valid) */
  char time_text[19]; /* 2026-11-27T21:02:56 */
  bool time_valid;
  uint64_t n_events;
  uint64_t n_lost;
};

const char *jnl_strerror(enum jnl_status st) {
  switch (st) {
    case JNL_OK: return "no error";
    case JNL_EIO: return "the journal file cannot be opened";
  }
  return "unknown journal error";
}

static struct jnl *jnl_new(int fd, FILE *stream) {
  struct jnl *j = xcalloc(1, sizeof *j);
  j->fd = fd;
  j->stream = stream;
  buf_init(&j->pending, PENDING_MAX);
  buf_init(&j->spare, 0);
  j->threshold = FLUSH_THRESHOLD;
  j->delay_ms = JNL_FLUSH_DELAY_MS;
  struct stat st;
  j->regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  return j;
}

enum jnl_status jnl_open(struct jnl **out, const char *path, char *err, size_t err_size) {
  *out = NULL;
  if (path == NULL) {
    return JNL_OK;
  }
  if (strcmp(path, "-") == 0) {
    *out = jnl_new(STDOUT_FILENO, NULL);
    (*out)->sync_stdout = true;
    return JNL_OK;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    buf_fmt(err, err_size, "%s: %s", path, strerror(errno));
    return JNL_EIO;
  }
  *out = jnl_new(fd, NULL);
  (*out)->owned_fd = true;
  return JNL_OK;
}

struct jnl *jnl_open_stream(FILE *stream) {
  return jnl_new(-1, stream);
}

struct jnl *jnl_open_fd(int fd) {
  return jnl_new(fd, NULL);
}

void jnl_close(struct jnl *j) {
  if (j == NULL) {
    return;
  }
  jnl_detach(j);
  jnl_flush(j);
  if (j->tail_len > 0) {
    j->n_lost++; /* the file keeps the start of a line whose end could not be written */
  }
  if (j->owned_fd) {
    close(j->fd);
  }
  buf_cleanup(&j->pending);
  buf_cleanup(&j->spare);
  free(j);
}

uint64_t jnl_n_events(const struct jnl *j) {
  return j == NULL ? 0 : j->n_events;
}

uint64_t jnl_n_lost(const struct jnl *j) {
  return j == NULL ? 0 : j->n_lost;
}

void jnl_set_threshold(struct jnl *j, size_t bytes) {
  j->threshold = bytes;
}

void jnl_set_delay(struct jnl *j, unsigned ms) {
  j->delay_ms = ms;
}

/* emit writes `len` bytes and returns how many went out: fewer only when a write failed. */
static size_t emit(struct jnl *j, const uint8_t *p, size_t len) {
  if (j->fd < 0) {
    size_t done = fwrite(p, 1, len, j->stream);
    return fflush(j->stream) == 0 ? done : 0; /* what stdio still holds is as good as lost */
  }
  if (j->sync_stdout) {
    fflush(stdout); /* text printed before the journal's lines (serve's ready line) stays first */
  }
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(j->fd, p + done, len - done);
    if (n > 0) {
      done += (size_t) n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break; /* a full disk, a closed pipe, EAGAIN: the lines that did not go out are counted */
    }
  }
  return done;
}

static uint64_t count_lines(const uint8_t *p, size_t len) {
  uint64_t n = 0;
  for (const uint8_t *end = p + len; (p = memchr(p, '\n', (size_t) (end - p))) != NULL; p++) {
    n++;
  }
  return n;
}

/* cut_half_line takes back the `written` bytes of a line the file holds only the start of;
 * false when it cannot (not a regular file, or the file refused). */
static bool cut_half_line(struct jnl *j, size_t written) {
  if (!j->regular) {
    return false;
  }
  off_t end = lseek(j->fd, 0, SEEK_CUR); /* after an O_APPEND write: the end of what it wrote */
  return end >= (off_t) written && ftruncate(j->fd, end - (off_t) written) == 0;
}

bool jnl_flush(struct jnl *j) {
  if (j == NULL || j->pending.len == 0) {
    return true;
  }
  uint8_t *p = j->pending.ptr;
  size_t len = j->pending.len;
  size_t done = emit(j, p, len);
  if (done == len) {
    buf_reset(&j->pending);
    j->tail_len = 0;
    return true;
  }
  bool mid_line = done > 0 ? p[done - 1] != '\n' : j->tail_len > 0;
  if (!mid_line) {
    j->n_lost += count_lines(p + done, len - done);
    buf_reset(&j->pending);
    j->tail_len = 0;
    return false;
  }
  /* The file ends in half a line: cut it off (and lose that line too), or else keep its rest
   * to write first next time; the lines after it are lost either way, whole. */
  uint8_t *line_end = memchr(p + done, '\n', len - done) + 1;
  uint8_t *line_start = p + done;
  while (line_start > p && line_start[-1] != '\n') {
    line_start--;
  }
  bool in_this_buffer = line_start > p || j->tail_len == 0;
  if (in_this_buffer && cut_half_line(j, (size_t) (p + done - line_start))) {
    j->n_lost += count_lines(line_start, (size_t) (p + len - line_start));
    buf_reset(&j->pending);
    j->tail_len = 0;
    return false;
  }
  j->n_lost += count_lines(line_end, (size_t) (p + len - line_end));
  size_t tail = (size_t) (line_end - (p + done));
  memmove(p, p + done, tail);
  j->pending.len = tail;
  p[tail] = 0;
  j->tail_len = tail;
  return false;
}

struct buf jnl__line_buf(struct jnl *j, size_t max) {
  struct buf b = j->spare;
  buf_init(&j->spare, 0);
  b.max = max;
  buf_reset(&b);
  return b;
}

void jnl__put(struct jnl *j, struct buf *line) {
  j->n_events++;
  if (j->pending.len == 0 && j->loop != NULL) {
    j->first_ms = uv_now(j->loop->uv);
  }
  if (!buf_append(&j->pending, buf_slice(line)) &&
      (jnl_flush(j), !buf_append(&j->pending, buf_slice(line)))) {
    j->n_lost++;
  }
  if (j->loop == NULL || j->pending.len >= j->threshold) {
    jnl_flush(j);
  }
  if (j->spare.ptr == NULL && line->cap <= SPARE_MAX) {
    j->spare = *line;
    buf_init(line, 0);
  } else {
    buf_cleanup(line);
  }
}

static void on_timer(uv_timer_t *h) {
  struct jnl_loop *l = h->data;
  if (l->j != NULL) {
    jnl_flush(l->j);
  }
}

/* on_loop_turn writes what waits once the first of it is JNL_FLUSH_DELAY_MS old; until then a
 * timer makes sure the loop does not sleep past that moment. At low rates this is one write for
 * many lines, not one per iteration (a write(2) to a file costs more than the answer to a
 * cached DNS query); at high rates the threshold writes first. */
static void on_loop_turn(uv_handle_t *h) {
  struct jnl_loop *l = h->data;
  struct jnl *j = l->j;
  if (j == NULL || j->pending.len == 0) {
    return;
  }
  uint64_t waited = uv_now(l->uv) - j->first_ms;
  if (waited >= j->delay_ms) {
    jnl_flush(j);
    uv_timer_stop(&l->timer);
  } else if (!uv_is_active((uv_handle_t *) &l->timer)) {
    uv_timer_start(&l->timer, on_timer, j->delay_ms - waited, 0);
  }
}

static void on_check(uv_check_t *h) {
  on_loop_turn((uv_handle_t *) h);
}

static void on_prepare(uv_prepare_t *h) {
  on_loop_turn((uv_handle_t *) h);
}

static void on_loop_handle_closed(uv_handle_t *h) {
  struct jnl_loop *l = h->data;
  if (--l->n_open_handles == 0) {
    free(l);
  }
}

void jnl_attach_loop(struct jnl *j, uv_loop_t *loop) {
  if (j == NULL || j->loop != NULL) {
    return;
  }
  struct jnl_loop *l = xcalloc(1, sizeof *l);
  l->uv = loop;
  l->j = j;
  uv_check_init(loop, &l->check);
  uv_prepare_init(loop, &l->prepare);
  uv_timer_init(loop, &l->timer);
  l->check.data = l;
  l->prepare.data = l;
  l->timer.data = l;
  l->n_open_handles = 3;
  uv_check_start(&l->check, on_check);
  uv_prepare_start(&l->prepare, on_prepare);
  /* the journal never keeps the loop running: it stops when the lab's handles are gone */
  uv_unref((uv_handle_t *) &l->check);
  uv_unref((uv_handle_t *) &l->prepare);
  uv_unref((uv_handle_t *) &l->timer);
  j->loop = l;
}

void jnl_detach(struct jnl *j) {
  if (j == NULL || j->loop == NULL) {
    return;
  }
  struct jnl_loop *l = j->loop;
  j->loop = NULL;
  l->j = NULL;
  uv_close((uv_handle_t *) &l->check, on_loop_handle_closed);
  uv_close((uv_handle_t *) &l->prepare, on_loop_handle_closed);
  uv_close((uv_handle_t *) &l->timer, on_loop_handle_closed);
  jnl_flush(j);
}

/* civil_from_days turns days since 1970-01-01 into a proleptic Gregorian date (Howard
 * Hinnant's days_from_civil inverse, http://howardhinnant.github.io/date_algorithms.html). */
static void civil_from_days(int64_t days, int64_t *out_y, unsigned *out_m, unsigned *out_d) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned) (days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *out_d = doy - (153 * mp + 2) / 5 + 1;
  *out_m = mp < 10 ? mp + 3 : mp - 9;
  *out_y = (int64_t) yoe + era * 400 + (*out_m <= 2);
}

static void digits(char *out, unsigned value, int n) {
  for (int i = n - 1; i >= 0; i--) {
    out[i] = (char) ('0' + value % 10);
    value /= 10;
  }
}

/* format_seconds writes 2026-11-27T21:02:56 (19 bytes), as strftime's "%Y-%m-%dT%H:%M:%S". */
static void format_seconds(char out[19], int64_t sec) {
  int64_t days = sec / 86400;
  int64_t rem = sec % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999) { /* strftime would write another width: leave it the work */
    char text[32];
    time_t t = (time_t) sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    memset(out, '9', 19);
    memcpy(out, text, strlen(text) < 19 ? strlen(text) : 19);
    return;
  }
  digits(out, (unsigned) y, 4);
  out[4] = '-';
  digits(out + 5, m, 2);
  out[7] = '-';
  digits(out + 8, d, 2);
  out[10] = 'T';
  digits(out + 11, (unsigned) (rem / 3600), 2);
  out[13] = ':';
  digits(out + 14, (unsigned) (rem / 60 % 60), 2);
  out[16] = ':';
  digits(out + 17, (unsigned) (rem % 60), 2);
}

static void format_usec(char out[8], long usec) {
  out[0] = '.';
  digits(out + 1, (unsigned) usec, 6);
  out[7] = 'Z';
}

static void system_clock(void *ctx, struct timespec *out_now) {
  (void) ctx;
  clock_gettime(CLOCK_REALTIME, out_now);
}

void jnl_set_clock(struct jnl *j, jnl_clock_cb clock, void *ctx) {
  j->clock = clock;
  j->clock_ctx = ctx;
  j->time_valid = false;
}

void jnl__time(struct jnl *j, char out[JNL__TIME_LEN]) {
  struct timespec now = {0};
  (j->clock != NULL ? j->clock : system_clock)(j->clock_ctx, &now);
  if (!j->time_valid || j->time_sec != (int64_t) now.tv_sec) {
    format_seconds(j->time_text, (int64_t) now.tv_sec); /* once a second */
    j->time_sec = (int64_t) now.tv_sec;
    j->time_valid = true;
  }
  memcpy(out, j->time_text, sizeof j->time_text);
  format_usec(out + sizeof j->time_text, now.tv_nsec / 1000);
}

void jnl_now_rfc3339(char out[32]) {
  struct timespec now = {0};
  clock_gettime(CLOCK_REALTIME, &now);
  format_seconds(out, (int64_t) now.tv_sec);
  format_usec(out + 19, now.tv_nsec / 1000);
  out[JNL__TIME_LEN] = '\0';
}
