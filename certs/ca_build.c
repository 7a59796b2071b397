/* certs/ca_build.c: the pieces every certificate is made of — P-256 and RSA keys, random serials,
 * validity, v3 extensions, name constraints — and the private-file I/O the CA directory needs. */
#include "certs/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum ca_status ca__fail(struct ca *ca, enum ca_status st, const char *fmt, ...) {
  if (ca != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ca->detail, sizeof ca->detail, fmt, ap);
    va_end(ap);
  }
  return st;
}

enum ca_status ca__fail_ssl(struct ca *ca, enum ca_status st, const char *what) {
  char reason[160] = "no further detail";
  uint32_t e = ERR_get_error();
  if (e != 0) {
    ERR_error_string_n(e, reason, sizeof reason);
  }
  ERR_clear_error();
  return ca__fail(ca, st, "%s: %s", what, reason);
}

char *ca__join(const char *a, const char *b) {
  struct buf out;
  buf_init(&out, 8192);
  if (!buf_appendf(&out, "%s/%s", a, b)) {
    buf_cleanup(&out);
    return NULL;
  }
  return buf_take(&out);
}

bool ca__mkdirs(const char *dir) {
  if (dir[0] == '\0') {
    errno = ENOENT;
    return false;
  }
  char *path = str_dup(dir);
  bool ok = true;
  /* Create each missing parent in turn; existing ones are left as they are. */
  for (char *p = path + 1; ok; p++) {
    bool end = *p == '\0';
    if (*p == '/' || end) {
      *p = '\0';
      if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        ok = false;
      }
      if (end) {
        break;
      }
      *p = '/';
    }
  }
  free(path);
  if (ok) {
    struct stat sb;
    if (stat(dir, &sb) != 0) {
      return false;
    }
    if (!S_ISDIR(sb.st_mode)) {
      errno = ENOTDIR;
      return false;
    }
  }
  return ok;
}

static bool write_all(int fd, struct slice bytes) {
  size_t done = 0;
  while (done < bytes.len) {
    ssize_t n = write(fd, bytes.ptr + done, bytes.len - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += (size_t) n;
  }
  return true;
}

enum ca_status ca__write_file(struct ca *ca, const char *path, struct slice bytes, int mode) {
  char tmp[4096];
  if (!buf_fmt(tmp, sizeof tmp, "%s.tmp-XXXXXX", path)) {
    return ca__fail(ca, CA_EIO, "%s: path too long", path);
  }
  /* mkstemp creates the file 0600 with O_EXCL: a key never exists with looser permissions. */
  int fd = mkstemp(tmp);
  if (fd < 0) {
    return ca__fail(ca, CA_EIO, "%s: cannot create: %s", tmp, strerror(errno));
  }
  enum ca_status st = CA_OK;
  if (!write_all(fd, bytes)) {
    st = ca__fail(ca, CA_EIO, "%s: cannot write: %s", tmp, strerror(errno));
  } else if ((mode & 0077) != 0 && fchmod(fd, (mode_t) mode) != 0) {
    st = ca__fail(ca, CA_EIO, "%s: cannot set mode: %s", tmp, strerror(errno));
  } else if (fsync(fd) != 0) {
    st = ca__fail(ca, CA_EIO, "%s: cannot sync: %s", tmp, strerror(errno));
  }
  if (close(fd) != 0 && st == CA_OK) {
    st = ca__fail(ca, CA_EIO, "%s: cannot close: %s", tmp, strerror(errno));
  }
  if (st == CA_OK && rename(tmp, path) != 0) {
    st = ca__fail(ca, CA_EIO, "%s: cannot replace: %s", path, strerror(errno));
  }
  if (st != CA_OK) {
    unlink(tmp);
  }
  return st;
}

enum ca_status ca__read_file(struct ca *ca, const char *path, struct buf *out) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return ca__fail(ca, CA_EIO, "%s: cannot open: %s", path, strerror(errno));
  }
  enum ca_status st = CA_OK;
  uint8_t chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (!buf_append(out, (struct slice){chunk, n})) {
      st = ca__fail(ca, CA_EIO, "%s: larger than %zu bytes", path, out->max);
      break;
    }
  }
  if (st == CA_OK && ferror(f)) {
    st = ca__fail(ca, CA_EIO, "%s: cannot read", path);
  }
  fclose(f);
  return st;
}

EVP_PKEY *ca__new_key(void) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  EVP_PKEY *key = EVP_PKEY_new();
  if (ec == NULL || key == NULL || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(key, ec)) {
    EC_KEY_free(ec);
    EVP_PKEY_free(key);
    return NULL;
  }
  return key;
}

EVP_PKEY *ca__new_rsa_key(int bits) {
  RSA *rsa = RSA_new();
  BIGNUM *e = BN_new();
  EVP_PKEY *key = EVP_PKEY_new();
  bool ok = rsa != NULL && e != NULL && key != NULL && BN_set_word(e, RSA_F4) &&
            RSA_generate_key_ex(rsa, bits, e, NULL) && EVP_PKEY_assign_RSA(key, rsa);
  BN_free(e);
  if (!ok) {
    RSA_free(rsa);
    EVP_PKEY_free(key);
    return NULL;
  }
  return key;
}

bool ca__time_of(const ASN1_TIME *t, time_t *out) {
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days = 0;
  int secs = 0;
  bool ok = epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, t);
  ASN1_TIME_free(epoch);
  if (ok) {
    *out = (time_t) days * CA__DAY + secs;
  }
  return ok;
}

bool ca__name_ok(const char *s, bool wildcard) {
  size_t len = strlen(s);
  if (len == 0 || len > CA__MAX_NAME_LEN) {
    return false;
  }
  if (wildcard && s[0] == '*' && s[1] == '.') {
    s += 2; /* one leading wildcard label, as RFC 6125 6.4.3 lets clients match */
  }
  size_t label = 0;
  for (const char *p = s;; p++) {
    char c = *p;
    if (c == '.' || c == '\0') {
      /* labels are 1..63 letters, digits and hyphens, not starting or ending with '-' */
      if (label == 0 || label > 63 || p[-1] == '-' || p[-(long) label] == '-') {
        return false;
      }
      if (c == '\0') {
        return true;
      }
      label = 0;
      continue;
    }
    bool ldh =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ldh) {
      return false;
    }
    label++;
  }
}

bool ca__permits_in(char *const *permitted, size_t n_permitted, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n_permitted; i++) {
    size_t plen = strlen(permitted[i]);
    if (len == plen && str_eq_nocase(name, permitted[i])) {
      return true;
    }
    /* a subtree holds the name itself and every name below it (RFC 5280 4.2.1.10) */
    if (len > plen && name[len - plen - 1] == '.' &&
        str_eq_nocase(name + len - plen, permitted[i])) {
      return true;
    }
  }
  return false;
}

static bool set_serial(X509 *x) {
  uint8_t bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  bytes[0] &= 0x7f; /* positive */
  bytes[0] |= 0x01; /* non-zero, 16 bytes long */
  BIGNUM *bn = BN_bin2bn(bytes, sizeof bytes, NULL);
  bool ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  BN_free(bn);
  return ok;
}

static bool set_validity(X509 *x, time_t not_before, time_t not_after) {
  ASN1_TIME *nb = ASN1_TIME_set(NULL, not_before);
  ASN1_TIME *na = ASN1_TIME_set(NULL, not_after);
  bool ok = nb != NULL && na != NULL && X509_set1_notBefore(x, nb) && X509_set1_notAfter(x, na);
  ASN1_TIME_free(nb);
  ASN1_TIME_free(na);
  return ok;
}

/* add_ext adds one extension written in OpenSSL's config syntax ("critical,CA:TRUE"). */
static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  memset(&ctx, 0, sizeof ctx);
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
  bool ok = ext != NULL && X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

static GENERAL_NAME *dns_name(const char *name) {
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_IA5STRING *s = ASN1_IA5STRING_new();
  if (gn == NULL || s == NULL || !ASN1_STRING_set(s, name, (int) strlen(name))) {
    GENERAL_NAME_free(gn);
    ASN1_IA5STRING_free(s);
    return NULL;
  }
  GENERAL_NAME_set0_value(gn, GEN_DNS, s);
  return gn;
}

/* ip_range is the GeneralName for an IP subtree: the address then the mask, addr_len (4 or 16)
 * bytes each (RFC 5280 4.2.1.10). */
static GENERAL_NAME *ip_range(const uint8_t *addr, const uint8_t *mask, size_t addr_len) {
  uint8_t both[32];
  memcpy(both, addr, addr_len);
  memcpy(both + addr_len, mask, addr_len);
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
  if (gn == NULL || s == NULL || !ASN1_OCTET_STRING_set(s, both, (int) (2 * addr_len))) {
    GENERAL_NAME_free(gn);
    ASN1_OCTET_STRING_free(s);
    return NULL;
  }
  GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
  return gn;
}

/* ip_address is the GeneralName for one address of addr_len (4 or 16) bytes. */
static GENERAL_NAME *ip_address(const uint8_t *addr, size_t addr_len) {
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
  if (gn == NULL || s == NULL || !ASN1_OCTET_STRING_set(s, addr, (int) addr_len)) {
    GENERAL_NAME_free(gn);
    ASN1_OCTET_STRING_free(s);
    return NULL;
  }
  GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
  return gn;
}

static bool push_subtree(STACK_OF(GENERAL_SUBTREE) * subtrees, GENERAL_NAME *gn) {
  GENERAL_SUBTREE *st = GENERAL_SUBTREE_new();
  if (gn == NULL || st == NULL) {
    GENERAL_NAME_free(gn);
    GENERAL_SUBTREE_free(st);
    return false;
  }
  GENERAL_NAME_free(st->base);
  st->base = gn;
  if (!sk_GENERAL_SUBTREE_push(subtrees, st)) {
    GENERAL_SUBTREE_free(st);
    return false;
  }
  return true;
}

/* add_name_constraints permits the DNS subtrees and the loopback addresses (127.0.0.0/8, ::1;
 * for ip-only), so the CA can vouch for nothing but the lab's names and addresses: once a type
 * has permitted subtrees, a name of that type outside all of them is refused (RFC 5280
 * 4.2.1.10). */
static bool add_name_constraints(X509 *x, char *const *permitted, size_t n_permitted) {
  static const uint8_t lo4[4] = {127, 0, 0, 0};
  static const uint8_t lo4_mask[4] = {255, 0, 0, 0};
  static const uint8_t lo6[16] = {[15] = 1};
  static const uint8_t lo6_mask[16] = {255, 255, 255, 255, 255, 255, 255, 255,
                                       255, 255, 255, 255, 255, 255, 255, 255};
  NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();
  bool ok = nc != NULL;
  if (ok) {
    nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null();
    ok = nc->permittedSubtrees != NULL;
  }
  for (size_t i = 0; ok && i < n_permitted; i++) {
    ok = push_subtree(nc->permittedSubtrees, dns_name(permitted[i]));
  }
  ok = ok && push_subtree(nc->permittedSubtrees, ip_range(lo4, lo4_mask, 4));
  ok = ok && push_subtree(nc->permittedSubtrees, ip_range(lo6, lo6_mask, 16));
  ok = ok && X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT);
  NAME_CONSTRAINTS_free(nc);
  return ok;
}

static bool add_san(X509 *x, const struct ca__leaf_spec *spec, bool critical) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  bool ok = gens != NULL;
  for (size_t i = 0; ok && i <= spec->n_dns; i++) {
    GENERAL_NAME *gn = NULL;
    if (i < spec->n_dns) {
      gn = dns_name(spec->dns[i]);
    } else if (spec->ip != NULL) {
      gn = ip_address(spec->ip, spec->ip_len);
    } else {
      break;
    }
    ok = gn != NULL && sk_GENERAL_NAME_push(gens, gn);
    if (!ok) {
      GENERAL_NAME_free(gn);
    }
  }
  ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(gens);
  return ok;
}

static bool add_cn(X509_NAME *name, const char *cn) {
  return X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const uint8_t *) cn, -1,
                                    -1, 0);
}

X509 *ca__make_ca(EVP_PKEY *key, const char *cn, char *const *permitted, size_t n_permitted,
                  X509 *issuer, EVP_PKEY *issuer_key) {
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  time_t now = time(NULL);
  bool root = issuer == NULL;
  /* A root is backdated so every profile's validity, the expired one's included, lies inside
   * its own, and runs about ten years ahead; an intermediate takes its issuer's. */
  bool ok = x != NULL && name != NULL && X509_set_version(x, X509_VERSION_3) && set_serial(x) &&
            (root ? set_validity(x, now - (2 * 365 + 2) * CA__DAY, now + 3650 * CA__DAY)
                  : X509_set1_notBefore(x, X509_get0_notBefore(issuer)) &&
                        X509_set1_notAfter(x, X509_get0_notAfter(issuer))) &&
            X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                       (const uint8_t *) "autodisco lab", -1, -1, 0) &&
            add_cn(name, cn) && X509_set_subject_name(x, name) &&
            X509_set_issuer_name(x, root ? name : X509_get_subject_name(issuer)) &&
            X509_set_pubkey(x, key) &&
            add_ext(x, root ? x : issuer, NID_basic_constraints,
                    root ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0") &&
            add_ext(x, root ? x : issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
            add_ext(x, root ? x : issuer, NID_subject_key_identifier, "hash") &&
            (root || add_ext(x, issuer, NID_authority_key_identifier, "keyid:always")) &&
            add_name_constraints(x, permitted, n_permitted) &&
            X509_sign(x, root ? key : issuer_key, EVP_sha256());
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

X509 *ca__make_leaf_spec(const struct ca__leaf_spec *spec) {
  X509 *x = X509_new();
  X509_NAME *subject = X509_NAME_new();
  X509 *issuer = spec->issuer;
  bool self = issuer == NULL;
  /* An empty subject makes the SAN critical (RFC 5280 4.2.1.6). */
  bool has_cn = spec->cn != NULL;
  bool ok = x != NULL && subject != NULL && X509_set_version(x, X509_VERSION_3) && set_serial(x) &&
            set_validity(x, spec->not_before, spec->not_after) &&
            (!has_cn || add_cn(subject, spec->cn)) && X509_set_subject_name(x, subject) &&
            X509_set_issuer_name(x, self ? subject : X509_get_subject_name(issuer)) &&
            X509_set_pubkey(x, spec->key) &&
            add_ext(x, self ? x : issuer, NID_basic_constraints, "critical,CA:FALSE") &&
            /* A self-signed leaf carries no key usage: verifiers only treat a certificate as
             * self-signed (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) when its key may sign
             * certificates, and keyCertSign without cA is forbidden (RFC 5280 4.2.1.3). An RSA
             * key also enciphers the key in TLS 1.2's RSA key exchange. */
            (self || add_ext(x, issuer, NID_key_usage,
                             EVP_PKEY_id(spec->key) == EVP_PKEY_RSA
                                 ? "critical,digitalSignature,keyEncipherment"
                                 : "critical,digitalSignature")) &&
            add_ext(x, self ? x : issuer, NID_ext_key_usage, "serverAuth") &&
            add_ext(x, self ? x : issuer, NID_subject_key_identifier, "hash") &&
            add_ext(x, self ? x : issuer, NID_authority_key_identifier, "keyid:always") &&
            add_san(x, spec, !has_cn) &&
            X509_sign(x, self ? spec->key : spec->issuer_key, spec->md);
  X509_NAME_free(subject);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

X509 *ca__make_leaf(EVP_PKEY *key, const char *const *names, size_t n_names, time_t not_before,
                    time_t not_after, X509 *issuer, EVP_PKEY *issuer_key) {
  /* RFC 5280's ub-common-name is 64: a longer first name stays in the SAN only. */
  struct ca__leaf_spec spec = {
      .key = key,
      .cn = strlen(names[0]) <= 64 ? names[0] : NULL,
      .dns = names,
      .n_dns = n_names,
      .not_before = not_before,
      .not_after = not_after,
      .issuer = issuer,
      .issuer_key = issuer_key,
      .md = EVP_sha256(),
  };
  return ca__make_leaf_spec(&spec);
}

bool ca__signed_by(X509 *cert, X509 *issuer) {
  EVP_PKEY *pub = issuer != NULL ? X509_get_pubkey(issuer) : NULL;
  bool ok =
      pub != NULL && X509_check_issued(issuer, cert) == X509_V_OK && X509_verify(cert, pub) == 1;
  EVP_PKEY_free(pub);
  ERR_clear_error();
  return ok;
}

bool ca__pem_cert(struct buf *out, X509 *cert) {
  BIO *bio = BIO_new(BIO_s_mem());
  const uint8_t *data = NULL;
  size_t len = 0;
  bool ok = bio != NULL && PEM_write_bio_X509(bio, cert) && BIO_mem_contents(bio, &data, &len) &&
            buf_append(out, (struct slice){data, len});
  BIO_free(bio);
  return ok;
}

bool ca__pem_key(struct buf *out, EVP_PKEY *key) {
  BIO *bio = BIO_new(BIO_s_mem());
  const uint8_t *data = NULL;
  size_t len = 0;
  bool ok = bio != NULL && PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) &&
            BIO_mem_contents(bio, &data, &len) && buf_append(out, (struct slice){data, len});
  BIO_free(bio);
  return ok;
}

/* keep_printable replaces what a certificate name should not carry with '?'. */
static void keep_printable(char *s) {
  for (; *s != '\0'; s++) {
    if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f) {
      *s = '?';
    }
  }
}

void ca__user_at_host(char *out, size_t out_size) {
  const char *user = getenv("USER");
  struct passwd *pw = getpwuid(getuid());
  if (pw != NULL && pw->pw_name != NULL) {
    user = pw->pw_name;
  }
  char host[256] = "localhost";
  if (gethostname(host, sizeof host) != 0) {
    memcpy(host, "localhost", sizeof "localhost");
  }
  host[sizeof host - 1] = '\0';
  if (!buf_fmt(out, out_size, "%.40s@%.60s", user != NULL ? user : "user", host)) {
    out[0] = '\0';
  }
  keep_printable(out);
}
