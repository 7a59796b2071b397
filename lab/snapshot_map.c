/* lab/snapshot_map.c: the snapshot's choices without sockets — which lab certificate profile a
 * real certificate becomes (docs/certificates.md), which names a scenario can hold, and the
 * YAML text that carries whatever a real server sent (double-quoted scalars, one-line
 * comments) so that a hostile certificate or header can neither break the file nor change
 * its meaning. */
#include "lab/snapshot.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lab_snapshot_dns_name(const char *s, bool wildcard) {
  size_t len = s != NULL ? strlen(s) : 0;
  if (len == 0 || len > 253) {
    return false;
  }
  size_t label = 0;
  for (size_t i = 0; i <= len; i++) {
    char c = s[i];
    if (c == '.' || c == 0) {
      if (label == 0 || label > 63) {
        return false;
      }
      label = 0;
      continue;
    }
    label++;
    if (c == '*') {
      if (!wildcard || i != 0 || (s[1] != '.' && s[1] != 0)) {
        return false;
      }
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

/* --- certificates --- */

/* scenario_name turns a certificate's name into what a scenario holds: lowercase, no trailing
 * dot; NULL when it is no DNS name (caller frees). */
static char *scenario_name(const char *name) {
  if (name == NULL) {
    return NULL;
  }
  char *n = str_lower(str_dup(name));
  size_t len = strlen(n);
  if (len > 1 && n[len - 1] == '.') {
    n[len - 1] = 0;
  }
  if (!lab_snapshot_dns_name(n, true)) {
    free(n);
    return NULL;
  }
  return n;
}

static void add_name(struct lab_cert_choice *c, char *n /* taken */) {
  if (n == NULL) {
    return;
  }
  for (size_t i = 0; i < c->n_names; i++) {
    if (strcmp(c->names[i], n) == 0) {
      free(n);
      return;
    }
  }
  if (c->n_names >= 100) { /* what ca_mint_request takes */
    free(n);
    return;
  }
  c->names = xrealloc_array(c->names, c->n_names + 1, sizeof *c->names);
  c->names[c->n_names++] = n;
}

/* covers says whether the certificate name `pattern` (maybe "*.x") matches `name`. */
static bool covers(const char *pattern, const char *name) {
  if (strcmp(pattern, name) == 0) {
    return true;
  }
  if (strncmp(pattern, "*.", 2) != 0) {
    return false;
  }
  const char *dot = strchr(name, '.');
  return dot != NULL && dot != name && strcmp(dot + 1, pattern + 2) == 0;
}

void lab_snapshot_cert_choice(struct lab_cert_choice *out, const struct sim_tls_info *tls,
                              bool chain_completed, int64_t now) {
  memset(out, 0, sizeof *out);
  out->profile = "valid";
  if (tls == NULL || tls->n_chain == 0) {
    buf_fmt(out->why, sizeof out->why, "no certificate was presented");
    return;
  }
  const struct sim_cert_info *leaf = &tls->chain[0];
  size_t dropped = 0;
  for (size_t i = 0; i < leaf->n_dns_names; i++) {
    char *n = scenario_name(leaf->dns_names[i]);
    dropped += n == NULL;
    add_name(out, n);
  }
  char *cn = scenario_name(leaf->subject_cn);
  bool cn_outside = cn != NULL && out->n_names > 0;
  for (size_t i = 0; cn_outside && i < out->n_names; i++) {
    cn_outside = !covers(out->names[i], cn);
  }
  out->dates = true;
  out->not_before = leaf->not_before;
  out->not_after = leaf->not_after;
  bool rsa = leaf->key_type != NULL && strcmp(leaf->key_type, "rsa") == 0;
  if (rsa) {
    out->key = "rsa-2048"; /* the lab's RSA size; a 1024-bit key has its profile */
  }
  bool untrusted = (tls->cert_failures & SIM_CERT_UNTRUSTED) != 0;
  bool self_signed = leaf->self_signed && tls->n_chain == 1;
  bool expired = now > leaf->not_after;
  bool early = now < leaf->not_before;
  /* The profile says whom the lab signs with (trust); the real dates and names, written with
   * it, keep the other two checks of the Security Alert as they were. */
  if (self_signed && untrusted) {
    out->profile = "self-signed";
    buf_fmt(out->why, sizeof out->why, "signed by itself (%s)",
            tls->verify_text != NULL ? tls->verify_text : "not trusted");
  } else if (untrusted) {
    out->profile = chain_completed ? "incomplete-chain" : "untrusted-root";
    buf_fmt(out->why, sizeof out->why, "%s",
            chain_completed ? "the server left out an intermediate the chain needs"
            : tls->issuer_missing
                ? "issued by a CA the trust store does not hold (a missing intermediate looks "
                  "the same when the certificate names no caIssuers URL)"
                : "its chain ends at a root the trust store does not hold");
  } else if (expired) {
    out->profile = "expired";
    buf_fmt(out->why, sizeof out->why, "trusted, but expired");
  } else if (early) {
    out->profile = "not-yet-valid";
    buf_fmt(out->why, sizeof out->why, "trusted, but not valid yet");
  } else if (leaf->n_dns_names == 0 && leaf->n_ip_names > 0) {
    out->profile = "ip-only";
    buf_fmt(out->why, sizeof out->why,
            "it names IP addresses only (the lab writes the host's "
            "lab address)");
  } else if (cn_outside) {
    out->profile = "san-missing-host";
    buf_fmt(out->why, sizeof out->why, "its CN %s is not among its subjectAltNames", cn);
  } else if (leaf->sig_sha1) {
    out->profile = "sha1-signature";
    buf_fmt(out->why, sizeof out->why, "signed with %s", leaf->sig_alg);
  } else if (rsa && leaf->key_bits < 2048) {
    out->profile = "rsa-1024";
    out->key = NULL; /* the profile fixes its key */
    buf_fmt(out->why, sizeof out->why, "an RSA key of %u bits", leaf->key_bits);
  } else {
    buf_fmt(out->why, sizeof out->why, "trusted%s",
            (tls->cert_failures & SIM_CERT_NAME) != 0 ? "; its names do not cover the host" : "");
  }
  if (strcmp(out->profile, "san-missing-host") == 0) {
    /* the first name is the CN alone; the others are the SAN's (certs/ca_profile.c) */
    char **san = out->names;
    size_t n = out->n_names;
    out->names = NULL;
    out->n_names = 0;
    add_name(out, cn);
    cn = NULL;
    for (size_t i = 0; i < n; i++) {
      add_name(out, san[i]);
    }
    free(san);
  } else if (out->n_names == 0) {
    add_name(out, cn); /* no SAN: verifiers fall back to the CN */
    cn = NULL;
  }
  free(cn);
  if (dropped > 0) {
    size_t len = strlen(out->why);
    buf_fmt(out->why + len, sizeof out->why - len,
            "; %zu of its names %s no DNS name a scenario holds, left out", dropped,
            dropped == 1 ? "is" : "are");
  }
  if (out->n_names == 0 && strcmp(out->profile, "ip-only") != 0) {
    /* Nothing the lab can write: a name under .invalid keeps the mismatch (RFC 6761). */
    add_name(out, str_dup("wrong.host.invalid"));
    size_t len = strlen(out->why);
    buf_fmt(out->why + len, sizeof out->why - len,
            "; no name in it is a DNS name a scenario holds, so it names wrong.host.invalid");
  }
}

void lab_cert_choice_cleanup(struct lab_cert_choice *c) {
  for (size_t i = 0; i < c->n_names; i++) {
    free(c->names[i]);
  }
  free(c->names);
  memset(c, 0, sizeof *c);
}

/* --- YAML text --- */

/* utf8_at decodes one UTF-8 character at s[i] (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF); returns its length, 0 when the bytes there are not UTF-8. */
static size_t utf8_at(const unsigned char *s, size_t len, size_t i, uint32_t *cp) {
  unsigned char c = s[i];
  size_t n;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
    *cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
    *cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
    *cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > len) {
    return 0;
  }
  for (size_t k = 1; k < n; k++) {
    if ((s[i + k] & 0xc0) != 0x80) {
      return 0;
    }
    *cp = (*cp << 6) | (s[i + k] & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

/* escape appends `s` with everything that is not plainly printable as a YAML escape; inside
 * double quotes `"` and `\` are escaped too (YAML 1.2 §5.7, §7.3.1). */
static bool escape(struct buf *out, const char *str, size_t len, bool quoted) {
  const unsigned char *s = (const unsigned char *) str;
  bool ok = true;
  for (size_t i = 0; ok && i < len;) {
    uint32_t cp = 0;
    size_t n = utf8_at(s, len, i, &cp);
    if (n == 0) {
      ok = buf_append_str(out, "\\uFFFD"); /* not UTF-8: the replacement character */
      i++;
      continue;
    }
    if (cp == '"' && quoted) {
      ok = buf_append_str(out, "\\\"");
    } else if (cp == '\\' && quoted) {
      ok = buf_append_str(out, "\\\\");
    } else if (cp == '\n') {
      ok = buf_append_str(out, "\\n");
    } else if (cp == '\r') {
      ok = buf_append_str(out, "\\r");
    } else if (cp == '\t') {
      ok = buf_append_str(out, "\\t");
    } else if (cp == 0) {
      ok = buf_append_str(out, "\\0");
    } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
      ok = buf_appendf(out, "\\x%02X", (unsigned) cp); /* C0, DEL, C1 (NEL too) */
    } else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff) {
      ok = buf_appendf(out, "\\u%04X", (unsigned) cp); /* line breaks in YAML 1.1, the BOM */
    } else {
      ok = buf_append(out, (struct slice){s + i, n});
    }
    i += n;
  }
  return ok;
}

bool lab_yaml_quote(struct buf *out, const char *s, size_t len) {
  return buf_append_str(out, "\"") && escape(out, s != NULL ? s : "", s != NULL ? len : 0, true) &&
         buf_append_str(out, "\"");
}

bool lab_yaml_comment(struct buf *out, int indent, const char *text) {
  return buf_appendf(out, "%*s# ", indent, "") &&
         escape(out, text != NULL ? text : "", text != NULL ? strlen(text) : 0, false) &&
         buf_append_str(out, "\n");
}
