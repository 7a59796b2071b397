/* scenario/scn_upstream.c: an upstream route — `upstream: https://REAL/` and its upstream_* keys:
 * the real server a request is forwarded to, the roots its certificate is checked against, and
 * how its name is found (docs/scenarios.md, "Upstream routes"). */
#include "common/buf.h"
#include "scenario/internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

enum {
  UPSTREAM_TIMEOUT_MS = 10000,
  UPSTREAM_MAX_TIMEOUT_MS = 10 * 60 * 1000,
};

/* split_authority reads HOST[:PORT] (HOST an IPv6 literal in brackets, an IPv4 literal or a DNS
 * name) of the `len` bytes at `a` into u. */
static bool split_authority(struct scn__ld *ld, const struct scn__node *n, const char *a,
                            size_t len, struct scn_upstream *u) {
  char host[256];
  const char *port = NULL;
  size_t host_len = len;
  if (memchr(a, '@', len) != NULL) {
    return scn__fail(ld, n,
                     "upstream URL \"%s\" holds user information: the lab forwards the client's "
                     "credentials, it has none of its own",
                     n->text);
  }
  if (len > 0 && a[0] == '[') {
    const char *close = memchr(a, ']', len);
    if (close == NULL) {
      return scn__fail(ld, n, "upstream URL \"%s\": an IPv6 address ends with ]", n->text);
    }
    host_len = (size_t) (close - a - 1);
    if (host_len >= sizeof host) {
      return scn__fail(ld, n, "upstream URL \"%s\": the host is too long", n->text);
    }
    memcpy(host, a + 1, host_len);
    host[host_len] = 0;
    if (close + 1 < a + len) {
      if (close[1] != ':') {
        return scn__fail(ld, n, "upstream URL \"%s\": expected :PORT after the address", n->text);
      }
      port = close + 2;
    }
    unsigned char bin[16];
    if (inet_pton(AF_INET6, host, bin) != 1) {
      return scn__fail(ld, n, "upstream URL \"%s\": \"%s\" is not an IPv6 address", n->text, host);
    }
  } else {
    const char *colon = memchr(a, ':', len);
    if (colon != NULL) {
      host_len = (size_t) (colon - a);
      port = colon + 1;
    }
    if (host_len == 0 || host_len >= sizeof host) {
      return scn__fail(ld, n, "upstream URL \"%s\" has no host", n->text);
    }
    memcpy(host, a, host_len);
    host[host_len] = 0;
    str_lower(host);
    unsigned char bin[4];
    const char *problem = NULL;
    if (inet_pton(AF_INET, host, bin) != 1 &&
        (problem = scn__dns_name_problem(host, SCN__NO_WILDCARD)) != NULL) {
      return scn__fail(ld, n, "upstream URL \"%s\": host \"%s\" %s", n->text, host, problem);
    }
  }
  uint32_t p = u->https ? 443 : 80;
  if (port != NULL) {
    char digits[8];
    size_t plen = (size_t) (a + len - port);
    if (plen == 0 || plen >= sizeof digits) {
      return scn__fail(ld, n, "upstream URL \"%s\": the port is not a number from 1 to 65535",
                       n->text);
    }
    memcpy(digits, port, plen);
    digits[plen] = 0;
    if (!parse_u32(digits, 1, 65535, &p)) {
      return scn__fail(ld, n, "upstream URL \"%s\": the port is not a number from 1 to 65535",
                       n->text);
    }
  }
  u->host = str_dup(host);
  u->port = (uint16_t) p;
  return true;
}

/* split_url reads the upstream URL `n` into u: scheme, host, port and base path. */
static bool split_url(struct scn__ld *ld, const struct scn__node *n, struct scn_upstream *u) {
  if (!scn__url(ld, n, "upstream URL")) {
    return false;
  }
  u->url = str_dup(n->text);
  u->https = strncmp(n->text, "https://", 8) == 0;
  const char *a = n->text + (u->https ? 8 : 7);
  size_t alen = strcspn(a, "/?#");
  if (!split_authority(ld, n, a, alen, u)) {
    return false;
  }
  const char *path = a + alen;
  if (strpbrk(path, "?#") != NULL) {
    return scn__fail(ld, n,
                     "upstream URL \"%s\" has a query or fragment: the client's path and query "
                     "are appended to the URL's path",
                     n->text);
  }
  size_t plen = strlen(path);
  while (plen > 0 && path[plen - 1] == '/') {
    plen--;
  }
  u->base_path = str_ndup(path, plen);
  return true;
}

/* load_trust reads upstream_trust: `system`, or a PEM file of roots (resolved against the
 * scenario's folder) that must be readable now. */
static bool load_trust(struct scn__ld *ld, const struct scn__node *n, struct scn_upstream *u) {
  if (!u->https) {
    return scn__fail(ld, n, "upstream_trust goes with an https:// upstream");
  }
  if (strcmp(n->text, "system") == 0) {
    return true;
  }
  if (n->len == 0 || scn__has_control(n->text)) {
    return scn__fail(ld, n, "upstream_trust is system or the path of a PEM file of certificates");
  }
  char *path = scn__resolve_path(n->file, n->text);
  if (path == NULL) {
    return scn__fail(ld, n, "upstream_trust: the path is too long");
  }
  struct buf text;
  char why[256];
  if (!scn__read_file(path, SCN__MAX_FILE_LEN, &text, why, sizeof why)) {
    bool r = scn__fail(ld, n, "upstream_trust: cannot read \"%s\": %s", path, why);
    free(path);
    return r;
  }
  bool pem = text.len > 0 && strstr(buf_cstr(&text), "-----BEGIN CERTIFICATE-----") != NULL;
  buf_cleanup(&text);
  if (!pem) {
    bool r = scn__fail(ld, n, "upstream_trust: \"%s\" holds no PEM certificate", path);
    free(path);
    return r;
  }
  u->trust = path;
  return true;
}

bool scn__load_upstream(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_route *r) {
  struct scn_upstream *u = &r->upstream;
  const struct scn__node *url = NULL;
  const struct scn__node *trust = NULL;
  const struct scn__node *address = NULL;
  const struct scn__node *dns = NULL;
  static const char *const not_with[] = {"headers", "auth", NULL};
  for (int i = 0; not_with[i] != NULL; i++) {
    const struct scn__node *v = scn__get(n, not_with[i]);
    if (v != NULL) {
      return scn__fail(ld, v,
                       "%s: %s does not go with upstream (the real server's answer is relayed "
                       "unchanged)",
                       path, not_with[i]);
    }
  }
  if (!scn__req_scalar(ld, n, path, "upstream", &url) || !split_url(ld, url, u) ||
      !scn__opt_scalar(ld, n, path, "upstream_trust", &trust) ||
      !scn__opt_scalar(ld, n, path, "upstream_address", &address) ||
      !scn__opt_scalar(ld, n, path, "upstream_dns", &dns)) {
    return false;
  }
  if (trust != NULL && !load_trust(ld, trust, u)) {
    return false;
  }
  if (address != NULL && dns != NULL) {
    return scn__fail(ld, dns,
                     "%s: upstream_dns is not used with upstream_address (nothing is "
                     "resolved)",
                     path);
  }
  if (address != NULL &&
      !scn__addr_port(ld, address, "upstream_address", u->port, &u->address, &u->address_port)) {
    return false;
  }
  if (dns != NULL) {
    char *ip = NULL;
    uint16_t port = 0;
    if (!scn__addr_port(ld, dns, "upstream_dns", 53, &ip, &port)) {
      return false;
    }
    u->dns = scn__addr_text(ip, port);
    free(ip);
  }
  u->timeout_ms = UPSTREAM_TIMEOUT_MS;
  r->status = 502; /* what the client gets when the real server cannot be reached */
  return scn__opt_bool(ld, n, path, "upstream_keep_host", &u->keep_host) &&
         scn__opt_duration(ld, n, path, "upstream_timeout", 100, UPSTREAM_MAX_TIMEOUT_MS, NULL,
                           &u->timeout_ms);
}

/* inherit gives one listener's upstream routes the overlay's resolver. */
static void inherit(const struct scn *s, struct scn_listener *l) {
  for (size_t i = 0; i < l->n_routes; i++) {
    struct scn_upstream *u = &l->routes[i].upstream;
    if (l->routes[i].kind == SCN_ROUTE_UPSTREAM && u->address == NULL && u->dns == NULL) {
      u->dns = str_dup(s->overlay.upstream);
    }
  }
}

void scn__upstream_inherit_dns(struct scn *s) {
  if (!s->overlay.present) {
    return; /* the system's resolver: nothing to write down */
  }
  for (size_t i = 0; i < s->n_hosts; i++) {
    inherit(s, &s->hosts[i].https);
    inherit(s, &s->hosts[i].http);
    for (size_t k = 0; k < s->hosts[i].n_listeners; k++) {
      inherit(s, &s->hosts[i].listeners[k]);
    }
  }
}
