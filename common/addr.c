/* common/addr.c: socket addresses read from and written for people (libuv does the numeric
 * conversions). */
#include "common/addr.h"

#include "common/buf.h"

#include <netinet/in.h>
#include <string.h>
#include <uv.h>

bool addr_parse(const char *text, uint16_t default_port, struct sockaddr_storage *out) {
  char host[INET6_ADDRSTRLEN];
  const char *start = text;
  size_t len = strlen(text);
  const char *port_text = NULL;
  const char *first_colon = strchr(text, ':');
  const char *last_colon = strrchr(text, ':');
  memset(out, 0, sizeof *out);
  if (text[0] == '[') { /* "[V6]" or "[V6]:PORT" */
    const char *close = strchr(text, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
      return false;
    }
    port_text = close[1] == ':' ? close + 2 : NULL;
    start = text + 1;
    len = (size_t) (close - start);
  } else if (first_colon != NULL && first_colon == last_colon) { /* "ADDR:PORT" */
    port_text = first_colon + 1;
    len = (size_t) (first_colon - text);
  } /* else "ADDR" or a bare IPv6 address */
  uint32_t port = default_port;
  if (port_text != NULL ? !parse_u32(port_text, 0, 65535, &port) : default_port == 0) {
    return false;
  }
  if (len == 0 || len >= sizeof host) {
    return false;
  }
  memcpy(host, start, len);
  host[len] = '\0';
  if (uv_ip4_addr(host, (int) port, (struct sockaddr_in *) out) == 0 ||
      uv_ip6_addr(host, (int) port, (struct sockaddr_in6 *) out) == 0) {
    return true;
  }
  memset(out, 0, sizeof *out); /* nothing half-filled */
  return false;
}

socklen_t addr_len(const struct sockaddr *sa) {
  return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

uint16_t addr_port(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET6) {
    return ntohs(((const struct sockaddr_in6 *) sa)->sin6_port);
  }
  if (sa->sa_family == AF_INET) {
    return ntohs(((const struct sockaddr_in *) sa)->sin_port);
  }
  return 0;
}

/* IPv4 is written by hand: addr_format runs once per UDP query the lab DNS answers and per
 * accepted connection, where inet_ntop and a printf cost more than an answer from the cache. */
static void format_ip4(const struct sockaddr_in *in, char *out) {
  const uint8_t *a = (const uint8_t *) &in->sin_addr.s_addr;
  for (int i = 0; i < 4; i++) {
    out += dec_u64(out, a[i]);
    *out++ = i < 3 ? '.' : ':';
  }
  dec_u64(out, ntohs(in->sin_port));
}

bool addr_format(const struct sockaddr *sa, char *out, size_t out_size) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET && out_size >= sizeof "255.255.255.255:65535") {
    format_ip4((const struct sockaddr_in *) sa, out);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    uv_ip6_name((const struct sockaddr_in6 *) sa, ip, sizeof ip);
    return buf_fmt(out, out_size, "[%s]:%u", ip, (unsigned) addr_port(sa));
  }
  if (sa->sa_family == AF_INET) {
    uv_ip4_name((const struct sockaddr_in *) sa, ip, sizeof ip);
    return buf_fmt(out, out_size, "%s:%u", ip, (unsigned) addr_port(sa));
  }
  return buf_fmt(out, out_size, "?");
}
