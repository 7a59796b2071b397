/* proxy/proxy_plan.c: where each simulated host listens. Without --listen every host has its own
 * loopback address; on a lab network (serve --listen, --map) the hosts are spread over the
 * addresses given, and when there are fewer addresses than hosts some share one: they are told
 * apart by SNI and the Host header, and each scenario feature that sharing cannot keep — a port
 * one host refuses while another listens, a fault, an ip-only certificate — is a warning. */
#include "common/buf.h"
#include "proxy/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Warnings being collected, or only counted (items NULL) when a placement is weighed. */
struct wlist {
  char **items;
  size_t n;
  bool count_only;
};

static void warn(struct wlist *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct wlist *w, const char *fmt, ...) {
  if (w->count_only) {
    w->n++;
    return;
  }
  char text[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  w->items = xrealloc_array(w->items, w->n + 1, sizeof *w->items);
  w->items[w->n++] = str_dup(text);
}

static enum proxy_status fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum proxy_status fail(char *err, size_t err_size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
  return PROXY_EADDRESS;
}

static const char *fault_name(enum scn_fault f) {
  switch (f) {
    case SCN_FAULT_NONE: return "none";
    case SCN_FAULT_BLACKHOLE: return "blackhole";
    case SCN_FAULT_RESET: return "reset";
    case SCN_FAULT_RESET_HELLO: return "reset-after-hello";
    case SCN_FAULT_SILENT: return "silent";
  }
  return "?";
}

bool proxy__is_ip_only(const struct scn_host *h) {
  return h->https.present && h->https.cert.profile != NULL &&
         strcmp(ca_profile_name(h->https.cert.profile), "ip-only") == 0;
}

bool proxy__port_tls(const struct scn_listener *l, uint16_t port) {
  return port == 443 || (port != 80 && l->tls); /* https: and http: are what their port says */
}

/* listens says whether h has a listener on `port`. */
static bool listens(const struct scn_host *h, uint16_t port) {
  const struct scn_listener *l = scn_host_listener(h, port);
  return l != NULL && l->present;
}

/* order_site puts `hosts` (n, any order) into site order in `out`: the default host first —
 * the first with an ip-only certificate, which only a client connecting by address (no SNI)
 * can be meant to get, else the first in scenario order — then the others in scenario order. */
static void order_site(const struct scn *scn, const size_t *hosts, size_t n, size_t *out) {
  memcpy(out, hosts, n * sizeof *out);
  for (size_t i = 1; i < n; i++) { /* insertion sort: a handful of hosts */
    size_t v = out[i], k = i;
    while (k > 0 && out[k - 1] > v) {
      out[k] = out[k - 1];
      k--;
    }
    out[k] = v;
  }
  for (size_t i = 0; i < n; i++) {
    if (proxy__is_ip_only(&scn->hosts[out[i]])) {
      size_t def = out[i];
      memmove(out + 1, out, i * sizeof *out);
      out[0] = def;
      break;
    }
  }
}

/* port_hosts lists the hosts (in site order) that listen on `port` with TLS or not as the first
 * of them does: one listener serves them all. */
static size_t port_hosts(const struct scn *scn, const size_t *ordered, size_t n, uint16_t port,
                         size_t *out) {
  size_t k = 0;
  bool tls = false;
  for (size_t i = 0; i < n; i++) {
    const struct scn_listener *l = scn_host_listener(&scn->hosts[ordered[i]], port);
    if (l == NULL || !l->present || (k > 0 && proxy__port_tls(l, port) != tls)) {
      continue;
    }
    tls = proxy__port_tls(l, port);
    out[k++] = ordered[i];
  }
  return k;
}

size_t proxy__site_port_hosts(const struct proxy_plan *plan, const struct proxy_site *site,
                              uint16_t port, size_t *out) {
  return port_hosts(plan->scn, site->hosts, site->n_hosts, port, out);
}

/* add_port adds `port` to ports (n of them, room for one more) unless it is there. */
static void add_port(uint16_t *ports, size_t *n, uint16_t port) {
  for (size_t i = 0; i < *n; i++) {
    if (ports[i] == port) {
      return;
    }
  }
  ports[(*n)++] = port;
}

size_t proxy__ports(const struct scn *scn, const size_t *hosts, size_t n_hosts, uint16_t **out) {
  size_t cap = 2;
  for (size_t i = 0; i < n_hosts; i++) {
    cap += scn->hosts[hosts[i]].n_listeners;
  }
  uint16_t *ports = xcalloc(cap, sizeof *ports);
  size_t n = 0;
  add_port(ports, &n, 443);
  add_port(ports, &n, 80);
  for (size_t i = 0; i < n_hosts; i++) {
    const struct scn_host *h = &scn->hosts[hosts[i]];
    for (size_t k = 0; k < h->n_listeners; k++) {
      add_port(ports, &n, h->listeners[k].port);
    }
  }
  *out = ports;
  return n;
}

/* listening_warnings: what sharing `address`:port (hosts in site order) loses on one port that
 * some of them (listening[]) listen on. */
static void listening_warnings(const struct scn *scn, const char *address, const size_t *ordered,
                               size_t n, const size_t *listening, size_t n_listening, uint16_t port,
                               struct wlist *w) {
  bool https = port == 443;
  const struct scn_host *first = &scn->hosts[listening[0]];
  bool tls = proxy__port_tls(scn_host_listener(first, port), port);
  for (size_t i = 0; i < n; i++) {
    const struct scn_host *h = &scn->hosts[ordered[i]];
    if (!listens(h, port)) {
      warn(w,
           "host %s: port %u refuses connections in the scenario, but %s shares %s with host %s, "
           "which answers %s:%u",
           h->id, (unsigned) port, h->id, address, first->id, address, (unsigned) port);
    } else if (proxy__port_tls(scn_host_listener(h, port), port) != tls) {
      warn(w,
           "host %s: its port %u is %s, but %s:%u is host %s's %s listener, which answers for it",
           h->id, (unsigned) port, tls ? "plain HTTP" : "TLS", address, (unsigned) port, first->id,
           tls ? "TLS" : "plain HTTP");
    }
  }
  if (n_listening < 2) {
    return;
  }
  const struct scn_host *faulty = NULL;
  for (size_t i = 0; i < n_listening && faulty == NULL; i++) {
    const struct scn_host *h = &scn->hosts[listening[i]];
    if (scn_host_listener(h, port)->fault != SCN_FAULT_NONE) {
      faulty = h;
    }
  }
  for (size_t i = 0; faulty != NULL && i < n_listening; i++) {
    const struct scn_host *h = &scn->hosts[listening[i]];
    enum scn_fault mine = scn_host_listener(h, port)->fault;
    enum scn_fault theirs = scn_host_listener(faulty, port)->fault;
    if (h == faulty || mine == theirs) {
      continue;
    }
    if (mine == SCN_FAULT_NONE) {
      warn(w, "host %s: shares %s:%u with host %s, whose %s fault applies to every host there",
           h->id, address, (unsigned) port, faulty->id, fault_name(theirs));
    } else {
      warn(w, "host %s: its %s fault on port %u is lost: %s:%u has host %s's %s fault", h->id,
           fault_name(mine), (unsigned) port, address, (unsigned) port, faulty->id,
           fault_name(theirs));
    }
  }
  for (size_t i = 1; https && i < n_listening; i++) {
    const struct scn_host *h = &scn->hosts[listening[i]];
    if (proxy__is_ip_only(h)) {
      warn(w,
           "host %s: its ip-only certificate goes only to clients that name the host (SNI); a "
           "client connecting to %s by address sends no name and gets host %s's certificate",
           h->id, address, first->id);
    }
  }
}

/* port_warnings: what sharing `address`:port (hosts in site order) loses on one port. */
static void port_warnings(const struct scn *scn, const char *address, const size_t *ordered,
                          size_t n, uint16_t port, struct wlist *w) {
  size_t *listening = xcalloc(n, sizeof *listening);
  size_t n_listening = port_hosts(scn, ordered, n, port, listening);
  if (n_listening > 0) {
    listening_warnings(scn, address, ordered, n, listening, n_listening, port, w);
  }
  free(listening);
}

static void site_warnings(const struct scn *scn, const char *address, const size_t *hosts, size_t n,
                          struct wlist *w) {
  if (n < 2) {
    return;
  }
  size_t *ordered = xcalloc(n, sizeof *ordered);
  order_site(scn, hosts, n, ordered);
  uint16_t *ports = NULL;
  size_t n_ports = proxy__ports(scn, ordered, n, &ports);
  for (size_t i = 0; i < n_ports; i++) {
    port_warnings(scn, address, ordered, n, ports[i], w);
  }
  free(ports);
  free(ordered);
}

/* sharing_cost counts the warnings host h adds to `site`. */
static size_t sharing_cost(const struct scn *scn, const struct proxy_site *site, size_t h) {
  struct wlist before = {.count_only = true}, after = {.count_only = true};
  site_warnings(scn, site->address, site->hosts, site->n_hosts, &before);
  size_t *with = xcalloc(site->n_hosts + 1, sizeof *with);
  if (site->n_hosts > 0) {
    memcpy(with, site->hosts, site->n_hosts * sizeof *with);
  }
  with[site->n_hosts] = h;
  site_warnings(scn, site->address, with, site->n_hosts + 1, &after);
  free(with);
  return after.n - before.n;
}

/* sensitivity: how much a host's scenario depends on an address of its own (a refused port, a
 * fault, an ip-only certificate); such hosts are placed first. */
static unsigned sensitivity(const struct scn_host *h) {
  unsigned s = 0;
  for (int k = 0; k < 2; k++) {
    const struct scn_listener *l = k == 0 ? &h->https : &h->http;
    s += !l->present || l->fault != SCN_FAULT_NONE;
  }
  for (size_t k = 0; k < h->n_listeners; k++) {
    s += 1 + (h->listeners[k].fault != SCN_FAULT_NONE); /* a port the other hosts lack */
  }
  return s + (proxy__is_ip_only(h) ? 2 : 0);
}

static void site_add(struct proxy_plan *plan, size_t site, size_t host) {
  struct proxy_site *s = &plan->sites[site];
  s->hosts = xrealloc_array(s->hosts, s->n_hosts + 1, sizeof *s->hosts);
  s->hosts[s->n_hosts++] = host;
  plan->host_site[host] = site;
}

static size_t site_find(const struct proxy_plan *plan, const char *address) {
  for (size_t i = 0; i < plan->n_sites; i++) {
    if (strcmp(plan->sites[i].address, address) == 0) {
      return i;
    }
  }
  return plan->n_sites;
}

static size_t site_get(struct proxy_plan *plan, const char *address) {
  size_t i = site_find(plan, address);
  if (i == plan->n_sites) {
    plan->sites = xrealloc_array(plan->sites, plan->n_sites + 1, sizeof *plan->sites);
    memset(&plan->sites[i], 0, sizeof plan->sites[i]);
    buf_fmt(plan->sites[i].address, sizeof plan->sites[i].address, "%s", address);
    plan->n_sites++;
  }
  return i;
}

static struct proxy_plan *plan_alloc(const struct scn *scn, bool network) {
  struct proxy_plan *plan = xcalloc(1, sizeof *plan);
  plan->scn = scn;
  plan->network = network;
  size_t n = scn->n_hosts > 0 ? scn->n_hosts : 1;
  plan->host_site = xcalloc(n, sizeof *plan->host_site);
  plan->cert_ip = xcalloc(n, sizeof *plan->cert_ip);
  return plan;
}

/* finish puts each site in site order and collects the warnings. */
static void finish(struct proxy_plan *plan) {
  struct wlist w = {0};
  for (size_t i = 0; i < plan->n_sites; i++) {
    struct proxy_site *s = &plan->sites[i];
    if (s->n_hosts == 0) {
      warn(&w, "%s: no host was placed there (more addresses than hosts)", s->address);
      continue;
    }
    size_t *ordered = xcalloc(s->n_hosts, sizeof *ordered);
    order_site(plan->scn, s->hosts, s->n_hosts, ordered);
    memcpy(s->hosts, ordered, s->n_hosts * sizeof *ordered);
    free(ordered);
    site_warnings(plan->scn, s->address, s->hosts, s->n_hosts, &w);
  }
  for (size_t i = 0; i < plan->scn->n_hosts; i++) {
    const struct scn_host *h = &plan->scn->hosts[i];
    const char *address = plan->sites[plan->host_site[i]].address;
    if (plan->cert_ip[i][0] != '\0' && strcmp(plan->cert_ip[i], address) != 0) {
      warn(&w,
           "host %s: its ip-only certificate names %s, not %s: the lab CA certifies loopback "
           "addresses only, so a client connecting to %s sees a name mismatch",
           h->id, plan->cert_ip[i], address, address);
    }
  }
  plan->warnings = w.items;
  plan->n_warnings = w.n;
}

/* loopback_address gives host i its scenario address or the i-th after `base`. */
static bool loopback_address(char *out, size_t out_size, const struct scn_host *h, const char *base,
                             size_t i) {
  if (h->address != NULL) {
    return buf_fmt(out, out_size, "%s", h->address);
  }
  struct in_addr a;
  if (inet_pton(AF_INET, base, &a) != 1) {
    return false;
  }
  uint32_t n = ntohl(a.s_addr) + (uint32_t) i;
  if ((n >> 24) != 127) {
    return false; /* the lab never leaves 127.0.0.0/8 */
  }
  a.s_addr = htonl(n);
  return inet_ntop(AF_INET, &a, out, (socklen_t) out_size) != NULL;
}

enum proxy_status proxy__plan_loopback(struct proxy_plan **out, const struct scn *scn,
                                       const char *base, char *err, size_t err_size) {
  *out = NULL;
  base = base != NULL ? base : "127.77.0.1";
  struct proxy_plan *plan = plan_alloc(scn, false);
  for (size_t i = 0; i < scn->n_hosts; i++) {
    char address[INET6_ADDRSTRLEN];
    if (!loopback_address(address, sizeof address, &scn->hosts[i], base, i)) {
      proxy_plan_free(plan);
      return fail(err, err_size, "host %s: no loopback address can be allocated from %s",
                  scn->hosts[i].id, base);
    }
    site_add(plan, site_get(plan, address), i);
    if (proxy__is_ip_only(&scn->hosts[i])) {
      buf_fmt(plan->cert_ip[i], sizeof plan->cert_ip[i], "%s", address);
    }
  }
  finish(plan);
  *out = plan;
  return PROXY_OK;
}

/* lab_address checks one --listen or --map address: a single IPv4 host address, written back
 * in its canonical form. */
static bool lab_address(const char *text, char *out, size_t out_size, char *why, size_t why_size) {
  struct in_addr a;
  struct in6_addr a6;
  if (inet_pton(AF_INET, text, &a) != 1) {
    buf_fmt(why, why_size,
            inet_pton(AF_INET6, text, &a6) == 1
                ? "IPv6 lab addresses are not supported; give an IPv4 address"
                : "not an IPv4 address");
    return false;
  }
  uint32_t n = ntohl(a.s_addr);
  if (n == 0) {
    buf_fmt(why, why_size,
            "the wildcard address cannot be a host's address: DNS must answer with the "
            "address a client connects to");
    return false;
  }
  if ((n >> 28) == 0xe || n == 0xffffffffu) {
    buf_fmt(why, why_size, "a multicast or broadcast address cannot be a host's address");
    return false;
  }
  inet_ntop(AF_INET, &a, out, (socklen_t) out_size);
  return true;
}

static void host_ids(const struct scn *scn, char *out, size_t out_size) {
  struct buf b;
  buf_init(&b, out_size > 0 ? out_size - 1 : 0);
  for (size_t i = 0; i < scn->n_hosts; i++) {
    buf_appendf(&b, "%s%s", i > 0 ? ", " : "", scn->hosts[i].id);
  }
  buf_fmt(out, out_size, "%s", scn->n_hosts > 0 ? buf_cstr(&b) : "none");
  buf_cleanup(&b);
}

/* pin reads one --map HOST=IP into plan. */
static enum proxy_status pin(struct proxy_plan *plan, bool *pinned, const char *map, char *err,
                             size_t err_size) {
  const struct scn *scn = plan->scn;
  const char *eq = strchr(map, '=');
  if (eq == NULL || eq == map || eq[1] == '\0') {
    return fail(err, err_size, "--map %s: expected HOST=IP (a host of the scenario, an address)",
                map);
  }
  size_t host = scn->n_hosts;
  for (size_t i = 0; i < scn->n_hosts; i++) {
    const char *id = scn->hosts[i].id;
    if (strlen(id) == (size_t) (eq - map) && memcmp(id, map, (size_t) (eq - map)) == 0) {
      host = i;
    }
  }
  if (host == scn->n_hosts) {
    char ids[512];
    host_ids(scn, ids, sizeof ids);
    return fail(err, err_size, "--map %s: the scenario has no host '%.*s' (its hosts: %s)", map,
                (int) (eq - map), map, ids);
  }
  char address[INET6_ADDRSTRLEN], why[200];
  if (!lab_address(eq + 1, address, sizeof address, why, sizeof why)) {
    return fail(err, err_size, "--map %s: %s", map, why);
  }
  if (pinned[host]) {
    return fail(err, err_size, "--map %s: host %s is pinned twice", map, scn->hosts[host].id);
  }
  pinned[host] = true;
  site_add(plan, site_get(plan, address), host);
  return PROXY_OK;
}

/* place puts every host not pinned where it costs least: each on the address where it adds the
 * fewest warnings, then the one with the fewest hosts, then the first given. When some must
 * share, the hosts that depend most on an address of their own go first; when there are
 * addresses enough, the hosts go in scenario order. */
static void place(struct proxy_plan *plan, const bool *pinned) {
  const struct scn *scn = plan->scn;
  size_t *order = xcalloc(scn->n_hosts > 0 ? scn->n_hosts : 1, sizeof *order);
  size_t n_free = 0, n_unpinned = 0;
  for (size_t s = 0; s < plan->n_sites; s++) {
    n_free += plan->sites[s].n_hosts == 0;
  }
  for (size_t i = 0; i < scn->n_hosts; i++) {
    n_unpinned += !pinned[i];
  }
  bool crowded = n_unpinned > n_free;
  size_t n = 0;
  for (size_t i = 0; i < scn->n_hosts; i++) {
    if (pinned[i]) {
      continue;
    }
    size_t k = n++;
    while (crowded && k > 0 &&
           sensitivity(&scn->hosts[order[k - 1]]) < sensitivity(&scn->hosts[i])) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = i;
  }
  for (size_t k = 0; k < n; k++) {
    size_t h = order[k], best = 0, best_cost = SIZE_MAX;
    for (size_t s = 0; s < plan->n_sites; s++) {
      size_t cost = sharing_cost(scn, &plan->sites[s], h);
      if (cost < best_cost ||
          (cost == best_cost && plan->sites[s].n_hosts < plan->sites[best].n_hosts)) {
        best = s;
        best_cost = cost;
      }
    }
    site_add(plan, best, h);
  }
  free(order);
}

enum proxy_status proxy_plan_new(struct proxy_plan **out, const struct scn *scn,
                                 const char *const *listen, size_t n_listen,
                                 const char *const *maps, size_t n_maps, char *err,
                                 size_t err_size) {
  *out = NULL;
  if (n_listen == 0 && n_maps == 0) {
    return fail(err, err_size, "no lab-network address: give --listen IP or --map HOST=IP");
  }
  struct proxy_plan *plan = plan_alloc(scn, true);
  bool *pinned = xcalloc(scn->n_hosts > 0 ? scn->n_hosts : 1, sizeof *pinned);
  enum proxy_status st = PROXY_OK;
  for (size_t i = 0; i < n_listen && st == PROXY_OK; i++) {
    char address[INET6_ADDRSTRLEN], why[200];
    if (!lab_address(listen[i], address, sizeof address, why, sizeof why)) {
      st = fail(err, err_size, "--listen %s: %s", listen[i], why);
    } else {
      site_get(plan, address);
    }
  }
  for (size_t i = 0; i < n_maps && st == PROXY_OK; i++) {
    st = pin(plan, pinned, maps[i], err, err_size);
  }
  if (st == PROXY_OK) {
    place(plan, pinned);
    for (size_t i = 0; i < scn->n_hosts; i++) {
      if (!proxy__is_ip_only(&scn->hosts[i])) {
        continue;
      }
      /* the address it would have had on loopback: what the name-constrained lab CA may sign */
      if (!loopback_address(plan->cert_ip[i], sizeof plan->cert_ip[i], &scn->hosts[i], "127.77.0.1",
                            i)) {
        buf_fmt(plan->cert_ip[i], sizeof plan->cert_ip[i], "127.77.0.1");
      }
    }
    finish(plan);
  }
  free(pinned);
  if (st != PROXY_OK) {
    proxy_plan_free(plan);
    return st;
  }
  *out = plan;
  return PROXY_OK;
}

void proxy_plan_free(struct proxy_plan *plan) {
  if (plan == NULL) {
    return;
  }
  for (size_t i = 0; i < plan->n_sites; i++) {
    free(plan->sites[i].hosts);
  }
  for (size_t i = 0; i < plan->n_warnings; i++) {
    free(plan->warnings[i]);
  }
  free(plan->sites);
  free(plan->host_site);
  free(plan->cert_ip);
  free(plan->warnings);
  free(plan);
}

const char *proxy_plan_host_address(const struct proxy_plan *plan, size_t host) {
  return host < plan->scn->n_hosts ? plan->sites[plan->host_site[host]].address : NULL;
}

size_t proxy_plan_n_addresses(const struct proxy_plan *plan) {
  return plan->n_sites;
}

const char *proxy_plan_address(const struct proxy_plan *plan, size_t i) {
  return i < plan->n_sites ? plan->sites[i].address : NULL;
}

size_t proxy_plan_n_warnings(const struct proxy_plan *plan) {
  return plan->n_warnings;
}

const char *proxy_plan_warning(const struct proxy_plan *plan, size_t i) {
  return i < plan->n_warnings ? plan->warnings[i] : NULL;
}
