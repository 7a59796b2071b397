/* scenario/scn_bytes.c: bytes a scenario writes as text — hex (a route's body_hex, a record's
 * rdata_hex, a DNS behaviour's answer_hex) or base64 (body_base64) — for the malformed cases the
 * lab must serve exactly: UTF-16 with a byte order mark, invalid UTF-8, a record of the wrong
 * shape. White space between bytes is ignored, so long values fold over several lines. */
#include "common/buf.h"
#include "scenario/internal.h"

#include <openssl/base64.h>
#include <stdlib.h>
#include <string.h>

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool scn__hex_bytes(struct scn__ld *ld, const struct scn__node *n, const char *what, size_t max,
                    uint8_t **out, size_t *out_len) {
  uint8_t *bytes = xcalloc(n->len / 2 + 1, 1);
  size_t len = 0;
  for (size_t i = 0; i < n->len;) {
    if (is_space(n->text[i])) {
      i++;
      continue;
    }
    int hi = hex_digit(n->text[i]);
    int lo = i + 1 < n->len ? hex_digit(n->text[i + 1]) : -1;
    if (hi < 0 || lo < 0) {
      free(bytes);
      return scn__fail(ld, n,
                       "%s is not hex: two hex digits per byte, white space between bytes "
                       "(\"ff fe 3c 00\"); stopped at character %zu",
                       what, i + 1);
    }
    bytes[len++] = (uint8_t) (hi << 4 | lo);
    i += 2;
  }
  if (len > max) {
    free(bytes);
    return scn__fail(ld, n, "%s holds %zu bytes, more than the %zu it may", what, len, max);
  }
  *out = bytes;
  *out_len = len;
  return true;
}

bool scn__base64_bytes(struct scn__ld *ld, const struct scn__node *n, const char *what, size_t max,
                       uint8_t **out, size_t *out_len) {
  char *text = xcalloc(n->len + 1, 1);
  size_t len = 0;
  for (size_t i = 0; i < n->len; i++) {
    if (!is_space(n->text[i])) {
      text[len++] = n->text[i];
    }
  }
  size_t cap = 0;
  uint8_t *bytes = NULL;
  bool ok = EVP_DecodedLength(&cap, len);
  if (ok) {
    bytes = xcalloc(cap + 1, 1);
    ok = EVP_DecodeBase64(bytes, out_len, cap, (const uint8_t *) text, len) == 1;
  }
  free(text);
  if (!ok) {
    free(bytes);
    return scn__fail(ld, n,
                     "%s is not base64 (RFC 4648: A-Z a-z 0-9 + /, padded with = to a multiple of "
                     "four characters; white space is ignored)",
                     what);
  }
  if (*out_len > max) {
    free(bytes);
    return scn__fail(ld, n, "%s holds %zu bytes, more than the %zu it may", what, *out_len, max);
  }
  *out = bytes;
  return true;
}
