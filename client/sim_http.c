/* client/sim_http.c: reading the answer — llhttp's callbacks fill the attempt's status, body,
 * Location and WWW-Authenticate schemes, within limits (64 KiB of headers, 8 KiB a header,
 * SIM_BODY_MAX of body); what does not fit is noted, not stored. */
#include "client/sim.h"

#include "client/internal.h"

#include <stdlib.h>
#include <string.h>

enum { HEAD_MAX = 64 * 1024 }; /* all header bytes of one answer */

/* head_bytes counts header bytes; false once the answer's head is too large. */
static bool head_bytes(struct sim_attempt *a, size_t len) {
  a->head_len += len;
  return a->head_len <= HEAD_MAX;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  struct sim_walk *w = p->data;
  if (!head_bytes(&w->att, len) ||
      !buf_append(&w->att.field, (struct slice){(const uint8_t *) at, len})) {
    w->att.header_overflow = true;
    return -1;
  }
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  struct sim_walk *w = p->data;
  if (!head_bytes(&w->att, len) ||
      !buf_append(&w->att.value, (struct slice){(const uint8_t *) at, len})) {
    w->att.header_overflow = true;
    return -1;
  }
  return 0;
}

static int on_header_value_complete(llhttp_t *p) {
  struct sim_walk *w = p->data;
  if (w->inspect != NULL) {
    sim__inspect_header(w, buf_cstr(&w->att.field), buf_cstr(&w->att.value));
  }
  if (slice_eq_nocase(buf_slice(&w->att.field), "location")) {
    sim__set_str(&w->att.location, buf_cstr(&w->att.value));
  } else if (slice_eq_nocase(buf_slice(&w->att.field), "www-authenticate")) {
    sim__auth_schemes_add(&w->att.schemes, buf_cstr(&w->att.value));
  }
  buf_reset(&w->att.field);
  buf_reset(&w->att.value);
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct sim_walk *w = p->data;
  if (!buf_append(&w->att.body, (struct slice){(const uint8_t *) at, len})) {
    w->att.body_overflow = true;
    return -1;
  }
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  struct sim_walk *w = p->data;
  w->att.message_done = true;
  return HPE_PAUSED;
}

static const llhttp_settings_t *http_settings(void) {
  static llhttp_settings_t settings;
  static bool ready;
  if (!ready) {
    llhttp_settings_init(&settings);
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_header_value_complete = on_header_value_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
    ready = true;
  }
  return &settings;
}

void sim__http_feed(struct sim_walk *w, const char *data, size_t len) {
  struct sim_attempt *a = &w->att;
  if (a->message_done || a->http_error != NULL) {
    return;
  }
  llhttp_errno_t rc = llhttp_execute(&a->parser, data, len);
  if (rc != HPE_OK && rc != HPE_PAUSED && !a->body_overflow && !a->header_overflow) {
    const char *reason = llhttp_get_error_reason(&a->parser);
    a->http_error = str_dup(reason != NULL ? reason : llhttp_errno_name(rc));
  }
}

void sim__http_start(struct sim_walk *w) {
  llhttp_init(&w->att.parser, HTTP_RESPONSE, http_settings());
  w->att.parser.data = w;
}
