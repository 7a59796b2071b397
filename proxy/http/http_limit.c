/* proxy/http/http_limit.c: a listener's caps on connections — in all and per client address —
 * and the journal of what they refused: one limit.reached at once, then at most one a second
 * with the count since the last, so that a flood costs the journal a line a second. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

void http__gate_init(struct http__gate *g, uv_loop_t *loop, struct jnl *j, unsigned max_conns,
                     unsigned max_conns_per_client) {
  connlimit_init(&g->count, max_conns, max_conns_per_client);
  uv_timer_init(loop, &g->report);
  g->report.data = g;
  g->j = j;
}

void http__gate_cleanup(struct http__gate *g) {
  connlimit_cleanup(&g->count);
}

void http__gate_flush(struct http__gate *g) {
  struct connlimit *l = &g->count;
  if (connlimit_refused(l) == 0) {
    return;
  }
  struct jnl_event ev;
  jnl_begin(&ev, g->j, "limit.reached");
  jnl_str(&ev, "service", "http");
  jnl_str(&ev, "local", g->local);
  jnl_str(&ev, "host", g->host);
  jnl_bool(&ev, "tls", g->tls);
  jnl_uint(&ev, "refused", connlimit_refused(l));
  jnl_uint(&ev, "full", l->refused_full);
  jnl_uint(&ev, "per_client", l->refused_client);
  jnl_uint(&ev, "max_conns", l->max_conns);
  jnl_uint(&ev, "max_per_client", l->max_per_client);
  jnl_uint(&ev, "open", l->n_open);
  jnl_arr_begin(&ev, "clients");
  for (size_t i = 0; i < l->n_clients; i++) {
    jnl_str(&ev, NULL, l->clients[i]);
  }
  jnl_arr_end(&ev);
  jnl_end(&ev);
  connlimit_report_taken(l, uv_now(g->report.loop));
}

static void on_report(uv_timer_t *t) {
  http__gate_flush(t->data);
}

bool http__gate_admit(struct http__gate *g, const struct sockaddr *peer) {
  if (connlimit_admit(&g->count, peer) == CONNLIMIT_ADMIT) {
    return true;
  }
  uint64_t wait = 0;
  if (connlimit_report_wait(&g->count, uv_now(g->report.loop), &wait)) {
    if (wait == 0) {
      http__gate_flush(g);
    } else if (!uv_is_active((uv_handle_t *) &g->report)) {
      uv_timer_start(&g->report, on_report, wait, 0);
    }
  }
  return false;
}

void http__gate_release(struct http__gate *g, const struct sockaddr *peer) {
  connlimit_release(&g->count, peer);
}
