/* scenario/scn_zone.c: dns.zone_file — a BIND zone file's records as scenario records.
 *
 * libzscanner parses the file (directives, relative names, TTLs, rdata); libknot turns the wire
 * names back into text. SOA is skipped (the lab makes its own); A, AAAA, CNAME, NS, MX, TXT and
 * SRV become struct scn_record with from_zone_file set; anything else is an error naming the
 * zone file and line. */
#include "common/buf.h"
#include "scenario/internal.h"

#include <arpa/inet.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libzscanner/scanner.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  MAX_ZONE_RECORDS = 500, /* as for dns.records */
  DEFAULT_TTL = 300,
};

struct zl {
  struct scn *s;
  const char *file;
  char *err;
  size_t err_size;
};

static enum scn_status zfail(struct zl *z, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum scn_status zfail(struct zl *z, uint64_t line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  scn__vmessage(z->err, z->err_size, z->file, (unsigned long long) line, 0, NULL, fmt, ap);
  va_end(ap);
  return SCN_ESCHEMA;
}

/* dname_text turns the wire name at p (within end) into a lowercase name without the trailing
 * dot; NULL when it is not a well-formed name. */
static char *dname_text(const uint8_t *p, const uint8_t *end) {
  if (knot_dname_wire_check(p, end, NULL) <= 0) {
    return NULL;
  }
  char *t = knot_dname_to_str(NULL, p, 0);
  if (t == NULL) {
    return NULL;
  }
  size_t len = strlen(t);
  if (len > 1 && t[len - 1] == '.') {
    t[len - 1] = 0;
  }
  char *out = str_lower(str_dup(t));
  free(t);
  return out;
}

/* add_record converts the scanner's current record. */
static enum scn_status add_record(struct zl *z, zs_scanner_t *sc, uint64_t line) {
  struct scn *s = z->s;
  char tname[32];
  if (knot_rrtype_to_string(sc->r_type, tname, sizeof tname) < 0) {
    (void) buf_fmt(tname, sizeof tname, "TYPE%u", (unsigned) sc->r_type);
  }
  if (sc->r_class != 1) {
    return zfail(z, line, "only class IN records are supported");
  }
  switch (sc->r_type) {
    case 6: return SCN_OK; /* SOA: the lab synthesizes its own */
    case 1:
    case 28:
    case 5:
    case 2:
    case 15:
    case 16:
    case 33: break;
    default:
      return zfail(z, line,
                   "record type %s is not supported (A, AAAA, CNAME, NS, MX, TXT, SRV; SOA "
                   "is ignored)",
                   tname);
  }
  if (s->n_records >= MAX_ZONE_RECORDS) {
    return zfail(z, line, "more than %d records", MAX_ZONE_RECORDS);
  }
  struct scn_record r = {.type = sc->r_type, .ttl = sc->r_ttl, .from_zone_file = true};
  r.mark = (struct scn_mark){z->file, line > INT32_MAX ? INT32_MAX : (int) line, 1};
  enum scn_status st = SCN_OK;
  const uint8_t *d = sc->r_data;
  const uint8_t *end = d + sc->r_data_length;
  r.name = dname_text(sc->r_owner, sc->r_owner + sc->r_owner_length);
  const char *why =
      r.name == NULL ? "it is not a domain name" : scn__dns_name_problem(r.name, true);
  if (why != NULL) {
    st = zfail(z, line, "owner name \"%s\" is not valid: %s", r.name != NULL ? r.name : "?", why);
    goto out;
  }
  if (r.ttl > 2147483647u) {
    st = zfail(z, line, "TTL %u is larger than 2147483647", (unsigned) r.ttl);
    goto out;
  }
  char addr[INET6_ADDRSTRLEN];
  const uint8_t *target = NULL;
  switch (r.type) {
    case 1:
    case 28:
      if (inet_ntop(r.type == 1 ? AF_INET : AF_INET6, d, addr, sizeof addr) == NULL ||
          sc->r_data_length != (r.type == 1 ? 4u : 16u)) {
        st = zfail(z, line, "bad %s address", tname);
        goto out;
      }
      r.address = str_dup(addr);
      break;
    case 5:
    case 2: target = d; break;
    case 15:
      if (sc->r_data_length < 3) {
        st = zfail(z, line, "MX record too short");
        goto out;
      }
      r.priority = (uint16_t) ((d[0] << 8) | d[1]);
      target = d + 2;
      break;
    case 33:
      if (sc->r_data_length < 7) {
        st = zfail(z, line, "SRV record too short");
        goto out;
      }
      r.priority = (uint16_t) ((d[0] << 8) | d[1]);
      r.weight = (uint16_t) ((d[2] << 8) | d[3]);
      r.port = (uint16_t) ((d[4] << 8) | d[5]);
      target = d + 6;
      break;
    case 16: {
      /* character-strings, each length-prefixed (RFC 1035 3.3.14): joined without a separator,
       * as SPF and similar readers join them (RFC 7208 3.3) */
      struct buf b;
      buf_init(&b, 65536);
      for (const uint8_t *p = d; p < end;) {
        size_t n = *p++;
        if (n > (size_t) (end - p) || memchr(p, 0, n) != NULL) {
          buf_cleanup(&b);
          st = zfail(z, line, "TXT data holds a NUL byte or is cut short");
          goto out;
        }
        (void) buf_append(&b, (struct slice){p, n});
        p += n;
      }
      r.text = b.len > 0 ? buf_take(&b) : str_dup("");
      buf_cleanup(&b);
      break;
    }
    default: break;
  }
  if (target != NULL) {
    r.target = dname_text(target, end);
    why = r.target == NULL ? "it is not a domain name" : scn__dns_name_problem(r.target, false);
    if (why != NULL) {
      st = zfail(z, line, "target \"%s\" is not valid: %s", r.target != NULL ? r.target : "?", why);
      goto out;
    }
  }
  s->records = xrealloc_array(s->records, s->n_records + 1, sizeof s->records[0]);
  s->records[s->n_records++] = r;
  return SCN_OK;
out:
  free(r.name);
  free(r.address);
  free(r.target);
  free(r.text);
  return st;
}

enum scn_status scn__load_zone(struct scn *s, const char *file, const char *text, size_t len,
                               const char *origin, char *err, size_t err_size) {
  struct zl z = {.s = s, .file = file, .err = err, .err_size = err_size};
  zs_scanner_t *sc = xcalloc(1, sizeof *sc);
  enum scn_status st = SCN_OK;
  /* libzscanner refuses CRLF line ends; a zone file written on Windows is still a zone file. */
  struct buf lf;
  buf_init(&lf, len + 1);
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
      continue;
    }
    buf_append(&lf, (struct slice){(const uint8_t *) text + i, 1});
  }
  text = lf.len > 0 ? buf_cstr(&lf) : "";
  len = lf.len;
  if (zs_init(sc, origin, 1, DEFAULT_TTL) != 0) {
    st = zfail(&z, 1, "the zone origin \"%s\" was refused", origin);
    goto out;
  }
  if (zs_set_input_string(sc, text, len) != 0) {
    st = zfail(&z, 1, "%s", zs_strerror(sc->error.code));
    goto out;
  }
  for (;;) {
    if (zs_parse_record(sc) != 0) {
      st = zfail(&z, sc->line_counter, "%s", zs_strerror(sc->error.code));
      goto out;
    }
    if (sc->state == ZS_STATE_DATA) {
      /* libzscanner's counter is the line the record ended on (a record spread over lines
       * with parentheses is reported at its last line) */
      uint64_t line = sc->line_counter;
      st = add_record(&z, sc, line);
      if (st != SCN_OK) {
        goto out;
      }
    } else if (sc->state == ZS_STATE_ERROR) {
      st = zfail(&z, sc->line_counter, "%s", zs_strerror(sc->error.code));
      goto out;
    } else if (sc->state == ZS_STATE_INCLUDE) {
      st = zfail(&z, sc->line_counter, "$INCLUDE is not supported in a scenario's zone file");
      goto out;
    } else {
      break; /* ZS_STATE_EOF or ZS_STATE_STOP */
    }
  }
out:
  zs_deinit(sc);
  free(sc);
  buf_cleanup(&lf);
  return st;
}
