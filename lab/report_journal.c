/* lab/report_journal.c: what `autodisco report` prints of a journal — each transcript as `run`
 * prints it (prompts standing out), the findings (credential leaks, ...), the waiting time and
 * the notes — as text, JSON, or the HTML page. */
#include "lab/report.h"

#include "lab/lab.h"

#include <stdlib.h>
#include <string.h>

static const char *source_kind(const struct lab_journal *j, size_t i) {
  return j->inferred[i] ? "inferred from the lab's events" : "the model's own events";
}

void lab_journal_text(const struct lab_journal *j, FILE *out, bool color) {
  const char *bold = color ? "\033[1;33m" : "", *red = color ? "\033[1;31m" : "";
  const char *reset = color ? "\033[0m" : "";
  fprintf(out, "journal %s (%zu events)", j->path, j->n_events);
  if (j->lab != NULL && j->lab->scenario_name != NULL) {
    fprintf(out, ", scenario %s (%s)", j->lab->scenario_name,
            j->lab->scenario_path != NULL ? j->lab->scenario_path : "?");
  }
  fputc('\n', out);
  for (size_t i = 0; i < j->n_transcripts; i++) {
    const struct sim_transcript *t = j->transcripts[i];
    fprintf(out, "\n(%s)\n", source_kind(j, i));
    sim_transcript_text(t, out, color);
    struct buf p;
    buf_init(&p, 64 * 1024);
    lab_prompts_summary(&p, t);
    char wait[40];
    lab_format_ms(wait, sizeof wait, t->total_ms);
    fprintf(out, "%sprompts: %s%s\n", t->n_prompts > 0 ? bold : "",
            t->n_prompts > 0 ? buf_cstr(&p) : "none", t->n_prompts > 0 ? reset : "");
    fprintf(out, "waiting time: %s (%s)\n", wait, sim_clock_text(t->clock));
    buf_cleanup(&p);
  }
  if (j->n_findings > 0) {
    fputc('\n', out);
  }
  for (size_t i = 0; i < j->n_findings; i++) {
    const struct lab_finding *f = &j->findings[i];
    fprintf(out, "%s! FINDING %s%s%s: %s%s (line %u)\n", red, f->kind ? f->kind : "?",
            f->host ? " at " : "", f->host ? f->host : "", f->text, reset, f->line);
  }
  if (j->n_notes > 0) {
    fputc('\n', out);
  }
  for (size_t i = 0; i < j->n_notes; i++) {
    fprintf(out, "note: %s\n", j->notes[i]);
  }
}

char *lab_journal_json(const struct lab_journal *j) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_str(&doc, "journal", j->path);
  jnl_uint(&doc, "events", j->n_events);
  if (j->lab != NULL) {
    jnl_obj_begin(&doc, "scenario");
    jnl_str(&doc, "name", j->lab->scenario_name);
    jnl_str(&doc, "path", j->lab->scenario_path);
    jnl_str(&doc, "domain", j->lab->domain);
    jnl_str(&doc, "email", j->lab->email);
    jnl_obj_end(&doc);
  } else {
    jnl_null(&doc, "scenario");
  }
  jnl_arr_begin(&doc, "clients");
  for (size_t i = 0; i < j->n_transcripts; i++) {
    jnl_obj_begin(&doc, NULL);
    jnl_str(&doc, "client", j->transcripts[i]->client);
    jnl_bool(&doc, "inferred", j->inferred[i]);
    jnl_str(&doc, "clock", j->transcripts[i]->clock == SIM_CLOCK_JOURNAL ? "wall" : "lab");
    char *t = sim_transcript_json(j->transcripts[i]);
    jnl_raw(&doc, "transcript", t);
    free(t);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  jnl_arr_begin(&doc, "findings");
  for (size_t i = 0; i < j->n_findings; i++) {
    jnl_obj_begin(&doc, NULL);
    jnl_str(&doc, "kind", j->findings[i].kind);
    jnl_str(&doc, "host", j->findings[i].host);
    jnl_str(&doc, "text", j->findings[i].text);
    jnl_uint(&doc, "line", j->findings[i].line);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  jnl_arr_begin(&doc, "notes");
  for (size_t i = 0; i < j->n_notes; i++) {
    jnl_str(&doc, NULL, j->notes[i]);
  }
  jnl_arr_end(&doc);
  return jnl_doc_take(&doc);
}

void lab_journal_html(const struct lab_journal *j, FILE *out) {
  struct lab_page_section *sections = xcalloc(j->n_transcripts + 1, sizeof *sections);
  for (size_t i = 0; i < j->n_transcripts; i++) {
    sections[i].t = j->transcripts[i];
  }
  char title[512], source[4096];
  const char *name = j->lab != NULL && j->lab->scenario_name != NULL ? j->lab->scenario_name : NULL;
  const char *client = j->n_transcripts == 1 ? j->transcripts[0]->client : NULL;
  buf_fmt(title, sizeof title, "%s%s%s", name != NULL ? name : "journal",
          client != NULL ? " — " : "", client != NULL ? client : "");
  buf_fmt(source, sizeof source, "journal %s", j->path);
  struct lab_page page = {
      .title = title,
      .source = source,
      .lab = j->lab,
      .sections = sections,
      .n_sections = j->n_transcripts,
      .findings = j->findings,
      .n_findings = j->n_findings,
      .notes = j->notes,
      .n_notes = j->n_notes,
  };
  lab_page_html(out, &page);
  free(sections);
}
