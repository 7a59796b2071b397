/* common/addr.h: socket addresses as people write them — "127.0.0.1:53", "[::1]:53" — read and
 * written in one place for every module. */
#ifndef AD_COMMON_ADDR_H
#define AD_COMMON_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* addr_parse reads "ADDR:PORT" or "[V6]:PORT" (port 0..65535) into *out; when default_port is
 * not 0 the port may be left out ("ADDR", "V6", "[V6]") and is default_port. False for anything
 * else (a name, a bad port, trailing text), with *out zeroed. */
bool addr_parse(const char *text, uint16_t default_port, struct sockaddr_storage *out);
/* addr_port returns the port of an IPv4 or IPv6 address (0 for another family). */
uint16_t addr_port(const struct sockaddr *sa);
/* addr_len is the length of an IPv4 or IPv6 socket address (sockaddr_in6 for AF_INET6, else
 * sockaddr_in): what bind, sendto and a copy of it take. */
socklen_t addr_len(const struct sockaddr *sa);
/* addr_format writes "a.b.c.d:port" or "[v6]:port" ("?" for another family); false when it
 * does not fit in out_size bytes. */
bool addr_format(const struct sockaddr *sa, char *out, size_t out_size);

#endif
