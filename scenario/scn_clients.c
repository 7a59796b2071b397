/* scenario/scn_clients.c: clients: and expect: — the client models to walk, with their settings
 * (Outlook's registry values), and what each walk should end with: prompts, steps, outcome, URLs
 * (docs/scenarios.md, "Clients" and "Expectations"). */
#include "common/buf.h"
#include "scenario/internal.h"

#include <string.h>

enum {
  MAX_WAIT_MS = 60 * 60 * 1000, /* expect.max_wait: at most an hour of lab time */
};

/* ---- clients ---- */

static bool model_name(struct scn__ld *ld, const struct scn__node *n, const char *path,
                       char **out) {
  if (!scn__want(ld, n, SCN__SCALAR, path)) {
    return false;
  }
  for (const char *c = n->text; *c != 0; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.')) {
      return scn__fail(ld, n, "client model \"%s\" may only use a-z, 0-9, - and .", n->text);
    }
  }
  if (n->len == 0) {
    return scn__fail(ld, n, "%s: the client model is empty", path);
  }
  *out = str_dup(n->text);
  return true;
}

static bool load_client(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_client *c) {
  static const char *const model_key[] = {"model", NULL};
  c->mark = scn__mark(n);
  if (n->kind == SCN__SCALAR) {
    return model_name(ld, n, path, &c->model);
  }
  if (n->kind != SCN__MAP) {
    char tmp[64];
    return scn__fail(ld, n, "%s: expected a client model name or a mapping, found %s", path,
                     scn__found(n, tmp, sizeof tmp));
  }
  char p[SCN__PATH_LEN];
  const struct scn__node *m = NULL;
  unsigned every_kind = (1u << SCN_SETTING_REGISTRY) | (1u << SCN_SETTING_MACHINE) |
                        (1u << SCN_SETTING_USER) | (1u << SCN_SETTING_POLICY);
  return scn__check_keys(ld, n, path, NULL) && scn__req_child(ld, n, path, "model", p, &m) &&
         model_name(ld, m, p, &c->model) &&
         scn__load_settings(ld, n, path, model_key, every_kind, "", c);
}

bool scn__load_clients(struct scn__ld *ld, const struct scn__node *n) {
  struct scn *s = ld->s;
  if (!scn__want(ld, n, SCN__SEQ, "clients")) {
    return false;
  }
  s->clients = xcalloc(n->n_kids, sizeof s->clients[0]);
  for (size_t i = 0; i < n->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, "clients", i);
    struct scn_client *c = &s->clients[s->n_clients++];
    if (!load_client(ld, n->kids[i], p, c)) {
      return false;
    }
    for (size_t j = 0; j + 1 < s->n_clients; j++) {
      if (strcmp(s->clients[j].model, c->model) == 0) {
        return scn__fail(ld, n->kids[i], "client \"%s\" is listed twice", c->model);
      }
    }
  }
  return true;
}

/* ---- expectations ---- */

static const char *const prompt_kinds[] = {"certificate", "redirect", "credentials", NULL};
static const char *const cert_reasons[] = {"expired",        "not-yet-valid", "name", "untrusted",
                                           "weak-signature", "weak-key",      NULL};
static const char *const outcomes[] = {"settings", "failure", NULL};
static const char *const step_names[] = {"restart-cache",      "local-xml",     "last-known-good",
                                         "o365-direct",        "scp",           "https-root",
                                         "https-autodiscover", "http-redirect", "srv",
                                         "redirect",           "o365-fallback", NULL};

static bool load_prompt(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_prompt_expect *pe) {
  static const char *const keys[] = {"kind", "host", "reason", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  pe->mark = scn__mark(n);
  const struct scn__node *k = NULL;
  if (!scn__req_scalar(ld, n, path, "kind", &k)) {
    return false;
  }
  int kind = scn__pick(k->text, prompt_kinds, false);
  if (kind < 0) {
    return scn__fail(ld, k, "prompt kind \"%s\" is not one of certificate, redirect, credentials",
                     k->text);
  }
  pe->kind = str_dup(k->text);
  const struct scn__node *reason = NULL;
  if (!scn__opt_dns_name(ld, n, path, "host", SCN__NO_WILDCARD, &pe->host) ||
      !scn__opt_scalar(ld, n, path, "reason", &reason)) {
    return false;
  }
  if (reason == NULL) {
    return true;
  }
  if (kind == 0 && scn__pick(reason->text, cert_reasons, false) < 0) {
    return scn__fail(ld, reason,
                     "reason \"%s\" is not a certificate prompt reason (expired, not-yet-valid, "
                     "name, untrusted, weak-signature, weak-key)",
                     reason->text);
  }
  if (reason->len == 0 || scn__has_control(reason->text)) {
    return scn__fail(ld, reason, "reason must be one line of text");
  }
  pe->reason = str_dup(reason->text);
  return true;
}

static bool load_prompts(struct scn__ld *ld, const struct scn__node *n, const char *path,
                         struct scn_expect *e) {
  char pp[SCN__PATH_LEN];
  const struct scn__node *prompts = NULL;
  if (!scn__opt_seq(ld, n, path, "prompts", pp, &prompts)) {
    return false;
  }
  if (prompts == NULL) {
    return true;
  }
  e->has_prompts = true;
  e->prompts = xcalloc(prompts->n_kids, sizeof e->prompts[0]);
  for (size_t i = 0; i < prompts->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, pp, i);
    if (!load_prompt(ld, prompts->kids[i], p, &e->prompts[e->n_prompts++])) {
      return false;
    }
  }
  return true;
}

static bool load_outcome(struct scn__ld *ld, const struct scn__node *n, const char *path,
                         struct scn_expect *e) {
  const struct scn__node *o = NULL;
  if (!scn__opt_scalar(ld, n, path, "outcome", &o)) {
    return false;
  }
  if (o == NULL) {
    return true;
  }
  if (scn__pick(o->text, outcomes, false) < 0) {
    return scn__fail(ld, o, "outcome \"%s\" is not settings or failure", o->text);
  }
  e->outcome = str_dup(o->text);
  return true;
}

static bool load_steps(struct scn__ld *ld, const struct scn__node *n, const char *path,
                       struct scn_expect *e) {
  char sp[SCN__PATH_LEN];
  const struct scn__node *steps = NULL;
  if (!scn__opt_seq(ld, n, path, "steps", sp, &steps)) {
    return false;
  }
  if (steps == NULL) {
    return true;
  }
  e->has_steps = true;
  e->steps = xcalloc(steps->n_kids + 1, sizeof e->steps[0]);
  for (size_t i = 0; i < steps->n_kids; i++) {
    const struct scn__node *st = steps->kids[i];
    char p[SCN__PATH_LEN];
    scn__path_index(p, sp, i);
    if (!scn__want(ld, st, SCN__SCALAR, p)) {
      return false;
    }
    if (scn__pick(st->text, step_names, false) < 0) {
      char list[256];
      scn__join_words(list, sizeof list, step_names);
      return scn__fail(ld, st, "step \"%s\" is not a step name (%s)", st->text, list);
    }
    e->steps[e->n_steps++] = str_dup(st->text);
  }
  return true;
}

/* listed fails unless `key` names a client listed under clients. */
static bool listed(struct scn__ld *ld, const struct scn__node *key) {
  const struct scn *s = ld->s;
  for (size_t i = 0; i < s->n_clients; i++) {
    if (strcmp(s->clients[i].model, key->text) == 0) {
      return true;
    }
  }
  struct buf b;
  buf_init(&b, 512);
  for (size_t i = 0; i < s->n_clients; i++) {
    (void) buf_appendf(&b, "%s%s", i > 0 ? ", " : "", s->clients[i].model);
  }
  bool r = scn__fail(ld, key, "expect names client \"%s\", which is not listed in clients (%s)",
                     key->text, s->n_clients > 0 ? buf_cstr(&b) : "none are");
  buf_cleanup(&b);
  return r;
}

static bool load_expect(struct scn__ld *ld, const struct scn__node *key, const struct scn__node *n,
                        struct scn_expect *e) {
  static const char *const keys[] = {"prompts",        "prompt_count", "steps",
                                     "outcome",        "final_url",    "ews_url",
                                     "settings_email", "max_wait",     NULL};
  e->client = str_dup(key->text);
  e->mark = scn__mark(key);
  char path[SCN__PATH_LEN];
  scn__path_key(path, "expect", key->text);
  if (!listed(ld, key) || !scn__want_map(ld, n, path, keys) || !load_prompts(ld, n, path, e) ||
      !load_outcome(ld, n, path, e) || !scn__opt_url(ld, n, path, "final_url", &e->final_url) ||
      !scn__opt_url(ld, n, path, "ews_url", &e->ews_url) ||
      !scn__opt_u32(ld, n, path, "prompt_count", 0, 1000, &e->has_prompt_count, &e->prompt_count) ||
      !scn__opt_duration(ld, n, path, "max_wait", 1, MAX_WAIT_MS, &e->has_max_wait_ms,
                         &e->max_wait_ms)) {
    return false;
  }
  if (e->has_prompts && e->has_prompt_count && e->prompt_count != e->n_prompts) {
    return scn__fail(ld, scn__get(n, "prompt_count"),
                     "prompt_count %u disagrees with the %zu prompts listed under prompts",
                     (unsigned) e->prompt_count, e->n_prompts);
  }
  return scn__opt_email(ld, n, path, "settings_email", &e->settings_email) &&
         load_steps(ld, n, path, e);
}

bool scn__load_expects(struct scn__ld *ld, const struct scn__node *n) {
  struct scn *s = ld->s;
  if (!scn__want_map(ld, n, "expect", NULL)) {
    return false;
  }
  s->expects = xcalloc(n->n_kids / 2, sizeof s->expects[0]);
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    if (!load_expect(ld, n->kids[i], n->kids[i + 1], &s->expects[s->n_expects++])) {
      return false;
    }
  }
  return true;
}
