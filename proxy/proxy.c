/* proxy/proxy.c: brings a scenario's network up on one loop — the DNS server, a listener per
 * simulated host and port, each host on its own loopback address — and keeps the port map that
 * tells a client model where a connection to a host's 443 or 80 really lands. */
#include "proxy/proxy.h"

#include "common/addr.h"
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "proxy/http/http.h"
#include "proxy/tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One nominal (address, port) of a host and where connections to it really go. */
struct port_entry {
  struct sockaddr_storage nominal;
  struct sockaddr_storage actual;
  bool listening;                 /* false: a bound socket that refuses connections */
  struct http_listener *listener; /* when listening */
  int refuser_fd;                 /* when not listening: bound, never listen()ed → RST */
};

struct proxy_host {
  char address[INET6_ADDRSTRLEN];
  struct port_entry https;
  struct port_entry http;
};

struct proxy {
  uv_loop_t *loop;
  const struct scn *scn;
  struct jnl *jnl;
  struct ca *ca;
  struct labclock *clock; /* the listeners' delays run on it; NULL: real time */
  struct http_record rec; /* what the listeners record besides the journal */
  FILE *keylog;
  struct proxy_host *hosts;
  size_t n_hosts;
  struct dns_zoneset *zones;
  struct dns_server *dns;
  struct sockaddr_storage dns_addr;
};

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

static socklen_t addr_len(const struct sockaddr_storage *ss) {
  return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* allocate_address gives host i the next loopback address after `base` unless it has one. */
static bool allocate_address(struct proxy_host *h, const struct scn_host *sh, const char *base,
                             size_t i) {
  if (sh->address != NULL) {
    return buf_fmt(h->address, sizeof h->address, "%s", sh->address);
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
  return inet_ntop(AF_INET, &a, h->address, sizeof h->address) != NULL;
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
  if (bind(fd, (struct sockaddr *) &e->actual, addr_len(&e->actual)) != 0) {
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

static enum proxy_status start_port(struct proxy *p, struct port_entry *e,
                                    const struct scn_host *sh, const struct scn_listener *l,
                                    struct ca *ca, uint16_t nominal, int bind_port, bool tls,
                                    char *err, size_t err_size) {
  char why[512];
  e->refuser_fd = -1;
  memset(&e->nominal, 0, sizeof e->nominal);
  struct sockaddr_storage bind_addr;
  size_t idx = (size_t) (sh - p->scn->hosts);
  const char *address = p->hosts[idx].address;
  if (uv_ip4_addr(address, bind_port, (struct sockaddr_in *) &bind_addr) != 0 &&
      uv_ip6_addr(address, bind_port, (struct sockaddr_in6 *) &bind_addr) != 0) {
    return fail(err, err_size, PROXY_EADDRESS, "host %s: bad address %s", sh->id, address);
  }
  e->nominal = bind_addr;
  set_port(&e->nominal, nominal);
  if (!l->present) {
    if (start_refuser(e, &bind_addr, why, sizeof why) != PROXY_OK) {
      return fail(err, err_size, PROXY_ELISTEN, "host %s: cannot reserve %s port %d: %s", sh->id,
                  address, bind_port, why);
    }
    return PROXY_OK;
  }
  SSL_CTX *ctx = NULL;
  if (tls) {
    enum proxy_status st = host_tls_ctx(&ctx, ca, sh, l, address, err, err_size);
    if (st != PROXY_OK) {
      return st;
    }
  }
  if (ctx != NULL && p->keylog != NULL) {
    tls_server_ctx_set_keylog(ctx, p->keylog);
  }
  enum http_status hs = http_listener_start(&e->listener, p->loop, (struct sockaddr *) &bind_addr,
                                            sh, l, ctx, p->clock, p->jnl, why, sizeof why);
  SSL_CTX_free(ctx); /* the listener holds its own reference */
  if (hs != HTTP_OK) {
    return fail(err, err_size, PROXY_ELISTEN, "host %s: cannot listen on %s port %d: %s", sh->id,
                address, bind_port, why);
  }
  http_listener_set_record(e->listener, &p->rec);
  http_listener_addr(e->listener, &e->actual);
  e->listening = true;
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
  p->rec = (struct http_record){.har = opt->har, .clear_credentials = opt->record_credentials};
  p->keylog = opt->keylog;
  p->n_hosts = scn->n_hosts;
  p->hosts = xcalloc(scn->n_hosts, sizeof *p->hosts);
  const char **addrs = xcalloc(scn->n_hosts, sizeof *addrs);
  const char *base = opt->address_base != NULL ? opt->address_base : "127.77.0.1";
  enum proxy_status st = PROXY_OK;
  for (size_t i = 0; i < scn->n_hosts; i++) {
    p->hosts[i].https.refuser_fd = -1;
    p->hosts[i].http.refuser_fd = -1;
  }
  for (size_t i = 0; i < scn->n_hosts && st == PROXY_OK; i++) {
    if (!allocate_address(&p->hosts[i], &scn->hosts[i], base, i)) {
      st = fail(err, err_size, PROXY_EADDRESS,
                "host %s: no loopback address can be allocated from %s", scn->hosts[i].id, base);
    }
    addrs[i] = p->hosts[i].address;
  }
  for (size_t i = 0; i < scn->n_hosts && st == PROXY_OK; i++) {
    const struct scn_host *sh = &scn->hosts[i];
    st = start_port(p, &p->hosts[i].https, sh, &sh->https, opt->ca, 443, opt->https_port, true, err,
                    err_size);
    if (st == PROXY_OK) {
      st = start_port(p, &p->hosts[i].http, sh, &sh->http, opt->ca, 80, opt->http_port, false, err,
                      err_size);
    }
  }
  if (st == PROXY_OK) {
    char why[512];
    if (dns_zoneset_new(&p->zones, scn, addrs, why, sizeof why) != DNS_OK) {
      st = fail(err, err_size, PROXY_EZONE, "DNS: %s", why);
    }
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
      dns_server_addr(p->dns, &p->dns_addr);
    }
  }
  free(addrs);
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
  for (size_t i = 0; i < p->n_hosts; i++) {
    close_port(&p->hosts[i].https);
    close_port(&p->hosts[i].http);
  }
  if (p->dns != NULL) {
    dns_server_close(p->dns); /* frees itself in its close callbacks */
  }
  /* The zones are read by the DNS server until its handles are closed, and a closing server
   * reads nothing more: the zones can go now. */
  dns_zoneset_free(p->zones);
  free(p->hosts);
  free(p);
}

void proxy_dns_addr(const struct proxy *p, struct sockaddr_storage *out) {
  *out = p->dns_addr;
}

const char *proxy_host_address(const struct proxy *p, size_t i) {
  return i < p->n_hosts ? p->hosts[i].address : NULL;
}

uint16_t proxy_host_port(const struct proxy *p, size_t i, bool https) {
  if (i >= p->n_hosts) {
    return 0;
  }
  const struct port_entry *e = https ? &p->hosts[i].https : &p->hosts[i].http;
  return e->listening ? port_of(&e->actual) : 0;
}

bool proxy_map(void *arg, const struct sockaddr *want, struct sockaddr_storage *out) {
  const struct proxy *p = arg;
  uint16_t port = want->sa_family == AF_INET6
                      ? ntohs(((const struct sockaddr_in6 *) want)->sin6_port)
                      : ntohs(((const struct sockaddr_in *) want)->sin_port);
  for (size_t i = 0; i < p->n_hosts; i++) {
    const struct port_entry *entries[] = {&p->hosts[i].https, &p->hosts[i].http};
    for (size_t k = 0; k < 2; k++) {
      const struct port_entry *e = entries[k];
      if (port_of(&e->nominal) == port && same_ip(want, &e->nominal)) {
        *out = e->actual;
        return true;
      }
    }
  }
  return false;
}

static void port_json(struct jnl_event *doc, const char *key, const struct port_entry *e) {
  if (e->listening) {
    jnl_uint(doc, key, port_of(&e->actual));
  } else {
    jnl_null(doc, key);
  }
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
    jnl_str(&doc, "address", p->hosts[i].address);
    port_json(&doc, "https", &p->hosts[i].https);
    port_json(&doc, "http", &p->hosts[i].http);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  jnl_str(&doc, "ca", p->ca != NULL ? ca_cert_path(p->ca) : NULL);
  return jnl_doc_take(&doc);
}

void proxy_reset_dns_rules(struct proxy *p) {
  dns_zoneset_reset_rules(p->zones);
}
