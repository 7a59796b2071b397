/* lab/cli/cmd_check.c: `autodisco check` — every scenario × its clients, expectations checked,
 * a summary table, JSON or JUnit for CI. Scenarios run in forked worker processes (--jobs),
 * each sending its rows back over a pipe as binary frames (lab_check_row_encode); the parent
 * reports them in the order of the files, whichever worker finished first. */
#include "lab/cli/cli.h"
#include "lab/lab.h"

#include <errno.h>
#include <getopt.h>
#include <libxml/tree.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char check_usage[] =
    "usage: autodisco check [DIR|FILE]... [--client NAME]... [--jobs N] [--junit FILE] [--json]\n"
    "                       [--real-time] [--timeout MS]\n"
    "       autodisco check SCENARIO --journal JOURNAL --client NAME [--json]\n"
    "\n"
    "Runs every scenario (a folder: its *.yaml files, recursively, sorted; files named _*.yaml\n"
    "are bases for `extends:` and are not run) with each of its clients, checks the\n"
    "expectations and prints a table: scenario, client, verdict (PASS, FAIL, NO-EXPECT when the\n"
    "scenario expects nothing of that client, ERROR when it cannot run), the prompts the user\n"
    "saw and the lab time the walk took. Failed expectations follow the table as\n"
    "file:line:col lines. Default: the folder `scenarios`.\n"
    "Exit status: 0 every expectation holds, 1 one fails, 2 a scenario is bad input (the others\n"
    "still run and are reported).\n"
    "\n"
    "  --client NAME   walk this model in every scenario (repeatable; default: each scenario's)\n"
    "  --jobs N        run scenarios in N worker processes (default: the number of CPUs)\n"
    "  --junit FILE    also write JUnit XML (a testsuite per scenario file, a testcase per\n"
    "                  client; time is lab time)\n"
    "  --json          print JSON instead of the table\n"
    "  --real-time     run timeouts and delays at their real length (default: 1000x faster)\n"
    "  --timeout MS    per network operation, instead of each model's own\n"
    "  --quiet         (before the command) no progress line on stderr\n"
    "  --journal FILE  hold a real client's journal (serve --journal) to the scenario's\n"
    "                  expectations for --client NAME instead of running the model\n";

/* What came back for one scenario file. */
struct outcome {
  struct scn *scn; /* NULL when it did not load */
  size_t n_expected;
  struct lab_check_row *rows;
  size_t n_rows;
  bool done;
};

struct check {
  struct cli_files files;
  struct outcome *out;
  struct lab_run_options ro;
  size_t n_done;
  bool progress;
};

static void add_row(struct check *k, struct lab_check_row *row /* taken */) {
  if (row->scenario >= k->files.n || k->out[row->scenario].done) {
    lab_check_row_cleanup(row); /* not one we asked for: a confused worker */
    return;
  }
  struct outcome *o = &k->out[row->scenario];
  o->rows = xrealloc_array(o->rows, o->n_rows + 1, sizeof *o->rows);
  o->rows[o->n_rows++] = *row;
  if (row->verdict == LAB_ERROR || o->n_rows >= o->n_expected) {
    o->done = true;
    k->n_done++;
    if (k->progress) {
      fprintf(stderr, "\r\033[K[%zu/%zu] %s", k->n_done, k->files.n, k->files.paths[row->scenario]);
      fflush(stderr);
    }
  }
}

static void add_error(struct check *k, uint32_t index, const char *why) {
  struct lab_check_row row = {.scenario = index, .verdict = LAB_ERROR};
  struct buf b;
  buf_init(&b, 64 * 1024);
  buf_appendf(&b, "%s\n", why);
  row.failures = buf_take(&b);
  add_row(k, &row);
}

/* run_one runs scenario `index` and hands each row to `emit`. */
static void run_one(struct check *k, uint32_t index, void (*emit)(void *, struct lab_check_row *),
                    void *arg) {
  struct lab_result *results = NULL;
  size_t n = 0;
  char err[1024];
  if (lab_run(k->out[index].scn, &k->ro, &results, &n, err, sizeof err) != 0) {
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_appendf(&b, "%s: %s\n", k->files.paths[index], err);
    struct lab_check_row row = {.scenario = index, .verdict = LAB_ERROR, .failures = buf_take(&b)};
    emit(arg, &row);
    return;
  }
  struct lab_check_row *rows = lab_check_rows(index, results, n);
  for (size_t i = 0; i < n; i++) {
    emit(arg, &rows[i]); /* takes the strings */
  }
  free(rows);
  lab_results_free(results, n);
}

static void emit_local(void *arg, struct lab_check_row *row) {
  add_row(arg, row);
}

struct sender {
  int fd;
  struct buf frames;
};

static void emit_frame(void *arg, struct lab_check_row *row) {
  struct sender *s = arg;
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
static void worker(struct check *k, atomic_uint *next, int fd) {
  struct sender s = {.fd = fd};
  buf_init(&s.frames, 8u * 1024 * 1024);
  for (;;) {
    unsigned i = atomic_fetch_add(next, 1);
    if (i >= k->files.n) {
      break;
    }
    if (k->out[i].scn == NULL) {
      continue; /* the parent reported it */
    }
    buf_reset(&s.frames);
    run_one(k, i, emit_frame, &s);
    if (!write_all(fd, s.frames.ptr, s.frames.len)) {
      _exit(EXIT_BAD_INPUT); /* the parent is gone */
    }
  }
  _exit(0);
}

/* read_frames takes every whole frame at the front of `b`; false when the bytes are broken. */
static bool read_frames(struct check *k, struct buf *b) {
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
    add_row(k, &row);
    pos += used;
  }
  memmove(b->ptr, b->ptr + pos, b->len - pos);
  b->len -= pos;
  return ok;
}

static void run_forked(struct check *k, unsigned jobs) {
  atomic_uint *next =
      mmap(NULL, sizeof *next, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (next == MAP_FAILED) {
    cli_error("cannot share memory with workers (%s): running in this process", strerror(errno));
    for (uint32_t i = 0; i < k->files.n; i++) {
      if (k->out[i].scn != NULL) {
        run_one(k, i, emit_local, k);
      }
    }
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
      worker(k, next, p[1]);
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
    cli_error("cannot start worker processes (%s): running in this process", strerror(errno));
    for (uint32_t i = 0; i < k->files.n; i++) {
      if (k->out[i].scn != NULL) {
        run_one(k, i, emit_local, k);
      }
    }
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
      bool ok =
          r > 0 && buf_append(&in[w], (struct slice){chunk, (size_t) r}) && read_frames(k, &in[w]);
      if (!ok) {
        if (r != 0) {
          cli_error("internal: worker %d sent something that is not a result", (int) pids[w]);
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
      cli_error("internal: worker %d died of signal %d", (int) pids[w], WTERMSIG(status));
    }
    buf_cleanup(&in[w]);
  }
  free(in);
  free(pids);
  free(fds);
  munmap(next, sizeof *next);
}

/* Output. */

struct totals {
  size_t by[LAB_ERROR + 1];
  double lab_ms;
};

static struct totals count(const struct check *k) {
  struct totals t = {0};
  for (size_t i = 0; i < k->files.n; i++) {
    for (size_t r = 0; r < k->out[i].n_rows; r++) {
      t.by[k->out[i].rows[r].verdict]++;
      t.lab_ms += k->out[i].rows[r].lab_ms;
    }
  }
  return t;
}

static size_t width(const char *s) {
  size_t n = 0;
  for (; *s != 0; s++) {
    n += ((unsigned char) *s & 0xc0) != 0x80; /* count UTF-8 characters, not bytes */
  }
  return n;
}

static void cell(FILE *out, const char *s, size_t w, bool last) {
  fputs(s, out);
  if (!last) {
    for (size_t n = width(s); n < w + 2; n++) {
      fputc(' ', out);
    }
  }
}

static const char *verdict_color(enum lab_verdict v) {
  switch (v) {
    case LAB_PASS: return "\033[32m";
    case LAB_FAIL: return "\033[1;31m";
    case LAB_NO_EXPECT: return "\033[33m";
    case LAB_ERROR: return "\033[1;35m";
  }
  return "";
}

static void print_table(const struct check *k, FILE *out, bool color) {
  enum { N_COLS = 5 };
  static const char *const head[N_COLS] = {"SCENARIO", "CLIENT", "VERDICT", "PROMPTS", "LAB TIME"};
  size_t w[N_COLS];
  for (int i = 0; i < N_COLS; i++) {
    w[i] = width(head[i]);
  }
  for (size_t i = 0; i < k->files.n; i++) {
    size_t sw = width(k->files.paths[i]);
    w[0] = sw > w[0] ? sw : w[0];
    for (size_t r = 0; r < k->out[i].n_rows; r++) {
      const struct lab_check_row *row = &k->out[i].rows[r];
      size_t cw = row->client != NULL ? width(row->client) : 1;
      size_t pw = row->prompts != NULL && row->prompts[0] != 0 ? width(row->prompts) : 1;
      w[1] = cw > w[1] ? cw : w[1];
      w[3] = pw > w[3] ? pw : w[3];
    }
  }
  w[2] = width("NO-EXPECT");
  for (int i = 0; i < N_COLS; i++) {
    cell(out, head[i], w[i], i == N_COLS - 1);
  }
  fputc('\n', out);
  for (size_t i = 0; i < k->files.n; i++) {
    for (size_t r = 0; r < k->out[i].n_rows; r++) {
      const struct lab_check_row *row = &k->out[i].rows[r];
      char ms[32] = "-";
      if (row->verdict != LAB_ERROR) {
        lab_format_ms(ms, sizeof ms, row->lab_ms);
      }
      cell(out, k->files.paths[i], w[0], false);
      cell(out, row->client != NULL ? row->client : "-", w[1], false);
      if (color) {
        fputs(verdict_color(row->verdict), out);
      }
      fputs(lab_verdict_name(row->verdict), out);
      if (color) {
        fputs("\033[0m", out);
      }
      for (size_t n = width(lab_verdict_name(row->verdict)); n < w[2] + 2; n++) {
        fputc(' ', out);
      }
      cell(out, row->prompts != NULL && row->prompts[0] != 0 ? row->prompts : "-", w[3], false);
      cell(out, ms, w[4], true);
      fputc('\n', out);
    }
  }
  bool header = false;
  for (size_t i = 0; i < k->files.n; i++) {
    for (size_t r = 0; r < k->out[i].n_rows; r++) {
      const struct lab_check_row *row = &k->out[i].rows[r];
      if (row->failures == NULL || row->failures[0] == 0) {
        continue;
      }
      if (!header) {
        fputc('\n', out);
        header = true;
      }
      fputs(row->failures, out);
    }
  }
  struct totals t = count(k);
  fprintf(out,
          "\n%zu passed, %zu failed, %zu without expectations, %zu could not run (%zu "
          "scenario%s)\n",
          t.by[LAB_PASS], t.by[LAB_FAIL], t.by[LAB_NO_EXPECT], t.by[LAB_ERROR], k->files.n,
          k->files.n == 1 ? "" : "s");
}

static void json_lines(struct jnl_event *doc, const char *key, const char *text) {
  jnl_arr_begin(doc, key);
  const char *line = text != NULL ? text : "";
  while (*line != 0) {
    const char *nl = strchr(line, '\n');
    size_t len = nl != NULL ? (size_t) (nl - line) : strlen(line);
    jnl_strn(doc, NULL, (struct slice){(const uint8_t *) line, len});
    line += len + (nl != NULL ? 1 : 0);
  }
  jnl_arr_end(doc);
}

static void print_json(const struct check *k, FILE *out, int rc) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_arr_begin(&doc, "scenarios");
  for (size_t i = 0; i < k->files.n; i++) {
    const struct outcome *o = &k->out[i];
    jnl_obj_begin(&doc, NULL);
    jnl_str(&doc, "path", k->files.paths[i]);
    jnl_str(&doc, "name", o->scn != NULL ? o->scn->name : NULL);
    jnl_arr_begin(&doc, "results");
    for (size_t r = 0; r < o->n_rows; r++) {
      const struct lab_check_row *row = &o->rows[r];
      jnl_obj_begin(&doc, NULL);
      jnl_str(&doc, "client", row->client);
      jnl_str(&doc, "verdict", lab_verdict_name(row->verdict));
      jnl_str(&doc, "prompts", row->prompts);
      jnl_double(&doc, "lab_ms", row->lab_ms);
      json_lines(&doc, "failures", row->failures);
      jnl_obj_end(&doc);
    }
    jnl_arr_end(&doc);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  struct totals t = count(k);
  jnl_obj_begin(&doc, "totals");
  jnl_uint(&doc, "pass", t.by[LAB_PASS]);
  jnl_uint(&doc, "fail", t.by[LAB_FAIL]);
  jnl_uint(&doc, "no_expect", t.by[LAB_NO_EXPECT]);
  jnl_uint(&doc, "error", t.by[LAB_ERROR]);
  jnl_obj_end(&doc);
  jnl_int(&doc, "exit", rc);
  char *text = jnl_doc_take(&doc);
  fputs(text, out);
  fputc('\n', out);
  free(text);
}

/* xml_text makes a string safe for an XML 1.0 document: control characters other than tab and
 * newline become '?'. */
static xmlChar *xml_text(const char *s) {
  char *copy = str_dup(s != NULL ? s : "");
  for (char *p = copy; *p != 0; p++) {
    if ((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n') {
      *p = '?';
    }
  }
  return (xmlChar *) copy;
}

static void xml_prop(xmlNodePtr node, const char *name, const char *value) {
  xmlChar *v = xml_text(value);
  xmlNewProp(node, (const xmlChar *) name, v);
  free(v);
}

static void xml_prop_count(xmlNodePtr node, const char *name, size_t n) {
  char v[32];
  buf_fmt(v, sizeof v, "%zu", n);
  xml_prop(node, name, v);
}

static void xml_prop_seconds(xmlNodePtr node, double ms) {
  char v[32];
  buf_fmt(v, sizeof v, "%.3f", ms / 1000);
  xml_prop(node, "time", v);
}

static xmlNodePtr xml_child(xmlNodePtr parent, const char *name, const char *text) {
  xmlChar *t = text != NULL ? xml_text(text) : NULL;
  xmlNodePtr n = xmlNewTextChild(parent, NULL, (const xmlChar *) name, t);
  free(t);
  return n;
}

/* first_line copies the first line of `text` for a message attribute. */
static char *first_line(const char *text) {
  const char *s = text != NULL ? text : "";
  const char *nl = strchr(s, '\n');
  return str_ndup(s, nl != NULL ? (size_t) (nl - s) : strlen(s));
}

static int write_junit(const struct check *k, const char *path) {
  char host[256] = "localhost";
  if (gethostname(host, sizeof host) != 0) {
    buf_fmt(host, sizeof host, "localhost");
  }
  host[sizeof host - 1] = 0;
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

  xmlDocPtr doc = xmlNewDoc((const xmlChar *) "1.0");
  xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *) "testsuites");
  xmlDocSetRootElement(doc, root);
  struct totals all = count(k);
  xml_prop(root, "name", "autodisco check");
  xml_prop_count(root, "tests",
                 all.by[LAB_PASS] + all.by[LAB_FAIL] + all.by[LAB_NO_EXPECT] + all.by[LAB_ERROR]);
  xml_prop_count(root, "failures", all.by[LAB_FAIL]);
  xml_prop_count(root, "errors", all.by[LAB_ERROR]);
  xml_prop_count(root, "skipped", all.by[LAB_NO_EXPECT]);
  xml_prop_seconds(root, all.lab_ms);
  for (size_t i = 0; i < k->files.n; i++) {
    const struct outcome *o = &k->out[i];
    size_t by[LAB_ERROR + 1] = {0};
    double ms = 0;
    for (size_t r = 0; r < o->n_rows; r++) {
      by[o->rows[r].verdict]++;
      ms += o->rows[r].lab_ms;
    }
    xmlNodePtr suite = xmlNewChild(root, NULL, (const xmlChar *) "testsuite", NULL);
    xml_prop(suite, "name", k->files.paths[i]);
    xml_prop_count(suite, "tests", o->n_rows);
    xml_prop_count(suite, "failures", by[LAB_FAIL]);
    xml_prop_count(suite, "errors", by[LAB_ERROR]);
    xml_prop_count(suite, "skipped", by[LAB_NO_EXPECT]);
    xml_prop_seconds(suite, ms);
    xml_prop(suite, "timestamp", stamp);
    xml_prop(suite, "hostname", host);
    for (size_t r = 0; r < o->n_rows; r++) {
      const struct lab_check_row *row = &o->rows[r];
      xmlNodePtr tc = xmlNewChild(suite, NULL, (const xmlChar *) "testcase", NULL);
      xml_prop(tc, "name", row->client != NULL ? row->client : "(scenario)");
      xml_prop(tc, "classname", k->files.paths[i]);
      xml_prop_seconds(tc, row->lab_ms);
      char *msg = first_line(row->failures);
      if (row->verdict == LAB_FAIL) {
        xmlNodePtr f = xml_child(tc, "failure", row->failures);
        xml_prop(f, "message", msg);
        xml_prop(f, "type", "expectation");
      } else if (row->verdict == LAB_ERROR) {
        xmlNodePtr f = xml_child(tc, "error", row->failures);
        xml_prop(f, "message", msg);
        xml_prop(f, "type", "bad-input");
      } else if (row->verdict == LAB_NO_EXPECT) {
        xmlNodePtr f = xml_child(tc, "skipped", NULL);
        xml_prop(f, "message", "the scenario expects nothing of this client");
      }
      free(msg);
      if (row->verdict != LAB_ERROR) {
        struct buf out;
        buf_init(&out, 64 * 1024);
        buf_appendf(&out, "prompts: %s\n", row->prompts[0] != 0 ? row->prompts : "none");
        char ms_text[32];
        lab_format_ms(ms_text, sizeof ms_text, row->lab_ms);
        buf_appendf(&out, "lab time: %s\n", ms_text);
        xml_child(tc, "system-out", buf_cstr(&out));
        buf_cleanup(&out);
      }
    }
  }
  int rc = xmlSaveFormatFileEnc(path, doc, "UTF-8", 1) < 0 ? -1 : 0;
  xmlFreeDoc(doc);
  return rc;
}

static unsigned default_jobs(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 && n < 256 ? (unsigned) n : 1;
}

int cmd_check(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"client", required_argument, NULL, 'c'}, {"jobs", required_argument, NULL, 'j'},
      {"junit", required_argument, NULL, 'u'},  {"json", no_argument, NULL, 'J'},
      {"real-time", no_argument, NULL, 'r'},    {"timeout", required_argument, NULL, 't'},
      {"quiet", no_argument, NULL, 'q'},        {"journal", required_argument, NULL, 'L'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  struct check k = {0};
  const char **clients = xcalloc((size_t) argc, sizeof *clients);
  size_t n_clients = 0;
  unsigned jobs = default_jobs();
  const char *junit = NULL;
  bool json = false;
  const char *journal = NULL;
  struct ca *ca = NULL;
  int rc = EXIT_BAD_INPUT;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "c:j:u:Jrt:qh", opts, NULL)) != -1) {
    switch (opt) {
      case 'c': clients[n_clients++] = optarg; break;
      case 'u': junit = optarg; break;
      case 'J': json = true; break;
      case 'r': k.ro.clock_scale = 1; break;
      case 'q': c->quiet = true; break;
      case 'L': journal = optarg; break;
      case 'j': {
        uint32_t n = 0;
        if (!parse_u32(optarg, 1, 256, &n)) {
          cli_error("--jobs %s: expected a number of processes (1..256)", optarg);
          goto out;
        }
        jobs = n;
        break;
      }
      case 't': {
        uint32_t ms = 0;
        if (!parse_u32(optarg, 1, 3600000, &ms)) {
          cli_error("--timeout %s: expected milliseconds (1..3600000)", optarg);
          goto out;
        }
        k.ro.timeout_ms = ms;
        break;
      }
      case 'h':
        fputs(check_usage, stdout);
        rc = EXIT_HOLDS;
        goto out;
      default: fputs(check_usage, stderr); goto out;
    }
  }
  if (journal != NULL) {
    rc = cmd_check_journal(c, journal, (const char *const *) argv + optind,
                           (size_t) (argc - optind), clients, n_clients, json);
    goto out;
  }
  if (optind == argc && !cli_files_add(&k.files, "scenarios")) {
    goto out;
  }
  for (int i = optind; i < argc; i++) {
    if (!cli_files_add(&k.files, argv[i])) {
      goto out;
    }
  }
  if (k.files.n == 0) {
    cli_error("no scenario files (*.yaml) found");
    goto out;
  }
  ca = cli_open_ca(c);
  if (ca == NULL) {
    goto out;
  }
  k.ro.ca = ca;
  k.ro.clients = clients;
  k.ro.n_clients = n_clients;
  k.progress = !c->quiet && isatty(STDERR_FILENO);
  k.out = xcalloc(k.files.n, sizeof *k.out);
  size_t n_runnable = 0;
  for (uint32_t i = 0; i < k.files.n; i++) {
    char err[1024];
    if (scn_load(&k.out[i].scn, k.files.paths[i], err, sizeof err) != SCN_OK) {
      add_error(&k, i, err);
      continue;
    }
    const struct scn *s = k.out[i].scn;
    k.out[i].n_expected = n_clients > 0 ? n_clients : s->n_clients > 0 ? s->n_clients : 1;
    n_runnable++;
  }
  if (jobs > n_runnable) {
    jobs = n_runnable > 0 ? (unsigned) n_runnable : 1;
  }
  if (jobs <= 1) {
    for (uint32_t i = 0; i < k.files.n; i++) {
      if (k.out[i].scn != NULL) {
        run_one(&k, i, emit_local, &k);
      }
    }
  } else {
    run_forked(&k, jobs);
  }
  for (uint32_t i = 0; i < k.files.n; i++) {
    if (!k.out[i].done) {
      char why[4096];
      buf_fmt(why, sizeof why, "%s: no result: the worker process running it stopped",
              k.files.paths[i]);
      add_error(&k, i, why);
    }
  }
  if (k.progress) {
    fputs("\r\033[K", stderr);
  }
  struct totals t = count(&k);
  rc = t.by[LAB_ERROR] > 0 ? EXIT_BAD_INPUT : t.by[LAB_FAIL] > 0 ? EXIT_FAILS : EXIT_HOLDS;
  if (json) {
    print_json(&k, stdout, rc);
  } else {
    print_table(&k, stdout, c->color);
  }
  if (junit != NULL && write_junit(&k, junit) != 0) {
    cli_error("--junit %s: cannot write it", junit);
    rc = EXIT_BAD_INPUT;
  }
out:
  for (size_t i = 0; k.out != NULL && i < k.files.n; i++) {
    lab_check_rows_free(k.out[i].rows, k.out[i].n_rows);
    scn_free(k.out[i].scn);
  }
  free(k.out);
  cli_files_cleanup(&k.files);
  ca_free(ca);
  free(clients);
  return rc;
}
