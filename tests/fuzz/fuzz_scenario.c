/* tests/fuzz/fuzz_scenario.c: libFuzzer target for the scenario loader (scenario/).
 *
 * Any bytes must load or fail with one terminated line; nothing may crash, hang or leak; a model
 * that loads must lint. Seeds: tests/fuzz/corpus/scenario/ (small founding-story scenarios and
 * one per v2 feature). The input is loaded as if it sat in a private folder that holds base.yaml
 * and contoso.zone, so `extends: base.yaml` and `zone_file: contoso.zone` reach the merge and the
 * zone reader. */
#include "scenario/scn.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

static char dir[] = "/tmp/fuzz-scenario-XXXXXX";
static char input_path[sizeof dir + 16] = "fuzz.yaml";

static const char base_yaml[] =
    "name: base\ndescription: the base fuzzed scenarios extend\ndomain: contoso.com\n"
    "dns:\n  records:\n    - { name: contoso.com, type: A, host: www }\n"
    "    - { name: www.contoso.com, type: CNAME, target: contoso.com }\n"
    "hosts:\n  www:\n    https:\n      certificate: { profile: expired }\n"
    "      routes: [ { path: /, status: 200, html: hi } ]\n"
    "clients: [outlook-2016-msi]\nexpect:\n  outlook-2016-msi: { outcome: failure }\n";
static const char zone[] = "@ IN A 127.0.0.5\nmail IN MX 10 @\nwww IN CNAME @\n"
                           "_autodiscover._tcp IN SRV 0 0 443 mail\n@ IN TXT \"a\" \"b\"\n";

static void write_file(const char *name, const char *text) {
  char path[sizeof dir + 32];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

static void remove_dir(void) {
  char path[sizeof dir + 32];
  snprintf(path, sizeof path, "%s/base.yaml", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/contoso.zone", dir);
  unlink(path);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  if (mkdtemp(dir) == NULL) {
    return 0; /* inputs then load from the working directory, where the files are missing */
  }
  write_file("base.yaml", base_yaml);
  write_file("contoso.zone", zone);
  snprintf(input_path, sizeof input_path, "%s/fuzz.yaml", dir);
  atexit(remove_dir);
  return 0;
}

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
  enum scn_status st = scn_load_string(&s, input_path, (const char *) data, size, err, sizeof err);
  if (st == SCN_OK) {
    /* walk what the other modules read, so a bad pointer in the model shows up here */
    size_t total = strlen(s->name) + strlen(s->domain) + strlen(s->email);
    for (size_t i = 0; i < s->n_hosts; i++) {
      total += strlen(s->hosts[i].id) + s->hosts[i].n_names;
      if (scn_host_find(s, s->hosts[i].id) == NULL) {
        __builtin_trap();
      }
      total += strlen(ca_profile_name(s->hosts[i].https.cert.profile));
    }
    for (size_t i = 0; i < s->n_records; i++) {
      total += strlen(s->records[i].name) + strlen(s->records[i].mark.file);
    }
    for (size_t i = 0; i < s->n_hosts; i++) {
      const struct scn_listener *l = &s->hosts[i].https;
      for (size_t j = 0; j < l->n_routes; j++) {
        const struct scn_route *r = &l->routes[j];
        total += strlen(r->path) + strlen(r->mark.file) + r->body_len + r->n_headers;
        if (r->body != NULL && r->body[r->body_len] != 0) {
          __builtin_trap(); /* a body is NUL-terminated after body_len bytes */
        }
      }
    }
    char warnings[256];
    size_t n_warnings = scn_lint(s, warnings, sizeof warnings);
    if (memchr(warnings, 0, sizeof warnings) == NULL || (n_warnings == 0 && warnings[0] != 0)) {
      __builtin_trap();
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
