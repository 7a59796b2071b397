/* proxy/http/http_fault.c: the fault that needs a socket of its own — a black hole, where
 * connects time out because nothing ever answers the SYN (the other faults are connections the
 * listener accepts: http_conn.c). */
#include "proxy/http/http.h"

#include "common/addr.h"
#include "proxy/http/internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* The socket listens with a backlog of 0 and the lab itself makes one connection it never
 * accepts. That fills the accept queue, and Linux drops later SYNs
 * (net.ipv4.tcp_abort_on_overflow = 0, the default) instead of answering them, so the client
 * retransmits until its connect times out. */
int http__blackhole_listen(uv_tcp_t *tcp, const struct sockaddr *addr, int *out_filler_fd,
                           const char **what) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  *what = "socket";
  if (fd < 0) {
    return -errno;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  *what = "bind";
  if (bind(fd, addr, addr_len(addr)) != 0) {
    int rc = -errno;
    close(fd);
    return rc;
  }
  *what = "listen";
  if (listen(fd, 0) != 0) {
    int rc = -errno;
    close(fd);
    return rc;
  }
  int rc = uv_tcp_open(tcp, fd); /* the handle owns fd from here on */
  if (rc != 0) {
    close(fd);
    return rc;
  }
  struct sockaddr_storage bound;
  socklen_t len = sizeof bound;
  *what = "filling the accept queue";
  if (getsockname(fd, (struct sockaddr *) &bound, &len) != 0) {
    return -errno;
  }
  *out_filler_fd = socket(bound.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*out_filler_fd < 0) {
    return -errno;
  }
  /* Blocking: over loopback the kernel completes the handshake at once, without our loop. */
  if (connect(*out_filler_fd, (struct sockaddr *) &bound, len) != 0) {
    return -errno;
  }
  return 0;
}
