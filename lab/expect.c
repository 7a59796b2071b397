/* lab/expect.c: what the scenario expects of a client against what its walk did. Each
 * mismatch is a sentence that points at the expectation in the scenario file. */
#include "lab/lab.h"

#include <inttypes.h>
#include <string.h>

static void mismatch(struct buf *failures, const struct scn_mark *m, const char *what,
                     const char *want, const char *got) {
  buf_appendf(failures, "%s:%d:%d: %s: expected %s, got %s\n", m->file, m->line, m->col, what, want,
              got != NULL ? got : "nothing");
}

static bool prompt_matches(const struct scn_prompt_expect *want, const struct sim_prompt *got) {
  if (!str_eq_nocase(want->kind, sim_prompt_kind_name(got->kind))) {
    return false;
  }
  if (want->host != NULL && !str_eq_nocase(want->host, got->host)) {
    return false;
  }
  return want->reason == NULL || str_eq_nocase(want->reason, got->reason);
}

static void describe_prompt(struct buf *b, const char *kind, const char *host, const char *reason) {
  buf_appendf(b, "%s", kind);
  if (host != NULL) {
    buf_appendf(b, " %s", host);
  }
  if (reason != NULL) {
    buf_appendf(b, " (%s)", reason);
  }
}

static size_t check_prompts(const struct scn_expect *e, const struct sim_transcript *t,
                            struct buf *failures) {
  size_t n = 0;
  size_t common = e->n_prompts < t->n_prompts ? e->n_prompts : t->n_prompts;
  for (size_t i = 0; i < common; i++) {
    const struct scn_prompt_expect *want = &e->prompts[i];
    const struct sim_prompt *got = &t->prompts[i];
    if (!prompt_matches(want, got)) {
      struct buf w, g;
      buf_init(&w, 1024);
      buf_init(&g, 1024);
      describe_prompt(&w, want->kind, want->host, want->reason);
      describe_prompt(&g, sim_prompt_kind_name(got->kind), got->host, got->reason);
      mismatch(failures, &want->mark, "prompt", buf_cstr(&w), buf_cstr(&g));
      buf_cleanup(&w);
      buf_cleanup(&g);
      n++;
    }
  }
  for (size_t i = common; i < e->n_prompts; i++) {
    struct buf w;
    buf_init(&w, 1024);
    describe_prompt(&w, e->prompts[i].kind, e->prompts[i].host, e->prompts[i].reason);
    mismatch(failures, &e->prompts[i].mark, "prompt", buf_cstr(&w), "no such prompt");
    buf_cleanup(&w);
    n++;
  }
  for (size_t i = common; i < t->n_prompts; i++) {
    const struct sim_prompt *got = &t->prompts[i];
    struct buf g;
    buf_init(&g, 1024);
    buf_append_str(&g, "an unexpected ");
    describe_prompt(&g, sim_prompt_kind_name(got->kind), got->host, got->reason);
    mismatch(failures, &e->mark, "prompts", e->n_prompts == 0 ? "no prompt" : "no further prompt",
             buf_cstr(&g));
    buf_cleanup(&g);
    n++;
  }
  return n;
}

/* lab_step_names writes the names of the steps a walk tried — skipped ones are not tried —
 * as "a, b, c" ("none" when there are none). */
void lab_step_names(const struct sim_transcript *t, struct buf *out) {
  size_t n = 0;
  for (size_t i = 0; i < t->n_steps; i++) {
    if (t->steps[i].result == SIM_R_SKIPPED) {
      continue;
    }
    buf_appendf(out, "%s%s", n > 0 ? ", " : "", t->steps[i].name != NULL ? t->steps[i].name : "?");
    n++;
  }
  if (n == 0) {
    buf_append_str(out, "none");
  }
}

static size_t check_steps(const struct scn_expect *e, const struct sim_transcript *t,
                          struct buf *failures) {
  size_t j = 0; /* the next expected step */
  bool same = true;
  for (size_t i = 0; i < t->n_steps && same; i++) {
    if (t->steps[i].result == SIM_R_SKIPPED) {
      continue;
    }
    same = j < e->n_steps && str_eq_nocase(e->steps[j], t->steps[i].name);
    j++;
  }
  if (same && j == e->n_steps) {
    return 0;
  }
  struct buf w, g;
  buf_init(&w, 4096);
  buf_init(&g, 4096);
  for (size_t i = 0; i < e->n_steps; i++) {
    buf_appendf(&w, "%s%s", i > 0 ? ", " : "", e->steps[i]);
  }
  if (e->n_steps == 0) {
    buf_append_str(&w, "none");
  }
  lab_step_names(t, &g);
  mismatch(failures, &e->mark, "steps", buf_cstr(&w), buf_cstr(&g));
  buf_cleanup(&w);
  buf_cleanup(&g);
  return 1;
}

size_t lab_expect_check(const struct scn_expect *e, const struct sim_transcript *t,
                        struct buf *failures) {
  size_t n = 0;
  if (e->has_prompts) {
    n += check_prompts(e, t, failures);
  }
  const char *outcome = t->success ? "settings" : "failure";
  if (e->outcome != NULL && strcmp(e->outcome, outcome) != 0) {
    mismatch(failures, &e->mark, "outcome", e->outcome, outcome);
    n++;
  }
  if (e->final_url != NULL && !str_eq_nocase(e->final_url, t->final_url)) {
    mismatch(failures, &e->mark, "final_url", e->final_url, t->final_url);
    n++;
  }
  if (e->ews_url != NULL && !str_eq_nocase(e->ews_url, t->ews_url)) {
    mismatch(failures, &e->mark, "ews_url", e->ews_url, t->ews_url);
    n++;
  }
  if (e->has_prompt_count && e->prompt_count != t->n_prompts) {
    char want[32], got[32];
    buf_fmt(want, sizeof want, "%" PRIu32, e->prompt_count);
    buf_fmt(got, sizeof got, "%zu", t->n_prompts);
    mismatch(failures, &e->mark, "prompt_count", want, got);
    n++;
  }
  if (e->has_steps) {
    n += check_steps(e, t, failures);
  }
  if (e->settings_email != NULL && !str_eq_nocase(e->settings_email, t->settings_email)) {
    mismatch(failures, &e->mark, "settings_email", e->settings_email, t->settings_email);
    n++;
  }
  if (e->has_max_wait_ms && t->total_ms > (double) e->max_wait_ms) {
    char limit[32], want[64], got[32];
    lab_format_ms(limit, sizeof limit, e->max_wait_ms);
    lab_format_ms(got, sizeof got, t->total_ms);
    if (strcmp(limit, got) == 0) { /* rounded alike: say it in milliseconds */
      buf_fmt(limit, sizeof limit, "%" PRIu32 " ms", e->max_wait_ms);
      uint64_t whole = (uint64_t) t->total_ms; /* round up: it is over the limit */
      buf_fmt(got, sizeof got, "%" PRIu64 " ms", whole + ((double) whole < t->total_ms));
    }
    buf_fmt(want, sizeof want, "at most %s", limit);
    mismatch(failures, &e->mark, "max_wait", want, got);
    n++;
  }
  return n;
}

const struct scn_expect *lab_expect_for(const struct scn *s, const char *client) {
  for (size_t i = 0; i < s->n_expects; i++) {
    if (strcmp(s->expects[i].client, client) == 0) {
      return &s->expects[i];
    }
  }
  return NULL;
}
