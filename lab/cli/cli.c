/* lab/cli/cli.c: what every command shares — the printer for people (errors always, notes
 * unless --quiet) and opening the lab CA the way --ca-dir says. The commands call into this
 * file; it calls none of them. */
#include "lab/cli/cli.h"

#include "common/buf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("autodisco: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void cli_note(const struct cli *c, const char *fmt, ...) {
  if (c->quiet) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

struct ca *cli_open_ca(const struct cli *c) {
  char dir[4096];
  if (c->ca_dir != NULL) {
    buf_fmt(dir, sizeof dir, "%s", c->ca_dir);
  } else if (!ca_default_dir(dir, sizeof dir)) {
    cli_error("cannot find a directory for the lab CA: set AUTODISCO_CA_DIR or use --ca-dir");
    return NULL;
  }
  struct ca *ca = NULL;
  enum ca_status st = ca_open(&ca, dir, true);
  if (st != CA_OK) {
    cli_error("lab CA in %s: %s: %s", dir, ca_strerror(st), ca != NULL ? ca_detail(ca) : "");
    ca_free(ca);
    return NULL;
  }
  return ca;
}

bool cli_set(struct cli_walk *w, const char *assignment) {
  char err[4096];
  if (scn_client_set(&w->settings, assignment, err, sizeof err) != SCN_OK) {
    cli_error("--set %s", err);
    return false;
  }
  return true;
}

bool cli_client_file(struct cli_walk *w, const char *path) {
  char err[2048];
  struct sim_model *m = sim_model_load(path, err, sizeof err);
  if (m == NULL) {
    cli_error("%s", err);
    return false;
  }
  for (size_t i = 0; i < w->n_models; i++) {
    if (strcmp(sim_model_name(w->models[i]), sim_model_name(m)) == 0) {
      cli_error("--client-file %s: a model named %s was loaded already", path, sim_model_name(m));
      sim_model_free(m);
      return false;
    }
  }
  w->models = xrealloc_array(w->models, w->n_models + 1, sizeof *w->models);
  w->models[w->n_models++] = m;
  return true;
}

const struct scn_client *cli_walk_settings(const struct cli_walk *w) {
  return w->settings.given != 0 ? &w->settings : NULL;
}

void cli_walk_cleanup(struct cli_walk *w) {
  scn_client_cleanup(&w->settings);
  for (size_t i = 0; i < w->n_models; i++) {
    sim_model_free(w->models[i]);
  }
  free(w->models);
  memset(w, 0, sizeof *w);
}
