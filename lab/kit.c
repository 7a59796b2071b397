/* lab/kit.c: the Windows lab kit's settings — which Outlook, which Autodiscover registry values
 * (the model's defaults, then the scenario's `clients:` entry, then --set), which DNS server
 * and which CA — and writing the kit's files. lab/kit_render.c renders the texts. */
#include "lab/kit.h"

#include "lab/kit_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* kit__dword: the REG_DWORD rows of the settings table (scenario/scn_settings.c), the values
 * under HKCU\Software\Microsoft\Office\<version>\Outlook\AutoDiscover the client models
 * read. Missing and 0 mean the same: the method is used (KB 2212902). */
const struct scn_setting *kit__dword(size_t i) {
  for (size_t r = 0; scn_setting_at(r) != NULL; r++) {
    const struct scn_setting *s = scn_setting_at(r);
    if (s->kind == SCN_SETTING_REGISTRY && s->type == SCN_SETTING_BOOL && i-- == 0) {
      return s;
    }
  }
  return NULL;
}

bool kit__dword_on(const struct kit *k, const struct scn_setting *s) {
  return *(const bool *) ((const char *) &k->settings + s->offset);
}

enum kit_origin kit__origin(const struct kit *k, const struct scn_setting *s) {
  return k->origin[scn_setting_index(s)];
}

/* value_names writes the names kit_set takes: every DWORD row and RedirectServers. */
static const char *value_names(void) {
  static char names[1024];
  if (names[0] == 0) {
    struct buf b;
    buf_init(&b, sizeof names);
    for (size_t i = 0; kit__dword(i) != NULL; i++) {
      buf_appendf(&b, "%s, ", kit__dword(i)->name);
    }
    buf_append_str(&b, "RedirectServers");
    buf_fmt(names, sizeof names, "%s", buf_cstr(&b));
    buf_cleanup(&b);
  }
  return names;
}

/* model_names writes the models the kit is for: the built-in Windows Outlooks. */
static const char *model_names(void) {
  static char names[512];
  if (names[0] == 0) {
    struct buf b;
    buf_init(&b, sizeof names);
    for (size_t i = 0; sim_model_at(i) != NULL; i++) {
      if (sim_model_office(sim_model_at(i)) != 0) {
        buf_appendf(&b, "%s%s", b.len > 0 ? ", " : "", sim_model_name(sim_model_at(i)));
      }
    }
    buf_fmt(names, sizeof names, "%s", buf_cstr(&b));
    buf_cleanup(&b);
  }
  return names;
}

static const char *const file_names[KIT_N_FILES] = {
    [KIT_CER] = "autodisco-lab-ca.cer",
    [KIT_PEM] = "autodisco-lab-ca.pem",
    [KIT_INSTALL_PS1] = "install.ps1",
    [KIT_UNINSTALL_PS1] = "uninstall.ps1",
    [KIT_REG] = NULL, /* named after the model */
    [KIT_README] = "README.txt",
    [KIT_CA_INSTALL_MACOS] = "ca-install-macos.sh",
    [KIT_CA_UNINSTALL_MACOS] = "ca-uninstall-macos.sh",
    [KIT_CA_INSTALL_LINUX] = "ca-install-linux.sh",
    [KIT_CA_UNINSTALL_LINUX] = "ca-uninstall-linux.sh",
    [KIT_LOCAL_XML] = NULL, /* named after the domain */
};

/* What install.ps1 writes next to itself; a folder holding it belongs to an installed kit. */
static const char state_file[] = "autodisco-kit-state.json";

const char *kit_strerror(enum kit_status st) {
  switch (st) {
    case KIT_OK: return "ok";
    case KIT_EINPUT: return "bad input";
    case KIT_EIO: return "cannot read or write a file";
  }
  return "unknown error";
}

const char *kit_detail(const struct kit *k) {
  return k != NULL ? k->detail : "out of memory";
}

enum kit_status kit__fail(struct kit *k, enum kit_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->detail, sizeof k->detail, fmt, ap);
  va_end(ap);
  return st;
}

bool kit__applies(const struct kit *k, const struct scn_setting *s) {
  return sim_model_office(k->model) >= s->office;
}

const char *kit__product(const struct kit *k) {
  const char *product = sim_model_product(k->model);
  return product != NULL ? product : "a model of your own";
}

const char *kit_value_names(void) {
  return value_names();
}

const char *kit_model_names(void) {
  return model_names();
}

/* find_model looks `name` up among the user's models, then the built-in ones. */
static const struct sim_model *find_model(const char *name, const struct sim_model *const *own,
                                          size_t n_own) {
  for (size_t i = 0; name != NULL && i < n_own; i++) {
    if (strcmp(sim_model_name(own[i]), name) == 0) {
      return own[i];
    }
  }
  return name != NULL ? sim_model_named(name) : NULL;
}

bool kit_knows_model(const char *model, const struct sim_model *const *own, size_t n_own) {
  const struct sim_model *m = find_model(model, own, n_own);
  return m != NULL && sim_model_office(m) != 0;
}

enum kit_status kit_new(struct kit **out, const char *model, const struct sim_model *const *own,
                        size_t n_own) {
  struct kit *k = xcalloc(1, sizeof *k);
  *out = k;
  buf_init(&k->sets, 4096);
  const struct sim_model *m = find_model(model, own, n_own);
  if (m != NULL && sim_model_office(m) == 0 && m != sim_model_named(model)) { /* their own */
    return kit__fail(k, KIT_EINPUT,
                     "--client %s: your model reads no Office registry: give it `office:` (12, "
                     "14, 15 or 16) or a Windows Outlook as `base:` (docs/clients.md)",
                     model);
  }
  if (!kit_knows_model(model, own, n_own)) {
    return kit__fail(k, KIT_EINPUT, "--client %s: the kit is for a Windows Outlook, one of: %s",
                     model != NULL ? model : "(none)", model_names());
  }
  k->model = m;
  scn_client_copy(&k->settings, sim_model_defaults(k->model));
  buf_fmt(k->version, sizeof k->version, "%u.0", sim_model_office(k->model));
  buf_fmt(k->reg_name, sizeof k->reg_name, "autodiscover-%s.reg", sim_model_name(k->model));
  return KIT_OK;
}

static void free_list(char **list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(list[i]);
  }
  free(list);
}

void kit_free(struct kit *k) {
  if (k == NULL) {
    return;
  }
  scn_client_cleanup(&k->settings);
  free(k->local_xml);
  buf_cleanup(&k->sets);
  free(k->der);
  free(k->pem);
  free(k->ca_dir);
  free(k);
}

/* host_name says whether `s` is a plain DNS name (letters, digits, '-', dots between labels),
 * safe to write into PowerShell, .reg and shell text as it is. */
static bool host_name(const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.' || strstr(s, "..") != NULL) {
    return false;
  }
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

/* set_redirect_servers replaces the list with the hosts of `hosts` (n of them), each checked
 * and each once (names compare case-insensitively, as the registry's do). */
static enum kit_status set_redirect_servers(struct kit *k, const char *const *hosts, size_t n,
                                            const char *what) {
  char **list = xcalloc(n + 1, sizeof *list);
  size_t n_list = 0;
  for (size_t i = 0; i < n; i++) {
    if (!host_name(hosts[i])) {
      free_list(list, n_list);
      return kit__fail(k, KIT_EINPUT, "%s: RedirectServers: \"%s\" is not a host name", what,
                       hosts[i]);
    }
    bool seen = false;
    for (size_t j = 0; j < n_list; j++) {
      seen = seen || str_eq_nocase(list[j], hosts[i]);
    }
    if (!seen) {
      list[n_list++] = str_dup(hosts[i]);
    }
  }
  free_list(k->settings.redirect_servers, k->settings.n_redirect_servers);
  k->settings.redirect_servers = list;
  k->settings.n_redirect_servers = n_list;
  return KIT_OK;
}

enum kit_status kit_use_scenario(struct kit *k, const struct scn *s) {
  if (!host_name(s->domain)) {
    return kit__fail(k, KIT_EINPUT, "%s: the domain \"%s\" is not a plain DNS name", s->path,
                     s->domain);
  }
  k->scn = s;
  const struct scn_client *c = NULL;
  for (size_t i = 0; i < s->n_clients && c == NULL; i++) {
    if (strcmp(s->clients[i].model, sim_model_name(k->model)) == 0) {
      c = &s->clients[i];
    }
  }
  k->scenario_lists_model = c != NULL;
  if (c == NULL) {
    return KIT_OK; /* the model's defaults */
  }
  /* The scenario's settings over the model's: a shallow view of c whose `given` leaves out
   * the registry values the model's Office does not read (the overlay copies what it takes);
   * RedirectServers is checked on its way in, below. */
  struct scn_client view = *c;
  view.given = 0;
  for (size_t i = 0; scn_setting_at(i) != NULL; i++) {
    const struct scn_setting *row = scn_setting_at(i);
    bool registry = row->kind == SCN_SETTING_REGISTRY;
    if (!scn_client_given(c, row) || (registry && !kit__applies(k, row))) {
      continue;
    }
    k->origin[i] = KIT_FROM_SCENARIO;
    if (row->offset != offsetof(struct scn_client, redirect_servers)) {
      view.given |= (uint64_t) 1 << i;
    }
  }
  scn_client_overlay(&k->settings, &view);
  enum kit_status st = set_redirect_servers(k, (const char *const *) c->redirect_servers,
                                            c->n_redirect_servers, s->path);
  if (st != KIT_OK) {
    return st;
  }
  if (c->local_xml != NULL) {
    free(k->local_xml);
    k->local_xml = str_dup(c->local_xml);
    if (!buf_fmt(k->local_xml_name, sizeof k->local_xml_name, "autodiscover-%s.xml", s->domain)) {
      return kit__fail(k, KIT_EINPUT, "%s: the domain is too long for a file name", s->path);
    }
  }
  return KIT_OK;
}

static enum kit_status set_redirect_list(struct kit *k, const char *assignment, const char *list) {
  char *copy = str_dup(list);
  size_t n = 0;
  const char **hosts = xcalloc(strlen(list) / 2 + 2, sizeof *hosts);
  for (char *p = copy; *p != 0;) {
    char *comma = strchr(p, ',');
    if (comma != NULL) {
      *comma = 0;
    }
    if (*p == 0) {
      free(hosts);
      free(copy);
      return kit__fail(k, KIT_EINPUT, "--set %s: an empty host name in the list", assignment);
    }
    hosts[n++] = p;
    p = comma != NULL ? comma + 1 : p + strlen(p);
  }
  enum kit_status st = set_redirect_servers(k, hosts, n, "--set");
  free(hosts);
  free(copy);
  if (st == KIT_OK) {
    k->origin[scn_setting_index(scn_setting_named("RedirectServers"))] = KIT_FROM_SET;
  }
  return st;
}

enum kit_status kit_set(struct kit *k, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  if (eq == NULL || eq == assignment) {
    return kit__fail(k, KIT_EINPUT,
                     "--set %s: expected NAME=VALUE, NAME as the registry spells it (e.g. "
                     "ExcludeHttpsRootDomain=1)",
                     assignment);
  }
  char *name = str_ndup(assignment, (size_t) (eq - assignment));
  const char *value = eq + 1;
  enum kit_status st = KIT_OK;
  const struct scn_setting *row = scn_setting_named(name);
  bool dword = row != NULL && row->kind == SCN_SETTING_REGISTRY && row->type == SCN_SETTING_BOOL;
  if (row != NULL && strcmp(row->name, "RedirectServers") == 0 && str_eq_nocase(name, row->name)) {
    st = set_redirect_list(k, assignment, value);
  } else if (!dword || !str_eq_nocase(name, row->name)) {
    st = kit__fail(k, KIT_EINPUT, "--set %s: unknown registry value \"%s\"; known: %s", assignment,
                   name, value_names());
  } else if (!kit__applies(k, row)) {
    st = kit__fail(k, KIT_EINPUT,
                   "--set %s: %s (Office %s) does not read %s; Office %u.0 and later do",
                   assignment, kit__product(k), k->version, row->name, row->office);
  } else if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
    st = kit__fail(k, KIT_EINPUT, "--set %s: %s is a REG_DWORD of 0 (method on) or 1 (off)",
                   assignment, row->name);
  } else {
    *(bool *) ((char *) &k->settings + row->offset) = value[0] == '1';
    k->origin[scn_setting_index(row)] = KIT_FROM_SET;
  }
  free(name);
  if (st == KIT_OK && !buf_appendf(&k->sets, "%s%s", k->sets.len > 0 ? " " : "", assignment)) {
    st = kit__fail(k, KIT_EINPUT, "--set: too many settings");
  }
  return st;
}

enum kit_status kit_set_dns(struct kit *k, const char *ip) {
  unsigned char addr[16];
  int af = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
  if (inet_pton(af, ip, addr) != 1) {
    return kit__fail(k, KIT_EINPUT,
                     "--dns %s: expected the lab's IPv4 or IPv6 address, without a port (Windows "
                     "asks DNS servers on port 53)",
                     ip);
  }
  if (inet_ntop(af, addr, k->dns, sizeof k->dns) == NULL) {
    return kit__fail(k, KIT_EINPUT, "--dns %s: cannot print the address", ip);
  }
  return KIT_OK;
}

enum kit_status kit_set_ca(struct kit *k, struct ca *ca) {
  X509 *cert = ca_cert(ca);
  uint8_t *der = NULL;
  int der_len = i2d_X509(cert, &der);
  BIO *bio = BIO_new(BIO_s_mem());
  const uint8_t *pem = NULL;
  size_t pem_len = 0;
  uint8_t sha1[20];
  unsigned sha1_len = 0;
  enum kit_status st = KIT_OK;
  if (der_len <= 0 || bio == NULL || !PEM_write_bio_X509(bio, cert) ||
      !BIO_mem_contents(bio, &pem, &pem_len) || !X509_digest(cert, EVP_sha1(), sha1, &sha1_len) ||
      sha1_len != sizeof sha1) {
    st = kit__fail(k, KIT_EIO, "cannot encode the lab CA certificate");
    goto out;
  }
  free(k->der);
  free(k->pem);
  k->der = xcalloc((size_t) der_len, 1);
  memcpy(k->der, der, (size_t) der_len);
  k->der_len = (size_t) der_len;
  k->pem = str_ndup((const char *) pem, pem_len);
  free(k->ca_dir);
  k->ca_dir = str_dup(ca_dir(ca));
  for (size_t i = 0; i < sizeof sha1; i++) {
    buf_fmt(k->thumbprint + 2 * i, 3, "%02X", sha1[i]); /* Windows shows the SHA-1 so */
  }
  BIO *name = BIO_new(BIO_s_mem());
  const uint8_t *subject = NULL;
  size_t subject_len = 0;
  k->subject[0] = 0;
  if (name != NULL &&
      X509_NAME_print_ex(name, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0 &&
      BIO_mem_contents(name, &subject, &subject_len) && subject_len < sizeof k->subject) {
    memcpy(k->subject, subject, subject_len);
    k->subject[subject_len] = 0;
  }
  BIO_free(name);
out:
  OPENSSL_free(der);
  BIO_free(bio);
  ERR_clear_error();
  return st;
}

const char *kit_file_name(const struct kit *k, enum kit_file f) {
  switch (f) {
    case KIT_REG: return k->reg_name;
    case KIT_LOCAL_XML: return k->local_xml != NULL ? k->local_xml_name : NULL;
    default: return f < KIT_N_FILES ? file_names[f] : NULL;
  }
}

static enum kit_status write_file(struct kit *k, const char *dir, const char *name,
                                  struct slice bytes, mode_t mode) {
  char path[4096];
  if (!buf_fmt(path, sizeof path, "%s/%s", dir, name)) {
    return kit__fail(k, KIT_EIO, "%s/%s: the path is too long", dir, name);
  }
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    return kit__fail(k, KIT_EIO, "%s: %s", path, strerror(errno));
  }
  bool ok = fwrite(bytes.ptr, 1, bytes.len, f) == bytes.len;
  ok = fclose(f) == 0 && ok;
  if (!ok || chmod(path, mode) != 0) {
    return kit__fail(k, KIT_EIO, "%s: %s", path, strerror(errno));
  }
  return KIT_OK;
}

enum kit_status kit_write(struct kit *k, const char *dir) {
  struct stat st_dir;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    return kit__fail(k, KIT_EIO, "%s: %s", dir, strerror(errno));
  }
  if (stat(dir, &st_dir) != 0 || !S_ISDIR(st_dir.st_mode)) {
    return kit__fail(k, KIT_EIO, "%s: not a directory", dir);
  }
  char state[4096];
  struct stat st_state;
  if (buf_fmt(state, sizeof state, "%s/%s", dir, state_file) && stat(state, &st_state) == 0) {
    return kit__fail(k, KIT_EINPUT,
                     "%s holds %s: a kit installed from this folder; run its uninstall.ps1 first, "
                     "or write the new kit elsewhere",
                     dir, state_file);
  }
  struct buf out;
  buf_init(&out, 8u << 20);
  enum kit_status st = KIT_OK;
  for (int f = 0; f < KIT_N_FILES && st == KIT_OK; f++) {
    const char *name = kit_file_name(k, (enum kit_file) f);
    if (name == NULL) {
      continue;
    }
    buf_reset(&out);
    st = kit_render(k, (enum kit_file) f, &out);
    if (st == KIT_OK) {
      bool script = strstr(name, ".sh") != NULL;
      st = write_file(k, dir, name, buf_slice(&out), script ? 0755 : 0644);
    }
  }
  buf_cleanup(&out);
  return st;
}
