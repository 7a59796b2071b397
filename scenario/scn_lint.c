/* scenario/scn_lint.c: warnings about a scenario that loads but probably does not say what its
 * author meant (autodisco validate prints them). Each is one line "file:line:col: warning: ...".
 */
#include "common/buf.h"
#include "scenario/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct lint {
  char *out;
  size_t out_size;
  size_t used;
  size_t count;
};

static void warn(struct lint *l, const struct scn_mark *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(struct lint *l, const struct scn_mark *m, const char *fmt, ...) {
  l->count++;
  if (l->out == NULL || l->out_size == 0 || l->used + 1 >= l->out_size) {
    return;
  }
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  scn__vmessage(line, sizeof line - 1, m->file, (unsigned long long) m->line, m->col, "warning",
                fmt, ap);
  va_end(ap);
  size_t len = strlen(line);
  line[len] = '\n';
  line[len + 1] = 0;
  /* a line that does not fit is left out whole: the output never ends mid-line */
  if (buf_fmt(l->out + l->used, l->out_size - l->used, "%s", line)) {
    l->used += strlen(line);
  } else {
    l->out[l->used] = 0;
  }
}

/* below says whether `name` is `apex` or a name under it. */
static bool below(const char *name, const char *apex) {
  size_t n = strlen(name), a = strlen(apex);
  return strcmp(name, apex) == 0 ||
         (n > a && name[n - a - 1] == '.' && strcmp(name + n - a, apex) == 0);
}

/* wildcard_covers says whether the wildcard owner "*.parent" answers for `name` (a name one or
 * more labels below parent; RFC 4592, ignoring the closer-encloser subtleties). */
static bool wildcard_covers(const char *owner, const char *name) {
  if (strncmp(owner, "*.", 2) != 0) {
    return false;
  }
  const char *parent = owner + 2;
  return strcmp(name, parent) != 0 && below(name, parent);
}

/* has_records says whether the lab DNS has any record for `name` (exactly, or by wildcard). */
static bool has_records(const struct scn *s, const char *name) {
  for (size_t i = 0; i < s->n_records; i++) {
    if (strcmp(s->records[i].name, name) == 0 || wildcard_covers(s->records[i].name, name)) {
      return true;
    }
  }
  return false;
}

static bool host_named(const struct scn *s, const char *name) {
  for (size_t i = 0; i < s->n_hosts; i++) {
    for (size_t j = 0; j < s->hosts[i].n_names; j++) {
      const char *hn = s->hosts[i].names[j];
      if (strcmp(hn, name) == 0 || wildcard_covers(hn, name)) {
        return true;
      }
    }
  }
  return false;
}

/* in_lab_zones says whether the lab DNS answers for `name`: inside dns.zones, or, when those are
 * left out (the DNS module derives them), inside the scenario's domain. */
static bool in_lab_zones(const struct scn *s, const char *name) {
  if (s->n_zones == 0) {
    return s->domain != NULL && below(name, s->domain);
  }
  for (size_t i = 0; i < s->n_zones; i++) {
    if (below(name, s->zones[i])) {
      return true;
    }
  }
  return false;
}

/* cert_covers says whether a certificate name matches a host name (RFC 6125 6.4: a wildcard
 * stands for exactly one label). */
static bool cert_covers(const char *cert_name, const char *name) {
  if (strcmp(cert_name, name) == 0) {
    return true;
  }
  if (strncmp(cert_name, "*.", 2) != 0) {
    return false;
  }
  const char *dot = strchr(name, '.');
  return dot != NULL && dot != name && strcmp(dot + 1, cert_name + 2) == 0;
}

static const char *type_name(uint16_t t) {
  switch (t) {
    case 5: return "CNAME";
    case 15: return "MX";
    case 33: return "SRV";
    case 2: return "NS";
    default: return "record";
  }
}

static void lint_prompts(struct lint *l, const struct scn *s) {
  if (s->overlay.present) {
    return; /* with dns.overlay the real DNS answers the names the scenario does not give */
  }
  for (size_t i = 0; i < s->n_expects; i++) {
    const struct scn_expect *e = &s->expects[i];
    for (size_t j = 0; j < e->n_prompts; j++) {
      const struct scn_prompt_expect *p = &e->prompts[j];
      if (p->host != NULL && !has_records(s, p->host) && !host_named(s, p->host)) {
        warn(l, &p->mark,
             "expect.%s: the prompt's host %s is neither a host's name nor a record in this "
             "scenario, so no client can reach it",
             e->client, p->host);
      }
    }
  }
}

static void lint_targets(struct lint *l, const struct scn *s) {
  if (s->overlay.present) {
    return; /* the upstream resolver answers for targets the scenario does not define */
  }
  for (size_t i = 0; i < s->n_records; i++) {
    const struct scn_record *r = &s->records[i];
    if (r->type != 5 && r->type != 15 && r->type != 33) {
      continue;
    }
    if (r->target == NULL || strcmp(r->target, ".") == 0 || !in_lab_zones(s, r->target)) {
      continue;
    }
    if (!has_records(s, r->target) && !host_named(s, r->target)) {
      warn(l, &r->mark,
           "the %s record of %s points at %s, which is inside the lab's zones but has no record "
           "and no host",
           type_name(r->type), r->name, r->target);
    }
  }
}

static void lint_hosts(struct lint *l, const struct scn *s) {
  for (size_t i = 0; i < s->n_hosts; i++) {
    const struct scn_host *h = &s->hosts[i];
    if (h->n_names > 0) {
      continue;
    }
    bool reached = false;
    for (size_t j = 0; j < s->n_records && !reached; j++) {
      const struct scn_record *r = &s->records[j];
      reached = (r->host != NULL && strcmp(r->host, h->id) == 0) ||
                (r->address != NULL && h->address != NULL && strcmp(r->address, h->address) == 0);
    }
    if (!reached) {
      warn(l, &h->mark,
           "host \"%s\" has no names and no record resolves to it: no client can reach it", h->id);
    }
  }
}

/* lint_cert warns when the valid certificate of one TLS listener of h misses a name of h. */
static void lint_cert(struct lint *l, const struct scn_host *h, const struct scn_listener *lst) {
  const struct scn_cert *c = &lst->cert;
  if (!lst->present || !lst->tls || c->profile != ca_profile_named("valid") || c->n_names == 0) {
    return;
  }
  for (size_t j = 0; j < h->n_names; j++) {
    bool covered = false;
    for (size_t k = 0; k < c->n_names && !covered; k++) {
      covered = cert_covers(c->names[k], h->names[j]);
    }
    if (!covered) {
      warn(l, &c->mark,
           "the valid certificate of host \"%s\" does not cover its name %s: a client will see "
           "a name mismatch (use profile wrong-name to mean it)",
           h->id, h->names[j]);
      break;
    }
  }
}

static void lint_certs(struct lint *l, const struct scn *s) {
  for (size_t i = 0; i < s->n_hosts; i++) {
    const struct scn_host *h = &s->hosts[i];
    lint_cert(l, h, &h->https);
    for (size_t k = 0; k < h->n_listeners; k++) {
      lint_cert(l, h, &h->listeners[k]);
    }
  }
}

size_t scn_lint(const struct scn *s, char *out, size_t out_size) {
  struct lint l = {.out = out, .out_size = out_size};
  if (out != NULL && out_size > 0) {
    out[0] = 0;
  }
  if (s == NULL) {
    return 0;
  }
  lint_prompts(&l, s);
  lint_targets(&l, s);
  lint_hosts(&l, s);
  lint_certs(&l, s);
  /* an expect key naming a client not under clients is already a load error */
  return l.count;
}
