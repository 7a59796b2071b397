/* certs/internal.h: what the certs/ files share — the structs behind ca.h's opaque types and the
 * helpers that build keys, certificates and files. Not for other modules. */
#ifndef AD_CERTS_INTERNAL_H
#define AD_CERTS_INTERNAL_H

#include "certs/ca.h"
#include "common/buf.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CA__DAY (24L * 60 * 60)

/* The files inside a CA directory. */
#define CA__CERT_FILE "ca.pem"
#define CA__KEY_FILE "ca.key"
#define CA__PERMIT_FILE "permitted.txt"
#define CA__UNTRUSTED_CERT_FILE "untrusted-root.pem"
#define CA__UNTRUSTED_KEY_FILE "untrusted-root.key"
#define CA__INTERMEDIATE_CERT_FILE "intermediate.pem"
#define CA__INTERMEDIATE_KEY_FILE "intermediate.key"
#define CA__CHAINS_DIR "chains"
#define CA__LOCK_FILE ".lock"

/* Longest DNS name we accept (RFC 1035 2.3.4 without the trailing dot). */
#define CA__MAX_NAME_LEN 253
/* Most names one certificate may carry. */
#define CA__MAX_NAMES 100
/* Most IP subtrees we read from a CA's permitted name constraints. */
#define CA__MAX_IP_RANGES 8

/* An IP subtree of a name constraint: address and mask, 4 or 16 bytes each (RFC 5280
 * 4.2.1.10). */
struct ca__ip_range {
  uint8_t addr[16];
  uint8_t mask[16];
  size_t len;
};

struct ca {
  char *dir;
  char *cert_path;
  char *key_path;
  char *permit_path;
  char *untrusted_cert_path;
  char *untrusted_key_path;
  char *chains_dir;
  X509 *cert;
  EVP_PKEY *key;
  uint8_t fingerprint[32]; /* SHA-256 over the CA certificate's DER */
  char **permitted;        /* lowercase DNS names, read from the certificate's nameConstraints */
  size_t n_permitted;
  struct ca__ip_range ip_permitted[CA__MAX_IP_RANGES]; /* from nameConstraints too; none in a */
  size_t n_ip_permitted;                               /* CA made before ip-only existed */
  X509 *untrusted_cert; /* the "untrusted root", loaded or created on first use */
  EVP_PKEY *untrusted_key;
  char *intermediate_cert_path;
  char *intermediate_key_path;
  X509 *intermediate_cert; /* the lab intermediate CA, loaded or created on first use */
  EVP_PKEY *intermediate_key;
  char detail[512];
};

struct ca_chain {
  X509 *leaf;
  EVP_PKEY *key;
  STACK_OF(X509) * intermediates; /* never NULL; empty for every profile today */
  X509 *withheld;                 /* incomplete-chain: the issuing intermediate; else NULL */
  time_t not_before;
  time_t not_after;
};

/* Who signs a profile's leaf. */
enum ca__signer {
  CA__SIGNER_LAB,
  CA__SIGNER_SELF,
  CA__SIGNER_UNTRUSTED,
  CA__SIGNER_INTERMEDIATE, /* the lab intermediate, which the chain then leaves out */
};

/* What the leaf's subject and SAN hold. */
enum ca__names {
  CA__NAMES_GIVEN,    /* the names; the first also the CN */
  CA__NAMES_WRONG,    /* CA__WRONG_NAME whatever names the caller passes */
  CA__NAMES_WILDCARD, /* "*.<parent of the first name>" */
  CA__NAMES_CN_ONLY,  /* the first name in the CN only; the SAN holds the others */
  CA__NAMES_IP,       /* no subject; the SAN holds the request's IP address only */
};

/* The leaf's key as minted. */
enum ca__key { CA__KEY_EC_P256, CA__KEY_RSA_1024, CA__KEY_RSA_2048 };

struct ca_profile {
  const char *name;
  const char *summary;
  const char *badssl;
  enum ca__signer signer;
  long not_before_offset; /* seconds from now */
  long not_after_offset;
  enum ca__names names;
  enum ca__key key; /* the default key */
  bool sha1;        /* the issuer signs with SHA-1 instead of SHA-256 */
};

/* The single name the wrong-name profile's certificate carries. */
#define CA__WRONG_NAME CA_WRONG_NAME

/* ca__fail fills ca's detail (ca may be NULL) and returns st. */
enum ca_status ca__fail(struct ca *ca, enum ca_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ca__fail_ssl is ca__fail with BoringSSL's oldest queued error appended; empties the queue. */
enum ca_status ca__fail_ssl(struct ca *ca, enum ca_status st, const char *what);

/* ca__join returns "a/b" (caller frees). */
char *ca__join(const char *a, const char *b);
/* ca__mkdirs creates dir and its missing parents with mode 0700; false with errno set. */
bool ca__mkdirs(const char *dir);
/* ca__write_file writes bytes to path atomically (a private temporary file renamed over path);
 * the file ends up with `mode` — private files are created 0600 and never loosened. */
enum ca_status ca__write_file(struct ca *ca, const char *path, struct slice bytes, int mode);
/* ca__read_file reads a whole (small) file into *out; CA_EIO when absent or unreadable. */
enum ca_status ca__read_file(struct ca *ca, const char *path, struct buf *out);

/* ca__new_key generates an ECDSA P-256 key. */
EVP_PKEY *ca__new_key(void);
/* ca__new_rsa_key generates an RSA key of `bits` bits (exponent 65537). */
EVP_PKEY *ca__new_rsa_key(int bits);
/* ca__time_of converts an ASN.1 time to seconds since the epoch; false if it cannot. */
bool ca__time_of(const ASN1_TIME *t, time_t *out);
/* ca__name_ok says whether s is a DNS name we can put in a certificate (LDH labels, an
 * optional leading "*." when `wildcard`). */
bool ca__name_ok(const char *s, bool wildcard);
/* ca__permits_in says whether name is one of `permitted` or below one of them. */
bool ca__permits_in(char *const *permitted, size_t n_permitted, const char *name);

/* ca__make_ca builds a name-constrained CA certificate for key: self-signed when issuer is
 * NULL, else an intermediate (path length 0) signed by issuer/issuer_key with its validity. The
 * constraints permit the DNS subtrees and the loopback addresses 127.0.0.0/8 and ::1. */
X509 *ca__make_ca(EVP_PKEY *key, const char *cn, char *const *permitted, size_t n_permitted,
                  X509 *issuer, EVP_PKEY *issuer_key);

/* What a leaf certificate holds. */
struct ca__leaf_spec {
  EVP_PKEY *key;
  const char *cn;         /* the subject CN, or NULL: an empty subject and a critical SAN */
  const char *const *dns; /* SAN DNS names */
  size_t n_dns;
  const uint8_t *ip; /* a SAN IP address of ip_len (4 or 16) bytes, or NULL */
  size_t ip_len;
  time_t not_before;
  time_t not_after;
  X509 *issuer; /* NULL: self-signed */
  EVP_PKEY *issuer_key;
  const EVP_MD *md; /* the signature's digest */
};

/* ca__make_leaf_spec builds a server certificate as `spec` says; NULL on failure. */
X509 *ca__make_leaf_spec(const struct ca__leaf_spec *spec);
/* ca__make_leaf builds a server certificate for names (the first also the CN when it fits 64
 * characters), valid [not_before, not_after], signed with SHA-256 by issuer/issuer_key — or by
 * itself when issuer is NULL. */
X509 *ca__make_leaf(EVP_PKEY *key, const char *const *names, size_t n_names, time_t not_before,
                    time_t not_after, X509 *issuer, EVP_PKEY *issuer_key);
/* ca__signed_by says whether issuer issued and signed cert; leaves no error queued. */
bool ca__signed_by(X509 *cert, X509 *issuer);

/* ca__pem_cert and ca__pem_key append PEM text to out; false on failure (queue left as is). */
bool ca__pem_cert(struct buf *out, X509 *cert);
bool ca__pem_key(struct buf *out, EVP_PKEY *key);

/* ca__user_at_host describes who made a CA ("user@host"). */
void ca__user_at_host(char *out, size_t out_size);

/* ca__load_untrusted loads (or creates on first use) the untrusted root kept next to the CA. */
enum ca_status ca__load_untrusted(struct ca *ca);
/* ca__load_intermediate loads (or creates on first use, or again when the lab CA did not sign
 * it) the lab intermediate CA kept next to the CA. */
enum ca_status ca__load_intermediate(struct ca *ca);

#endif
