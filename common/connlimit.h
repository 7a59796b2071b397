/* common/connlimit.h: the caps a lab server puts on its TCP connections — how many may be open
 * at once, and how many from one client address — and the tally of the connections it refused,
 * which the server journals at most once a second (limit.reached, docs/journal.md) rather than
 * once per connection. Without sockets: the server asks before it serves a connection it has
 * accepted, and says when an admitted one ends. */
#ifndef AD_COMMON_CONNLIMIT_H
#define AD_COMMON_CONNLIMIT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* How many client addresses one tally names, and how often it may be reported. */
#define CONNLIMIT_CLIENTS 8
#define CONNLIMIT_REPORT_MS 1000u

enum connlimit_verdict {
  CONNLIMIT_ADMIT = 0, /* counted: connlimit_release it when it ends */
  CONNLIMIT_FULL,      /* max_conns connections are open */
  CONNLIMIT_CLIENT,    /* max_per_client connections are open from the client's address */
};

/* One client address with open connections. */
struct connlimit_peer {
  int family;       /* AF_INET or AF_INET6 (an IPv4-mapped IPv6 address counts as IPv4) */
  uint8_t addr[16]; /* the address bytes, 4 or 16 */
  unsigned n_open;
};

struct connlimit {
  unsigned max_conns;      /* open connections at most; 0: no cap */
  unsigned max_per_client; /* open connections from one client address at most; 0: no cap */
  size_t n_open;
  struct connlimit_peer *peers; /* the addresses with open connections */
  size_t n_peers, cap_peers;
  /* refused since the last report */
  uint64_t refused_full;   /* because max_conns were open */
  uint64_t refused_client; /* because the client had max_per_client open */
  char clients[CONNLIMIT_CLIENTS][INET6_ADDRSTRLEN]; /* the addresses refused, first ones */
  size_t n_clients;
  bool reported; /* a report was taken, at last_report_ms */
  uint64_t last_report_ms;
};

/* connlimit_init starts with nothing open and nothing refused; caps of 0 mean none. */
void connlimit_init(struct connlimit *l, unsigned max_conns, unsigned max_per_client);
void connlimit_cleanup(struct connlimit *l);
/* connlimit_set changes the caps; the connections open stay, the next admit obeys them. */
void connlimit_set(struct connlimit *l, unsigned max_conns, unsigned max_per_client);

/* connlimit_admit counts a new connection from `peer` (IPv4 or IPv6; another family counts
 * under one "unknown" address) and returns CONNLIMIT_ADMIT, or, when a cap is reached, tallies
 * it as refused and returns why. */
enum connlimit_verdict connlimit_admit(struct connlimit *l, const struct sockaddr *peer);
/* connlimit_release forgets an admitted connection from `peer`. */
void connlimit_release(struct connlimit *l, const struct sockaddr *peer);
/* connlimit_open_from counts the open connections from `peer`'s address. */
unsigned connlimit_open_from(const struct connlimit *l, const struct sockaddr *peer);

/* connlimit_refused counts the connections refused since the last report. */
uint64_t connlimit_refused(const struct connlimit *l);
/* connlimit_report_wait says, when connections were refused since the last report, how many
 * milliseconds from `now_ms` until the next may be made (0: now; reports are at least
 * CONNLIMIT_REPORT_MS apart) and returns true; false when there is nothing to report. */
bool connlimit_report_wait(const struct connlimit *l, uint64_t now_ms, uint64_t *out_wait_ms);
/* connlimit_report_taken marks the tally reported at `now_ms` and starts a new one. */
void connlimit_report_taken(struct connlimit *l, uint64_t now_ms);

#endif
