/* client/sim_pox.c: the POX conversation without sockets — the request Outlook sends (§3.1,
 * §3.2), how an answer is sorted into settings, redirect, error or "not Autodiscover" (§2.1,
 * §3.3–§3.5, §4.3), and absolute URLs (libxml2's URI parser). */
#include "client/sim.h"

#include "client/internal.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <stdlib.h>
#include <string.h>

char *sim__pox_body(const char *email) {
  char *out = NULL;
  xmlChar *mem = NULL;
  int len = 0;
  xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
  if (doc == NULL) {
    return NULL;
  }
  xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "Autodiscover");
  if (root == NULL) {
    goto out;
  }
  xmlDocSetRootElement(doc, root);
  xmlNsPtr ns = xmlNewNs(root, BAD_CAST SIM_NS_REQUEST, NULL);
  xmlSetNs(root, ns);
  xmlNodePtr req = xmlNewChild(root, ns, BAD_CAST "Request", NULL);
  if (ns == NULL || req == NULL ||
      xmlNewTextChild(req, ns, BAD_CAST "EMailAddress", BAD_CAST email) == NULL ||
      xmlNewTextChild(req, ns, BAD_CAST "AcceptableResponseSchema", BAD_CAST SIM_NS_RESPONSE_A) ==
          NULL) {
    goto out;
  }
  xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "utf-8", 1);
  if (mem != NULL && len > 0) {
    out = str_ndup((const char *) mem, (size_t) len);
  }
out:
  xmlFree(mem);
  xmlFreeDoc(doc);
  return out;
}

bool sim__request(struct buf *out, const struct sim_policy *p, enum sim_req_kind kind,
                  const char *host_header, const char *target, const char *email,
                  const char *authorization) {
  if (kind == SIM_REQ_GET) {
    /* §4.2: unauthenticated GET, no body. */
    return buf_appendf(out, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n",
                       target, host_header, p->user_agent);
  }
  if (kind == SIM_REQ_AUTODV2) {
    /* §4.4: no authentication needed. */
    return buf_appendf(out,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                       "Accept: application/json\r\n\r\n",
                       target, host_header, p->user_agent);
  }
  char *body = sim__pox_body(email);
  if (body == NULL) {
    return false;
  }
  size_t body_len = strlen(body);
  bool ok = buf_appendf(out, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml\r\n", target,
                        host_header) &&
            buf_appendf(out, "User-Agent: %s\r\n", p->user_agent);
  if (ok && p->mapi_http) {
    ok = buf_appendf(out, "X-MapiHttpCapability: 1\r\nX-AnchorMailbox: %s\r\n", email);
  }
  if (ok && authorization != NULL) {
    ok = buf_appendf(out, "Authorization: %s\r\n", authorization);
  }
  ok = ok && buf_appendf(out, "Content-Length: %zu\r\n\r\n", body_len) &&
       buf_append(out, (struct slice){(const uint8_t *) body, body_len});
  free(body);
  return ok;
}

char *sim__o365_url(const char *email) {
  static const char hex[] = "0123456789ABCDEF";
  struct buf b;
  buf_init(&b, 4096);
  bool ok =
      buf_append_str(&b, "https://outlook.office365.com/autodiscover/autodiscover.json?Email=");
  for (const unsigned char *c = (const unsigned char *) email; ok && *c != '\0'; c++) {
    bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                 *c == '-' || *c == '.' || *c == '_' || *c == '~' || *c == '@';
    if (plain) {
      ok = buf_append(&b, (struct slice){c, 1});
    } else {
      ok = buf_appendf(&b, "%%%c%c", hex[*c >> 4], hex[*c & 15]);
    }
  }
  ok = ok && buf_append_str(&b, "&Protocol=AutodiscoverV1");
  if (!ok) {
    buf_cleanup(&b);
    return NULL;
  }
  return buf_take(&b);
}

/* --- AutoDV2 answers: a strict scanner (see internal.h for why not a parser) --- */

struct scan {
  const uint8_t *p;
  size_t n;
  size_t i;
};

static void skip_ws(struct scan *s) {
  while (s->i < s->n &&
         (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\r' || s->p[s->i] == '\n')) {
    s->i++;
  }
}

static bool expect_byte(struct scan *s, uint8_t c) {
  skip_ws(s);
  if (s->i >= s->n || s->p[s->i] != c) {
    return false;
  }
  s->i++;
  return true;
}

/* scan_string reads one JSON string into `out`: escapes \" \\ \/ only, no control bytes. */
static bool scan_string(struct scan *s, struct buf *out) {
  buf_reset(out);
  if (!expect_byte(s, '"')) {
    return false;
  }
  while (s->i < s->n) {
    uint8_t c = s->p[s->i++];
    if (c == '"') {
      return true;
    }
    if (c < 0x20 || c == 0x7f) {
      return false;
    }
    if (c == '\\') {
      if (s->i >= s->n) {
        return false;
      }
      c = s->p[s->i++];
      if (c != '"' && c != '\\' && c != '/') {
        return false; /* \u and the control escapes have no place in this answer */
      }
    }
    if (!buf_append(out, (struct slice){&c, 1})) {
      return false;
    }
  }
  return false; /* truncated */
}

bool sim__json_url(struct slice body, char **out_url) {
  *out_url = NULL;
  if (body.ptr == NULL || body.len == 0 || body.len > SIM_JSON_MAX) {
    return false;
  }
  struct scan s = {body.ptr, body.len, 0};
  struct buf key, value;
  buf_init(&key, SIM_JSON_MAX);
  buf_init(&value, SIM_JSON_MAX);
  char *url = NULL;
  bool ok = false;
  bool protocol_ok = true;
  if (!expect_byte(&s, '{')) {
    goto out;
  }
  for (size_t members = 0;; members++) {
    if (members >= SIM_JSON_MAX_MEMBERS || !scan_string(&s, &key) || !expect_byte(&s, ':') ||
        !scan_string(&s, &value)) {
      goto out;
    }
    if (strcmp(buf_cstr(&key), "Url") == 0) {
      if (url != NULL || value.len == 0) {
        goto out; /* twice, or empty */
      }
      url = str_dup(buf_cstr(&value));
    } else if (strcmp(buf_cstr(&key), "Protocol") == 0) {
      protocol_ok = str_eq_nocase(buf_cstr(&value), "AutodiscoverV1");
    }
    skip_ws(&s);
    if (s.i < s.n && s.p[s.i] == ',') {
      s.i++;
      continue;
    }
    if (!expect_byte(&s, '}')) {
      goto out;
    }
    break;
  }
  skip_ws(&s);
  ok = s.i == s.n && url != NULL && protocol_ok; /* nothing after the object */
out:
  buf_cleanup(&key);
  buf_cleanup(&value);
  if (!ok) {
    free(url);
    url = NULL;
  }
  *out_url = url;
  return ok;
}

/* --- answers --- */

static bool is_named(const xmlNode *n, const char *name) {
  return n != NULL && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

static const xmlNode *child(const xmlNode *parent, const char *name) {
  for (const xmlNode *c = parent ? parent->children : NULL; c != NULL; c = c->next) {
    if (is_named(c, name)) {
      return c;
    }
  }
  return NULL;
}

/* text returns an element's trimmed text content (caller frees), NULL when absent or empty. */
static char *text(const xmlNode *n) {
  if (n == NULL) {
    return NULL;
  }
  xmlChar *s = xmlNodeGetContent(n);
  if (s == NULL) {
    return NULL;
  }
  const char *b = (const char *) s;
  size_t len = strlen(b);
  while (len > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n')) {
    b++;
    len--;
  }
  while (len > 0 &&
         (b[len - 1] == ' ' || b[len - 1] == '\t' || b[len - 1] == '\r' || b[len - 1] == '\n')) {
    len--;
  }
  char *out = len > 0 ? str_ndup(b, len) : NULL;
  xmlFree(s);
  return out;
}

static char *protocol_type(const xmlNode *proto) {
  char *t = text(child(proto, "Type"));
  if (t == NULL) {
    xmlChar *a = xmlGetProp(proto, BAD_CAST "Type"); /* <Protocol Type="mapiHttp"> */
    if (a != NULL) {
      t = str_dup((const char *) a);
      xmlFree(a);
    }
  }
  return t;
}

/* take_settings picks EwsUrl and Server: EXPR first, then EXCH, then anything (§3.3). */
static void take_settings(struct sim_answer *a, const xmlNode *account) {
  static const char *const order[] = {"EXPR", "EXCH", NULL};
  for (size_t pass = 0; pass < sizeof order / sizeof order[0]; pass++) {
    for (const xmlNode *p = account->children; p != NULL; p = p->next) {
      if (!is_named(p, "Protocol")) {
        continue;
      }
      char *type = protocol_type(p);
      bool match = order[pass] == NULL || (type != NULL && strcmp(type, order[pass]) == 0);
      free(type);
      if (!match) {
        continue;
      }
      if (a->ews_url == NULL) {
        a->ews_url = text(child(p, "EwsUrl"));
        if (a->ews_url != NULL) {
          a->auth_package = text(child(p, "AuthPackage"));
        }
      }
      if (a->server == NULL && order[pass] != NULL) {
        a->server = text(child(p, "Server"));
      }
    }
  }
}

static void other(struct sim_answer *a, const char *why) {
  a->kind = SIM_A_OTHER;
  free(a->why);
  a->why = str_dup(why);
}

static void classify_pox(struct sim_answer *a, const xmlNode *root) {
  if (!is_named(root, "Autodiscover") || root->ns == NULL ||
      xmlStrcmp(root->ns->href, BAD_CAST SIM_NS_RESPONSE) != 0) {
    other(a, "HTTP 200, but the XML is not an Autodiscover response (root element or namespace)");
    return;
  }
  const xmlNode *resp = child(root, "Response");
  if (resp == NULL) {
    other(a, "HTTP 200, but the Autodiscover response has no Response element");
    return;
  }
  const xmlNode *err = child(resp, "Error");
  if (err != NULL) {
    a->kind = SIM_A_ERROR;
    char *code = text(child(err, "ErrorCode"));
    uint32_t v = 0;
    a->error_code = code != NULL && parse_u32(code, 0, 999999, &v) ? v : 0;
    free(code);
    a->message = text(child(err, "Message"));
    return;
  }
  const xmlNode *account = child(resp, "Account");
  if (account == NULL) {
    other(a, "HTTP 200, but the Autodiscover response has neither Account nor Error");
    return;
  }
  char *action = text(child(account, "Action"));
  if (action == NULL && child(account, "Protocol") != NULL) {
    action = str_dup("settings"); /* Exchange 2007 answers may omit Action */
  }
  if (action != NULL && strcmp(action, "settings") == 0) {
    a->kind = SIM_A_SETTINGS;
    take_settings(a, account);
    a->smtp = text(child(child(resp, "User"), "AutoDiscoverSMTPAddress"));
  } else if (action != NULL && strcmp(action, "redirectAddr") == 0) {
    a->redirect = text(child(account, "RedirectAddr"));
    if (a->redirect == NULL || strchr(a->redirect, '@') == NULL) {
      other(a, "redirectAddr without a usable address");
    } else {
      a->kind = SIM_A_REDIRECT_ADDR;
    }
  } else if (action != NULL && strcmp(action, "redirectUrl") == 0) {
    a->redirect = text(child(account, "RedirectUrl"));
    if (a->redirect == NULL) {
      other(a, "redirectUrl without a URL");
    } else {
      a->kind = SIM_A_REDIRECT_URL;
    }
  } else {
    other(a, "HTTP 200, but the Autodiscover Action is missing or unknown");
  }
  free(action);
}

void sim__classify(struct sim_answer *out, int status, const char *location, struct slice body) {
  memset(out, 0, sizeof *out);
  char why[160];
  if ((status == 301 || status == 302 || status == 307 || status == 308) && location != NULL &&
      location[0] != '\0') {
    out->kind = SIM_A_HTTP_REDIRECT;
    out->redirect = str_dup(location);
    return;
  }
  if (status == 401) {
    out->kind = SIM_A_AUTH;
    out->why = str_dup("HTTP 401: the host asks for credentials");
    return;
  }
  if (status != 200) {
    buf_fmt(why, sizeof why, "HTTP %d: not an Autodiscover answer", status);
    other(out, why);
    return;
  }
  if (body.len == 0 || body.len > SIM_BODY_MAX) {
    other(out, body.len == 0 ? "HTTP 200 with an empty body" : "HTTP 200 with a body over 1 MiB");
    return;
  }
  /* No network, no entity expansion, no DTD loading: the body is untrusted. */
  xmlDocPtr doc = xmlReadMemory((const char *) body.ptr, (int) body.len, "response.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL) {
    other(out, "HTTP 200, but the body is not well-formed XML");
    return;
  }
  classify_pox(out, xmlDocGetRootElement(doc));
  xmlFreeDoc(doc);
}

void sim__answer_cleanup(struct sim_answer *a) {
  free(a->ews_url);
  free(a->server);
  free(a->auth_package);
  free(a->smtp);
  free(a->redirect);
  free(a->message);
  free(a->why);
  memset(a, 0, sizeof *a);
}

/* --- URLs --- */

bool sim__url_parse(struct sim_url *out, const char *url) {
  memset(out, 0, sizeof *out);
  if (url == NULL) {
    return false;
  }
  xmlURIPtr u = xmlParseURI(url);
  bool ok = false;
  if (u == NULL || u->scheme == NULL || u->server == NULL || u->server[0] == '\0') {
    goto out;
  }
  if (str_eq_nocase(u->scheme, "https")) {
    out->https = true;
  } else if (!str_eq_nocase(u->scheme, "http")) {
    goto out;
  }
  if (u->user != NULL || u->port > 65535) {
    goto out;
  }
  out->explicit_port = u->port > 0;
  out->port = out->explicit_port ? (uint16_t) u->port : (out->https ? 443 : 80);
  out->host = str_lower(str_dup(u->server));
  struct buf t;
  buf_init(&t, 8192);
  bool t_ok = buf_append_str(&t, u->path != NULL && u->path[0] != '\0' ? u->path : "/");
  if (t_ok && u->query_raw != NULL) {
    t_ok = buf_append_str(&t, "?") && buf_append_str(&t, u->query_raw);
  }
  out->target = buf_take(&t);
  if (!t_ok || out->target == NULL) {
    buf_cleanup(&t);
    goto out;
  }
  for (const char *c = out->target; *c != '\0'; c++) {
    if ((unsigned char) *c <= ' ' || *c == 0x7f) {
      goto out; /* would break the request line */
    }
  }
  for (const char *c = out->host; *c != '\0'; c++) {
    if ((unsigned char) *c <= ' ' || *c == '/' || *c == 0x7f) {
      goto out;
    }
  }
  ok = true;
out:
  xmlFreeURI(u);
  if (!ok) {
    sim__url_cleanup(out);
  }
  return ok;
}

void sim__url_cleanup(struct sim_url *u) {
  free(u->host);
  free(u->target);
  memset(u, 0, sizeof *u);
}

char *sim__url_resolve(const char *base, const char *ref) {
  xmlChar *r = xmlBuildURI(BAD_CAST ref, BAD_CAST base);
  if (r == NULL) {
    return NULL;
  }
  char *out = str_dup((const char *) r);
  xmlFree(r);
  struct sim_url u;
  if (!sim__url_parse(&u, out)) {
    free(out);
    return NULL;
  }
  sim__url_cleanup(&u);
  return out;
}
