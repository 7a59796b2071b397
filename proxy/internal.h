/* proxy/internal.h: what the files of proxy/ share — the address plan behind proxy_plan_new and
 * proxy_start: which address each host is on, which hosts share one, and what sharing costs. */
#ifndef AD_PROXY_INTERNAL_H
#define AD_PROXY_INTERNAL_H

#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>

/* One address the lab binds and the hosts on it. */
struct proxy_site {
  char address[INET6_ADDRSTRLEN];
  size_t *hosts; /* indices into scn->hosts: the default host first, then scenario order */
  size_t n_hosts;
};

struct proxy_plan {
  const struct scn *scn;    /* borrowed: the scenario the plan is for */
  bool network;             /* lab-network addresses (--listen, --map); false: loopback per host */
  struct proxy_site *sites; /* one per address, in the order given (unused ones too) */
  size_t n_sites;
  size_t *host_site; /* per scenario host: its index in sites */
  /* per scenario host: the address an ip-only certificate names (the lab CA certifies
   * loopback addresses only, so on a lab network it is the loopback address the host would
   * have had), or "" when the host's https certificate is not ip-only */
  char (*cert_ip)[INET6_ADDRSTRLEN];
  char **warnings; /* one sentence per scenario feature the plan cannot keep */
  size_t n_warnings;
};

/* proxy__plan_loopback is the plan without --listen: each host on its scenario address or the
 * next loopback address after `base` (127.77.0.1 when NULL). PROXY_EADDRESS with a sentence when
 * an address cannot be allocated. */
enum proxy_status proxy__plan_loopback(struct proxy_plan **out, const struct scn *scn,
                                       const char *base, char *err, size_t err_size);
/* proxy__site_port_hosts lists (into out, at most site->n_hosts) the hosts of `site` that listen
 * on `port` (443, 80, or a listeners: entry's), in site order: the first is that port's default,
 * and a host whose listener there is TLS when the default's is not (or the other way round) is
 * left out (one listener serves the address and port). */
size_t proxy__site_port_hosts(const struct proxy_plan *plan, const struct proxy_site *site,
                              uint16_t port, size_t *out);
/* proxy__port_tls says whether listener l, on `port`, is HTTPS: 443 always, 80 never, another
 * port as its listeners: entry says. */
bool proxy__port_tls(const struct scn_listener *l, uint16_t port);
/* proxy__ports lists the ports `hosts` (indices into scn->hosts) listen on: 443 and 80 always,
 * then every listeners: port in host and file order, each once (*out: the caller frees). */
size_t proxy__ports(const struct scn *scn, const size_t *hosts, size_t n_hosts, uint16_t **out);
/* proxy__is_ip_only: the host's HTTPS certificate names its IP address only. */
bool proxy__is_ip_only(const struct scn_host *h);

#endif
