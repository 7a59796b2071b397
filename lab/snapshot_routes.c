/* lab/snapshot_routes.c: a snapshot's answers as routes — what the lab should answer where the
 * real server answered: Autodiscover settings, redirectAddr, redirectUrl and Error as
 * `autodiscover:` routes, a 3xx as `redirect:`, a 401 as a challenge the lab never lets pass
 * (snapshot sent no credential, so what follows it is unknown), anything else as a status with
 * a 200's body kept. A value a scenario cannot hold falls back to the plain status. */
#include "lab/snapshot.h"

#include "lab/snapshot_internal.h"

#include <stdlib.h>
#include <string.h>

enum {
  BODY_KEPT = 4096, /* bytes of a non-Autodiscover body written into a route */
};

/* --- routes: an answer as the lab should give it --- */

static bool plain_text(const char *s) {
  for (const unsigned char *c = (const unsigned char *) s; c != NULL && *c != 0; c++) {
    if (*c < 0x20 || *c == 0x7f) {
      return false;
    }
  }
  return s != NULL && s[0] != 0;
}

/* one_line copies `s` with each control character a space (a scenario's one-line strings
 * refuse them); NULL for NULL. */
static char *one_line(const char *s) {
  char *out = str_dup(s);
  for (char *c = out; c != NULL && *c != 0; c++) {
    if ((unsigned char) *c < 0x20 || *c == 0x7f) {
      *c = ' ';
    }
  }
  return out;
}

/* is_url: what the loader takes for a URL (http:// or https://, no space or control). */
static bool is_url(const char *s) {
  return plain_text(s) && strchr(s, ' ') == NULL &&
         ((strncmp(s, "https://", 8) == 0 && s[8] != 0) ||
          (strncmp(s, "http://", 7) == 0 && s[7] != 0));
}

static bool is_address(const char *s) {
  const char *at = s != NULL ? strrchr(s, '@') : NULL;
  if (!plain_text(s) || strchr(s, ' ') != NULL || at == NULL || at == s ||
      memchr(s, '@', (size_t) (at - s)) != NULL) {
    return false;
  }
  char *domain = str_lower(str_dup(at + 1));
  bool ok = lab_snapshot_dns_name(domain, false);
  free(domain);
  return ok;
}

static bool utf8_text(const uint8_t *b, size_t len) {
  struct buf tmp;
  buf_init(&tmp, len * 6 + 8);
  bool ok = memchr(b, 0, len) == NULL && lab_yaml_quote(&tmp, (const char *) b, len) &&
            strstr(buf_cstr(&tmp), "\\uFFFD") == NULL;
  buf_cleanup(&tmp);
  return ok;
}

/* write_body writes a status route's body: only a 200's body matters to a client (is it
 * Autodiscover XML?); it is kept up to BODY_KEPT bytes of text. */
static void write_body(struct lab__out *o, int in, const struct sim_http_info *h) {
  if (h->status != 200 || h->body_len == 0) {
    return;
  }
  size_t keep = h->body_len < BODY_KEPT ? h->body_len : BODY_KEPT;
  while (keep > 0 && keep < h->body_len && (h->body[keep] & 0xc0) == 0x80) {
    keep--; /* not in the middle of a character */
  }
  lab__put(o, "%*sbody: ", in, "");
  if (utf8_text(h->body, keep)) {
    o->ok = o->ok && lab_yaml_quote(o->b, (const char *) h->body, keep);
    lab__put(o, "\n");
  } else {
    char text[100];
    buf_fmt(text, sizeof text, "(%zu bytes that are not text, not kept)", h->body_len);
    lab__quote(o, text);
    lab__put(o, "\n");
  }
  if (plain_text(h->content_type)) {
    lab__put(o, "%*scontent_type: ", in, "");
    lab__quote(o, h->content_type);
    lab__put(o, "\n");
  }
}

static void write_status(struct lab__out *o, int in, const struct sim_http_info *h, int status) {
  lab__put(o, "%*sstatus: %d\n", in, "", status);
  write_body(o, in, h);
}

static void write_settings(struct lab__out *o, int in, const struct sim_http_info *h) {
  lab__put(o, "%*sautodiscover:\n%*ssettings:\n", in, "", in + 2, "");
  int k = in + 4;
  bool ews = is_url(h->ews_url);
  char *server = h->server != NULL ? str_lower(str_dup(h->server)) : NULL;
  bool server_ok = lab_snapshot_dns_name(server, false);
  if (ews) {
    lab__put(o, "%*sews: ", k, "");
    lab__quote(o, h->ews_url);
    lab__put(o, "\n");
  }
  if (server_ok) {
    lab__put(o, "%*sserver: ", k, "");
    lab__quote(o, server);
    lab__put(o, "\n");
  }
  if (plain_text(h->auth_package)) {
    lab__put(o, "%*sauth_package: ", k, "");
    lab__quote(o, h->auth_package);
    lab__put(o, "\n");
  }
  if (!ews) { /* settings without an EwsUrl: a Protocol block says so */
    lab__note(o, k, "no EwsUrl in the answer%s", h->ews_url != NULL ? " a scenario can hold" : "");
    lab__put(o, "%*sprotocols:\n%*s- type: EXCH\n", k, "", k + 2, "");
    if (server_ok) {
      lab__put(o, "%*s  server: ", k + 2, "");
      lab__quote(o, server);
      lab__put(o, "\n");
    }
  }
  free(server);
}

/* write_kind writes what a route answers (the lines after `path:`). */
static void write_kind(struct lab__out *o, int in, const struct sim_inspection *r, bool *out_slow) {
  const struct sim_http_info *h = &r->http;
  int status = h->status;
  if (h->status == 0) { /* the connection carried no answer: the lab cannot stop there */
    bool slow = r->timed_out;
    *out_slow = *out_slow || slow;
    lab__note(o, in, "no answer: %s; the lab %s", lab__or_none(r->detail),
              slow ? "answers after 10 minutes (delay), longer than any client waits"
                   : "answers 502 instead (it cannot close a connection after the handshake)");
    lab__put(o, "%*sstatus: %d\n", in, "", slow ? 504 : 502);
    return;
  }
  if (status < 100 || status > 599) {
    lab__note(o, in, "status %d is outside 100-599: written as 500", status);
    status = 500;
  }
  switch (h->answer) {
    case SIM_ANSWER_SETTINGS: write_settings(o, in, h); return;
    case SIM_ANSWER_REDIRECT_ADDR:
      if (is_address(h->redirect)) {
        lab__put(o, "%*sautodiscover: { redirect_addr: ", in, "");
        lab__quote(o, h->redirect);
        lab__put(o, " }\n");
        return;
      }
      break;
    case SIM_ANSWER_REDIRECT_URL:
      if (is_url(h->redirect)) {
        lab__put(o, "%*sautodiscover: { redirect_url: ", in, "");
        lab__quote(o, h->redirect);
        lab__put(o, " }\n");
        return;
      }
      break;
    case SIM_ANSWER_ERROR:
      if (h->error_code >= 1 && h->error_code <= 999) {
        char *message = one_line(h->message);
        if (message != NULL && strcmp(message, h->message) != 0) {
          lab__note(o, in, "the message's line breaks and control characters are spaces here");
        }
        lab__put(o, "%*sautodiscover: { error: %u", in, "", h->error_code);
        if (message != NULL && message[0] != 0) {
          lab__put(o, ", message: ");
          lab__quote(o, message);
        }
        lab__put(o, " }\n");
        free(message);
        return;
      }
      break;
    case SIM_ANSWER_HTTP_REDIRECT:
      if (status >= 300 && status <= 399 && plain_text(h->location)) {
        lab__put(o, "%*sredirect: %d\n%*slocation: ", in, "", status, in, "");
        lab__quote(o, h->location);
        lab__put(o, "\n");
        return;
      }
      break;
    case SIM_ANSWER_AUTH: {
      size_t n = 0;
      for (size_t i = 0; i < h->n_challenges; i++) {
        n += plain_text(h->challenges[i]) && h->challenges[i][0] != ' ';
      }
      if (n == 0) {
        break;
      }
      lab__note(o, in,
                "what the server answers once authenticated was not asked: snapshot never "
                "sends a credential. Put that answer here and say accept: true");
      lab__put(o, "%*sstatus: 401\n%*sauth:\n%*schallenges:\n", in, "", in, "", in + 2, "");
      for (size_t i = 0; i < h->n_challenges; i++) {
        if (plain_text(h->challenges[i]) && h->challenges[i][0] != ' ') {
          lab__put(o, "%*s- ", in + 4, "");
          lab__quote(o, h->challenges[i]);
          lab__put(o, "\n");
        }
      }
      lab__put(o, "%*saccept: false\n", in + 2, "");
      return;
    }
    default: break;
  }
  write_status(o, in, h, status);
}

static const char *answer_words(const struct sim_http_info *h) {
  switch (h->answer) {
    case SIM_ANSWER_SETTINGS: return "Autodiscover settings";
    case SIM_ANSWER_REDIRECT_ADDR: return "Autodiscover redirectAddr";
    case SIM_ANSWER_REDIRECT_URL: return "Autodiscover redirectUrl";
    case SIM_ANSWER_ERROR: return "an Autodiscover Error";
    case SIM_ANSWER_HTTP_REDIRECT: return "a redirect";
    case SIM_ANSWER_AUTH: return "a credentials challenge";
    case SIM_ANSWER_OTHER: return "not an Autodiscover answer";
    case SIM_ANSWER_NONE: break;
  }
  return "no answer";
}

/* lab__route_path is the path a route matches: the request target without its query. */
char *lab__route_path(const char *target) {
  size_t n = strcspn(target, "?#");
  char *p = str_ndup(target, n);
  if (p[0] != '/') {
    free(p);
    p = str_dup("/");
  }
  return p;
}

void lab__write_route(struct lab__out *o, int in, const char *method, const char *path,
                      const struct sim_inspection *r, bool *slow) {
  const struct sim_http_info *h = &r->http;
  char what[600];
  if (h->status != 0) {
    buf_fmt(what, sizeof what, "HTTP %d, %s", h->status, answer_words(h));
  } else {
    buf_fmt(what, sizeof what, "%s", lab__or_none(r->detail));
  }
  lab__note(o, in, "%s %s at %s: %s", method, r->url, lab__or_none(r->address), what);
  if (h->answer == SIM_ANSWER_OTHER && h->why != NULL) {
    lab__note(o, in, "(%s; %zu bytes%s%s)", h->why, h->body_len,
              h->content_type != NULL ? " of " : "",
              h->content_type != NULL ? h->content_type : "");
  }
  char *p = lab__route_path(path);
  lab__put(o, "%*s- path: ", in, "");
  lab__quote(o, p);
  lab__put(o, "\n");
  free(p);
  write_kind(o, in + 2, r, slow);
}
