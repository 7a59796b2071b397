/* proxy/tls/tls.h: server-side TLS contexts for the simulated hosts. */
#ifndef AD_PROXY_TLS_TLS_H
#define AD_PROXY_TLS_TLS_H

#include <openssl/ssl.h>

#include "certs/ca.h"

/* tls_server_ctx_new returns a server SSL_CTX presenting `chain` (leaf, key, intermediates),
 * TLS 1.2–1.3, X25519 preferred, session resumption on, with the ClientHello and alert hooks
 * the HTTP server's journal needs. NULL with a sentence in err on failure. */
SSL_CTX *tls_server_ctx_new(const struct ca_chain *chain, char *err, size_t err_size);

#endif
