/* client/sim_inspect_cert.c: the facts of a presented certificate chain, for an inspection —
 * names, validity, key, signature, fingerprint, caIssuers URL, each certificate as the server
 * sent it — and the chain's verification against the trust store with every failing check
 * noted, the way the Security Alert sees them (sim_tls.c makes the same checks for the models).
 * Everything here reads X.509 with BoringSSL; nothing is trusted because a certificate says so. */
#include "client/sim_inspect.h"

#include "client/internal.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* utf8_of copies an ASN.1 string as UTF-8 (caller frees); NULL when it cannot. */
static char *utf8_of(const ASN1_STRING *s) {
  unsigned char *utf8 = NULL;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) {
    ERR_clear_error();
    return NULL;
  }
  char *out = str_ndup((const char *) utf8, (size_t) len);
  OPENSSL_free(utf8);
  return out;
}

static char *name_cn(const X509_NAME *name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) {
    return NULL;
  }
  return utf8_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
}

/* name_line writes a name as one line, most specific first: "CN=contoso.com, O=Contoso". */
static char *name_line(const X509_NAME *name) {
  BIO *b = BIO_new(BIO_s_mem());
  if (b == NULL) {
    return str_dup("");
  }
  unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV | XN_FLAG_FN_SN |
                        ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_ESC_CTRL;
  X509_NAME_print_ex(b, name, 0, flags);
  const uint8_t *data = NULL;
  size_t len = 0;
  BIO_mem_contents(b, &data, &len);
  char *out = str_ndup((const char *) data, len);
  BIO_free(b);
  ERR_clear_error();
  return out;
}

static void push(char ***list, size_t *n, char *s) {
  *list = xrealloc_array(*list, *n + 1, sizeof **list);
  (*list)[(*n)++] = s;
}

static void read_sans(struct sim_cert_info *c, X509 *x) {
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  for (size_t i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    if (g->type == GEN_DNS) {
      const ASN1_STRING *s = g->d.dNSName;
      push(&c->dns_names, &c->n_dns_names,
           str_ndup((const char *) ASN1_STRING_get0_data(s), (size_t) ASN1_STRING_length(s)));
    } else if (g->type == GEN_IPADD) {
      const ASN1_STRING *s = g->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = "";
      int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16) {
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
        push(&c->ip_names, &c->n_ip_names, str_dup(text));
      }
    }
  }
  GENERAL_NAMES_free(gens);
  ERR_clear_error();
}

static char *aia_issuer(X509 *x) {
  AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
  char *out = NULL;
  for (size_t i = 0; aia != NULL && out == NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
    const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
    if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI) {
      const ASN1_STRING *s = ad->location->d.uniformResourceIdentifier;
      out = str_ndup((const char *) ASN1_STRING_get0_data(s), (size_t) ASN1_STRING_length(s));
    }
  }
  AUTHORITY_INFO_ACCESS_free(aia);
  ERR_clear_error();
  return out;
}

static int64_t posix_of(const ASN1_TIME *t) {
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days = 0, secs = 0;
  bool ok = epoch != NULL && t != NULL && ASN1_TIME_diff(&days, &secs, epoch, t);
  ASN1_TIME_free(epoch);
  ERR_clear_error();
  return ok ? (int64_t) days * 86400 + secs : 0;
}

static void read_key(struct sim_cert_info *c, X509 *x) {
  EVP_PKEY *key = X509_get_pubkey(x);
  const char *type = "unknown";
  if (key != NULL) {
    switch (EVP_PKEY_id(key)) {
      case EVP_PKEY_RSA: type = "rsa"; break;
      case EVP_PKEY_EC: type = "ec"; break;
      case EVP_PKEY_ED25519: type = "ed25519"; break;
      case EVP_PKEY_DSA: type = "dsa"; break;
      default: break;
    }
    c->key_bits = (unsigned) EVP_PKEY_bits(key);
  }
  c->key_type = str_dup(type);
  EVP_PKEY_free(key);
  ERR_clear_error();
}

static void read_signature(struct sim_cert_info *c, X509 *x) {
  int nid = X509_get_signature_nid(x);
  const char *name = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
  c->sig_alg = str_dup(name != NULL ? name : "unknown");
  switch (nid) {
    case NID_sha1WithRSAEncryption:
    case NID_sha1WithRSA:
    case NID_ecdsa_with_SHA1:
    case NID_dsaWithSHA1:
    case NID_md5WithRSAEncryption:
    case NID_md5WithRSA: c->sig_sha1 = true; break;
    default: break;
  }
}

/* self_signed: issued by itself, and its own key verifies the signature. */
static bool is_self_signed(X509 *x) {
  bool same = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
  EVP_PKEY *key = same ? X509_get_pubkey(x) : NULL;
  bool ok = key != NULL && X509_verify(x, key) == 1;
  EVP_PKEY_free(key);
  ERR_clear_error();
  return ok;
}

static void cert_info(struct sim_cert_info *c, X509 *x) {
  memset(c, 0, sizeof *c);
  c->subject = name_line(X509_get_subject_name(x));
  c->subject_cn = name_cn(X509_get_subject_name(x));
  c->issuer = name_line(X509_get_issuer_name(x));
  c->issuer_cn = name_cn(X509_get_issuer_name(x));
  read_sans(c, x);
  c->not_before = posix_of(X509_get0_notBefore(x));
  c->not_after = posix_of(X509_get0_notAfter(x));
  read_key(c, x);
  read_signature(c, x);
  c->self_signed = is_self_signed(x);
  c->aia_issuer = aia_issuer(x);
  uint8_t *der = NULL;
  int len = i2d_X509(x, &der);
  if (len > 0) {
    c->der = xcalloc((size_t) len, 1);
    memcpy(c->der, der, (size_t) len);
    c->der_len = (size_t) len;
    uint8_t md[32];
    unsigned md_len = 0;
    if (EVP_Digest(der, (size_t) len, md, &md_len, EVP_sha256(), NULL) && md_len == 32) {
      char text[65];
      hex_lower(text, md, 32);
      text[64] = 0;
      c->sha256 = str_dup(text);
    }
  }
  OPENSSL_free(der);
  ERR_clear_error();
}

static void cert_info_cleanup(struct sim_cert_info *c) {
  free(c->subject);
  free(c->subject_cn);
  free(c->issuer);
  free(c->issuer_cn);
  for (size_t i = 0; i < c->n_dns_names; i++) {
    free(c->dns_names[i]);
  }
  free(c->dns_names);
  for (size_t i = 0; i < c->n_ip_names; i++) {
    free(c->ip_names[i]);
  }
  free(c->ip_names);
  free(c->key_type);
  free(c->sig_alg);
  free(c->sha256);
  free(c->aia_issuer);
  free(c->der);
  memset(c, 0, sizeof *c);
}

void sim__tls_info_cleanup(struct sim_tls_info *t) {
  for (size_t i = 0; i < t->n_chain; i++) {
    cert_info_cleanup(&t->chain[i]);
  }
  free(t->chain);
  free(t->verify_text);
  memset(t, 0, sizeof *t);
}

/* --- verification --- */

/* What one verification met: the first error, and every check that failed. */
struct verdict {
  int error;
  int depth;
  unsigned failures;
  bool issuer_missing;
};

static int verdict_index = -1;

static int on_verify(int ok, X509_STORE_CTX *ctx) {
  struct verdict *v = X509_STORE_CTX_get_ex_data(ctx, verdict_index);
  if (!ok && v != NULL) {
    int e = X509_STORE_CTX_get_error(ctx);
    if (v->error == X509_V_OK) {
      v->error = e;
      v->depth = X509_STORE_CTX_get_error_depth(ctx);
    }
    v->failures |= sim__cert_failure_of_verify(e);
    if (e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
        e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) {
      v->issuer_missing = true;
    }
  }
  return 1; /* go on: every failing check is noted, like the Security Alert's three */
}

/* verify runs X509_verify_cert over `chain` (the leaf first) plus `extra` for `host`. */
static bool verify(struct verdict *v, X509_STORE *store, STACK_OF(X509) * chain, X509 *extra,
                   const char *host, bool literal) {
  memset(v, 0, sizeof *v);
  if (verdict_index < 0) {
    verdict_index = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  }
  X509 *leaf = sk_X509_value(chain, 0);
  STACK_OF(X509) *untrusted = sk_X509_dup(chain);
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  bool ok = untrusted != NULL && ctx != NULL && verdict_index >= 0 &&
            (extra == NULL || sk_X509_push(untrusted, extra)) &&
            X509_STORE_CTX_init(ctx, store, leaf, untrusted) &&
            X509_STORE_CTX_set_default(ctx, "ssl_server") &&
            X509_STORE_CTX_set_ex_data(ctx, verdict_index, v);
  if (ok) {
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
                 : X509_VERIFY_PARAM_set1_host(param, host, strlen(host));
  }
  if (ok) {
    X509_STORE_CTX_set_verify_cb(ctx, on_verify);
    X509_verify_cert(ctx);
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  ERR_clear_error();
  return ok;
}

/* leaf_checks adds what verification may skip once the chain cannot be built (sim_tls.c). */
static unsigned leaf_checks(X509 *leaf, const char *host, bool literal) {
  unsigned f = 0;
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
    f |= SIM_CERT_EXPIRED;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
    f |= SIM_CERT_NOT_YET_VALID;
  }
  if (literal ? X509_check_ip_asc(leaf, host, 0) != 1
              : X509_check_host(leaf, host, strlen(host), 0, NULL) != 1) {
    f |= SIM_CERT_NAME;
  }
  ERR_clear_error();
  return f;
}

static void set_verdict(struct sim_tls_info *out, const struct verdict *v, unsigned leaf) {
  out->verify_error = v->error;
  out->verify_depth = v->depth;
  free(out->verify_text);
  out->verify_text =
      v->error != X509_V_OK ? str_dup(X509_verify_cert_error_string(v->error)) : NULL;
  out->cert_failures = v->failures | leaf;
  out->issuer_missing = v->issuer_missing;
}

void sim__inspect_tls_facts(struct sim_tls_info *out, SSL *ssl, X509_STORE *store, const char *host,
                            bool literal) {
  memset(out, 0, sizeof *out);
  out->handshake_done = true;
  out->version = (uint16_t) SSL_version(ssl);
  STACK_OF(X509) *chain = SSL_get_peer_full_cert_chain(ssl);
  size_t n = chain != NULL ? sk_X509_num(chain) : 0;
  if (n == 0) {
    out->cert_failures = SIM_CERT_UNTRUSTED;
    return;
  }
  out->chain = xcalloc(n, sizeof *out->chain);
  for (size_t i = 0; i < n; i++) {
    cert_info(&out->chain[i], sk_X509_value(chain, i));
  }
  out->n_chain = n;
  struct verdict v;
  verify(&v, store, chain, NULL, host, literal);
  set_verdict(out, &v, leaf_checks(sk_X509_value(chain, 0), host, literal));
}

int sim_inspect_reverify(const char *trust_pem, const struct sim_tls_info *tls, const char *host,
                         const uint8_t *extra, size_t extra_len) {
  if (tls == NULL || tls->n_chain == 0 || host == NULL || extra_len > (1u << 20)) {
    return -1;
  }
  int result = -1;
  X509_STORE *store = X509_STORE_new();
  STACK_OF(X509) *chain = sk_X509_new_null();
  const uint8_t *p = extra;
  X509 *x_extra = extra != NULL ? d2i_X509(NULL, &p, (long) extra_len) : NULL;
  if (x_extra == NULL && extra != NULL) { /* caIssuers may serve PEM as well as DER */
    BIO *b = BIO_new_mem_buf(extra, (int) extra_len);
    x_extra = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
  }
  bool ok = store != NULL && chain != NULL && (extra == NULL || x_extra != NULL) &&
            (trust_pem == NULL || X509_STORE_load_locations(store, trust_pem, NULL));
  for (size_t i = 0; ok && i < tls->n_chain; i++) {
    const uint8_t *d = tls->chain[i].der;
    X509 *x = d != NULL ? d2i_X509(NULL, &d, (long) tls->chain[i].der_len) : NULL;
    ok = x != NULL && sk_X509_push(chain, x);
    if (!ok) {
      X509_free(x);
    }
  }
  struct in6_addr tmp;
  bool literal = inet_pton(AF_INET, host, &tmp) == 1 || inet_pton(AF_INET6, host, &tmp) == 1;
  struct verdict v;
  if (ok && verify(&v, store, chain, x_extra, host, literal)) {
    result = (int) (v.failures | leaf_checks(sk_X509_value(chain, 0), host, literal));
  }
  sk_X509_pop_free(chain, X509_free);
  X509_free(x_extra);
  X509_STORE_free(store);
  ERR_clear_error();
  return result;
}
