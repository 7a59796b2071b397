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
#define CA__CHAINS_DIR "chains"
#define CA__LOCK_FILE ".lock"

/* Longest DNS name we accept (RFC 1035 2.3.4 without the trailing dot). */
#define CA__MAX_NAME_LEN 253
/* Most names one certificate may carry. */
#define CA__MAX_NAMES 100

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
  X509 *untrusted_cert; /* the "untrusted root", loaded or created on first use */
  EVP_PKEY *untrusted_key;
  char detail[512];
};

struct ca_chain {
  X509 *leaf;
  EVP_PKEY *key;
  STACK_OF(X509) * intermediates; /* never NULL; empty for every profile today */
  time_t not_before;
  time_t not_after;
};

/* Who signs a profile's leaf. */
enum ca__signer { CA__SIGNER_LAB, CA__SIGNER_SELF, CA__SIGNER_UNTRUSTED };

struct ca_profile {
  const char *name;
  const char *badssl;
  enum ca__signer signer;
  long not_before_offset; /* seconds from now */
  long not_after_offset;
  bool fixed_name; /* mints for CA__WRONG_NAME whatever names the caller passes */
};

/* The single name the wrong-name profile's certificate carries. */
#define CA__WRONG_NAME "wrong.host.invalid"

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
/* ca__time_of converts an ASN.1 time to seconds since the epoch; false if it cannot. */
bool ca__time_of(const ASN1_TIME *t, time_t *out);
/* ca__name_ok says whether s is a DNS name we can put in a certificate (LDH labels, an
 * optional leading "*." when `wildcard`). */
bool ca__name_ok(const char *s, bool wildcard);
/* ca__permits_in says whether name is one of `permitted` or below one of them. */
bool ca__permits_in(char *const *permitted, size_t n_permitted, const char *name);

/* ca__make_ca builds a self-signed, name-constrained CA certificate for key. */
X509 *ca__make_ca(EVP_PKEY *key, const char *cn, char *const *permitted, size_t n_permitted);
/* ca__make_leaf builds a server certificate for names, valid [not_before, not_after], signed
 * by issuer/issuer_key — or by itself when issuer is NULL. */
X509 *ca__make_leaf(EVP_PKEY *key, const char *const *names, size_t n_names, time_t not_before,
                    time_t not_after, X509 *issuer, EVP_PKEY *issuer_key);

/* ca__pem_cert and ca__pem_key append PEM text to out; false on failure (queue left as is). */
bool ca__pem_cert(struct buf *out, X509 *cert);
bool ca__pem_key(struct buf *out, EVP_PKEY *key);

/* ca__user_at_host describes who made a CA ("user@host"). */
void ca__user_at_host(char *out, size_t out_size);

/* ca__load_untrusted loads (or creates on first use) the untrusted root kept next to the CA. */
enum ca_status ca__load_untrusted(struct ca *ca);

#endif
