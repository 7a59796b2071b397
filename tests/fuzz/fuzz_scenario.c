/* tests/fuzz/fuzz_scenario.c: libFuzzer target for the scenario loader (lab/model).
 *
 * Any bytes must load or fail with one terminated line; nothing may crash, hang or leak. Seeds:
 * tests/fuzz/corpus/scenario/ (small founding-story scenarios). */
#include "lab/model/scn.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libfyaml 0.7.12 (Debian 12) leaks the chunk array of fy_atom_format_text when a quoted scalar
 * has many escaped quotes, as in { a: '''''''''''''' }: upstream pantoniou/libfyaml#233, fixed
 * after 0.7.12. Leaks of memory libfyaml allocated are therefore not reported here; the loader's
 * own allocations still are, and the ASan unit tests check that every libfyaml object is released.
 * (Matching the frame fy_atom_format_text instead would need the slow unwinder: libfyaml has no
 * frame pointers, and fuzzing would run ten times slower.) */
const char *__lsan_default_suppressions(void) {
  return "leak:libfyaml.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct scn *s = NULL;
  char err[512];
  enum scn_status st = scn_load_string(&s, "fuzz.yaml", (const char *) data, size, err, sizeof err);
  if (st == SCN_OK) {
    /* walk what the other modules read, so a bad pointer in the model shows up here */
    size_t total = strlen(s->name) + strlen(s->domain) + strlen(s->email);
    for (size_t i = 0; i < s->n_hosts; i++) {
      total += strlen(s->hosts[i].id) + s->hosts[i].n_names;
      if (scn_host_find(s, s->hosts[i].id) == NULL) {
        __builtin_trap();
      }
      total += strlen(scn_cert_profile_name(s->hosts[i].https.cert.profile));
    }
    for (size_t i = 0; i < s->n_records; i++) {
      total += strlen(s->records[i].name);
    }
    if (total == 0) {
      __builtin_trap();
    }
  } else if (memchr(err, 0, sizeof err) == NULL || strchr(err, '\n') != NULL) {
    __builtin_trap(); /* the message is one terminated line */
  }
  scn_free(s);
  return 0;
}
