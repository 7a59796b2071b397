/* certs/ca.h: the lab CA — a per-user, name-constrained ECDSA P-256 CA — and the certificate
 * profiles it mints chains for (valid, expired, wrong-name, ...). */
#ifndef AD_CERTS_CA_H
#define AD_CERTS_CA_H

#include <openssl/base.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct ca;
struct ca_chain;
struct ca_profile;

enum ca_status {
  CA_OK = 0,
  CA_ENOMEM,
  CA_EIO,           /* a key or certificate file could not be read or written */
  CA_EPROFILE,      /* the scenario names a profile we do not know */
  CA_ECRYPTO,       /* BoringSSL refused; ca_detail says why */
  CA_ENOTPERMITTED, /* a name lies outside the CA's name constraints; ca_detail names it */
  CA_ENOCA,         /* no CA exists in the directory and creation was not asked for */
};

/* ca_strerror returns a fixed description of `st`; never NULL. */
const char *ca_strerror(enum ca_status st);
/* ca_detail says what went wrong in the last failed call on `ca`; never NULL. */
const char *ca_detail(const struct ca *ca);

/* ca_default_dir writes the CA directory to use: $AUTODISCO_CA_DIR, else
 * $XDG_DATA_HOME/autodisco/ca, else ~/.local/share/autodisco/ca. False if it does not fit. */
bool ca_default_dir(char *out, size_t out_size);

/* ca_open loads the CA kept in `dir`; when there is none and `create` is true it creates one
 * (directory mode 0700, key mode 0600) permitting the default domains. *out is set even on
 * failure when a detail is available (free it with ca_free). */
enum ca_status ca_open(struct ca **out, const char *dir, bool create);
/* ca_create (re)creates the CA in `dir`, permitting the default domains plus `permit`, and sets
 * *out to it — even on failure, when a detail is available (free it with ca_free). */
enum ca_status ca_create(struct ca **out, const char *dir, const char *const *permit,
                         size_t n_permit);
/* ca_free releases the CA; NULL is fine. */
void ca_free(struct ca *ca);

/* ca_cert returns the CA certificate (borrowed). */
X509 *ca_cert(const struct ca *ca);
/* ca_cert_path returns the path of the CA certificate's PEM file (borrowed). */
const char *ca_cert_path(const struct ca *ca);
/* ca_dir returns the CA directory (borrowed). */
const char *ca_dir(const struct ca *ca);
/* ca_permits says whether the name constraints allow `dns_name` (exact or a subdomain). */
bool ca_permits(const struct ca *ca, const char *dns_name);
/* ca_permitted lists the permitted domains (borrowed). */
const char *const *ca_permitted(const struct ca *ca, size_t *out_n);
/* ca_export writes the CA certificate to `path` ("-": standard output) as PEM, or DER when
 * `der`; CA_EIO when the file cannot be written. */
enum ca_status ca_export(struct ca *ca, const char *path, bool der);
/* ca_describe prints the CA's subject, validity (UTC), permitted domains, SHA-256 fingerprint,
 * SHA-1 thumbprint (what Windows shows) and file paths, one "label: value" line each. */
void ca_describe(const struct ca *ca, FILE *out);

/* ca_profile_named returns the profile spelled `name` ("valid", "expired", "not-yet-valid",
 * "wrong-name", "self-signed", "untrusted-root", "incomplete-chain", "sha1-signature",
 * "rsa-1024", "wildcard", "san-missing-host", "ip-only" — the scenario files' spellings), or
 * NULL. These profiles are the only certificate vocabulary: the scenario model holds them. */
const struct ca_profile *ca_profile_named(const char *name);
/* ca_profile_name spells a profile as scenario files do. */
const char *ca_profile_name(const struct ca_profile *p);
/* ca_profile_summary says in one line what the profile's certificate is like. */
const char *ca_profile_summary(const struct ca_profile *p);
/* ca_profile_badssl names the badssl.com host that shows the same failure (or says there is
 * none, and what comes closest). */
const char *ca_profile_badssl(const struct ca_profile *p);
/* ca_profile_at returns the i-th profile, NULL past the last (for listings). */
const struct ca_profile *ca_profile_at(size_t i);

/* The leaf's key, as a scenario's certificate `key:` names it. */
enum ca_key_type {
  CA_KEY_DEFAULT = 0, /* the profile's own: ECDSA P-256, RSA 1024 for rsa-1024 */
  CA_KEY_ECDSA_P256 = 1,
  CA_KEY_RSA_2048 = 2,
};

/* ca_key_type_named sets *out to the key type spelled `name` ("ecdsa-p256", "rsa-2048"); false
 * when it is none (CA_KEY_DEFAULT has no spelling: it is what leaving the key out means). */
bool ca_key_type_named(const char *name, enum ca_key_type *out);
/* ca_key_type_name spells a key type as scenario files do; NULL for CA_KEY_DEFAULT and for a
 * value that is no key type, so that a listing can run from CA_KEY_DEFAULT + 1 to the NULL. */
const char *ca_key_type_name(enum ca_key_type k);
/* ca_profile_fixes_key says whether the profile's key is part of what it shows (rsa-1024): a
 * request for it must leave the key type CA_KEY_DEFAULT. */
bool ca_profile_fixes_key(const struct ca_profile *p);
/* The name the wrong-name profile certifies, whatever the host is called. */
#define CA_WRONG_NAME "wrong.host.invalid"
/* ca_profile_trusted_chain says whether the chain the lab sends for `p` leads to the lab CA
 * (false: self-signed, untrusted-root, incomplete-chain). */
bool ca_profile_trusted_chain(const struct ca_profile *p);
/* ca_profile_wrong_name says whether `p` certifies another name than the one asked
 * (wrong-name: CA_WRONG_NAME). */
bool ca_profile_wrong_name(const struct ca_profile *p);

/* What to mint: a profile and the names it is for, plus the scenario's overrides. */
struct ca_request {
  const struct ca_profile *profile;
  const char *const *names; /* the host's DNS names (1 to 100), see ca_mint_request */
  size_t n_names;
  const char *ip;            /* ip-only: the host's address ("127.77.0.2"); others ignore it */
  enum ca_key_type key_type; /* rsa-1024 accepts only CA_KEY_DEFAULT */
  bool has_not_before;       /* validity overrides, seconds since the epoch (years 1950 to */
  int64_t not_before;        /* 9999), else the profile's offsets from now */
  bool has_not_after;
  int64_t not_after;
};

/* ca_mint_request returns a chain (leaf, key, intermediates to send) for `req`. The leaf
 * carries the names as SAN DNS names (lowercased), the first also as the CN — except that
 * wrong-name always certifies "wrong.host.invalid", wildcard "*.<parent of the first name>",
 * san-missing-host the first name in the CN only and the others (or "other.<parent>") in the
 * SAN, and ip-only the address alone (docs/certificates.md). Chains are cached on disk under
 * the CA directory, keyed by the CA and everything in the request that shapes the
 * certificate. Fails with CA_EPROFILE when there is no profile, a key type it cannot take or
 * a validity outside the years 1950 to 9999; with CA_ENOTPERMITTED when there are no names or
 * more than 100, a name is not a DNS name or lies outside the lab CA's name constraints — for
 * every profile, even those the lab CA does not sign — or when the profile cannot derive its
 * names (wildcard of "contoso.com"), or ip-only's address is missing, not an address, not
 * loopback, or the CA predates ip-only. */
enum ca_status ca_mint_request(struct ca *ca, struct ca_chain **out, const struct ca_request *req);
/* ca_mint is ca_mint_request for `profile` and `names` with no overrides. */
enum ca_status ca_mint(struct ca *ca, struct ca_chain **out, const struct ca_profile *profile,
                       const char *const *names, size_t n_names);
void ca_chain_free(struct ca_chain *chain);
X509 *ca_chain_leaf(const struct ca_chain *chain);                     /* borrowed */
EVP_PKEY *ca_chain_key(const struct ca_chain *chain);                  /* borrowed */
STACK_OF(X509) * ca_chain_intermediates(const struct ca_chain *chain); /* borrowed; may be empty */
/* ca_chain_withheld returns the intermediate CA that issued the leaf but is not among the
 * intermediates (incomplete-chain), or NULL (borrowed). */
X509 *ca_chain_withheld(const struct ca_chain *chain);
time_t ca_chain_not_before(const struct ca_chain *chain);
time_t ca_chain_not_after(const struct ca_chain *chain);

/* ca_trust_system_path returns the machine's trust store, the PEM bundle its clients verify real
 * servers against: $SSL_CERT_FILE when set, else the first of the distributions' usual bundles
 * that exists (/etc/ssl/certs/ca-certificates.crt on Debian and Ubuntu, ...); NULL when there is
 * none. */
const char *ca_trust_system_path(void);

#endif
