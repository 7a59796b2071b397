/* lab/probe.c: `autodisco probe` — the client models walked against a real domain: any DNS
 * server (the system's resolver by default), the real network without a port map or a lab
 * clock, the system trust store, and only the credentials the user gave. The walks run one
 * after another on a loop of their own, as in `run`, so the journal reads in order. */
#include "lab/probe.h"

#include "certs/ca.h"
#include "common/addr.h"
#include "common/buf.h"
#include "lab/lab.h"
#include "lab/report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static const char *const default_clients[] = {"outlook-2016-msi", "mso-xdscli"};

const char *lab_probe_default_client(size_t i) {
  return i < sizeof default_clients / sizeof default_clients[0] ? default_clients[i] : NULL;
}

bool lab_probe_clean(const struct sim_transcript *t) {
  return t != NULL && t->success && t->n_prompts == 0;
}

/* --- arguments --- */

/* domain_ok says whether `d` (len bytes) is a DNS name a domain can have: labels of letters,
 * digits and hyphens (not first or last), 1–63 bytes each, 253 in all. */
static bool domain_ok(const char *d, size_t len) {
  if (len == 0 || len > 253) {
    return false;
  }
  size_t label = 0;
  for (size_t i = 0; i <= len; i++) {
    char c = i < len ? d[i] : '.';
    if (c == '.') {
      if (label == 0 || label > 63 || d[i - 1] == '-') {
        return false;
      }
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c == '-' && label > 0)) {
      label++;
    } else {
      return false;
    }
  }
  return true;
}

char *lab_probe_target(const char *arg, bool *out_placeholder, char *err, size_t err_size) {
  *out_placeholder = false;
  if (arg == NULL || arg[0] == '\0') {
    buf_fmt(err, err_size, "probe needs an e-mail address or a domain");
    return NULL;
  }
  const char *at = strrchr(arg, '@');
  if (at != NULL) {
    size_t dlen = strlen(at + 1);
    if (at == arg || strlen(arg) > 254 || !domain_ok(at + 1, dlen)) {
      buf_fmt(err, err_size, "\"%s\" is not an e-mail address (local-part@domain)", arg);
      return NULL;
    }
    return str_dup(arg);
  }
  size_t len = strlen(arg);
  if (len > 1 && arg[len - 1] == '.') {
    len--; /* the root's dot: contoso.com. is contoso.com */
  }
  if (!domain_ok(arg, len)) {
    buf_fmt(err, err_size,
            "\"%s\" is neither an e-mail address nor a domain name (letters, digits, hyphens "
            "and dots)",
            arg);
    return NULL;
  }
  struct buf b;
  buf_init(&b, 512);
  buf_appendf(&b, "%s@%.*s", LAB_PROBE_LOCAL_PART, (int) len, arg);
  char *email = buf_take(&b);
  str_lower(strrchr(email, '@') + 1);
  *out_placeholder = true;
  return email;
}

int lab_probe_read_password(const char *path, char *out, size_t out_size, char *err,
                            size_t err_size) {
  int rc = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    buf_fmt(err, err_size, "--password-file %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  char data[1024];
  ssize_t n = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    buf_fmt(err, err_size, "--password-file %s: not a regular file", path);
    goto out;
  }
  if ((st.st_mode & S_IRWXO) != 0) {
    buf_fmt(err, err_size,
            "--password-file %s: others may read or change it (mode %03o); refusing it — "
            "chmod o-rwx %s (0600 is usual)",
            path, (unsigned) (st.st_mode & 0777), path);
    goto out;
  }
  n = read(fd, data, sizeof data - 1);
  if (n < 0) {
    buf_fmt(err, err_size, "--password-file %s: %s", path, strerror(errno));
    goto out;
  }
  data[n] = '\0';
  size_t len = strcspn(data, "\r\n"); /* a NUL ends it too: it becomes a C string */
  if (len == (size_t) n && n == (ssize_t) sizeof data - 1) {
    buf_fmt(err, err_size, "--password-file %s: its first line is over %zu bytes", path,
            sizeof data - 2);
    goto out;
  }
  if (len == 0) {
    buf_fmt(err, err_size, "--password-file %s: the first line is empty", path);
    goto out;
  }
  if (len >= out_size) {
    buf_fmt(err, err_size, "--password-file %s: the password is over %zu bytes", path,
            out_size - 1);
    goto out;
  }
  memcpy(out, data, len);
  out[len] = '\0';
  rc = 0;
out:
  OPENSSL_cleanse(data, sizeof data);
  close(fd);
  return rc;
}

/* --- the walks --- */

struct probe_run {
  uv_loop_t *loop;
  struct sim_env env;
  const struct lab_probe_options *opt;
  const struct sim_model **models;
  size_t n_models;
  size_t next;
  struct lab_probe *result;
  int status;
  char *err;
  size_t err_size;
  /* progress: the last report, copied (sim_progress strings are borrowed for the call) */
  uv_timer_t tick;
  bool ticking;
  bool have_last;
  struct sim_progress last;
  char step_name[64];
  char host[256];
  char state[32];
  char doing[64];
  char client[64];
  uint64_t step_start_ns;
};

static void report(struct probe_run *r) {
  struct lab_probe_progress p = {
      .at = &r->last,
      .client = r->next,
      .n_clients = r->n_models,
      .step_ms = (double) (uv_hrtime() - r->step_start_ns) / 1e6,
  };
  r->opt->progress(r->opt->progress_arg, &p);
}

static void on_walk_progress(void *arg, const struct sim_progress *p) {
  struct probe_run *r = arg;
  if (!r->have_last || p->step != r->last.step) {
    r->step_start_ns = uv_hrtime();
  }
  r->last = *p;
  buf_fmt(r->client, sizeof r->client, "%s", p->client != NULL ? p->client : "?");
  buf_fmt(r->step_name, sizeof r->step_name, "%s", p->step_name != NULL ? p->step_name : "?");
  buf_fmt(r->host, sizeof r->host, "%s", p->host != NULL ? p->host : "");
  buf_fmt(r->state, sizeof r->state, "%s", p->state != NULL ? p->state : "?");
  buf_fmt(r->doing, sizeof r->doing, "%s", p->doing != NULL ? p->doing : "?");
  r->last.client = r->client;
  r->last.step_name = r->step_name;
  r->last.host = p->host != NULL ? r->host : NULL;
  r->last.state = r->state;
  r->last.doing = r->doing;
  r->have_last = true;
  report(r);
}

static void on_tick(uv_timer_t *t) {
  struct probe_run *r = t->data;
  if (r->have_last && !r->last.ended) {
    report(r);
  }
}

static void stop_ticking(struct probe_run *r) {
  if (r->ticking) {
    r->ticking = false;
    uv_timer_stop(&r->tick);
    uv_close((uv_handle_t *) &r->tick, NULL);
  }
}

static void start_next(struct probe_run *r);

static void on_walk_done(void *arg, struct sim_transcript *t) {
  struct probe_run *r = arg;
  r->result->transcripts[r->result->n++] = t;
  r->next++;
  r->have_last = false;
  start_next(r);
}

static void start_next(struct probe_run *r) {
  if (r->next >= r->n_models) {
    stop_ticking(r);
    return;
  }
  struct sim_walk *walk = NULL;
  char why[512] = "";
  const struct sim_model *m = r->models[r->next];
  if (sim_walk_start(&walk, &r->env, m, r->opt->settings, r->result->email, on_walk_done, r, why,
                     sizeof why) != SIM_OK) {
    buf_fmt(r->err, r->err_size, "%s", why);
    r->status = -1;
    stop_ticking(r);
  }
}

/* resolve_models looks every client model up; -1 with the known ones named otherwise. */
static int resolve_models(struct probe_run *r) {
  const struct lab_probe_options *opt = r->opt;
  size_t n = opt->n_clients;
  bool own = n == 0 && opt->n_models > 0; /* --client-file alone: the user's models */
  if (own) {
    n = opt->n_models;
  } else if (n == 0) {
    while (lab_probe_default_client(n) != NULL) {
      n++;
    }
  }
  r->models = xcalloc(n, sizeof *r->models);
  r->n_models = n;
  for (size_t i = 0; i < n; i++) {
    const char *name = opt->n_clients > 0 ? opt->clients[i]
                       : own              ? sim_model_name(opt->models[i])
                                          : lab_probe_default_client(i);
    r->models[i] = lab_model_named(opt->models, opt->n_models, name);
    if (r->models[i] == NULL) {
      char known[4096];
      lab_models_known(opt->models, opt->n_models, known, sizeof known);
      buf_fmt(r->err, r->err_size, "unknown client model \"%s\" (known: %s)", name, known);
      return -1;
    }
  }
  return 0;
}

static void journal_start(const struct probe_run *r) {
  const struct lab_probe *p = r->result;
  struct jnl_event ev;
  jnl_begin(&ev, r->opt->jnl, "probe.start");
  jnl_str(&ev, "target", r->opt->target);
  jnl_str(&ev, "email", p->email);
  jnl_bool(&ev, "placeholder", p->placeholder);
  jnl_str(&ev, "dns", p->dns); /* null: the system's resolver */
  jnl_str(&ev, "trust", p->trust);
  jnl_str(&ev, "user", p->user); /* null: no credentials are sent */
  jnl_arr_begin(&ev, "clients");
  for (size_t i = 0; i < r->n_models; i++) {
    jnl_str(&ev, NULL, sim_model_name(r->models[i]));
  }
  jnl_arr_end(&ev);
  jnl_end(&ev);
}

/* setup checks and fills everything the walks need; -1 with a sentence in r->err. */
static int setup(struct probe_run *r, struct lab_probe *p) {
  const struct lab_probe_options *opt = r->opt;
  p->email = lab_probe_target(opt->target, &p->placeholder, r->err, r->err_size);
  if (p->email == NULL || resolve_models(r) != 0) {
    return -1;
  }
  if (opt->dns != NULL) {
    if (!addr_parse(opt->dns, 53, &r->env.dns) || addr_port((struct sockaddr *) &r->env.dns) == 0) {
      buf_fmt(r->err, r->err_size,
              "--dns %s: expected ADDR:PORT, [V6]:PORT or an address (port 53)", opt->dns);
      return -1;
    }
    char dns_text[INET6_ADDRSTRLEN + 16];
    addr_format((struct sockaddr *) &r->env.dns, dns_text, sizeof dns_text);
    p->dns = str_dup(dns_text);
  }
  const char *trust = opt->trust_pem != NULL ? opt->trust_pem : ca_trust_system_path();
  if (trust == NULL) {
    buf_fmt(r->err, r->err_size,
            "no system trust store found (SSL_CERT_FILE is unset and none of the usual bundles "
            "such as /etc/ssl/certs/ca-certificates.crt exists); name one with --trust FILE");
    return -1;
  }
  p->trust = str_dup(trust);
  if ((opt->username == NULL) != (opt->password == NULL)) {
    buf_fmt(r->err, r->err_size, "credentials need both a user name and a password");
    return -1;
  }
  p->user = str_dup(opt->username);
  r->env.trust_pem = p->trust;
  r->env.jnl = opt->jnl;
  r->env.timeout_ms = opt->timeout_ms;
  r->env.clock = NULL;             /* real time: the models' real timeouts */
  r->env.map = NULL;               /* the real network: connect where DNS says */
  r->env.real_credentials = true;  /* never the lab's stand-ins */
  r->env.username = opt->username; /* borrowed: the options outlive the walks */
  r->env.password = opt->password;
  if (opt->progress != NULL) {
    r->env.progress = on_walk_progress;
    r->env.progress_arg = r;
  }
  p->transcripts = xcalloc(r->n_models, sizeof *p->transcripts);
  return 0;
}

int lab_probe_run(const struct lab_probe_options *opt, struct lab_probe **out, char *err,
                  size_t err_size) {
  *out = NULL;
  struct lab_probe *p = xcalloc(1, sizeof *p);
  struct probe_run r = {.opt = opt, .result = p, .err = err, .err_size = err_size};
  if (setup(&r, p) != 0) {
    free(r.models);
    lab_probe_free(p);
    return -1;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  r.loop = &loop;
  r.env.loop = &loop;
  journal_start(&r);
  if (opt->progress != NULL && opt->progress_tick_ms > 0) {
    uv_timer_init(&loop, &r.tick);
    r.tick.data = &r;
    uv_timer_start(&r.tick, on_tick, opt->progress_tick_ms, opt->progress_tick_ms);
    r.ticking = true;
  }
  start_next(&r);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) {
    fprintf(stderr, "autodisco: internal: the probe's loop still had open handles\n");
  }
  free(r.models);
  if (r.status != 0) {
    lab_probe_free(p);
    return -1;
  }
  *out = p;
  return 0;
}

void lab_probe_free(struct lab_probe *p) {
  if (p == NULL) {
    return;
  }
  for (size_t i = 0; i < p->n; i++) {
    sim_transcript_free(p->transcripts[i]);
  }
  free(p->transcripts);
  free(p->email);
  free(p->dns);
  free(p->trust);
  free(p->user);
  free(p);
}

void lab_probe_html(FILE *out, const struct lab_probe *p) {
  struct lab_page_section *sections = xcalloc(p->n + 1, sizeof *sections);
  for (size_t i = 0; i < p->n; i++) {
    sections[i] = (struct lab_page_section){.t = p->transcripts[i]};
  }
  char title[600], source[1200];
  buf_fmt(title, sizeof title, "probe %s", p->email);
  buf_fmt(source, sizeof source, "autodisco probe %s (real network, DNS %s, trust %s)", p->email,
          p->dns != NULL ? p->dns : "the system resolver", p->trust != NULL ? p->trust : "none");
  struct lab_page page = {
      .title = title, .source = source, .sections = sections, .n_sections = p->n};
  lab_page_html(out, &page);
  free(sections);
}
