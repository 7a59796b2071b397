/* proxy/proxy.h: the lab network — the scenario's DNS server and every simulated host's
 * listeners on one libuv loop, each host on its own loopback address, or on a lab network
 * (serve --listen) on the addresses given, where hosts may share an address.
 *
 * Errors: starting the network returns an enum proxy_status (a code for programs,
 * PROXY_OK = 0) and writes one sentence for people into the caller's (err, err_size), naming the
 * host and, for what the scenario said, its "file:line:col"; proxy_strerror describes a code. */
#ifndef AD_PROXY_PROXY_H
#define AD_PROXY_PROXY_H

#include "certs/ca.h"
#include "common/labclock.h"
#include "journal/jnl.h"
#include "scenario/scn.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <uv.h>

struct proxy;
struct proxy_plan;

enum proxy_status {
  PROXY_OK = 0,
  PROXY_EADDRESS, /* no loopback address for a host, a bad --listen or --map, or the DNS
                     address is not ADDR:PORT */
  PROXY_ECERT,    /* a host's certificate chain or TLS context could not be made */
  PROXY_EZONE,    /* the scenario's names or records do not make DNS zones */
  PROXY_ELISTEN,  /* a host's port or the DNS server's address could not be bound */
};

/* proxy_strerror returns a fixed description of `st`; never NULL. */
const char *proxy_strerror(enum proxy_status st);

/* proxy_plan_new places scn's hosts (borrowed; must outlive the plan) on lab-network addresses:
 * `listen` (n_listen IPv4 addresses as text, in order) and `maps` ("HOST=IP": the scenario's
 * host HOST on IP, which joins the addresses when `listen` lacks it). Every host gets one
 * address; with fewer addresses than hosts some share one and are told apart by SNI and the Host
 * header. Hosts whose scenario depends on an address of their own (a refused port, a fault, an
 * ip-only certificate) are placed first, each where it costs the fewest warnings, then where the
 * fewest hosts are. Each scenario feature the plan cannot keep is a warning (a sentence,
 * proxy_plan_warning). PROXY_EADDRESS with a sentence naming the flag when an address is not a
 * single IPv4 host address, a host is unknown or pinned twice; *out is NULL then. */
enum proxy_status proxy_plan_new(struct proxy_plan **out, const struct scn *scn,
                                 const char *const *listen, size_t n_listen,
                                 const char *const *maps, size_t n_maps, char *err,
                                 size_t err_size);
void proxy_plan_free(struct proxy_plan *plan);
/* proxy_plan_host_address returns the address (text) scn->hosts[host] is given. */
const char *proxy_plan_host_address(const struct proxy_plan *plan, size_t host);
/* The addresses, in the order given (--listen first, then --map's others). */
size_t proxy_plan_n_addresses(const struct proxy_plan *plan);
const char *proxy_plan_address(const struct proxy_plan *plan, size_t i);
/* The warnings: one sentence per scenario feature the placement loses. */
size_t proxy_plan_n_warnings(const struct proxy_plan *plan);
const char *proxy_plan_warning(const struct proxy_plan *plan, size_t i);

/* What the lab allows its clients (serve's flags, docs/commands.md "Limits and hostile
 * clients"); 0 turns a limit off. Deadlines run in real time, never on the lab clock. */
struct proxy_limits {
  unsigned max_conns;              /* HTTP(S): connections open at once on one listener */
  unsigned max_conns_per_client;   /* ... from one client address on one listener */
  unsigned head_timeout_ms;        /* a request head complete within this long of its first byte */
  unsigned body_timeout_ms;        /* a request body complete within this long of its head's end */
  unsigned handshake_timeout_ms;   /* a TLS handshake complete within this long of the accept */
  unsigned dns_tcp_max_conns;      /* DNS over TCP: connections open at once */
  unsigned dns_tcp_max_per_client; /* ... from one client address */
  unsigned dns_tcp_timeout_ms;     /* ... idle, or a message begun, at most this long */
};

/* proxy_limits_default returns the limits a lab has unless told otherwise. */
struct proxy_limits proxy_limits_default(void);

struct proxy_options {
  struct jnl *jnl;               /* may be NULL */
  struct ca *ca;                 /* signs the hosts' chains */
  const char *dns_listen;        /* "ADDR:PORT"; NULL → 127.0.0.1:0 */
  int https_port;                /* port the hosts' HTTPS listeners bind; 0 → ephemeral, and the
                                    TLS listeners of listeners: bind free ports too (else their
                                    own) */
  int http_port;                 /* the same for plain HTTP */
  const char *address_base;      /* the first host address; NULL → 127.77.0.1 */
  const struct proxy_plan *plan; /* lab-network addresses (borrowed, made for the same scn);
                                    NULL: each host on loopback, from address_base */
  struct labclock *clock;        /* listeners' delays run on it; NULL: real time */
  struct jnl_har *har;           /* every HTTP exchange as a HAR entry; NULL: none (borrowed) */
  bool record_credentials;       /* Authorization values in clear in journal and HAR */
  FILE *keylog;                  /* NSS key-log lines of every TLS connection; NULL: none (borrowed,
                                    must outlive the loop's last run) */
  const struct proxy_limits *limits; /* NULL: proxy_limits_default() (copied) */
};

/* proxy_start mints the chains, starts DNS and every listener. When a host lacks a listener for
 * a port, a bound socket that does not listen stands in its place so that a connection to it is
 * refused (RST), as on a real machine. On failure *out is NULL and whatever was started is
 * closing: the loop must run to finish it. */
enum proxy_status proxy_start(struct proxy **out, uv_loop_t *loop, const struct scn *scn,
                              const struct proxy_options *opt, char *err, size_t err_size);
/* proxy_close closes everything; the loop must run afterwards to finish (frees itself). */
void proxy_close(struct proxy *p);

/* proxy_dns_addr gives the DNS server's bound address. */
void proxy_dns_addr(const struct proxy *p, struct sockaddr_storage *out);
/* proxy_host_address returns the lab address (text) of scn->hosts[i]. */
const char *proxy_host_address(const struct proxy *p, size_t i);
/* proxy_host_cert_ip returns the address scn->hosts[i]'s ip-only certificate names (the host's
 * own on loopback; on a lab network the loopback address the name-constrained lab CA may
 * certify), or NULL when its certificate is not ip-only. */
const char *proxy_host_cert_ip(const struct proxy *p, size_t i);
/* The warnings of the running lab's address plan (proxy_plan_warning). */
size_t proxy_n_warnings(const struct proxy *p);
const char *proxy_warning(const struct proxy *p, size_t i);
/* proxy_host_port returns the port scn->hosts[i]'s HTTPS (https true) or HTTP listener is
 * bound to, or 0 when the host has no listener there (connections are refused, or on a shared
 * address answered by another host). */
uint16_t proxy_host_port(const struct proxy *p, size_t i, bool https);
/* proxy_host_listener_port is proxy_host_port for any port the scenario names: 443, 80 or a
 * listeners: entry's (`nominal`); 0 when the host has no listener there. */
uint16_t proxy_host_listener_port(const struct proxy *p, size_t i, uint16_t nominal);
/* proxy_map says where a connection to `want` (a host address and a port a host there listens
 * on: 443, 80 or a listeners: port) really goes; false when `want` is not a lab address. Signature
 * fits sim_env.map. */
bool proxy_map(void *p, const struct sockaddr *want, struct sockaddr_storage *out);
/* proxy_reset_dns_rules starts every "first N queries" DNS rule counting again: each client
 * walked through the lab is a fresh machine. */
void proxy_reset_dns_rules(struct proxy *p);
/* proxy_reset_counts is proxy_reset_dns_rules and starts every route answer's "first N
 * requests" counting again too. */
void proxy_reset_counts(struct proxy *p);
/* proxy_ready_json describes the running lab: DNS address, each host's names, address and
 * bound ports (null: the host has no listener there; its other listeners as {port, tls,
 * bound}), each address with its hosts (the default first) and, when shared, what sharing loses,
 * the plan's warnings, the lab CA's PEM path, the addresses answered on that are not loopback
 * ("exposed") and the limits (caller frees). */
char *proxy_ready_json(const struct proxy *p);

#endif
