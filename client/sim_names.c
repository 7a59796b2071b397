/* client/sim_names.c: the transcript's words for readers outside the walk — the names of steps,
 * results and prompts read back, a model's prompt policy, and the dialogs' wording — so a
 * transcript rebuilt from a journal (lab/journal_*.c) says what a model's would. */
#include "client/sim.h"

#include "client/internal.h"

#include <string.h>

const char *sim_step_kind_name(enum sim_step_kind k) {
  return sim__step_kind_name(k);
}

bool sim_step_kind_parse(const char *name, enum sim_step_kind *out) {
  for (int k = SIM_STEP_HTTPS_ROOT; k <= SIM_STEP_RESTART_CACHE; k++) {
    if (name != NULL && strcmp(name, sim__step_kind_name((enum sim_step_kind) k)) == 0) {
      *out = (enum sim_step_kind) k;
      return true;
    }
  }
  return false;
}

bool sim_result_parse(const char *name, enum sim_result *out) {
  for (int r = SIM_R_SKIPPED; r <= SIM_R_REJECTED; r++) {
    if (name != NULL && strcmp(name, sim_result_name((enum sim_result) r)) == 0) {
      *out = (enum sim_result) r;
      return true;
    }
  }
  return false;
}

bool sim_prompt_kind_parse(const char *name, enum sim_prompt_kind *out) {
  for (int k = SIM_PROMPT_CERTIFICATE; k <= SIM_PROMPT_CREDENTIALS; k++) {
    if (name != NULL && strcmp(name, sim_prompt_kind_name((enum sim_prompt_kind) k)) == 0) {
      *out = (enum sim_prompt_kind) k;
      return true;
    }
  }
  return false;
}

const char *sim_cert_failure_name(unsigned bit) {
  return sim__cert_failure_name(bit);
}

const char *sim_cert_reason(unsigned failures) {
  return sim__cert_reason(failures);
}

void sim_model_prompt_policy(const struct sim_model *m, const struct scn_client *cfg,
                             struct sim_prompt_policy *out) {
  struct scn_client settings;
  sim__settings(&settings, m, cfg);
  struct sim_policy p;
  sim__policy_of(&p, &settings);
  out->cert_prompts = p.cert_prompts;
  out->cert_accepted = p.cert_accepted;
  out->http_redirect_consent = p.http_redirect_consent;
  out->srv_consent = p.srv_consent;
  out->silent_sso = p.silent_sso;
  scn_client_cleanup(&settings);
}

const char *sim_auth_prompt(const char *schemes, bool silent_sso) {
  const char *scheme = NULL;
  switch (sim__auth_decide(schemes, &scheme)) {
    case SIM_AUTH_BASIC: return "basic";
    case SIM_AUTH_SSO:
      return silent_sso ? NULL : strcmp(scheme, "NTLM") == 0 ? "ntlm" : "negotiate";
    case SIM_AUTH_NONE: return NULL;
  }
  return NULL;
}

char *sim_prompt_text(enum sim_prompt_kind kind, const char *host, const char *email,
                      const char *url, unsigned cert_failures) {
  switch (kind) {
    case SIM_PROMPT_CERTIFICATE: return sim__cert_prompt_text(host, cert_failures);
    case SIM_PROMPT_REDIRECT: return sim__redirect_prompt_text(email, url);
    case SIM_PROMPT_CREDENTIALS: return sim__credentials_prompt_text(host, email);
  }
  return str_dup("");
}
