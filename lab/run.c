/* lab/run.c: one scenario, in-process: the lab network and the client walks share one loop.
 * The walks run one after another so the journal and the transcripts read in order. */
#include "lab/lab.h"
#include "lab/report.h"
#include "proxy/proxy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
  uv_loop_t *loop;
  struct proxy *proxy;
  struct sim_env env;
  const struct scn *scn;
  const struct lab_run_options *opt;
  struct lab_result *results;
  size_t n_results;
  size_t next;
  int status;
  char *err;
  size_t err_size;
};

static void start_next(struct run *r);

static void on_walk_done(void *arg, struct sim_transcript *t) {
  struct run *r = arg;
  struct lab_result *res = &r->results[r->next];
  res->transcript = t;
  res->expect = lab_expect_for(r->scn, res->client->model);
  if (res->expect != NULL) {
    res->n_failures = lab_expect_check(res->expect, t, &res->failures);
  }
  r->next++;
  start_next(r);
}

static void start_next(struct run *r) {
  while (r->next < r->n_results) {
    struct lab_result *res = &r->results[r->next];
    const struct sim_model *model =
        lab_model_named(r->opt->models, r->opt->n_models, res->client->model);
    const char *email = r->opt->email != NULL ? r->opt->email : r->scn->email;
    struct sim_walk *walk = NULL;
    char why[512] = "";
    proxy_reset_counts(r->proxy); /* each client is a fresh machine: "the first N" again */
    if (sim_walk_start(&walk, &r->env, model, res->client, email, on_walk_done, r, why,
                       sizeof why) == SIM_OK) {
      return; /* on_walk_done continues */
    }
    snprintf(r->err, r->err_size, "client %s could not start its walk: %s", res->client->model,
             why);
    r->status = -1;
    break;
  }
  proxy_close(r->proxy);
  r->proxy = NULL;
}

static const struct scn_client *find_client(const struct scn *s, const char *model) {
  for (size_t i = 0; i < s->n_clients; i++) {
    if (strcmp(s->clients[i].model, model) == 0) {
      return &s->clients[i];
    }
  }
  return NULL;
}

const struct sim_model *lab_model_named(const struct sim_model *const *models, size_t n_models,
                                        const char *name) {
  for (size_t i = 0; name != NULL && i < n_models; i++) {
    if (strcmp(sim_model_name(models[i]), name) == 0) {
      return models[i];
    }
  }
  return sim_model_named(name);
}

void lab_models_known(const struct sim_model *const *models, size_t n_models, char *out,
                      size_t out_size) {
  struct buf known;
  buf_init(&known, 4096);
  for (size_t i = 0; sim_model_at(i) != NULL; i++) {
    buf_appendf(&known, "%s%s", i > 0 ? ", " : "", sim_model_name(sim_model_at(i)));
  }
  for (size_t i = 0; i < n_models; i++) {
    buf_appendf(&known, ", %s", sim_model_name(models[i]));
  }
  buf_fmt(out, out_size, "%s", buf_cstr(&known));
  buf_cleanup(&known);
}

/* unknown_model writes which models exist. */
static int unknown_model(struct run *r, const char *name) {
  char known[4096];
  lab_models_known(r->opt->models, r->opt->n_models, known, sizeof known);
  snprintf(r->err, r->err_size, "unknown client model \"%s\" (known: %s)", name, known);
  return -1;
}

size_t lab_run_clients(const struct scn *s, const struct lab_run_options *opt, const char **out) {
  size_t n = 0;
  if (opt->n_clients > 0) {
    for (size_t i = 0; i < opt->n_clients; i++) {
      out[n++] = opt->clients[i];
    }
    return n;
  }
  for (size_t i = 0; i < s->n_clients; i++) {
    out[n++] = s->clients[i].model;
  }
  for (size_t i = 0; i < opt->n_models; i++) {
    if (find_client(s, sim_model_name(opt->models[i])) == NULL) {
      out[n++] = sim_model_name(opt->models[i]); /* a user's model is walked everywhere */
    }
  }
  if (n == 0) {
    out[n++] = "outlook-2016-msi";
  }
  return n;
}

int lab_run(const struct scn *s, const struct lab_run_options *opt, struct lab_result **out_results,
            size_t *out_n, char *err, size_t err_size) {
  struct run r = {.scn = s, .opt = opt, .err = err, .err_size = err_size};
  const char **names = xcalloc(opt->n_clients + s->n_clients + opt->n_models + 1, sizeof *names);
  size_t n = lab_run_clients(s, opt, names);
  r.results = xcalloc(n, sizeof *r.results);
  r.n_results = n;
  for (size_t i = 0; i < n; i++) {
    struct lab_result *res = &r.results[i];
    const struct scn_client *c = find_client(s, names[i]);
    if (c != NULL) {
      scn_client_copy(&res->settings, c);
    } else {
      res->settings.model = str_dup(names[i]);
    }
    if (opt->settings != NULL) {
      scn_client_overlay(&res->settings, opt->settings);
    }
    res->client = &res->settings;
    buf_init(&res->failures, 64 * 1024);
  }
  for (size_t i = 0; i < n; i++) {
    if (lab_model_named(opt->models, opt->n_models, names[i]) == NULL) {
      unknown_model(&r, names[i]);
      free(names);
      lab_results_free(r.results, n);
      return -1;
    }
  }
  free(names);

  uv_loop_t loop;
  uv_loop_init(&loop);
  r.loop = &loop;
  /* One lab clock for the run: the listeners' delays and the clients' timeouts share it. */
  struct labclock clock;
  labclock_init(&clock, &loop, opt->clock_scale == 0 ? 1000 : opt->clock_scale);
  struct proxy_options popt = {.jnl = opt->jnl, .ca = opt->ca, .clock = &clock};
  if (proxy_start(&r.proxy, &loop, s, &popt, err, err_size) != PROXY_OK) {
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    lab_results_free(r.results, n);
    return -1;
  }
  lab_journal_start(opt->jnl, s, r.proxy, opt->ca);
  r.env.loop = &loop;
  proxy_dns_addr(r.proxy, &r.env.dns);
  r.env.map = proxy_map;
  r.env.map_arg = r.proxy;
  r.env.trust_pem = ca_cert_path(opt->ca);
  r.env.jnl = opt->jnl;
  r.env.timeout_ms = opt->timeout_ms;
  r.env.clock = &clock;
  r.env.scp_urls = s->scp_urls;
  r.env.n_scp_urls = s->n_scp_urls;
  start_next(&r);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) {
    /* A handle left open is our bug; say so rather than hide it. */
    fprintf(stderr, "autodisco: internal: the lab loop still had open handles\n");
  }
  if (r.status != 0) {
    lab_results_free(r.results, n);
    return -1;
  }
  *out_results = r.results;
  *out_n = n;
  return 0;
}

void lab_results_free(struct lab_result *r, size_t n) {
  if (r == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    sim_transcript_free(r[i].transcript);
    buf_cleanup(&r[i].failures);
    scn_client_cleanup(&r[i].settings);
  }
  free(r);
}
