/* tests/unit/test_tls_ja4.c: proxy/tls/tls_ja4.c — the JA4 fingerprint of ClientHellos built
 * from FoxIO's published example (technical_details/JA4.md) and its edge rules. */
#include "proxy/tls/internal.h"
#include "tests/unit/testutil.h"

#include <openssl/bytestring.h>
#include <string.h>

/* The published example: 15 cipher suites, 16 extensions, first ALPN "h2", and
 * JA4 = t13d1516h2_8daaf6152771_e5627efa2ab1. */
static const uint16_t example_ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                           0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                                           0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
static const uint16_t example_extensions[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
                                              0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b,
                                              0xff01, 0x000b, 0x000a, 0x0015};
static const uint16_t example_sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
                                           0x0805, 0x0501, 0x0806, 0x0601};

struct hello {
  uint16_t version;
  const uint16_t *ciphers;
  size_t n_ciphers;
  const uint16_t *extensions;
  size_t n_extensions;
  const char *alpn; /* wire form: u8-prefixed names, NULL: the default "\x02h2\x08http/1.1" */
  size_t alpn_len;
  bool grease;     /* GREASE values in every list, as Chrome sends them */
  bool no_sigalgs; /* signature_algorithms present but empty */
};

static void add_ext(CBB *exts, uint16_t type, const struct hello *h) {
  CBB body, list;
  assert_true(CBB_add_u16(exts, type));
  assert_true(CBB_add_u16_length_prefixed(exts, &body));
  switch (type) {
    case 0x0000: /* server_name: one host_name */
      assert_true(CBB_add_u16_length_prefixed(&body, &list));
      assert_true(CBB_add_u8(&list, 0));
      assert_true(CBB_add_u16(&list, 11));
      assert_true(CBB_add_bytes(&list, (const uint8_t *) "contoso.com", 11));
      break;
    case 0x0010: /* ALPN */
      assert_true(CBB_add_u16_length_prefixed(&body, &list));
      if (h->alpn != NULL) {
        assert_true(CBB_add_bytes(&list, (const uint8_t *) h->alpn, h->alpn_len));
      } else {
        assert_true(CBB_add_bytes(&list, (const uint8_t *) "\x02h2\x08http/1.1", 12));
      }
      break;
    case 0x000d: /* signature_algorithms */
      assert_true(CBB_add_u16_length_prefixed(&body, &list));
      for (size_t i = 0; !h->no_sigalgs && i < 8; i++) {
        assert_true(CBB_add_u16(&list, example_sigalgs[i]));
      }
      if (h->grease && !h->no_sigalgs) {
        assert_true(CBB_add_u16(&list, 0x3a3a)); /* never hashed */
      }
      break;
    case 0x002b: /* supported_versions */
      assert_true(CBB_add_u8_length_prefixed(&body, &list));
      if (h->grease) {
        assert_true(CBB_add_u16(&list, 0x7a7a));
      }
      assert_true(CBB_add_u16(&list, 0x0304));
      assert_true(CBB_add_u16(&list, 0x0303));
      break;
    default: break;
  }
  assert_true(CBB_flush(exts));
}

/* ja4_of builds the ClientHello's cipher list and extension block and fingerprints them. */
static void ja4_of(char out[TLS_JA4_LEN + 1], const struct hello *h) {
  CBB ciphers, exts;
  assert_true(CBB_init(&ciphers, 64));
  assert_true(CBB_init(&exts, 256));
  if (h->grease) {
    assert_true(CBB_add_u16(&ciphers, 0xdada));
    add_ext(&exts, 0x2a2a, h);
  }
  for (size_t i = 0; i < h->n_ciphers; i++) {
    assert_true(CBB_add_u16(&ciphers, h->ciphers[i]));
  }
  for (size_t i = 0; i < h->n_extensions; i++) {
    add_ext(&exts, h->extensions[i], h);
  }
  if (h->grease) {
    add_ext(&exts, 0xfafa, h);
  }
  tls__ja4(out, h->version != 0 ? h->version : 0x0303,
           (struct slice){CBB_data(&ciphers), CBB_len(&ciphers)},
           (struct slice){CBB_data(&exts), CBB_len(&exts)});
  CBB_cleanup(&ciphers);
  CBB_cleanup(&exts);
}

static struct hello example(void) {
  return (struct hello){.ciphers = example_ciphers,
                        .n_ciphers = 15,
                        .extensions = example_extensions,
                        .n_extensions = 16};
}

static void test_published_example(void **state) {
  (void) state;
  char ja4[TLS_JA4_LEN + 1];
  struct hello h = example();
  ja4_of(ja4, &h);
  assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

static void test_grease_and_order_do_not_count(void **state) {
  (void) state;
  char ja4[TLS_JA4_LEN + 1];
  struct hello h = example();
  h.grease = true;
  ja4_of(ja4, &h);
  assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  /* the same offer in another order (Chrome permutes its extensions) */
  uint16_t ciphers[15], exts[16];
  for (size_t i = 0; i < 15; i++) {
    ciphers[i] = example_ciphers[14 - i];
  }
  for (size_t i = 0; i < 16; i++) {
    exts[i] = example_extensions[(i * 7) % 16];
  }
  h.ciphers = ciphers;
  h.extensions = exts;
  ja4_of(ja4, &h);
  assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

static void test_a_changed_offer_changes_the_fingerprint(void **state) {
  (void) state;
  char ja4[TLS_JA4_LEN + 1];
  struct hello h = example();
  h.n_ciphers = 14; /* one suite fewer: the count and the cipher hash change */
  ja4_of(ja4, &h);
  assert_memory_equal(ja4, "t13d1416h2_", 11);
  assert_memory_not_equal(ja4 + 11, "8daaf6152771", 12);
  assert_string_equal(ja4 + 24, "e5627efa2ab1");
}

static void test_sni_alpn_and_version_rules(void **state) {
  (void) state;
  char ja4[TLS_JA4_LEN + 1];
  /* without server_name: "i"; its absence does not change the extension hash */
  uint16_t no_sni[15];
  size_t n = 0;
  for (size_t i = 0; i < 16; i++) {
    if (example_extensions[i] != 0x0000) {
      no_sni[n++] = example_extensions[i];
    }
  }
  struct hello h = example();
  h.extensions = no_sni;
  h.n_extensions = n;
  ja4_of(ja4, &h);
  assert_string_equal(ja4, "t13i1515h2_8daaf6152771_e5627efa2ab1");

  h = example();
  h.alpn = "\x08http/1.1\x02h2";
  h.alpn_len = 12;
  ja4_of(ja4, &h);
  assert_memory_equal(ja4, "t13d1516h1_", 11);

  /* non-alphanumeric ends: the first and last hex digits of the value (JA4.md examples) */
  static const struct {
    const char *wire;
    size_t len;
    const char *code;
  } odd[] = {
      {"\x01\xab", 2, "ab"},
      {"\x02\xab\xcd", 3, "ad"},
      {"\x02\x30\xab", 3, "3b"},
      {"\x04\x30\x31\xab\xcd", 5, "3d"},
      {"\x04\x30\xab\xcd\x31", 5, "01"},
      {"\x01h", 2, "hh"},
      {"\x00", 1, "00"},
  };
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    h = example();
    h.alpn = odd[i].wire;
    h.alpn_len = odd[i].len;
    ja4_of(ja4, &h);
    assert_memory_equal(ja4 + 8, odd[i].code, 2);
  }

  /* without supported_versions the legacy version counts: 0x0303 → "12" */
  uint16_t no_versions[15];
  n = 0;
  for (size_t i = 0; i < 16; i++) {
    if (example_extensions[i] != 0x002b) {
      no_versions[n++] = example_extensions[i];
    }
  }
  h = example();
  h.extensions = no_versions;
  h.n_extensions = n;
  ja4_of(ja4, &h);
  assert_memory_equal(ja4, "t12d1515h2_8daaf6152771_", 24);
  h.version = 0x0300;
  ja4_of(ja4, &h);
  assert_memory_equal(ja4, "ts3d", 4);
  h.version = 0x1234;
  ja4_of(ja4, &h);
  assert_memory_equal(ja4, "t00d", 4);
}

static void test_empty_lists(void **state) {
  (void) state;
  char ja4[TLS_JA4_LEN + 1];
  /* no signature algorithms: the extension list alone is hashed (JA4.md: 6d807ffa2a79) */
  uint16_t exts[16];
  size_t n = 0;
  for (size_t i = 0; i < 16; i++) {
    if (example_extensions[i] != 0x000d) {
      exts[n++] = example_extensions[i];
    }
  }
  exts[n++] = 0x000d; /* present but empty */
  struct hello h = example();
  h.extensions = exts;
  h.n_extensions = n;
  h.no_sigalgs = true;
  ja4_of(ja4, &h);
  assert_string_equal(ja4 + 24, "6d807ffa2a79");
  /* no ciphers and no extensions: twelve zeros each, no ALPN: "00" */
  h = (struct hello){0};
  ja4_of(ja4, &h);
  assert_string_equal(ja4, "t12i000000_000000000000_000000000000");
}

static void test_counts_stop_at_99_and_garbage_is_harmless(void **state) {
  (void) state;
  char ja4[TLS_JA4_LEN + 1];
  uint16_t many[150];
  for (size_t i = 0; i < 150; i++) {
    many[i] = (uint16_t) (0x0100 + i);
  }
  struct hello h = example();
  h.ciphers = many;
  h.n_ciphers = 150;
  ja4_of(ja4, &h);
  assert_memory_equal(ja4, "t13d9916h2_", 11);
  /* an extension block that lies about its lengths, an odd cipher list */
  static const uint8_t bad_ext[] = {0x00, 0x00, 0xff, 0xff, 0x00};
  static const uint8_t odd_ciphers[] = {0x13, 0x01, 0x13};
  tls__ja4(ja4, 0x0303, (struct slice){odd_ciphers, sizeof odd_ciphers},
           (struct slice){bad_ext, sizeof bad_ext});
  assert_int_equal(strlen(ja4), TLS_JA4_LEN);
  assert_memory_equal(ja4, "t12i0100", 8);
  assert_true(tls__is_grease(0x0a0a) && tls__is_grease(0xfafa) && !tls__is_grease(0x0a1a));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_published_example),
      cmocka_unit_test(test_grease_and_order_do_not_count),
      cmocka_unit_test(test_a_changed_offer_changes_the_fingerprint),
      cmocka_unit_test(test_sni_alpn_and_version_rules),
      cmocka_unit_test(test_empty_lists),
      cmocka_unit_test(test_counts_stop_at_99_and_garbage_is_harmless),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
