/* client/sim_rules.c: the client's rules that need no socket — which redirects it follows
 * (§3.4), how it orders SRV answers (§5), and what its dialogs say (§2.3, §2.5). */
#include "client/sim.h"

#include "client/internal.h"

#include <openssl/base64.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- redirects --- */

static bool seen(char *const *list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i], s) == 0) {
      return true;
    }
  }
  return false;
}

static void remember(char ***list, size_t *n, const char *s) {
  *list = xrealloc_array(*list, *n + 1, sizeof **list);
  (*list)[(*n)++] = str_lower(str_dup(s));
}

void sim__visit_note(struct sim_visits *v, const char *url) {
  char *low = str_lower(str_dup(url));
  if (!seen(v->urls, v->n_urls, low)) {
    remember(&v->urls, &v->n_urls, low);
  }
  free(low);
}

enum sim_redirect_verdict sim__visit_url(struct sim_visits *v, const struct sim_policy *p,
                                         const char *url) {
  struct sim_url u;
  if (!sim__url_parse(&u, url)) {
    return SIM_REDIRECT_BAD;
  }
  bool https = u.https;
  sim__url_cleanup(&u);
  if (!https && p->https_only_redirects) {
    return SIM_REDIRECT_NOT_HTTPS;
  }
  char *low = str_lower(str_dup(url));
  enum sim_redirect_verdict verdict = SIM_REDIRECT_OK;
  if (seen(v->urls, v->n_urls, low)) {
    verdict = SIM_REDIRECT_LOOP;
  } else if (v->n_redirects >= p->max_redirects) {
    verdict = SIM_REDIRECT_LIMIT;
  } else {
    remember(&v->urls, &v->n_urls, low);
    v->n_redirects++;
  }
  free(low);
  return verdict;
}

enum sim_redirect_verdict sim__visit_addr(struct sim_visits *v, const struct sim_policy *p,
                                          const char *addr, bool count) {
  const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
  if (at == NULL || at == addr || at[1] == '\0') {
    return SIM_REDIRECT_BAD;
  }
  char *low = str_lower(str_dup(addr));
  enum sim_redirect_verdict verdict = SIM_REDIRECT_OK;
  if (seen(v->addrs, v->n_addrs, low)) {
    verdict = count ? SIM_REDIRECT_LOOP : SIM_REDIRECT_OK;
  } else if (count && v->n_redirects >= p->max_redirects) {
    verdict = SIM_REDIRECT_LIMIT;
  } else {
    remember(&v->addrs, &v->n_addrs, low);
    v->n_redirects += count ? 1 : 0;
  }
  free(low);
  return verdict;
}

const char *sim__redirect_verdict_text(enum sim_redirect_verdict v) {
  switch (v) {
    case SIM_REDIRECT_OK: return "followed";
    case SIM_REDIRECT_BAD: return "not a usable URL or address";
    case SIM_REDIRECT_NOT_HTTPS: return "not https";
    case SIM_REDIRECT_LOOP: return "already visited (loop)";
    case SIM_REDIRECT_LIMIT: return "too many redirects";
  }
  return "?";
}

void sim__visits_cleanup(struct sim_visits *v) {
  for (size_t i = 0; i < v->n_urls; i++) {
    free(v->urls[i]);
  }
  for (size_t i = 0; i < v->n_addrs; i++) {
    free(v->addrs[i]);
  }
  free(v->urls);
  free(v->addrs);
  memset(v, 0, sizeof *v);
}

/* --- SRV --- */

/* A stable insertion sort keeps equal records in answer order, so a transcript is repeatable;
 * RFC 2782's weighted random pick is approximated by "heavier first" for the same reason
 * (srv_choice rfc2782), or made with a seeded draw (srv_choice weighted). */
static bool before(const struct sim_srv *a, const struct sim_srv *b, enum sim_srv_order order) {
  if (order == SIM_SRV_LARGEST_WINS) {
    return a->priority != b->priority ? a->priority > b->priority : a->weight > b->weight;
  }
  if (order == SIM_SRV_WEIGHTED) {
    return a->priority < b->priority; /* weights are drawn below */
  }
  return a->priority != b->priority ? a->priority < b->priority : a->weight > b->weight;
}

/* xorshift32 (Marsaglia): enough to make a repeatable draw from a seed. */
static uint32_t next_random(uint32_t *state) {
  uint32_t x = *state != 0 ? *state : 1;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

/* weighted_draw orders recs[0..n) of one priority as RFC 2782's "Usage rules" say: the records
 * not yet ordered, those of weight 0 first, each with the running sum of the weights; a uniform
 * number from 0 to the sum picks the first record whose running sum reaches it. */
static void weighted_draw(struct sim_srv *recs, size_t n, uint32_t *state) {
  for (size_t done = 0; done + 1 < n; done++) {
    for (size_t i = done + 1; i < n; i++) { /* weight 0 first, otherwise answer order */
      struct sim_srv r = recs[i];
      size_t j = i;
      while (j > done && r.weight == 0 && recs[j - 1].weight != 0) {
        recs[j] = recs[j - 1];
        j--;
      }
      recs[j] = r;
    }
    uint64_t sum = 0;
    for (size_t i = done; i < n; i++) {
      sum += recs[i].weight;
    }
    uint64_t pick = next_random(state) % (sum + 1);
    uint64_t running = 0;
    size_t chosen = n - 1;
    for (size_t i = done; i < n; i++) {
      running += recs[i].weight;
      if (running >= pick) {
        chosen = i;
        break;
      }
    }
    struct sim_srv r = recs[chosen];
    memmove(&recs[done + 1], &recs[done], (chosen - done) * sizeof *recs);
    recs[done] = r;
  }
}

size_t sim__srv_select(struct sim_srv *recs, size_t n, const struct sim_policy *p) {
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) { /* stable partition: usable records first */
    bool usable = recs[i].target != NULL && recs[i].target[0] != '\0' &&
                  strcmp(recs[i].target, ".") != 0 && /* "." : no service (RFC 2782) */
                  recs[i].port != 0;
    if (usable && (!p->srv_port_443_only || recs[i].port == 443)) {
      struct sim_srv r = recs[i];
      memmove(&recs[kept + 1], &recs[kept], (i - kept) * sizeof *recs);
      recs[kept++] = r;
    }
  }
  for (size_t i = 1; i < kept; i++) {
    struct sim_srv r = recs[i];
    size_t j = i;
    while (j > 0 && before(&r, &recs[j - 1], p->srv_order)) {
      recs[j] = recs[j - 1];
      j--;
    }
    recs[j] = r;
  }
  if (p->srv_order == SIM_SRV_WEIGHTED) {
    uint32_t state = p->srv_seed;
    for (size_t g = 0; g < kept;) {
      size_t end = g + 1;
      while (end < kept && recs[end].priority == recs[g].priority) {
        end++;
      }
      weighted_draw(&recs[g], end - g, &state);
      g = end;
    }
  }
  if (p->srv_order == SIM_SRV_LARGEST_WINS && kept > 1) {
    kept = 1; /* exchangelib's _select_srv_host: one record, no fallback (§5) */
  }
  return kept;
}

char *sim__srv_url(const struct sim_srv *r) {
  /* §5 / MS-OXDISCO: https://<target>/Autodiscover/Autodiscover.xml; a port other than 443
   * (srv_ports any) has to be in the URL, or the client would connect to 443 (§9.5). */
  struct buf b;
  buf_init(&b, 600);
  bool ok = r->port == 443 ? buf_appendf(&b, "https://%s/Autodiscover/Autodiscover.xml", r->target)
                           : buf_appendf(&b, "https://%s:%u/Autodiscover/Autodiscover.xml",
                                         r->target, (unsigned) r->port);
  if (!ok) {
    buf_cleanup(&b);
    return NULL;
  }
  return buf_take(&b);
}

/* --- prompts --- */

unsigned sim__cert_failure_of_verify(int x509_error) {
  switch (x509_error) {
    case X509_V_OK: return 0;
    case X509_V_ERR_CERT_HAS_EXPIRED: return SIM_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID: return SIM_CERT_NOT_YET_VALID;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return SIM_CERT_NAME;
    /* UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), DEPTH_ZERO_SELF_SIGNED_CERT,
     * SELF_SIGNED_CERT_IN_CHAIN, CERT_UNTRUSTED, UNABLE_TO_VERIFY_LEAF_SIGNATURE,
     * PERMITTED_VIOLATION and any other chain problem: the dialog has only the "trusted
     * certifying authority" line for them (§2.3). */
    default: return SIM_CERT_UNTRUSTED;
  }
}

const char *sim__cert_reason(unsigned failures) {
  if (failures & SIM_CERT_EXPIRED) {
    return "expired";
  }
  if (failures & SIM_CERT_NOT_YET_VALID) {
    return "not-yet-valid";
  }
  if (failures & SIM_CERT_NAME) {
    return "name";
  }
  if (failures & SIM_CERT_UNTRUSTED) {
    return "untrusted";
  }
  if (failures & SIM_CERT_WEAK_SIGNATURE) {
    return "weak-signature";
  }
  if (failures & SIM_CERT_WEAK_KEY) {
    return "weak-key";
  }
  return NULL;
}

char *sim__cert_prompt_text(const char *host, unsigned failures) {
  /* The Windows Security Alert: its three checks in its own order, each passed or failed
   * (§2.3; KB 2772058 for the name line). */
  /* A weak signature or key fails the chain's trust on a stack that refuses them. */
  bool trusted = !(failures & (SIM_CERT_UNTRUSTED | SIM_CERT_WEAK_SIGNATURE | SIM_CERT_WEAK_KEY));
  bool dated = !(failures & (SIM_CERT_EXPIRED | SIM_CERT_NOT_YET_VALID));
  bool named = !(failures & SIM_CERT_NAME);
  struct buf b;
  buf_init(&b, 4096);
  buf_appendf(&b,
              "Security Alert — %s\n"
              "Information you exchange with this site cannot be viewed or changed by others. "
              "However, there is a problem with the site's security certificate.\n",
              host);
  buf_appendf(&b, "%s\n",
              trusted ? "✓ The security certificate is from a trusted certifying authority."
                      : "✗ The security certificate was issued by a company you have not chosen "
                        "to trust. View the certificate to determine whether you want to trust "
                        "the certifying authority.");
  buf_appendf(&b, "%s\n",
              dated ? "✓ The security certificate date is valid."
                    : "✗ The security certificate has expired or is not yet valid.");
  buf_appendf(&b, "%s\n",
              named ? "✓ The security certificate has a valid name matching the name of the "
                      "page you are trying to view."
                    : "✗ The name on the security certificate is invalid or does not match the "
                      "name of the site.");
  buf_append_str(&b, "Do you want to proceed?");
  return buf_take(&b);
}

char *sim__redirect_prompt_text(const char *email, const char *url) {
  /* KB 2480582's dialog (§2.5). */
  struct buf b;
  buf_init(&b, 4096);
  buf_appendf(&b,
              "Allow this website to configure %s server settings?\n%s\n"
              "Your account was redirected to this website for settings. You should only allow "
              "settings from sources you know and trust.",
              email, url);
  return buf_take(&b);
}

bool sim__host_listed(const char *host, char *const *list, size_t n) {
  if (host == NULL) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if (list[i] != NULL && str_eq_nocase(list[i], host)) {
      return true;
    }
  }
  return false;
}

/* --- 401 --- */

/* has_scheme says whether the ", "-separated `schemes` names `want` (case-insensitive). */
static bool has_scheme(const char *schemes, const char *want) {
  size_t want_len = strlen(want);
  for (const char *p = schemes; p != NULL && *p != '\0';) {
    while (*p == ',' || *p == ' ') {
      p++;
    }
    size_t len = strcspn(p, ", ");
    if (len == want_len && strncasecmp(p, want, len) == 0) {
      return true;
    }
    p += len;
  }
  return false;
}

bool sim__auth_offers(const char *schemes, const char *scheme) {
  return has_scheme(schemes, scheme);
}

enum sim_auth_action sim__auth_decide(const char *schemes, const char **out_scheme) {
  /* §2.4: Windows logon first (Negotiate, NTLM), assumed silent; Basic asks the user. */
  static const char *const sso[] = {"Negotiate", "NTLM"};
  for (size_t i = 0; i < 2; i++) {
    if (has_scheme(schemes, sso[i])) {
      *out_scheme = sso[i];
      return SIM_AUTH_SSO;
    }
  }
  if (has_scheme(schemes, "Basic")) {
    *out_scheme = "Basic";
    return SIM_AUTH_BASIC;
  }
  *out_scheme = NULL;
  return SIM_AUTH_NONE;
}

static char *base64(const char *s) {
  size_t len = strlen(s);
  size_t out_len = 0;
  if (!EVP_EncodedLength(&out_len, len)) {
    return NULL;
  }
  uint8_t *out = xcalloc(out_len, 1);
  EVP_EncodeBlock(out, (const uint8_t *) s, len);
  return (char *) out;
}

char *sim__auth_header(const char *scheme, const char *email) {
  struct buf secret;
  buf_init(&secret, 1024);
  bool basic = str_eq_nocase(scheme, "Basic");
  bool ok = basic ? buf_appendf(&secret, "%s:lab-password", email)
                  : buf_append_str(&secret, "autodisco-lab-sso");
  char *token = ok ? base64(buf_cstr(&secret)) : NULL;
  buf_cleanup(&secret);
  if (token == NULL) {
    return NULL;
  }
  struct buf b;
  buf_init(&b, 2048);
  ok = buf_appendf(&b, "%s %s", basic ? "Basic" : scheme, token);
  free(token);
  if (!ok) {
    buf_cleanup(&b);
    return NULL;
  }
  return buf_take(&b);
}

char *sim__basic_header(const char *username, const char *password) {
  struct buf secret;
  buf_init(&secret, 4096);
  bool ok = buf_appendf(&secret, "%s:%s", username, password);
  char *token = ok ? base64(buf_cstr(&secret)) : NULL;
  OPENSSL_cleanse(secret.ptr, secret.len);
  buf_cleanup(&secret);
  if (token == NULL) {
    return NULL;
  }
  struct buf b;
  buf_init(&b, 8192);
  ok = buf_appendf(&b, "Basic %s", token);
  OPENSSL_cleanse(token, strlen(token));
  free(token);
  if (!ok) {
    OPENSSL_cleanse(b.ptr, b.len);
    buf_cleanup(&b);
    return NULL;
  }
  return buf_take(&b);
}

void sim__auth_schemes_add(struct buf *list, const char *challenge) {
  /* A value holds one challenge ("Basic realm=\"x\"") or several, comma-separated ("Negotiate,
   * NTLM"); a part whose first word holds '=' or '"' is an auth-param of the one before. */
  for (const char *p = challenge; p != NULL && *p != '\0';) {
    while (*p == ',' || *p == ' ' || *p == '\t') {
      p++;
    }
    size_t word = strcspn(p, " \t,=\"");
    bool scheme = word > 0 && p[word] != '=' && p[word] != '"';
    if (scheme && word < 64) {
      if (list->len > 0) {
        buf_append_str(list, ", ");
      }
      buf_append(list, (struct slice){(const uint8_t *) p, word});
    }
    /* on to the next part, skipping quoted strings (they may hold commas) */
    bool quoted = false;
    while (*p != '\0' && (quoted || *p != ',')) {
      if (*p == '"') {
        quoted = !quoted;
      } else if (*p == '\\' && quoted && p[1] != '\0') {
        p++;
      }
      p++;
    }
  }
}

char *sim__credentials_prompt_text(const char *host, const char *email) {
  /* The Windows Security dialog Outlook shows (wording approximate, §2.4 UNCERTAIN). */
  struct buf b;
  buf_init(&b, 4096);
  buf_appendf(&b,
              "Windows Security\nMicrosoft Outlook\nConnecting to %s\n"
              "%s asks for a user name and password (HTTP Basic: sent Base64-encoded, readable by "
              "that server).",
              email, host);
  return buf_take(&b);
}
