/* common/ares_loop.h: a c-ares channel driven by a libuv loop — a poll handle for each socket
 * c-ares opens and one timer for its timeouts. The client's walk (client/sim_resolve.c) and the
 * proxy's upstream lookups (proxy/http/http_resolve.c) each ask their questions on one; c-ares
 * itself builds and parses the DNS messages. */
#ifndef AD_COMMON_ARES_LOOP_H
#define AD_COMMON_ARES_LOOP_H

#include <ares.h>
#include <stddef.h>
#include <uv.h>

struct ares_loop;

/* ares_loop_new makes a channel with `opts` and `optmask` (its socket callback is set here: leave
 * ARES_OPT_SOCK_STATE_CB to it) on `loop`, asking `servers` ("ADDR:PORT,..." as
 * ares_set_servers_ports_csv reads it, "[V6]:PORT" for IPv6) or, NULL, the system's resolvers.
 * ARES_SUCCESS with *out set, or the c-ares status with *out NULL and nothing left open. */
int ares_loop_new(struct ares_loop **out, uv_loop_t *loop, struct ares_options *opts, int optmask,
                  const char *servers);
/* ares_loop_channel is the channel to ask questions on (ares_query, ares_getaddrinfo). */
ares_channel ares_loop_channel(const struct ares_loop *l);
/* ares_loop_rearm sets the timer to c-ares's next timeout: call it after starting a question. */
void ares_loop_rearm(struct ares_loop *l);
/* ares_loop_close destroys the channel (questions still open end with ARES_EDESTRUCTION, inside
 * this call) and closes the handles; once the last is closed, `l` is freed and on_closed(arg) runs
 * (on_closed may be NULL). `l` must not be used after this call. */
void ares_loop_close(struct ares_loop *l, void (*on_closed)(void *arg), void *arg);

#endif
