/* proxy/dns/dns.h: the lab's authoritative DNS — answers built from the scenario's records
 * with libknot — served over UDP and TCP on one libuv loop.
 *
 * Errors: building zones and starting the server return an enum dns_status (a code for
 * programs, DNS_OK = 0) and write one sentence for people into the caller's (err, err_size);
 * dns_strerror describes a code. A bad query is the client's doing: it is answered (FORMERR) or
 * dropped and journaled, with no error for the caller. */
#ifndef AD_PROXY_DNS_DNS_H
#define AD_PROXY_DNS_DNS_H

#include "journal/jnl.h"
#include "scenario/scn.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct dns_zoneset;
struct dns_server;

/* DNS over TCP: connections open at once, and from one client address (serve
 * --dns-tcp-max-conns, --dns-tcp-max-per-client); past either, a new connection is closed at
 * once. A connection idle this long, or a message not complete this long after its first byte
 * however slowly its bytes come, is closed (--dns-tcp-timeout, milliseconds). */
#define DNS_TCP_MAX_CONNS 256u
#define DNS_TCP_MAX_PER_CLIENT 16u
#define DNS_TCP_TIMEOUT_MS 10000u

enum dns_status {
  DNS_OK = 0,
  DNS_EZONE,    /* the scenario's names or records do not make zones ("file:line:col: ...") */
  DNS_EADDRESS, /* not an IPv4 or IPv6 address to listen on */
  DNS_ELISTEN,  /* the address could not be bound or served; the sentence says why */
  DNS_ESELF,    /* dns.overlay's upstream is the lab's own DNS address: a forwarding loop */
};

/* dns_strerror returns a fixed description of `st`; never NULL. */
const char *dns_strerror(enum dns_status st);

/* What one query was and how it was answered, for the journal and tests. */
struct dns_info {
  char qname[256]; /* lowercase, no trailing dot; "" when the query could not be parsed */
  uint16_t qtype;
  uint16_t rcode;      /* KNOT_RCODE_* / RFC 1035 */
  uint16_t n_answer;   /* records in the answer section */
  bool truncated;      /* TC set */
  bool dropped;        /* no answer at all (timeout behaviour, or not a DNS query) */
  const char *why;     /* for dropped or FORMERR: a short reason; else NULL */
  const char *rule;    /* the behaviour of the last scenario rule applied ("servfail", "nodata",
                          "truncate", ...; "truncate" also over TCP, where it answers in full),
                          as scenario files spell it; NULL when no rule applied */
  bool wildcard;       /* some answer was synthesized from a wildcard ("*.") record (RFC 4592),
                          records or a NODATA */
  bool raw;            /* the answer section is the scenario's bytes (a raw behaviour, or records
                          given as bytes), unparsed */
  const char *overlay; /* dns.overlay only: how the query was answered — "lab", "forward",
                          "remove", "wildcard" or "chase" (docs/journal.md); else NULL */
  char chase[256];     /* dns.overlay only: the CNAME target the lab's answer stops at, which the
                          upstream resolver completes; "" when the answer is complete */
};

/* dns_zoneset_new sets *out to the zones built from `scn`; host_addrs[i] is the lab address
 * (text) of scn->hosts[i]. DNS_EZONE with *out NULL when a name or record cannot be served.
 *
 * A zoneset is not read-only while it serves: each rule with first_n counts the queries it was
 * applied to (over UDP and TCP alike), and dns_answer updates those counts. */
enum dns_status dns_zoneset_new(struct dns_zoneset **out, const struct scn *scn,
                                const char *const *host_addrs, char *err, size_t err_size);
/* dns_zoneset_reset_rules sets every rule's count of applied queries back to 0, so that
 * "the first N queries" start again (e.g. before another client walks). */
void dns_zoneset_reset_rules(struct dns_zoneset *zs);
void dns_zoneset_free(struct dns_zoneset *zs);

/* dns_answer writes the response to `query` into `out` (at most out_cap bytes; a UDP caller
 * passes the payload size it may send, and gets TC when the answer does not fit) and returns
 * its length; 0 means send nothing. Never reads past query_len. It counts the query against the
 * scenario rule it applies (first_n), hence `zs` is not const. */
size_t dns_answer(struct dns_zoneset *zs, const uint8_t *query, size_t query_len, uint8_t *out,
                  size_t out_cap, bool over_tcp, struct dns_info *info);

/* dns_server_start listens on UDP and TCP at `addr` (port 0: an ephemeral port, the same for
 * both) and answers from `zs` (borrowed; must outlive the server; its rule counts change as it
 * answers). Each query is a `dns.query` journal event, with the rule applied and whether a
 * wildcard answered. When the scenario has dns.overlay, the queries it does not define go to its
 * upstream resolver (over the client's transport), each exchange an `upstream.dns` event, and the
 * client gets the upstream's answer or SERVFAIL within the overlay's timeout. On failure *out is
 * NULL. */
enum dns_status dns_server_start(struct dns_server **out, uv_loop_t *loop,
                                 const struct sockaddr *addr, struct dns_zoneset *zs, struct jnl *j,
                                 char *err, size_t err_size);
/* dns_server_set_limits changes the caps on TCP connections (DNS_TCP_MAX_CONNS and
 * DNS_TCP_MAX_PER_CLIENT to begin with; 0: none) and their timeout (DNS_TCP_TIMEOUT_MS; 0: none)
 * for the connections accepted from now on. A connection past a cap is closed at once, and the
 * refusals are journaled at most once a second (`limit.reached`, with how many and which client
 * addresses), and when the server closes. */
void dns_server_set_limits(struct dns_server *s, unsigned tcp_max_conns,
                           unsigned tcp_max_per_client, unsigned tcp_timeout_ms);
/* dns_server_addr gives the address actually bound. */
void dns_server_addr(const struct dns_server *s, struct sockaddr_storage *out);
/* dns_server_close stops listening, closes open TCP connections and frees the server once the
 * loop has run the close callbacks. */
void dns_server_close(struct dns_server *s);

#endif
