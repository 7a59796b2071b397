/* lab/model/scn.h: the scenario model (what a scenario file says) and its loader.
 *
 * Every other module reads this model; only lab/ builds it. Strings are owned by the model,
 * lowercase where they are DNS names, without a trailing dot. Arrays come with an n_ count. */
#ifndef AD_LAB_MODEL_SCN_H
#define AD_LAB_MODEL_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a value came from, for file:line:col messages (line and col start at 1). */
struct scn_mark {
  const char *file; /* borrowed from the scenario (scn->path) */
  int line;
  int col;
};

/* DNS record types are the IANA numbers (1 A, 2 NS, 5 CNAME, 6 SOA, 12 PTR, 15 MX, 16 TXT,
 * 28 AAAA, 33 SRV), so the model does not depend on the DNS library. */
struct scn_record {
  char *name;    /* owner name */
  uint16_t type; /* IANA RR type */
  uint32_t ttl;
  char *host;    /* A/AAAA: a simulated host's id, whose lab address is the answer; or NULL */
  char *address; /* A/AAAA: a literal address; or NULL */
  char *target;  /* CNAME, NS, MX, SRV target; or NULL */
  uint16_t priority, weight, port; /* SRV (priority is MX preference too) */
  char *text;                      /* TXT */
  struct scn_mark mark;
};

enum scn_dns_behaviour {
  SCN_DNS_ANSWER = 0, /* answer from the records (the default) */
  SCN_DNS_NXDOMAIN,
  SCN_DNS_SERVFAIL,
  SCN_DNS_TIMEOUT, /* never answer */
};

/* A per-name behaviour that overrides the records for that exact name. */
struct scn_dns_rule {
  char *name;
  enum scn_dns_behaviour behaviour;
  struct scn_mark mark;
};

enum scn_cert_profile {
  SCN_CERT_VALID = 0,
  SCN_CERT_EXPIRED,
  SCN_CERT_NOT_YET_VALID,
  SCN_CERT_WRONG_NAME,
  SCN_CERT_SELF_SIGNED,
  SCN_CERT_UNTRUSTED_ROOT,
};

struct scn_cert {
  enum scn_cert_profile profile;
  char *profile_name; /* as written, e.g. "expired" */
  char **names;       /* SAN DNS names; n_names == 0 means the host's names */
  size_t n_names;
  struct scn_mark mark;
};

enum scn_route_kind {
  SCN_ROUTE_STATUS = 0,   /* status + optional body (html or text) */
  SCN_ROUTE_REDIRECT,     /* 301/302/307/308 + Location */
  SCN_ROUTE_AUTODISCOVER, /* canned POX answer */
};

enum scn_ad_action {
  SCN_AD_SETTINGS = 0,
  SCN_AD_REDIRECT_ADDR,
  SCN_AD_REDIRECT_URL,
  SCN_AD_ERROR,
};

/* A canned Autodiscover POX answer (MS-OXDSCLI 2.2.4). */
struct scn_autodiscover {
  enum scn_ad_action action;
  char *display_name;  /* settings: User/DisplayName; NULL → derived from the address */
  char *server;        /* settings: EXPR Server; NULL → host of ews_url */
  char *ews_url;       /* settings: EwsUrl (also ASUrl, OOFUrl) */
  char *auth_package;  /* settings: AuthPackage; NULL → "Negotiate" */
  char *redirect_addr; /* redirectAddr */
  char *redirect_url;  /* redirectUrl */
  uint32_t error_code; /* error: 500..603 or any */
  char *error_message; /* error: Message; NULL → the spec's text for the code */
};

struct scn_route {
  char *path;   /* matched case-insensitively, as IIS does; "/" is also the fallback for any path */
  char *method; /* NULL: any method */
  enum scn_route_kind kind;
  uint16_t status;    /* STATUS and REDIRECT */
  char *body;         /* STATUS: body text or NULL */
  char *content_type; /* STATUS: NULL → text/html when body is HTML, else text/plain */
  char *location;     /* REDIRECT */
  struct scn_autodiscover ad;
  struct scn_mark mark;
};

/* One port of a host. present == false: nothing listens, the connection is refused. */
struct scn_listener {
  bool present;
  struct scn_cert cert; /* https only */
  struct scn_route *routes;
  size_t n_routes;
  struct scn_mark mark;
};

struct scn_host {
  char *id;     /* the key under hosts: */
  char **names; /* DNS names the host answers to: explicit, or every record naming it */
  size_t n_names;
  char *address;             /* a fixed address to use, or NULL: the lab allocates a loopback one */
  struct scn_listener https; /* port 443 */
  struct scn_listener http;  /* port 80 */
  struct scn_mark mark;
};

/* A client to walk and its settings (the Outlook registry values of the model). */
struct scn_client {
  char *model; /* e.g. "outlook-2016-msi" */
  bool exclude_https_root_domain;
  bool exclude_https_autodiscover_domain;
  bool exclude_http_redirect;
  bool exclude_srv_record;
  bool answer_no_to_certificate_prompts; /* the user clicks No instead of Yes */
  struct scn_mark mark;
};

struct scn_prompt_expect {
  char *kind;   /* "certificate", "redirect", "credentials" */
  char *host;   /* NULL: any */
  char *reason; /* certificate: expired, not-yet-valid, name, untrusted; NULL: any */
  struct scn_mark mark;
};

struct scn_expect {
  char *client; /* model name */
  bool has_prompts;
  struct scn_prompt_expect *prompts; /* in order; has_prompts with n_prompts == 0: none */
  size_t n_prompts;
  char *outcome;   /* "settings" or "failure"; NULL: not checked */
  char *final_url; /* NULL: not checked */
  char *ews_url;   /* NULL: not checked */
  struct scn_mark mark;
};

struct scn {
  char *path; /* the file it was loaded from */
  char *name;
  char *description;
  char *domain; /* whose Autodiscover is looked up */
  char *email;  /* as given, or "user@" + domain: never NULL after loading */
  char **zones; /* apexes the lab DNS is authoritative for (given, or derived) */
  size_t n_zones;
  struct scn_record *records;
  size_t n_records;
  struct scn_dns_rule *rules;
  size_t n_rules;
  struct scn_host *hosts;
  size_t n_hosts;
  struct scn_client *clients;
  size_t n_clients;
  struct scn_expect *expects;
  size_t n_expects;
};

enum scn_status {
  SCN_OK = 0,
  SCN_EIO,     /* the file could not be read */
  SCN_ESYNTAX, /* not YAML */
  SCN_ESCHEMA, /* YAML, but not a scenario: unknown key, wrong type, missing value */
};

/* scn_load reads and validates a scenario file. On failure *out is NULL and `err` (of err_size
 * bytes) holds one line "file:line:col: message". */
enum scn_status scn_load(struct scn **out, const char *path, char *err, size_t err_size);
/* scn_load_string is scn_load on text already in memory; `path` names it in messages. */
enum scn_status scn_load_string(struct scn **out, const char *path, const char *text, size_t len,
                                char *err, size_t err_size);
/* scn_free releases a model; NULL is fine. */
void scn_free(struct scn *s);

/* scn_host_find returns the host with that id, or NULL. */
const struct scn_host *scn_host_find(const struct scn *s, const char *id);
/* scn_cert_profile_name names a profile as scenario files spell it. */
const char *scn_cert_profile_name(enum scn_cert_profile p);

#endif
