/* lab/journal_client.c: the model walks of a `run --journal` rebuilt from the walk's own
 * events — step.start, step.end, prompt and result (docs/journal.md) — one transcript per
 * client, in lab time as the model measured it. */
#include "lab/journal_internal.h"

#include <stdlib.h>
#include <string.h>

/* A wait longer than thirty years is not a walk's: such a number is left out. */
#define MAX_MS 1e12

static struct sim_transcript *find(struct sim_transcript **v, size_t first, size_t n,
                                   const char *client) {
  for (size_t i = first; i < n; i++) {
    if (strcmp(v[i]->client, client) == 0) {
      return v[i];
    }
  }
  return NULL;
}

/* step_at returns the step with that index, adding steps up to it (a step.end may be missing
 * when the run was stopped). */
static struct sim_step *step_at(struct sim_transcript *t, size_t index) {
  if (index >= 4096) {
    return NULL; /* not a walk's step: the models take a dozen */
  }
  if (index >= t->n_steps) {
    t->steps = xrealloc_array(t->steps, index + 1, sizeof *t->steps);
    memset(&t->steps[t->n_steps], 0, (index + 1 - t->n_steps) * sizeof *t->steps);
    for (size_t i = t->n_steps; i <= index; i++) {
      t->steps[i].result = SIM_R_HTTP_FAILED;
      t->steps[i].detail = str_dup("the journal ends inside this step");
    }
    t->n_steps = index + 1;
  }
  return &t->steps[index];
}

static void set(char **field, const struct jrec *r, enum jf f) {
  if (jrec__str(r, f) != NULL) {
    free(*field);
    *field = str_dup(jrec__str(r, f));
  }
}

/* url_port is the port an absolute URL names explicitly ("https://h:8443/x": 8443), else 0. */
static unsigned url_port(const char *url) {
  const char *p = url != NULL ? strstr(url, "://") : NULL;
  if (p == NULL) {
    return 0;
  }
  p += 3;
  size_t host_len = strcspn(p, "/?#");
  const char *colon = memchr(p, ':', host_len);
  if (colon == NULL || p[0] == '[') {
    return 0; /* no port, or an IPv6 literal the models never use for a lab host */
  }
  char digits[8];
  size_t n = host_len - (size_t) (colon + 1 - p);
  uint32_t port = 0;
  if (n == 0 || n >= sizeof digits) {
    return 0;
  }
  memcpy(digits, colon + 1, n);
  digits[n] = '\0';
  return parse_u32(digits, 1, 65535, &port) ? port : 0;
}

static void read_step(const struct jsession *s, struct sim_step *st, const struct jrec *r,
                      bool end) {
  enum sim_step_kind kind;
  if (sim_step_kind_parse(jrec__str(r, JF_STEP), &kind)) {
    st->kind = kind;
  }
  set(&st->name, r, JF_STEP);
  set(&st->url, r, JF_URL);
  set(&st->host, r, JF_HOST);
  if (!end) {
    return;
  }
  enum sim_result result;
  if (sim_result_parse(jrec__str(r, JF_RESULT), &result)) {
    st->result = result;
  }
  set(&st->detail, r, JF_DETAIL);
  set(&st->dns_answer, r, JF_DNS_ANSWER);
  set(&st->dns_error, r, JF_DNS_ERROR);
  set(&st->connect_error, r, JF_CONNECT_ERROR);
  set(&st->tls_error, r, JF_TLS_ERROR);
  set(&st->redirect_to, r, JF_REDIRECT_TO);
  set(&st->auth_schemes, r, JF_AUTH_SCHEMES);
  double v = 0;
  if (jrec__num(r, JF_CERT_FAILURES, &v) && v >= 0 && v < 16) {
    st->cert_failures = (unsigned) v;
  }
  if (jrec__num(r, JF_HTTP_STATUS, &v) && v >= 0 && v < 1000) {
    st->http_status = (int) v;
  }
  if (jrec__num(r, JF_ELAPSED_MS, &v) && v >= 0 && v < MAX_MS) {
    st->elapsed_ms = v;
  }
  st->timed_out = jrec__bool(r, JF_TIMED_OUT);
  /* the certificate presented, from the lab's description */
  const struct lab_host_desc *h = lab_desc_host_named(s->lab, st->host);
  const struct lab_cert_desc *cert = h != NULL ? &h->cert : NULL;
  unsigned port = url_port(st->url);
  for (size_t i = 0; h != NULL && port != 0 && i < h->n_ports; i++) {
    if (h->ports[i].nominal == port) {
      cert = &h->ports[i].cert; /* a listener on another port presents its own */
    }
  }
  if (cert != NULL && cert->present && st->url != NULL && strncmp(st->url, "https:", 6) == 0 &&
      st->dns_answer != NULL && st->connect_error == NULL) {
    st->cert_subject = str_dup(cert->subject);
    st->cert_issuer = str_dup(cert->issuer);
  }
}

static void read_prompt(struct sim_transcript *t, const struct jrec *r) {
  enum sim_prompt_kind kind;
  double step = 0;
  if (!sim_prompt_kind_parse(jrec__str(r, JF_KIND), &kind) || !jrec__num(r, JF_STEP, &step) ||
      step < 0 || step >= 4096) {
    return;
  }
  t->prompts = xrealloc_array(t->prompts, t->n_prompts + 1, sizeof *t->prompts);
  struct sim_prompt *p = &t->prompts[t->n_prompts++];
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->host = str_dup(jrec__str(r, JF_HOST));
  p->reason = str_dup(jrec__str(r, JF_REASON));
  p->accepted = jrec__bool(r, JF_ACCEPTED);
  p->step = (size_t) step;
}

size_t jclient__transcripts(const struct jsession *s, struct sim_transcript ***out, size_t *n_out) {
  size_t first = *n_out;
  for (size_t i = 0; i < s->n; i++) {
    const struct jrec *r = &s->recs[i];
    const char *client = jrec__str(r, JF_CLIENT);
    bool step_event = jrec__is(r, "step.start") || jrec__is(r, "step.end");
    if (client == NULL || !(step_event || jrec__is(r, "prompt") || jrec__is(r, "result"))) {
      continue;
    }
    struct sim_transcript *t = find(*out, first, *n_out, client);
    if (t == NULL) {
      t = xcalloc(1, sizeof *t);
      t->client = str_dup(client);
      const char *email = s->lab != NULL ? s->lab->email : NULL;
      t->email = str_dup(email != NULL ? email : s->opt->scn != NULL ? s->opt->scn->email : NULL);
      *out = xrealloc_array(*out, *n_out + 1, sizeof **out);
      (*out)[(*n_out)++] = t;
    }
    double index = 0;
    if (step_event && jrec__num(r, JF_INDEX, &index) && index >= 0 && index < 4096) {
      struct sim_step *st = step_at(t, (size_t) index);
      if (st != NULL) {
        if (jrec__is(r, "step.end")) {
          free(st->detail);
          st->detail = NULL;
        }
        read_step(s, st, r, jrec__is(r, "step.end"));
      }
    } else if (jrec__is(r, "prompt")) {
      read_prompt(t, r);
    } else if (jrec__is(r, "result")) {
      t->success = jrec__bool(r, JF_SUCCESS);
      set(&t->email, r, JF_EMAIL);
      set(&t->final_url, r, JF_FINAL_URL);
      set(&t->ews_url, r, JF_EWS_URL);
      set(&t->server, r, JF_SERVER);
      set(&t->settings_email, r, JF_SETTINGS_EMAIL);
      double total = 0;
      if (jrec__num(r, JF_TOTAL_MS, &total) && total >= 0 && total < MAX_MS) {
        t->total_ms = total;
      }
      if (t->success && t->settings_email == NULL) {
        t->settings_email = str_dup(t->email); /* the event does not say: the address asked */
      }
    }
  }
  for (size_t i = first; i < *n_out; i++) {
    struct sim_transcript *t = (*out)[i];
    for (size_t k = 0; k < t->n_steps; k++) { /* a step never started still has a name */
      if (t->steps[k].name == NULL) {
        t->steps[k].name = str_dup("?");
      }
    }
    for (size_t k = 0; k < t->n_prompts; k++) { /* a prompt comes before its step.end */
      struct sim_prompt *p = &t->prompts[k];
      if (p->kind == SIM_PROMPT_CERTIFICATE && p->step < t->n_steps) {
        p->cert_failures = t->steps[p->step].cert_failures;
      }
      p->text = sim_prompt_text(p->kind, p->host, t->email, p->reason, p->cert_failures);
    }
  }
  return *n_out - first;
}
