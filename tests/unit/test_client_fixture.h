/* tests/unit/test_client_fixture.h: what the client walk tests share — a DNS server on the
 * test's loop, an Autodiscover host (HTTPS or plain HTTP) in a thread, and walk_run, which
 * walks a model against them on a loop of its own. Built as ad_test_client
 * (test_client_fixture.c); the lab's real servers live in other modules. */
#ifndef AD_TESTS_TEST_CLIENT_FIXTURE_H
#define AD_TESTS_TEST_CLIENT_FIXTURE_H

#include "client/internal.h"
#include "tests/unit/testutil.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The POX answers the host serves (SETTINGS_XML is for alice@127.0.0.1). */
extern const char *const SETTINGS_XML;
extern const char *const ERROR_XML; /* ErrorCode 500 */
extern const char *const LOOP_XML;  /* redirectUrl to https://127.0.0.1/autodiscover/... */

/* A DNS server on the test's loop that answers every A query with 127.0.0.1 and every SRV
 * query with two records (priority 0 low.test, priority 10 high.test, port 443). */
struct fake_dns {
  uv_udp_t udp;
  uint16_t port;
  int n_queries;
};

void fake_dns_start(struct fake_dns *f, uv_loop_t *loop);

/* udp_port binds a UDP socket on 127.0.0.1 and returns its fd (kept open: a DNS server that
 * never answers) and port. */
int udp_port(uint16_t *port);
/* refused_port returns a UDP port on 127.0.0.1 nothing listens on: queries are refused. */
uint16_t refused_port(void);

/* An Autodiscover host in a thread, one connection at a time. Paths it knows:
 *   GET  /autodiscover/autodiscover.xml       302 to root_location
 *   GET  /autodiscover/autodiscover.json?...  the AutoDV2 answer (json, json_status)
 *   POST /autodiscover/autodiscover.xml       302 to root_location
 *   POST /redirected/autodiscover.xml         settings
 *   POST /plain/autodiscover.xml              settings, ended by the connection's end
 *   POST /err                                 a POX Error
 *   POST /ru                                  a redirectUrl back to the root (a loop)
 *   POST /slow                                settings after 150 ms
 *   POST /hugehead                            200 KB of headers
 *   POST /auth/{basic,sso,bearer,never}       401 with that challenge until Authorization comes
 *                                             (never: always), then settings
 * anything else is a 404. */
struct server {
  bool tls;
  bool garbage;              /* answer every connection with plain text at once, then close */
  bool eager;                /* serve_eager: the answer rides with the handshake (TLS 1.2) */
  const char *root_location; /* where the root sends the client (302) */
  const char *json;          /* the AutoDV2 answer, or NULL: a good one */
  int json_status;           /* its status, 0: 200 */
  char *dir;                 /* a TLS host's temporary directory */
  char pem[4096];            /* a TLS host's certificate (CN and SAN mail.example): dir/trust.pem */
  int fd;
  uint16_t port;
  SSL_CTX *ctx;
  pthread_t thread;
  bool running;
  char requests[16384]; /* every request head, one after the other */
  size_t requests_len;
  int n_conns;
};

/* server_start starts a TLS host with a fresh self-signed certificate, written to s->pem. */
void server_start(struct server *s, const char *root_location);
/* eager_start starts a TLS host that sends the settings answer with its last handshake flight,
 * before the request, and then keeps the connection open without a word. */
void eager_start(struct server *s);
/* plain_start starts a plain HTTP host (garbage: one that answers with junk at once). */
void plain_start(struct server *s, bool garbage, const char *root_location);
/* silent_listener listens and never accepts: the kernel completes connects from its backlog,
 * then nothing is said. */
void silent_listener(struct server *s);
/* server_stop stops the thread, closes the socket and removes the directory. */
void server_stop(struct server *s);

/* map_to_server sends 127.0.0.1:443 and :80 to the servers in `arg` (struct servers), as the
 * lab's port map does. */
struct servers {
  struct server *tls;   /* behind 127.0.0.1:443, or NULL */
  struct server *plain; /* behind 127.0.0.1:80, or NULL */
};
bool map_to_server(void *arg, const struct sockaddr *want, struct sockaddr_storage *out);

/* env_init fills `env` for a walk on `loop` asking the DNS server at 127.0.0.1:dns_port. */
void env_init(struct sim_env *env, uv_loop_t *loop, uint16_t dns_port, unsigned timeout_ms);

/* The done callback's record: walk_done stores the transcript and closes `fake` (when set). */
struct walk_result {
  struct sim_transcript *t;
  int n_done;
  struct fake_dns *fake;
};
void walk_done(void *arg, struct sim_transcript *t);

/* One walk: what walk_run needs and where it puts what it saw. */
struct walk {
  const struct sim_model *model;
  const struct scn_client *cfg; /* NULL: no settings */
  const char *email;            /* NULL: alice@127.0.0.1 */
  struct servers servers;
  const char *trust;     /* the trust store, or NULL: nothing trusted */
  uint16_t dns_port;     /* 0: a port that refuses */
  bool fake_dns;         /* a struct fake_dns answers instead */
  unsigned timeout_ms;   /* per operation; 0: 2000 ms, or the model's own on the lab clock */
  bool lab_clock;        /* a lab clock at scale 1000 */
  char *const *scp_urls; /* what the SCP lookup finds */
  size_t n_scp_urls;
  char **out_journal;    /* when set: the journal's text (caller frees) */
  int *out_dns_queries;  /* when set: how many queries the fake DNS server answered */
  double *out_real_ms;   /* when set: how long the walk took in real time */
  bool real_credentials; /* env.real_credentials, with username and password */
  const char *username;
  const char *password;
  sim_progress_cb progress; /* env.progress, with progress_arg */
  void *progress_arg;
};

/* walk_run walks on a loop of its own, checks done() ran once and never from inside
 * sim_walk_start and that every handle was closed, and returns the transcript (caller frees). */
struct sim_transcript *walk_run(const struct walk *w);

/* settings_of makes a client that gives each "NAME=VALUE" of `assignments` (space-separated,
 * printf-formatted), as a scenario's clients: entry or --set would; the caller cleans it up
 * (scn_client_cleanup). A setting that does not take fails the test. */
struct scn_client settings_of(const char *assignments, ...) __attribute__((format(printf, 1, 2)));

/* classic is outlook-2016-msi's network steps alone: root, autodiscover., HTTP, SRV. */
struct sim_model classic(void);
/* one_step is the model `base` that takes only step `k`. */
struct sim_model one_step(const char *base, enum sim_step_kind k);
/* root_only is outlook-2016-msi trying the root step alone. */
struct sim_model root_only(void);

#endif
