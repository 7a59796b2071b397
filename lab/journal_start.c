/* lab/journal_start.c: the lab.start journal event — written by `serve` and `run --journal` once
 * the lab is up — says which host had which address, ports, routes and certificate, so that a
 * journal read later (`report`, `check --journal`) can tell what a client met without the
 * scenario file. */
#include "lab/report.h"
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *name_cn(X509_NAME *name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) {
    return NULL;
  }
  unsigned char *utf8 = NULL;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (len < 0) {
    return NULL;
  }
  char *out = str_ndup((const char *) utf8, (size_t) len);
  OPENSSL_free(utf8);
  return out;
}

/* san_names lists the leaf's DNS subject alternative names. */
static void san_names(X509 *leaf, struct lab_cert_desc *c) {
  GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
  size_t n = sans != NULL ? sk_GENERAL_NAME_num(sans) : 0;
  c->names = xcalloc(n + 1, sizeof *c->names);
  c->n_names = 0;
  for (size_t i = 0; i < n; i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
    if (g->type == GEN_DNS) {
      const ASN1_STRING *s = g->d.dNSName;
      c->names[c->n_names++] =
          str_ndup((const char *) ASN1_STRING_get0_data(s), (size_t) ASN1_STRING_length(s));
    }
  }
  GENERAL_NAMES_free(sans);
}

/* chain_trusted says whether the chain leads to the lab CA, at a moment inside the leaf's
 * validity: the dates and the names are judged apart, by whoever reads the journal. */
static bool chain_trusted(struct ca *ca, const struct ca_chain *chain) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  bool ok = false;
  if (store != NULL && ctx != NULL && X509_STORE_add_cert(store, ca_cert(ca)) &&
      X509_STORE_CTX_init(ctx, store, ca_chain_leaf(chain), ca_chain_intermediates(chain))) {
    time_t nb = ca_chain_not_before(chain), na = ca_chain_not_after(chain);
    X509_STORE_CTX_set_time(ctx, 0, nb + (na - nb) / 2);
    ok = X509_verify_cert(ctx) == 1;
  }
  ERR_clear_error();
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

/* describe_cert fills what the host's HTTPS listener presents, minted as the proxy mints it
 * (proxy/proxy.c host_tls_ctx: the chain cache gives the same certificate). */
static void describe_cert(struct lab_cert_desc *c, struct ca *ca, const struct scn_host *sh,
                          const struct scn_listener *l, const char *address) {
  const char *const *names = (const char *const *) l->cert.names;
  size_t n_names = l->cert.n_names;
  if (n_names == 0) {
    names = (const char *const *) sh->names;
    n_names = sh->n_names;
  }
  char fallback_name[300];
  const char *fallback = fallback_name;
  if (n_names == 0) {
    buf_fmt(fallback_name, sizeof fallback_name, "%s.lab.invalid", sh->id);
    names = &fallback;
    n_names = 1;
  }
  struct ca_request req = {
      .profile = l->cert.profile,
      .names = names,
      .n_names = n_names,
      .ip = address,
      .key_type = l->cert.key_type,
      .has_not_before = l->cert.has_not_before,
      .not_before = l->cert.not_before,
      .has_not_after = l->cert.has_not_after,
      .not_after = l->cert.not_after,
  };
  struct ca_chain *chain = NULL;
  if (req.profile == NULL || ca == NULL || ca_mint_request(ca, &chain, &req) != CA_OK) {
    return; /* the proxy could not have started either; keep what the scenario says */
  }
  X509 *leaf = ca_chain_leaf(chain);
  free(c->subject);
  free(c->issuer);
  c->subject = name_cn(X509_get_subject_name(leaf));
  c->issuer = name_cn(X509_get_issuer_name(leaf));
  for (size_t i = 0; i < c->n_names; i++) {
    free(c->names[i]);
  }
  free(c->names);
  san_names(leaf, c);
  c->has_dates = true;
  c->not_before = ca_chain_not_before(chain);
  c->not_after = ca_chain_not_after(chain);
  c->trusted = chain_trusted(ca, chain);
  ca_chain_free(chain);
}

static void time_str(struct jnl_event *ev, const char *key, int64_t t) {
  time_t tt = (time_t) t;
  struct tm tm;
  char text[40];
  if (gmtime_r(&tt, &tm) == NULL || strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    jnl_null(ev, key);
    return;
  }
  jnl_str(ev, key, text);
}

static void str_list(struct jnl_event *ev, const char *key, char *const *v, size_t n) {
  jnl_arr_begin(ev, key);
  for (size_t i = 0; i < n; i++) {
    jnl_str(ev, NULL, v[i]);
  }
  jnl_arr_end(ev);
}

static void route_json(struct jnl_event *ev, const struct lab_route_desc *r, bool answer) {
  jnl_obj_begin(ev, NULL);
  if (answer) {
    if (r->first != 0) {
      jnl_uint(ev, "first", r->first);
    }
    if (r->for_email != NULL) {
      jnl_str(ev, "for_email", r->for_email);
    }
  } else {
    jnl_str(ev, "path", r->path);
    jnl_str(ev, "method", r->method);
  }
  jnl_str(ev, "kind", r->kind);
  if (r->status != 0) {
    jnl_uint(ev, "status", r->status);
  }
  if (r->location != NULL) {
    jnl_str(ev, "location", r->location);
  }
  if (r->answer != NULL) {
    jnl_str(ev, "answer", r->answer);
  }
  if (r->redirect != NULL) {
    jnl_str(ev, "redirect", r->redirect);
  }
  if (r->ews_url != NULL) {
    jnl_str(ev, "ews_url", r->ews_url);
  }
  if (r->server != NULL) {
    jnl_str(ev, "server", r->server);
  }
  if (r->error_code != 0) {
    jnl_uint(ev, "error_code", r->error_code);
  }
  if (r->challenges != NULL) {
    jnl_str(ev, "challenges", r->challenges);
  }
  if (r->n_answers > 0) {
    jnl_arr_begin(ev, "answers");
    for (size_t i = 0; i < r->n_answers; i++) {
      route_json(ev, &r->answers[i], true);
    }
    jnl_arr_end(ev);
  }
  jnl_obj_end(ev);
}

static void port_json(struct jnl_event *ev, const char *key, const struct lab_port_desc *p,
                      const struct lab_cert_desc *cert) {
  if (!p->present) {
    jnl_null(ev, key);
    return;
  }
  jnl_obj_begin(ev, key);
  if (key == NULL) { /* a listeners: entry */
    jnl_uint(ev, "nominal", p->nominal);
    jnl_bool(ev, "tls", p->tls);
  }
  if (p->port != 0) {
    jnl_uint(ev, "port", p->port);
  } else {
    jnl_null(ev, "port");
  }
  jnl_str(ev, "fault", p->fault);
  if (cert != NULL && cert->present) {
    jnl_obj_begin(ev, "certificate");
    jnl_str(ev, "profile", cert->profile);
    jnl_str(ev, "subject", cert->subject);
    jnl_str(ev, "issuer", cert->issuer);
    str_list(ev, "names", cert->names, cert->n_names);
    if (cert->has_dates) {
      time_str(ev, "not_before", cert->not_before);
      time_str(ev, "not_after", cert->not_after);
    } else {
      jnl_null(ev, "not_before");
      jnl_null(ev, "not_after");
    }
    jnl_bool(ev, "trusted", cert->trusted);
    jnl_obj_end(ev);
  }
  jnl_arr_begin(ev, "routes");
  for (size_t i = 0; i < p->n_routes; i++) {
    route_json(ev, &p->routes[i], false);
  }
  jnl_arr_end(ev);
  jnl_obj_end(ev);
}

struct lab_desc *lab_start_describe(const struct scn *s, const struct proxy *p, struct ca *ca) {
  struct lab_desc *d = lab_desc_of_scn(s);
  for (size_t i = 0; i < d->n_hosts; i++) {
    struct lab_host_desc *h = &d->hosts[i];
    free(h->address);
    h->address = str_dup(proxy_host_address(p, i));
    h->https.port = proxy_host_port(p, i, true);
    h->http.port = proxy_host_port(p, i, false);
    const char *ip = proxy_host_cert_ip(p, i); /* what an ip-only certificate names */
    if (h->cert.present) {
      describe_cert(&h->cert, ca, &s->hosts[i], &s->hosts[i].https, ip != NULL ? ip : h->address);
    }
    for (size_t k = 0; k < h->n_ports; k++) {
      struct lab_port_desc *pd = &h->ports[k];
      pd->port = proxy_host_listener_port(p, i, (uint16_t) pd->nominal);
      if (pd->cert.present) {
        describe_cert(&pd->cert, ca, &s->hosts[i], &s->hosts[i].listeners[k],
                      ip != NULL ? ip : h->address);
      }
    }
  }
  return d;
}

void lab_journal_start(struct jnl *j, const struct scn *s, const struct proxy *p, struct ca *ca) {
  if (j == NULL) {
    return;
  }
  struct lab_desc *d = lab_start_describe(s, p, ca);
  lab_journal_start_desc(j, d, p);
  lab_desc_free(d);
}

void lab_journal_start_desc(struct jnl *j, const struct lab_desc *d, const struct proxy *p) {
  if (j == NULL) {
    return;
  }
  struct jnl_event ev;
  jnl_begin(&ev, j, "lab.start");
  jnl_obj_begin(&ev, "scenario");
  jnl_str(&ev, "path", d->scenario_path);
  jnl_str(&ev, "name", d->scenario_name);
  jnl_obj_end(&ev);
  jnl_str(&ev, "domain", d->domain);
  jnl_str(&ev, "email", d->email);
  struct sockaddr_storage dns;
  proxy_dns_addr(p, &dns);
  char ip[64] = "?", text[80];
  if (dns.ss_family == AF_INET6) {
    uv_ip6_name((const struct sockaddr_in6 *) &dns, ip, sizeof ip);
    buf_fmt(text, sizeof text, "[%s]:%u", ip,
            ntohs(((const struct sockaddr_in6 *) &dns)->sin6_port));
  } else {
    uv_ip4_name((const struct sockaddr_in *) &dns, ip, sizeof ip);
    buf_fmt(text, sizeof text, "%s:%u", ip, ntohs(((const struct sockaddr_in *) &dns)->sin_port));
  }
  jnl_str(&ev, "dns", text);
  str_list(&ev, "scp", d->scp_urls, d->n_scp_urls);
  jnl_arr_begin(&ev, "hosts");
  for (size_t i = 0; i < d->n_hosts; i++) {
    const struct lab_host_desc *h = &d->hosts[i];
    jnl_obj_begin(&ev, NULL);
    jnl_str(&ev, "id", h->id);
    str_list(&ev, "names", h->names, h->n_names);
    jnl_str(&ev, "address", h->address);
    port_json(&ev, "https", &h->https, &h->cert);
    port_json(&ev, "http", &h->http, NULL);
    if (h->n_ports > 0) {
      jnl_arr_begin(&ev, "listeners");
      for (size_t k = 0; k < h->n_ports; k++) {
        port_json(&ev, NULL, &h->ports[k], &h->ports[k].cert);
      }
      jnl_arr_end(&ev);
    }
    jnl_obj_end(&ev);
  }
  jnl_arr_end(&ev);
  jnl_arr_begin(&ev, "warnings"); /* what sharing an address loses (serve --listen) */
  for (size_t i = 0; i < proxy_n_warnings(p); i++) {
    jnl_str(&ev, NULL, proxy_warning(p, i));
  }
  jnl_arr_end(&ev);
  jnl_end(&ev);
}
