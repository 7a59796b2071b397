/* lab/report_run.c: what `run` prints — each walk's transcript, its expectations and the
 * verdict, as text for people or as one JSON document (docs/transcript.md). */
#include "lab/lab.h"

#include <stdlib.h>
#include <string.h>

size_t lab_results_failing(const struct lab_result *r, size_t n) {
  size_t n_failing = 0;
  for (size_t i = 0; i < n; i++) {
    n_failing += r[i].n_failures > 0;
  }
  return n_failing;
}

void lab_run_text(FILE *out, const struct scn *s, const struct lab_result *r, size_t n,
                  bool color) {
  size_t n_failing = lab_results_failing(r, n);
  fprintf(out, "scenario %s (%s)\n", s->name, s->path);
  for (size_t i = 0; i < n; i++) {
    fputc('\n', out);
    sim_transcript_text(r[i].transcript, out, color);
    if (r[i].expect == NULL) {
      fputs("expectations: none given\n", out);
    } else if (r[i].n_failures == 0) {
      fputs("expectations: hold\n", out);
    } else {
      fprintf(out, "expectations: %s%zu failed%s\n", color ? "\033[1;31m" : "", r[i].n_failures,
              color ? "\033[0m" : "");
      fputs(buf_cstr(&r[i].failures), out);
    }
  }
  fprintf(out, "\nverdict: %s (%zu of %zu clients hold)\n",
          n_failing == 0 ? "expectations hold" : "expectations fail", n - n_failing, n);
}

void lab_run_json(FILE *out, const struct scn *s, const struct lab_result *r, size_t n) {
  size_t n_failing = lab_results_failing(r, n);
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_obj_begin(&doc, "scenario");
  jnl_str(&doc, "name", s->name);
  jnl_str(&doc, "path", s->path);
  jnl_str(&doc, "description", s->description);
  jnl_str(&doc, "domain", s->domain);
  jnl_str(&doc, "email", s->email);
  jnl_obj_end(&doc);
  jnl_arr_begin(&doc, "clients");
  for (size_t i = 0; i < n; i++) {
    jnl_obj_begin(&doc, NULL);
    jnl_str(&doc, "client", r[i].client->model);
    char *t = sim_transcript_json(r[i].transcript);
    jnl_raw(&doc, "transcript", t);
    free(t);
    jnl_obj_begin(&doc, "expectations");
    jnl_bool(&doc, "given", r[i].expect != NULL);
    jnl_bool(&doc, "hold", r[i].n_failures == 0);
    jnl_arr_begin(&doc, "failures");
    const char *line = buf_cstr(&r[i].failures);
    while (*line != 0) {
      const char *nl = strchr(line, '\n');
      size_t len = nl != NULL ? (size_t) (nl - line) : strlen(line);
      jnl_strn(&doc, NULL, (struct slice){(const uint8_t *) line, len});
      line += len + (nl != NULL ? 1 : 0);
    }
    jnl_arr_end(&doc);
    jnl_obj_end(&doc);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  jnl_bool(&doc, "hold", n_failing == 0);
  char *text = jnl_doc_take(&doc);
  fputs(text, out);
  fputc('\n', out);
  free(text);
}
