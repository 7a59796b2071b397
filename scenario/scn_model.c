/* scenario/scn_model.c: a user's own client model as a YAML file says it (--client-file,
 * docs/clients.md "Your own model"): its name, an optional built-in model it starts from, its
 * steps in order, its policy and its settings — read with the scenario loader's node tree and
 * value readers, so every mistake is one "file:line:col: message". The client module turns it
 * into a model it can walk (client/sim_model_file.c). */
#include "common/buf.h"
#include "scenario/internal.h"

#include <stdlib.h>
#include <string.h>

/* The steps a model may list: every step kind but `redirect`, which is how the targets a step
 * found are tried, not a step of its own. */
static const char *const step_names[] = {"restart-cache",
                                         "local-xml",
                                         "last-known-good",
                                         "o365-direct",
                                         "scp",
                                         "https-root",
                                         "https-autodiscover",
                                         "http-redirect",
                                         "srv",
                                         "o365-fallback",
                                         NULL};

enum { MAX_STEPS = 12 }; /* client/internal.h SIM_MODEL_MAX_STEPS */

static bool load_name(struct scn__ld *ld, const struct scn__node *n, struct scn_model *m) {
  if (!scn__want(ld, n, SCN__SCALAR, "name")) {
    return false;
  }
  bool ok = n->len > 0 && n->len <= 63;
  for (const char *c = n->text; ok && *c != 0; c++) {
    ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.';
  }
  if (!ok) {
    return scn__fail(ld, n, "name \"%s\" may only use a-z, 0-9, - and . (at most 63 characters)",
                     n->text);
  }
  m->name = str_dup(n->text);
  m->name_mark = scn__mark(n);
  return true;
}

static bool load_steps(struct scn__ld *ld, const struct scn__node *seq, struct scn_model *m) {
  if (!scn__want(ld, seq, SCN__SEQ, "steps")) {
    return false;
  }
  if (seq->n_kids == 0) {
    return scn__fail(ld, seq, "steps: a model takes at least one step");
  }
  if (seq->n_kids > MAX_STEPS) {
    return scn__fail(ld, seq->kids[MAX_STEPS], "steps: a model takes at most %d steps", MAX_STEPS);
  }
  m->steps = xcalloc(seq->n_kids, sizeof *m->steps);
  for (size_t i = 0; i < seq->n_kids; i++) {
    const struct scn__node *st = seq->kids[i];
    char p[SCN__PATH_LEN];
    scn__path_index(p, "steps", i);
    if (!scn__want(ld, st, SCN__SCALAR, p)) {
      return false;
    }
    if (strcmp(st->text, "redirect") == 0) {
      return scn__fail(ld, st,
                       "step \"redirect\" is not one a model lists: it is how the URLs the other "
                       "steps find are tried");
    }
    if (scn__pick(st->text, step_names, false) < 0) {
      char list[256];
      scn__join_words(list, sizeof list, step_names);
      return scn__fail(ld, st, "step \"%s\" is not a step name (%s)", st->text, list);
    }
    for (size_t j = 0; j < m->n_steps; j++) {
      if (strcmp(m->steps[j], st->text) == 0) {
        return scn__fail(ld, st, "step \"%s\" is listed twice", st->text);
      }
    }
    if (strcmp(st->text, "restart-cache") == 0 && i != 0) {
      return scn__fail(ld, st,
                       "step \"restart-cache\" can only come first: it is the restart case of "
                       "KB 3211279 (step 1)");
    }
    m->steps[m->n_steps++] = str_dup(st->text);
  }
  m->has_steps = true;
  return true;
}

static bool load_office(struct scn__ld *ld, const struct scn__node *n, struct scn_model *m) {
  static const char *const versions[] = {"0", "12", "14", "15", "16", NULL};
  static const unsigned values[] = {0, 12, 14, 15, 16};
  if (!scn__want(ld, n, SCN__SCALAR, "office")) {
    return false;
  }
  int i = scn__pick(n->text, versions, false);
  if (i < 0 || !n->plain) {
    return scn__fail(ld, n,
                     "office \"%s\" is not an Office version whose registry Outlook reads (12, "
                     "14, 15, 16; 0 for none)",
                     n->text);
  }
  m->has_office = true;
  m->office = values[i];
  return true;
}

static bool load_top(struct scn__ld *ld, const struct scn__node *root, struct scn_model *m) {
  static const char *const keys[] = {"name",  "summary", "base",     "office",
                                     "steps", "policy",  "settings", NULL};
  if (root->kind != SCN__MAP) {
    char tmp[64];
    return scn__fail(ld, root,
                     "a client model is a mapping (name, base, steps, policy, settings), "
                     "found %s",
                     scn__found(root, tmp, sizeof tmp));
  }
  const struct scn__node *name = NULL;
  if (!scn__check_keys(ld, root, "", keys) || !scn__req_scalar(ld, root, "", "name", &name) ||
      !load_name(ld, name, m)) {
    return false;
  }
  const struct scn__node *summary = scn__get(root, "summary");
  if (summary != NULL && !scn__opt_str(ld, root, "", "summary", &m->summary)) {
    return false;
  }
  const struct scn__node *base = scn__get(root, "base");
  if (base != NULL) {
    if (!scn__want(ld, base, SCN__SCALAR, "base")) {
      return false;
    }
    m->base = str_dup(base->text);
    m->base_mark = scn__mark(base);
  }
  const struct scn__node *office = scn__get(root, "office");
  if (office != NULL && !load_office(ld, office, m)) {
    return false;
  }
  const struct scn__node *steps = scn__get(root, "steps");
  if (steps != NULL && !load_steps(ld, steps, m)) {
    return false;
  }
  if (steps == NULL && base == NULL) {
    return scn__fail(ld, root, "a client model needs steps, or a base to take them from");
  }
  const struct scn__node *policy = scn__get(root, "policy");
  if (policy != NULL &&
      (!scn__want(ld, policy, SCN__MAP, "policy") ||
       !scn__load_settings(ld, policy, "policy", NULL, 1u << SCN_SETTING_POLICY,
                           "in a model file it goes under settings, not policy", &m->settings))) {
    return false;
  }
  const struct scn__node *settings = scn__get(root, "settings");
  unsigned others =
      (1u << SCN_SETTING_REGISTRY) | (1u << SCN_SETTING_MACHINE) | (1u << SCN_SETTING_USER);
  if (settings != NULL &&
      (!scn__want(ld, settings, SCN__MAP, "settings") ||
       !scn__load_settings(ld, settings, "settings", NULL, others,
                           "in a model file it goes under policy, not settings", &m->settings))) {
    return false;
  }
  return true;
}

enum scn_status scn_model_load(struct scn_model **out, const char *path, char *err,
                               size_t err_size) {
  *out = NULL;
  if (err_size > 0) {
    err[0] = 0;
  }
  struct buf text;
  char why[256];
  if (!scn__read_file(path, SCN__MAX_FILE_LEN, &text, why, sizeof why)) {
    (void) buf_fmt(err, err_size, "%s: %s", path, why);
    return SCN_EIO;
  }
  struct scn_model *m = xcalloc(1, sizeof *m);
  m->path = str_dup(path); /* the nodes, and so the marks, borrow this copy */
  struct scn__node *root = NULL;
  enum scn_status st = scn__yaml_parse(&root, m->path, buf_cstr(&text), text.len, err, err_size);
  buf_cleanup(&text);
  if (st == SCN_OK) {
    st = scn__check_nuls(root, err, err_size);
  }
  struct scn__ld ld = {.err = err, .err_size = err_size, .st = SCN_OK};
  if (st == SCN_OK && (root == NULL || root->kind == SCN__NULL)) {
    (void) buf_fmt(err, err_size,
                   "%s:1:1: the client model is empty (expected a mapping with name, steps, ...)",
                   path);
    st = SCN_ESCHEMA;
  } else if (st == SCN_OK && !load_top(&ld, root, m)) {
    st = ld.st != SCN_OK ? ld.st : SCN_ESCHEMA;
  }
  scn__node_free(root);
  if (st != SCN_OK) {
    scn_model_free(m);
    return st;
  }
  m->settings.model = str_dup(m->name);
  *out = m;
  return SCN_OK;
}

void scn_model_free(struct scn_model *m) {
  if (m == NULL) {
    return;
  }
  free(m->name);
  free(m->summary);
  free(m->base);
  for (size_t i = 0; i < m->n_steps; i++) {
    free(m->steps[i]);
  }
  free(m->steps);
  scn_client_cleanup(&m->settings);
  free(m->path);
  free(m);
}
