/* proxy/tls/tls_chain.c: a server context for a chain minted by the lab CA (kept apart from
 * tls_ctx.c so programs that never use certs/ need not link it). */
#include "proxy/tls/tls.h"

enum tls_status tls_server_ctx_new(SSL_CTX **out, const struct ca_chain *chain, char *err,
                                   size_t err_size) {
  if (chain == NULL) {
    *out = NULL;
    if (err != NULL) {
      buf_fmt(err, err_size, "no certificate chain");
    }
    return TLS_ENOCERT;
  }
  return tls_server_ctx_new_from(out, ca_chain_leaf(chain), ca_chain_key(chain),
                                 ca_chain_intermediates(chain), err, err_size);
}
