/* tests/fuzz/fuzz_zone_file.c: libFuzzer target for the zone-file reader (scenario/,
 * dns.zone_file).
 *
 * Any bytes, as the text of a zone file that a contoso.com scenario names, go through
 * scn__load_zone (libzscanner, then the conversion to scenario records). Nothing may crash, hang
 * or leak; a failure is one terminated line "fuzz.zone:LINE: message"; on success every record
 * is one of the supported types with the fields the DNS server reads, marked as coming from the
 * zone file. Like the loader, the text is handed over NUL-terminated. Seeds:
 * tests/fuzz/corpus/zone_file/ (tests/data/zones/ and variations: $ORIGIN, $TTL, a multi-line
 * SOA, TXT escapes, SRV, AAAA, wildcards, bad lines). The loader's checks after the reader (a
 * CNAME's name has no other record, names inside dns.zones) are reached by fuzz_scenario. */
#include "scenario/internal.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char file[] = "fuzz.zone";

/* check_record traps unless `r` has what the lab DNS needs for its type. */
static void check_record(const struct scn_record *r) {
  uint8_t addr[16];
  if (r->name == NULL || scn__dns_name_problem(r->name, true) != NULL || !r->from_zone_file ||
      r->mark.file != file || r->mark.line < 1 || r->ttl > 2147483647u) {
    __builtin_trap();
  }
  switch (r->type) {
    case 1:
    case 28:
      if (r->address == NULL ||
          inet_pton(r->type == 1 ? AF_INET : AF_INET6, r->address, addr) != 1) {
        __builtin_trap();
      }
      break;
    case 2:
    case 5:
    case 15:
    case 33:
      if (r->target == NULL || scn__dns_name_problem(r->target, false) != NULL) {
        __builtin_trap();
      }
      break;
    case 16:
      if (r->text == NULL) {
        __builtin_trap();
      }
      break;
    default: __builtin_trap(); /* SOA is skipped, every other type refused */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  struct scn *s = calloc(1, sizeof *s);
  if (text == NULL || s == NULL) {
    free(text);
    free(s);
    return 0;
  }
  memcpy(text, data, size);
  text[size] = 0;
  char err[512];
  err[0] = 0;
  enum scn_status st = scn__load_zone(s, file, text, size, "contoso.com", err, sizeof err);
  if (st == SCN_OK) {
    if (s->n_records > 500) {
      __builtin_trap();
    }
    for (size_t i = 0; i < s->n_records; i++) {
      check_record(&s->records[i]);
    }
  } else if (st != SCN_ESCHEMA || memchr(err, 0, sizeof err) == NULL || strchr(err, '\n') != NULL ||
             strncmp(err, "fuzz.zone:", 10) != 0) {
    __builtin_trap(); /* the message is one terminated line naming the file */
  }
  scn_free(s);
  free(text);
  return 0;
}
