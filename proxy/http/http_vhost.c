/* proxy/http/http_vhost.c: which of the hosts sharing an address and port a name belongs to —
 * the SNI of a TLS connection, or the Host header of a request — by the names the scenario gives
 * each host (the DNS names that resolve to it, wildcards included). */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <string.h>

/* bare_name strips a Host header's port (RFC 9110 §7.2: host [ ":" port ], an IPv6 literal in
 * brackets) and a fully qualified name's trailing dot. */
static struct slice bare_name(struct slice name) {
  if (name.len > 0 && name.ptr[0] == '[') {
    const uint8_t *end = memchr(name.ptr, ']', name.len);
    return end != NULL ? (struct slice){name.ptr, (size_t) (end - name.ptr) + 1} : name;
  }
  const uint8_t *colon = memchr(name.ptr, ':', name.len);
  if (colon != NULL) {
    name.len = (size_t) (colon - name.ptr);
  }
  while (name.len > 0 && name.ptr[name.len - 1] == '.') {
    name.len--;
  }
  return name;
}

/* name_matches: `pattern` is a host's DNS name; "*.suffix" matches names below suffix (one or
 * more labels, as the DNS wildcard that gave it answers them). */
static bool name_matches(const char *pattern, struct slice name) {
  if (pattern == NULL || name.len == 0) {
    return false;
  }
  size_t plen = strlen(pattern);
  while (plen > 0 && pattern[plen - 1] == '.') {
    plen--;
  }
  if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
    size_t suffix_len = plen - 1; /* ".suffix" */
    if (name.len <= suffix_len) {
      return false;
    }
    struct slice tail = {name.ptr + name.len - suffix_len, suffix_len};
    char suffix[256];
    if (suffix_len >= sizeof suffix) {
      return false;
    }
    memcpy(suffix, pattern + 1, suffix_len);
    suffix[suffix_len] = '\0';
    return slice_eq_nocase(tail, suffix);
  }
  char exact[256];
  if (plen >= sizeof exact) {
    return false;
  }
  memcpy(exact, pattern, plen);
  exact[plen] = '\0';
  return slice_eq_nocase(name, exact);
}

long http_vhost_find(const struct http_vhost *hosts, size_t n_hosts, struct slice name) {
  name = bare_name(name);
  /* an exact name first: a wildcard of one host must not take a name another host has */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < n_hosts; i++) {
      const struct scn_host *h = hosts[i].host;
      for (size_t k = 0; h != NULL && k < h->n_names; k++) {
        const char *n = h->names[k];
        bool wildcard = n != NULL && n[0] == '*';
        if (wildcard == (pass == 1) && name_matches(n, name)) {
          return (long) i;
        }
      }
    }
  }
  return -1;
}
