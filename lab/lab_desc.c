/* lab/lab_desc.c: the lab described as the lab.start journal event does — hosts, names,
 * addresses, ports, routes, certificates — made from a scenario (without running it) for the
 * reports that have one, and looked up by name or id when a journal is read. */
#include "lab/report.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char **dup_list(char *const *v, size_t n) {
  char **out = xcalloc(n + 1, sizeof *out);
  for (size_t i = 0; i < n; i++) {
    out[i] = str_dup(v[i]);
  }
  return out;
}

static void free_list(char **v, size_t n) {
  for (size_t i = 0; v != NULL && i < n; i++) {
    free(v[i]);
  }
  free(v);
}

static const char *fault_name(enum scn_fault f) {
  switch (f) {
    case SCN_FAULT_NONE: return NULL;
    case SCN_FAULT_BLACKHOLE: return "blackhole";
    case SCN_FAULT_RESET: return "reset";
    case SCN_FAULT_RESET_HELLO: return "reset-after-hello";
    case SCN_FAULT_SILENT: return "silent";
  }
  return NULL;
}

static const char *route_kind_name(enum scn_route_kind k) {
  switch (k) {
    case SCN_ROUTE_STATUS: return "status";
    case SCN_ROUTE_REDIRECT: return "redirect";
    case SCN_ROUTE_AUTODISCOVER: return "autodiscover";
    case SCN_ROUTE_AUTODISCOVER_V2: return "autodiscover-v2";
    case SCN_ROUTE_SOAP: return "soap";
    case SCN_ROUTE_UPSTREAM: return "upstream";
    case SCN_ROUTE_ANSWERS: return "answers";
  }
  return "status";
}

static const char *answer_name(enum scn_ad_action a) {
  switch (a) {
    case SCN_AD_SETTINGS: return "settings";
    case SCN_AD_REDIRECT_ADDR: return "redirectAddr";
    case SCN_AD_REDIRECT_URL: return "redirectUrl";
    case SCN_AD_ERROR: return "error";
  }
  return "settings";
}

/* settings_urls finds what a settings answer says: EwsUrl and Server of EXPR, else EXCH, else
 * any protocol (as the client models read them). */
static void settings_urls(const struct scn_autodiscover *ad, const char **ews,
                          const char **server) {
  *ews = ad->ews_url;
  *server = ad->server;
  static const char *const order[] = {"EXPR", "EXCH", NULL};
  for (size_t k = 0; k < 3 && ad->n_protocols > 0; k++) {
    for (size_t i = 0; i < ad->n_protocols; i++) {
      const struct scn_ad_protocol *p = &ad->protocols[i];
      if (order[k] == NULL || str_eq_nocase(p->type, order[k])) {
        *ews = *ews != NULL ? *ews : p->ews_url;
        *server = *server != NULL ? *server : p->server;
      }
    }
  }
}

/* url_host returns the host of an absolute URL (what the lab's answer says for Server when the
 * scenario gives none), or NULL. */
static char *url_host(const char *url) {
  const char *p = url != NULL ? strstr(url, "://") : NULL;
  if (p == NULL) {
    return NULL;
  }
  p += 3;
  return str_lower(str_ndup(p, strcspn(p, ":/?#")));
}

static void route_of_scn(struct lab_route_desc *d, const struct scn_route *r, const char *path,
                         const char *method) {
  d->path = str_dup(path);
  d->method = str_dup(method);
  d->first = r->first_n;
  d->for_email = str_dup(r->for_email);
  if (r->n_answers > 0) {
    d->answers = xcalloc(r->n_answers, sizeof *d->answers);
    d->n_answers = r->n_answers;
    for (size_t i = 0; i < r->n_answers; i++) {
      route_of_scn(&d->answers[i], &r->answers[i], path, method);
    }
  }
  d->kind = str_dup(route_kind_name(r->kind));
  d->status = r->status;
  d->location = str_dup(r->location);
  if (r->kind == SCN_ROUTE_AUTODISCOVER || r->kind == SCN_ROUTE_SOAP) {
    d->answer = str_dup(answer_name(r->ad.action));
    const char *ews = NULL, *server = NULL;
    switch (r->ad.action) {
      case SCN_AD_SETTINGS:
        settings_urls(&r->ad, &ews, &server);
        d->ews_url = str_dup(ews);
        d->server = server != NULL ? str_dup(server) : url_host(ews);
        break;
      case SCN_AD_REDIRECT_ADDR: d->redirect = str_dup(r->ad.redirect_addr); break;
      case SCN_AD_REDIRECT_URL: d->redirect = str_dup(r->ad.redirect_url); break;
      case SCN_AD_ERROR: d->error_code = r->ad.error_code; break;
    }
  } else if (r->kind == SCN_ROUTE_AUTODISCOVER_V2) {
    for (size_t i = 0; i < r->ad2.n_protocols; i++) {
      if (str_eq_nocase(r->ad2.protocols[i], "AutodiscoverV1")) {
        d->redirect = str_dup(r->ad2.urls[i]);
      }
    }
  }
  if (r->auth.present && r->auth.n_challenges > 0) {
    struct buf b;
    buf_init(&b, 4096);
    for (size_t i = 0; i < r->auth.n_challenges; i++) {
      size_t word = strcspn(r->auth.challenges[i], " \t,");
      buf_appendf(&b, "%s%.*s", i > 0 ? ", " : "", (int) word, r->auth.challenges[i]);
    }
    d->challenges = buf_take(&b);
  }
}

static void port_of_scn(struct lab_port_desc *d, const struct scn_listener *l) {
  d->present = l->present;
  if (!l->present) {
    return;
  }
  d->fault = str_dup(fault_name(l->fault));
  d->routes = xcalloc(l->n_routes + 1, sizeof *d->routes);
  d->n_routes = l->n_routes;
  for (size_t i = 0; i < l->n_routes; i++) {
    route_of_scn(&d->routes[i], &l->routes[i], l->routes[i].path, l->routes[i].method);
  }
}

static void cert_of_scn(struct lab_cert_desc *cd, const struct scn_host *sh,
                        const struct scn_listener *l) {
  const struct scn_cert *c = &l->cert;
  cd->present = true;
  cd->profile = str_dup(ca_profile_name(c->profile));
  bool own = c->n_names > 0;
  cd->names = own ? dup_list(c->names, c->n_names) : dup_list(sh->names, sh->n_names);
  cd->n_names = own ? c->n_names : sh->n_names;
  /* Without the minted chain, what the profile promises (docs/certificates.md). */
  cd->trusted = ca_profile_trusted_chain(c->profile);
  /* ca_mint_request: the first name is also the CN; wrong-name certifies another */
  cd->subject = str_dup(ca_profile_wrong_name(c->profile) ? CA_WRONG_NAME
                        : cd->n_names > 0                 ? cd->names[0]
                                                          : NULL);
  cd->issuer = str_dup(cd->trusted ? "the lab CA" : "an issuer the lab CA did not sign");
  cd->has_dates = c->has_not_before && c->has_not_after;
  cd->not_before = c->not_before;
  cd->not_after = c->not_after;
}

struct lab_desc *lab_desc_of_scn(const struct scn *s) {
  struct lab_desc *d = xcalloc(1, sizeof *d);
  d->scenario_path = str_dup(s->path);
  d->scenario_name = str_dup(s->name);
  d->domain = str_dup(s->domain);
  d->email = str_dup(s->email);
  d->scp_urls = dup_list(s->scp_urls, s->n_scp_urls);
  d->n_scp_urls = s->n_scp_urls;
  d->hosts = xcalloc(s->n_hosts + 1, sizeof *d->hosts);
  d->n_hosts = s->n_hosts;
  for (size_t i = 0; i < s->n_hosts; i++) {
    const struct scn_host *sh = &s->hosts[i];
    struct lab_host_desc *h = &d->hosts[i];
    h->id = str_dup(sh->id);
    h->names = dup_list(sh->names, sh->n_names);
    h->n_names = sh->n_names;
    h->address = str_dup(sh->address);
    port_of_scn(&h->https, &sh->https);
    port_of_scn(&h->http, &sh->http);
    h->https.nominal = 443;
    h->https.tls = true;
    h->http.nominal = 80;
    if (sh->https.present) {
      cert_of_scn(&h->cert, sh, &sh->https);
    }
    h->ports = xcalloc(sh->n_listeners + 1, sizeof *h->ports);
    h->n_ports = sh->n_listeners;
    for (size_t k = 0; k < sh->n_listeners; k++) {
      const struct scn_listener *l = &sh->listeners[k];
      port_of_scn(&h->ports[k], l);
      h->ports[k].nominal = l->port;
      h->ports[k].tls = l->tls;
      if (l->tls) {
        cert_of_scn(&h->ports[k].cert, sh, l);
      }
    }
  }
  return d;
}

static void route_cleanup(struct lab_route_desc *r) {
  free(r->path);
  free(r->method);
  free(r->kind);
  free(r->location);
  free(r->answer);
  free(r->redirect);
  free(r->ews_url);
  free(r->server);
  free(r->challenges);
  free(r->for_email);
  for (size_t i = 0; i < r->n_answers; i++) {
    route_cleanup(&r->answers[i]);
  }
  free(r->answers);
}

static void cert_cleanup(struct lab_cert_desc *c) {
  free(c->profile);
  free(c->subject);
  free(c->issuer);
  free_list(c->names, c->n_names);
}

static void port_cleanup(struct lab_port_desc *p) {
  for (size_t i = 0; i < p->n_routes; i++) {
    route_cleanup(&p->routes[i]);
  }
  free(p->routes);
  free(p->fault);
  cert_cleanup(&p->cert);
}

void lab_desc_free(struct lab_desc *d) {
  if (d == NULL) {
    return;
  }
  for (size_t i = 0; i < d->n_hosts; i++) {
    struct lab_host_desc *h = &d->hosts[i];
    free(h->id);
    free_list(h->names, h->n_names);
    free(h->address);
    port_cleanup(&h->https);
    port_cleanup(&h->http);
    cert_cleanup(&h->cert);
    for (size_t k = 0; k < h->n_ports; k++) {
      port_cleanup(&h->ports[k]);
    }
    free(h->ports);
  }
  free(d->hosts);
  free_list(d->scp_urls, d->n_scp_urls);
  free(d->scenario_path);
  free(d->scenario_name);
  free(d->domain);
  free(d->email);
  free(d->dns);
  free(d);
}

const struct lab_host_desc *lab_desc_host_named(const struct lab_desc *d, const char *name) {
  if (d == NULL || name == NULL) {
    return NULL;
  }
  size_t len = strcspn(name, ":"); /* a Host header's port */
  for (size_t i = 0; i < d->n_hosts; i++) {
    for (size_t k = 0; k < d->hosts[i].n_names; k++) {
      const char *n = d->hosts[i].names[k];
      if (strlen(n) == len && strncasecmp(n, name, len) == 0) {
        return &d->hosts[i];
      }
    }
  }
  return NULL;
}

const struct lab_host_desc *lab_desc_host_id(const struct lab_desc *d, const char *id) {
  for (size_t i = 0; d != NULL && id != NULL && i < d->n_hosts; i++) {
    if (strcmp(d->hosts[i].id, id) == 0) {
      return &d->hosts[i];
    }
  }
  return NULL;
}

const struct lab_port_desc *lab_desc_port(const struct lab_host_desc *h, bool tls, unsigned bound) {
  if (h == NULL) {
    return NULL;
  }
  for (size_t k = 0; bound != 0 && k < h->n_ports; k++) {
    if (h->ports[k].present && h->ports[k].port == bound) {
      return &h->ports[k];
    }
  }
  return tls ? &h->https : &h->http;
}

const struct lab_cert_desc *lab_desc_cert(const struct lab_host_desc *h,
                                          const struct lab_port_desc *p) {
  if (h == NULL) {
    return NULL;
  }
  return p == NULL || p == &h->https ? &h->cert : &p->cert;
}
