/* client/sim_answer.c: what came back, and what the walk does about it — a POX answer
 * (settings, redirectAddr, redirectUrl, Error), a 3xx to the POST, a 401 (§2.4), the HTTP
 * redirect step's 302 (§4.2), the AutoDV2 URL (§4.4) and the SRV records (§5). sim_pox.c sorts
 * the answer; this file turns the sort into a step's result, a queued candidate or a new
 * address. */
#include "client/sim.h"

#include "client/internal.h"

#include <stdlib.h>
#include <string.h>

/* end_redirect ends the step with a redirect to `to` (queued to try) or its refusal. */
static enum sim_go end_redirect(struct sim_walk *w, enum sim_redirect_verdict v, const char *to,
                                const char *what, bool front, bool consent) {
  struct sim_step *s = sim__cur(w);
  sim__set_str(&s->redirect_to, to);
  size_t step = w->att.step;
  if (v != SIM_REDIRECT_OK) {
    return sim__step_end(w, SIM_R_REJECTED, "%s to %s refused: %s (§3.4)", what, to ? to : "?",
                         sim__redirect_verdict_text(v));
  }
  sim__push_pending(w, front, to, consent, step);
  return sim__step_end(w, SIM_R_REDIRECT, "%s to %s", what, to);
}

/* other_host says whether URL `b` names another host than URL `a`. */
static bool other_host(const char *a, const char *b) {
  struct sim_url ua, ub;
  bool pa = sim__url_parse(&ua, a);
  bool pb = sim__url_parse(&ub, b);
  bool other = !pa || !pb || !str_eq_nocase(ua.host, ub.host);
  if (pa) {
    sim__url_cleanup(&ua);
  }
  if (pb) {
    sim__url_cleanup(&ub);
  }
  return other;
}

/* answer_get ends the HTTP redirect step: only a 302 with an https Location counts (§4.2). */
static enum sim_go answer_get(struct sim_walk *w, int status) {
  struct sim_attempt *a = &w->att;
  if (status != 302) {
    return sim__step_end(w, SIM_R_NO_CANDIDATE, "HTTP %d: only a 302 counts for this step (§4.2)",
                         status);
  }
  if (a->location == NULL) {
    return sim__step_end(w, SIM_R_NO_CANDIDATE, "302 without a Location");
  }
  char *to = sim__url_resolve(a->url_text, a->location);
  enum sim_redirect_verdict v =
      to != NULL ? sim__visit_url(&w->visits, &w->pol, to) : SIM_REDIRECT_BAD;
  enum sim_go go =
      end_redirect(w, v, to != NULL ? to : a->location, "302", true, w->pol.http_redirect_consent);
  free(to);
  return go;
}

/* answer_autodv2 ends an Office 365 step: a 200 with {"Url": ...} gives the URL the POX request
 * goes to next; anything else means "not in Exchange Online" and the walk goes on (§4.4). */
static enum sim_go answer_autodv2(struct sim_walk *w, int status) {
  struct sim_attempt *a = &w->att;
  if (status != 200) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                         "HTTP %d from AutoDV2: the mailbox is not found in Exchange Online; "
                         "going on with the next step (§4.4, exact answer UNCERTAIN)",
                         status);
  }
  char *url = NULL;
  if (a->body_overflow || !sim__json_url(buf_slice(&a->body), &url)) {
    return sim__step_end(
        w, SIM_R_NOT_AUTODISCOVER,
        "HTTP 200, but not an AutoDV2 answer {\"Protocol\":\"AutodiscoverV1\",\"Url\":...}");
  }
  enum sim_redirect_verdict v = sim__visit_url(&w->visits, &w->pol, url);
  enum sim_go go = end_redirect(w, v, url, "AutoDV2 Url", true, false);
  free(url);
  return go;
}

/* answer_401_real answers a credentials challenge from a real server (env.real_credentials):
 * only the credentials the user gave, only as Basic, only over HTTPS. Outlook would ask for
 * Basic credentials (the prompt is recorded either way); Windows single sign-on (Negotiate,
 * NTLM) and modern auth (Bearer) are nothing a probe can answer for the user. */
static enum sim_go answer_401_real(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  struct sim_step *s = sim__cur(w);
  const char *schemes = s->auth_schemes != NULL ? s->auth_schemes : "no challenge";
  if (a->authorization != NULL) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                         "HTTP 401 again after the Basic credentials of %s: the server refused "
                         "them; not functional, trying the next candidate (§2.1)",
                         w->env.username);
  }
  if (!sim__auth_offers(s->auth_schemes, "Basic")) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                         "HTTP 401 offering %s: Windows single sign-on (Negotiate, NTLM) or "
                         "modern auth (Bearer), which the probe does not answer; not functional "
                         "here (a domain-joined Outlook may get through silently)",
                         schemes);
  }
  if (!a->url.https) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                         "HTTP 401 offering %s over plain HTTP: credentials are never sent "
                         "unencrypted; not functional",
                         schemes);
  }
  bool given = w->env.username != NULL && w->env.password != NULL;
  sim__add_prompt(w, SIM_PROMPT_CREDENTIALS, a->url.host, "basic", 0,
                  sim__credentials_prompt_text(a->url.host, w->email), given, a->step);
  if (!given) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                         "HTTP 401 offering %s: Outlook asks for a password here; the probe "
                         "sends none without --user and --password-file (Cancel), not functional",
                         schemes);
  }
  a->authorization = sim__basic_header(w->env.username, w->env.password);
  a->auth_scheme = "Basic";
  if (a->authorization == NULL) {
    return sim__step_end(w, SIM_R_HTTP_FAILED, "the Basic credentials do not fit a header");
  }
  s->credentials_sent = true;
  char note[400];
  buf_fmt(note, sizeof note, "after a 401: the Basic credentials of %s sent over TLS",
          w->env.username);
  sim__set_str(&a->note, note);
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "step.auth");
  jnl_str(&ev, "client", w->t->client);
  jnl_uint(&ev, "index", a->step);
  jnl_str(&ev, "schemes", s->auth_schemes);
  jnl_str(&ev, "answered", "Basic");
  jnl_str(&ev, "credentials", "given");
  jnl_str(&ev, "user", w->env.username); /* whose, never the password */
  jnl_end(&ev);
  sim__attempt_reconnect(w);
  return SIM_GO_NEXT;
}

/* answer_401 answers a credentials challenge (§2.4): Negotiate/NTLM with the lab's stand-in
 * single sign-on token, Basic after the credentials prompt; Bearer alone, or a second 401 after
 * credentials, makes the step not functional. Answering asks the same URL again. */
static enum sim_go answer_401(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  struct sim_step *s = sim__cur(w);
  if (a->schemes.len > 0) {
    sim__set_str(&s->auth_schemes, buf_cstr(&a->schemes));
  }
  if (w->env.real_credentials) {
    return answer_401_real(w);
  }
  if (a->authorization != NULL) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                         "HTTP 401 again after %s credentials: not functional, trying the next "
                         "candidate (§2.1)",
                         a->auth_scheme);
  }
  const char *scheme = NULL;
  enum sim_auth_action act = sim__auth_decide(s->auth_schemes, &scheme);
  if (act == SIM_AUTH_NONE) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                         "HTTP 401 offering %s: no scheme this client answers here (Bearer needs "
                         "modern auth); not functional",
                         s->auth_schemes != NULL ? s->auth_schemes : "no challenge");
  }
  /* §2.4: Basic always asks the user; Negotiate and NTLM only when the model does not answer
   * them with the Windows logon (silent_sso, UNCERTAIN). */
  bool asks = act == SIM_AUTH_BASIC || !w->pol.silent_sso;
  if (asks) {
    bool typed = !w->cfg.answer_no_to_credentials_prompts;
    char reason[32];
    buf_fmt(reason, sizeof reason, "%s", scheme);
    str_lower(reason);
    sim__add_prompt(w, SIM_PROMPT_CREDENTIALS, a->url.host, reason, 0,
                    sim__credentials_prompt_text(a->url.host, w->email), typed, a->step);
    if (!typed) {
      return sim__step_end(w, SIM_R_NOT_AUTODISCOVER,
                           "HTTP 401 offering %s: the user cancelled the credentials prompt; not "
                           "functional, trying the next candidate",
                           s->auth_schemes);
    }
  }
  a->authorization = sim__auth_header(scheme, w->email);
  a->auth_scheme = scheme;
  if (a->authorization == NULL) {
    return sim__step_end(w, SIM_R_HTTP_FAILED, "could not build the %s credentials", scheme);
  }
  char note[200];
  if (act == SIM_AUTH_BASIC) {
    buf_fmt(note, sizeof note, "after a 401: Basic credentials sent (the user typed them)");
  } else if (asks) {
    buf_fmt(note, sizeof note, "after a 401: %s credentials sent (the user typed them)", scheme);
  } else {
    buf_fmt(note, sizeof note,
            "after a 401: %s single sign-on, assumed silent (lab stand-in token)", scheme);
  }
  sim__set_str(&a->note, note);
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "step.auth");
  jnl_str(&ev, "client", w->t->client);
  jnl_uint(&ev, "index", a->step);
  jnl_str(&ev, "schemes", s->auth_schemes);
  jnl_str(&ev, "answered", scheme); /* the scheme only: never the credentials */
  jnl_str(&ev, "credentials", "stand-in");
  jnl_end(&ev);
  sim__attempt_reconnect(w);
  return SIM_GO_NEXT;
}

enum sim_go sim__answer_pox(struct sim_walk *w, const struct sim_answer *ans, int status) {
  struct sim_attempt *a = &w->att;
  switch (ans->kind) {
    case SIM_A_SETTINGS: {
      struct sim_transcript *t = w->t;
      t->success = true;
      sim__set_str(&t->final_url, a->url_text);
      sim__set_str(&t->ews_url, ans->ews_url);
      sim__set_str(&t->server, ans->server);
      sim__set_str(&t->settings_email, ans->smtp != NULL ? ans->smtp : w->email);
      w->state = SIM_WALK_FINISHING;
      return sim__step_end(w, SIM_R_SETTINGS, "settings for %s (EWS %s)", t->settings_email,
                           ans->ews_url != NULL ? ans->ews_url : "none");
    }
    case SIM_A_REDIRECT_ADDR: {
      enum sim_redirect_verdict v = sim__visit_addr(&w->visits, &w->pol, ans->redirect, true);
      sim__set_str(&sim__cur(w)->redirect_to, ans->redirect);
      if (v != SIM_REDIRECT_OK) {
        return sim__step_end(w, SIM_R_REJECTED, "redirectAddr to %s refused: %s (§3.4)",
                             ans->redirect, sim__redirect_verdict_text(v));
      }
      sim__readdress(w, ans->redirect);
      return sim__step_end(w, SIM_R_REDIRECT, "redirectAddr to %s: starting over for %s",
                           ans->redirect, w->domain);
    }
    case SIM_A_REDIRECT_URL: {
      enum sim_redirect_verdict v = sim__visit_url(&w->visits, &w->pol, ans->redirect);
      return end_redirect(w, v, ans->redirect, "redirectUrl", true, false);
    }
    case SIM_A_HTTP_REDIRECT: {
      if (!w->pol.follow_post_3xx) {
        return sim__step_end(w, SIM_R_NOT_AUTODISCOVER, "HTTP %d: this client does not follow it",
                             status);
      }
      char *to = sim__url_resolve(a->url_text, ans->redirect);
      enum sim_redirect_verdict v =
          to != NULL ? sim__visit_url(&w->visits, &w->pol, to) : SIM_REDIRECT_BAD;
      char what[32];
      buf_fmt(what, sizeof what, "HTTP %d", status);
      /* §2.5: whether a 3xx to another host asks for consent is UNCERTAIN (a setting). */
      bool consent = w->pol.post_redirect_consent && to != NULL && other_host(a->url_text, to);
      /* §4.3: re-sent as a POST with the same body (UNCERTAIN for Outlook). */
      enum sim_go go = end_redirect(w, v, to != NULL ? to : ans->redirect, what, true, consent);
      free(to);
      return go;
    }
    case SIM_A_ERROR:
      sim__cur(w)->error_code = ans->error_code;
      return sim__step_end(w, SIM_R_XML_ERROR,
                           "Autodiscover Error %u (%s); assumed not functional, trying the next "
                           "candidate (assumption, protocol §3.5)",
                           ans->error_code, ans->message != NULL ? ans->message : "no message");
    case SIM_A_AUTH: return answer_401(w);
    case SIM_A_OTHER: return sim__step_end(w, SIM_R_NOT_AUTODISCOVER, "%s", ans->why);
  }
  return sim__step_end(w, SIM_R_NOT_AUTODISCOVER, "an answer of no known kind");
}

enum sim_go sim__answer_http(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  int status = a->parser.status_code;
  sim__cur(w)->http_status = status;
  if (a->req == SIM_REQ_GET) {
    return answer_get(w, status);
  }
  if (a->req == SIM_REQ_AUTODV2) {
    return answer_autodv2(w, status);
  }
  if (a->body_overflow) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER, "HTTP %d with a body over 1 MiB", status);
  }
  struct sim_answer ans;
  sim__classify(&ans, status, a->location, buf_slice(&a->body));
  enum sim_go go = sim__answer_pox(w, &ans, status);
  sim__answer_cleanup(&ans);
  return go;
}

enum sim_go sim__answer_srv(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  struct sim_step *s = sim__cur(w);
  if (a->dns_status != ARES_SUCCESS) {
    const char *error = sim__dns_error_name(a->dns_status);
    sim__dns_timed_out(w, a->dns_status);
    sim__set_str(&s->dns_error, error);
    /* §5 / MS-OXPROTO 2.5.1.5: no SRV answer is not an error, the step yields nothing. */
    bool none = a->dns_status == ARES_ENOTFOUND || a->dns_status == ARES_ENODATA;
    return sim__step_end(w, none ? SIM_R_NO_CANDIDATE : SIM_R_DNS_FAILED, "%s: DNS %s", s->host,
                         error);
  }
  size_t n = a->n_srv;
  struct buf answer;
  buf_init(&answer, 4096);
  for (size_t i = 0; i < n; i++) {
    buf_appendf(&answer, "%s%u %u %u %s", i ? ", " : "", a->srv[i].priority, a->srv[i].weight,
                a->srv[i].port, a->srv[i].target);
  }
  s->dns_answer = buf_take(&answer);
  size_t kept = sim__srv_select(a->srv, n, &w->pol);
  for (size_t i = 0; i < kept; i++) {
    char *url = sim__srv_url(&a->srv[i]);
    if (url != NULL) {
      sim__push_pending(w, false, url, w->pol.srv_consent, a->step);
      if (s->url == NULL) {
        s->url = str_dup(url);
        s->redirect_to = str_dup(url);
      }
    }
    free(url);
  }
  if (kept == 0) {
    return sim__step_end(w, SIM_R_NO_CANDIDATE, "%zu SRV record%s, none usable (%s, §5)", n,
                         n == 1 ? "" : "s",
                         w->pol.srv_port_443_only ? "port 443 only" : "no target or port");
  }
  return sim__step_end(w, SIM_R_REDIRECT, "%zu SRV target%s to try (%zu ignored)", kept,
                       kept == 1 ? "" : "s", n - kept);
}
