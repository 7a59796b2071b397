/* client/sim_walk.c: the step driver — one client model walking the Autodiscover steps in its
 * order for one address, writing down each step and each dialog the user would see, and the
 * walk's life from sim_walk_start to done().
 *
 * The walk takes one step at a time. A step that asks the network is an attempt, the state
 * machine of sim_fetch.c, and ends in exactly one sim__step_end(), which hands control back to
 * the loop (a zero timer) before the next step starts: nothing re-enters c-ares or BoringSSL
 * from their own callbacks, and the walk only ends from the loop. Waiting candidates (redirect
 * and SRV targets) go before the plan's next step; a redirectAddr starts the plan over. */
#include "client/sim.h"

#include "client/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void walk_next(struct sim_walk *w);
static void close_all(struct sim_walk *w);

const char *sim_strerror(enum sim_status st) {
  switch (st) {
    case SIM_OK: return "no error";
    case SIM_EINVAL: return "bad argument";
    case SIM_EIO: return "the trust store cannot be read";
    case SIM_ENOMEM: return "out of memory, or a library could not set up";
  }
  return "unknown status";
}

/* --- bookkeeping --- */

void sim__handle_gone(struct sim_walk *w) {
  if (--w->n_open > 0 || w->state != SIM_WALK_CLOSING) {
    return;
  }
  struct sim_transcript *t = w->t;
  sim_done_cb done = w->done;
  void *arg = w->done_arg;
  w->t = NULL;
  for (size_t i = 0; i < w->n_pending; i++) {
    free(w->pending[i].url);
  }
  free(w->pending);
  sim__visits_cleanup(&w->visits);
  SSL_CTX_free(w->ssl_ctx);
  scn_client_cleanup(&w->cfg);
  free(w->note_next);
  free(w->email);
  free(w->domain);
  free(w);
  done(arg, t);
}

static void on_timer_closed(uv_handle_t *h) {
  sim__handle_gone(h->data);
}

double sim__lab_now(const struct sim_walk *w) {
  return labclock_now_ms(w->env.clock);
}

/* Real milliseconds a scaled timeout lasts at least (never more than its nominal length). At
 * scale 1000 a 5 s DNS timeout would last 5 ms, which a busy machine (parallel `check` jobs,
 * sanitizers) misses now and then although the answer is there: the walk would report a
 * timeout that did not happen. Nothing is lost by waiting longer in real time: what ends an
 * operation early in lab time is another timer moving the lab clock (a server's delay), and
 * deadline_passed (sim_fetch.c) catches that whatever the real timer says. */
enum { SIM_REAL_TIMEOUT_MIN_MS = 200 };

uint64_t sim__real_timeout_ms(const struct sim_walk *w, uint64_t lab_ms) {
  uint64_t real = labclock_real_ms(w->env.clock, lab_ms);
  if (w->env.clock != NULL && real < SIM_REAL_TIMEOUT_MIN_MS) {
    real = lab_ms < SIM_REAL_TIMEOUT_MIN_MS ? lab_ms : SIM_REAL_TIMEOUT_MIN_MS;
  }
  return real;
}

struct sim_step *sim__cur(struct sim_walk *w) {
  return &w->t->steps[w->att.step];
}

void sim__progress(struct sim_walk *w, const char *doing, bool ended) {
  if (w->env.progress == NULL || w->t == NULL || w->t->n_steps == 0) {
    return;
  }
  const struct sim_step *s = sim__cur(w);
  size_t left = w->n_plan > w->next_plan ? w->n_plan - w->next_plan : 0;
  struct sim_progress p = {
      .client = w->t->client,
      .step = w->att.step,
      .n_steps_known = w->t->n_steps + left + w->n_pending,
      .step_name = s->name,
      .host = s->host,
      .state = sim__att_state_name(ended ? SIM_ATT_IDLE : w->att.state),
      .doing = doing,
      .ended = ended,
  };
  w->env.progress(w->env.progress_arg, &p);
}

void sim__set_str(char **dst, const char *s) {
  free(*dst);
  *dst = str_dup(s);
}

static void on_kick(uv_timer_t *t) {
  struct sim_walk *w = t->data;
  if (w->state == SIM_WALK_RUNNING) {
    walk_next(w);
  } else if (w->state == SIM_WALK_FINISHING) {
    close_all(w);
  }
}

/* schedule runs the walk on from the loop, never from inside a library callback. */
static void schedule(struct sim_walk *w) {
  uv_timer_stop(&w->timer);
  uv_timer_start(&w->timer, on_kick, 0, 0);
}

size_t sim__step_begin(struct sim_walk *w, enum sim_step_kind kind, const char *url,
                       const char *host) {
  struct sim_transcript *t = w->t;
  t->steps = xrealloc_array(t->steps, t->n_steps + 1, sizeof *t->steps);
  struct sim_step *s = &t->steps[t->n_steps];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->name = str_dup(sim__step_kind_name(kind));
  s->url = str_dup(url);
  s->host = str_dup(host);
  memset(&w->att, 0, sizeof w->att);
  w->att.step = t->n_steps++;
  w->att.start_lab = sim__lab_now(w);
  buf_init(&w->att.body, SIM_BODY_MAX);
  buf_init(&w->att.field, 256);
  buf_init(&w->att.value, 8192);
  buf_init(&w->att.schemes, 1024);
  w->att.note = w->note_next;
  w->note_next = NULL;
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "step.start");
  jnl_str(&ev, "client", t->client);
  jnl_uint(&ev, "index", w->att.step);
  jnl_str(&ev, "step", s->name);
  jnl_str(&ev, "url", url);
  jnl_str(&ev, "host", host);
  jnl_end(&ev);
  sim__progress(w, "starting", false);
  return w->att.step;
}

enum sim_go sim__step_end(struct sim_walk *w, enum sim_result r, const char *fmt, ...) {
  struct sim_step *s = sim__cur(w);
  char detail[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (w->att.note != NULL) {
    size_t len = strlen(detail);
    snprintf(detail + len, sizeof detail - len, " (%s)", w->att.note);
  }
  s->result = r;
  sim__set_str(&s->detail, detail);
  if (w->att.schemes.len > 0) {
    sim__set_str(&s->auth_schemes, buf_cstr(&w->att.schemes));
  }
  s->elapsed_ms = (w->att.end_lab > 0 ? w->att.end_lab : sim__lab_now(w)) - w->att.start_lab;
  uv_timer_stop(&w->timer);
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "step.end");
  jnl_str(&ev, "client", w->t->client);
  jnl_uint(&ev, "index", w->att.step);
  jnl_str(&ev, "step", s->name);
  jnl_str(&ev, "url", s->url);
  jnl_str(&ev, "result", sim_result_name(r));
  jnl_str(&ev, "detail", s->detail);
  jnl_str(&ev, "host", s->host);
  jnl_str(&ev, "dns_answer", s->dns_answer);
  jnl_str(&ev, "dns_error", s->dns_error);
  jnl_str(&ev, "connect_error", s->connect_error);
  jnl_str(&ev, "tls_error", s->tls_error);
  jnl_uint(&ev, "cert_failures", s->cert_failures);
  if (s->http_status != 0) {
    jnl_int(&ev, "http_status", s->http_status);
  }
  jnl_str(&ev, "redirect_to", s->redirect_to);
  jnl_str(&ev, "auth_schemes", s->auth_schemes);
  jnl_bool(&ev, "timed_out", s->timed_out);
  jnl_double(&ev, "elapsed_ms", s->elapsed_ms);
  jnl_bool(&ev, "credentials_sent", s->credentials_sent);
  jnl_end(&ev);
  sim__progress(w, sim_result_name(r), true);
  sim__attempt_cleanup(w);
  schedule(w);
  return SIM_GO_END;
}

void sim__add_prompt(struct sim_walk *w, enum sim_prompt_kind kind, const char *host,
                     const char *reason, unsigned failures, char *text /* taken */, bool accepted,
                     size_t step) {
  struct sim_transcript *t = w->t;
  t->prompts = xrealloc_array(t->prompts, t->n_prompts + 1, sizeof *t->prompts);
  struct sim_prompt *p = &t->prompts[t->n_prompts++];
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->host = str_dup(host);
  p->reason = str_dup(reason);
  p->cert_failures = failures;
  p->text = text;
  p->accepted = accepted;
  p->step = step;
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "prompt");
  jnl_str(&ev, "client", t->client);
  jnl_str(&ev, "kind", sim_prompt_kind_name(kind));
  jnl_str(&ev, "host", host);
  jnl_str(&ev, "reason", reason);
  jnl_bool(&ev, "accepted", accepted);
  jnl_uint(&ev, "step", step);
  jnl_end(&ev);
}

void sim__push_pending(struct sim_walk *w, bool front, const char *url, bool consent,
                       size_t from_step) {
  w->pending = xrealloc_array(w->pending, w->n_pending + 1, sizeof *w->pending);
  size_t at = front ? 0 : w->n_pending;
  memmove(&w->pending[at + 1], &w->pending[at], (w->n_pending - at) * sizeof *w->pending);
  w->pending[at] = (struct sim_pending){str_dup(url), consent, from_step};
  w->n_pending++;
}

static void clear_pending(struct sim_walk *w) {
  for (size_t i = 0; i < w->n_pending; i++) {
    free(w->pending[i].url);
  }
  w->n_pending = 0;
}

void sim__readdress(struct sim_walk *w, const char *addr) {
  /* §3.4: a new address means a new domain and a new list of candidates. */
  sim__set_str(&w->email, addr);
  sim__set_str(&w->domain, strrchr(addr, '@') + 1);
  str_lower(w->domain);
  w->next_plan = 0;
  w->scp_next = 0;
  w->first_address = false;
  w->n_plan = sim__plan(w->model, &w->cfg, false, w->plan);
  clear_pending(w);
}

/* --- steps --- */

/* begin_fetch starts a step that asks one URL: POST, the HTTP step's GET or the AutoDV2 GET. */
static void begin_fetch(struct sim_walk *w, enum sim_step_kind kind, const char *url,
                        enum sim_req_kind req) {
  sim__step_begin(w, kind, url, NULL);
  struct sim_attempt *a = &w->att;
  a->req = req;
  a->url_text = str_dup(url);
  if (!sim__url_parse(&a->url, url)) {
    sim__step_end(w, SIM_R_REJECTED, "%s is not an http or https URL", url);
    return;
  }
  sim__set_str(&sim__cur(w)->host, a->url.host);
  if (req == SIM_REQ_POX) {
    sim__visit_note(&w->visits, url);
  }
  a->state = SIM_ATT_RESOLVE;
  sim__advance(w);
}

/* begin_srv starts the srv step: the query for _autodiscover._tcp.<domain> (§5). */
static void begin_srv(struct sim_walk *w) {
  char name[300];
  if (!buf_fmt(name, sizeof name, "_autodiscover._tcp.%s", w->domain)) {
    sim__step_begin(w, SIM_STEP_SRV, NULL, w->domain);
    sim__step_end(w, SIM_R_NO_CANDIDATE, "the domain is too long for an SRV name");
    return;
  }
  sim__step_begin(w, SIM_STEP_SRV, NULL, name);
  w->att.state = SIM_ATT_SRV;
  sim__advance(w);
}

static char *model_url(const struct sim_walk *w, enum sim_step_kind k) {
  struct buf b;
  buf_init(&b, 4096);
  switch (k) {
    case SIM_STEP_HTTPS_ROOT: /* §1.1 */
      buf_appendf(&b, "https://%s/autodiscover/autodiscover.xml", w->domain);
      break;
    case SIM_STEP_HTTPS_AUTODISCOVER:
      buf_appendf(&b, "https://autodiscover.%s/autodiscover/autodiscover.xml", w->domain);
      break;
    case SIM_STEP_HTTP_REDIRECT: /* §4.2 */
      buf_appendf(&b, "http://autodiscover.%s/autodiscover/autodiscover.xml", w->domain);
      break;
    case SIM_STEP_LAST_KNOWN_GOOD:
      if (w->cfg.last_known_good_url != NULL) {
        buf_append_str(&b, w->cfg.last_known_good_url);
      }
      break;
    case SIM_STEP_LOCAL_XML:
      if (w->cfg.local_xml != NULL) {
        buf_appendf(&b, "file://%s", w->cfg.local_xml);
      }
      break;
    case SIM_STEP_RESTART_CACHE:
      if (w->cfg.restart_cache != NULL) {
        buf_appendf(&b, "file://%s", w->cfg.restart_cache);
      }
      break;
    case SIM_STEP_O365_DIRECT:
    case SIM_STEP_O365_FALLBACK: {
      char *url = sim__o365_url(w->email);
      buf_append_str(&b, url != NULL ? url : "");
      free(url);
      break;
    }
    case SIM_STEP_SCP:
    case SIM_STEP_SRV:
    case SIM_STEP_REDIRECT: break;
  }
  if (b.len == 0) {
    buf_cleanup(&b);
    return NULL;
  }
  return buf_take(&b);
}

/* read_answer_file reads a file that holds a whole POX answer into the attempt's body; false
 * after ending the step with `fail` when it cannot. */
static bool read_answer_file(struct sim_walk *w, const char *path, const char *what,
                             enum sim_result fail) {
  struct sim_attempt *a = &w->att;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    sim__step_end(w, fail, "%s %s cannot be read: %s", what, path, strerror(errno));
    return false;
  }
  uint8_t chunk[16384];
  size_t n;
  bool too_big = false;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (!buf_append(&a->body, (struct slice){chunk, n})) {
      too_big = true;
      break;
    }
  }
  bool failed = ferror(f) != 0;
  fclose(f);
  if (failed || too_big) {
    sim__step_end(w, SIM_R_NOT_AUTODISCOVER, "%s %s %s", what, path,
                  too_big ? "is over 1 MiB" : "could not be read to the end");
    return false;
  }
  return true;
}

/* begin_local_xml reads the local XML file (§4.5) and treats it as a POX answer. */
static void begin_local_xml(struct sim_walk *w) {
  char *url = model_url(w, SIM_STEP_LOCAL_XML);
  sim__step_begin(w, SIM_STEP_LOCAL_XML, url, NULL);
  w->att.url_text = url;
  if (!read_answer_file(w, w->cfg.local_xml, "the local XML file", SIM_R_NO_CANDIDATE)) {
    return;
  }
  struct sim_answer ans;
  sim__classify(&ans, 200, NULL, buf_slice(&w->att.body));
  if (ans.kind == SIM_A_OTHER) {
    /* the classifier words it for HTTP ("HTTP 200, but ..."): say it for a file */
    sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                  "the local XML file is not a usable Autodiscover answer: %s", ans.why);
  } else {
    sim__answer_pox(w, &ans, 200);
  }
  sim__answer_cleanup(&ans);
}

/* begin_restart_cache reads the answer Outlook cached for its restart after an account was
 * added (KB 3211279 step 1). Settings end the walk with success; anything else — the file
 * missing, unreadable, not settings — ends the whole Autodiscover run: nothing later is tried. */
static void begin_restart_cache(struct sim_walk *w) {
  char *url = model_url(w, SIM_STEP_RESTART_CACHE);
  sim__step_begin(w, SIM_STEP_RESTART_CACHE, url, NULL);
  w->att.url_text = url;
  w->state = SIM_WALK_FINISHING; /* whatever happens, this step is the walk's last */
  sim__set_str(&w->att.note, "the whole Autodiscover run fails here: KB 3211279 step 1");
  if (!read_answer_file(w, w->cfg.restart_cache, "the restart cache", SIM_R_NO_CANDIDATE)) {
    return;
  }
  struct sim_answer ans;
  sim__classify(&ans, 200, NULL, buf_slice(&w->att.body));
  if (ans.kind == SIM_A_SETTINGS) {
    sim__set_str(&w->att.note, NULL);
    sim__answer_pox(w, &ans, 200);
  } else {
    sim__step_end(w, SIM_R_NOT_AUTODISCOVER, "the restart cache holds no settings (%s)",
                  ans.kind == SIM_A_OTHER ? ans.why : "an answer that is not settings");
  }
  sim__answer_cleanup(&ans);
}

/* take_pending starts the first waiting candidate, after the consent prompt it needs: none for
 * a host in RedirectServers; Cancel (answer_no_to_redirect_prompts) fails the step (§2.5). */
static void take_pending(struct sim_walk *w) {
  struct sim_pending p = w->pending[0];
  memmove(&w->pending[0], &w->pending[1], (w->n_pending - 1) * sizeof *w->pending);
  w->n_pending--;
  if (p.consent) {
    struct sim_url u;
    bool parsed = sim__url_parse(&u, p.url);
    const char *host = parsed ? u.host : p.url;
    if (sim__host_listed(host, w->cfg.redirect_servers, w->cfg.n_redirect_servers)) {
      sim__set_str(&w->note_next, "no consent prompt: the host is in RedirectServers");
    } else {
      bool allowed = !w->cfg.answer_no_to_redirect_prompts;
      sim__add_prompt(w, SIM_PROMPT_REDIRECT, host, p.url, 0,
                      sim__redirect_prompt_text(w->email, p.url), allowed, p.from_step);
      if (!allowed) {
        sim__step_begin(w, SIM_STEP_REDIRECT, p.url, host);
        sim__set_str(&sim__cur(w)->redirect_to, p.url);
        sim__step_end(w, SIM_R_REJECTED,
                      "the user declined the redirect (Cancel on the consent prompt)");
        sim__url_cleanup(&u);
        free(p.url);
        return;
      }
    }
    sim__url_cleanup(&u);
  }
  begin_fetch(w, SIM_STEP_REDIRECT, p.url, SIM_REQ_POX);
  free(p.url);
}

/* walk_next starts the next step: a waiting redirect or SRV target first, then the plan's
 * next step, else the walk is over without settings. */
static void walk_next(struct sim_walk *w) {
  if (w->n_pending > 0) {
    take_pending(w);
    return;
  }
  if (w->next_plan >= w->n_plan) {
    w->state = SIM_WALK_FINISHING;
    close_all(w);
    return;
  }
  const struct sim_plan_step *ps = &w->plan[w->next_plan];
  enum sim_step_kind k = ps->kind;
  if (ps->skip != NULL) {
    w->next_plan++;
    char *url = model_url(w, k);
    sim__step_begin(w, k, url, NULL);
    free(url);
    sim__step_end(w, SIM_R_SKIPPED, "%s", ps->skip);
    return;
  }
  if (k == SIM_STEP_SCP) {
    /* §1.1: each URL the lookup found is a candidate, in order; one scp step each. The client's
     * scp_urls, when given, stand for the scenario's directory. */
    bool own = scn_client_given(&w->cfg, scn_setting_named("scp_urls"));
    char *const *urls = own ? w->cfg.scp_urls : w->env.scp_urls;
    size_t n_urls = own ? w->cfg.n_scp_urls : w->env.n_scp_urls;
    if (n_urls == 0) {
      w->next_plan++;
      sim__step_begin(w, k, NULL, NULL);
      sim__step_end(w, SIM_R_NO_CANDIDATE, "the SCP lookup found no Autodiscover URL");
      return;
    }
    const char *url = urls[w->scp_next++];
    if (w->scp_next >= n_urls) {
      w->scp_next = 0;
      w->next_plan++;
    }
    begin_fetch(w, k, url, SIM_REQ_POX);
    return;
  }
  w->next_plan++;
  if (k == SIM_STEP_SRV) {
    begin_srv(w);
    return;
  }
  if (k == SIM_STEP_LOCAL_XML) {
    begin_local_xml(w);
    return;
  }
  if (k == SIM_STEP_RESTART_CACHE) {
    begin_restart_cache(w);
    return;
  }
  char *url = model_url(w, k);
  enum sim_req_kind req = SIM_REQ_POX;
  if (k == SIM_STEP_HTTP_REDIRECT) {
    req = SIM_REQ_GET;
  } else if (k == SIM_STEP_O365_DIRECT || k == SIM_STEP_O365_FALLBACK) {
    req = SIM_REQ_AUTODV2;
  }
  if (url == NULL) {
    sim__step_begin(w, k, NULL, NULL);
    sim__step_end(w, SIM_R_NO_CANDIDATE, "no URL to ask");
    return;
  }
  begin_fetch(w, k, url, req);
  free(url);
}

/* close_all reports the result and closes every handle; done() follows the last close. */
static void close_all(struct sim_walk *w) {
  struct sim_transcript *t = w->t;
  w->state = SIM_WALK_CLOSING;
  t->total_ms = sim__lab_now(w) - w->start_lab;
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "result");
  jnl_str(&ev, "client", t->client);
  jnl_str(&ev, "email", t->email);
  jnl_bool(&ev, "success", t->success);
  jnl_str(&ev, "final_url", t->final_url);
  jnl_str(&ev, "ews_url", t->ews_url);
  jnl_uint(&ev, "n_steps", t->n_steps);
  jnl_uint(&ev, "n_prompts", t->n_prompts);
  jnl_double(&ev, "total_ms", t->total_ms);
  jnl_end(&ev);
  sim__attempt_cleanup(w);
  uv_timer_stop(&w->timer);
  sim__resolve_close(w);
  uv_close((uv_handle_t *) &w->timer, on_timer_closed);
}

/* --- start --- */

static void walk_free_unstarted(struct sim_walk *w) {
  SSL_CTX_free(w->ssl_ctx);
  sim__visits_cleanup(&w->visits);
  sim_transcript_free(w->t);
  scn_client_cleanup(&w->cfg);
  free(w->email);
  free(w->domain);
  free(w);
}

/* check_arguments says what is wrong with sim_walk_start's arguments, or returns true. */
static bool check_arguments(const struct sim_env *env, const struct sim_model *model,
                            const char *email, sim_done_cb done, char *err, size_t err_size) {
  const char *at = email != NULL ? strrchr(email, '@') : NULL;
  if (env == NULL || env->loop == NULL || model == NULL || done == NULL) {
    buf_fmt(err, err_size, "the walk needs a loop, a client model and a done callback");
    return false;
  }
  if (email == NULL || strlen(email) > 254) {
    buf_fmt(err, err_size, "the e-mail address is missing or longer than 254 characters");
    return false;
  }
  if (at == NULL || at == email || at[1] == '\0') {
    buf_fmt(err, err_size, "\"%s\" is not an e-mail address (local-part@domain)", email);
    return false;
  }
  return true;
}

enum sim_status sim_walk_start(struct sim_walk **out, const struct sim_env *env,
                               const struct sim_model *model, const struct scn_client *cfg,
                               const char *email, sim_done_cb done, void *arg, char *err,
                               size_t err_size) {
  *out = NULL;
  if (!check_arguments(env, model, email, done, err, err_size)) {
    return SIM_EINVAL;
  }
  struct sim_walk *w = xcalloc(1, sizeof *w);
  w->env = *env;
  w->model = model;
  sim__settings(&w->cfg, model, cfg); /* the model's values, the given settings on top */
  sim__policy_of(&w->pol, &w->cfg);
  if (env->timeout_ms != 0) {
    w->pol.dns_timeout_ms = w->pol.connect_timeout_ms = env->timeout_ms;
    w->pol.tls_timeout_ms = w->pol.http_timeout_ms = env->timeout_ms;
  }
  w->first_address = true;
  w->n_plan = sim__plan(model, &w->cfg, true, w->plan);
  w->done = done;
  w->done_arg = arg;
  w->email = str_dup(email);
  w->domain = str_lower(str_dup(strrchr(email, '@') + 1));
  w->t = xcalloc(1, sizeof *w->t);
  w->t->client = str_dup(model->name);
  w->t->email = str_dup(email);
  w->t->clock = env->clock == NULL ? SIM_CLOCK_REAL : SIM_CLOCK_LAB;
  for (size_t i = 0; cfg != NULL && scn_setting_at(i) != NULL; i++) {
    const struct scn_setting *set = scn_setting_at(i);
    if (scn_client_given(cfg, set)) {
      char *value = scn_client_format(cfg, set);
      struct buf b;
      buf_init(&b, 64 * 1024 + 128);
      buf_appendf(&b, "%s=%s", set->name, value);
      free(value);
      w->t->settings = xrealloc_array(w->t->settings, w->t->n_settings + 1, sizeof *w->t->settings);
      w->t->settings[w->t->n_settings++] = buf_take(&b);
    }
  }
  sim__visit_addr(&w->visits, &w->pol, email, false);
  enum sim_status st = sim__tls_ctx_new(&w->ssl_ctx, env->trust_pem, err, err_size);
  if (st == SIM_OK) {
    st = sim__resolve_init(w, err, err_size); /* last: it opens a handle */
  }
  if (st != SIM_OK) {
    walk_free_unstarted(w);
    return st;
  }
  uv_timer_init(env->loop, &w->timer);
  w->timer.data = w;
  w->n_open++;
  w->start_lab = sim__lab_now(w);
  schedule(w);
  *out = w;
  return SIM_OK;
}
