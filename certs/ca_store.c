/* certs/ca_store.c: the lab CA's directory — finding it, creating the name-constrained CA (and
 * the "untrusted root" and the lab intermediate beside it) on first use, loading it, exporting
 * and describing it. */
#include "certs/ca.h"

#include "certs/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The domains every lab CA permits: the reserved test names (RFC 2606, RFC 6761) and the
 * domains the shipped scenarios use. */
static const char *const default_permitted[] = {
    "test",          "example",         "invalid",           "contoso.com",
    "fabrikam.com",  "hoster.net",      "hostingco.example", "outlook.com",
    "office365.com", "onmicrosoft.com", "adatum.com",        "woodgrovebank.com",
};

#define MAX_PEM_FILE (64 * 1024)

const char *ca_strerror(enum ca_status st) {
  switch (st) {
    case CA_OK: return "success";
    case CA_ENOMEM: return "out of memory";
    case CA_EIO: return "a CA file could not be read or written";
    case CA_EPROFILE: return "unknown certificate profile";
    case CA_ECRYPTO: return "a cryptographic operation failed";
    case CA_ENOTPERMITTED: return "name outside the lab CA's name constraints";
    case CA_ENOCA: return "no lab CA exists yet";
  }
  return "unknown CA error";
}

const char *ca_detail(const struct ca *ca) {
  if (ca == NULL || ca->detail[0] == '\0') {
    return "no detail";
  }
  return ca->detail;
}

bool ca_default_dir(char *out, size_t out_size) {
  const char *env = getenv("AUTODISCO_CA_DIR");
  if (env != NULL && env[0] != '\0') {
    return buf_fmt(out, out_size, "%s", env);
  }
  /* The XDG Base Directory spec says relative paths in its variables are to be ignored. */
  env = getenv("XDG_DATA_HOME");
  if (env != NULL && env[0] == '/') {
    return buf_fmt(out, out_size, "%s/autodisco/ca", env);
  }
  env = getenv("HOME");
  if (env != NULL && env[0] == '/') {
    return buf_fmt(out, out_size, "%s/.local/share/autodisco/ca", env);
  }
  return false;
}

static struct ca *ca_new(const char *dir) {
  struct ca *ca = xcalloc(1, sizeof *ca);
  if (dir == NULL || dir[0] == '\0') {
    dir = "";
    ca__fail(ca, CA_EIO, "no directory given for the lab CA");
  }
  ca->dir = str_dup(dir);
  ca->cert_path = ca__join(dir, CA__CERT_FILE);
  ca->key_path = ca__join(dir, CA__KEY_FILE);
  ca->permit_path = ca__join(dir, CA__PERMIT_FILE);
  ca->untrusted_cert_path = ca__join(dir, CA__UNTRUSTED_CERT_FILE);
  ca->untrusted_key_path = ca__join(dir, CA__UNTRUSTED_KEY_FILE);
  ca->intermediate_cert_path = ca__join(dir, CA__INTERMEDIATE_CERT_FILE);
  ca->intermediate_key_path = ca__join(dir, CA__INTERMEDIATE_KEY_FILE);
  ca->chains_dir = ca__join(dir, CA__CHAINS_DIR);
  if (ca->cert_path == NULL || ca->key_path == NULL || ca->permit_path == NULL ||
      ca->untrusted_cert_path == NULL || ca->untrusted_key_path == NULL ||
      ca->intermediate_cert_path == NULL || ca->intermediate_key_path == NULL ||
      ca->chains_dir == NULL) {
    ca__fail(ca, CA_EIO, "%.200s: CA directory path too long", dir);
  }
  return ca;
}

static void free_permitted(struct ca *ca) {
  for (size_t i = 0; i < ca->n_permitted; i++) {
    free(ca->permitted[i]);
  }
  free(ca->permitted);
  ca->permitted = NULL;
  ca->n_permitted = 0;
  ca->n_ip_permitted = 0;
}

void ca_free(struct ca *ca) {
  if (ca == NULL) {
    return;
  }
  X509_free(ca->cert);
  EVP_PKEY_free(ca->key);
  X509_free(ca->untrusted_cert);
  EVP_PKEY_free(ca->untrusted_key);
  X509_free(ca->intermediate_cert);
  EVP_PKEY_free(ca->intermediate_key);
  free_permitted(ca);
  free(ca->dir);
  free(ca->cert_path);
  free(ca->key_path);
  free(ca->permit_path);
  free(ca->untrusted_cert_path);
  free(ca->untrusted_key_path);
  free(ca->intermediate_cert_path);
  free(ca->intermediate_key_path);
  free(ca->chains_dir);
  free(ca);
}

static void add_permitted(struct ca *ca, const char *name) {
  for (size_t i = 0; i < ca->n_permitted; i++) {
    if (str_eq_nocase(ca->permitted[i], name)) {
      return;
    }
  }
  ca->permitted = xrealloc_array(ca->permitted, ca->n_permitted + 1, sizeof *ca->permitted);
  ca->permitted[ca->n_permitted++] = str_lower(str_dup(name));
}

/* add_ip_permitted records an IP subtree (address and mask, 8 or 32 bytes); others are
 * ignored. */
static void add_ip_permitted(struct ca *ca, const ASN1_OCTET_STRING *s) {
  size_t len = (size_t) ASN1_STRING_length(s);
  if ((len != 8 && len != 32) || ca->n_ip_permitted == CA__MAX_IP_RANGES) {
    return;
  }
  struct ca__ip_range *r = &ca->ip_permitted[ca->n_ip_permitted++];
  const uint8_t *data = ASN1_STRING_get0_data(s);
  r->len = len / 2;
  memcpy(r->addr, data, r->len);
  memcpy(r->mask, data + r->len, r->len);
}

/* read_permitted fills ca->permitted from the certificate's nameConstraints, the only truth. */
static enum ca_status read_permitted(struct ca *ca, const char *what) {
  int crit = 0;
  NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca->cert, NID_name_constraints, &crit, NULL);
  enum ca_status st = CA_OK;
  free_permitted(ca);
  if (nc == NULL || !crit || nc->permittedSubtrees == NULL) {
    ERR_clear_error();
    st = ca__fail(ca, CA_ECRYPTO,
                  "%s has no critical name constraints, so it is not a lab CA; recreate it with "
                  "`autodisco ca init`",
                  what);
    goto out;
  }
  for (size_t i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
    const GENERAL_SUBTREE *sub = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
    if (sub->base->type == GEN_IPADD) {
      add_ip_permitted(ca, sub->base->d.iPAddress);
      continue;
    }
    if (sub->base->type != GEN_DNS) {
      continue;
    }
    const ASN1_IA5STRING *s = sub->base->d.dNSName;
    char *name = str_ndup((const char *) ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
    if (strlen(name) == (size_t) ASN1_STRING_length(s) && ca__name_ok(name, false)) {
      add_permitted(ca, name);
    }
    free(name);
  }
out:
  NAME_CONSTRAINTS_free(nc);
  return st;
}

static enum ca_status write_permit_file(struct ca *ca) {
  struct buf text;
  buf_init(&text, MAX_PEM_FILE);
  bool ok = buf_append_str(&text, "# DNS subtrees the lab CA in this directory may sign for.\n"
                                  "# Written for people; the CA certificate's nameConstraints "
                                  "extension is what counts.\n");
  for (size_t i = 0; ok && i < ca->n_permitted; i++) {
    ok = buf_appendf(&text, "%s\n", ca->permitted[i]);
  }
  enum ca_status st = ok ? ca__write_file(ca, ca->permit_path, buf_slice(&text), 0644)
                         : ca__fail(ca, CA_ENOMEM, "permitted list too long");
  buf_cleanup(&text);
  return st;
}

static void compute_fingerprint(struct ca *ca) {
  unsigned len = 0;
  if (!X509_digest(ca->cert, EVP_sha256(), ca->fingerprint, &len)) {
    memset(ca->fingerprint, 0, sizeof ca->fingerprint);
    ERR_clear_error();
  }
}

/* load_pair reads a certificate and its private key and checks that they belong together. */
static enum ca_status load_pair(struct ca *ca, const char *cert_path, const char *key_path,
                                X509 **out_cert, EVP_PKEY **out_key) {
  struct buf bytes;
  buf_init(&bytes, MAX_PEM_FILE);
  BIO *bio = NULL;
  enum ca_status st = ca__read_file(ca, cert_path, &bytes);
  if (st != CA_OK) {
    goto out;
  }
  bio = BIO_new_mem_buf(bytes.ptr, (int) bytes.len);
  *out_cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  if (*out_cert == NULL) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, cert_path);
    goto out;
  }
  BIO_free(bio);
  bio = NULL;
  buf_reset(&bytes);
  st = ca__read_file(ca, key_path, &bytes);
  if (st != CA_OK) {
    goto out;
  }
  bio = BIO_new_mem_buf(bytes.ptr, (int) bytes.len);
  *out_key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  if (*out_key == NULL) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, key_path);
    goto out;
  }
  if (!X509_check_private_key(*out_cert, *out_key)) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, "the CA key does not match its certificate");
  }
out:
  if (bytes.ptr != NULL) {
    OPENSSL_cleanse(bytes.ptr, bytes.len); /* the key's PEM */
  }
  buf_cleanup(&bytes);
  BIO_free(bio);
  return st;
}

/* save_pair writes key (0600, created private) then certificate (0644). */
static enum ca_status save_pair(struct ca *ca, const char *cert_path, const char *key_path,
                                X509 *cert, EVP_PKEY *key) {
  struct buf pem;
  buf_init(&pem, MAX_PEM_FILE);
  enum ca_status st = CA_OK;
  if (!ca__pem_key(&pem, key)) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, "cannot encode the CA key");
    goto out;
  }
  st = ca__write_file(ca, key_path, buf_slice(&pem), 0600);
  if (st != CA_OK) {
    goto out;
  }
  OPENSSL_cleanse(pem.ptr, pem.len);
  buf_reset(&pem);
  if (!ca__pem_cert(&pem, cert)) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, "cannot encode the CA certificate");
    goto out;
  }
  st = ca__write_file(ca, cert_path, buf_slice(&pem), 0644);
out:
  if (pem.ptr != NULL) {
    OPENSSL_cleanse(pem.ptr, pem.len);
  }
  buf_cleanup(&pem);
  return st;
}

/* make_pair creates a name-constrained CA certificate named cn for the permitted list: a root,
 * or an intermediate of issuer/issuer_key. */
static enum ca_status make_pair(struct ca *ca, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                                X509 **out_cert, EVP_PKEY **out_key) {
  *out_key = ca__new_key();
  if (*out_key == NULL) {
    return ca__fail_ssl(ca, CA_ECRYPTO, "cannot generate a P-256 key");
  }
  *out_cert = ca__make_ca(*out_key, cn, ca->permitted, ca->n_permitted, issuer, issuer_key);
  if (*out_cert == NULL) {
    return ca__fail_ssl(ca, CA_ECRYPTO, "cannot build the CA certificate");
  }
  return CA_OK;
}

static enum ca_status prepare_dir(struct ca *ca) {
  if (!ca__mkdirs(ca->dir)) {
    return ca__fail(ca, CA_EIO, "%s: cannot create directory: %s", ca->dir, strerror(errno));
  }
  /* The directory holds private keys: only its owner may even list it. */
  if (chmod(ca->dir, 0700) != 0) {
    return ca__fail(ca, CA_EIO, "%s: cannot make it private: %s", ca->dir, strerror(errno));
  }
  if (!ca__mkdirs(ca->chains_dir)) {
    return ca__fail(ca, CA_EIO, "%s: cannot create directory: %s", ca->chains_dir, strerror(errno));
  }
  return CA_OK;
}

/* clear_chains removes every cached chain: they were signed by a CA that no longer exists. */
static void clear_chains(struct ca *ca) {
  DIR *d = opendir(ca->chains_dir);
  if (d == NULL) {
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    char *path = ca__join(ca->chains_dir, e->d_name);
    if (path != NULL) {
      unlink(path);
    }
    free(path);
  }
  closedir(d);
}

/* create_ca makes a new CA in the prepared, locked directory, replacing any there. */
static enum ca_status create_ca(struct ca *ca, const char *const *permit, size_t n_permit) {
  free_permitted(ca);
  for (size_t i = 0; i < sizeof default_permitted / sizeof default_permitted[0]; i++) {
    add_permitted(ca, default_permitted[i]);
  }
  for (size_t i = 0; i < n_permit; i++) {
    /* One label would be a whole top-level domain ("com"): the lab never needs that much. */
    if (!ca__name_ok(permit[i], false) || strchr(permit[i], '.') == NULL) {
      return ca__fail(ca, CA_ENOTPERMITTED,
                      "cannot permit \"%.260s\": give a DNS domain with at least two labels, "
                      "such as contoso.org",
                      permit[i]);
    }
    add_permitted(ca, permit[i]);
  }
  char who[128];
  char cn[192];
  ca__user_at_host(who, sizeof who);
  if (!buf_fmt(cn, sizeof cn, "autodisco lab CA (%s)", who)) {
    cn[0] = '\0';
  }
  X509_free(ca->cert);
  EVP_PKEY_free(ca->key);
  ca->cert = NULL;
  ca->key = NULL;
  enum ca_status st = make_pair(ca, cn, NULL, NULL, &ca->cert, &ca->key);
  if (st == CA_OK) {
    st = read_permitted(ca, "the new CA certificate"); /* and its IP subtrees */
  }
  if (st == CA_OK) {
    st = save_pair(ca, ca->cert_path, ca->key_path, ca->cert, ca->key);
  }
  if (st == CA_OK) {
    st = write_permit_file(ca);
  }
  if (st != CA_OK) {
    return st;
  }
  compute_fingerprint(ca);
  /* A new lab CA gets a new untrusted root and intermediate too, and no chain of the old one
   * survives. */
  unlink(ca->untrusted_cert_path);
  unlink(ca->untrusted_key_path);
  unlink(ca->intermediate_cert_path);
  unlink(ca->intermediate_key_path);
  X509_free(ca->intermediate_cert);
  EVP_PKEY_free(ca->intermediate_key);
  ca->intermediate_cert = NULL;
  ca->intermediate_key = NULL;
  clear_chains(ca);
  return ca__load_untrusted(ca);
}

enum ca_status ca__load_untrusted(struct ca *ca) {
  if (ca->untrusted_cert != NULL) {
    return CA_OK;
  }
  enum ca_status st = CA_OK;
  if (access(ca->untrusted_cert_path, F_OK) == 0) {
    st = load_pair(ca, ca->untrusted_cert_path, ca->untrusted_key_path, &ca->untrusted_cert,
                   &ca->untrusted_key);
  } else {
    char who[128];
    char cn[192];
    ca__user_at_host(who, sizeof who);
    if (!buf_fmt(cn, sizeof cn, "autodisco untrusted root (%s)", who)) {
      cn[0] = '\0';
    }
    /* Same name constraints as the lab CA: should anyone trust it by mistake, it still cannot
     * vouch for anything outside the lab. */
    st = make_pair(ca, cn, NULL, NULL, &ca->untrusted_cert, &ca->untrusted_key);
    if (st == CA_OK) {
      st = save_pair(ca, ca->untrusted_cert_path, ca->untrusted_key_path, ca->untrusted_cert,
                     ca->untrusted_key);
    }
  }
  if (st != CA_OK) {
    X509_free(ca->untrusted_cert);
    EVP_PKEY_free(ca->untrusted_key);
    ca->untrusted_cert = NULL;
    ca->untrusted_key = NULL;
  }
  return st;
}

enum ca_status ca__load_intermediate(struct ca *ca) {
  if (ca->intermediate_cert != NULL) {
    return CA_OK;
  }
  enum ca_status st = CA_OK;
  if (access(ca->intermediate_cert_path, F_OK) == 0) {
    st = load_pair(ca, ca->intermediate_cert_path, ca->intermediate_key_path,
                   &ca->intermediate_cert, &ca->intermediate_key);
    if (st == CA_OK && ca__signed_by(ca->intermediate_cert, ca->cert)) {
      return CA_OK;
    }
    /* Unreadable, or left by another lab CA: make a new one. */
    X509_free(ca->intermediate_cert);
    EVP_PKEY_free(ca->intermediate_key);
    ca->intermediate_cert = NULL;
    ca->intermediate_key = NULL;
  }
  char who[128];
  char cn[192];
  ca__user_at_host(who, sizeof who);
  if (!buf_fmt(cn, sizeof cn, "autodisco lab intermediate CA (%s)", who)) {
    cn[0] = '\0';
  }
  /* Constrained like the lab CA (RFC 5280 applies both), so it widens nothing. */
  st = make_pair(ca, cn, ca->cert, ca->key, &ca->intermediate_cert, &ca->intermediate_key);
  if (st == CA_OK) {
    st = save_pair(ca, ca->intermediate_cert_path, ca->intermediate_key_path, ca->intermediate_cert,
                   ca->intermediate_key);
  }
  if (st != CA_OK) {
    X509_free(ca->intermediate_cert);
    EVP_PKEY_free(ca->intermediate_key);
    ca->intermediate_cert = NULL;
    ca->intermediate_key = NULL;
  }
  return st;
}

/* lock_dir takes an advisory lock on the directory's lock file, so that two processes never
 * interleave creating a CA (one's key with the other's certificate) or load one half-written.
 * Returns the descriptor to close, or -1 when the directory cannot hold a lock file (a
 * read-only directory: nobody can be writing it). */
static int lock_dir(struct ca *ca, int how) {
  char *path = ca__join(ca->dir, CA__LOCK_FILE);
  int fd = path != NULL ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
  free(path);
  while (fd >= 0 && flock(fd, how) != 0) {
    if (errno != EINTR) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

static enum ca_status load_ca(struct ca *ca) {
  enum ca_status st = load_pair(ca, ca->cert_path, ca->key_path, &ca->cert, &ca->key);
  if (st == CA_OK) {
    st = read_permitted(ca, ca->cert_path);
  }
  if (st == CA_OK) {
    compute_fingerprint(ca);
  }
  return st;
}

enum ca_status ca_open(struct ca **out, const char *dir, bool create) {
  struct ca *ca = ca_new(dir);
  *out = ca;
  if (ca->detail[0] != '\0') {
    return CA_EIO;
  }
  enum ca_status st = CA_OK;
  int lock = -1;
  if (!create) {
    if (access(ca->cert_path, F_OK) != 0) {
      return ca__fail(ca, CA_ENOCA, "%s holds no lab CA; create one with `autodisco ca init`", dir);
    }
    lock = lock_dir(ca, LOCK_SH);
    st = load_ca(ca);
    goto out;
  }
  st = prepare_dir(ca);
  if (st != CA_OK) {
    goto out;
  }
  lock = lock_dir(ca, LOCK_EX);
  /* Checked under the lock: another process may have just created it. */
  st = access(ca->cert_path, F_OK) == 0 ? load_ca(ca) : create_ca(ca, NULL, 0);
out:
  if (lock >= 0) {
    close(lock);
  }
  return st;
}

enum ca_status ca_create(struct ca **out, const char *dir, const char *const *permit,
                         size_t n_permit) {
  struct ca *ca = ca_new(dir);
  *out = ca;
  if (ca->detail[0] != '\0') {
    return CA_EIO;
  }
  enum ca_status st = prepare_dir(ca);
  if (st != CA_OK) {
    return st;
  }
  int lock = lock_dir(ca, LOCK_EX);
  st = create_ca(ca, permit, n_permit);
  if (lock >= 0) {
    close(lock);
  }
  return st;
}

X509 *ca_cert(const struct ca *ca) {
  return ca->cert;
}

const char *ca_cert_path(const struct ca *ca) {
  return ca->cert_path;
}

const char *ca_dir(const struct ca *ca) {
  return ca->dir;
}

bool ca_permits(const struct ca *ca, const char *dns_name) {
  return dns_name != NULL && ca__name_ok(dns_name, true) &&
         ca__permits_in(ca->permitted, ca->n_permitted, dns_name);
}

const char *const *ca_permitted(const struct ca *ca, size_t *out_n) {
  *out_n = ca->n_permitted;
  return (const char *const *) ca->permitted;
}

enum ca_status ca_export(struct ca *ca, const char *path, bool der) {
  struct buf bytes;
  buf_init(&bytes, MAX_PEM_FILE);
  enum ca_status st = CA_OK;
  if (der) {
    uint8_t *data = NULL;
    int len = i2d_X509(ca->cert, &data);
    if (len <= 0 || !buf_append(&bytes, (struct slice){data, (size_t) len})) {
      st = ca__fail_ssl(ca, CA_ECRYPTO, "cannot encode the CA certificate");
    }
    OPENSSL_free(data);
  } else if (!ca__pem_cert(&bytes, ca->cert)) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, "cannot encode the CA certificate");
  }
  if (st != CA_OK) {
    goto out;
  }
  if (strcmp(path, "-") == 0) {
    if (fwrite(bytes.ptr, 1, bytes.len, stdout) != bytes.len || fflush(stdout) != 0) {
      st = ca__fail(ca, CA_EIO, "cannot write the CA certificate to standard output");
    }
  } else {
    st = ca__write_file(ca, path, buf_slice(&bytes), 0644);
  }
out:
  buf_cleanup(&bytes);
  return st;
}

static void print_time(FILE *out, const char *label, const ASN1_TIME *t) {
  time_t secs = 0;
  struct tm tm;
  char text[64] = "(unreadable)";
  if (ca__time_of(t, &secs) && gmtime_r(&secs, &tm) != NULL) {
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  }
  fprintf(out, "%-13s %s\n", label, text);
}

void ca_describe(const struct ca *ca, FILE *out) {
  BIO *bio = BIO_new(BIO_s_mem());
  const uint8_t *data = NULL;
  size_t len = 0;
  if (bio != NULL &&
      X509_NAME_print_ex(bio, X509_get_subject_name(ca->cert), 0, XN_FLAG_RFC2253) >= 0 &&
      BIO_mem_contents(bio, &data, &len)) {
    fprintf(out, "%-13s %.*s\n", "subject:", (int) len, (const char *) data);
  }
  BIO_free(bio);
  ERR_clear_error();
  print_time(out, "not before:", X509_get0_notBefore(ca->cert));
  print_time(out, "not after:", X509_get0_notAfter(ca->cert));
  fprintf(out, "%-13s", "permitted:");
  for (size_t i = 0; i < ca->n_permitted; i++) {
    fprintf(out, "%s%s", i == 0 ? " " : ", ", ca->permitted[i]);
  }
  fprintf(out, "\n%-12s ", "sha-256:");
  for (size_t i = 0; i < sizeof ca->fingerprint; i++) {
    fprintf(out, "%s%02X", i == 0 ? "" : ":", ca->fingerprint[i]);
  }
  /* Windows shows certificates by their SHA-1 "thumbprint": print it too, to compare. */
  uint8_t sha1[20];
  unsigned sha1_len = 0;
  if (X509_digest(ca->cert, EVP_sha1(), sha1, &sha1_len) && sha1_len == sizeof sha1) {
    fprintf(out, "\n%-12s ", "sha-1:");
    for (size_t i = 0; i < sizeof sha1; i++) {
      fprintf(out, "%02X", sha1[i]);
    }
  }
  ERR_clear_error();
  fprintf(out, "\n%-12s %s\n", "certificate:", ca->cert_path);
  fprintf(out, "%-13s %s\n", "key:", ca->key_path);
  fprintf(out, "%-13s %s\n", "untrusted:", ca->untrusted_cert_path);
  fprintf(out, "%-13s %s\n", "intermediate:", ca->intermediate_cert_path);
  fprintf(out, "%-13s %s/\n", "chains:", ca->chains_dir);
}
