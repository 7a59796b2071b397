/* proxy/http/http_soap.c: SOAP Autodiscover (MS-OXWSADISC) — POST /autodiscover/autodiscover.svc
 * with a SOAP 1.1 envelope holding GetUserSettingsRequestMessage or
 * GetDomainSettingsRequestMessage. The envelope is read and the answer built with libxml2; a
 * malformed envelope gets a SOAP Fault. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <stdlib.h>
#include <string.h>

#define ACTION_BASE "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/"
/* What EwsSupportedSchemas says: an Exchange 2016 server (exchangelib picks the newest). */
#define EWS_SCHEMAS                                                                                \
  "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, "             \
  "Exchange2013, Exchange2013_SP1, Exchange2015, Exchange2016"
#define CAS_VERSION "15.1.2507.6"
#define EWS_VERSION "15.01.2507.006"
#define ORG_DN "/o=autodisco/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"

static void free_list(char **list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(list[i]);
  }
  free(list);
}

void http__soap_request_cleanup(struct http_soap_request *r) {
  free_list(r->subjects, r->n_subjects);
  free_list(r->settings, r->n_settings);
  memset(r, 0, sizeof *r);
}

static bool refuse(char *why, size_t why_size, const char *sentence) {
  buf_fmt(why, why_size, "%s", sentence);
  return false;
}

/* first_child returns the first element child named ns:name, or NULL. */
static const xmlNode *first_child(const xmlNode *parent, const char *ns, const char *name) {
  for (const xmlNode *k = parent == NULL ? NULL : parent->children; k != NULL; k = k->next) {
    if (http__xml_is(k, ns, name)) {
      return k;
    }
  }
  return NULL;
}

/* collect appends the text of every item element (under `list`, or of `list`'s `inner` child
 * when inner is set: Users/User/Mailbox) to *out. */
static bool collect(const xmlNode *list, const char *item, const char *inner, char ***out,
                    size_t *n_out, char *why, size_t why_size) {
  for (const xmlNode *k = list == NULL ? NULL : list->children; k != NULL; k = k->next) {
    if (!http__xml_is(k, HTTP_NS_ADISC, item)) {
      continue;
    }
    const xmlNode *leaf = inner == NULL ? k : first_child(k, HTTP_NS_ADISC, inner);
    if (leaf == NULL) {
      return refuse(why, why_size, "a User without a Mailbox");
    }
    if (*n_out >= HTTP_SOAP_MAX_ITEMS) {
      return refuse(why, why_size, "more than 100 users, domains or settings");
    }
    char *text = http__xml_text(leaf);
    if (text == NULL) {
      return refuse(why, why_size, "a request value is too long or not text");
    }
    *out = xrealloc_array(*out, *n_out + 1, sizeof **out);
    (*out)[(*n_out)++] = text;
  }
  return true;
}

static bool read_envelope(struct http_soap_request *out, const xmlDoc *doc, char *why,
                          size_t why_size) {
  if (doc->intSubset != NULL || doc->extSubset != NULL) {
    return refuse(why, why_size, "a DOCTYPE is not accepted");
  }
  const xmlNode *root = xmlDocGetRootElement((xmlDoc *) doc);
  if (root == NULL || !http__xml_is(root, HTTP_NS_SOAP, "Envelope")) {
    return refuse(why, why_size, "root is not a SOAP 1.1 Envelope");
  }
  const xmlNode *body = first_child(root, HTTP_NS_SOAP, "Body");
  if (body == NULL) {
    return refuse(why, why_size, "no SOAP Body");
  }
  const xmlNode *msg = first_child(body, HTTP_NS_ADISC, "GetUserSettingsRequestMessage");
  const char *list = "Users", *item = "User", *inner = "Mailbox";
  out->op = HTTP_SOAP_USER_SETTINGS;
  if (msg == NULL) {
    msg = first_child(body, HTTP_NS_ADISC, "GetDomainSettingsRequestMessage");
    list = "Domains";
    item = "Domain";
    inner = NULL;
    out->op = HTTP_SOAP_DOMAIN_SETTINGS;
  }
  if (msg == NULL) {
    return refuse(why, why_size,
                  "the Body holds neither GetUserSettingsRequestMessage nor "
                  "GetDomainSettingsRequestMessage");
  }
  const xmlNode *request = first_child(msg, HTTP_NS_ADISC, "Request");
  if (request == NULL) {
    return refuse(why, why_size, "no Request element");
  }
  return collect(first_child(request, HTTP_NS_ADISC, list), item, inner, &out->subjects,
                 &out->n_subjects, why, why_size) &&
         collect(first_child(request, HTTP_NS_ADISC, "RequestedSettings"), "Setting", NULL,
                 &out->settings, &out->n_settings, why, why_size);
}

bool http__soap_parse(struct http_soap_request *out, struct slice body, char *why,
                      size_t why_size) {
  memset(out, 0, sizeof *out);
  if (body.len == 0) {
    return refuse(why, why_size, "empty request body");
  }
  if (body.len > HTTP_POX_MAX_REQUEST) {
    return refuse(why, why_size, "request document larger than 64 KiB");
  }
  xmlDoc *doc = http__xml_read(body);
  if (doc == NULL) {
    return refuse(why, why_size, "not well-formed XML");
  }
  bool ok = read_envelope(out, doc, why, why_size);
  xmlFreeDoc(doc);
  return ok;
}

/* ---- answers ---- */

struct envelope {
  xmlDoc *doc;
  xmlNode *header;
  xmlNode *body;
  xmlNs *soap;
};

static bool envelope_new(struct envelope *e, bool with_header) {
  memset(e, 0, sizeof *e);
  e->doc = xmlNewDoc((const xmlChar *) "1.0");
  xmlNode *root = e->doc == NULL ? NULL : xmlNewNode(NULL, (const xmlChar *) "Envelope");
  if (root == NULL) {
    return false;
  }
  xmlDocSetRootElement(e->doc, root);
  e->soap = xmlNewNs(root, (const xmlChar *) HTTP_NS_SOAP, (const xmlChar *) "s");
  if (e->soap == NULL) {
    return false;
  }
  xmlSetNs(root, e->soap);
  if (with_header) {
    e->header = xmlNewChild(root, e->soap, (const xmlChar *) "Header", NULL);
    if (e->header == NULL) {
      return false;
    }
  }
  e->body = xmlNewChild(root, e->soap, (const xmlChar *) "Body", NULL);
  return e->body != NULL;
}

/* add_header writes wsa:Action (mustUnderstand) and the ServerVersionInfo exchangelib reads the
 * server's version from. */
static bool add_header(struct envelope *e, const char *response_name) {
  xmlNs *wsa =
      xmlNewNs(xmlDocGetRootElement(e->doc), (const xmlChar *) HTTP_NS_WSA, (const xmlChar *) "a");
  char action[200];
  buf_fmt(action, sizeof action, ACTION_BASE "%s", response_name);
  xmlNode *a = wsa == NULL ? NULL
                           : xmlNewTextChild(e->header, wsa, (const xmlChar *) "Action",
                                             (const xmlChar *) action);
  if (a == NULL ||
      xmlNewNsProp(a, e->soap, (const xmlChar *) "mustUnderstand", (const xmlChar *) "1") == NULL) {
    return false;
  }
  xmlNode *info = xmlNewChild(e->header, NULL, (const xmlChar *) "ServerVersionInfo", NULL);
  xmlNs *h =
      info == NULL ? NULL : xmlNewNs(info, (const xmlChar *) HTTP_NS_ADISC, (const xmlChar *) "h");
  if (h == NULL) {
    return false;
  }
  xmlSetNs(info, h);
  return http__xml_add_text(info, h, "MajorVersion", "15") &&
         http__xml_add_text(info, h, "MinorVersion", "1") &&
         http__xml_add_text(info, h, "MajorBuildNumber", "2507") &&
         http__xml_add_text(info, h, "MinorBuildNumber", "6") &&
         http__xml_add_text(info, h, "Version", "Exchange2015");
}

/* The values a settings answer gives for one user. */
struct user_values {
  const struct scn_autodiscover *ad;
  const char *mailbox;
  const char *server;
  char *local;
  char user_dn[600];
  char mailbox_dn[600];
  char deployment[40];
};

/* user_setting returns the value of setting `name`, or NULL with *known telling an unknown
 * setting (InvalidSetting) from one this scenario has no value for (SettingIsNotAvailable). */
static const char *user_setting(const struct user_values *v, const char *name, bool *known) {
  const struct scn_autodiscover *ad = v->ad;
  const char *auth = ad->auth_package != NULL ? ad->auth_package : "Negotiate";
  struct {
    const char *name;
    const char *value;
  } table[] = {
      {"UserDisplayName", ad->display_name != NULL ? ad->display_name : v->local},
      {"UserDN", v->user_dn},
      {"UserDeploymentId", v->deployment},
      {"AutoDiscoverSMTPAddress", v->mailbox},
      {"MailboxDN", v->mailbox_dn},
      {"ExternalEwsUrl", ad->ews_url},
      {"InternalEwsUrl", ad->ews_url},
      {"EwsSupportedSchemas", EWS_SCHEMAS},
      {"ExternalEwsVersion", EWS_VERSION},
      {"CasVersion", CAS_VERSION},
      {"ExternalMailboxServer", v->server},
      {"InternalMailboxServer", v->server},
      {"InternalRpcClientServer", v->server},
      {"ExternalMailboxServerRequiresSSL", "True"},
      {"ExternalMailboxServerAuthenticationMethods", auth},
      {"UserMSOnline", "False"},
      {"MapiHttpEnabled", "False"},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (strcmp(table[i].name, name) == 0) {
      *known = true;
      return table[i].value;
    }
  }
  *known = false;
  return NULL;
}

static const char *domain_setting(const struct scn_autodiscover *ad, const char *name,
                                  bool *known) {
  *known = true;
  if (strcmp(name, "ExternalEwsUrl") == 0) {
    return ad->ews_url;
  }
  if (strcmp(name, "ExternalEwsVersion") == 0) {
    return EWS_VERSION;
  }
  *known = false;
  return NULL;
}

static bool add_nil(xmlNode *parent, xmlNs *ns, xmlNs *xsi, const char *name) {
  xmlNode *n = xmlNewChild(parent, ns, (const xmlChar *) name, NULL);
  return n != NULL && xmlNewNsProp(n, xsi, (const xmlChar *) "nil", (const xmlChar *) "true");
}

/* add_setting_error writes <UserSettingError> (or DomainSettingError). */
static bool add_setting_error(xmlNode *errors, xmlNs *ns, const char *element, const char *setting,
                              bool known) {
  xmlNode *e = xmlNewChild(errors, ns, (const xmlChar *) element, NULL);
  return e != NULL &&
         http__xml_add_text(e, ns, "ErrorCode",
                            known ? "SettingIsNotAvailable" : "InvalidSetting") &&
         http__xml_add_text(e, ns, "ErrorMessage",
                            known ? "The requested setting is not available."
                                  : "The requested setting is invalid.") &&
         http__xml_add_text(e, ns, "SettingName", setting);
}

/* subject_outcome gives the ErrorCode/ErrorMessage/RedirectTarget the scenario's action means. */
static void subject_outcome(const struct scn_autodiscover *ad, const char **code,
                            const char **message, const char **target) {
  *target = NULL;
  switch (ad->action) {
    case SCN_AD_SETTINGS:
      *code = "NoError";
      *message = "No error.";
      return;
    case SCN_AD_REDIRECT_ADDR:
      *code = "RedirectAddress";
      *message = "Redirection address.";
      *target = ad->redirect_addr;
      return;
    case SCN_AD_REDIRECT_URL:
      *code = "RedirectUrl";
      *message = "Redirection URL.";
      *target = ad->redirect_url;
      return;
    case SCN_AD_ERROR:
      /* POX 500 (address not found) is SOAP's InvalidUser; 603 a server error. */
      *code = ad->error_code == 500   ? "InvalidUser"
              : ad->error_code == 603 ? "InternalServerError"
                                      : "InvalidRequest";
      *message =
          ad->error_message != NULL ? ad->error_message : http__pox_error_text(ad->error_code);
      return;
  }
}

static void user_values_init(struct user_values *v, const struct scn_autodiscover *ad,
                             const char *mailbox, const char *server, const char *server_id) {
  memset(v, 0, sizeof *v);
  v->ad = ad;
  v->mailbox = mailbox;
  v->server = server;
  v->local = http__local_part(mailbox);
  buf_fmt(v->user_dn, sizeof v->user_dn, ORG_DN "/cn=Recipients/cn=%.400s", v->local);
  buf_fmt(v->mailbox_dn, sizeof v->mailbox_dn,
          ORG_DN "/cn=Configuration/cn=Servers/cn=%.400s/cn=Microsoft Private MDB", server);
  http__deployment_id(v->deployment, server_id);
}

/* add_subject writes one UserResponse or DomainResponse. */
static bool add_subject(xmlNode *list, xmlNs *ns, xmlNs *xsi, const struct scn_autodiscover *ad,
                        const struct http_soap_request *req, size_t i, const char *server,
                        const char *server_id) {
  bool user = req->op == HTTP_SOAP_USER_SETTINGS;
  const char *code = NULL;
  const char *message = NULL;
  const char *target = NULL;
  subject_outcome(ad, &code, &message, &target);
  xmlNode *r =
      xmlNewChild(list, ns, (const xmlChar *) (user ? "UserResponse" : "DomainResponse"), NULL);
  bool ok = r != NULL && http__xml_add_text(r, ns, "ErrorCode", code) &&
            http__xml_add_text(r, ns, "ErrorMessage", message) &&
            (target != NULL ? http__xml_add_text(r, ns, "RedirectTarget", target)
                            : add_nil(r, ns, xsi, "RedirectTarget"));
  xmlNode *errors =
      !ok ? NULL
          : xmlNewChild(r, ns,
                        (const xmlChar *) (user ? "UserSettingErrors" : "DomainSettingErrors"),
                        NULL);
  xmlNode *settings =
      errors == NULL
          ? NULL
          : xmlNewChild(r, ns, (const xmlChar *) (user ? "UserSettings" : "DomainSettings"), NULL);
  if (settings == NULL) {
    return false;
  }
  if (ad->action != SCN_AD_SETTINGS) {
    return true;
  }
  struct user_values v;
  user_values_init(&v, ad, req->subjects[i], server, server_id);
  for (size_t k = 0; k < req->n_settings && ok; k++) {
    const char *name = req->settings[k];
    bool known = false;
    const char *value = user ? user_setting(&v, name, &known) : domain_setting(ad, name, &known);
    if (value == NULL) {
      ok = add_setting_error(errors, ns, user ? "UserSettingError" : "DomainSettingError", name,
                             known);
      continue;
    }
    xmlNode *s =
        xmlNewChild(settings, ns, (const xmlChar *) (user ? "UserSetting" : "DomainSetting"), NULL);
    ok = s != NULL &&
         xmlNewNsProp(s, xsi, (const xmlChar *) "type",
                      (const xmlChar *) (user ? "StringSetting" : "DomainStringSetting")) != NULL &&
         http__xml_add_text(s, ns, "Name", name) && http__xml_add_text(s, ns, "Value", value);
  }
  free(v.local);
  return ok;
}

bool http__soap_answer(struct buf *out, const struct scn_autodiscover *ad,
                       const struct http_soap_request *req, const char *server_id) {
  bool user = req->op == HTTP_SOAP_USER_SETTINGS;
  struct envelope e;
  bool ok = envelope_new(&e, true) &&
            add_header(&e, user ? "GetUserSettingsResponse" : "GetDomainSettingsResponse");
  xmlNode *msg = !ok ? NULL
                     : xmlNewChild(e.body, NULL,
                                   (const xmlChar *) (user ? "GetUserSettingsResponseMessage"
                                                           : "GetDomainSettingsResponseMessage"),
                                   NULL);
  xmlNs *ns = msg == NULL ? NULL : xmlNewNs(msg, (const xmlChar *) HTTP_NS_ADISC, NULL);
  xmlNode *response = ns == NULL ? NULL : xmlNewChild(msg, ns, (const xmlChar *) "Response", NULL);
  xmlNs *xsi = response == NULL
                   ? NULL
                   : xmlNewNs(response, (const xmlChar *) HTTP_NS_XSI, (const xmlChar *) "i");
  ok = xsi != NULL;
  if (ok) {
    xmlSetNs(msg, ns);
  }
  char *host = ad->server != NULL ? str_dup(ad->server) : http__url_host(ad->ews_url);
  const char *server = host != NULL ? host : server_id;
  if (ok && (req->n_subjects == 0 || req->n_settings == 0)) {
    /* MS-OXWSADISC: a request naming no users (domains) or no settings is InvalidRequest. */
    ok = http__xml_add_text(response, ns, "ErrorCode", "InvalidRequest") &&
         http__xml_add_text(response, ns, "ErrorMessage",
                            req->n_subjects == 0 ? "No users or domains were requested."
                                                 : "No settings were requested.");
  } else if (ok) {
    xmlNode *list = NULL;
    ok = http__xml_add_text(response, ns, "ErrorCode", "NoError") &&
         http__xml_add_text(response, ns, "ErrorMessage", "") &&
         (list = xmlNewChild(response, ns,
                             (const xmlChar *) (user ? "UserResponses" : "DomainResponses"),
                             NULL)) != NULL;
    for (size_t i = 0; ok && i < req->n_subjects; i++) {
      ok = add_subject(list, ns, xsi, ad, req, i, server, server_id);
    }
  }
  ok = ok && http__xml_serialize(out, e.doc);
  free(host);
  xmlFreeDoc(e.doc);
  return ok;
}

/* add_unqualified adds <name>text</name> in no namespace (xmlNewChild would inherit the
 * parent's). */
static bool add_unqualified(xmlNode *parent, const char *name, const char *text) {
  xmlNode *n = xmlNewNode(NULL, (const xmlChar *) name);
  if (n == NULL) {
    return false;
  }
  xmlNodeAddContent(n, (const xmlChar *) text);
  return xmlAddChild(parent, n) != NULL;
}

bool http__soap_fault(struct buf *out, const char *why) {
  struct envelope e;
  bool ok = envelope_new(&e, false);
  xmlNode *fault = ok ? xmlNewChild(e.body, e.soap, (const xmlChar *) "Fault", NULL) : NULL;
  /* SOAP 1.1 §4.4: faultcode and faultstring are unqualified; Client: the message was wrong. */
  ok = fault != NULL && add_unqualified(fault, "faultcode", "s:Client") &&
       add_unqualified(fault, "faultstring", why) && http__xml_serialize(out, e.doc);
  xmlFreeDoc(e.doc);
  return ok;
}
