/* proxy/tls/tls_ja4.c: the JA4 TLS client fingerprint (FoxIO, technical_details/JA4.md) of a
 * ClientHello, so that a client build that changes its TLS offer gets a different name in the
 * journal while GREASE and extension order (which Chrome randomises) do not change it. */
#include "proxy/tls/internal.h"
#include "proxy/tls/tls.h"

#include <openssl/bytestring.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

bool tls__is_grease(uint16_t v) {
  /* RFC 8701 §2: 0x0a0a, 0x1a1a, ... 0xfafa — both bytes equal, low nibble 0xa */
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* JA4.md "TLS and DTLS Version"; SSL 1.0 and the old 0x0200 spelling of SSL 2.0 as in v0.18. */
static const char *version_code(uint16_t v) {
  switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0200:
    case 0x0002: return "s2";
    case 0x0100: return "s1";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
  }
}

static int cmp_u16(const void *a, const void *b) {
  uint16_t x = *(const uint16_t *) a, y = *(const uint16_t *) b;
  return (x > y) - (x < y);
}

static bool is_alnum(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* alpn_code: the first and last characters of the first ALPN value; "00" without one; the
 * first and last hex digits of the value when either end is not alphanumeric (JA4.md). */
static void alpn_code(char out[3], struct slice first) {
  static const char hex[] = "0123456789abcdef";
  if (first.ptr == NULL || first.len == 0) {
    memcpy(out, "00", 3);
    return;
  }
  uint8_t a = first.ptr[0], z = first.ptr[first.len - 1];
  if (is_alnum(a) && is_alnum(z)) {
    out[0] = (char) a;
    out[1] = (char) z;
  } else {
    out[0] = hex[a >> 4];
    out[1] = hex[z & 15];
  }
  out[2] = '\0';
}

/* hash12 is the first 12 hex digits of SHA-256 over `text`, or twelve zeros for an empty list. */
static void hash12(char out[13], const struct buf *text) {
  if (text->len == 0) {
    memcpy(out, "000000000000", 13);
    return;
  }
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(text->ptr, text->len, digest);
  hex_lower(out, digest, 6);
  out[12] = '\0';
}

/* append_hex_list writes the values as comma-separated 4-digit lower-case hex (by hand: a
 * handshake writes a few dozen, and snprintf for each was 4 % of its instructions). */
static void append_hex_list(struct buf *b, const uint16_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char item[5] = {','};
    hex_lower(item + 1, (const uint8_t[]){(uint8_t) (v[i] >> 8), (uint8_t) v[i]}, 2);
    buf_append(b, i == 0 ? (struct slice){(const uint8_t *) item + 1, 4}
                         : (struct slice){(const uint8_t *) item, 5});
  }
}

/* A u16 list (cipher suites, extension types, signature algorithms) without GREASE. */
struct u16_list {
  uint16_t *v;
  size_t n;
};

static void list_push(struct u16_list *l, uint16_t v, size_t cap) {
  if (!tls__is_grease(v) && l->n < cap) {
    l->v[l->n++] = v;
  }
}

void tls__ja4(char out[TLS_JA4_LEN + 1], uint16_t legacy_version, struct slice ciphers,
              struct slice extensions) {
  size_t cap_c = ciphers.len / 2 + 1, cap_e = extensions.len / 4 + 1;
  struct u16_list cs = {xcalloc(cap_c, sizeof(uint16_t)), 0};
  struct u16_list ext = {xcalloc(cap_e, sizeof(uint16_t)), 0};
  struct u16_list hashed = {xcalloc(cap_e, sizeof(uint16_t)), 0};
  struct u16_list sigalgs = {NULL, 0};
  size_t cap_s = 0;
  struct slice alpn = {NULL, 0};
  bool sni = false, alpn_seen = false;
  uint16_t version = legacy_version, best = 0;
  bool has_versions = false;

  CBS cbs, body, list;
  uint16_t v;
  CBS_init(&cbs, ciphers.ptr, ciphers.len);
  while (CBS_get_u16(&cbs, &v)) {
    list_push(&cs, v, cap_c);
  }
  CBS_init(&cbs, extensions.ptr, extensions.len);
  while (CBS_get_u16(&cbs, &v) && CBS_get_u16_length_prefixed(&cbs, &body)) {
    list_push(&ext, v, cap_e);
    if (v != TLSEXT_TYPE_server_name && v != TLSEXT_TYPE_application_layer_protocol_negotiation) {
      list_push(&hashed, v, cap_e);
    }
    if (v == TLSEXT_TYPE_server_name) {
      sni = true;
    } else if (v == TLSEXT_TYPE_application_layer_protocol_negotiation && !alpn_seen) {
      alpn_seen = true; /* the first ALPN extension's first value counts */
      CBS proto;
      if (CBS_get_u16_length_prefixed(&body, &list) && CBS_get_u8_length_prefixed(&list, &proto)) {
        alpn = (struct slice){CBS_data(&proto), CBS_len(&proto)};
      }
    } else if (v == TLSEXT_TYPE_supported_versions && !has_versions &&
               CBS_get_u8_length_prefixed(&body, &list)) {
      uint16_t offered;
      while (CBS_get_u16(&list, &offered)) {
        if (!tls__is_grease(offered) && offered > best) {
          best = offered;
          has_versions = true;
        }
      }
    } else if (v == TLSEXT_TYPE_signature_algorithms && sigalgs.v == NULL &&
               CBS_get_u16_length_prefixed(&body, &list)) {
      cap_s = CBS_len(&list) / 2 + 1;
      sigalgs.v = xcalloc(cap_s, sizeof(uint16_t));
      uint16_t alg;
      while (CBS_get_u16(&list, &alg)) {
        list_push(&sigalgs, alg, cap_s);
      }
    }
  }
  if (has_versions) {
    version = best;
  }

  char alpn_chars[3];
  alpn_code(alpn_chars, alpn);
  qsort(cs.v, cs.n, sizeof(uint16_t), cmp_u16);
  qsort(hashed.v, hashed.n, sizeof(uint16_t), cmp_u16);
  struct buf text;
  buf_init(&text, 1u << 20);
  char cipher_hash[13], ext_hash[13];
  append_hex_list(&text, cs.v, cs.n);
  hash12(cipher_hash, &text);
  buf_reset(&text);
  append_hex_list(&text, hashed.v, hashed.n);
  if (hashed.n > 0 && sigalgs.n > 0) {
    buf_append_str(&text, "_"); /* no signature algorithms: no underscore (JA4.md) */
    append_hex_list(&text, sigalgs.v, sigalgs.n);
  }
  hash12(ext_hash, &text);
  buf_cleanup(&text);
  buf_fmt(out, TLS_JA4_LEN + 1, "t%s%c%02zu%02zu%s_%s_%s", version_code(version), sni ? 'd' : 'i',
          cs.n > 99 ? (size_t) 99 : cs.n, ext.n > 99 ? (size_t) 99 : ext.n, alpn_chars, cipher_hash,
          ext_hash);
  free(cs.v);
  free(ext.v);
  free(hashed.v);
  free(sigalgs.v);
}
