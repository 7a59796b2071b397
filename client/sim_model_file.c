/* client/sim_model_file.c: a user's own model (--client-file) — the file as scenario/ reads it
 * (scn_model_load) turned into a model the walk takes like a built-in one: the steps it lists
 * (or its base's), the base's settings (or the plain protocol's) with the file's policy and
 * settings on top. */
#include "client/internal.h"
#include "client/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail_at(char *err, size_t err_size, const struct scn_mark *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail_at(char *err, size_t err_size, const struct scn_mark *at, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  buf_fmt(err, err_size, "%s:%d:%d: %s", at->file, at->line, at->col, msg);
  return false;
}

static void builtin_names(char *out, size_t out_size) {
  struct buf b;
  buf_init(&b, 1024);
  for (size_t i = 0; sim_model_at(i) != NULL; i++) {
    buf_appendf(&b, "%s%s", i > 0 ? ", " : "", sim_model_name(sim_model_at(i)));
  }
  buf_fmt(out, out_size, "%s", buf_cstr(&b));
  buf_cleanup(&b);
}

static bool step_of(const char *name, enum sim_step_kind *out) {
  return sim_step_kind_parse(name, out) && *out != SIM_STEP_REDIRECT;
}

struct sim_model *sim_model_load(const char *path, char *err, size_t err_size) {
  struct scn_model *f = NULL;
  if (scn_model_load(&f, path, err, err_size) != SCN_OK) {
    return NULL;
  }
  struct sim_model *m = NULL;
  const struct sim_model *base = sim_model_named("mso-xdscli"); /* the plain protocol's */
  char names[512];
  builtin_names(names, sizeof names);
  if (sim_model_named(f->name) != NULL) {
    fail_at(err, err_size, &f->name_mark,
            "name \"%s\" is a built-in model's: give yours another (built in: %s)", f->name, names);
    goto out;
  }
  if (f->base != NULL) {
    base = sim_model_named(f->base);
    if (base == NULL) {
      fail_at(err, err_size, &f->base_mark, "base \"%s\" is not a built-in model (%s)", f->base,
              names);
      goto out;
    }
  }
  m = xcalloc(1, sizeof *m);
  m->owned = true;
  m->name = str_dup(f->name);
  if (f->summary != NULL) {
    m->summary = str_dup(f->summary);
  } else {
    struct buf b;
    buf_init(&b, 4096);
    buf_appendf(&b, "a user's model (%s)%s%s", path, f->base != NULL ? ", based on " : "",
                f->base != NULL ? f->base : "");
    m->summary = buf_take(&b);
  }
  m->office = f->has_office ? f->office : (f->base != NULL ? base->office : 0);
  if (f->has_steps) {
    for (size_t i = 0; i < f->n_steps; i++) {
      enum sim_step_kind k;
      if (!step_of(f->steps[i], &k)) { /* the loader checked the names: our mistake */
        abort();
      }
      m->steps[m->n_steps++] = k;
    }
  } else {
    memcpy(m->steps, base->steps, sizeof m->steps);
    m->n_steps = base->n_steps;
  }
  scn_client_copy(&m->defaults, &base->defaults);
  scn_client_overlay(&m->defaults, &f->settings);
  m->defaults.given = 0;
  free(m->defaults.model);
  m->defaults.model = str_dup(f->name);
out:
  scn_model_free(f);
  return m;
}

void sim_model_free(struct sim_model *m) {
  if (m == NULL || !m->owned) {
    return;
  }
  free((char *) m->name);
  free((char *) m->summary);
  free((char *) m->product);
  scn_client_cleanup(&m->defaults);
  free(m);
}
