/* proxy/tls/tls_hello.c: the ClientHello as the journal's tls.hello — SNI, ALPN, offered
 * versions, cipher suites, groups, signature algorithms, the extensions in the order sent and
 * the JA4 fingerprint — read with BoringSSL's CBS from the raw extensions. */
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
  if (tls__is_grease(v)) {
    return "GREASE"; /* RFC 8701: a random reserved value, different on every connection */
  }
  buf_fmt(scratch, 8, "0x%04x", v); /* drafts, DTLS */
  return scratch;
}

/* server_name (RFC 6066 §3): a list of (type, name); the first host_name entry counts. */
char *tls__read_sni(const SSL_CLIENT_HELLO *hello) {
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

typedef const char *(*name_cb)(uint16_t v);

static const char *cipher_name(uint16_t v) {
  const SSL_CIPHER *cipher = SSL_get_cipher_by_value(v);
  return cipher == NULL ? NULL : SSL_CIPHER_standard_name(cipher);
}

static const char *group_name(uint16_t v) {
  return SSL_get_curve_name(v);
}

static const char *sigalg_name(uint16_t v) {
  return SSL_get_signature_algorithm_name(v, 1); /* TLS 1.3 names: ecdsa_secp256r1_sha256 */
}

/* extension_name: the IANA "TLS ExtensionType Values" name of the extensions clients send. */
static const char *extension_name(uint16_t v) {
  switch (v) {
    case 0: return "server_name";
    case 1: return "max_fragment_length";
    case 5: return "status_request";
    case 10: return "supported_groups";
    case 11: return "ec_point_formats";
    case 13: return "signature_algorithms";
    case 14: return "use_srtp";
    case 15: return "heartbeat";
    case 16: return "application_layer_protocol_negotiation";
    case 17: return "status_request_v2";
    case 18: return "signed_certificate_timestamp";
    case 21: return "padding";
    case 22: return "encrypt_then_mac";
    case 23: return "extended_master_secret";
    case 27: return "compress_certificate";
    case 28: return "record_size_limit";
    case 34: return "delegated_credential";
    case 35: return "session_ticket";
    case 41: return "pre_shared_key";
    case 42: return "early_data";
    case 43: return "supported_versions";
    case 44: return "cookie";
    case 45: return "psk_key_exchange_modes";
    case 47: return "certificate_authorities";
    case 48: return "oid_filters";
    case 49: return "post_handshake_auth";
    case 50: return "signature_algorithms_cert";
    case 51: return "key_share";
    case 57: return "quic_transport_parameters";
    case 13172: return "next_protocol_negotiation";
    case 17513: return "application_settings_old";
    case 17613: return "application_settings";
    case 65037: return "encrypted_client_hello";
    case 65281: return "renegotiation_info";
    default: return NULL;
  }
}

/* write_value writes one code point by name, "GREASE", or as "0x1301"-style hex. */
static void write_value(struct jnl_event *ev, uint16_t v, name_cb name_of) {
  const char *name = tls__is_grease(v) ? "GREASE" : name_of(v);
  char hex[8];
  if (name == NULL) {
    buf_fmt(hex, sizeof hex, "0x%04x", v);
    name = hex;
  }
  jnl_str(ev, NULL, name);
}

/* write_u16_list writes a list of 16-bit code points in the order the client sent them. */
static void write_u16_list(struct jnl_event *ev, const char *key, CBS list, name_cb name_of) {
  uint16_t v;
  jnl_arr_begin(ev, key);
  while (CBS_get_u16(&list, &v)) {
    write_value(ev, v, name_of);
  }
  jnl_arr_end(ev);
}

/* write_ext_list writes an extension that is a u16-prefixed list of u16 code points
 * (supported_groups, RFC 8422 §5.1.1; signature_algorithms, RFC 8446 §4.2.3); [] when absent. */
static void write_ext_list(struct jnl_event *ev, const char *key, const SSL_CLIENT_HELLO *hello,
                           uint16_t type, name_cb name_of) {
  const uint8_t *data = NULL;
  size_t len = 0;
  CBS ext, list;
  CBS_init(&list, NULL, 0);
  if (SSL_early_callback_ctx_extension_get(hello, type, &data, &len)) {
    CBS_init(&ext, data, len);
    if (!CBS_get_u16_length_prefixed(&ext, &list)) {
      CBS_init(&list, NULL, 0);
    }
  }
  write_u16_list(ev, key, list, name_of);
}

/* write_extensions lists the extension types in the order sent (Chrome shuffles them). */
static void write_extensions(struct jnl_event *ev, const SSL_CLIENT_HELLO *hello) {
  CBS exts, body;
  uint16_t type;
  CBS_init(&exts, hello->extensions, hello->extensions_len);
  jnl_arr_begin(ev, "extensions");
  while (CBS_get_u16(&exts, &type) && CBS_get_u16_length_prefixed(&exts, &body)) {
    write_value(ev, type, extension_name);
  }
  jnl_arr_end(ev);
}

void tls__journal_hello(struct tls_conn *c, const SSL_CLIENT_HELLO *hello, const char *host_id) {
  char ja4[TLS_JA4_LEN + 1];
  tls__ja4(ja4, hello->version, (struct slice){hello->cipher_suites, hello->cipher_suites_len},
           (struct slice){hello->extensions, hello->extensions_len});
  CBS suites;
  CBS_init(&suites, hello->cipher_suites, hello->cipher_suites_len);
  struct jnl_event ev;
  jnl_begin(&ev, c->j, "tls.hello");
  jnl_str(&ev, "host", c->sni);
  if (c->select != NULL) {
    jnl_str(&ev, "host_id", host_id); /* the host whose certificate goes out */
  }
  write_alpn(&ev, hello);
  write_versions(&ev, hello);
  write_u16_list(&ev, "ciphers", suites, cipher_name);
  write_ext_list(&ev, "groups", hello, TLSEXT_TYPE_supported_groups, group_name);
  write_ext_list(&ev, "sigalgs", hello, TLSEXT_TYPE_signature_algorithms, sigalg_name);
  write_extensions(&ev, hello);
  jnl_str(&ev, "ja4", ja4);
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_end(&ev);
}
