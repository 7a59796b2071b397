/* lab/snapshot.h: `autodisco snapshot` — what a real domain serves for Autodiscover today,
 * collected over the network (the DNS names the steps use, each endpoint's certificate and its
 * answers on 443 and 80) and written as a commented scenario that reproduces it in the lab.
 *
 * lab_snapshot_collect (snapshot_collect.c) asks; lab_snapshot_write (snapshot.c, its routes in
 * snapshot_routes.c) writes; the choices between them — which certificate profile a real
 * certificate becomes, which names and text a scenario can hold — are in snapshot_map.c, without
 * sockets, for the unit tests. */
#ifndef AD_LAB_SNAPSHOT_H
#define AD_LAB_SNAPSHOT_H

#include "client/sim_inspect.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One request to an endpoint and what came back. */
struct lab_snap_probe {
  char *path;               /* the request target as asked */
  struct sim_inspection *r; /* owned */
};

/* One host name at one address: what a client connecting there by that name meets. */
struct lab_snap_endpoint {
  char *name;                   /* the URL's host: SNI, Host and the certificate's name check */
  char *address;                /* the address connected to */
  struct lab_snap_probe *https; /* POSTs on port 443, one per path (the first decides TLS) */
  size_t n_https;
  struct sim_inspection *http; /* the GET of /autodiscover/autodiscover.xml on port 80 */
  bool chain_completed;        /* the chain verified once the caIssuers certificate was added: the
                                  server left out an intermediate */
  char *aia_note;              /* what fetching the caIssuers URL gave, for the comment; or NULL */
};

struct lab_snapshot {
  char *domain;
  char *email;
  int64_t taken;    /* unix seconds, when collecting began */
  char *dns_server; /* "127.0.0.1:53", or NULL: the system's resolver */
  char *trust;      /* the trust store the chains were verified against */
  char **domains;   /* every domain looked at: the first, then redirectAddr domains */
  size_t n_domains;
  struct sim_dns_info **dns; /* every question asked, in order, and its answer (owned) */
  size_t n_dns;
  struct lab_snap_endpoint *endpoints;
  size_t n_endpoints;
  char **notes; /* what was left out and why (limits, address literals), one sentence each */
  size_t n_notes;
};

struct lab_snapshot_options {
  const char *domain;
  const char *email;           /* NULL: user@<domain> */
  struct sockaddr_storage dns; /* ss_family 0: the system's resolver */
  const char *trust_pem;       /* the trust store the chains are verified against */
  unsigned timeout_ms;         /* each of DNS, connect, TLS, answer; 0: 10 s */
  /* progress, when set, is told each question and request as it starts ("A contoso.com") */
  void (*progress)(void *arg, const char *what);
  void *progress_arg;
};

/* lab_snapshot_collect asks the DNS and the endpoints on a loop of its own and returns what
 * it saw in *out (lab_snapshot_free); 0, or -1 with a sentence in err (a bad option). A domain
 * that answers nothing is not an error: the snapshot says so. */
int lab_snapshot_collect(const struct lab_snapshot_options *o, struct lab_snapshot **out, char *err,
                         size_t err_size);
void lab_snapshot_free(struct lab_snapshot *s);

/* lab_snapshot_write appends the scenario to `out`: YAML that scn_load accepts, every fact
 * commented with where and when it came from. Returns false when `out` is full. */
bool lab_snapshot_write(const struct lab_snapshot *s, struct buf *out);

/* --- the choices, without sockets (snapshot_map.c) --- */

/* What a presented certificate becomes in the lab. */
struct lab_cert_choice {
  const char *profile; /* "valid", "expired", ... (a ca_profile_named spelling) */
  char **names;        /* the names to write (DNS names the loader accepts), owned */
  size_t n_names;
  const char *key; /* "rsa-2048", "ecdsa-p256", or NULL: the profile's own */
  bool dates;      /* write not_before and not_after (the real ones) */
  int64_t not_before, not_after;
  char why[256]; /* one sentence: why this profile */
};

/* lab_snapshot_cert_choice maps the leaf of `tls` (checked for `host`) onto a lab profile:
 * expired / not-yet-valid by the real dates, self-signed, untrusted-root (an unknown issuer)
 * or incomplete-chain (`chain_completed`: the missing intermediate was found), ip-only (IP
 * names only), san-missing-host (the CN outside a SAN that has names), sha1-signature,
 * rsa-1024, else valid — always with the real names, so that a name mismatch stays one, and
 * the real dates. `now` is unix seconds. */
void lab_snapshot_cert_choice(struct lab_cert_choice *out, const struct sim_tls_info *tls,
                              bool chain_completed, int64_t now);
void lab_cert_choice_cleanup(struct lab_cert_choice *c);

/* lab_snapshot_dns_name says whether `s` is a DNS name a scenario accepts (lowercase labels of
 * a-z 0-9 - _, 1 to 63 each, 253 in all; a leading "*." when `wildcard`). */
bool lab_snapshot_dns_name(const char *s, bool wildcard);

/* lab_yaml_quote appends `s` (len bytes) as one YAML double-quoted scalar that reads back as
 * exactly those bytes: quotes, backslashes, control characters, line breaks and bytes that are
 * not UTF-8 escaped (a byte that is not UTF-8 becomes U+FFFD: scenario files are UTF-8). */
bool lab_yaml_quote(struct buf *out, const char *s, size_t len);
/* lab_yaml_comment appends "# " + text + "\n" with `indent` spaces first; whatever the text
 * holds (a certificate's subject, a server's header) it stays one comment line: control
 * characters and line breaks are written as escapes. */
bool lab_yaml_comment(struct buf *out, int indent, const char *text);

#endif
