/* scenario/scn_settings.c: the settings table — every setting a client model reads, named as
 * the registry names it (or, for what is not a registry value, in the lab's snake_case), with
 * its type, where Windows keeps it and where the rule comes from — and reading, writing,
 * copying and layering a client's settings through it (docs/clients.md). The client models take
 * their defaults from it (client/sim_model.c), the Windows kit its registry values (lab/kit.c),
 * the scenario loader and `--set` their names. */
#include "common/buf.h"
#include "scenario/internal.h"

#include <stdlib.h>
#include <string.h>

#define AD_KEY "HKCU\\Software\\Microsoft\\Office\\<version>\\Outlook\\AutoDiscover"
#define KB2212902 "KB 2212902, https://support.microsoft.com/en-us/help/2212902"
#define KB3211279                                                                                  \
  "KB 3211279, https://support.microsoft.com/en-us/topic/"                                         \
  "outlook-2016-implementation-of-autodiscover-0d7b2709-958a-7249-1c87-434d257b9087"
#define KB2480582 "KB 2480582, https://support.microsoft.com/kb/2480582"

#define OFF(field) offsetof(struct scn_client, field)

static const char *const srv_choice_words[] = {"rfc2782", "weighted", "largest", NULL};
static const char *const srv_port_words[] = {"443", "any", NULL};
static const char *const cert_no_words[] = {"next-step", "end-walk", NULL};
/* enum scn_cert_check: word i is bit 1 << i */
static const char *const check_words[] = {
    "untrusted", "expired", "not-yet-valid", "name", "weak-signature", "weak-key", NULL};

_Static_assert(sizeof(enum scn_srv_choice) == sizeof(int), "choices are stored as int");
_Static_assert(sizeof(enum scn_srv_ports) == sizeof(int), "choices are stored as int");
_Static_assert(sizeof(enum scn_cert_no) == sizeof(int), "choices are stored as int");

#define REG_DWORD(name_, alias_, field, office_, meaning_, source_)                                \
  {                                                                                                \
    .name = name_, .alias = alias_, .kind = SCN_SETTING_REGISTRY, .type = SCN_SETTING_BOOL,        \
    .offset = OFF(field), .office = office_, .registry = AD_KEY " (REG_DWORD)",                    \
    .meaning = meaning_, .source = source_                                                         \
  }
#define FLAG(name_, kind_, field, meaning_, source_)                                               \
  {                                                                                                \
    .name = name_, .kind = kind_, .type = SCN_SETTING_BOOL, .offset = OFF(field),                  \
    .meaning = meaning_, .source = source_                                                         \
  }
#define ANSWER(name_, field, meaning_, source_)                                                    \
  {                                                                                                \
    .name = name_, .kind = SCN_SETTING_USER, .type = SCN_SETTING_ANSWER, .offset = OFF(field),     \
    .meaning = meaning_, .source = source_                                                         \
  }
#define TIMEOUT(name_, field, meaning_)                                                            \
  {                                                                                                \
    .name = name_, .kind = SCN_SETTING_POLICY, .type = SCN_SETTING_DURATION, .offset = OFF(field), \
    .min = 1, .max = 3600000, .meaning = meaning_,                                                 \
    .source = "UNCERTAIN (docs/protocol.md §9.6): client/sim_model.c gives the reasoning"         \
  }

/* The rows, in a fixed order: a row's index is its bit in struct scn_client.given. */
static const struct scn_setting settings[] = {
    REG_DWORD("ExcludeScpLookup", "exclude_scp_lookup", exclude_scp_lookup, 12,
              "no SCP lookup in Active Directory", KB2212902),
    REG_DWORD("ExcludeHttpsRootDomain", "exclude_https_root_domain", exclude_https_root_domain, 12,
              "https://<domain>/autodiscover/autodiscover.xml is skipped", KB2212902),
    REG_DWORD("ExcludeHttpsAutoDiscoverDomain", "exclude_https_autodiscover_domain",
              exclude_https_autodiscover_domain, 12,
              "https://autodiscover.<domain>/autodiscover/autodiscover.xml is skipped", KB2212902),
    REG_DWORD("ExcludeHttpRedirect", "exclude_http_redirect", exclude_http_redirect, 12,
              "no plain-HTTP redirect probe of http://autodiscover.<domain>/", KB2212902),
    REG_DWORD("ExcludeSrvRecord", "exclude_srv_record", exclude_srv_record, 12,
              "no _autodiscover._tcp.<domain> SRV lookup", KB2212902),
    REG_DWORD("ExcludeLastKnownGoodUrl", "exclude_last_known_good_url", exclude_last_known_good_url,
              14, "the URL cached in the Outlook profile is not used", KB2212902),
    REG_DWORD("ExcludeExplicitO365Endpoint", "exclude_explicit_o365_endpoint",
              exclude_explicit_o365_endpoint, 16, "no Office 365 Direct Connect, first or last",
              KB3211279),
    REG_DWORD("PreferLocalXML", "prefer_local_xml", prefer_local_xml, 12,
              "the local XML file (the <domain> value) is read first", KB2212902),
    {
        .name = "local_xml",
        .kind = SCN_SETTING_REGISTRY,
        .type = SCN_SETTING_PATH,
        .offset = OFF(local_xml),
        .office = 12,
        .registry = AD_KEY " (REG_SZ named <domain>)",
        .meaning = "the local Autodiscover XML file for the domain: a POX settings answer",
        .source = KB2212902 "; docs/protocol.md §4.5",
    },
    {
        .name = "RedirectServers",
        .alias = "redirect_servers",
        .kind = SCN_SETTING_REGISTRY,
        .type = SCN_SETTING_HOSTS,
        .offset = OFF(redirect_servers),
        .offset_n = OFF(n_redirect_servers),
        .office = 12,
        .registry = AD_KEY "\\RedirectServers (subkey: an empty REG_SZ named after each host)",
        .meaning = "hosts Autodiscover may be redirected to without the consent prompt",
        .source = KB2480582,
    },
    FLAG("domain_joined", SCN_SETTING_MACHINE, domain_joined,
         "the machine is in the domain and reaches a domain controller: SCP is looked up",
         "MS-OXDISCO 3.1.5.1; docs/protocol.md §1.1"),
    {
        .name = "scp_urls",
        .kind = SCN_SETTING_MACHINE,
        .type = SCN_SETTING_URLS,
        .offset = OFF(scp_urls),
        .offset_n = OFF(n_scp_urls),
        .meaning = "what the SCP lookup finds, in order (default: the scenario's directory.scp)",
        .source = "MS-OXDISCO 3.1.5.1; docs/protocol.md §1.1",
    },
    FLAG("mailbox_in_exchange_online", SCN_SETTING_MACHINE, mailbox_in_exchange_online,
         "the mailbox is in Exchange Online and Outlook's Office 365 heuristics fire: Direct "
         "Connect is tried (the heuristics are UNCERTAIN)",
         KB3211279 "; docs/protocol.md §1.2, §9.7"),
    {
        .name = "last_known_good_url",
        .kind = SCN_SETTING_MACHINE,
        .type = SCN_SETTING_URL,
        .offset = OFF(last_known_good_url),
        .meaning = "the Autodiscover URL the Outlook profile has cached from the last success",
        .source = KB2212902 "; docs/protocol.md §1.2",
    },
    {
        .name = "restart_cache",
        .kind = SCN_SETTING_MACHINE,
        .type = SCN_SETTING_PATH,
        .offset = OFF(restart_cache),
        .meaning = "Outlook restarts after adding an account and reads the cached answer from this "
                   "file; when it cannot, the whole Autodiscover run fails",
        .source = KB3211279 " (step 1)",
    },
    ANSWER("certificate_prompt_answer", answer_no_to_certificate_prompts,
           "what the user clicks on the Security Alert: yes or no", "docs/protocol.md §2.3"),
    ANSWER("redirect_prompt_answer", answer_no_to_redirect_prompts,
           "what the user clicks on \"Allow this website to configure…\": yes (Allow) or no "
           "(Cancel)",
           KB2480582),
    ANSWER("credentials_prompt_answer", answer_no_to_credentials_prompts,
           "what the user does at the credentials prompt: yes (types the password) or no "
           "(Cancel)",
           "docs/protocol.md §2.4"),
    {
        .name = "certificate_prompts",
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_CHECKS,
        .offset = OFF(certificate_prompts),
        .meaning = "certificate checks whose failure raises the Security Alert; any other "
                   "failure not accepted fails the step silently",
        .source = "UNCERTAIN for untrusted roots and weak certificates (docs/protocol.md §2.3, "
                  "§9.3)",
    },
    {
        .name = "certificate_accepted",
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_CHECKS,
        .offset = OFF(certificate_accepted),
        .meaning = "certificate checks the client does not make: such a failure is noted and "
                   "the step goes on",
        .source = "UNCERTAIN: Windows accepts RSA-1024 (KB 2661254 blocks keys under 1024 bits) "
                  "and SHA-1 from roots outside the Microsoft program (advisory 4010323)",
    },
    {
        .name = "certificate_no",
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_CHOICE,
        .offset = OFF(certificate_no),
        .words = cert_no_words,
        .meaning = "what No on the Security Alert does: next-step (the step fails) or end-walk "
                   "(the whole run fails)",
        .source = "UNCERTAIN (docs/protocol.md §2.2, §9.4; KB 2772058)",
    },
    FLAG("http_redirect_consent", SCN_SETTING_POLICY, http_redirect_consent,
         "the HTTP redirect probe's 302 asks \"Allow this website to configure…\" first",
         "MS-OXDISCO 3.1.5.4; " KB2480582),
    FLAG("srv_consent", SCN_SETTING_POLICY, srv_consent,
         "each SRV target asks \"Allow this website to configure…\" first",
         "UNCERTAIN: reported for hosted Exchange, not in MS-OXDISCO (docs/protocol.md §2.5, "
         "§9.5)"),
    FLAG("post_redirect_consent", SCN_SETTING_POLICY, post_redirect_consent,
         "a 301/302/307/308 to the POST that leads to another host asks the same",
         "UNCERTAIN (docs/protocol.md §2.5, §4.3)"),
    FLAG("silent_sso", SCN_SETTING_POLICY, silent_sso,
         "a 401 offering Negotiate or NTLM is answered with the Windows logon, no prompt (else "
         "the credentials prompt)",
         "UNCERTAIN (docs/protocol.md §2.4)"),
    {
        .name = "srv_choice",
        .alias = NULL,
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_CHOICE,
        .offset = OFF(srv_choice),
        .words = srv_choice_words,
        .meaning = "how several SRV records are ordered: rfc2782 (lowest priority first, heavier "
                   "weight first), weighted (RFC 2782's weighted draw, seeded by srv_seed), "
                   "largest (only the record of largest priority, as exchangelib)",
        .source = "UNCERTAIN for Outlook (docs/protocol.md §5, §9.5); RFC 2782",
    },
    {
        .name = "srv_seed",
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_U32,
        .offset = OFF(srv_seed),
        .min = 1,
        .max = UINT32_MAX,
        .meaning = "the seed of srv_choice weighted's draw: the same seed, the same order",
        .source = "RFC 2782, \"Usage rules\"",
    },
    {
        .name = "srv_ports",
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_CHOICE,
        .offset = OFF(srv_ports),
        .words = srv_port_words,
        .meaning = "which SRV records are used: 443 (only those on port 443) or any (the URL "
                   "names a port other than 443)",
        .source = "UNCERTAIN (docs/protocol.md §5, §9.5); exchangelib ignores other ports",
    },
    FLAG("scp_parallel_root", SCN_SETTING_POLICY, scp_parallel_root,
         "the root-domain attempt is taken just before the SCP URLs when SCP is looked up "
         "(Outlook 2013's parallel start, approximated)",
         "Rhoderick Milne, https://blog.rmilne.ca/2019/12/09/outlook-2016-autodiscover-"
         "implementation/ (docs/protocol.md §1.2)"),
    FLAG("follow_post_3xx", SCN_SETTING_POLICY, follow_post_3xx,
         "a 301/302/307/308 to the POST is followed: the POST is sent again to its Location",
         "MS-OXDSCLI 3.1.5.2; the EWS guidance (docs/protocol.md §4.3)"),
    FLAG("https_only_redirects", SCN_SETTING_POLICY, https_only_redirects,
         "a redirect to an http:// URL is refused",
         "the EWS guidance, Handling Autodiscover error messages (docs/protocol.md §3.4)"),
    {
        .name = "max_redirects",
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_U32,
        .offset = OFF(max_redirects),
        .min = 0,
        .max = 100,
        .meaning = "redirects of every kind the walk follows in all",
        .source = "RedirectUrl (POX): stop after 10 (docs/protocol.md §3.4)",
    },
    TIMEOUT("dns_timeout", dns_timeout_ms, "how long a DNS question is awaited (one try)"),
    TIMEOUT("connect_timeout", connect_timeout_ms, "how long a TCP connect is awaited"),
    TIMEOUT("tls_timeout", tls_timeout_ms, "how long the whole TLS handshake may take"),
    TIMEOUT("http_timeout", http_timeout_ms, "how long the whole answer is awaited"),
    {
        .name = "user_agent",
        .kind = SCN_SETTING_POLICY,
        .type = SCN_SETTING_TEXT,
        .offset = OFF(user_agent),
        .meaning = "the User-Agent of the POX request",
        .source = "docs/protocol.md §3.1",
    },
    FLAG("mapi_http", SCN_SETTING_POLICY, mapi_http,
         "X-MapiHttpCapability: 1 and X-AnchorMailbox go with the POX request",
         "MS-OXDSCLI 3.1.4 (docs/protocol.md §3.2)"),
};

enum { N_SETTINGS = SCN__N_ELEMS(settings) };
_Static_assert(N_SETTINGS <= 64, "struct scn_client.given has 64 bits");

const struct scn_setting *scn_setting_at(size_t i) {
  return i < N_SETTINGS ? &settings[i] : NULL;
}

size_t scn_setting_index(const struct scn_setting *s) {
  return (size_t) (s - settings);
}

const struct scn_setting *scn_setting_named(const char *name) {
  for (size_t i = 0; name != NULL && i < N_SETTINGS; i++) {
    if (str_eq_nocase(settings[i].name, name) ||
        (settings[i].alias != NULL && str_eq_nocase(settings[i].alias, name))) {
      return &settings[i];
    }
  }
  return NULL;
}

void scn_settings_names(char *out, size_t out_size) {
  struct buf b;
  buf_init(&b, 4096);
  for (size_t i = 0; i < N_SETTINGS; i++) {
    (void) buf_appendf(&b, "%s%s", i > 0 ? ", " : "", settings[i].name);
  }
  (void) buf_fmt(out, out_size, "%s", buf_cstr(&b));
  buf_cleanup(&b);
}

bool scn_client_given(const struct scn_client *c, const struct scn_setting *s) {
  return (c->given >> scn_setting_index(s)) & 1;
}

/* ---- typed access to a row's value ---- */

static void *at(const struct scn_client *c, const struct scn_setting *s) {
  return (char *) c + s->offset;
}

static size_t *count_at(const struct scn_client *c, const struct scn_setting *s) {
  return (size_t *) ((char *) c + s->offset_n);
}

static bool is_list(const struct scn_setting *s) {
  return s->type == SCN_SETTING_HOSTS || s->type == SCN_SETTING_URLS;
}

static bool is_string(const struct scn_setting *s) {
  return s->type == SCN_SETTING_TEXT || s->type == SCN_SETTING_URL || s->type == SCN_SETTING_PATH;
}

/* clear frees a row's value and sets it to nothing (0, NULL, an empty list). */
static void clear(struct scn_client *c, const struct scn_setting *s) {
  if (is_string(s)) {
    char **p = at(c, s);
    free(*p);
    *p = NULL;
  } else if (is_list(s)) {
    char ***list = at(c, s);
    size_t *n = count_at(c, s);
    for (size_t i = 0; i < *n; i++) {
      free((*list)[i]);
    }
    free(*list);
    *list = NULL;
    *n = 0;
  } else if (s->type == SCN_SETTING_CHECKS) {
    *(unsigned *) at(c, s) = 0;
  }
}

/* copy_value gives `dst` a deep copy of `src`'s value of row `s` (dst's own is overwritten, not
 * freed). */
static void copy_value(struct scn_client *dst, const struct scn_client *src,
                       const struct scn_setting *s) {
  if (is_string(s)) {
    *(char **) at(dst, s) = str_dup(*(char *const *) at(src, s));
  } else if (is_list(s)) {
    char **from = *(char **const *) at(src, s);
    size_t n = *count_at(src, s);
    char **to = n > 0 ? xcalloc(n, sizeof *to) : NULL;
    for (size_t i = 0; i < n; i++) {
      to[i] = str_dup(from[i]);
    }
    *(char ***) at(dst, s) = to;
    *count_at(dst, s) = n;
  } else if (s->type == SCN_SETTING_BOOL || s->type == SCN_SETTING_ANSWER) {
    *(bool *) at(dst, s) = *(const bool *) at(src, s);
  } else if (s->type == SCN_SETTING_CHOICE) {
    *(int *) at(dst, s) = *(const int *) at(src, s);
  } else if (s->type == SCN_SETTING_CHECKS) {
    *(unsigned *) at(dst, s) = *(const unsigned *) at(src, s);
  } else {
    *(uint32_t *) at(dst, s) = *(const uint32_t *) at(src, s);
  }
}

void scn_client_cleanup(struct scn_client *c) {
  if (c == NULL) {
    return;
  }
  free(c->model);
  for (size_t i = 0; i < N_SETTINGS; i++) {
    clear(c, &settings[i]);
  }
  memset(c, 0, sizeof *c);
}

void scn_client_copy(struct scn_client *dst, const struct scn_client *src) {
  *dst = *src;
  dst->model = str_dup(src->model);
  for (size_t i = 0; i < N_SETTINGS; i++) {
    if (is_string(&settings[i]) || is_list(&settings[i])) {
      copy_value(dst, src, &settings[i]);
    }
  }
}

void scn_client_overlay(struct scn_client *dst, const struct scn_client *src) {
  for (size_t i = 0; i < N_SETTINGS; i++) {
    if (!scn_client_given(src, &settings[i])) {
      continue;
    }
    clear(dst, &settings[i]);
    copy_value(dst, src, &settings[i]);
    dst->given |= (uint64_t) 1 << i;
  }
}

/* ---- values as text ---- */

static void join(struct buf *b, char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    (void) buf_appendf(b, "%s%s", i > 0 ? "," : "", list[i]);
  }
}

char *scn_client_format(const struct scn_client *c, const struct scn_setting *s) {
  struct buf b;
  buf_init(&b, 64 * 1024);
  switch (s->type) {
    case SCN_SETTING_BOOL: buf_append_str(&b, *(const bool *) at(c, s) ? "1" : "0"); break;
    case SCN_SETTING_ANSWER: buf_append_str(&b, *(const bool *) at(c, s) ? "no" : "yes"); break;
    case SCN_SETTING_U32: (void) buf_appendf(&b, "%u", *(const uint32_t *) at(c, s)); break;
    case SCN_SETTING_DURATION: {
      uint32_t ms = *(const uint32_t *) at(c, s);
      (void) buf_appendf(&b, ms % 1000 == 0 && ms > 0 ? "%us" : "%ums",
                         ms % 1000 == 0 ? ms / 1000 : ms);
      break;
    }
    case SCN_SETTING_TEXT:
    case SCN_SETTING_URL:
    case SCN_SETTING_PATH: {
      const char *v = *(char *const *) at(c, s);
      buf_append_str(&b, v != NULL ? v : "");
      break;
    }
    case SCN_SETTING_HOSTS:
    case SCN_SETTING_URLS: join(&b, *(char **const *) at(c, s), *count_at(c, s)); break;
    case SCN_SETTING_CHOICE: {
      int v = *(const int *) at(c, s);
      buf_append_str(&b, v >= 0 && s->words[v] != NULL ? s->words[v] : "?");
      break;
    }
    case SCN_SETTING_CHECKS: {
      unsigned bits = *(const unsigned *) at(c, s);
      const char *sep = "";
      for (size_t i = 0; check_words[i] != NULL; i++) {
        if (bits & (1u << i)) {
          (void) buf_appendf(&b, "%s%s", sep, check_words[i]);
          sep = ",";
        }
      }
      break;
    }
  }
  char *text = buf_take(&b);
  return text != NULL ? text : str_dup(""); /* an empty buffer has no bytes to take */
}

/* ---- reading a value ---- */

/* What one value is, whether from a scenario or from --set. `file` is the file naming a path
 * (NULL: the working directory); `plain` says the YAML scalar had no quotes. */
struct val {
  const char *text;
  bool plain;
  const char *file;
};

static bool fmt(char *why, size_t why_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static bool fmt(char *why, size_t why_size, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(why, why_size, format, ap);
  va_end(ap);
  return false;
}

/* set_item adds one list item (a host, an SCP URL, a certificate check) to c's value of `s`;
 * false with a sentence in `why`. */
static bool set_item(struct scn_client *c, const struct scn_setting *s, const char *text, char *why,
                     size_t why_size) {
  if (s->type == SCN_SETTING_CHECKS) {
    int i = scn__pick(text, check_words, false);
    if (i < 0) {
      char list[160];
      scn__join_words(list, sizeof list, check_words);
      return fmt(why, why_size, "\"%s\" is not a certificate check (%s)", text, list);
    }
    *(unsigned *) at(c, s) |= 1u << i;
    return true;
  }
  char ***list = at(c, s);
  size_t *n = count_at(c, s);
  char *item = NULL;
  if (s->type == SCN_SETTING_HOSTS) {
    item = str_lower(str_dup(text));
    size_t len = strlen(item);
    if (len > 0 && item[len - 1] == '.') {
      item[len - 1] = 0;
    }
    const char *problem = scn__dns_name_problem(item, false);
    if (problem != NULL) {
      free(item);
      return fmt(why, why_size, "\"%s\" is not a valid DNS name: %s", text, problem);
    }
  } else {
    if (strncmp(text, "https://", 8) != 0 || text[8] == 0 || scn__has_control(text) ||
        strchr(text, ' ') != NULL) {
      return fmt(why, why_size,
                 "an SCP URL is https:// (what Outlook accepts from SCP), found \"%s\"", text);
    }
    item = str_dup(text);
  }
  for (size_t i = 0; i < *n; i++) {
    if (str_eq_nocase((*list)[i], item)) {
      fmt(why, why_size, "\"%s\" is listed twice", text);
      free(item);
      return false;
    }
  }
  *list = xrealloc_array(*list, *n + 1, sizeof **list);
  (*list)[(*n)++] = item;
  return true;
}

/* set_scalar sets c's value of a row that is not a list; false with a sentence in `why`. */
static bool set_scalar(struct scn_client *c, const struct scn_setting *s, const struct val *v,
                       char *why, size_t why_size) {
  const char *t = v->text;
  switch (s->type) {
    case SCN_SETTING_BOOL: {
      bool on = strcmp(t, "1") == 0 || str_eq_nocase(t, "true") || str_eq_nocase(t, "yes");
      bool off = strcmp(t, "0") == 0 || str_eq_nocase(t, "false") || str_eq_nocase(t, "no");
      if (!v->plain || (!on && !off)) {
        return fmt(why, why_size, "expected 0 or 1 (or true, false, yes, no), found %s\"%.40s\"",
                   v->plain ? "" : "the quoted string ", t);
      }
      *(bool *) at(c, s) = on;
      return true;
    }
    case SCN_SETTING_ANSWER:
      if (!str_eq_nocase(t, "yes") && !str_eq_nocase(t, "no")) {
        return fmt(why, why_size, "expected yes or no, found \"%.40s\"", t);
      }
      *(bool *) at(c, s) = str_eq_nocase(t, "no");
      return true;
    case SCN_SETTING_U32:
      if (!v->plain || !parse_u32(t, s->min, s->max, at(c, s))) {
        return fmt(why, why_size, "expected a number from %u to %u, found \"%.40s\"", s->min,
                   s->max, t);
      }
      return true;
    case SCN_SETTING_DURATION: {
      uint32_t ms = 0;
      if (!scn__parse_duration_ms(t, &ms) || ms < s->min || ms > s->max) {
        return fmt(why, why_size,
                   "expected a duration from 1ms to 60m (500ms, 5s, 2m), found \"%.40s\"", t);
      }
      *(uint32_t *) at(c, s) = ms;
      return true;
    }
    case SCN_SETTING_TEXT:
      if (t[0] == 0 || scn__has_control(t)) {
        return fmt(why, why_size, "expected one line of text");
      }
      *(char **) at(c, s) = str_dup(t);
      return true;
    case SCN_SETTING_URL:
      if (scn__has_control(t) || strchr(t, ' ') != NULL ||
          (strncmp(t, "https://", 8) != 0 && strncmp(t, "http://", 7) != 0) ||
          t[t[4] == 's' ? 8 : 7] == 0) {
        return fmt(why, why_size, "\"%s\" is not an http:// or https:// URL", t);
      }
      *(char **) at(c, s) = str_dup(t);
      return true;
    case SCN_SETTING_PATH: {
      if (t[0] == 0 || scn__has_control(t)) {
        return fmt(why, why_size, "expected the path of a file");
      }
      char *path = v->file != NULL ? scn__resolve_path(v->file, t) : str_dup(t);
      if (path == NULL) {
        return fmt(why, why_size, "the path is too long");
      }
      *(char **) at(c, s) = path;
      return true;
    }
    case SCN_SETTING_CHOICE: {
      int i = scn__pick(t, s->words, false);
      if (i < 0) {
        char list[160];
        scn__join_words(list, sizeof list, s->words);
        return fmt(why, why_size, "expected one of %s, found \"%.40s\"", list, t);
      }
      *(int *) at(c, s) = i;
      return true;
    }
    case SCN_SETTING_HOSTS:
    case SCN_SETTING_URLS:
    case SCN_SETTING_CHECKS: break;
  }
  return fmt(why, why_size, "internal: not a scalar setting");
}

static void mark_given(struct scn_client *c, const struct scn_setting *s) {
  c->given |= (uint64_t) 1 << scn_setting_index(s);
}

enum scn_status scn_client_set(struct scn_client *c, const char *assignment, char *err,
                               size_t err_size) {
  const char *eq = strchr(assignment, '=');
  if (eq == NULL || eq == assignment) {
    (void) buf_fmt(err, err_size,
                   "%s: expected NAME=VALUE, NAME a setting (e.g. ExcludeHttpsRootDomain=1)",
                   assignment);
    return SCN_ESCHEMA;
  }
  char *name = str_ndup(assignment, (size_t) (eq - assignment));
  const struct scn_setting *s = scn_setting_named(name);
  enum scn_status st = SCN_OK;
  if (s == NULL) {
    char names[2048];
    scn_settings_names(names, sizeof names);
    (void) buf_fmt(err, err_size, "%s: unknown setting \"%s\" (known: %s)", assignment, name,
                   names);
    free(name);
    return SCN_ESCHEMA;
  }
  free(name);
  char why[512] = "";
  clear(c, s);
  bool ok = true;
  if (is_list(s) || s->type == SCN_SETTING_CHECKS) {
    char *copy = str_dup(eq + 1);
    for (char *p = copy; ok && *p != 0;) {
      char *comma = strchr(p, ',');
      if (comma != NULL) {
        *comma = 0;
      }
      ok = *p != 0 ? set_item(c, s, p, why, sizeof why)
                   : fmt(why, sizeof why, "an empty item in the list");
      p = comma != NULL ? comma + 1 : p + strlen(p);
    }
    free(copy);
  } else {
    struct val v = {.text = eq + 1, .plain = true, .file = NULL};
    ok = set_scalar(c, s, &v, why, sizeof why);
  }
  if (!ok) {
    clear(c, s);
    (void) buf_fmt(err, err_size, "%s: %s %s", assignment, s->name, why);
    st = SCN_ESCHEMA;
  } else {
    mark_given(c, s);
  }
  return st;
}

/* ---- reading settings from YAML (scn_clients.c, scn_model.c) ---- */

bool scn__load_setting(struct scn__ld *ld, const struct scn__node *v, const char *path,
                       const struct scn_setting *s, struct scn_client *c) {
  char why[512] = "";
  clear(c, s);
  if (is_list(s) || s->type == SCN_SETTING_CHECKS) {
    if (v->kind != SCN__SEQ) {
      char tmp[64];
      return scn__fail(ld, v, "%s: expected a list, found %s", path,
                       scn__found(v, tmp, sizeof tmp));
    }
    for (size_t i = 0; i < v->n_kids; i++) {
      const struct scn__node *item = v->kids[i];
      char p[SCN__PATH_LEN];
      scn__path_index(p, path, i);
      if (!scn__want(ld, item, SCN__SCALAR, p)) {
        return false;
      }
      if (!set_item(c, s, item->text, why, sizeof why)) {
        return scn__fail(ld, item, "%s: %s", p, why);
      }
    }
  } else {
    if (v->kind != SCN__SCALAR) {
      char tmp[64];
      return scn__fail(ld, v, "%s: expected a value, found %s", path,
                       scn__found(v, tmp, sizeof tmp));
    }
    struct val val = {.text = v->text, .plain = v->plain, .file = v->file};
    if (!set_scalar(c, s, &val, why, sizeof why)) {
      return scn__fail(ld, v, "%s: %s", path, why);
    }
  }
  mark_given(c, s);
  return true;
}

bool scn__load_settings(struct scn__ld *ld, const struct scn__node *map, const char *path,
                        const char *const *other_keys, unsigned kinds, const char *kinds_text,
                        struct scn_client *c) {
  if (!scn__check_keys(ld, map, path, NULL)) {
    return false;
  }
  const struct scn__node *first[N_SETTINGS] = {0};
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    const struct scn__node *key = map->kids[i];
    if (other_keys != NULL && scn__pick(key->text, other_keys, false) >= 0) {
      continue;
    }
    const struct scn_setting *s = scn_setting_named(key->text);
    char where[SCN__PATH_LEN + 8];
    scn__where(where, sizeof where, path);
    if (s == NULL) {
      return scn__fail(ld, key,
                       "unknown setting \"%s\" %s (the settings are docs/clients.md's: "
                       "ExcludeHttpsRootDomain, PreferLocalXML, RedirectServers, domain_joined, "
                       "...)",
                       key->text, where);
    }
    if (!(kinds & (1u << s->kind))) {
      static const char *const what[] = {"a registry value", "a fact about the machine",
                                         "a user's answer", "a policy setting"};
      return scn__fail(ld, key, "%s is %s: %s", s->name, what[s->kind], kinds_text);
    }
    size_t idx = scn_setting_index(s);
    if (first[idx] != NULL) {
      return scn__fail(ld, key, "%s is given twice %s (also as %s at line %d)", s->name, where,
                       first[idx]->text, first[idx]->line);
    }
    first[idx] = key;
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, key->text);
    if (!scn__load_setting(ld, map->kids[i + 1], p, s, c)) {
      return false;
    }
  }
  return true;
}
