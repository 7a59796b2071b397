/* lab/diff.c: what changes for one client between two walks — the prompts a user no longer
 * (or newly) sees, the steps tried, the outcome, the final settings and the time waited — and
 * the report `diff` prints for every client of two runs. */
#include "lab/lab.h"

#include <stdlib.h>
#include <string.h>

/* Lab time includes the real time the loop spent, which varies from run to run by some
 * milliseconds: a change in waiting time counts only above both limits. */
#define WAIT_NOISE_MS 500.0
#define WAIT_NOISE_SHARE 0.1

static bool same_prompt(const struct sim_prompt *a, const struct sim_prompt *b) {
  return a->kind == b->kind && str_eq_nocase(a->host, b->host) &&
         str_eq_nocase(a->reason, b->reason);
}

/* prompts_missing collects the prompts of `from` that `in` lacks, each counted once (a prompt
 * shown twice before and once after is gone once). */
static const struct sim_prompt **prompts_missing(const struct sim_transcript *from,
                                                 const struct sim_transcript *in, size_t *out_n) {
  const struct sim_prompt **out = xcalloc(from->n_prompts + 1, sizeof *out);
  bool *used = xcalloc(in->n_prompts + 1, sizeof *used);
  size_t n = 0;
  for (size_t i = 0; i < from->n_prompts; i++) {
    bool found = false;
    for (size_t j = 0; j < in->n_prompts && !found; j++) {
      if (!used[j] && same_prompt(&from->prompts[i], &in->prompts[j])) {
        used[j] = found = true;
      }
    }
    if (!found) {
      out[n++] = &from->prompts[i];
    }
  }
  free(used);
  *out_n = n;
  return out;
}

/* tried lists the names of the steps a walk tried (skipped steps are not tried). */
static const char **tried(const struct sim_transcript *t, size_t *out_n) {
  const char **names = xcalloc(t->n_steps + 1, sizeof *names);
  size_t n = 0;
  for (size_t i = 0; i < t->n_steps; i++) {
    if (t->steps[i].result != SIM_R_SKIPPED) {
      names[n++] = t->steps[i].name != NULL ? t->steps[i].name : "?";
    }
  }
  *out_n = n;
  return names;
}

/* diff_steps keeps a longest common subsequence of the two name sequences; what is left of
 * `a` is gone, what is left of `b` is new. */
static void diff_steps(struct lab_diff *d) {
  size_t na = 0, nb = 0;
  const char **a = tried(d->before, &na);
  const char **b = tried(d->after, &nb);
  size_t w = nb + 1;
  size_t *lcs = xcalloc((na + 1) * w, sizeof *lcs); /* lcs[i*w+j]: of a[i..], b[j..] */
  for (size_t i = na; i-- > 0;) {
    for (size_t j = nb; j-- > 0;) {
      if (strcmp(a[i], b[j]) == 0) {
        lcs[i * w + j] = lcs[(i + 1) * w + j + 1] + 1;
      } else {
        size_t down = lcs[(i + 1) * w + j], right = lcs[i * w + j + 1];
        lcs[i * w + j] = down > right ? down : right;
      }
    }
  }
  d->steps_gone = xcalloc(na + 1, sizeof *d->steps_gone);
  d->steps_new = xcalloc(nb + 1, sizeof *d->steps_new);
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    if (i < na && j < nb && strcmp(a[i], b[j]) == 0) {
      i++;
      j++;
    } else if (j == nb || (i < na && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
      d->steps_gone[d->n_steps_gone++] = a[i++];
    } else {
      d->steps_new[d->n_steps_new++] = b[j++];
    }
  }
  free(lcs);
  free(a);
  free(b);
}

void lab_diff_init(struct lab_diff *d, const struct sim_transcript *before,
                   const struct sim_transcript *after) {
  memset(d, 0, sizeof *d);
  d->client = before->client;
  d->before = before;
  d->after = after;
  d->prompts_gone = prompts_missing(before, after, &d->n_prompts_gone);
  d->prompts_new = prompts_missing(after, before, &d->n_prompts_new);
  diff_steps(d);
  d->outcome_changed = before->success != after->success;
  bool both = before->success && after->success;
  d->final_url_changed = both && !str_eq_nocase(before->final_url, after->final_url);
  d->ews_url_changed = both && !str_eq_nocase(before->ews_url, after->ews_url);
  d->settings_email_changed = both && !str_eq_nocase(before->settings_email, after->settings_email);
  double delta = after->total_ms - before->total_ms;
  delta = delta < 0 ? -delta : delta;
  double longer = after->total_ms > before->total_ms ? after->total_ms : before->total_ms;
  d->wait_changed = delta > WAIT_NOISE_MS && delta > WAIT_NOISE_SHARE * longer;
}

void lab_diff_cleanup(struct lab_diff *d) {
  free(d->prompts_gone);
  free(d->prompts_new);
  free(d->steps_gone);
  free(d->steps_new);
  memset(d, 0, sizeof *d);
}

bool lab_diff_changed(const struct lab_diff *d) {
  return d->n_prompts_gone > 0 || d->n_prompts_new > 0 || d->n_steps_gone > 0 ||
         d->n_steps_new > 0 || d->outcome_changed || d->final_url_changed || d->ews_url_changed ||
         d->settings_email_changed || d->wait_changed;
}

static void prompt_phrase(struct buf *out, const struct sim_prompt *p) {
  buf_appendf(out, "%s prompt", sim_prompt_kind_name(p->kind));
  if (p->host != NULL) {
    buf_appendf(out, " for %s", p->host);
  }
  if (p->reason != NULL) {
    buf_appendf(out, " (%s)", p->reason);
  }
}

static void names(struct buf *out, const char **v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    buf_appendf(out, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", v[i]);
  }
}

/* sep starts the next change of the sentence. */
static void sep(struct buf *out, size_t *n_parts) {
  if ((*n_parts)++ > 0) {
    buf_append_str(out, "; ");
  }
}

static const char *or_none(const char *s) {
  return s != NULL ? s : "none";
}

void lab_diff_text(const struct lab_diff *d, struct buf *out) {
  const struct sim_transcript *b = d->before, *a = d->after;
  size_t n = 0;
  buf_appendf(out, "%s: ", d->client != NULL ? d->client : "client");
  for (size_t i = 0; i < d->n_prompts_gone; i++) {
    sep(out, &n);
    buf_append_str(out, "the ");
    prompt_phrase(out, d->prompts_gone[i]);
    buf_append_str(out, " goes away");
  }
  for (size_t i = 0; i < d->n_prompts_new; i++) {
    sep(out, &n);
    buf_append_str(out, "a new ");
    prompt_phrase(out, d->prompts_new[i]);
    buf_append_str(out, " appears");
  }
  if (d->n_steps_gone > 0) {
    sep(out, &n);
    buf_append_str(out, "it no longer tries ");
    names(out, d->steps_gone, d->n_steps_gone);
  }
  if (d->n_steps_new > 0) {
    sep(out, &n);
    buf_append_str(out, "it now also tries ");
    names(out, d->steps_new, d->n_steps_new);
  }
  if (d->outcome_changed && a->success) {
    sep(out, &n);
    buf_appendf(out, "it now gets settings from %s (before: none)", or_none(a->final_url));
  } else if (d->outcome_changed) {
    sep(out, &n);
    buf_appendf(out, "it no longer gets settings (before: from %s)", or_none(b->final_url));
  }
  if (d->final_url_changed) {
    sep(out, &n);
    buf_appendf(out, "settings now come from %s instead of %s", or_none(a->final_url),
                or_none(b->final_url));
  }
  if (d->ews_url_changed) {
    sep(out, &n);
    buf_appendf(out, "the EWS URL changes from %s to %s", or_none(b->ews_url), or_none(a->ews_url));
  }
  if (d->settings_email_changed) {
    sep(out, &n);
    buf_appendf(out, "the settings are now for %s instead of %s", or_none(a->settings_email),
                or_none(b->settings_email));
  }
  if (d->wait_changed) {
    char was[32], now[32];
    lab_format_ms(was, sizeof was, b->total_ms);
    lab_format_ms(now, sizeof now, a->total_ms);
    sep(out, &n);
    buf_appendf(out, "the user waits %s instead of %s", now, was);
  }
  if (d->outcome_changed || d->final_url_changed) {
    buf_append_str(out, ".\n");
    return;
  }
  buf_append_str(out, n == 0 ? "nothing changes" : "; nothing else changes");
  if (a->success) {
    buf_appendf(out, " (same settings from %s).\n", or_none(a->final_url));
  } else {
    buf_append_str(out, " (still no settings).\n");
  }
}

static void json_prompts(struct jnl_event *doc, const char *key, const struct sim_prompt **p,
                         size_t n) {
  jnl_arr_begin(doc, key);
  for (size_t i = 0; i < n; i++) {
    jnl_obj_begin(doc, NULL);
    jnl_str(doc, "kind", sim_prompt_kind_name(p[i]->kind));
    jnl_str(doc, "host", p[i]->host);
    jnl_str(doc, "reason", p[i]->reason);
    jnl_obj_end(doc);
  }
  jnl_arr_end(doc);
}

static void json_names(struct jnl_event *doc, const char *key, const char **v, size_t n) {
  jnl_arr_begin(doc, key);
  for (size_t i = 0; i < n; i++) {
    jnl_str(doc, NULL, v[i]);
  }
  jnl_arr_end(doc);
}

static void json_pair(struct jnl_event *doc, const char *key, const char *before, const char *after,
                      bool changed) {
  jnl_obj_begin(doc, key);
  jnl_str(doc, "before", before);
  jnl_str(doc, "after", after);
  jnl_bool(doc, "changed", changed);
  jnl_obj_end(doc);
}

void lab_diff_json(const struct lab_diff *d, struct jnl_event *doc) {
  const struct sim_transcript *b = d->before, *a = d->after;
  jnl_obj_begin(doc, NULL);
  jnl_str(doc, "client", d->client);
  jnl_bool(doc, "changed", lab_diff_changed(d));
  json_prompts(doc, "prompts_gone", d->prompts_gone, d->n_prompts_gone);
  json_prompts(doc, "prompts_new", d->prompts_new, d->n_prompts_new);
  size_t nb = 0, na = 0;
  const char **sb = tried(b, &nb);
  const char **sa = tried(a, &na);
  jnl_obj_begin(doc, "steps");
  json_names(doc, "before", sb, nb);
  json_names(doc, "after", sa, na);
  json_names(doc, "gone", d->steps_gone, d->n_steps_gone);
  json_names(doc, "new", d->steps_new, d->n_steps_new);
  jnl_obj_end(doc);
  free(sb);
  free(sa);
  json_pair(doc, "outcome", b->success ? "settings" : "failure",
            a->success ? "settings" : "failure", d->outcome_changed);
  json_pair(doc, "final_url", b->final_url, a->final_url, d->final_url_changed);
  json_pair(doc, "ews_url", b->ews_url, a->ews_url, d->ews_url_changed);
  json_pair(doc, "settings_email", b->settings_email, a->settings_email, d->settings_email_changed);
  jnl_obj_begin(doc, "wait_ms");
  jnl_double(doc, "before", b->total_ms);
  jnl_double(doc, "after", a->total_ms);
  jnl_bool(doc, "changed", d->wait_changed);
  jnl_obj_end(doc);
  struct buf text;
  buf_init(&text, 64 * 1024);
  lab_diff_text(d, &text);
  if (text.len > 0 && text.ptr[text.len - 1] == '\n') {
    text.len--; /* the sentence without its newline */
  }
  jnl_strn(doc, "text", buf_slice(&text));
  buf_cleanup(&text);
  jnl_obj_end(doc);
}

static const struct sim_transcript *by_client(const struct lab_diff_side *s, const char *client) {
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->t[i]->client, client) == 0) {
      return s->t[i];
    }
  }
  return NULL;
}

/* compare writes one client's change; a real client compared with a model is labelled with
 * both names. */
static void compare(FILE *out, const struct sim_transcript *b, const struct sim_transcript *a,
                    bool json, struct jnl_event *doc) {
  struct lab_diff d;
  lab_diff_init(&d, b, a);
  char label[600];
  if (strcmp(b->client, a->client) != 0) {
    buf_fmt(label, sizeof label, "%s → %s", b->client, a->client);
    d.client = label;
  }
  if (json) {
    lab_diff_json(&d, doc);
  } else {
    struct buf text;
    buf_init(&text, 64 * 1024);
    lab_diff_text(&d, &text);
    fputs(buf_cstr(&text), out);
    buf_cleanup(&text);
  }
  lab_diff_cleanup(&d);
}

void lab_diff_report(FILE *out, const struct lab_diff_side *b, const struct lab_diff_side *a,
                     bool json) {
  struct jnl_event doc;
  if (json) {
    jnl_doc_begin(&doc);
    jnl_str(&doc, "before", b->path);
    jnl_str(&doc, "after", a->path);
    jnl_arr_begin(&doc, "clients");
  }
  if (b->one_real_client && b->n == 1) {
    for (size_t i = 0; i < a->n; i++) {
      compare(out, b->t[0], a->t[i], json, &doc);
    }
  } else if (a->one_real_client && a->n == 1) {
    for (size_t i = 0; i < b->n; i++) {
      compare(out, b->t[i], a->t[0], json, &doc);
    }
  } else {
    for (size_t i = 0; i < b->n; i++) {
      const struct sim_transcript *other = by_client(a, b->t[i]->client);
      if (other != NULL) {
        compare(out, b->t[i], other, json, &doc);
      }
    }
  }
  if (json) {
    jnl_arr_end(&doc);
    char *text = jnl_doc_take(&doc);
    fputs(text, out);
    fputc('\n', out);
    free(text);
  }
}
