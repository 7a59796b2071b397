/* proxy/proxy.c: brings a scenario's network up on one loop — the DNS server, and on each
 * address of the plan (proxy_plan.c: one loopback address per host, or the lab network's, maybe
 * shared) a listener per port for the hosts there — and keeps the port map that tells a client
 * model where a connection to a host's 443 or 80 really lands. */
#include "proxy/proxy.h"

#include "common/addr.h"
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "proxy/http/http.h"
#include "proxy/internal.h"
#include "proxy/tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One nominal (address, port) of the plan and where connections to it really go. */
struct port_entry {
  struct sockaddr_storage nominal;
  struct sockaddr_storage actual;
  bool listening;                 /* false: a bound socket that refuses connections */
  bool tls;                       /* when listening: HTTPS */
  struct http_listener *listener; /* when listening: for the hosts there that listen */
  int refuser_fd;                 /* when not listening: bound, never listen()ed → RST */
};

/* The ports of one address of the plan: 443, 80, then the listeners: ports of its hosts. */
struct site_ports {
  struct port_entry *ports;
  size_t n_ports;
};

struct proxy {
  uv_loop_t *loop;
  const struct scn *scn;
  struct jnl *jnl;
  struct ca *ca;
  struct labclock *clock; /* the listeners' delays run on it; NULL: real time */
  struct http_record rec; /* what the listeners record besides the journal */
  FILE *keylog;
  struct proxy_plan *own_plan;   /* the loopback plan made here, or NULL */
  const struct proxy_plan *plan; /* where the hosts are: own_plan or the caller's */
  struct site_ports *sites;      /* per plan site */
  size_t n_sites;
  size_t n_hosts;
  struct dns_zoneset *zones;
  struct dns_server *dns;
  struct sockaddr_storage dns_addr;
  struct proxy_limits limits;
  uint32_t *counts; /* per route answer with first: N, what its listener's sessions count */
  size_t n_counts;
};

struct proxy_limits proxy_limits_default(void) {
  return (struct proxy_limits){
      .max_conns = HTTP_MAX_CONNS,
      .max_conns_per_client = HTTP_MAX_CONNS_PER_CLIENT,
      .head_timeout_ms = HTTP_HEAD_MS,
      .body_timeout_ms = HTTP_BODY_MS,
      .handshake_timeout_ms = HTTP_HANDSHAKE_MS,
      .dns_tcp_max_conns = DNS_TCP_MAX_CONNS,
      .dns_tcp_max_per_client = DNS_TCP_MAX_PER_CLIENT,
      .dns_tcp_timeout_ms = DNS_TCP_TIMEOUT_MS,
  };
}

const char *proxy_strerror(enum proxy_status st) {
  switch (st) {
    case PROXY_OK: return "no error";
    case PROXY_EADDRESS: return "no usable lab address";
    case PROXY_ECERT: return "a host's certificate or TLS setup failed";
    case PROXY_EZONE: return "the scenario's DNS records do not make zones";
    case PROXY_ELISTEN: return "cannot listen on a lab address";
  }
  return "unknown lab network error";
}

static enum proxy_status fail(char *err, size_t err_size, enum proxy_status st, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));

/* fail writes the sentence for people into err and returns `st`. */
static enum proxy_status fail(char *err, size_t err_size, enum proxy_status st, const char *fmt,
                              ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
  return st;
}

static uint16_t port_of(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET6) {
    return ntohs(((const struct sockaddr_in6 *) ss)->sin6_port);
  }
  return ntohs(((const struct sockaddr_in *) ss)->sin_port);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port) {
  if (ss->ss_family == AF_INET6) {
    ((struct sockaddr_in6 *) ss)->sin6_port = htons(port);
  } else {
    ((struct sockaddr_in *) ss)->sin_port = htons(port);
  }
}

static bool same_ip(const struct sockaddr *a, const struct sockaddr_storage *b) {
  if (a->sa_family != b->ss_family) {
    return false;
  }
  if (a->sa_family == AF_INET6) {
    return memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
                  &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof(struct in6_addr)) == 0;
  }
  return ((const struct sockaddr_in *) a)->sin_addr.s_addr ==
         ((const struct sockaddr_in *) b)->sin_addr.s_addr;
}

/* start_refuser binds a socket that never listens: a SYN to it is answered with RST, which is
 * what a machine without a listener on that port does. */
static enum proxy_status start_refuser(struct port_entry *e,
                                       const struct sockaddr_storage *bind_addr, char *err,
                                       size_t err_size) {
  int fd = socket(bind_addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail(err, err_size, PROXY_ELISTEN, "socket: %s", strerror(errno));
  }
  e->actual = *bind_addr;
  if (bind(fd, (struct sockaddr *) &e->actual, addr_len((struct sockaddr *) &e->actual)) != 0) {
    int saved = errno;
    close(fd);
    return fail(err, err_size, PROXY_ELISTEN, "bind: %s", strerror(saved));
  }
  socklen_t len = sizeof e->actual;
  getsockname(fd, (struct sockaddr *) &e->actual, &len);
  e->refuser_fd = fd;
  e->listening = false;
  return PROXY_OK;
}

/* host_tls_ctx mints the chain for a host's HTTPS listener and makes its TLS context (*out, the
 * caller frees it), with the protocol range the scenario gives. */
static enum proxy_status host_tls_ctx(SSL_CTX **out, struct ca *ca, const struct scn_host *sh,
                                      const struct scn_listener *l, const char *address, char *err,
                                      size_t err_size) {
  char why[512];
  SSL_CTX *ctx = NULL;
  *out = NULL;
  struct ca_chain *chain = NULL;
  const char *const *names = (const char *const *) l->cert.names;
  size_t n_names = l->cert.n_names;
  if (n_names == 0) {
    names = (const char *const *) sh->names;
    n_names = sh->n_names;
  }
  const char *fallback = NULL;
  char fallback_name[300];
  if (n_names == 0) {
    buf_fmt(fallback_name, sizeof fallback_name, "%s.lab.invalid", sh->id);
    fallback = fallback_name;
    names = &fallback;
    n_names = 1;
  }
  struct ca_request req = {
      .profile = l->cert.profile,
      .names = names,
      .n_names = n_names,
      .ip = address, /* the host's lab address: what ip-only certifies; others ignore it */
      .key_type = l->cert.key_type,
      .has_not_before = l->cert.has_not_before,
      .not_before = l->cert.not_before,
      .has_not_after = l->cert.has_not_after,
      .not_after = l->cert.not_after,
  };
  enum ca_status st = ca_mint_request(ca, &chain, &req);
  if (st != CA_OK) {
    return fail(err, err_size, PROXY_ECERT, "%s:%d:%d: host %s: %s", l->cert.mark.file,
                l->cert.mark.line, l->cert.mark.col, sh->id, ca_detail(ca));
  }
  enum tls_status ts = tls_server_ctx_new(&ctx, chain, why, sizeof why);
  ca_chain_free(chain);
  if (ts != TLS_OK) {
    return fail(err, err_size, PROXY_ECERT, "host %s: TLS: %s", sh->id, why);
  }
  if (tls_server_ctx_set_versions(ctx, l->tls_min, l->tls_max, why, sizeof why) != TLS_OK) {
    SSL_CTX_free(ctx);
    return fail(err, err_size, PROXY_ECERT, "%s:%d:%d: host %s: TLS: %s", l->mark.file,
                l->mark.line, l->mark.col, sh->id, why);
  }
  *out = ctx;
  return PROXY_OK;
}

/* bind_port_for is the port a listener for `nominal` binds: the options' for 443 and 80; for a
 * listeners: port, the port itself, or a free one (0) when the options ask for free ports for
 * its scheme (serve --https-port 0 for TLS, --http-port 0 for plain HTTP; run always). */
static int bind_port_for(const struct proxy_options *opt, uint16_t nominal, bool tls) {
  if (nominal == 443) {
    return opt->https_port;
  }
  if (nominal == 80) {
    return opt->http_port;
  }
  return (tls ? opt->https_port : opt->http_port) == 0 ? 0 : nominal;
}

/* site_port starts one port of one address: a listener for the hosts there that listen on it
 * (each with its own certificate, told apart by SNI and Host), or a socket that refuses. */
static enum proxy_status site_port(struct proxy *p, size_t site_i, struct port_entry *e,
                                   const struct proxy_options *opt, uint16_t nominal, char *err,
                                   size_t err_size) {
  char why[512];
  struct ca *ca = opt->ca;
  const struct proxy_site *site = &p->plan->sites[site_i];
  e->refuser_fd = -1;
  size_t *hosts = xcalloc(site->n_hosts > 0 ? site->n_hosts : 1, sizeof *hosts);
  size_t n = proxy__site_port_hosts(p->plan, site, nominal, hosts);
  bool https = n > 0
                   ? proxy__port_tls(scn_host_listener(&p->scn->hosts[hosts[0]], nominal), nominal)
                   : nominal == 443;
  int bind_port = bind_port_for(opt, nominal, https);
  struct sockaddr_storage bind_addr;
  memset(&bind_addr, 0, sizeof bind_addr);
  if (uv_ip4_addr(site->address, bind_port, (struct sockaddr_in *) &bind_addr) != 0 &&
      uv_ip6_addr(site->address, bind_port, (struct sockaddr_in6 *) &bind_addr) != 0) {
    free(hosts);
    return fail(err, err_size, PROXY_EADDRESS, "bad lab address %s", site->address);
  }
  e->nominal = bind_addr;
  set_port(&e->nominal, nominal);
  const char *ids = site->n_hosts > 0 ? p->scn->hosts[site->hosts[0]].id : "?";
  if (n == 0) {
    free(hosts);
    if (start_refuser(e, &bind_addr, why, sizeof why) != PROXY_OK) {
      return fail(err, err_size, PROXY_ELISTEN, "host %s: cannot reserve %s port %d: %s", ids,
                  site->address, bind_port, why);
    }
    return PROXY_OK;
  }
  struct http_vhost *vh = xcalloc(n, sizeof *vh);
  enum proxy_status st = PROXY_OK;
  for (size_t k = 0; k < n && st == PROXY_OK; k++) {
    const struct scn_host *sh = &p->scn->hosts[hosts[k]];
    const struct scn_listener *l = scn_host_listener(sh, nominal);
    vh[k] = (struct http_vhost){.host = sh, .l = l};
    if (!https) {
      continue;
    }
    const char *ip =
        p->plan->cert_ip[hosts[k]][0] != '\0' ? p->plan->cert_ip[hosts[k]] : site->address;
    st = host_tls_ctx(&vh[k].tls, ca, sh, l, ip, err, err_size);
    if (st == PROXY_OK && tls_server_ctx_set_session_id(vh[k].tls, sh->id) != TLS_OK) {
      st = fail(err, err_size, PROXY_ECERT, "host %s: TLS: session id", sh->id);
    }
    if (st == PROXY_OK && p->keylog != NULL) {
      tls_server_ctx_set_keylog(vh[k].tls, p->keylog);
    }
  }
  enum http_status hs = HTTP_OK;
  if (st == PROXY_OK) {
    hs = http_listener_start_shared(&e->listener, p->loop, (struct sockaddr *) &bind_addr, vh, n,
                                    p->clock, p->jnl, why, sizeof why);
  }
  for (size_t k = 0; k < n; k++) {
    SSL_CTX_free(vh[k].tls); /* the listener holds its own references */
  }
  free(vh);
  const char *id = p->scn->hosts[hosts[0]].id;
  free(hosts);
  if (st != PROXY_OK) {
    return st;
  }
  if (hs != HTTP_OK) {
    return fail(err, err_size, PROXY_ELISTEN, "host %s: cannot listen on %s port %d: %s", id,
                site->address, bind_port, why);
  }
  http_listener_set_record(e->listener, &p->rec);
  const struct http_limits lim = {.max_conns = p->limits.max_conns,
                                  .max_conns_per_client = p->limits.max_conns_per_client,
                                  .head_ms = p->limits.head_timeout_ms,
                                  .body_ms = p->limits.body_timeout_ms,
                                  .handshake_ms = p->limits.handshake_timeout_ms};
  http_listener_set_limits(e->listener, &lim);
  http_listener_addr(e->listener, &e->actual);
  e->listening = true;
  e->tls = https;
  return PROXY_OK;
}

enum proxy_status proxy_start(struct proxy **out, uv_loop_t *loop, const struct scn *scn,
                              const struct proxy_options *opt, char *err, size_t err_size) {
  *out = NULL;
  struct proxy *p = xcalloc(1, sizeof *p);
  p->loop = loop;
  p->scn = scn;
  p->jnl = opt->jnl;
  p->ca = opt->ca;
  p->clock = opt->clock;
  p->n_counts = scn->n_counters;
  p->counts = xcalloc(p->n_counts + 1, sizeof *p->counts);
  p->rec = (struct http_record){.har = opt->har,
                                .clear_credentials = opt->record_credentials,
                                .counts = p->counts,
                                .n_counts = p->n_counts};
  p->keylog = opt->keylog;
  p->limits = opt->limits != NULL ? *opt->limits : proxy_limits_default();
  p->n_hosts = scn->n_hosts;
  enum proxy_status st = PROXY_OK;
  p->plan = opt->plan;
  if (p->plan == NULL) {
    st = proxy__plan_loopback(&p->own_plan, scn, opt->address_base, err, err_size);
    p->plan = p->own_plan;
  } else if (p->plan->scn != scn) {
    st = fail(err, err_size, PROXY_EADDRESS, "the address plan was made for another scenario");
  }
  if (st == PROXY_OK) {
    p->n_sites = p->plan->n_sites;
    p->sites = xcalloc(p->n_sites > 0 ? p->n_sites : 1, sizeof *p->sites);
  }
  for (size_t i = 0; i < p->n_sites && st == PROXY_OK; i++) {
    const struct proxy_site *site = &p->plan->sites[i];
    if (site->n_hosts == 0) {
      continue; /* an address no host was placed on: nothing to bind */
    }
    uint16_t *ports = NULL;
    size_t n_ports = proxy__ports(scn, site->hosts, site->n_hosts, &ports);
    p->sites[i].ports = xcalloc(n_ports, sizeof *p->sites[i].ports);
    for (size_t k = 0; k < n_ports; k++) {
      p->sites[i].ports[k].refuser_fd = -1;
    }
    for (size_t k = 0; k < n_ports && st == PROXY_OK; k++) {
      p->sites[i].n_ports = k + 1;
      st = site_port(p, i, &p->sites[i].ports[k], opt, ports[k], err, err_size);
    }
    free(ports);
  }
  if (st == PROXY_OK) {
    char why[512];
    const char **addrs = xcalloc(scn->n_hosts > 0 ? scn->n_hosts : 1, sizeof *addrs);
    for (size_t i = 0; i < scn->n_hosts; i++) {
      addrs[i] = proxy_plan_host_address(p->plan, i);
    }
    if (dns_zoneset_new(&p->zones, scn, addrs, why, sizeof why) != DNS_OK) {
      st = fail(err, err_size, PROXY_EZONE, "DNS: %s", why);
    }
    free(addrs);
  }
  if (st == PROXY_OK) {
    struct sockaddr_storage dns_addr;
    const char *listen = opt->dns_listen != NULL ? opt->dns_listen : "127.0.0.1:0";
    char why[512];
    if (!addr_parse(listen, 0, &dns_addr)) {
      st = fail(err, err_size, PROXY_EADDRESS, "--dns %s: expected ADDR:PORT", listen);
    } else if (dns_server_start(&p->dns, loop, (struct sockaddr *) &dns_addr, p->zones, p->jnl, why,
                                sizeof why) != DNS_OK) {
      st = fail(err, err_size, PROXY_ELISTEN, "DNS: cannot listen on %s: %s", listen, why);
    } else {
      dns_server_set_limits(p->dns, p->limits.dns_tcp_max_conns, p->limits.dns_tcp_max_per_client,
                            p->limits.dns_tcp_timeout_ms);
      dns_server_addr(p->dns, &p->dns_addr);
    }
  }
  if (st != PROXY_OK) {
    proxy_close(p);
    return st;
  }
  *out = p;
  return PROXY_OK;
}

static void close_port(struct port_entry *e) {
  if (e->listener != NULL) {
    http_listener_close(e->listener);
    e->listener = NULL;
  }
  if (e->refuser_fd >= 0) {
    close(e->refuser_fd);
    e->refuser_fd = -1;
  }
}

void proxy_close(struct proxy *p) {
  if (p == NULL) {
    return;
  }
  for (size_t i = 0; i < p->n_sites; i++) {
    for (size_t k = 0; k < p->sites[i].n_ports; k++) {
      close_port(&p->sites[i].ports[k]);
    }
    free(p->sites[i].ports);
  }
  if (p->dns != NULL) {
    dns_server_close(p->dns); /* frees itself in its close callbacks */
  }
  /* The zones are read by the DNS server until its handles are closed, and a closing server
   * reads nothing more: the zones can go now. */
  dns_zoneset_free(p->zones);
  free(p->sites);
  free(p->counts); /* the listeners are closing: their sessions answer no more requests */
  proxy_plan_free(p->own_plan);
  free(p);
}

void proxy_dns_addr(const struct proxy *p, struct sockaddr_storage *out) {
  *out = p->dns_addr;
}

const char *proxy_host_address(const struct proxy *p, size_t i) {
  return i < p->n_hosts ? proxy_plan_host_address(p->plan, i) : NULL;
}

const char *proxy_host_cert_ip(const struct proxy *p, size_t i) {
  return i < p->n_hosts && p->plan->cert_ip[i][0] != '\0' ? p->plan->cert_ip[i] : NULL;
}

size_t proxy_n_warnings(const struct proxy *p) {
  return proxy_plan_n_warnings(p->plan);
}

const char *proxy_warning(const struct proxy *p, size_t i) {
  return proxy_plan_warning(p->plan, i);
}

uint16_t proxy_host_listener_port(const struct proxy *p, size_t i, uint16_t nominal) {
  if (i >= p->n_hosts) {
    return 0;
  }
  const struct scn_listener *l = scn_host_listener(&p->scn->hosts[i], nominal);
  const struct site_ports *site = &p->sites[p->plan->host_site[i]];
  for (size_t k = 0; l != NULL && l->present && k < site->n_ports; k++) {
    const struct port_entry *e = &site->ports[k];
    if (port_of(&e->nominal) == nominal) {
      /* on a shared address, another host's listener of the other scheme is not this host's */
      bool own = e->listening && e->tls == proxy__port_tls(l, nominal);
      return own ? port_of(&e->actual) : 0;
    }
  }
  return 0;
}

uint16_t proxy_host_port(const struct proxy *p, size_t i, bool https) {
  return proxy_host_listener_port(p, i, https ? 443 : 80);
}

bool proxy_map(void *arg, const struct sockaddr *want, struct sockaddr_storage *out) {
  const struct proxy *p = arg;
  uint16_t port = want->sa_family == AF_INET6
                      ? ntohs(((const struct sockaddr_in6 *) want)->sin6_port)
                      : ntohs(((const struct sockaddr_in *) want)->sin_port);
  for (size_t i = 0; i < p->n_sites; i++) {
    for (size_t k = 0; k < p->sites[i].n_ports; k++) {
      const struct port_entry *e = &p->sites[i].ports[k];
      if (port_of(&e->nominal) == port && same_ip(want, &e->nominal)) {
        *out = e->actual;
        return true;
      }
    }
  }
  return false;
}

static void port_json(struct jnl_event *doc, const char *key, uint16_t port) {
  if (port != 0) {
    jnl_uint(doc, key, port);
  } else {
    jnl_null(doc, key);
  }
}

/* What hosts sharing an address cannot keep apart (docs/commands.md, serve). */
static const char *const shared_losses[] = {
    "a port one host refuses is answered by the other hosts on the address that listen on it",
    "a fault (blackhole, reset, reset-after-hello, silent) applies to every host on the address "
    "and port",
    "a client that sends no SNI (or a name no host there has) gets the default host's "
    "certificate and TLS versions; without a Host header naming a host, the default host's "
    "routes answer",
};

/* addresses_json lists each address of the plan with its hosts, the default first. */
static void addresses_json(struct jnl_event *doc, const struct proxy *p) {
  jnl_arr_begin(doc, "addresses");
  for (size_t i = 0; i < p->plan->n_sites; i++) {
    const struct proxy_site *site = &p->plan->sites[i];
    jnl_obj_begin(doc, NULL);
    jnl_str(doc, "address", site->address);
    jnl_arr_begin(doc, "hosts");
    for (size_t k = 0; k < site->n_hosts; k++) {
      jnl_str(doc, NULL, p->scn->hosts[site->hosts[k]].id);
    }
    jnl_arr_end(doc);
    jnl_str(doc, "default", site->n_hosts > 0 ? p->scn->hosts[site->hosts[0]].id : NULL);
    jnl_bool(doc, "shared", site->n_hosts > 1);
    if (site->n_hosts > 1) {
      jnl_arr_begin(doc, "lost");
      for (size_t k = 0; k < sizeof shared_losses / sizeof *shared_losses; k++) {
        jnl_str(doc, NULL, shared_losses[k]);
      }
      jnl_arr_end(doc);
    }
    jnl_obj_end(doc);
  }
  jnl_arr_end(doc);
}

/* is_loopback: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address. */
static bool is_loopback(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) {
    return (ntohl(((const struct sockaddr_in *) ss)->sin_addr.s_addr) >> 24) == 127;
  }
  const struct in6_addr *a = &((const struct sockaddr_in6 *) ss)->sin6_addr;
  return ss->ss_family == AF_INET6 &&
         (IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127));
}

/* exposed_json lists the addresses the lab answers on (its DNS's, its hosts') that are not
 * loopback: every machine that reaches them reaches the lab. */
static void exposed_json(struct jnl_event *doc, const struct proxy *p) {
  jnl_arr_begin(doc, "exposed");
  char dns_ip[INET6_ADDRSTRLEN] = "";
  if (!is_loopback(&p->dns_addr)) {
    if (p->dns_addr.ss_family == AF_INET6) {
      uv_ip6_name((const struct sockaddr_in6 *) &p->dns_addr, dns_ip, sizeof dns_ip);
    } else {
      uv_ip4_name((const struct sockaddr_in *) &p->dns_addr, dns_ip, sizeof dns_ip);
    }
    jnl_str(doc, NULL, dns_ip);
  }
  for (size_t i = 0; i < p->plan->n_sites; i++) {
    const struct proxy_site *site = &p->plan->sites[i];
    struct sockaddr_storage ss;
    if (site->n_hosts == 0 || !addr_parse(site->address, 1, &ss) || is_loopback(&ss) ||
        strcmp(site->address, dns_ip) == 0) {
      continue;
    }
    jnl_str(doc, NULL, site->address);
  }
  jnl_arr_end(doc);
}

static void limits_json(struct jnl_event *doc, const struct proxy_limits *l) {
  jnl_obj_begin(doc, "limits");
  jnl_uint(doc, "max_conns", l->max_conns);
  jnl_uint(doc, "max_conns_per_client", l->max_conns_per_client);
  jnl_uint(doc, "head_timeout_ms", l->head_timeout_ms);
  jnl_uint(doc, "body_timeout_ms", l->body_timeout_ms);
  jnl_uint(doc, "handshake_timeout_ms", l->handshake_timeout_ms);
  jnl_uint(doc, "dns_tcp_max_conns", l->dns_tcp_max_conns);
  jnl_uint(doc, "dns_tcp_max_per_client", l->dns_tcp_max_per_client);
  jnl_uint(doc, "dns_tcp_timeout_ms", l->dns_tcp_timeout_ms);
  jnl_obj_end(doc);
}

char *proxy_ready_json(const struct proxy *p) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  char text[80];
  addr_format((const struct sockaddr *) &p->dns_addr, text, sizeof text);
  jnl_str(&doc, "dns", text);
  jnl_arr_begin(&doc, "hosts");
  for (size_t i = 0; i < p->n_hosts; i++) {
    const struct scn_host *sh = &p->scn->hosts[i];
    jnl_obj_begin(&doc, NULL);
    jnl_str(&doc, "id", sh->id);
    jnl_arr_begin(&doc, "names");
    for (size_t k = 0; k < sh->n_names; k++) {
      jnl_str(&doc, NULL, sh->names[k]);
    }
    jnl_arr_end(&doc);
    jnl_str(&doc, "address", proxy_host_address(p, i));
    port_json(&doc, "https", proxy_host_port(p, i, true));
    port_json(&doc, "http", proxy_host_port(p, i, false));
    jnl_arr_begin(&doc, "listeners"); /* the other ports: where each is really bound */
    for (size_t k = 0; k < sh->n_listeners; k++) {
      const struct scn_listener *l = &sh->listeners[k];
      jnl_obj_begin(&doc, NULL);
      jnl_uint(&doc, "port", l->port);
      jnl_bool(&doc, "tls", l->tls);
      port_json(&doc, "bound", proxy_host_listener_port(p, i, l->port));
      jnl_obj_end(&doc);
    }
    jnl_arr_end(&doc);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  addresses_json(&doc, p);
  jnl_arr_begin(&doc, "warnings");
  for (size_t i = 0; i < proxy_plan_n_warnings(p->plan); i++) {
    jnl_str(&doc, NULL, proxy_plan_warning(p->plan, i));
  }
  jnl_arr_end(&doc);
  jnl_str(&doc, "ca", p->ca != NULL ? ca_cert_path(p->ca) : NULL);
  exposed_json(&doc, p);
  limits_json(&doc, &p->limits);
  return jnl_doc_take(&doc);
}

void proxy_reset_dns_rules(struct proxy *p) {
  dns_zoneset_reset_rules(p->zones);
}

void proxy_reset_counts(struct proxy *p) {
  dns_zoneset_reset_rules(p->zones);
  if (p->n_counts > 0) {
    memset(p->counts, 0, p->n_counts * sizeof *p->counts);
  }
}
