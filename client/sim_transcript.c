/* client/sim_transcript.c: the transcript of one walk — freeing it, its JSON form
 * (docs/transcript.md, written with the journal's JSON writer) and its readable form. */
#include "client/sim.h"

#include "client/internal.h"

#include <stdlib.h>
#include <string.h>

void sim_transcript_free(struct sim_transcript *t) {
  if (t == NULL) {
    return;
  }
  for (size_t i = 0; i < t->n_steps; i++) {
    struct sim_step *s = &t->steps[i];
    free(s->name);
    free(s->url);
    free(s->host);
    free(s->dns_answer);
    free(s->dns_error);
    free(s->connect_error);
    free(s->tls_error);
    free(s->cert_subject);
    free(s->cert_issuer);
    free(s->detail);
    free(s->redirect_to);
    free(s->auth_schemes);
  }
  for (size_t i = 0; i < t->n_prompts; i++) {
    free(t->prompts[i].host);
    free(t->prompts[i].reason);
    free(t->prompts[i].text);
  }
  for (size_t i = 0; i < t->n_settings; i++) {
    free(t->settings[i]);
  }
  free(t->settings);
  free(t->steps);
  free(t->prompts);
  free(t->client);
  free(t->email);
  free(t->final_url);
  free(t->settings_email);
  free(t->ews_url);
  free(t->server);
  free(t);
}

/* The Security Alert's checks in the dialog's order. */
static const unsigned cert_check_order[] = {SIM_CERT_UNTRUSTED,      SIM_CERT_EXPIRED,
                                            SIM_CERT_NOT_YET_VALID,  SIM_CERT_NAME,
                                            SIM_CERT_WEAK_SIGNATURE, SIM_CERT_WEAK_KEY};

static void cert_failures(struct jnl_event *ev, const char *key, unsigned failures) {
  jnl_arr_begin(ev, key);
  for (size_t i = 0; i < sizeof cert_check_order / sizeof cert_check_order[0]; i++) {
    if (failures & cert_check_order[i]) {
      jnl_str(ev, NULL, sim__cert_failure_name(cert_check_order[i]));
    }
  }
  jnl_arr_end(ev);
}

/* path_text says what the step met on its way, for people: "contoso.com → 127.77.0.1 ·
 * certificate contoso.com from autodisco lab CA: expired · HTTP 404" (protocol notes §2.3: host
 * tried, certificate presented, which check failed). Empty when the name did not resolve: the
 * step's own line says so already. */
static void path_text(struct buf *b, const struct sim_step *s) {
  if (s->result == SIM_R_SKIPPED || s->dns_answer == NULL) {
    return;
  }
  buf_appendf(b, "%s → %s", s->host != NULL ? s->host : "?", s->dns_answer);
  if (s->connect_error != NULL) {
    buf_appendf(b, " · connect: %s", s->connect_error);
  }
  if (s->cert_subject != NULL) {
    buf_appendf(b, " · certificate %s from %s: ", s->cert_subject,
                s->cert_issuer != NULL ? s->cert_issuer : "?");
    if (s->cert_failures == 0) {
      buf_append_str(b, "passes every check");
    }
    const char *sep = "";
    for (size_t i = 0; i < sizeof cert_check_order / sizeof cert_check_order[0]; i++) {
      if (s->cert_failures & cert_check_order[i]) {
        buf_appendf(b, "%s%s", sep, sim__cert_failure_name(cert_check_order[i]));
        sep = ", ";
      }
    }
  } else if (s->tls_error != NULL) {
    buf_appendf(b, " · TLS: %s", s->tls_error);
  }
  if (s->http_status != 0) {
    buf_appendf(b, " · HTTP %d", s->http_status);
  }
}

char *sim_transcript_json(const struct sim_transcript *t) {
  struct jnl_event d;
  jnl_doc_begin(&d);
  jnl_str(&d, "client", t->client);
  jnl_str(&d, "email", t->email);
  jnl_bool(&d, "success", t->success);
  jnl_str(&d, "final_url", t->final_url);
  jnl_str(&d, "settings_email", t->settings_email);
  jnl_str(&d, "ews_url", t->ews_url);
  jnl_str(&d, "server", t->server);
  jnl_double(&d, "total_ms", t->total_ms);
  jnl_arr_begin(&d, "settings");
  for (size_t i = 0; i < t->n_settings; i++) {
    jnl_str(&d, NULL, t->settings[i]);
  }
  jnl_arr_end(&d);
  jnl_arr_begin(&d, "steps");
  for (size_t i = 0; i < t->n_steps; i++) {
    const struct sim_step *s = &t->steps[i];
    jnl_obj_begin(&d, NULL);
    jnl_uint(&d, "index", i);
    jnl_str(&d, "step", s->name);
    jnl_str(&d, "url", s->url);
    jnl_str(&d, "host", s->host);
    jnl_str(&d, "result", sim_result_name(s->result));
    jnl_str(&d, "dns_answer", s->dns_answer);
    jnl_str(&d, "dns_error", s->dns_error);
    jnl_str(&d, "connect_error", s->connect_error);
    jnl_str(&d, "tls_error", s->tls_error);
    cert_failures(&d, "cert_failures", s->cert_failures);
    jnl_str(&d, "cert_subject", s->cert_subject);
    jnl_str(&d, "cert_issuer", s->cert_issuer);
    if (s->http_status != 0) {
      jnl_int(&d, "http_status", s->http_status);
    } else {
      jnl_null(&d, "http_status");
    }
    jnl_str(&d, "redirect_to", s->redirect_to);
    if (s->result == SIM_R_XML_ERROR) {
      jnl_uint(&d, "error_code", s->error_code);
    } else {
      jnl_null(&d, "error_code");
    }
    jnl_str(&d, "auth_schemes", s->auth_schemes);
    jnl_bool(&d, "timed_out", s->timed_out);
    jnl_bool(&d, "credentials_sent", s->credentials_sent);
    jnl_str(&d, "detail", s->detail);
    jnl_double(&d, "elapsed_ms", s->elapsed_ms);
    jnl_obj_end(&d);
  }
  jnl_arr_end(&d);
  jnl_arr_begin(&d, "prompts");
  for (size_t i = 0; i < t->n_prompts; i++) {
    const struct sim_prompt *p = &t->prompts[i];
    jnl_obj_begin(&d, NULL);
    jnl_str(&d, "kind", sim_prompt_kind_name(p->kind));
    jnl_uint(&d, "step", p->step);
    jnl_str(&d, "host", p->host);
    jnl_str(&d, "reason", p->reason);
    cert_failures(&d, "cert_failures", p->cert_failures);
    jnl_bool(&d, "accepted", p->accepted);
    jnl_str(&d, "text", p->text);
    jnl_obj_end(&d);
  }
  jnl_arr_end(&d);
  return jnl_doc_take(&d);
}

static bool step_had_cert_prompt(const struct sim_transcript *t, size_t step) {
  for (size_t i = 0; i < t->n_prompts; i++) {
    if (t->prompts[i].step == step && t->prompts[i].kind == SIM_PROMPT_CERTIFICATE &&
        t->prompts[i].accepted) {
      return true;
    }
  }
  return false;
}

/* wait_text words a lab duration: "21 s", "2.5 s", "300 ms". */
static void wait_text(char *out, size_t out_size, double ms) {
  if (ms >= 1000) {
    double sec = ms / 1000;
    double whole = (double) (long long) (sec + 0.5);
    if (sec - whole < 0.05 && whole - sec < 0.05) {
      buf_fmt(out, out_size, "%.0f s", whole);
    } else {
      buf_fmt(out, out_size, "%.1f s", sec);
    }
  } else {
    buf_fmt(out, out_size, "%.0f ms", ms);
  }
}

/* outcome words a step's end for the readable line. */
static void outcome(char *out, size_t out_size, const struct sim_step *s) {
  switch (s->result) {
    case SIM_R_SKIPPED:
      buf_fmt(out, out_size, "skipped (%s)", s->detail != NULL ? s->detail : "client setting");
      return;
    case SIM_R_DNS_FAILED:
      buf_fmt(out, out_size, "DNS %s", s->dns_error ? s->dns_error : "failed");
      return;
    case SIM_R_CONNECT_FAILED:
      buf_fmt(out, out_size, "connect %s", s->connect_error ? s->connect_error : "failed");
      return;
    case SIM_R_TLS_FAILED:
      buf_fmt(out, out_size, "TLS failed: %s", s->tls_error ? s->tls_error : "?");
      return;
    case SIM_R_HTTP_FAILED: buf_fmt(out, out_size, "HTTP failed"); return;
    case SIM_R_NOT_AUTODISCOVER:
      if (s->http_status != 0) {
        buf_fmt(out, out_size, "%d not Autodiscover", s->http_status);
      } else {
        buf_fmt(out, out_size, "not Autodiscover");
      }
      return;
    case SIM_R_REDIRECT:
      buf_fmt(out, out_size, "redirect → %s", s->redirect_to ? s->redirect_to : "?");
      return;
    case SIM_R_XML_ERROR: buf_fmt(out, out_size, "Autodiscover error %u", s->error_code); return;
    case SIM_R_SETTINGS: buf_fmt(out, out_size, "settings"); return;
    case SIM_R_NO_CANDIDATE:
      if (s->dns_error != NULL) {
        buf_fmt(out, out_size, "nothing to try (DNS %s)", s->dns_error);
      } else if (s->http_status != 0) {
        buf_fmt(out, out_size, "%d, nothing to try", s->http_status);
      } else {
        buf_fmt(out, out_size, "nothing to try");
      }
      return;
    case SIM_R_REJECTED:
      buf_fmt(out, out_size, "redirect refused: %s", s->redirect_to ? s->redirect_to : "?");
      return;
  }
  buf_fmt(out, out_size, "?");
}

const char *sim_clock_text(enum sim_clock c) {
  switch (c) {
    case SIM_CLOCK_LAB: return "lab clock";
    case SIM_CLOCK_REAL: return "real time";
    case SIM_CLOCK_JOURNAL: return "wall clock, from the journal's timestamps";
  }
  return "lab clock";
}

void sim_transcript_text(const struct sim_transcript *t, FILE *out, bool color) {
  const char *bold = color ? "\033[1;33m" : "";
  const char *reset = color ? "\033[0m" : "";
  fprintf(out, "client %s, %s\n", t->client ? t->client : "?", t->email ? t->email : "?");
  if (t->n_settings > 0) {
    fprintf(out, "settings:");
    for (size_t i = 0; i < t->n_settings; i++) {
      fprintf(out, " %s", t->settings[i]);
    }
    fprintf(out, "\n");
  }
  for (size_t i = 0; i < t->n_steps; i++) {
    const struct sim_step *s = &t->steps[i];
    char what[600];
    outcome(what, sizeof what, s);
    const char *url = s->kind != SIM_STEP_SRV && s->url ? s->url : (s->host ? s->host : "-");
    char wait[80] = "";
    char took[40];
    wait_text(took, sizeof took, s->elapsed_ms);
    if (s->timed_out) {
      buf_fmt(wait, sizeof wait, " (no answer, %s)", took);
    } else if (s->elapsed_ms >= 1000) {
      buf_fmt(wait, sizeof wait, " (after %s)", took);
    }
    fprintf(out, "%3zu %-18s  %s  → %s%s%s\n", i + 1, s->name ? s->name : "?", url, what, wait,
            step_had_cert_prompt(t, i) ? " (after certificate prompt)" : "");
    struct buf path;
    buf_init(&path, 2048);
    path_text(&path, s);
    if (path.len > 0) {
      fprintf(out, "      %s\n", buf_cstr(&path));
    }
    buf_cleanup(&path);
    for (size_t k = 0; k < t->n_prompts; k++) {
      const struct sim_prompt *p = &t->prompts[k];
      if (p->step != i) {
        continue;
      }
      if (p->kind == SIM_PROMPT_CERTIFICATE) {
        fprintf(out, "%s  ! PROMPT certificate: %s — %s (Security Alert) → %s%s\n", bold,
                p->host ? p->host : "?", p->reason ? p->reason : "?", p->accepted ? "Yes" : "No",
                reset);
      } else if (p->kind == SIM_PROMPT_CREDENTIALS) {
        fprintf(out, "%s  ! PROMPT credentials: %s — %s (Windows Security) → %s%s\n", bold,
                p->host ? p->host : "?", p->reason ? p->reason : "?",
                p->accepted ? "OK (password typed)" : "Cancel", reset);
      } else {
        fprintf(out, "%s  ! PROMPT %s: %s — %s → %s%s\n", bold, sim_prompt_kind_name(p->kind),
                p->host ? p->host : "?", p->reason ? p->reason : "?",
                p->accepted ? "Allow" : "Cancel", reset);
      }
    }
  }
  if (t->success) {
    fprintf(out, "outcome: settings from %s", t->final_url ? t->final_url : "?");
    if (t->ews_url != NULL) {
      fprintf(out, " (EWS %s)", t->ews_url);
    }
    fprintf(out, "\n");
  } else {
    fprintf(out, "outcome: failure — no candidate returned settings\n");
  }
  char total[40];
  wait_text(total, sizeof total, t->total_ms);
  fprintf(out, "time: %s (%s)\n", total, sim_clock_text(t->clock));
}
