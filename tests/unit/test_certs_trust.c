/* tests/unit/test_certs_trust.c: finding the machine's trust store. */
#include "certs/ca.h"
#include "tests/unit/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_ssl_cert_file_comes_first(void **state) {
  setenv("SSL_CERT_FILE", "/nowhere/bundle.pem", 1);
  assert_string_equal(ca_trust_system_path(), "/nowhere/bundle.pem");
  setenv("SSL_CERT_FILE", "", 1); /* empty: as if unset */
  const char *path = ca_trust_system_path();
  assert_true(path == NULL || strcmp(path, "") != 0);
  unsetenv("SSL_CERT_FILE");
}

static void test_a_found_bundle_is_readable(void **state) {
  unsetenv("SSL_CERT_FILE");
  const char *path = ca_trust_system_path();
  if (path != NULL) {
    assert_int_equal(access(path, R_OK), 0);
  }
  if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
    assert_string_equal(path, "/etc/ssl/certs/ca-certificates.crt"); /* Debian's, first */
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ssl_cert_file_comes_first),
      cmocka_unit_test(test_a_found_bundle_is_readable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
