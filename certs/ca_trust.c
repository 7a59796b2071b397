/* certs/ca_trust.c: where the machine keeps the roots it trusts — the PEM bundle a real client
 * on this machine verifies servers against. Probes, snapshots and upstream routes check real
 * servers against it; the lab's own names are checked against the lab CA instead. */
#include "certs/ca.h"

#include <stdlib.h>
#include <unistd.h>

const char *ca_trust_system_path(void) {
  /* Where distributions keep the bundle OpenSSL-based clients read (as Go's crypto/x509 lists
   * them): Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine and macOS-style, RHEL 7+. */
  static const char *const bundles[] = {
      "/etc/ssl/certs/ca-certificates.crt",
      "/etc/pki/tls/certs/ca-bundle.crt",
      "/etc/ssl/ca-bundle.pem",
      "/etc/ssl/cert.pem",
      "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  };
  const char *env = getenv("SSL_CERT_FILE");
  if (env != NULL && env[0] != '\0') {
    return env;
  }
  for (size_t i = 0; i < sizeof bundles / sizeof bundles[0]; i++) {
    if (access(bundles[i], R_OK) == 0) {
      return bundles[i];
    }
  }
  return NULL;
}
