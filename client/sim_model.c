/* client/sim_model.c: the built-in client models. A model is one table entry: its steps in the
 * order the client tries them and its policy; a new Outlook generation is one more entry. */
#include "client/sim.h"

#include "client/internal.h"

#include <string.h>

/* The defaults every built-in model starts from; the UNCERTAIN items of
 * autodiscover-protocol.md get the document's default (§2.2, §2.3, §2.5, §5). */
#define SIM_POLICY_DEFAULTS                                                                        \
  .cert_prompts = SIM_CERT_UNTRUSTED | SIM_CERT_EXPIRED | SIM_CERT_NOT_YET_VALID | SIM_CERT_NAME,  \
  .cert_no = SIM_CERT_NO_FAILS_STEP, .http_redirect_consent = true, .srv_consent = true,           \
  .max_redirects = 10, .https_only_redirects = true, .follow_post_3xx = true,                      \
  .srv_order = SIM_SRV_RFC2782, .srv_port_443_only = true, .dns_timeout_ms = 5000,                 \
  .connect_timeout_ms = 10000, .tls_timeout_ms = 10000, .http_timeout_ms = 30000

static const struct sim_model models[] = {
    {
        .name = "mso-xdscli",
        .summary = "the plain protocol: MS-OXDISCO list order (root, autodiscover., SRV, "
                   "HTTP redirect), MS-OXDSCLI answers",
        /* MS-OXDISCO 3.1.5 (protocol §1.1): SCP is not modelled; SRV before the HTTP probe. */
        .steps = {SIM_STEP_HTTPS_ROOT, SIM_STEP_HTTPS_AUTODISCOVER, SIM_STEP_SRV,
                  SIM_STEP_HTTP_REDIRECT},
        .n_steps = 4,
        .policy = {SIM_POLICY_DEFAULTS, .user_agent = "autodisco/0.1 (MS-OXDSCLI client model)",
                   .mapi_http = true},
    },
    {
        .name = "outlook-2016-msi",
        .summary = "Outlook 2016 MSI (no Office 365 direct connect): root, autodiscover., "
                   "HTTP redirect, SRV",
        /* KB 3211279 order without the Office 365 and cache steps (protocol §1.2). */
        .steps = {SIM_STEP_HTTPS_ROOT, SIM_STEP_HTTPS_AUTODISCOVER, SIM_STEP_HTTP_REDIRECT,
                  SIM_STEP_SRV},
        .n_steps = 4,
        .policy = {SIM_POLICY_DEFAULTS,
                   .user_agent =
                       "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)",
                   .mapi_http = true},
    },
};

enum { N_MODELS = sizeof models / sizeof models[0] };

const struct sim_model *sim_model_named(const char *name) {
  if (name == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < N_MODELS; i++) {
    if (strcmp(models[i].name, name) == 0) {
      return &models[i];
    }
  }
  return NULL;
}

const struct sim_model *sim_model_at(size_t i) {
  return i < N_MODELS ? &models[i] : NULL;
}

const char *sim_model_name(const struct sim_model *m) {
  return m->name;
}

const char *sim_model_summary(const struct sim_model *m) {
  return m->summary;
}

const char *sim__step_kind_name(enum sim_step_kind k) {
  switch (k) {
    case SIM_STEP_HTTPS_ROOT: return "https-root";
    case SIM_STEP_HTTPS_AUTODISCOVER: return "https-autodiscover";
    case SIM_STEP_HTTP_REDIRECT: return "http-redirect";
    case SIM_STEP_SRV: return "srv";
    case SIM_STEP_REDIRECT: return "redirect";
  }
  return "?";
}

const char *sim__cert_failure_name(unsigned bit) {
  switch (bit) {
    case SIM_CERT_UNTRUSTED: return "untrusted";
    case SIM_CERT_EXPIRED: return "expired";
    case SIM_CERT_NOT_YET_VALID: return "not-yet-valid";
    case SIM_CERT_NAME: return "name";
    default: return "?";
  }
}

const char *sim_result_name(enum sim_result r) {
  switch (r) {
    case SIM_R_SKIPPED: return "skipped";
    case SIM_R_DNS_FAILED: return "dns-failed";
    case SIM_R_CONNECT_FAILED: return "connect-failed";
    case SIM_R_TLS_FAILED: return "tls-failed";
    case SIM_R_HTTP_FAILED: return "http-failed";
    case SIM_R_NOT_AUTODISCOVER: return "not-autodiscover";
    case SIM_R_REDIRECT: return "redirect";
    case SIM_R_XML_ERROR: return "xml-error";
    case SIM_R_SETTINGS: return "settings";
    case SIM_R_NO_CANDIDATE: return "no-candidate";
    case SIM_R_REJECTED: return "rejected";
  }
  return "?";
}

const char *sim_prompt_kind_name(enum sim_prompt_kind k) {
  switch (k) {
    case SIM_PROMPT_CERTIFICATE: return "certificate";
    case SIM_PROMPT_REDIRECT: return "redirect";
    case SIM_PROMPT_CREDENTIALS: return "credentials";
  }
  return "?";
}
