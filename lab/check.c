/* lab/check.c: `check` — every scenario file × its clients, each run with lab_run. Scenarios
 * run in forked worker processes (opt->jobs), each sending its rows back over a pipe as binary
 * frames (lab_check_row_encode); the parent files them under their scenario, so the report
 * comes in the order of the files whichever worker finished first. */
#include "lab/lab.h"
#include "lab/report.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* A worker whose parent is gone exits with this status (nobody reads it). */
#define WORKER_ORPHANED 2

static void note(const struct lab_check_options *opt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* note hands a sentence for people to opt->note. */
static void note(const struct lab_check_options *opt, const char *fmt, ...) {
  if (opt->note == NULL) {
    return;
  }
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  opt->note(opt->arg, text);
}

static void add_row(struct lab_check *k, const struct lab_check_options *opt,
                    struct lab_check_row *row /* taken */) {
  if (row->scenario >= k->n || k->scenarios[row->scenario].done) {
    lab_check_row_cleanup(row); /* not one we asked for: a confused worker */
    return;
  }
  struct lab_check_scenario *o = &k->scenarios[row->scenario];
  o->rows = xrealloc_array(o->rows, o->n_rows + 1, sizeof *o->rows);
  o->rows[o->n_rows++] = *row;
  if (row->verdict == LAB_ERROR || o->n_rows >= o->n_expected) {
    o->done = true;
    k->n_done++;
    if (opt->progress != NULL) {
      opt->progress(opt->arg, k->n_done, k->n, o->path);
    }
  }
}

static void add_error(struct lab_check *k, const struct lab_check_options *opt, uint32_t index,
                      const char *why) {
  struct lab_check_row row = {.scenario = index, .verdict = LAB_ERROR};
  struct buf b;
  buf_init(&b, 64 * 1024);
  buf_appendf(&b, "%s\n", why);
  row.failures = buf_take(&b);
  add_row(k, opt, &row);
}

/* Where run_one's rows go: this process's lab_check, or a worker's pipe. */
struct sink {
  void (*emit)(struct sink *s, struct lab_check_row *row /* taken */);
  struct lab_check *k;
  const struct lab_check_options *opt;
  struct buf frames; /* a worker's frames for one scenario */
};

/* run_one runs scenario `index` and hands each row to the sink. */
static void run_one(struct lab_check *k, const struct lab_check_options *opt, uint32_t index,
                    struct sink *s) {
  struct lab_result *results = NULL;
  size_t n = 0;
  char err[1024];
  struct lab_run_options run = opt->run;
  if (opt->n_variants > 0) {
    run.settings = &opt->variants[k->scenarios[index].variant]; /* --sweep */
  }
  if (lab_run(k->scenarios[index].scn, &run, &results, &n, err, sizeof err) != 0) {
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_appendf(&b, "%s: %s\n", k->scenarios[index].path, err);
    struct lab_check_row row = {.scenario = index, .verdict = LAB_ERROR, .failures = buf_take(&b)};
    s->emit(s, &row);
    return;
  }
  struct lab_check_row *rows = lab_check_rows(index, results, n);
  for (size_t i = 0; opt->html_dir != NULL && i < n; i++) {
    /* the page is written where the walk ran (a worker): only the row travels back; a page
     * that cannot be written is found missing by lab_check_html_index */
    char name[2048], path[4096];
    if (lab_check_page_name(name, sizeof name, k, index, results[i].client->model) &&
        buf_fmt(path, sizeof path, "%s/%s", opt->html_dir, name)) {
      lab_run_html_file(path, k->scenarios[index].scn, &results[i], err, sizeof err);
    }
  }
  for (size_t i = 0; i < n; i++) {
    s->emit(s, &rows[i]); /* takes the strings */
  }
  free(rows);
  lab_results_free(results, n);
}

static void emit_local(struct sink *s, struct lab_check_row *row) {
  add_row(s->k, s->opt, row);
}

static void emit_frame(struct sink *s, struct lab_check_row *row) {
  if (!lab_check_row_encode(&s->frames, row)) {
    /* failures too long for a frame: send the first line of them, marked as cut */
    char *full = row->failures;
    struct buf b;
    buf_init(&b, 64 * 1024);
    const char *nl = full != NULL ? strchr(full, '\n') : NULL;
    buf_append(&b, (struct slice){(const uint8_t *) full, nl != NULL ? (size_t) (nl - full) : 0});
    buf_append_str(&b, " (more failures cut)\n");
    row->failures = buf_take(&b);
    lab_check_row_encode(&s->frames, row);
    free(full);
  }
  lab_check_row_cleanup(row);
}

static void run_here(struct lab_check *k, const struct lab_check_options *opt) {
  struct sink s = {.emit = emit_local, .k = k, .opt = opt};
  for (uint32_t i = 0; i < k->n; i++) {
    if (k->scenarios[i].scn != NULL) {
      run_one(k, opt, i, &s);
    }
  }
}

static bool write_all(int fd, const uint8_t *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return false;
    }
    p += w;
    len -= (size_t) w;
  }
  return true;
}

/* worker claims scenarios from the shared counter until none are left; never returns. */
static void worker(struct lab_check *k, const struct lab_check_options *opt, atomic_uint *next,
                   int fd) {
  struct sink s = {.emit = emit_frame, .k = k, .opt = opt};
  buf_init(&s.frames, 8u * 1024 * 1024);
  for (;;) {
    unsigned i = atomic_fetch_add(next, 1);
    if (i >= k->n) {
      break;
    }
    if (k->scenarios[i].scn == NULL) {
      continue; /* the parent reported it */
    }
    buf_reset(&s.frames);
    run_one(k, opt, i, &s);
    if (!write_all(fd, s.frames.ptr, s.frames.len)) {
      _exit(WORKER_ORPHANED);
    }
  }
  _exit(0);
}

/* read_frames takes every whole frame at the front of `b`; false when the bytes are broken. */
static bool read_frames(struct lab_check *k, const struct lab_check_options *opt, struct buf *b) {
  size_t pos = 0;
  bool ok = true;
  while (pos < b->len) {
    struct lab_check_row row;
    size_t used = lab_check_row_decode((struct slice){b->ptr + pos, b->len - pos}, &row);
    if (used == 0) {
      break;
    }
    if (used == (size_t) -1) {
      ok = false;
      pos = b->len;
      break;
    }
    add_row(k, opt, &row);
    pos += used;
  }
  memmove(b->ptr, b->ptr + pos, b->len - pos);
  b->len -= pos;
  return ok;
}

static void run_forked(struct lab_check *k, const struct lab_check_options *opt, unsigned jobs) {
  atomic_uint *next =
      mmap(NULL, sizeof *next, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (next == MAP_FAILED) {
    note(opt, "cannot share memory with workers (%s): running in this process", strerror(errno));
    run_here(k, opt);
    return;
  }
  atomic_init(next, 0);
  struct pollfd *fds = xcalloc(jobs, sizeof *fds);
  pid_t *pids = xcalloc(jobs, sizeof *pids);
  struct buf *in = xcalloc(jobs, sizeof *in);
  unsigned n_workers = 0;
  fflush(stdout);
  fflush(stderr);
  for (unsigned w = 0; w < jobs; w++) {
    int p[2];
    if (pipe(p) != 0) {
      break;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      for (unsigned o = 0; o < n_workers; o++) {
        close(fds[o].fd);
      }
      worker(k, opt, next, p[1]);
    }
    close(p[1]);
    if (pid < 0) {
      close(p[0]);
      break;
    }
    fds[n_workers] = (struct pollfd){.fd = p[0], .events = POLLIN};
    pids[n_workers] = pid;
    buf_init(&in[n_workers], 64u * 1024 * 1024);
    n_workers++;
  }
  if (n_workers == 0) {
    note(opt, "cannot start worker processes (%s): running in this process", strerror(errno));
    run_here(k, opt);
  }
  unsigned n_open = n_workers;
  while (n_open > 0) {
    if (poll(fds, n_workers, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (unsigned w = 0; w < n_workers; w++) {
      if (fds[w].fd < 0 || fds[w].revents == 0) {
        continue;
      }
      uint8_t chunk[65536];
      ssize_t r = read(fds[w].fd, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) {
        continue;
      }
      bool ok = r > 0 && buf_append(&in[w], (struct slice){chunk, (size_t) r}) &&
                read_frames(k, opt, &in[w]);
      if (!ok) {
        if (r != 0) {
          note(opt, "internal: worker %d sent something that is not a result", (int) pids[w]);
        }
        close(fds[w].fd);
        fds[w].fd = -1;
        n_open--;
      }
    }
  }
  for (unsigned w = 0; w < n_workers; w++) {
    int status = 0;
    while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
      note(opt, "internal: worker %d died of signal %d", (int) pids[w], WTERMSIG(status));
    }
    buf_cleanup(&in[w]);
  }
  free(in);
  free(pids);
  free(fds);
  munmap(next, sizeof *next);
}

void lab_check_run(struct lab_check *k, const char *const *paths, size_t n,
                   const struct lab_check_options *opt) {
  memset(k, 0, sizeof *k);
  size_t n_variants = opt->n_variants > 0 ? opt->n_variants : 1;
  k->n = n * n_variants;
  k->scenarios = xcalloc(k->n > 0 ? k->n : 1, sizeof *k->scenarios);
  size_t n_runnable = 0;
  for (uint32_t i = 0; i < k->n; i++) {
    struct lab_check_scenario *o = &k->scenarios[i];
    o->path = paths[i / n_variants];
    o->variant = i % n_variants;
    o->setting = opt->n_variants > 0 ? opt->variant_labels[o->variant] : NULL;
    char err[1024];
    if (scn_load(&o->scn, o->path, err, sizeof err) != SCN_OK) {
      add_error(k, opt, i, err);
      continue;
    }
    const char **names =
        xcalloc(opt->run.n_clients + o->scn->n_clients + opt->run.n_models + 1, sizeof *names);
    o->n_expected = lab_run_clients(o->scn, &opt->run, names);
    free(names);
    n_runnable++;
  }
  unsigned jobs = opt->jobs;
  if (jobs > n_runnable) {
    jobs = n_runnable > 0 ? (unsigned) n_runnable : 1;
  }
  if (jobs <= 1) {
    run_here(k, opt);
  } else {
    run_forked(k, opt, jobs);
  }
  for (uint32_t i = 0; i < k->n; i++) {
    if (!k->scenarios[i].done) {
      char why[4096];
      buf_fmt(why, sizeof why, "%s: no result: the worker process running it stopped",
              k->scenarios[i].path);
      add_error(k, opt, i, why);
    }
  }
}

void lab_check_cleanup(struct lab_check *k) {
  for (size_t i = 0; k->scenarios != NULL && i < k->n; i++) {
    lab_check_rows_free(k->scenarios[i].rows, k->scenarios[i].n_rows);
    scn_free(k->scenarios[i].scn);
  }
  free(k->scenarios);
  memset(k, 0, sizeof *k);
}

struct lab_check_totals lab_check_count(const struct lab_check *k) {
  struct lab_check_totals t = {0};
  for (size_t i = 0; i < k->n; i++) {
    for (size_t r = 0; r < k->scenarios[i].n_rows; r++) {
      t.by[k->scenarios[i].rows[r].verdict]++;
      t.lab_ms += k->scenarios[i].rows[r].lab_ms;
    }
  }
  return t;
}
