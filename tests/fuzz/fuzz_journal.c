/* tests/fuzz/fuzz_journal.c: libFuzzer target for the journal reader (lab/journal_*.c).
 *
 * Any bytes must read into transcripts or fail with one terminated "file:line: ..." line;
 * nothing may crash, hang or leak. A journal that reads is also turned into its text, JSON and
 * HTML page, which walk every transcript field. Seeds: tests/fuzz/corpus/journal/ (a serve
 * journal of each kind the reports handle, a run journal, lab.start variants). */
#include "lab/report.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libfyaml 0.7.12 leaks in fy_atom_format_text on some quoted scalars (see fuzz_scenario.c);
 * the reader's own allocations are still checked. */
const char *__lsan_default_suppressions(void) {
  return "leak:libfyaml.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct lab_journal *j = NULL;
  char err[512];
  static const struct lab_journal_options opts[] = {{0}, {.client = "outlook-2016-msi"}};
  const struct lab_journal_options *opt = &opts[size % 2];
  if (lab_journal_read_string(&j, "fuzz.jsonl", (const char *) data, size, opt, err, sizeof err) !=
      0) {
    if (memchr(err, 0, sizeof err) == NULL || strchr(err, '\n') != NULL ||
        strncmp(err, "fuzz.jsonl", 10) != 0) {
      __builtin_trap(); /* one terminated line naming the file */
    }
    return 0;
  }
  if (j->n_transcripts == 0) {
    __builtin_trap(); /* a journal that reads has a walk, if an empty one */
  }
  FILE *out = fopen("/dev/null", "w");
  if (out != NULL) {
    lab_journal_text(j, out, true);
    lab_journal_html(j, out);
    fclose(out);
  }
  char *json = lab_journal_json(j);
  free(json);
  for (size_t i = 0; i < j->n_transcripts; i++) {
    const struct sim_transcript *t = j->transcripts[i];
    for (size_t k = 0; k < t->n_prompts; k++) {
      if (t->prompts[k].step >= t->n_steps && j->inferred[i]) {
        __builtin_trap(); /* an inferred prompt belongs to a step */
      }
    }
  }
  lab_journal_free(j);
  return 0;
}
