/* scenario/scn.h: the scenario model (what a scenario file says) and its loader.
 *
 * Every other module reads this model; only this folder builds it. Strings are owned by the model,
 * lowercase where they are DNS names, without a trailing dot. Arrays come with an n_ count. */
#ifndef AD_SCENARIO_SCN_H
#define AD_SCENARIO_SCN_H

#include "certs/ca.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a value came from, for file:line:col messages (line and col start at 1). */
struct scn_mark {
  const char *file; /* borrowed from the scenario: scn->path, or one of scn->files (a base
                       the scenario extends, its zone file) */
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
  bool from_zone_file;             /* mark points into a zone file (dns.zone_file) */
  struct scn_mark mark;
};
/* A record whose owner starts with "*." is a wildcard (RFC 4592): it answers for names below
 * its parent that have no records of their own. */

/* A record given as bytes (dns.records with rdata_hex): answered as written, never parsed, for
 * the malformed cases a client must survive — rdata of the wrong shape for its type, an RDLENGTH
 * that is not the length of the data (docs/scenarios.md, "Raw answers"). */
struct scn_raw_record {
  char *name;    /* owner: answers queries for exactly this name and type */
  uint16_t type; /* IANA RR type */
  uint32_t ttl;
  uint8_t *rdata; /* the bytes after RDLENGTH */
  size_t rdata_len;
  uint16_t rdlength; /* the RDLENGTH written: rdata_len unless the scenario says otherwise */
  struct scn_mark mark;
};

enum scn_dns_behaviour {
  SCN_DNS_ANSWER = 0, /* answer from the records (the default) */
  SCN_DNS_NXDOMAIN,
  SCN_DNS_SERVFAIL,
  SCN_DNS_TIMEOUT, /* never answer */
  SCN_DNS_NODATA,  /* NOERROR, no answer, SOA in authority */
  SCN_DNS_REFUSED,
  SCN_DNS_TRUNCATE, /* over UDP: TC set, no answer (the client retries over TCP); over TCP:
                       the full answer */
  SCN_DNS_RAW,      /* NOERROR with the scenario's bytes as the answer section (raw) */
};

/* A behaviour that overrides the records for one exact name (and type). */
struct scn_dns_rule {
  char *name;
  uint16_t type; /* IANA RR type the rule applies to; 0: every type */
  enum scn_dns_behaviour behaviour;
  uint32_t first_n; /* 0: always; N: only the first N matching queries, then answer normally
                       ("fail the first N queries") */
  uint8_t *raw;     /* SCN_DNS_RAW: the answer section's bytes, as written (answer_hex) */
  size_t raw_len;
  uint16_t raw_count; /* SCN_DNS_RAW: the ANCOUNT the header claims (answer_count, default 1) */
  struct scn_mark mark;
};

/* A record the overlay takes away from what the upstream resolver answers: dns.records with
 * `remove: true` (docs/scenarios.md, "dns.overlay"). */
struct scn_dns_removal {
  char *name;
  uint16_t type; /* IANA RR type */
  struct scn_mark mark;
};

/* dns.overlay: the lab answers the names and types the scenario defines and forwards every other
 * query to a real resolver (docs/scenarios.md, "dns.overlay"). */
struct scn_dns_overlay {
  bool present;
  char *upstream;      /* the resolver, "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6) */
  uint32_t timeout_ms; /* how long an upstream answer is awaited before SERVFAIL (default 2 s) */
  struct scn_dns_removal *removals;
  size_t n_removals;
  struct scn_mark mark;
};

/* A listener's certificate. Profiles and key types are the lab CA's vocabulary (certs/ca.h). */
struct scn_cert {
  const struct ca_profile *profile; /* never NULL after loading: valid unless the file says */
  char **names;                     /* SAN DNS names; n_names == 0 means the host's names */
  size_t n_names;
  enum ca_key_type key_type; /* CA_KEY_DEFAULT: the profile's own */
  bool has_not_before;       /* validity overrides (unix seconds), else the profile's */
  int64_t not_before;
  bool has_not_after;
  int64_t not_after;
  struct scn_mark mark;
};

enum scn_route_kind {
  SCN_ROUTE_STATUS = 0,      /* status + optional body (html, text or raw bytes) and headers */
  SCN_ROUTE_REDIRECT,        /* any 3xx + Location */
  SCN_ROUTE_AUTODISCOVER,    /* canned POX answer (/autodiscover/autodiscover.xml) */
  SCN_ROUTE_AUTODISCOVER_V2, /* AutoDV2 JSON (/autodiscover/autodiscover.json) */
  SCN_ROUTE_SOAP,            /* SOAP Autodiscover (/autodiscover/autodiscover.svc, MS-OXWSADISC) */
  SCN_ROUTE_UPSTREAM,        /* forwarded to a real server, its answer relayed (route.upstream) */
  SCN_ROUTE_ANSWERS,         /* one of route.answers, chosen per request (answers, n_answers) */
};

/* Where an upstream route forwards (docs/scenarios.md, "Upstream routes"). */
struct scn_upstream {
  char *url;             /* as written: http(s)://HOST[:PORT][/BASE] */
  bool https;            /* the scheme */
  char *host;            /* the URL's host, lowercase; an IPv6 literal without brackets */
  uint16_t port;         /* the URL's port, or 443 / 80 */
  char *base_path;       /* the URL's path without a trailing '/' ("" for none): the client's
                            path and query are appended to it */
  char *trust;           /* https: a PEM file of the roots to trust (resolved against the
                            scenario's folder); NULL: the system store */
  char *address;         /* an IP literal to connect to instead of resolving host; or NULL */
  uint16_t address_port; /* with address: the port to connect to (the URL's unless given) */
  char *dns;             /* the resolver host is looked up with, "ADDR:PORT"; NULL: the
                            system's (dns.overlay.upstream when the scenario has one) */
  bool keep_host;        /* forward the client's Host header instead of HOST[:PORT] */
  uint32_t timeout_ms;   /* to resolve, connect, shake hands, get the response's head, and
                            between two reads of its body (default 10 s) */
};

enum scn_ad_action {
  SCN_AD_SETTINGS = 0,
  SCN_AD_REDIRECT_ADDR,
  SCN_AD_REDIRECT_URL,
  SCN_AD_ERROR,
};

/* One Protocol block of a POX settings answer (docs/protocol.md §3.3). */
struct scn_ad_protocol {
  char *type;         /* "EXCH", "EXPR", "WEB", "EXHTTP" */
  char *server;       /* Server */
  char *ews_url;      /* EwsUrl (and ASUrl, OOFUrl when those are not given) */
  char *as_url;       /* ASUrl */
  char *oab_url;      /* OABUrl */
  char *owa_url;      /* WEB: OWAUrl */
  char *auth_package; /* AuthPackage */
  bool ssl;           /* SSL On/Off (default On) */
  struct scn_mark mark;
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
  struct scn_ad_protocol *protocols; /* settings: explicit Protocol blocks; n_protocols == 0 →
                                        EXPR and EXCH made from server/ews_url/auth_package */
  size_t n_protocols;
};

/* An AutoDV2 JSON answer: for each Protocol asked, a URL (docs/protocol.md §4.4). */
struct scn_autodiscover_v2 {
  char **protocols; /* e.g. "AutodiscoverV1", "EWS" (matched case-insensitively) */
  char **urls;      /* parallel to protocols */
  size_t n_protocols;
  uint16_t not_found_status; /* a protocol not listed: this status with InvalidProtocol
                                (default 400) */
};

/* A header a route adds to its answer. */
struct scn_header {
  char *name;
  char *value;
};

/* HTTP authentication a route demands before it answers (docs/protocol.md §2.4). */
struct scn_auth {
  bool present;
  char **challenges; /* WWW-Authenticate values: "Basic realm=\"contoso\"", "NTLM",
                        "Negotiate", "Bearer authorization_uri=..." */
  size_t n_challenges;
  bool accept_credentials; /* a request with Authorization gets the route's answer (true) or
                              401 again (false) */
};

/* A route, or one of a route's answers (route.answers: an answer is a route without path and
 * method, with the conditions under which it is chosen). */
struct scn_route {
  char *path;   /* matched case-insensitively after percent-decoding, as IIS does; "/" is also the
                   fallback for any path. NULL for an answer */
  char *method; /* NULL: any method */
  enum scn_route_kind kind;
  uint16_t status;            /* STATUS and REDIRECT */
  char *body;                 /* STATUS: body bytes (NUL-terminated too) or NULL */
  char *content_type;         /* STATUS: NULL → text/html when body is HTML, else text/plain */
  size_t body_len;            /* STATUS: bytes in body (raw, body_hex and body_base64 bodies
                                 may hold a BOM, UTF-16, invalid UTF-8 or NULs) */
  char *location;             /* REDIRECT */
  struct scn_header *headers; /* extra response headers (any kind) */
  size_t n_headers;
  struct scn_auth auth;       /* 401 challenge before the answer (any kind) */
  struct scn_autodiscover ad; /* AUTODISCOVER and SOAP (settings for GetUserSettings) */
  struct scn_autodiscover_v2 ad2;
  struct scn_upstream upstream; /* UPSTREAM */
  struct scn_route *answers;    /* ANSWERS: tried in order for each request; the first whose
                                   conditions hold answers it (none: 404) */
  size_t n_answers;
  /* an answer's conditions (both must hold) */
  uint32_t first_n; /* 0: any request; N: only the first N requests it answers (the lab counts
                       from the start, and again for each client `run` walks) */
  char *for_email;  /* only a request for this address (POX EMailAddress, the AutoDV2 address,
                       the SOAP mailbox; compared without regard to case); NULL: any */
  size_t counter;   /* an answer with first_n: its index among the lab's scn->n_counters */
  struct scn_mark mark;
};

enum scn_fault {
  SCN_FAULT_NONE = 0,
  SCN_FAULT_BLACKHOLE,   /* connections are never completed: the client's connect times out */
  SCN_FAULT_RESET,       /* accepted, then reset (RST) at once */
  SCN_FAULT_RESET_HELLO, /* https: reset after reading the ClientHello */
  SCN_FAULT_SILENT,      /* accepted, never answered: the handshake or request times out */
};

/* One port of a host. present == false: nothing listens, the connection is refused. */
struct scn_listener {
  bool present;
  uint16_t port;        /* the port clients connect to: 443 (https), 80 (http) or a listeners:
                           entry's */
  bool tls;             /* HTTPS */
  enum scn_fault fault; /* instead of serving */
  uint32_t delay_ms;    /* lab time before each answer (scaled by the lab clock in run) */
  uint16_t tls_min;     /* https: lowest/highest protocol version offered, as the wire codes
                           0x0301 (TLS 1.0) .. 0x0304 (TLS 1.3); 0: the default 1.2..1.3 */
  uint16_t tls_max;
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
  struct scn_listener *listeners; /* listeners: the other ports (8443, 444, ...), each present,
                                     in file order, no port twice and none 443 or 80 */
  size_t n_listeners;
  struct scn_mark mark;
};

/* The certificate checks a client model makes of a presented chain (bits; the settings
 * certificate_prompts and certificate_accepted, docs/clients.md). The first four are the
 * Security Alert's checks (docs/protocol.md §2.3); the weak ones are what current TLS stacks
 * refuse although the chain verifies. */
enum scn_cert_check {
  SCN_CERT_UNTRUSTED = 1 << 0,      /* "issued by a trusted certifying authority" fails */
  SCN_CERT_EXPIRED = 1 << 1,        /* "date valid": expired */
  SCN_CERT_NOT_YET_VALID = 1 << 2,  /* "date valid": not yet valid */
  SCN_CERT_NAME = 1 << 3,           /* "name valid and matching the site" fails */
  SCN_CERT_WEAK_SIGNATURE = 1 << 4, /* a certificate of the chain signed with SHA-1 or MD5 */
  SCN_CERT_WEAK_KEY = 1 << 5,       /* the leaf's key is RSA under 2048 bits */
};
enum { SCN_CERT_ALL = (1 << 6) - 1 };

/* How several SRV records are ordered (docs/protocol.md §5). */
enum scn_srv_choice {
  SCN_SRV_RFC2782 = 0, /* lowest priority first; within a priority, heavier weight first */
  SCN_SRV_WEIGHTED,    /* RFC 2782's weighted random pick, seeded by srv_seed (repeatable) */
  SCN_SRV_LARGEST,     /* the one record of largest priority, then weight (exchangelib) */
};

/* Which SRV records are used (§5). */
enum scn_srv_ports {
  SCN_SRV_PORT_443 = 0, /* only records whose port is 443 */
  SCN_SRV_PORT_ANY,     /* any port; the URL names it when it is not 443 */
};

/* What "No" on the certificate Security Alert does (§2.2, §9.4). */
enum scn_cert_no {
  SCN_CERT_NO_NEXT_STEP = 0, /* the step fails and the walk goes on */
  SCN_CERT_NO_END_WALK,      /* the whole Autodiscover run fails */
};

/* A client to walk and its settings: the Outlook registry values (docs/protocol.md §1.4), facts
 * about the machine, what the user answers, and the model's policy where the sources leave it
 * open. Every setting is a row of the settings table (scn_setting_at); `given` says which ones
 * this entry sets: a walk starts from its model's values and takes only the given ones. */
struct scn_client {
  char *model; /* e.g. "outlook-2016-msi" */
  /* registry values: HKCU\Software\Microsoft\Office\<version>\Outlook\AutoDiscover */
  bool exclude_scp_lookup;
  bool exclude_https_root_domain;
  bool exclude_https_autodiscover_domain;
  bool exclude_http_redirect;
  bool exclude_srv_record;
  bool exclude_last_known_good_url;
  bool exclude_explicit_o365_endpoint;
  bool prefer_local_xml;
  char *local_xml;         /* path of the local XML file (the <domain> REG_SZ), or NULL;
                              resolved against the scenario file's folder */
  char **redirect_servers; /* RedirectServers: hosts redirected to without a consent prompt */
  size_t n_redirect_servers;
  /* the machine and the Outlook profile */
  bool domain_joined; /* SCP is looked up */
  char **scp_urls;    /* what the SCP lookup finds; not given: directory.scp */
  size_t n_scp_urls;
  bool mailbox_in_exchange_online; /* the Office 365 heuristics fire: Direct Connect is tried */
  char *last_known_good_url;       /* the URL cached in the profile, or NULL */
  char *restart_cache;             /* Outlook restarts after adding an account and reads its
                                      cached answer from this file (KB 3211279 step 1), or NULL */
  /* what the user answers */
  bool answer_no_to_certificate_prompts;
  bool answer_no_to_redirect_prompts;
  bool answer_no_to_credentials_prompts;
  /* policy */
  unsigned certificate_prompts;  /* enum scn_cert_check bits that raise the Security Alert */
  unsigned certificate_accepted; /* bits that are not held against the certificate at all */
  enum scn_cert_no certificate_no;
  bool http_redirect_consent; /* the HTTP redirect probe's 302 asks "Allow this website…" */
  bool srv_consent;           /* each SRV target asks the same */
  bool post_redirect_consent; /* a 3xx to the POST that leads to another host asks the same */
  bool silent_sso;            /* Negotiate and NTLM are answered with the Windows logon, no
                                 prompt (else the credentials prompt) */
  enum scn_srv_choice srv_choice;
  uint32_t srv_seed; /* SCN_SRV_WEIGHTED: the draw's seed */
  enum scn_srv_ports srv_ports;
  bool scp_parallel_root;    /* Outlook 2013: the root attempt goes with the SCP lookup */
  bool follow_post_3xx;      /* 301/302/307/308 to the POST is re-sent to its Location */
  bool https_only_redirects; /* a redirect to http:// is refused */
  uint32_t max_redirects;    /* redirects of every kind together */
  uint32_t dns_timeout_ms;   /* per network operation, lab time */
  uint32_t connect_timeout_ms;
  uint32_t tls_timeout_ms;
  uint32_t http_timeout_ms;
  char *user_agent; /* User-Agent of the POX request */
  bool mapi_http;   /* X-MapiHttpCapability and X-AnchorMailbox go with the POX request */
  uint64_t given;   /* bit i: setting scn_setting_at(i) is given by this entry */
  struct scn_mark mark;
};

/* What a setting describes. */
enum scn_setting_kind {
  SCN_SETTING_REGISTRY, /* a value Outlook reads from the registry (docs/protocol.md §1.4) */
  SCN_SETTING_MACHINE,  /* a fact about the machine or the Outlook profile */
  SCN_SETTING_USER,     /* what the user answers to a prompt */
  SCN_SETTING_POLICY,   /* how the model behaves: each model has its own default */
};

/* How a setting's value is written. */
enum scn_setting_type {
  SCN_SETTING_BOOL,     /* 0 or 1 (a registry DWORD), or true, false, yes, no */
  SCN_SETTING_ANSWER,   /* yes or no (stored as answer_no_to_*: true for no) */
  SCN_SETTING_U32,      /* a number from min to max */
  SCN_SETTING_DURATION, /* 500ms, 5s, 2m: from min to max milliseconds */
  SCN_SETTING_TEXT,     /* one line */
  SCN_SETTING_URL,      /* an http:// or https:// URL */
  SCN_SETTING_PATH,     /* a file, resolved against the folder of the file that names it */
  SCN_SETTING_HOSTS,    /* a list of DNS names */
  SCN_SETTING_URLS,     /* a list of https:// URLs */
  SCN_SETTING_CHOICE,   /* one of `words`, stored as the enum of that index */
  SCN_SETTING_CHECKS,   /* a list of certificate checks (enum scn_cert_check words) */
};

/* One row of the settings table: a name, its type and where it lives (docs/clients.md). */
struct scn_setting {
  const char *name;  /* exactly as the registry spells it (ExcludeHttpsRootDomain), or the lab's
                        snake_case name for what is not a registry value */
  const char *alias; /* the scenario key it had before (exclude_https_root_domain), or NULL */
  enum scn_setting_kind kind;
  enum scn_setting_type type;
  size_t offset;            /* of the value in struct scn_client */
  size_t offset_n;          /* lists: of the count */
  const char *const *words; /* SCN_SETTING_CHOICE: the values, in enum order */
  uint32_t min, max;        /* SCN_SETTING_U32, SCN_SETTING_DURATION */
  unsigned office;          /* registry: the first Office major version that reads it */
  const char *registry;     /* registry: where ("<version>" and "<domain>" stand for those) */
  const char *meaning;      /* what it does (a registry DWORD: when 1), one line */
  const char *source;       /* where the rule, or the default, comes from */
};

/* scn_setting_at returns the i-th row of the settings table, NULL past the last. */
const struct scn_setting *scn_setting_at(size_t i);
/* scn_setting_named returns the row named `name` or with that alias (any case, as the registry
 * compares names), or NULL. */
const struct scn_setting *scn_setting_named(const char *name);
/* scn_setting_index returns the row's index (its bit in struct scn_client.given). */
size_t scn_setting_index(const struct scn_setting *s);
/* scn_settings_names writes every setting's name, comma-separated, into out (for messages). */
void scn_settings_names(char *out, size_t out_size);
/* scn_client_given says whether `c` gives setting `s`. */
bool scn_client_given(const struct scn_client *c, const struct scn_setting *s);

/* scn_client_set applies one "NAME=VALUE" (a --set argument) to `c`, marking it given: NAME as
 * scn_setting_named finds it, VALUE as the setting's type is written on a command line (a list
 * is comma-separated, empty for none; a path is taken as it is). Returns SCN_OK, or
 * SCN_ESCHEMA with one sentence in err: an unknown name (the known ones listed), or a value
 * that does not fit. */
enum scn_status scn_client_set(struct scn_client *c, const char *assignment, char *err,
                               size_t err_size);
/* scn_client_format returns the value of setting `s` in `c` as scn_client_set reads it (caller
 * frees): "1", "no", "443", "5s", "a.example,b.example". */
char *scn_client_format(const struct scn_client *c, const struct scn_setting *s);
/* scn_client_copy makes `dst` a deep copy of `src` (model name included). */
void scn_client_copy(struct scn_client *dst, const struct scn_client *src);
/* scn_client_overlay copies into `dst` every setting `src` gives (deep), marking it given. */
void scn_client_overlay(struct scn_client *dst, const struct scn_client *src);
/* scn_client_cleanup frees what `c` owns and zeroes it. */
void scn_client_cleanup(struct scn_client *c);

/* A user's own client model as its file says it (--client-file; docs/clients.md, "Your own
 * model"). The client module turns it into a model it walks (sim_model_load). */
struct scn_model {
  char *path; /* the file (the marks borrow it) */
  char *name;
  struct scn_mark name_mark;
  char *summary;             /* or NULL */
  char *base;                /* a built-in model to start from, or NULL */
  struct scn_mark base_mark; /* where base is named */
  bool has_office;
  unsigned office; /* the Office major version whose registry it reads; 0 for none */
  char **steps;    /* step names in order (has_steps: given; else the base's) */
  size_t n_steps;
  bool has_steps;
  struct scn_client settings; /* its policy and settings (`given` says which); model = name */
};

/* scn_model_load reads a client model file. On failure *out is NULL and err holds
 * "file:line:col: message": SCN_EIO (the file cannot be read), SCN_ESYNTAX (not YAML) or
 * SCN_ESCHEMA (an unknown key, a step that is none, a setting in the wrong section, a value
 * that does not fit). Names of built-in models are the client module's to check. */
enum scn_status scn_model_load(struct scn_model **out, const char *path, char *err,
                               size_t err_size);
void scn_model_free(struct scn_model *m);

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
  bool has_prompt_count;
  uint32_t prompt_count; /* number of prompts, whatever they are */
  char **steps;          /* the steps tried, in order, by name ("https-root", ...) */
  size_t n_steps;
  bool has_steps;
  char *settings_email; /* the address settings were found for; NULL: not checked */
  bool has_max_wait_ms;
  uint32_t max_wait_ms; /* the most lab time the walk may take */
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
  struct scn_raw_record *raw_records; /* dns.records with rdata_hex */
  size_t n_raw_records;
  struct scn_dns_overlay overlay; /* dns.overlay; present == false: the lab answers everything */
  char *zone_file; /* dns.zone_file, resolved against the scenario's folder, or NULL; its
                      records are in `records` with from_zone_file set */
  char **scp_urls; /* directory.scp: what a domain-joined client's SCP lookup finds, in order */
  size_t n_scp_urls;
  char *extends; /* the path the scenario extends, as resolved, or NULL */
  struct scn_host *hosts;
  size_t n_hosts;
  struct scn_client *clients;
  size_t n_clients;
  struct scn_expect *expects;
  size_t n_expects;
  size_t n_counters; /* answers with first_n (scn_route.counter): what the lab counts per request */
  /* Private to the loader: owned paths that marks point into besides `path` (the files an
   * extends: chain read, the zone file). Nobody else needs to read it. */
  char **files;
  size_t n_files;
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
/* scn_host_listener returns h's listener on `port` (443: https, 80: http, else a listeners:
 * entry), present or not, or NULL when the host names no such port. */
const struct scn_listener *scn_host_listener(const struct scn_host *h, uint16_t port);

/* scn_lint appends one line per warning ("file:line:col: warning: ...") to `out` (at most
 * out_size bytes, NUL-terminated): an expectation naming a host the scenario lacks, a record
 * pointing at a name nothing answers, a host nothing resolves to, ... Returns the count. */
size_t scn_lint(const struct scn *s, char *out, size_t out_size);

#endif
