/* client/sim_model.c: the built-in client models. A model is one table entry: its steps in the
 * order the client tries them and its policy; a new Outlook generation is one more entry. */
#include "client/sim.h"

#include "client/internal.h"

#include <stdlib.h>
#include <string.h>

/* The settings every built-in model starts from (docs/clients.md): the registry values as a
 * missing value reads (0: every method used, KB 2212902), a fresh machine (not domain-joined,
 * no cached URL, no local XML file, not restarting, the mailbox not in Exchange Online), a user
 * who answers Yes, and the policy: the UNCERTAIN items of docs/protocol.md get the document's
 * default (§2.2, §2.3, §2.5, §5).
 *
 * Timeouts (lab time; Outlook's own are UNCERTAIN, §9.6 — these are assumptions):
 * - DNS 5 s, one try: the Windows resolver's first retry interval is about 1 s and it gives up
 *   after roughly 10 s over several servers; one lab server, one 5 s try.
 * - TCP connect 21 s: Windows sends a SYN and retransmits it twice (TcpMaxConnect-
 *   Retransmissions = 2) with an initial RTO of 3 s doubling: 3 + 6 + 12 = 21 s.
 * - TLS handshake 30 s and HTTP answer 30 s: WinHTTP's default send and receive timeouts. */
#define SIM_DEFAULTS                                                                               \
  .certificate_prompts = SCN_CERT_ALL, .certificate_no = SCN_CERT_NO_NEXT_STEP,                    \
  .http_redirect_consent = true, .srv_consent = true, .post_redirect_consent = false,              \
  .silent_sso = true, .srv_choice = SCN_SRV_RFC2782, .srv_seed = 1, .srv_ports = SCN_SRV_PORT_443, \
  .follow_post_3xx = true, .https_only_redirects = true, .max_redirects = 10,                      \
  .dns_timeout_ms = 5000, .connect_timeout_ms = 21000, .tls_timeout_ms = 30000,                    \
  .http_timeout_ms = 30000

/* Windows' certificate checks (CryptoAPI, which Outlook's WinINet uses): a 1024-bit RSA key
 * passes (KB 2661254 blocks keys under 1024 bits only), and so does a SHA-1 signature from a
 * root outside the Microsoft Trusted Root Program (Microsoft Security Advisory 4010323 ends
 * SHA-1 for that program's roots only) — what a lab CA trusted on a VM is. UNCERTAIN for
 * Outlook itself; the settings certificate_accepted and certificate_prompts change it. */
#define SIM_WINDOWS_CERTS .certificate_accepted = SCN_CERT_WEAK_SIGNATURE | SCN_CERT_WEAK_KEY

/* Shorter names for the table. */
#define RESTART SIM_STEP_RESTART_CACHE
#define LOCAL SIM_STEP_LOCAL_XML
#define LKG SIM_STEP_LAST_KNOWN_GOOD
#define O365 SIM_STEP_O365_DIRECT
#define O365_LAST SIM_STEP_O365_FALLBACK
#define SCP SIM_STEP_SCP
#define ROOT SIM_STEP_HTTPS_ROOT
#define AUTOD SIM_STEP_HTTPS_AUTODISCOVER
#define HTTP SIM_STEP_HTTP_REDIRECT
#define SRV SIM_STEP_SRV

/* The models, protocol §1.1–§1.2 and docs/clients.md. local-xml is listed at its late position;
 * PreferLocalXML moves it first (KB 3211279 step 2, and the same for 2007–2013, §1.2). */
static const struct sim_model models[] = {
    {
        .name = "mso-xdscli",
        .summary = "the plain protocol: MS-OXDISCO list order (SCP, root, autodiscover., SRV, "
                   "HTTP redirect), MS-OXDSCLI answers",
        /* MS-OXDISCO 3.1.5 (§1.1): SRV before the HTTP probe; no local XML or cached URL. A
         * current TLS stack refuses SHA-1 signatures and RSA keys under 2048 bits (OpenSSL 3
         * at its default security level; NIST SP 800-131A): here they fail the trusted check
         * and raise the Security Alert like any untrusted chain. */
        .steps = {SCP, ROOT, AUTOD, SRV, HTTP},
        .n_steps = 5,
        .defaults = {SIM_DEFAULTS, .user_agent = "autodisco/0.1 (MS-OXDSCLI client model)",
                     .mapi_http = true},
    },
    {
        .name = "outlook-2007",
        .summary = "Outlook 2007: SCP, root, autodiscover., HTTP redirect, SRV, local XML",
        .product = "Outlook 2007",
        .office = 12,
        /* §1.2: SRV came with a post-RTM update; local XML last per [S29]. */
        .steps = {SCP, ROOT, AUTOD, HTTP, SRV, LOCAL},
        .n_steps = 6,
        .defaults = {SIM_DEFAULTS, SIM_WINDOWS_CERTS,
                     .user_agent = "Microsoft Office/12.0 (Windows NT 6.1; Microsoft Office "
                                   "Outlook 12.0.6680; Pro)",
                     .mapi_http = false},
    },
    {
        .name = "outlook-2010",
        .summary = "Outlook 2010: cached URL, SCP, root, autodiscover., HTTP redirect, SRV, "
                   "local XML",
        .product = "Outlook 2010",
        .office = 14,
        /* §1.2: the 2007 chain plus the last known good URL (14.0.7140.5001). */
        .steps = {LKG, SCP, ROOT, AUTOD, HTTP, SRV, LOCAL},
        .n_steps = 7,
        .defaults = {SIM_DEFAULTS, SIM_WINDOWS_CERTS,
                     .user_agent = "Microsoft Office/14.0 (Windows NT 6.1; Microsoft Outlook "
                                   "14.0.7140; Pro)",
                     .mapi_http = false},
    },
    {
        .name = "outlook-2013",
        .summary = "Outlook 2013: as 2010 (SCP and the DNS steps run in parallel there; one "
                   "after another here)",
        .product = "Outlook 2013",
        .office = 15,
        /* §1.2: Outlook 2013 starts the SCP lookup and the DNS-based steps in parallel [S29].
         * The walk takes one step at a time; scp_parallel_root approximates the race by taking
         * the root-domain attempt just before the SCP URLs when SCP is looked up, so the DC on
         * 443 of scenario L-30 raises its certificate prompt although SCP has the settings. (If
         * the root answered with settings, this walk would take them; the real race is
         * UNCERTAIN.) Not domain-joined, the order is 2010's. */
        .steps = {LKG, SCP, ROOT, AUTOD, HTTP, SRV, LOCAL},
        .n_steps = 7,
        .defaults = {SIM_DEFAULTS, SIM_WINDOWS_CERTS, .scp_parallel_root = true,
                     .user_agent = "Microsoft Office/15.0 (Windows NT 6.1; Microsoft Outlook "
                                   "15.0.5023; Pro)",
                     .mapi_http = true},
    },
    {
        .name = "outlook-2016-msi",
        .summary = "Outlook 2016 MSI (no Office 365 direct connect): cached URL, SCP, root, "
                   "autodiscover., local XML, HTTP redirect, SRV",
        .product = "Outlook 2016 MSI",
        .office = 16,
        /* KB 3211279 order without the Office 365 steps (§1.2, [S44]). */
        .steps = {LKG, SCP, ROOT, AUTOD, LOCAL, HTTP, SRV},
        .n_steps = 7,
        .defaults = {SIM_DEFAULTS, SIM_WINDOWS_CERTS,
                     .user_agent = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook "
                                   "16.0.4266; Pro)",
                     .mapi_http = true},
    },
    {
        .name = "outlook-2016-c2r",
        .summary = "Outlook 2016 Click-to-Run from 16.0.6741: KB 3211279 steps 2-11, Direct "
                   "Connect to Office 365 first and last",
        .product = "Outlook 2016 and later, Click-to-Run",
        .office = 16,
        /* KB 3211279 steps 2–11 (§1.2); step 1 (the restart case) is outlook-m365's. */
        .steps = {LKG, O365, SCP, ROOT, AUTOD, LOCAL, HTTP, SRV, O365_LAST},
        .n_steps = 9,
        .defaults = {SIM_DEFAULTS, SIM_WINDOWS_CERTS,
                     .user_agent = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook "
                                   "16.0.17328; Pro)",
                     .mapi_http = true},
    },
    {
        .name = "outlook-m365",
        .summary = "Microsoft 365 Apps (Click-to-Run) today: all of KB 3211279 — restart cache, "
                   "local XML when preferred, cached URL, Direct Connect (AutoDV2), SCP, root, "
                   "autodiscover., local XML, HTTP redirect, SRV, Office 365 fallback",
        .product = "Microsoft 365 Apps, Click-to-Run",
        .office = 16,
        /* KB 3211279 steps 1–11 (§1.2): the restart case first — a cached answer read while
         * Outlook restarts itself after an account was added; unreadable, the whole run
         * fails. Direct Connect asks Exchange Online's AutoDV2 without credentials [S30]. */
        .steps = {RESTART, LKG, O365, SCP, ROOT, AUTOD, LOCAL, HTTP, SRV, O365_LAST},
        .n_steps = 10,
        .defaults = {SIM_DEFAULTS, SIM_WINDOWS_CERTS,
                     .user_agent = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook "
                                   "16.0.18129; Pro)",
                     .mapi_http = true},
    },
};

#undef RESTART
#undef LOCAL
#undef LKG
#undef O365
#undef O365_LAST
#undef SCP
#undef ROOT
#undef AUTOD
#undef HTTP
#undef SRV

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

const char *sim_model_product(const struct sim_model *m) {
  return m->product;
}

unsigned sim_model_office(const struct sim_model *m) {
  return m->office;
}

const struct scn_client *sim_model_defaults(const struct sim_model *m) {
  return &m->defaults;
}

void sim_model_steps(const struct sim_model *m, char *out, size_t out_size) {
  struct buf b;
  buf_init(&b, 1024);
  for (size_t i = 0; i < m->n_steps; i++) {
    buf_appendf(&b, "%s%s", i > 0 ? ", " : "", sim__step_kind_name(m->steps[i]));
  }
  buf_fmt(out, out_size, "%s", buf_cstr(&b));
  buf_cleanup(&b);
}

void sim__settings(struct scn_client *out, const struct sim_model *m,
                   const struct scn_client *cfg) {
  scn_client_copy(out, &m->defaults);
  out->given = 0;
  if (cfg != NULL) {
    free(out->model);
    out->model = str_dup(cfg->model);
    scn_client_overlay(out, cfg);
  }
}

void sim__policy_of(struct sim_policy *out, const struct scn_client *c) {
  *out = (struct sim_policy){
      .cert_prompts = c->certificate_prompts,
      .cert_accepted = c->certificate_accepted,
      .cert_no = c->certificate_no == SCN_CERT_NO_END_WALK ? SIM_CERT_NO_ENDS_WALK
                                                           : SIM_CERT_NO_FAILS_STEP,
      .http_redirect_consent = c->http_redirect_consent,
      .srv_consent = c->srv_consent,
      .post_redirect_consent = c->post_redirect_consent,
      .silent_sso = c->silent_sso,
      .max_redirects = c->max_redirects,
      .https_only_redirects = c->https_only_redirects,
      .follow_post_3xx = c->follow_post_3xx,
      .srv_order = c->srv_choice == SCN_SRV_LARGEST    ? SIM_SRV_LARGEST_WINS
                   : c->srv_choice == SCN_SRV_WEIGHTED ? SIM_SRV_WEIGHTED
                                                       : SIM_SRV_RFC2782,
      .srv_seed = c->srv_seed,
      .srv_port_443_only = c->srv_ports == SCN_SRV_PORT_443,
      .dns_timeout_ms = c->dns_timeout_ms,
      .connect_timeout_ms = c->connect_timeout_ms,
      .tls_timeout_ms = c->tls_timeout_ms,
      .http_timeout_ms = c->http_timeout_ms,
      .user_agent = c->user_agent != NULL ? c->user_agent : "autodisco/0.1",
      .mapi_http = c->mapi_http,
      .scp_parallel_root = c->scp_parallel_root,
  };
}

/* skip_reason says why step `k` is not taken, or NULL. An Exclude* value wins over "not
 * applicable", since the registry value is what an admin looks for. */
static const char *skip_reason(enum sim_step_kind k, const struct scn_client *c, bool first) {
  switch (k) {
    case SIM_STEP_HTTPS_ROOT:
      return c->exclude_https_root_domain ? "excluded by the client setting ExcludeHttpsRootDomain"
                                          : NULL;
    case SIM_STEP_HTTPS_AUTODISCOVER:
      return c->exclude_https_autodiscover_domain
                 ? "excluded by the client setting ExcludeHttpsAutoDiscoverDomain"
                 : NULL;
    case SIM_STEP_HTTP_REDIRECT:
      return c->exclude_http_redirect ? "excluded by the client setting ExcludeHttpRedirect" : NULL;
    case SIM_STEP_SRV:
      return c->exclude_srv_record ? "excluded by the client setting ExcludeSrvRecord" : NULL;
    case SIM_STEP_SCP:
      if (c->exclude_scp_lookup) {
        return "excluded by the client setting ExcludeScpLookup";
      }
      if (!c->domain_joined) {
        return "the machine is not domain-joined: no SCP lookup (§1.1)";
      }
      return first ? NULL : "SCP is looked up for the first address only (assumption)";
    case SIM_STEP_LAST_KNOWN_GOOD:
      if (c->exclude_last_known_good_url) {
        return "excluded by the client setting ExcludeLastKnownGoodUrl";
      }
      if (c->last_known_good_url == NULL) {
        return "no URL is cached in the profile";
      }
      return first ? NULL : "the cached URL is the first address's only (assumption)";
    case SIM_STEP_LOCAL_XML:
      if (c->local_xml == NULL) {
        return "no local XML file is set for the domain (no <domain> registry value, §4.5)";
      }
      return first ? NULL : "the local XML file is for the first address's domain (assumption)";
    case SIM_STEP_O365_DIRECT:
    case SIM_STEP_O365_FALLBACK:
      if (c->exclude_explicit_o365_endpoint) {
        return "excluded by the client setting ExcludeExplicitO365Endpoint";
      }
      return c->mailbox_in_exchange_online
                 ? NULL
                 : "Outlook's Office 365 heuristics do not fire for this account (§1.2)";
    case SIM_STEP_RESTART_CACHE:
      if (c->restart_cache == NULL) {
        return "Outlook is not restarting after adding an account: no cached answer to read "
               "(KB 3211279 step 1)";
      }
      return first ? NULL : "the restart cache is the first address's only (assumption)";
    case SIM_STEP_REDIRECT: return NULL;
  }
  return NULL;
}

size_t sim__plan(const struct sim_model *m, const struct scn_client *cfg, bool first_address,
                 struct sim_plan_step *out) {
  const struct scn_client *c = cfg != NULL ? cfg : &m->defaults;
  size_t n = 0;
  bool has_local = false;
  for (size_t i = 0; i < m->n_steps && i < SIM_MODEL_MAX_STEPS; i++) {
    has_local = has_local || m->steps[i] == SIM_STEP_LOCAL_XML;
  }
  bool local_first = has_local && c->prefer_local_xml;
  /* KB 3211279: the restart case (step 1) comes before the preferred local XML (step 2). */
  size_t lead = m->n_steps > 0 && m->steps[0] == SIM_STEP_RESTART_CACHE ? 1 : 0;
  for (size_t i = 0; i < lead; i++) {
    out[n++] = (struct sim_plan_step){m->steps[i], skip_reason(m->steps[i], c, first_address)};
  }
  if (local_first) {
    out[n++] = (struct sim_plan_step){SIM_STEP_LOCAL_XML,
                                      skip_reason(SIM_STEP_LOCAL_XML, c, first_address)};
  }
  /* Outlook 2013's parallel start: the root attempt goes first when SCP is taken. */
  bool root_first = c->scp_parallel_root && skip_reason(SIM_STEP_SCP, c, first_address) == NULL &&
                    skip_reason(SIM_STEP_HTTPS_ROOT, c, first_address) == NULL;
  for (size_t i = lead; i < m->n_steps && n < SIM_MODEL_MAX_STEPS; i++) {
    enum sim_step_kind k = m->steps[i];
    if ((local_first && k == SIM_STEP_LOCAL_XML) || (root_first && k == SIM_STEP_HTTPS_ROOT)) {
      continue; /* once per walk: at the position it moved to */
    }
    if (root_first && k == SIM_STEP_SCP && n < SIM_MODEL_MAX_STEPS - 1) {
      out[n++] = (struct sim_plan_step){SIM_STEP_HTTPS_ROOT, NULL};
    }
    out[n++] = (struct sim_plan_step){k, skip_reason(k, c, first_address)};
  }
  return n;
}

const char *sim__step_kind_name(enum sim_step_kind k) {
  switch (k) {
    case SIM_STEP_HTTPS_ROOT: return "https-root";
    case SIM_STEP_HTTPS_AUTODISCOVER: return "https-autodiscover";
    case SIM_STEP_HTTP_REDIRECT: return "http-redirect";
    case SIM_STEP_SRV: return "srv";
    case SIM_STEP_REDIRECT: return "redirect";
    case SIM_STEP_LOCAL_XML: return "local-xml";
    case SIM_STEP_LAST_KNOWN_GOOD: return "last-known-good";
    case SIM_STEP_SCP: return "scp";
    case SIM_STEP_O365_DIRECT: return "o365-direct";
    case SIM_STEP_O365_FALLBACK: return "o365-fallback";
    case SIM_STEP_RESTART_CACHE: return "restart-cache";
  }
  return "?";
}

const char *sim__cert_failure_name(unsigned bit) {
  switch (bit) {
    case SIM_CERT_UNTRUSTED: return "untrusted";
    case SIM_CERT_EXPIRED: return "expired";
    case SIM_CERT_NOT_YET_VALID: return "not-yet-valid";
    case SIM_CERT_NAME: return "name";
    case SIM_CERT_WEAK_SIGNATURE: return "weak-signature";
    case SIM_CERT_WEAK_KEY: return "weak-key";
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
