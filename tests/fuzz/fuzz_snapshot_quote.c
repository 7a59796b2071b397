/* tests/fuzz/fuzz_snapshot_quote.c: libFuzzer target for the snapshot's YAML text (lab/
 * snapshot_map.c), which carries whatever a real server or certificate said into a scenario.
 *
 * Any bytes, quoted as a value, must read back through the scenario loader as exactly those
 * bytes (valid UTF-8 without NUL) or load all the same (a byte that is not UTF-8 becomes
 * U+FFFD; a NUL the loader refuses with an error, never a crash); written as a comment, they
 * must stay a comment: the document around it loads unchanged. Seeds:
 * tests/fuzz/corpus/snapshot_quote/. */
#include "lab/snapshot.h"
#include "scenario/scn.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* utf8 says whether the bytes are UTF-8 the quoter keeps as they are. */
static bool kept_as_is(const uint8_t *data, size_t size) {
  struct buf b;
  buf_init(&b, size * 12 + 16);
  bool ok =
      lab_yaml_quote(&b, (const char *) data, size) && strstr(buf_cstr(&b), "\\uFFFD") == NULL;
  buf_cleanup(&b);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) {
    return 0;
  }
  bool nul = memchr(data, 0, size) != NULL;
  struct buf doc;
  buf_init(&doc, size * 12 + 256);
  buf_append_str(&doc, "name: f\ndescription: ");
  if (!lab_yaml_quote(&doc, (const char *) data, size)) {
    abort();
  }
  buf_append_str(&doc, "\ndomain: contoso.com\n");
  struct scn *s = NULL;
  char err[512];
  enum scn_status st = scn_load_string(&s, "f.yaml", buf_cstr(&doc), doc.len, err, sizeof err);
  if (size > 0 && !nul && st != SCN_OK) {
    abort(); /* a quoted value must load */
  }
  if (st == SCN_OK && kept_as_is(data, size) &&
      (strlen(s->description) != size || memcmp(s->description, data, size) != 0)) {
    abort(); /* and read back as it was */
  }
  scn_free(s);

  buf_reset(&doc);
  buf_append_str(&doc, "name: f\n");
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0; /* a comment is a C string: a NUL ends it */
  if (!lab_yaml_comment(&doc, 2, text)) {
    abort();
  }
  free(text);
  buf_append_str(&doc, "description: d\ndomain: contoso.com\n");
  s = NULL;
  st = scn_load_string(&s, "f.yaml", buf_cstr(&doc), doc.len, err, sizeof err);
  if (st != SCN_OK || strcmp(s->description, "d") != 0) {
    abort(); /* the comment stayed a comment */
  }
  scn_free(s);
  buf_cleanup(&doc);
  return 0;
}
