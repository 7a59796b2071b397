/* proxy/tls/tls_hello.c: the ClientHello as the journal's tls.hello — SNI, ALPN, offered
 * versions and cipher suites — read with BoringSSL's CBS from the raw extensions. */
#include "proxy/tls/tls.h"

#include "proxy/tls/internal.h"

#include <openssl/bytestring.h>
#include <stdlib.h>
#include <string.h>

const char *tls__version_name(uint16_t v, char scratch[8]) {
  switch (v) {
    case 0x0304: return "TLS1.3";
    case 0x0303: return "TLS1.2";
    case 0x0302: return "TLS1.1";
    case 0x0301: return "TLS1.0";
    case 0x0300: return "SSL3";
    default: break;
  }
  buf_fmt(scratch, 8, "0x%04x", v); /* GREASE (RFC 8701), drafts, DTLS */
  return scratch;
}

/* server_name (RFC 6066 §3): a list of (type, name); the first host_name entry counts. */
static char *read_sni(const SSL_CLIENT_HELLO *hello) {
  const uint8_t *data = NULL;
  size_t len = 0;
  if (!SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_server_name, &data, &len)) {
    return NULL;
  }
  CBS ext, list;
  CBS_init(&ext, data, len);
  if (!CBS_get_u16_length_prefixed(&ext, &list)) {
    return NULL;
  }
  while (CBS_len(&list) > 0) {
    uint8_t type;
    CBS name;
    if (!CBS_get_u8(&list, &type) || !CBS_get_u16_length_prefixed(&list, &name)) {
      return NULL;
    }
    if (type == TLSEXT_NAMETYPE_host_name && CBS_len(&name) > 0 && CBS_len(&name) <= 255 &&
        !CBS_contains_zero_byte(&name)) {
      return str_ndup((const char *) CBS_data(&name), CBS_len(&name));
    }
  }
  return NULL;
}

/* ALPN (RFC 7301 §3.1): a u16-prefixed list of u8-prefixed protocol names. */
static void write_alpn(struct jnl_event *ev, const SSL_CLIENT_HELLO *hello) {
  const uint8_t *data = NULL;
  size_t len = 0;
  jnl_arr_begin(ev, "alpn");
  if (SSL_early_callback_ctx_extension_get(
          hello, TLSEXT_TYPE_application_layer_protocol_negotiation, &data, &len)) {
    CBS ext, list, proto;
    CBS_init(&ext, data, len);
    if (CBS_get_u16_length_prefixed(&ext, &list)) {
      while (CBS_len(&list) > 0 && CBS_get_u8_length_prefixed(&list, &proto)) {
        jnl_strn(ev, NULL, (struct slice){CBS_data(&proto), CBS_len(&proto)});
      }
    }
  }
  jnl_arr_end(ev);
}

/* supported_versions (RFC 8446 §4.2.1) when present, else the legacy version field. */
static void write_versions(struct jnl_event *ev, const SSL_CLIENT_HELLO *hello) {
  const uint8_t *data = NULL;
  size_t len = 0;
  char scratch[8];
  jnl_arr_begin(ev, "versions");
  if (SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_supported_versions, &data, &len)) {
    CBS ext, list;
    uint16_t v;
    CBS_init(&ext, data, len);
    if (CBS_get_u8_length_prefixed(&ext, &list)) {
      while (CBS_get_u16(&list, &v)) {
        jnl_str(ev, NULL, tls__version_name(v, scratch));
      }
    }
  } else {
    jnl_str(ev, NULL, tls__version_name(hello->version, scratch));
  }
  jnl_arr_end(ev);
}

/* Cipher suites by IANA name when BoringSSL knows them, else as "0x1301"-style numbers. */
static void write_ciphers(struct jnl_event *ev, const SSL_CLIENT_HELLO *hello) {
  CBS suites;
  uint16_t v;
  CBS_init(&suites, hello->cipher_suites, hello->cipher_suites_len);
  jnl_arr_begin(ev, "ciphers");
  while (CBS_get_u16(&suites, &v)) {
    const SSL_CIPHER *cipher = SSL_get_cipher_by_value(v);
    const char *name = cipher == NULL ? NULL : SSL_CIPHER_standard_name(cipher);
    char hex[8];
    if (name == NULL) {
      buf_fmt(hex, sizeof hex, "0x%04x", v);
      name = hex;
    }
    jnl_str(ev, NULL, name);
  }
  jnl_arr_end(ev);
}

void tls__journal_hello(struct tls_conn *c, const SSL_CLIENT_HELLO *hello) {
  free(c->sni);
  c->sni = read_sni(hello);
  struct jnl_event ev;
  jnl_begin(&ev, c->j, "tls.hello");
  jnl_str(&ev, "host", c->sni);
  write_alpn(&ev, hello);
  write_versions(&ev, hello);
  write_ciphers(&ev, hello);
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_end(&ev);
}
