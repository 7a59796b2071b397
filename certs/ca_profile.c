/* certs/ca_profile.c: the certificate profiles (valid, expired, wrong-name, ...) and minting a
 * chain for one, cached on disk so repeated runs serve the same certificate. */
#include "certs/ca.h"

#include "certs/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Each profile mirrors one badssl.com host, so a lab failure can be compared with a public one. */
static const struct ca_profile profiles[] = {
    {"valid", "a sound certificate from the lab CA", "badssl.com", CA__SIGNER_LAB, -CA__DAY,
     397 * CA__DAY, CA__NAMES_GIVEN, CA__KEY_EC_P256, false},
    {"expired", "expired 30 days ago", "expired.badssl.com", CA__SIGNER_LAB, -730 * CA__DAY,
     -30 * CA__DAY, CA__NAMES_GIVEN, CA__KEY_EC_P256, false},
    {"not-yet-valid", "valid only from 30 days from now",
     "(none: badssl.com has no host whose certificate starts in the future)", CA__SIGNER_LAB,
     30 * CA__DAY, 365 * CA__DAY, CA__NAMES_GIVEN, CA__KEY_EC_P256, false},
    {"wrong-name", "always for wrong.host.invalid, whatever the host is called",
     "wrong.host.badssl.com", CA__SIGNER_LAB, -CA__DAY, 397 * CA__DAY, CA__NAMES_WRONG,
     CA__KEY_EC_P256, false},
    {"self-signed", "signed by its own key", "self-signed.badssl.com", CA__SIGNER_SELF, -CA__DAY,
     397 * CA__DAY, CA__NAMES_GIVEN, CA__KEY_EC_P256, false},
    {"untrusted-root", "issued by a second root that no client trusts", "untrusted-root.badssl.com",
     CA__SIGNER_UNTRUSTED, -CA__DAY, 397 * CA__DAY, CA__NAMES_GIVEN, CA__KEY_EC_P256, false},
    {"incomplete-chain", "issued by a lab intermediate CA that the server does not send",
     "incomplete-chain.badssl.com", CA__SIGNER_INTERMEDIATE, -CA__DAY, 397 * CA__DAY,
     CA__NAMES_GIVEN, CA__KEY_EC_P256, false},
    {"sha1-signature", "the lab CA signed it with SHA-1 (ecdsa-with-SHA1)",
     "(closest: sha1-intermediate.badssl.com, where the intermediate is the SHA-1-signed one)",
     CA__SIGNER_LAB, -CA__DAY, 397 * CA__DAY, CA__NAMES_GIVEN, CA__KEY_EC_P256, true},
    {"rsa-1024", "a 1024-bit RSA key",
     "(none: badssl.com no longer serves a 1024-bit key; rsa2048.badssl.com is the smallest)",
     CA__SIGNER_LAB, -CA__DAY, 397 * CA__DAY, CA__NAMES_GIVEN, CA__KEY_RSA_1024, false},
    {"wildcard", "only *.<parent of the first name>: one label below it matches, nothing else",
     "*.badssl.com (its subdomains share one wildcard certificate)", CA__SIGNER_LAB, -CA__DAY,
     397 * CA__DAY, CA__NAMES_WILDCARD, CA__KEY_EC_P256, false},
    {"san-missing-host", "the first name in the CN only; the SAN lists other names",
     "(none: closest is wrong.host.badssl.com, whose SAN lacks the name too)", CA__SIGNER_LAB,
     -CA__DAY, 397 * CA__DAY, CA__NAMES_CN_ONLY, CA__KEY_EC_P256, false},
    {"ip-only", "only the host's lab IP address, as an IP SAN; no DNS name",
     "(none: badssl.com serves no certificate for an IP address)", CA__SIGNER_LAB, -CA__DAY,
     397 * CA__DAY, CA__NAMES_IP, CA__KEY_EC_P256, false},
};

#define N_PROFILES (sizeof profiles / sizeof profiles[0])

/* A cached chain that is meant to be valid is re-minted once it would expire within this. */
#define VALID_MARGIN (30 * CA__DAY)
/* A cached not-yet-valid chain is re-minted once it would start within this. */
#define FUTURE_MARGIN CA__DAY
/* Largest chain file we read back. */
#define MAX_CHAIN_FILE (64 * 1024)

const struct ca_profile *ca_profile_named(const char *name) {
  for (size_t i = 0; name != NULL && i < N_PROFILES; i++) {
    if (strcmp(profiles[i].name, name) == 0) {
      return &profiles[i];
    }
  }
  return NULL;
}

const char *ca_profile_name(const struct ca_profile *p) {
  return p->name;
}

const char *ca_profile_summary(const struct ca_profile *p) {
  return p->summary;
}

const char *ca_profile_badssl(const struct ca_profile *p) {
  return p->badssl;
}

const struct ca_profile *ca_profile_at(size_t i) {
  return i < N_PROFILES ? &profiles[i] : NULL;
}

bool ca_profile_fixes_key(const struct ca_profile *p) {
  return p->key != CA__KEY_EC_P256;
}

bool ca_profile_trusted_chain(const struct ca_profile *p) {
  return p->signer == CA__SIGNER_LAB;
}

bool ca_profile_wrong_name(const struct ca_profile *p) {
  return p->names == CA__NAMES_WRONG;
}

/* key_type_names spells enum ca_key_type, indexed by its values. */
static const char *const key_type_names[] = {
    [CA_KEY_ECDSA_P256] = "ecdsa-p256",
    [CA_KEY_RSA_2048] = "rsa-2048",
};

#define N_KEY_TYPES (sizeof key_type_names / sizeof key_type_names[0])

bool ca_key_type_named(const char *name, enum ca_key_type *out) {
  for (size_t i = 0; name != NULL && i < N_KEY_TYPES; i++) {
    if (key_type_names[i] != NULL && strcmp(key_type_names[i], name) == 0) {
      *out = (enum ca_key_type) i;
      return true;
    }
  }
  return false;
}

const char *ca_key_type_name(enum ca_key_type k) {
  return (size_t) k < N_KEY_TYPES ? key_type_names[k] : NULL;
}

void ca_chain_free(struct ca_chain *chain) {
  if (chain == NULL) {
    return;
  }
  X509_free(chain->leaf);
  EVP_PKEY_free(chain->key);
  sk_X509_pop_free(chain->intermediates, X509_free);
  X509_free(chain->withheld);
  free(chain);
}

X509 *ca_chain_leaf(const struct ca_chain *chain) {
  return chain->leaf;
}

EVP_PKEY *ca_chain_key(const struct ca_chain *chain) {
  return chain->key;
}

STACK_OF(X509) * ca_chain_intermediates(const struct ca_chain *chain) {
  return chain->intermediates;
}

X509 *ca_chain_withheld(const struct ca_chain *chain) {
  return chain->withheld;
}

time_t ca_chain_not_before(const struct ca_chain *chain) {
  return chain->not_before;
}

time_t ca_chain_not_after(const struct ca_chain *chain) {
  return chain->not_after;
}

static struct ca_chain *chain_new(void) {
  struct ca_chain *chain = xcalloc(1, sizeof *chain);
  chain->intermediates = sk_X509_new_null();
  if (chain->intermediates == NULL) {
    free(chain);
    return NULL;
  }
  return chain;
}

/* chain_times reads the leaf's validity into the chain; false if it is unreadable. */
static bool chain_times(struct ca_chain *chain) {
  return ca__time_of(X509_get0_notBefore(chain->leaf), &chain->not_before) &&
         ca__time_of(X509_get0_notAfter(chain->leaf), &chain->not_after);
}

/* check_names refuses names that are not DNS names or that the lab CA may not sign for. */
static enum ca_status check_names(struct ca *ca, const char *const *names, size_t n_names) {
  if (names == NULL || n_names == 0 || n_names > CA__MAX_NAMES) {
    return ca__fail(ca, CA_ENOTPERMITTED, "a certificate carries 1 to %d DNS names, not %zu",
                    CA__MAX_NAMES, names == NULL ? 0 : n_names);
  }
  for (size_t i = 0; i < n_names; i++) {
    if (names[i] == NULL || !ca__name_ok(names[i], true)) {
      return ca__fail(ca, CA_ENOTPERMITTED,
                      "\"%.260s\" is not a DNS name a certificate can carry (letters, digits, "
                      "hyphens and dots, optionally starting with \"*.\")",
                      names[i] != NULL ? names[i] : "(null)");
    }
    if (!ca_permits(ca, names[i])) {
      const char *domain = names[i][0] == '*' ? names[i] + 2 : names[i];
      return ca__fail(ca, CA_ENOTPERMITTED,
                      "%s is outside the lab CA's name constraints; recreate it with `autodisco "
                      "ca init --permit %s` and import it again",
                      names[i], domain);
    }
  }
  return CA_OK;
}

/* The validity a request may ask for: 1950-01-01T00:00:00Z, where UTCTime starts, to
 * 9999-12-31T23:59:59Z, where GeneralizedTime ends (RFC 5280 4.1.2.5). */
#define MIN_TIME INT64_C(-631152000)
#define MAX_TIME INT64_C(253402300799)

/* What ca_mint_request works out from a request before it looks at the cache. */
struct plan {
  const struct ca_profile *p;
  char **dns; /* SAN DNS names, lowercased */
  size_t n_dns;
  char *cn; /* the subject CN, or NULL */
  uint8_t ip[16];
  size_t ip_len; /* 0: no IP SAN */
  char ip_text[INET6_ADDRSTRLEN];
  enum ca__key key;
  bool has_not_before;
  time_t not_before;
  bool has_not_after;
  time_t not_after;
  X509 *issuer; /* borrowed from the CA; NULL: self-signed */
  EVP_PKEY *issuer_key;
};

static void plan_cleanup(struct plan *plan) {
  for (size_t i = 0; i < plan->n_dns; i++) {
    free(plan->dns[i]);
  }
  free(plan->dns);
  free(plan->cn);
}

static void plan_add_dns(struct plan *plan, const char *name) {
  plan->dns = xrealloc_array(plan->dns, plan->n_dns + 1, sizeof *plan->dns);
  plan->dns[plan->n_dns++] = str_lower(str_dup(name));
}

/* parent_of returns what follows the first label of name, or NULL when it has one label. */
static const char *parent_of(const char *name) {
  const char *dot = strchr(name, '.');
  return dot != NULL ? dot + 1 : NULL;
}

/* covers says whether the SAN entry `pattern` matches the host `name`: the same name, or a
 * "*." wildcard for exactly one label below (RFC 6125 6.4.3). */
static bool covers(const char *pattern, const char *name) {
  if (str_eq_nocase(pattern, name)) {
    return true;
  }
  const char *parent = parent_of(name);
  return pattern[0] == '*' && pattern[1] == '.' && parent != NULL &&
         str_eq_nocase(pattern + 2, parent);
}

/* derived_ok checks a name a profile made up (not the scenario's) the way check_names does. */
static enum ca_status derived_ok(struct ca *ca, const char *profile, const char *name,
                                 const char *from) {
  if (strlen(name) > CA__MAX_NAME_LEN || !ca__name_ok(name, true)) {
    return ca__fail(ca, CA_ENOTPERMITTED, "%s cannot make a DNS name from %.260s", profile, from);
  }
  if (!ca_permits(ca, name)) {
    return ca__fail(ca, CA_ENOTPERMITTED,
                    "%s would certify %.260s (made from %.260s), which is outside the lab CA's "
                    "name constraints; give the host a name below a permitted domain",
                    profile, name, from);
  }
  return CA_OK;
}

/* plan_wildcard: "*.<parent of the first name>", which needs a parent of two labels at least
 * (clients refuse "*.com"). */
static enum ca_status plan_wildcard(struct ca *ca, struct plan *plan, const char *first) {
  const char *parent = parent_of(first);
  if (parent == NULL || strchr(parent, '.') == NULL) {
    return ca__fail(ca, CA_ENOTPERMITTED,
                    "wildcard needs a first name of three labels or more, such as "
                    "autodiscover.contoso.com (certified as *.contoso.com), not %.260s",
                    first);
  }
  char wild[CA__MAX_NAME_LEN + 3];
  if (!buf_fmt(wild, sizeof wild, "*.%s", parent)) {
    return ca__fail(ca, CA_ENOTPERMITTED, "wildcard: %.260s is too long", first);
  }
  enum ca_status st = derived_ok(ca, "wildcard", wild, first);
  if (st != CA_OK) {
    return st;
  }
  plan_add_dns(plan, wild);
  plan->cn = str_lower(str_dup(wild));
  return CA_OK;
}

/* plan_cn_only: the first name as the CN; the SAN holds the other names that do not match it,
 * or, when none is left, "other.<parent>" ("other.<name>" when the parent is a bare TLD). */
static enum ca_status plan_cn_only(struct ca *ca, struct plan *plan, const char *const *names,
                                   size_t n_names) {
  if (strlen(names[0]) > 64 || names[0][0] == '*') {
    return ca__fail(ca, CA_ENOTPERMITTED,
                    "san-missing-host puts the first name in the CN, which holds one host name "
                    "(no wildcard) of at most 64 characters, not %.260s",
                    names[0]);
  }
  plan->cn = str_lower(str_dup(names[0]));
  for (size_t i = 1; i < n_names; i++) {
    if (!covers(names[i], names[0])) {
      plan_add_dns(plan, names[i]);
    }
  }
  if (plan->n_dns > 0) {
    return CA_OK;
  }
  const char *parent = parent_of(names[0]);
  char other[CA__MAX_NAME_LEN + 16];
  bool fits = parent != NULL && strchr(parent, '.') != NULL
                  ? buf_fmt(other, sizeof other, "other.%s", parent)
                  : buf_fmt(other, sizeof other, "other.%s", names[0]);
  enum ca_status st =
      fits ? derived_ok(ca, "san-missing-host", other, names[0])
           : ca__fail(ca, CA_ENOTPERMITTED, "san-missing-host: %.260s is too long", names[0]);
  if (st == CA_OK) {
    plan_add_dns(plan, other);
  }
  return st;
}

/* ip_permitted says whether one of the CA's permitted IP subtrees holds addr. */
static bool ip_permitted(const struct ca *ca, const uint8_t *addr, size_t len) {
  for (size_t i = 0; i < ca->n_ip_permitted; i++) {
    const struct ca__ip_range *r = &ca->ip_permitted[i];
    bool in = r->len == len;
    for (size_t j = 0; in && j < len; j++) {
      in = (addr[j] & r->mask[j]) == (r->addr[j] & r->mask[j]);
    }
    if (in) {
      return true;
    }
  }
  return false;
}

/* plan_ip: the request's address, which the CA's name constraints must permit. */
static enum ca_status plan_ip(struct ca *ca, struct plan *plan, const char *ip) {
  if (ip == NULL || ip[0] == '\0') {
    return ca__fail(ca, CA_ENOTPERMITTED, "ip-only needs the host's IP address");
  }
  if (inet_pton(AF_INET, ip, plan->ip) == 1) {
    plan->ip_len = 4;
  } else if (inet_pton(AF_INET6, ip, plan->ip) == 1) {
    plan->ip_len = 16;
  } else {
    return ca__fail(ca, CA_ENOTPERMITTED, "ip-only: \"%.60s\" is not an IP address", ip);
  }
  if (ca->n_ip_permitted == 0) {
    return ca__fail(ca, CA_ENOTPERMITTED,
                    "this lab CA was made before ip-only existed and may not certify any IP "
                    "address; recreate it with `autodisco ca init` and import it again");
  }
  if (!ip_permitted(ca, plan->ip, plan->ip_len)) {
    return ca__fail(ca, CA_ENOTPERMITTED,
                    "ip-only: the lab CA certifies loopback addresses only (127.0.0.0/8, ::1), "
                    "not %.60s",
                    ip);
  }
  /* The canonical spelling keys the cache ("127.0.0.01" is not another address). */
  inet_ntop(plan->ip_len == 4 ? AF_INET : AF_INET6, plan->ip, plan->ip_text, sizeof plan->ip_text);
  return CA_OK;
}

static enum ca_status plan_names(struct ca *ca, struct plan *plan, const struct ca_request *req) {
  switch (plan->p->names) {
    case CA__NAMES_GIVEN:
      for (size_t i = 0; i < req->n_names; i++) {
        plan_add_dns(plan, req->names[i]);
      }
      /* RFC 5280's ub-common-name is 64: a longer first name stays in the SAN only. */
      plan->cn = strlen(plan->dns[0]) <= 64 ? str_dup(plan->dns[0]) : NULL;
      return CA_OK;
    case CA__NAMES_WRONG:
      plan_add_dns(plan, CA__WRONG_NAME);
      plan->cn = str_dup(CA__WRONG_NAME);
      return CA_OK;
    case CA__NAMES_WILDCARD: return plan_wildcard(ca, plan, req->names[0]);
    case CA__NAMES_CN_ONLY: return plan_cn_only(ca, plan, req->names, req->n_names);
    case CA__NAMES_IP: return plan_ip(ca, plan, req->ip);
  }
  return ca__fail(ca, CA_EPROFILE, "profile %s: unknown naming", plan->p->name);
}

static enum ca_status plan_key_and_times(struct ca *ca, struct plan *plan,
                                         const struct ca_request *req, time_t now) {
  const struct ca_profile *p = plan->p;
  switch (req->key_type) {
    case CA_KEY_DEFAULT: plan->key = p->key; break;
    case CA_KEY_ECDSA_P256:
    case CA_KEY_RSA_2048:
      if (ca_profile_fixes_key(p)) {
        return ca__fail(ca, CA_EPROFILE, "profile %s fixes the key; leave the key type out",
                        p->name);
      }
      plan->key = req->key_type == CA_KEY_RSA_2048 ? CA__KEY_RSA_2048 : CA__KEY_EC_P256;
      break;
    default: return ca__fail(ca, CA_EPROFILE, "unknown key type %d", (int) req->key_type);
  }
  if ((req->has_not_before && (req->not_before < MIN_TIME || req->not_before > MAX_TIME)) ||
      (req->has_not_after && (req->not_after < MIN_TIME || req->not_after > MAX_TIME))) {
    return ca__fail(ca, CA_EPROFILE, "a certificate's validity lies within the years 1950 to 9999");
  }
  plan->has_not_before = req->has_not_before;
  plan->not_before = req->has_not_before ? (time_t) req->not_before : now + p->not_before_offset;
  plan->has_not_after = req->has_not_after;
  plan->not_after = req->has_not_after ? (time_t) req->not_after : now + p->not_after_offset;
  return CA_OK;
}

static enum ca_status plan_issuer(struct ca *ca, struct plan *plan) {
  enum ca_status st = CA_OK;
  switch (plan->p->signer) {
    case CA__SIGNER_LAB:
      plan->issuer = ca->cert;
      plan->issuer_key = ca->key;
      break;
    case CA__SIGNER_SELF: break;
    case CA__SIGNER_UNTRUSTED:
      st = ca__load_untrusted(ca);
      plan->issuer = ca->untrusted_cert;
      plan->issuer_key = ca->untrusted_key;
      break;
    case CA__SIGNER_INTERMEDIATE:
      st = ca__load_intermediate(ca);
      plan->issuer = ca->intermediate_cert;
      plan->issuer_key = ca->intermediate_key;
      break;
  }
  return st;
}

static void sha_str(SHA256_CTX *sha, const char *s) {
  SHA256_Update(sha, s, strlen(s) + 1); /* with the NUL, so "ab","c" differs from "a","bc" */
}

/* cache_path names the chain file: SHA-256 over the CA's fingerprint, the profile and the
 * names, then whatever else shapes the certificate (only when it departs from the profile's
 * default, so a plain request keeps the file it had before there were overrides), in hex. */
static char *cache_path(struct ca *ca, const struct plan *plan) {
  SHA256_CTX sha;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256_Init(&sha);
  SHA256_Update(&sha, ca->fingerprint, sizeof ca->fingerprint);
  sha_str(&sha, plan->p->name);
  for (size_t i = 0; i < plan->n_dns; i++) {
    SHA256_Update(&sha, plan->dns[i], strlen(plan->dns[i]));
    SHA256_Update(&sha, "\n", 1);
  }
  /* Names hold no NUL: what follows cannot be mistaken for a name. */
  char extra[96];
  if (plan->cn != NULL && (plan->n_dns == 0 || strcmp(plan->cn, plan->dns[0]) != 0)) {
    sha_str(&sha, "cn="); /* san-missing-host: the CN is not among the SAN names */
    sha_str(&sha, plan->cn);
  }
  if (plan->key != plan->p->key) {
    buf_fmt(extra, sizeof extra, "key=%d", (int) plan->key);
    sha_str(&sha, extra);
  }
  if (plan->ip_len != 0) {
    buf_fmt(extra, sizeof extra, "ip=%s", plan->ip_text);
    sha_str(&sha, extra);
  }
  if (plan->has_not_before) {
    buf_fmt(extra, sizeof extra, "not-before=%lld", (long long) plan->not_before);
    sha_str(&sha, extra);
  }
  if (plan->has_not_after) {
    buf_fmt(extra, sizeof extra, "not-after=%lld", (long long) plan->not_after);
    sha_str(&sha, extra);
  }
  SHA256_Final(digest, &sha);
  char file[2 * SHA256_DIGEST_LENGTH + sizeof ".pem"];
  hex_lower(file, digest, sizeof digest);
  memcpy(file + 2 * sizeof digest, ".pem", sizeof ".pem");
  return ca__join(ca->chains_dir, file);
}

/* still_fits says whether a cached chain still shows what its request promises: a validity
 * override exactly; else the profile's relation to now. */
static bool still_fits(const struct plan *plan, const struct ca_chain *chain, time_t now) {
  const struct ca_profile *p = plan->p;
  bool start_ok = plan->has_not_before       ? chain->not_before == plan->not_before
                  : p->not_before_offset > 0 ? chain->not_before > now + FUTURE_MARGIN
                                             : chain->not_before <= now;
  bool end_ok = plan->has_not_after       ? chain->not_after == plan->not_after
                : p->not_after_offset < 0 ? chain->not_after < now /* expired stays expired */
                                          : chain->not_after > now + VALID_MARGIN;
  return start_ok && end_ok;
}

/* key_fits says whether key is of the planned kind. */
static bool key_fits(const struct plan *plan, EVP_PKEY *key) {
  switch (plan->key) {
    case CA__KEY_EC_P256: return EVP_PKEY_id(key) == EVP_PKEY_EC && EVP_PKEY_bits(key) == 256;
    case CA__KEY_RSA_1024: return EVP_PKEY_id(key) == EVP_PKEY_RSA && EVP_PKEY_bits(key) == 1024;
    case CA__KEY_RSA_2048: return EVP_PKEY_id(key) == EVP_PKEY_RSA && EVP_PKEY_bits(key) == 2048;
  }
  return false;
}

/* parse_chain reads a chain file: certificates (leaf first, then intermediates) and one key. */
static struct ca_chain *parse_chain(struct slice bytes) {
  struct ca_chain *chain = chain_new();
  BIO *bio = BIO_new_mem_buf(bytes.ptr, (int) bytes.len);
  bool ok = chain != NULL && bio != NULL;
  char *name = NULL;
  char *header = NULL;
  uint8_t *data = NULL;
  long len = 0;
  while (ok && PEM_read_bio(bio, &name, &header, &data, &len)) {
    const uint8_t *p = data;
    if (strcmp(name, "CERTIFICATE") == 0) {
      X509 *x = d2i_X509(NULL, &p, len);
      if (x == NULL) {
        ok = false;
      } else if (chain->leaf == NULL) {
        chain->leaf = x;
      } else if (!sk_X509_push(chain->intermediates, x)) {
        X509_free(x);
        ok = false;
      }
    } else if (strcmp(name, "PRIVATE KEY") == 0 && chain->key == NULL) {
      chain->key = d2i_AutoPrivateKey(NULL, &p, len);
      ok = chain->key != NULL;
    } else {
      ok = false;
    }
    if (data != NULL) {
      OPENSSL_cleanse(data, (size_t) len);
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    name = NULL;
    header = NULL;
    data = NULL;
  }
  ERR_clear_error(); /* the loop ends on "no start line" */
  BIO_free(bio);
  ok = ok && chain->leaf != NULL && chain->key != NULL &&
       X509_check_private_key(chain->leaf, chain->key) && chain_times(chain);
  ERR_clear_error();
  if (!ok) {
    ca_chain_free(chain);
    return NULL;
  }
  return chain;
}

/* load_cached returns the cached chain when it is usable for the plan now, else NULL: an
 * unreadable, foreign or stale file is simply minted again. */
static struct ca_chain *load_cached(struct ca *ca, const struct plan *plan, const char *path,
                                    time_t now) {
  struct buf bytes;
  buf_init(&bytes, MAX_CHAIN_FILE);
  char saved[sizeof ca->detail];
  memcpy(saved, ca->detail, sizeof saved); /* a cache miss is not a failure worth a detail */
  struct ca_chain *chain = NULL;
  if (ca__read_file(ca, path, &bytes) == CA_OK) {
    chain = parse_chain(buf_slice(&bytes));
  }
  memcpy(ca->detail, saved, sizeof saved);
  if (bytes.ptr != NULL) {
    OPENSSL_cleanse(bytes.ptr, bytes.len);
  }
  buf_cleanup(&bytes);
  if (chain == NULL) {
    return NULL;
  }
  X509 *issuer = plan->issuer != NULL ? plan->issuer : chain->leaf;
  if (!ca__signed_by(chain->leaf, issuer) || !still_fits(plan, chain, now) ||
      !key_fits(plan, chain->key)) {
    ca_chain_free(chain);
    return NULL;
  }
  return chain;
}

static enum ca_status save_chain(struct ca *ca, const struct ca_chain *chain, const char *path) {
  struct buf pem;
  buf_init(&pem, MAX_CHAIN_FILE);
  enum ca_status st = CA_OK;
  bool ok = ca__pem_cert(&pem, chain->leaf);
  for (size_t i = 0; ok && i < sk_X509_num(chain->intermediates); i++) {
    ok = ca__pem_cert(&pem, sk_X509_value(chain->intermediates, i));
  }
  ok = ok && ca__pem_key(&pem, chain->key);
  if (!ok) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, "cannot encode the chain");
  } else if (!ca__mkdirs(ca->chains_dir)) {
    st = ca__fail(ca, CA_EIO, "%s: cannot create directory: %s", ca->chains_dir, strerror(errno));
  } else {
    st = ca__write_file(ca, path, buf_slice(&pem), 0600); /* holds the leaf's private key */
  }
  if (pem.ptr != NULL) {
    OPENSSL_cleanse(pem.ptr, pem.len);
  }
  buf_cleanup(&pem);
  return st;
}

static enum ca_status mint_new(struct ca *ca, struct ca_chain **out, const struct plan *plan) {
  struct ca_chain *chain = chain_new();
  if (chain == NULL) {
    return ca__fail(ca, CA_ENOMEM, "cannot allocate a chain");
  }
  /* RSA keys take a moment (2048 bits: about a tenth of a second); the cache keeps them. */
  switch (plan->key) {
    case CA__KEY_EC_P256: chain->key = ca__new_key(); break;
    case CA__KEY_RSA_1024: chain->key = ca__new_rsa_key(1024); break;
    case CA__KEY_RSA_2048: chain->key = ca__new_rsa_key(2048); break;
  }
  if (chain->key == NULL) {
    ca_chain_free(chain);
    return ca__fail_ssl(ca, CA_ECRYPTO, "cannot generate the leaf's key");
  }
  struct ca__leaf_spec spec = {
      .key = chain->key,
      .cn = plan->cn,
      .dns = (const char *const *) plan->dns,
      .n_dns = plan->n_dns,
      .ip = plan->ip_len != 0 ? plan->ip : NULL,
      .ip_len = plan->ip_len,
      .not_before = plan->not_before,
      .not_after = plan->not_after,
      .issuer = plan->issuer,
      .issuer_key = plan->issuer_key,
      .md = plan->p->sha1 ? EVP_sha1() : EVP_sha256(),
  };
  chain->leaf = ca__make_leaf_spec(&spec);
  if (chain->leaf == NULL || !chain_times(chain)) {
    ca_chain_free(chain);
    return ca__fail_ssl(ca, CA_ECRYPTO, "cannot build the certificate");
  }
  *out = chain;
  return CA_OK;
}

enum ca_status ca_mint_request(struct ca *ca, struct ca_chain **out, const struct ca_request *req) {
  *out = NULL;
  if (req->profile == NULL) {
    return ca__fail(ca, CA_EPROFILE, "no certificate profile given");
  }
  enum ca_status st = check_names(ca, req->names, req->n_names);
  if (st != CA_OK) {
    return st;
  }
  time_t now = time(NULL);
  struct plan plan = {.p = req->profile};
  struct ca_chain *chain = NULL;
  char *path = NULL;
  st = plan_names(ca, &plan, req);
  if (st == CA_OK) {
    st = plan_key_and_times(ca, &plan, req, now);
  }
  if (st == CA_OK) {
    st = plan_issuer(ca, &plan);
  }
  if (st != CA_OK) {
    goto out;
  }
  path = cache_path(ca, &plan);
  if (path == NULL) {
    st = ca__fail(ca, CA_EIO, "%s: path too long", ca->chains_dir);
    goto out;
  }
  chain = load_cached(ca, &plan, path, now);
  if (chain == NULL) {
    st = mint_new(ca, &chain, &plan);
    if (st == CA_OK) {
      st = save_chain(ca, chain, path);
    }
  }
  /* incomplete-chain: the issuing intermediate stays out of the intermediates sent. */
  if (st == CA_OK && req->profile->signer == CA__SIGNER_INTERMEDIATE) {
    X509_up_ref(plan.issuer);
    chain->withheld = plan.issuer;
  }
out:
  if (st == CA_OK) {
    *out = chain;
  } else {
    ca_chain_free(chain);
  }
  plan_cleanup(&plan);
  free(path);
  return st;
}

enum ca_status ca_mint(struct ca *ca, struct ca_chain **out, const struct ca_profile *profile,
                       const char *const *names, size_t n_names) {
  struct ca_request req = {.profile = profile, .names = names, .n_names = n_names};
  return ca_mint_request(ca, out, &req);
}
