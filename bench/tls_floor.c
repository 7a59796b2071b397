/* tls-floor: what the server's side of a TLS 1.3 handshake, and of a kept-alive request, costs in
 * the BoringSSL autodisco links, with no sockets, no event loop and no autodisco code — the least
 * a new HTTPS connection or a request on one can cost. bench/https.sh runs it on the certificate
 * it benchmarks and records the figures beside nginx's whole cost, and beside `openssl speed`
 * (the library nginx links).
 *
 *   tls-floor CHAIN.pem [N]   CHAIN.pem: the leaf, its key and the intermediates, as nginx reads
 *                             them; N handshakes (default 2000), 20 N requests
 *
 * Each handshake runs a BoringSSL client and server over an in-memory BIO pair, TLS 1.3 with
 * X25519 as autodisco's listeners negotiate it, the two session tickets included; then one
 * connection carries requests one at a time. Only the server's calls are timed (CPU time of this
 * thread, less the clock's own cost). The three public-key operations the server makes are timed
 * alone as well. Output: one `name value` line per figure, µs per operation. */
#include <openssl/bio.h>
#include <openssl/curve25519.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double) t.tv_sec * 1e6 + (double) t.tv_nsec / 1e3;
}

static void die(const char *what) {
  char reason[160];
  ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
  fprintf(stderr, "tls-floor: %s: %s\n", what, reason);
  exit(1);
}

/* server_ctx loads CHAIN.pem (leaf first, then the key and the intermediates, in any order
 * after the leaf) and sets what tls_server_ctx_new_from sets for a listener. */
static SSL_CTX *server_ctx(const char *chain_path) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set1_curves_list(ctx, "X25519:P-256") ||
      !SSL_CTX_use_certificate_chain_file(ctx, chain_path) ||
      !SSL_CTX_use_PrivateKey_file(ctx, chain_path, SSL_FILETYPE_PEM) ||
      !SSL_CTX_check_private_key(ctx)) {
    die(chain_path);
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  return ctx;
}

/* clock_cost is what one reading of the clock costs (a system call, for a thread's CPU time):
 * a timed span holds one — the end of the first reading and the start of the second — and it is
 * taken away from each timed span. */
static double clock_us; /* clock_cost(), measured once at the start */

static double clock_cost(void) {
  enum { N = 400000 };
  double t0 = cpu_us();
  for (int i = 0; i < N; i++) {
    (void) cpu_us();
  }
  return (cpu_us() - t0) / N;
}

/* step advances one side's handshake as far as the bytes in its BIO allow, adding the CPU time
 * spent to *spent when it is the timed side; 1 when that side is done. The pair's buffers hold a
 * whole flight, so a side only ever waits for the other's next flight. */
static int step(SSL *ssl, double *spent) {
  double t0 = spent != NULL ? cpu_us() : 0;
  int r = SSL_do_handshake(ssl);
  if (spent != NULL) {
    *spent += cpu_us() - t0 - clock_us;
  }
  if (r == 1) {
    return 1;
  }
  int e = SSL_get_error(ssl, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    die("handshake");
  }
  return 0;
}

/* handshake connects a new client and server over a BIO pair; returns the server's CPU time
 * (the first answer's write included: the tickets go out with it, as in a real connection). */
static double handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, SSL **out_server,
                        SSL **out_client) {
  BIO *s_bio = NULL;
  BIO *c_bio = NULL;
  if (!BIO_new_bio_pair(&s_bio, 1 << 16, &c_bio, 1 << 16)) {
    die("BIO_new_bio_pair");
  }
  SSL *server = SSL_new(server_ctx);
  SSL *client = SSL_new(client_ctx);
  if (server == NULL || client == NULL) {
    die("SSL_new");
  }
  SSL_set_bio(server, s_bio, s_bio);
  SSL_set_bio(client, c_bio, c_bio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  double spent = 0;
  int s_done = 0;
  int c_done = 0;
  for (int round = 0; round < 8 && !(s_done && c_done); round++) {
    c_done = c_done || step(client, NULL);
    s_done = s_done || step(server, &spent);
  }
  if (!s_done || !c_done) {
    die("handshake did not finish");
  }
  static const char answer[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  double t0 = cpu_us();
  if (SSL_write(server, answer, (int) sizeof answer - 1) <= 0) {
    die("SSL_write");
  }
  spent += cpu_us() - t0 - clock_us;
  char sink[256];
  if (SSL_read(client, sink, sizeof sink) <= 0) {
    die("SSL_read");
  }
  if (SSL_version(server) != TLS1_3_VERSION) {
    die("not TLS 1.3");
  }
  *out_server = server;
  *out_client = client;
  return spent;
}

static double one_handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx) {
  SSL *server = NULL;
  SSL *client = NULL;
  double spent = handshake(server_ctx, client_ctx, &server, &client);
  SSL_free(server);
  SSL_free(client);
  return spent;
}

enum {
  REQUEST_LEN = 64,   /* about wrk's GET /static-404 with its Host header */
  RESPONSE_LEN = 320, /* about autodisco's 404: its head and the 102-byte page */
};

/* requests runs n kept-alive requests over one connection, one at a time as a client that waits
 * for each answer sends them; returns the server's CPU time per request: the SSL_read of the
 * request's one record and the SSL_write of the answer. */
static double requests(SSL *server, SSL *client, long n) {
  uint8_t request[REQUEST_LEN];
  uint8_t response[RESPONSE_LEN];
  uint8_t sink[RESPONSE_LEN * 2];
  memset(request, 'q', sizeof request);
  memset(response, 'r', sizeof response);
  double spent = 0;
  for (long i = 0; i < n; i++) {
    if (SSL_write(client, request, sizeof request) != (int) sizeof request) {
      die("client SSL_write");
    }
    double t0 = cpu_us();
    if (SSL_read(server, sink, sizeof sink) != (int) sizeof request ||
        SSL_write(server, response, sizeof response) != (int) sizeof response) {
      die("server SSL_read/SSL_write");
    }
    spent += cpu_us() - t0 - clock_us;
    for (size_t got = 0; got < sizeof response;) {
      int r = SSL_read(client, sink, sizeof sink);
      if (r <= 0) {
        die("client SSL_read");
      }
      got += (size_t) r;
    }
  }
  return spent / (double) n;
}

static double per_op(double start, long n) {
  return (cpu_us() - start) / n;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: tls-floor CHAIN.pem [N]\n");
    return 2;
  }
  long n = argc == 3 ? strtol(argv[2], NULL, 10) : 2000;
  if (n <= 0 || n > 1000000) {
    fprintf(stderr, "tls-floor: N must be a number from 1 to 1000000\n");
    return 2;
  }
  clock_us = clock_cost();
  SSL_CTX *s_ctx = server_ctx(argv[1]);
  SSL_CTX *c_ctx = SSL_CTX_new(TLS_client_method());
  if (c_ctx == NULL || !SSL_CTX_set_min_proto_version(c_ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set1_curves_list(c_ctx, "X25519")) {
    die("client context");
  }
  SSL_CTX_set_verify(c_ctx, SSL_VERIFY_NONE, NULL); /* verifying is the client's cost */

  for (long i = 0; i < n / 10; i++) {
    one_handshake(s_ctx, c_ctx); /* warm the caches and the allocator */
  }
  double server = 0;
  for (long i = 0; i < n; i++) {
    server += one_handshake(s_ctx, c_ctx);
  }
  printf("handshake_server %.1f\n", server / n);

  SSL *kept_server = NULL;
  SSL *kept_client = NULL;
  handshake(s_ctx, c_ctx, &kept_server, &kept_client);
  requests(kept_server, kept_client, n); /* warm */
  printf("request_server %.2f\n", requests(kept_server, kept_client, 20 * n));
  SSL_free(kept_server);
  SSL_free(kept_client);

  uint8_t pub[32];
  uint8_t priv[32];
  uint8_t shared[32];
  double t0 = cpu_us();
  for (long i = 0; i < n; i++) {
    X25519_keypair(pub, priv);
  }
  printf("x25519_keypair %.1f\n", per_op(t0, n));
  t0 = cpu_us();
  for (long i = 0; i < n; i++) {
    if (!X25519(shared, priv, pub)) {
      die("X25519");
    }
  }
  printf("x25519_shared %.1f\n", per_op(t0, n));

  /* The CertificateVerify signature: the server's key over a SHA-256 digest, as TLS 1.3's
   * ecdsa_secp256r1_sha256 does (the bench certificate is ECDSA P-256). */
  EVP_PKEY *key = SSL_CTX_get0_privatekey(s_ctx);
  uint8_t sig[512];
  static const uint8_t message[130] = {0};
  t0 = cpu_us();
  for (long i = 0; i < n; i++) {
    EVP_MD_CTX md;
    EVP_MD_CTX_init(&md);
    size_t sig_len = sizeof sig;
    if (!EVP_DigestSignInit(&md, NULL, EVP_sha256(), NULL, key) ||
        !EVP_DigestSign(&md, sig, &sig_len, message, sizeof message)) {
      die("sign");
    }
    EVP_MD_CTX_cleanup(&md);
  }
  printf("sign %.1f\n", per_op(t0, n));
  printf("key_type %s\n", EVP_PKEY_id(key) == EVP_PKEY_EC ? "ecdsa" : "other");
  SSL_CTX_free(s_ctx);
  SSL_CTX_free(c_ctx);
  return 0;
}
