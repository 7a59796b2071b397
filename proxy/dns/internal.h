/* proxy/dns/internal.h: what the files of proxy/dns share — the zone data built from the
 * scenario (dns_zone.c) and the lookups the answer builder (dns_answer.c) makes on it. */
#ifndef AD_PROXY_DNS_INTERNAL_H
#define AD_PROXY_DNS_INTERNAL_H

#include "proxy/dns/dns.h"
#include "scenario/scn.h"

#include <libknot/libknot.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

/* A zone the lab is authoritative for: its apex and where its synthesized SOA lives. */
struct dns_zone {
  knot_dname_t *apex; /* lowercase wire name, owned */
  size_t soa_index;   /* into dns_zoneset.rrsets */
};

/* A per-name (and per-type) behaviour from scn->rules. */
struct dns_rule {
  knot_dname_t *name; /* lowercase wire name, owned */
  uint16_t type;      /* the only QTYPE it applies to; 0: every QTYPE */
  enum scn_dns_behaviour behaviour;
  uint32_t first_n;   /* 0: always; N: the first N queries it is applied to */
  uint32_t n_applied; /* queries it was applied to so far (only counted when first_n > 0);
                         dns_answer updates it: the only state that changes while serving */
  uint8_t *raw;       /* SCN_DNS_RAW: the answer section's bytes (owned) */
  size_t raw_len;
  uint16_t raw_count; /* SCN_DNS_RAW: the ANCOUNT claimed */
};

/* A record given as bytes (scn_raw_record): written as it is, after a pointer to the QNAME. */
struct dns_raw {
  knot_dname_t *name; /* lowercase wire name, owned */
  uint16_t type;
  uint32_t ttl;
  uint8_t *rdata; /* owned */
  size_t rdata_len;
  uint16_t rdlength; /* what RDLENGTH says, whatever rdata_len is */
};

/* A record type the overlay takes away from the upstream's answers for one name. */
struct dns_removal {
  knot_dname_t *name; /* lowercase wire name, owned */
  uint16_t type;
};

/* dns.overlay: where the queries the scenario does not define go (dns_overlay.c). */
struct dns_overlay {
  struct sockaddr_storage upstream;
  char upstream_text[64]; /* "ADDR:PORT", for the journal */
  uint32_t timeout_ms;
  struct dns_removal *removals;
  size_t n_removals;
};

/* Every record the lab serves, grouped into RRsets by (owner, type); owners are lowercase. */
struct dns_zoneset {
  struct dns_zone *zones;
  size_t n_zones;
  knot_rrset_t *rrsets; /* each owns its owner name and rdata */
  size_t n_rrsets;
  struct dns_rule *rules; /* in scenario order */
  size_t n_rules;
  struct dns_raw *raws; /* records given as bytes, in scenario order */
  size_t n_raws;
  struct dns_overlay *overlay; /* NULL: the lab answers every query itself */
};

/* dns__zone_find returns the deepest zone containing `name` (lowercase), or NULL. */
const struct dns_zone *dns__zone_find(const struct dns_zoneset *zs, const knot_dname_t *name);
/* dns__rrset_find returns the RRset of `type` owned by `name`, or NULL. */
const knot_rrset_t *dns__rrset_find(const struct dns_zoneset *zs, const knot_dname_t *name,
                                    uint16_t type);
/* dns__name_exists says whether `name` owns any RRset or record given as bytes (RFC 1034 4.3.2
 * "the name exists"). */
bool dns__name_exists(const struct dns_zoneset *zs, const knot_dname_t *name);
/* dns__name_has_children says whether some owner is strictly below `name`: an empty
 * non-terminal (RFC 8020 §2) answers NODATA, not NXDOMAIN. */
bool dns__name_has_children(const struct dns_zoneset *zs, const knot_dname_t *name);
/* dns__rule_find returns the rule to apply to a query for exactly `name` (lowercase) and
 * `qtype`, or NULL: of the rules for that name, one of that very type first, then one for every
 * type (type 0), each in scenario order, skipping those whose first_n queries are used up. It
 * does not count: the caller increments n_applied of the rule it applies. */
struct dns_rule *dns__rule_find(struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype);

/* dns__raw_has says whether records given as bytes answer (name, qtype) (name lowercase). */
bool dns__raw_has(const struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype);

/* dns__wildcard_for finds the wildcard that answers for `name` in `zone` (RFC 4592 3.3.1): only
 * when `name` does not exist (no records, not an empty non-terminal), the "*" child of its
 * closest encloser — the deepest existing ancestor — if that owns records. Its name is written to
 * `out`; false when no wildcard applies. */
bool dns__wildcard_for(const struct dns_zoneset *zs, const struct dns_zone *zone,
                       const knot_dname_t *name, knot_dname_storage_t out);
/* dns__add_address adds an A or AAAA record (by the address's family) for `name` (presentation
 * form) with `address` (text), in its own zone when no zone holds it (dns_zone.c). */
bool dns__add_address(struct dns_zoneset *zs, const char *name, const char *address, char *err,
                      size_t err_size);

/* ---- dns.overlay: which queries the lab answers, and the answers built from the upstream's
 * (dns_overlay.c) ---- */

enum dns_overlay_action {
  DNS_OVERLAY_LAB = 0,  /* the scenario defines it: the lab answers (dns_answer) */
  DNS_OVERLAY_FORWARD,  /* the upstream's answer is relayed, only its ID restored */
  DNS_OVERLAY_REMOVE,   /* the upstream's answer without a removed record: NODATA or NXDOMAIN */
  DNS_OVERLAY_WILDCARD, /* an overlay wildcard covers it: the upstream's answer unless NXDOMAIN,
                           then the wildcard's (RFC 4592: a wildcard never hides a real name) */
  DNS_OVERLAY_CHASE,    /* the lab's CNAME chain, completed by the upstream's answer for its
                           target (what a recursive resolver gives a stub) */
};

/* dns__overlay_init reads scn->overlay into zs->overlay and gives the hosts' names that no record
 * resolves their lab addresses (dns.overlay answers for the names of the hosts it intercepts).
 * False with a sentence in err. */
struct scn;
bool dns__overlay_init(struct dns_zoneset *zs, const struct scn *scn, const char *const *host_addrs,
                       char *err, size_t err_size);
void dns__overlay_free(struct dns_overlay *o);
/* dns__overlay_name names an action for the journal ("lab", "forward", ...). */
const char *dns__overlay_name(enum dns_overlay_action a);
/* dns__overlay_decide says who answers (qname, qtype) (qname lowercase): the lab when a
 * behaviour applies (not counted here), when the overlay has records of that type at the name (a
 * CNAME counts for every type, ANY for any record; A and AAAA go together: a name the overlay
 * gives an address has only the overlay's addresses), else REMOVE when a removal names it (its
 * type, or CNAME) with *out_removed (may be NULL) set, WILDCARD when an overlay wildcard of that
 * type covers the name, else FORWARD. The zones' SOA and NS are never the scenario's. */
enum dns_overlay_action dns__overlay_decide(struct dns_zoneset *zs, const knot_dname_t *qname,
                                            uint16_t qtype, uint16_t *out_removed);

/* A message parsed over its own copy of the bytes (libknot parses in place). */
struct dns_msg {
  uint8_t *wire;
  knot_pkt_t *pkt;
};

/* dns__msg_parse parses a copy of `len` bytes; false (and nothing to free) when it is not one
 * whole, well-formed message with a question. */
bool dns__msg_parse(struct dns_msg *m, const uint8_t *bytes, size_t len);
void dns__msg_free(struct dns_msg *m);
/* dns__note_question writes the question of `q` into info (qname lowercase, no final dot). */
void dns__note_question(const knot_pkt_t *q, struct dns_info *info);
/* dns__client_limit is how many bytes the client of `q` takes (RFC 6891 6.2.5; over TCP, a whole
 * message). */
size_t dns__client_limit(const knot_pkt_t *q, bool over_tcp);

/* A query waiting for the upstream's answer, with what is needed to answer the client. */
struct dns_overlay_job {
  enum dns_overlay_action action; /* FORWARD, REMOVE, WILDCARD or CHASE */
  enum dns_overlay_action target; /* CHASE: the target's own action (FORWARD or REMOVE) */
  uint16_t removed;               /* REMOVE, and CHASE of a removed target: the removed type */
  bool over_tcp;
  size_t limit;   /* bytes the client's response may take */
  uint8_t *query; /* the client's query */
  size_t query_len;
  uint8_t *ask; /* the query sent upstream: the client's, or the chase's */
  size_t ask_len;
  uint8_t *lab; /* CHASE: the lab's answer so far (its CNAME chain) */
  size_t lab_len;
};

void dns__overlay_job_free(struct dns_overlay_job *job);

/* dns__overlay_query answers a query on an overlay zoneset like dns_answer, unless the answer
 * needs the upstream resolver: then it returns 0 with *out_job set (the caller sends job->ask
 * upstream and calls dns__overlay_finish). info->overlay says which way it went. */
size_t dns__overlay_query(struct dns_zoneset *zs, const uint8_t *query, size_t query_len,
                          uint8_t *out, size_t out_cap, bool over_tcp, struct dns_info *info,
                          struct dns_overlay_job **out_job);
/* dns__overlay_finish writes the client's response for `job` from the upstream's `answer`
 * (`answer_len` bytes, already checked to answer job->ask; NULL when the upstream failed: then
 * SERVFAIL) into `out` (at most out_cap bytes). Returns its length, 0 when nothing can be sent. */
size_t dns__overlay_finish(struct dns_zoneset *zs, const struct dns_overlay_job *job,
                           const uint8_t *answer, size_t answer_len, uint8_t *out, size_t out_cap,
                           struct dns_info *info);

/* ---- the upstream resolver's sockets (dns_upstream.c) ---- */

struct dns_upstream;

/* What one upstream exchange gave. */
struct dns_upstream_result {
  const uint8_t *answer; /* the response (its ID that of the query asked), or NULL on failure */
  size_t answer_len;
  const char *error; /* NULL, or why there is no answer ("no answer within 2000 ms", ...) */
};

typedef void (*dns_upstream_cb)(void *arg, const struct dns_upstream_result *r);

/* dns__upstream_new prepares the resolver at `addr` (text `addr_text`, for the journal) on `loop`;
 * each exchange waits `timeout_ms` at most and is journaled as `upstream.dns` on `j`. */
struct dns_upstream *dns__upstream_new(uv_loop_t *loop, const struct sockaddr_storage *addr,
                                       const char *addr_text, uint32_t timeout_ms, struct jnl *j);
/* dns__upstream_ask sends `query` (copied; its ID is replaced by a random one) over TCP or UDP
 * (a fresh socket each time) and calls `cb` exactly once unless the upstream is closed first:
 * with the answer (a response to that very question), or with an error — possibly before
 * dns__upstream_ask returns (a query that cannot be sent). */
void dns__upstream_ask(struct dns_upstream *u, const uint8_t *query, size_t query_len,
                       bool over_tcp, dns_upstream_cb cb, void *arg);
/* dns__upstream_close abandons the open exchanges (their callbacks never run) and frees the
 * resolver once the loop has closed its sockets. */
void dns__upstream_close(struct dns_upstream *u);
/* dns__upstream_n_open counts exchanges under way; for tests. */
size_t dns__upstream_n_open(const struct dns_upstream *u);

/* ---- the answer cache (dns_cache.c) ---- */

/* The UDP socket (dns_udp.c): datagrams read DNS_UDP_BATCH at a time, each handed to a
 * dns_udp_query_cb, whose answer is written into dns__udp_out and given back with
 * dns__udp_answered; the batch's answers leave together once it has been read. */
enum {
  DNS_UDP_BATCH = 16,     /* datagrams per recvmmsg, answers per sendmmsg */
  DNS_UDP_OUT_MAX = 4096, /* an answer's room */
};
struct dns_udp;
typedef void (*dns_udp_query_cb)(void *arg, const uint8_t *query, size_t len,
                                 const struct sockaddr *from);
/* dns__udp_start watches `fd` (a bound, non-blocking UDP socket) on `loop`; 0 or a libuv error.
 * Once *out is set (also when starting failed late) the socket is taken: dns__udp_close closes
 * it; while *out stays NULL it is still the caller's. */
int dns__udp_start(struct dns_udp **out, uv_loop_t *loop, int fd, dns_udp_query_cb on_query,
                   void *arg);
/* dns__udp_out is where the answer to the datagram being handled is written (DNS_UDP_OUT_MAX
 * bytes); dns__udp_answered sends its first `len` bytes to `to` with the batch (0: no answer). */
uint8_t *dns__udp_out(struct dns_udp *u);
void dns__udp_answered(struct dns_udp *u, size_t len, const struct sockaddr *to);
/* dns__udp_send sends one datagram now (or as soon as the socket takes it): an answer that
 * came later than its query's batch, from the upstream. */
void dns__udp_send(struct dns_udp *u, const struct sockaddr *to, const uint8_t *msg, size_t len);
/* dns__udp_close sends what the batch holds, stops reading, closes the socket and then calls
 * on_closed(arg) (arg: dns__udp_start's); answers still waiting for room are dropped. */
void dns__udp_close(struct dns_udp *u, void (*on_closed)(void *arg));

struct dns_cache;

/* dns__zoneset_stateless says whether every answer of `zs` depends on the query alone: no rule
 * limited to its first N queries, no dns.overlay. Only such a zoneset is cached. */
bool dns__zoneset_stateless(const struct dns_zoneset *zs);
/* dns__cache_new returns a cache of about n_slots answers (rounded up to a power of two; a new
 * answer evicts the one in its slot), or NULL when `zs` is not stateless: then
 * dns__cache_answer is plain dns_answer. */
struct dns_cache *dns__cache_new(const struct dns_zoneset *zs, size_t n_slots);
void dns__cache_free(struct dns_cache *c);
/* dns__cache_answer is dns_answer (same arguments, same bytes out, same *info), answered from
 * the cache when the same query (but for its ID and the case of its QNAME) was answered before
 * with the same transport and out_cap. `zs` must be the cache's. When `note` is not NULL, *note
 * is the cached answer's note — bytes the caller keeps with it (the server: the journal fields
 * the answer makes), empty until the caller fills it, gone when the answer is evicted — or NULL
 * when the answer is not cached. */
size_t dns__cache_answer(struct dns_cache *c, struct dns_zoneset *zs, const uint8_t *query,
                         size_t query_len, uint8_t *out, size_t out_cap, bool over_tcp,
                         struct dns_info *info, struct buf **note);
/* dns__cache_hits counts the answers served from the cache; for tests. */
size_t dns__cache_hits(const struct dns_cache *c);

#endif
