/* lab/report.c: the short forms `check` and `diff` print (durations, prompts, step names) and
 * the rows `check` reports, with the binary frame its worker processes send them in. */
#include "lab/lab.h"

#include <stdlib.h>
#include <string.h>

/* A frame larger than this is not one we wrote: failures are capped well below it. */
#define FRAME_MAX (4u * 1024 * 1024)

void lab_format_ms(char *out, size_t out_size, double ms) {
  if (ms < 0) {
    ms = 0;
  }
  if (ms < 1000) {
    buf_fmt(out, out_size, "%.0f ms", ms);
  } else {
    buf_fmt(out, out_size, "%.1f s", ms / 1000);
  }
}

void lab_prompt_describe(struct buf *out, const struct sim_prompt *p) {
  buf_append_str(out, sim_prompt_kind_name(p->kind));
  if (p->host != NULL) {
    buf_appendf(out, " %s", p->host);
  }
  /* A redirect prompt's reason is the URL offered: the host already says where it goes. */
  if (p->reason != NULL && p->kind != SIM_PROMPT_REDIRECT) {
    buf_appendf(out, " (%s)", p->reason);
  }
}

void lab_prompts_summary(struct buf *out, const struct sim_transcript *t) {
  for (size_t i = 0; i < t->n_prompts; i++) {
    if (i > 0) {
      buf_append_str(out, ", ");
    }
    lab_prompt_describe(out, &t->prompts[i]);
  }
}

const char *lab_verdict_name(enum lab_verdict v) {
  switch (v) {
    case LAB_PASS: return "PASS";
    case LAB_FAIL: return "FAIL";
    case LAB_NO_EXPECT: return "NO-EXPECT";
    case LAB_ERROR: return "ERROR";
  }
  return "ERROR";
}

struct lab_check_row *lab_check_rows(uint32_t index, const struct lab_result *r, size_t n) {
  struct lab_check_row *rows = xcalloc(n > 0 ? n : 1, sizeof *rows);
  for (size_t i = 0; i < n; i++) {
    struct lab_check_row *row = &rows[i];
    row->scenario = index;
    row->client = str_dup(r[i].client->model);
    row->verdict = r[i].expect == NULL ? LAB_NO_EXPECT : r[i].n_failures > 0 ? LAB_FAIL : LAB_PASS;
    struct buf p;
    buf_init(&p, 16 * 1024);
    if (r[i].transcript != NULL) {
      lab_prompts_summary(&p, r[i].transcript);
      row->lab_ms = r[i].transcript->total_ms;
    }
    row->prompts = str_dup(buf_cstr(&p));
    buf_cleanup(&p);
    row->failures = str_dup(buf_cstr(&r[i].failures));
  }
  return rows;
}

void lab_check_row_cleanup(struct lab_check_row *row) {
  free(row->client);
  free(row->prompts);
  free(row->failures);
  row->client = row->prompts = row->failures = NULL;
}

void lab_check_rows_free(struct lab_check_row *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    lab_check_row_cleanup(&rows[i]);
  }
  free(rows);
}

/* Frame: u32 payload length, then u32 scenario, u8 verdict, u64 lab time (IEEE 754 bits), and
 * the strings client, prompts, failures, each a u8 "present" flag and a u32 length with its
 * bytes. Integers are little-endian. */

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) {
    p[i] = (uint8_t) (v >> (8 * i));
  }
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static bool put_str(struct buf *out, const char *s) {
  uint8_t head[5] = {s != NULL};
  size_t len = s != NULL ? strlen(s) : 0;
  if (len > FRAME_MAX) {
    return false;
  }
  put_u32(head + 1, (uint32_t) len);
  return buf_append(out, (struct slice){head, sizeof head}) &&
         buf_append(out, (struct slice){(const uint8_t *) s, len});
}

bool lab_check_row_encode(struct buf *out, const struct lab_check_row *row) {
  size_t start = out->len;
  uint8_t head[4 + 4 + 1 + 8];
  uint64_t bits;
  memcpy(&bits, &row->lab_ms, sizeof bits);
  put_u32(head + 4, row->scenario);
  head[8] = (uint8_t) row->verdict;
  put_u32(head + 9, (uint32_t) bits);
  put_u32(head + 13, (uint32_t) (bits >> 32));
  bool ok = buf_append(out, (struct slice){head, sizeof head}) && put_str(out, row->client) &&
            put_str(out, row->prompts) && put_str(out, row->failures);
  if (!ok || out->len - start - 4 > FRAME_MAX) {
    out->len = start; /* leave `out` as it was */
    if (out->ptr != NULL) {
      out->ptr[start] = 0;
    }
    return false;
  }
  put_u32(out->ptr + start, (uint32_t) (out->len - start - 4));
  return true;
}

/* take_str reads one string at *pos of payload p (len bytes); false when it does not fit. */
static bool take_str(const uint8_t *p, size_t len, size_t *pos, char **out) {
  if (len - *pos < 5 || p[*pos] > 1) {
    return false;
  }
  bool present = p[*pos] == 1;
  uint32_t n = get_u32(p + *pos + 1);
  *pos += 5;
  if (len - *pos < n || (!present && n != 0)) {
    return false;
  }
  *out = present ? str_ndup((const char *) p + *pos, n) : NULL;
  *pos += n;
  return true;
}

size_t lab_check_row_decode(struct slice in, struct lab_check_row *out) {
  memset(out, 0, sizeof *out);
  if (in.len < 4) {
    return 0;
  }
  uint32_t len = get_u32(in.ptr);
  if (len > FRAME_MAX || len < 13) {
    return (size_t) -1;
  }
  if (in.len - 4 < len) {
    return 0;
  }
  const uint8_t *p = in.ptr + 4;
  if (p[4] > LAB_ERROR) {
    return (size_t) -1;
  }
  out->scenario = get_u32(p);
  out->verdict = (enum lab_verdict) p[4];
  uint64_t bits = (uint64_t) get_u32(p + 5) | (uint64_t) get_u32(p + 9) << 32;
  memcpy(&out->lab_ms, &bits, sizeof bits);
  size_t pos = 13;
  if (!take_str(p, len, &pos, &out->client) || !take_str(p, len, &pos, &out->prompts) ||
      !take_str(p, len, &pos, &out->failures) || pos != len) {
    lab_check_row_cleanup(out);
    return (size_t) -1;
  }
  return 4 + (size_t) len;
}
