/* proxy/http/http_pox.c: Autodiscover POX (docs/protocol.md §3) — the request parsed and
 * the answers built with libxml2, never by pasting text together. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define POX_MAX_FIELD 1024u /* longest EMailAddress / LegacyDN / schema we keep */

/* libxml2 reports some problems (bad encodings, I/O) through its generic error function even
 * with XML_PARSE_NOERROR; a hostile request must not write on the lab's stderr, so the handler
 * is silenced around each call and then restored for whoever else uses libxml2 here. */
struct quiet {
  xmlGenericErrorFunc func;
  void *ctx;
};

static void ignore_error(void *ctx, const char *msg, ...) {
  (void) ctx;
  (void) msg;
}

static void quiet_begin(struct quiet *q) {
  q->func = xmlGenericError;
  q->ctx = xmlGenericErrorContext;
  xmlSetGenericErrorFunc(NULL, ignore_error);
}

static void quiet_end(const struct quiet *q) {
  xmlSetGenericErrorFunc(q->ctx, q->func);
}

void http__pox_request_cleanup(struct http_pox_request *r) {
  free(r->email);
  free(r->legacy_dn);
  free(r->schema);
  memset(r, 0, sizeof *r);
}

bool http__xml_is(const xmlNode *n, const char *ns, const char *name) {
  return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
         strcmp((const char *) n->ns->href, ns) == 0 && strcmp((const char *) n->name, name) == 0;
}

static bool is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *http__xml_text(const xmlNode *e) {
  struct buf text;
  buf_init(&text, POX_MAX_FIELD);
  for (const xmlNode *k = e->children; k != NULL; k = k->next) {
    if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
      if (k->content != NULL && !buf_append_str(&text, (const char *) k->content)) {
        buf_cleanup(&text);
        return NULL;
      }
    } else if (k->type != XML_COMMENT_NODE && k->type != XML_PI_NODE) {
      buf_cleanup(&text);
      return NULL;
    }
  }
  struct slice s = buf_slice(&text);
  while (s.len > 0 && is_space(s.ptr[0])) {
    s.ptr++;
    s.len--;
  }
  while (s.len > 0 && is_space(s.ptr[s.len - 1])) {
    s.len--;
  }
  char *out = s.len == 0 ? str_dup("") : str_ndup((const char *) s.ptr, s.len);
  buf_cleanup(&text);
  return out;
}

static enum http_pox_parse invalid(char *why, size_t why_size, const char *sentence) {
  buf_fmt(why, why_size, "%s", sentence);
  return HTTP_POX_INVALID;
}

static enum http_pox_parse read_request(struct http_pox_request *out, const xmlDoc *doc, char *why,
                                        size_t why_size) {
  /* A DOCTYPE could declare entities (external ones, or billions of nested ones); Exchange's
   * .NET parser refuses DTDs too, so a request carrying one is simply invalid. */
  if (doc->intSubset != NULL || doc->extSubset != NULL) {
    return invalid(why, why_size, "a DOCTYPE is not accepted");
  }
  const xmlNode *root = xmlDocGetRootElement((xmlDoc *) doc);
  const char *ns = HTTP_NS_REQUEST;
  if (root == NULL) {
    return invalid(why, why_size, "no root element");
  }
  if (http__xml_is(root, HTTP_NS_MOBILE_REQUEST, "Autodiscover")) {
    ns = HTTP_NS_MOBILE_REQUEST; /* ActiveSync asks for a schema we do not serve: 601 below */
  } else if (!http__xml_is(root, HTTP_NS_REQUEST, "Autodiscover")) {
    return invalid(why, why_size, "root is not Autodiscover in the request namespace");
  }
  const xmlNode *request = NULL;
  for (const xmlNode *k = root->children; k != NULL && request == NULL; k = k->next) {
    if (http__xml_is(k, ns, "Request")) {
      request = k;
    }
  }
  if (request == NULL) {
    return invalid(why, why_size, "no Request element");
  }
  for (const xmlNode *k = request->children; k != NULL; k = k->next) {
    char **slot = NULL;
    if (http__xml_is(k, ns, "EMailAddress")) {
      slot = &out->email;
    } else if (http__xml_is(k, ns, "LegacyDN")) {
      slot = &out->legacy_dn;
    } else if (http__xml_is(k, ns, "AcceptableResponseSchema")) {
      slot = &out->schema;
    }
    if (slot == NULL || *slot != NULL) {
      continue; /* unknown elements are ignored; the first of a repeated one counts */
    }
    *slot = http__xml_text(k);
    if (*slot == NULL) {
      return invalid(why, why_size, "a request field is too long or not text");
    }
  }
  if ((out->email == NULL || out->email[0] == '\0') &&
      (out->legacy_dn == NULL || out->legacy_dn[0] == '\0')) {
    return invalid(why, why_size, "neither EMailAddress nor LegacyDN");
  }
  if (out->schema == NULL) {
    return invalid(why, why_size, "no AcceptableResponseSchema");
  }
  if (strcmp(out->schema, HTTP_NS_RESPONSE_2006A) != 0) {
    buf_fmt(why, why_size, "response schema not served: %.200s", out->schema);
    return HTTP_POX_SCHEMA; /* §3.1: 601 */
  }
  return HTTP_POX_OK;
}

xmlDoc *http__xml_read(struct slice body) {
  if (body.len == 0 || body.len > HTTP_POX_MAX_REQUEST) {
    return NULL;
  }
  /* No XML_PARSE_NOENT (entities stay unexpanded), no DTD loading, no network. */
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  struct quiet q;
  quiet_begin(&q);
  xmlDoc *doc =
      xmlReadMemory((const char *) body.ptr, (int) body.len, "request.xml", NULL, options);
  quiet_end(&q);
  if (doc == NULL) {
    xmlResetLastError();
  }
  return doc;
}

enum http_pox_parse http__pox_parse(struct http_pox_request *out, struct slice body, char *why,
                                    size_t why_size) {
  memset(out, 0, sizeof *out);
  if (body.len == 0) {
    return invalid(why, why_size, "empty request body");
  }
  if (body.len > HTTP_POX_MAX_REQUEST) {
    return invalid(why, why_size, "request document larger than 64 KiB");
  }
  xmlDoc *doc = http__xml_read(body);
  if (doc == NULL) {
    return invalid(why, why_size, "not well-formed XML");
  }
  enum http_pox_parse st = read_request(out, doc, why, why_size);
  xmlFreeDoc(doc);
  return st;
}

const char *http__pox_error_text(uint32_t code) {
  /* MS-OXDSCLI 2.2.4.1.1.3.2 via docs/protocol.md §3.5 (Exchange's wording where
   * known, the table's otherwise). */
  switch (code) {
    case 500: return "The email address can't be found.";
    case 501: return "No configuration options are available for this address.";
    case 600: return "Invalid Request";
    case 601: return "Provider is not available for the requested schema.";
    case 602: return "Bad Address";
    case 603: return "Internal Server Error";
    default: return "Error";
  }
}

/* ---- building ---- */

bool http__xml_add_text(xmlNode *parent, xmlNs *ns, const char *name, const char *text) {
  if (text == NULL) {
    return true;
  }
  /* xmlNewTextChild escapes the text (xmlNewChild would read it as markup). */
  return xmlNewTextChild(parent, ns, (const xmlChar *) name, (const xmlChar *) text) != NULL;
}

bool http__xml_serialize(struct buf *out, xmlDoc *doc) {
  xmlChar *mem = NULL;
  int len = 0;
  struct quiet q;
  quiet_begin(&q);
  xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "utf-8", 1);
  quiet_end(&q);
  bool ok = mem != NULL && len >= 0 && buf_append(out, (struct slice){mem, (size_t) len});
  xmlFree(mem);
  return ok;
}

/* new_doc makes <Autodiscover xmlns=responseschema/2006> and returns its namespace. */
static xmlDoc *new_doc(xmlNode **out_root, xmlNs **out_ns) {
  xmlDoc *doc = xmlNewDoc((const xmlChar *) "1.0");
  xmlNode *root = doc == NULL ? NULL : xmlNewNode(NULL, (const xmlChar *) "Autodiscover");
  xmlNs *ns = root == NULL ? NULL : xmlNewNs(root, (const xmlChar *) HTTP_NS_RESPONSE, NULL);
  if (ns == NULL) {
    xmlFreeNode(root);
    xmlFreeDoc(doc);
    return NULL;
  }
  xmlSetNs(root, ns);
  xmlDocSetRootElement(doc, root);
  *out_root = root;
  *out_ns = ns;
  return doc;
}

uint32_t http__server_hash(const char *server_id) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  const char *s = server_id == NULL ? "" : server_id;
  SHA256((const uint8_t *) s, strlen(s), md);
  return (uint32_t) md[0] << 24 | (uint32_t) md[1] << 16 | (uint32_t) md[2] << 8 | md[3];
}

bool http__pox_error(struct buf *out, uint32_t code, const char *message, const char *server_id) {
  xmlNode *root = NULL;
  xmlNs *ns = NULL;
  xmlDoc *doc = new_doc(&root, &ns);
  if (doc == NULL) {
    return false;
  }
  /* §3.5: an error's Response stays in the outer namespace; Error carries Time and Id. */
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  char when[32], id[16], code_text[16];
  buf_fmt(when, sizeof when, "%02d:%02d:%02d.%07ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
          (long) tv.tv_usec * 10);
  buf_fmt(id, sizeof id, "%lu", (unsigned long) http__server_hash(server_id));
  buf_fmt(code_text, sizeof code_text, "%lu", (unsigned long) code);
  xmlNode *response = xmlNewChild(root, ns, (const xmlChar *) "Response", NULL);
  xmlNode *error =
      response == NULL ? NULL : xmlNewChild(response, ns, (const xmlChar *) "Error", NULL);
  bool ok =
      error != NULL && xmlNewProp(error, (const xmlChar *) "Time", (const xmlChar *) when) &&
      xmlNewProp(error, (const xmlChar *) "Id", (const xmlChar *) id) &&
      http__xml_add_text(error, ns, "ErrorCode", code_text) &&
      http__xml_add_text(error, ns, "Message", message ? message : http__pox_error_text(code)) &&
      http__xml_add_text(error, ns, "DebugData", "") && http__xml_serialize(out, doc);
  xmlFreeDoc(doc);
  return ok;
}

/* local_part is the user part of the address, else the last cn= of the LegacyDN, else "user". */
static char *local_part(const struct http_pox_request *req) {
  if (req->email != NULL && req->email[0] != '\0') {
    return http__local_part(req->email);
  }
  if (req->legacy_dn != NULL) {
    const char *cn = NULL;
    for (const char *p = req->legacy_dn; (p = strstr(p, "cn=")) != NULL; p += 3) {
      cn = p + 3;
    }
    if (cn == NULL) {
      for (const char *p = req->legacy_dn; (p = strstr(p, "CN=")) != NULL; p += 3) {
        cn = p + 3;
      }
    }
    if (cn != NULL && cn[0] != '\0') {
      return str_dup(cn);
    }
  }
  return str_dup("user");
}

char *http__local_part(const char *email) {
  const char *at = strrchr(email, '@');
  return str_ndup(email, at == NULL ? strlen(email) : (size_t) (at - email));
}

void http__deployment_id(char out[40], const char *server_id) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  const char *s = server_id == NULL ? "" : server_id;
  SHA256((const uint8_t *) s, strlen(s), md);
  buf_fmt(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0],
          md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12],
          md[13], md[14], md[15]);
}

char *http__url_host(const char *url) {
  if (url == NULL) {
    return NULL;
  }
  xmlURI *uri = xmlParseURI(url);
  char *host = uri == NULL || uri->server == NULL ? NULL : str_dup(uri->server);
  xmlFreeURI(uri);
  return host;
}

static bool add_protocol(xmlNode *account, xmlNs *ns, const char *type,
                         const struct scn_autodiscover *ad, const char *server) {
  xmlNode *p = xmlNewChild(account, ns, (const xmlChar *) "Protocol", NULL);
  return p != NULL && http__xml_add_text(p, ns, "Type", type) &&
         http__xml_add_text(p, ns, "Server", server) && http__xml_add_text(p, ns, "SSL", "On") &&
         http__xml_add_text(p, ns, "AuthPackage",
                            ad->auth_package ? ad->auth_package : "Negotiate") &&
         http__xml_add_text(p, ns, "ASUrl", ad->ews_url) &&
         http__xml_add_text(p, ns, "EwsUrl", ad->ews_url) &&
         http__xml_add_text(p, ns, "OOFUrl", ad->ews_url) && http__xml_add_text(p, ns, "TTL", "1");
}

/* add_owa adds <Internal> or <External> with <OWAUrl AuthenticationMethod=..> (§3.3, WEB). */
static bool add_owa(xmlNode *p, xmlNs *ns, const char *where, const struct scn_ad_protocol *sp) {
  xmlNode *side = xmlNewChild(p, ns, (const xmlChar *) where, NULL);
  xmlNode *owa = side == NULL ? NULL
                              : xmlNewTextChild(side, ns, (const xmlChar *) "OWAUrl",
                                                (const xmlChar *) sp->owa_url);
  return owa != NULL && xmlNewProp(owa, (const xmlChar *) "AuthenticationMethod",
                                   (const xmlChar *) (sp->auth_package != NULL ? sp->auth_package
                                                                               : "Fba")) != NULL;
}

/* add_explicit writes one scenario Protocol block. EXCH, EXPR, EXHTTP (and any other type) carry
 * Server, SSL, AuthPackage and the web-service URLs that are set (ASUrl and OOFUrl default to
 * EwsUrl); WEB carries the OWA URL for both Internal and External, its AuthPackage as the
 * AuthenticationMethod (default Fba). */
static bool add_explicit(xmlNode *account, xmlNs *ns, const struct scn_ad_protocol *sp,
                         const struct scn_autodiscover *ad, const char *server) {
  const char *type = sp->type != NULL ? sp->type : "EXPR";
  xmlNode *p = xmlNewChild(account, ns, (const xmlChar *) "Protocol", NULL);
  if (p == NULL || !http__xml_add_text(p, ns, "Type", type)) {
    return false;
  }
  if (str_eq_nocase(type, "WEB")) {
    return sp->owa_url == NULL ||
           (add_owa(p, ns, "Internal", sp) && add_owa(p, ns, "External", sp));
  }
  const char *ews = sp->ews_url != NULL ? sp->ews_url : ad->ews_url;
  const char *auth = sp->auth_package != NULL ? sp->auth_package : ad->auth_package;
  return http__xml_add_text(p, ns, "Server", sp->server != NULL ? sp->server : server) &&
         http__xml_add_text(p, ns, "SSL", sp->ssl ? "On" : "Off") &&
         http__xml_add_text(p, ns, "AuthPackage", auth != NULL ? auth : "Negotiate") &&
         http__xml_add_text(p, ns, "ASUrl", sp->as_url != NULL ? sp->as_url : ews) &&
         http__xml_add_text(p, ns, "EwsUrl", ews) && http__xml_add_text(p, ns, "OOFUrl", ews) &&
         http__xml_add_text(p, ns, "OABUrl", sp->oab_url) && http__xml_add_text(p, ns, "TTL", "1");
}

static bool add_protocols(xmlNode *account, xmlNs *ns, const struct scn_autodiscover *ad,
                          const char *server) {
  if (ad->n_protocols == 0) {
    return add_protocol(account, ns, "EXPR", ad, server) &&
           add_protocol(account, ns, "EXCH", ad, server);
  }
  for (size_t i = 0; i < ad->n_protocols; i++) {
    if (!add_explicit(account, ns, &ad->protocols[i], ad, server)) {
      return false;
    }
  }
  return true;
}

/* §3.3 settings, §3.4 redirects: Response in the 2006a namespace. */
static bool build_account(xmlNode *root, const struct scn_autodiscover *ad,
                          const struct http_pox_request *req, const char *server_id,
                          xmlNode **out_account, xmlNs **out_ns) {
  xmlNode *response = xmlNewChild(root, NULL, (const xmlChar *) "Response", NULL);
  xmlNs *ns =
      response == NULL ? NULL : xmlNewNs(response, (const xmlChar *) HTTP_NS_RESPONSE_2006A, NULL);
  if (ns == NULL) {
    return false;
  }
  xmlSetNs(response, ns);
  if (ad->action == SCN_AD_SETTINGS) {
    char *local = local_part(req);
    struct buf dn;
    buf_init(&dn, 4096);
    char dep[40];
    http__deployment_id(dep, server_id);
    bool dn_ok =
        req->legacy_dn != NULL || buf_appendf(&dn,
                                              "/o=autodisco/ou=Exchange Administrative Group "
                                              "(FYDIBOHF23SPDLT)/cn=Recipients/cn=%s",
                                              local);
    xmlNode *user = xmlNewChild(response, ns, (const xmlChar *) "User", NULL);
    bool ok =
        dn_ok && user != NULL &&
        http__xml_add_text(user, ns, "DisplayName", ad->display_name ? ad->display_name : local) &&
        http__xml_add_text(user, ns, "LegacyDN", req->legacy_dn ? req->legacy_dn : buf_cstr(&dn)) &&
        http__xml_add_text(user, ns, "AutoDiscoverSMTPAddress", req->email) &&
        http__xml_add_text(user, ns, "DeploymentId", dep);
    free(local);
    buf_cleanup(&dn);
    if (!ok) {
      return false;
    }
  }
  xmlNode *account = xmlNewChild(response, ns, (const xmlChar *) "Account", NULL);
  if (account == NULL || !http__xml_add_text(account, ns, "AccountType", "email")) {
    return false;
  }
  *out_account = account;
  *out_ns = ns;
  return true;
}

bool http__pox_answer(struct buf *out, const struct scn_autodiscover *ad,
                      const struct http_pox_request *req, const char *server_id) {
  if (req == NULL) {
    return http__pox_error(out, 600, NULL, server_id);
  }
  if (ad->action == SCN_AD_ERROR) {
    return http__pox_error(out, ad->error_code, ad->error_message, server_id);
  }
  xmlNode *root = NULL, *account = NULL;
  xmlNs *outer = NULL, *ns = NULL;
  xmlDoc *doc = new_doc(&root, &outer);
  if (doc == NULL) {
    return false;
  }
  bool ok = build_account(root, ad, req, server_id, &account, &ns);
  if (ok) {
    switch (ad->action) {
      case SCN_AD_SETTINGS: {
        char *host = ad->server != NULL ? str_dup(ad->server) : http__url_host(ad->ews_url);
        const char *server = host != NULL ? host : server_id;
        ok = http__xml_add_text(account, ns, "Action", "settings") &&
             http__xml_add_text(account, ns, "MicrosoftOnline", "False") &&
             add_protocols(account, ns, ad, server);
        free(host);
        break;
      }
      case SCN_AD_REDIRECT_ADDR:
        ok = http__xml_add_text(account, ns, "Action", "redirectAddr") &&
             http__xml_add_text(account, ns, "RedirectAddr", ad->redirect_addr);
        break;
      case SCN_AD_REDIRECT_URL:
        ok = http__xml_add_text(account, ns, "Action", "redirectUrl") &&
             http__xml_add_text(account, ns, "RedirectUrl", ad->redirect_url);
        break;
      case SCN_AD_ERROR: ok = false; break; /* answered above */
    }
  }
  ok = ok && http__xml_serialize(out, doc);
  xmlFreeDoc(doc);
  return ok;
}
