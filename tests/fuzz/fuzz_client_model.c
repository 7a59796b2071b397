/* tests/fuzz/fuzz_client_model.c: libFuzzer target for a user's own client model file
 * (--client-file: scenario/scn_model.c read, client/sim_model_file.c built) and the --set
 * parser (scn_client_set) the same settings go through.
 *
 * Any bytes must load or fail with one terminated line; nothing may crash, hang or leak; a
 * model that loads must give back its steps and every setting as text. Seeds:
 * tests/fuzz/corpus/client_model/. The input's first line is also tried as a --set argument. */
#include "client/sim.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

static char dir[] = "/tmp/fuzz-client-model-XXXXXX";
static char input_path[sizeof dir + 16] = "fuzz.yaml";

static void remove_dir(void) {
  unlink(input_path);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  if (mkdtemp(dir) != NULL) {
    snprintf(input_path, sizeof input_path, "%s/fuzz.yaml", dir);
    atexit(remove_dir);
  }
  return 0;
}

/* libfyaml 0.7.12's known leak (see fuzz_scenario.c). */
const char *__lsan_default_suppressions(void) {
  return "leak:libfyaml.so\n";
}

static void one_line(const char *err, size_t size) {
  if (memchr(err, 0, size) == NULL || strchr(err, '\n') != NULL) {
    __builtin_trap(); /* a message is one terminated line */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(input_path, "wb");
  if (f == NULL) {
    return 0;
  }
  fwrite(data, 1, size, f);
  fclose(f);
  char err[1024];
  struct sim_model *m = sim_model_load(input_path, err, sizeof err);
  if (m != NULL) {
    char steps[512];
    sim_model_steps(m, steps, sizeof steps);
    size_t total = strlen(sim_model_name(m)) + strlen(sim_model_summary(m)) + strlen(steps);
    const struct scn_client *d = sim_model_defaults(m);
    for (size_t i = 0; scn_setting_at(i) != NULL; i++) {
      char *text = scn_client_format(d, scn_setting_at(i));
      total += strlen(text);
      free(text);
    }
    if (total == 0) {
      __builtin_trap();
    }
    sim_model_free(m);
  } else {
    one_line(err, sizeof err);
  }
  /* the first line as a --set argument */
  const uint8_t *nl = memchr(data, '\n', size);
  size_t len = nl != NULL ? (size_t) (nl - data) : size;
  char *line = malloc(len + 1);
  memcpy(line, data, len);
  line[len] = 0;
  if (strlen(line) == len) {
    struct scn_client c = {0};
    if (scn_client_set(&c, line, err, sizeof err) != SCN_OK) {
      one_line(err, sizeof err);
    }
    scn_client_cleanup(&c);
  }
  free(line);
  return 0;
}
