/* scenario/scn_load.c: a scenario file → a validated struct scn (docs/scenarios.md).
 *
 * The YAML becomes a tree of positioned nodes (scn_yaml.c), an extends: chain is merged into one
 * tree (scn_extend.c), and this file walks the top level against the schema, handing each section
 * to the file that knows it: hosts (scn_hosts.c, routes in scn_routes.c), dns (scn_dns.c, zone
 * files in scn_zone.c), clients and expect (scn_clients.c); the values themselves are read by
 * scn_value.c. Every check fails with one line "file:line:col: message" that names what was
 * expected, and the first failure stops the walk. Unknown keys are errors everywhere. */
#include "scenario/scn.h"

#include "common/buf.h"
#include "scenario/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- directory ---- */

static bool load_directory(struct scn__ld *ld, const struct scn__node *n) {
  static const char *const keys[] = {"scp", NULL};
  struct scn *s = ld->s;
  char sp[SCN__PATH_LEN];
  const struct scn__node *scp = NULL;
  if (!scn__want_map(ld, n, "directory", keys) ||
      !scn__opt_seq(ld, n, "directory", "scp", sp, &scp)) {
    return false;
  }
  if (scp == NULL) {
    return true;
  }
  s->scp_urls = xcalloc(scp->n_kids + 1, sizeof s->scp_urls[0]);
  for (size_t i = 0; i < scp->n_kids; i++) {
    const struct scn__node *u = scp->kids[i];
    char p[SCN__PATH_LEN];
    scn__path_index(p, sp, i);
    if (!scn__want(ld, u, SCN__SCALAR, p) || !scn__url(ld, u, "an SCP URL")) {
      return false;
    }
    if (strncmp(u->text, "https://", 8) != 0) {
      return scn__fail(ld, u,
                       "%s: an SCP URL is https:// (what Outlook accepts from SCP), found \"%s\"",
                       p, u->text);
    }
    s->scp_urls[s->n_scp_urls++] = str_dup(u->text);
  }
  return true;
}

/* ---- the whole file ---- */

/* The sections under their top-level keys, in the order they are read: records name hosts, and
 * expectations name clients. */
static const struct {
  const char *key;
  bool (*load)(struct scn__ld *ld, const struct scn__node *n);
} sections[] = {
    {"hosts", scn__load_hosts},     {"dns", scn__load_dns},        {"directory", load_directory},
    {"clients", scn__load_clients}, {"expect", scn__load_expects},
};

static bool load_top(struct scn__ld *ld, const struct scn__node *root) {
  static const char *const keys[] = {"name",    "description", "domain",    "email",
                                     "extends", "dns",         "directory", "hosts",
                                     "clients", "expect",      NULL};
  struct scn *s = ld->s;
  if (root->kind != SCN__MAP) {
    char tmp[64];
    return scn__fail(ld, root, "a scenario is a mapping (name, description, domain, ...), found %s",
                     scn__found(root, tmp, sizeof tmp));
  }
  const struct scn__node *name = NULL;
  if (!scn__check_keys(ld, root, "", keys) || !scn__req_scalar(ld, root, "", "name", &name)) {
    return false;
  }
  if (!scn__is_id(name->text, false)) {
    return scn__fail(ld, name, "name \"%s\" may only use a-z, 0-9 and - (at most 63 characters)",
                     name->text);
  }
  s->name = str_dup(name->text);
  if (!scn__req_text(ld, root, "", "description", &s->description) ||
      !scn__req_dns_name(ld, root, "", "domain", SCN__NO_WILDCARD, &s->domain) ||
      !scn__opt_email(ld, root, "", "email", &s->email)) {
    return false;
  }
  if (s->email == NULL) {
    struct buf b;
    buf_init(&b, 512);
    if (!buf_appendf(&b, "user@%s", s->domain)) {
      abort(); /* a checked domain is at most 253 characters */
    }
    s->email = buf_take(&b);
  }
  for (size_t i = 0; i < SCN__N_ELEMS(sections); i++) {
    const struct scn__node *v = scn__get(root, sections[i].key);
    if (v != NULL && !sections[i].load(ld, v)) {
      return false;
    }
  }
  scn__derive_host_names(s);
  scn__upstream_inherit_dns(s);
  return true;
}

enum scn_status scn_load_string(struct scn **out, const char *path, const char *text, size_t len,
                                char *err, size_t err_size) {
  *out = NULL;
  if (err_size > 0) {
    err[0] = 0;
  }
  struct scn *s = xcalloc(1, sizeof *s);
  s->path = str_dup(path); /* the top file's nodes borrow this copy */
  struct scn__node *root = NULL;
  enum scn_status st = scn__yaml_parse(&root, s->path, text, len, err, err_size);
  if (st == SCN_OK) {
    st = scn__check_nuls(root, err, err_size);
  }
  if (st == SCN_OK) {
    st = scn__extend(s, &root, err, err_size);
  }
  if (st != SCN_OK) {
    scn__node_free(root);
    scn_free(s);
    return st;
  }
  struct scn__ld ld = {
      .s = s, .now = (int64_t) time(NULL), .err = err, .err_size = err_size, .st = SCN_OK};
  if (root == NULL || root->kind == SCN__NULL) {
    (void) buf_fmt(err, err_size,
                   "%s:1:1: the scenario is empty (expected a mapping with name, description, "
                   "domain, ...)",
                   path);
    ld.st = SCN_ESCHEMA;
  } else if (!load_top(&ld, root) && ld.st == SCN_OK) {
    ld.st = SCN_ESCHEMA;
  }
  scn__node_free(root);
  if (ld.st != SCN_OK) {
    scn_free(s);
    return ld.st;
  }
  *out = s;
  return SCN_OK;
}

enum scn_status scn_load(struct scn **out, const char *path, char *err, size_t err_size) {
  *out = NULL;
  /* checked as the files it names are (zone_file:, extends:): a FIFO or a device is refused
   * before a byte is read, so that nothing waits on it forever */
  struct buf b;
  char why[256];
  if (!scn__read_file(path, SCN__MAX_FILE_LEN, &b, why, sizeof why)) {
    (void) buf_fmt(err, err_size, "%s: %s", path, why);
    return SCN_EIO;
  }
  enum scn_status st = scn_load_string(out, path, buf_cstr(&b), b.len, err, err_size);
  buf_cleanup(&b);
  return st;
}

/* ---- release ---- */

static void free_strs(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i]);
  }
  free(v);
}

static void free_autodiscover(struct scn_autodiscover *ad) {
  free(ad->display_name);
  free(ad->server);
  free(ad->ews_url);
  free(ad->auth_package);
  free(ad->redirect_addr);
  free(ad->redirect_url);
  free(ad->error_message);
  for (size_t i = 0; i < ad->n_protocols; i++) {
    struct scn_ad_protocol *p = &ad->protocols[i];
    free(p->type);
    free(p->server);
    free(p->ews_url);
    free(p->as_url);
    free(p->oab_url);
    free(p->owa_url);
    free(p->auth_package);
  }
  free(ad->protocols);
}

static void free_route(struct scn_route *r) {
  free_autodiscover(&r->ad);
  free_strs(r->ad2.protocols, r->ad2.n_protocols);
  free_strs(r->ad2.urls, r->ad2.n_protocols);
  for (size_t j = 0; j < r->n_headers; j++) {
    free(r->headers[j].name);
    free(r->headers[j].value);
  }
  free(r->headers);
  free_strs(r->auth.challenges, r->auth.n_challenges);
  free(r->path);
  free(r->method);
  free(r->body);
  free(r->content_type);
  free(r->location);
  free(r->upstream.url);
  free(r->upstream.host);
  free(r->upstream.base_path);
  free(r->upstream.trust);
  free(r->upstream.address);
  free(r->upstream.dns);
  for (size_t i = 0; i < r->n_answers; i++) {
    free_route(&r->answers[i]);
  }
  free(r->answers);
  free(r->for_email);
}

static void free_listener(struct scn_listener *l) {
  free_strs(l->cert.names, l->cert.n_names);
  for (size_t i = 0; i < l->n_routes; i++) {
    free_route(&l->routes[i]);
  }
  free(l->routes);
}

void scn_free(struct scn *s) {
  if (s == NULL) {
    return;
  }
  free(s->path);
  free(s->name);
  free(s->description);
  free(s->domain);
  free(s->email);
  free_strs(s->zones, s->n_zones);
  for (size_t i = 0; i < s->n_records; i++) {
    free(s->records[i].name);
    free(s->records[i].host);
    free(s->records[i].address);
    free(s->records[i].target);
    free(s->records[i].text);
  }
  free(s->records);
  for (size_t i = 0; i < s->n_rules; i++) {
    free(s->rules[i].name);
    free(s->rules[i].raw);
  }
  free(s->rules);
  for (size_t i = 0; i < s->n_raw_records; i++) {
    free(s->raw_records[i].name);
    free(s->raw_records[i].rdata);
  }
  free(s->raw_records);
  free(s->overlay.upstream);
  for (size_t i = 0; i < s->overlay.n_removals; i++) {
    free(s->overlay.removals[i].name);
  }
  free(s->overlay.removals);
  for (size_t i = 0; i < s->n_hosts; i++) {
    struct scn_host *h = &s->hosts[i];
    free(h->id);
    free_strs(h->names, h->n_names);
    free(h->address);
    free_listener(&h->https);
    free_listener(&h->http);
    for (size_t j = 0; j < h->n_listeners; j++) {
      free_listener(&h->listeners[j]);
    }
    free(h->listeners);
  }
  free(s->hosts);
  for (size_t i = 0; i < s->n_clients; i++) {
    scn_client_cleanup(&s->clients[i]);
  }
  free(s->clients);
  for (size_t i = 0; i < s->n_expects; i++) {
    struct scn_expect *e = &s->expects[i];
    free(e->client);
    for (size_t j = 0; j < e->n_prompts; j++) {
      free(e->prompts[j].kind);
      free(e->prompts[j].host);
      free(e->prompts[j].reason);
    }
    free(e->prompts);
    free(e->outcome);
    free(e->final_url);
    free(e->ews_url);
    free_strs(e->steps, e->n_steps);
    free(e->settings_email);
  }
  free(s->expects);
  free(s->zone_file);
  free_strs(s->scp_urls, s->n_scp_urls);
  free(s->extends);
  free_strs(s->files, s->n_files);
  free(s);
}
