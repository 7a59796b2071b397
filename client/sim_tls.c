/* client/sim_tls.c: the walk's TLS client — a BoringSSL context that trusts the modelled
 * machine's store only, one SSL per attempt over memory BIOs, and the Security Alert's three
 * checks (trusted, in date, name) read from verification and from the leaf itself. */
#include "client/sim.h"

#include "client/internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ssl_ex_index = -1;

static int verify_cb(int ok, X509_STORE_CTX *store) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  struct sim_walk *w = ssl != NULL ? SSL_get_ex_data(ssl, ssl_ex_index) : NULL;
  if (!ok && w != NULL) {
    w->att.cert_failures |= sim__cert_failure_of_verify(X509_STORE_CTX_get_error(store));
  }
  return 1; /* note every failure and finish the handshake, like the Security Alert */
}

/* queue_reason words the first error in BoringSSL's queue (a system error as strerror does)
 * and empties the queue. */
static void queue_reason(char *out, size_t out_size) {
  uint32_t first = 0;
  int sys = 0;
  uint32_t e;
  while ((e = ERR_get_error()) != 0) {
    if (first == 0) {
      first = e;
    }
    if (sys == 0 && ERR_GET_LIB(e) == ERR_LIB_SYS) {
      sys = ERR_GET_REASON(e);
    }
  }
  const char *reason = first != 0 ? ERR_reason_error_string(first) : NULL;
  if (sys != 0) {
    buf_fmt(out, out_size, "%s", strerror(sys));
  } else if (ERR_GET_LIB(first) == ERR_LIB_X509 &&
             ERR_GET_REASON(first) == X509_R_NO_CERTIFICATE_OR_CRL_FOUND) {
    buf_fmt(out, out_size, "no PEM certificate in it");
  } else {
    buf_fmt(out, out_size, "%s", reason != NULL ? reason : "BoringSSL gave no reason");
  }
}

enum sim_status sim__tls_ctx_new(SSL_CTX **out, const char *trust_pem, char *err, size_t err_size) {
  *out = NULL;
  if (ssl_ex_index < 0) {
    ssl_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL || ssl_ex_index < 0 || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    buf_fmt(err, err_size, "BoringSSL could not make the client's TLS context");
    return SIM_ENOMEM;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
  /* The modelled machine trusts trust_pem only; without one nothing is trusted. */
  if (trust_pem != NULL && !SSL_CTX_load_verify_locations(ctx, trust_pem, NULL)) {
    char reason[160];
    queue_reason(reason, sizeof reason);
    buf_fmt(err, err_size, "cannot read the trust store %s: %s", trust_pem, reason);
    SSL_CTX_free(ctx);
    return SIM_EIO;
  }
  *out = ctx;
  return SIM_OK;
}

const char *sim__tls_new(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  a->ssl = SSL_new(w->ssl_ctx);
  a->rbio = BIO_new(BIO_s_mem());
  a->wbio = BIO_new(BIO_s_mem());
  static const uint8_t alpn[] = "\x08http/1.1";
  if (a->ssl == NULL || a->rbio == NULL || a->wbio == NULL) {
    BIO_free(a->rbio);
    BIO_free(a->wbio);
    a->rbio = a->wbio = NULL;
    return "out of memory";
  }
  BIO_set_mem_eof_return(a->rbio, -1);
  SSL_set_bio(a->ssl, a->rbio, a->wbio);
  SSL_set_ex_data(a->ssl, ssl_ex_index, w);
  SSL_set_connect_state(a->ssl);
  /* SNI carries host names only (RFC 6066 §3); an address is checked against IP SANs. */
  X509_VERIFY_PARAM *param = SSL_get0_param(a->ssl);
  bool named = a->literal
                   ? X509_VERIFY_PARAM_set1_ip_asc(param, a->url.host)
                   : SSL_set_tlsext_host_name(a->ssl, a->url.host) &&
                         X509_VERIFY_PARAM_set1_host(param, a->url.host, strlen(a->url.host));
  if (!named || SSL_set_alpn_protos(a->ssl, alpn, sizeof alpn - 1) != 0) {
    return "could not set up TLS";
  }
  return NULL;
}

static char *name_cn(X509_NAME *name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) {
    return NULL;
  }
  unsigned char *utf8 = NULL;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (len < 0) {
    return NULL;
  }
  char *out = str_ndup((const char *) utf8, (size_t) len);
  OPENSSL_free(utf8);
  return out;
}

/* weak_signature says whether `cert` is signed with SHA-1 or MD5 (a self-signed root's own
 * signature does not count: nobody checks it). */
static bool weak_signature(X509 *cert) {
  if (X509_check_issued(cert, cert) == X509_V_OK) {
    return false;
  }
  switch (X509_get_signature_nid(cert)) {
    case NID_sha1WithRSAEncryption:
    case NID_sha1WithRSA:
    case NID_ecdsa_with_SHA1:
    case NID_dsaWithSHA1:
    case NID_md5WithRSAEncryption:
    case NID_md5WithRSA: return true;
    default: return false;
  }
}

/* weak_checks finds what a current TLS stack refuses in a chain that may verify: a SHA-1 or
 * MD5 signature on a certificate sent, an RSA key under 2048 bits on the leaf. */
static unsigned weak_checks(SSL *ssl, X509 *leaf) {
  unsigned f = 0;
  if (weak_signature(leaf)) {
    f |= SIM_CERT_WEAK_SIGNATURE;
  }
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
  for (size_t i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
    if (weak_signature(sk_X509_value(chain, i))) {
      f |= SIM_CERT_WEAK_SIGNATURE;
    }
  }
  EVP_PKEY *key = X509_get_pubkey(leaf);
  if (key != NULL && EVP_PKEY_id(key) == EVP_PKEY_RSA && EVP_PKEY_bits(key) < 2048) {
    f |= SIM_CERT_WEAK_KEY;
  }
  EVP_PKEY_free(key);
  return f;
}

/* check_leaf adds the checks verification may skip once the chain cannot be built, and the
 * weak signature and key BoringSSL accepts. */
static unsigned check_leaf(struct sim_walk *w) {
  struct sim_step *s = sim__cur(w);
  X509 *leaf = SSL_get_peer_certificate(w->att.ssl);
  if (leaf == NULL) {
    return SIM_CERT_UNTRUSTED;
  }
  unsigned f = 0;
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
    f |= SIM_CERT_EXPIRED;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
    f |= SIM_CERT_NOT_YET_VALID;
  }
  f |= weak_checks(w->att.ssl, leaf);
  const char *host = w->att.url.host;
  if (w->att.literal ? X509_check_ip_asc(leaf, host, 0) != 1
                     : X509_check_host(leaf, host, strlen(host), 0, NULL) != 1) {
    f |= SIM_CERT_NAME;
  }
  free(s->cert_subject);
  free(s->cert_issuer);
  s->cert_subject = name_cn(X509_get_subject_name(leaf));
  s->cert_issuer = name_cn(X509_get_issuer_name(leaf));
  X509_free(leaf);
  return f;
}

unsigned sim__tls_cert_failures(struct sim_walk *w) {
  unsigned failures = w->att.cert_failures | check_leaf(w);
  ERR_clear_error();
  return failures;
}

void sim__tls_reason(struct sim_walk *w, const char *what, char *out, size_t out_size) {
  uint32_t e = ERR_get_error();
  const char *short_reason = e != 0 ? ERR_reason_error_string(e) : NULL;
  if (short_reason != NULL) {
    buf_fmt(out, out_size, "%s", short_reason); /* e.g. TLSV1_ALERT_PROTOCOL_VERSION */
  } else if (e != 0) {
    ERR_error_string_n(e, out, out_size);
  } else if (w->att.eof) {
    buf_fmt(out, out_size, "connection closed by %s", w->att.url.host);
  } else {
    buf_fmt(out, out_size, "%s", what);
  }
  ERR_clear_error();
}
