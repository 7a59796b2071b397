/* common/labclock.c: lab time for timeouts and delays (see labclock.h). */
#include "common/labclock.h"

void labclock_init(struct labclock *c, uv_loop_t *loop, double scale) {
  c->loop = loop;
  c->scale = scale < 1 ? 1 : scale;
  c->start_ns = uv_hrtime();
  c->skipped_ms = 0;
}

double labclock_now_ms(const struct labclock *c) {
  if (c == NULL) {
    return (double) uv_hrtime() / 1e6;
  }
  return (double) (uv_hrtime() - c->start_ns) / 1e6 + c->skipped_ms;
}

uint64_t labclock_real_ms(const struct labclock *c, uint64_t lab_ms) {
  if (c == NULL || lab_ms == 0) {
    return lab_ms;
  }
  uint64_t real = (uint64_t) ((double) lab_ms / c->scale);
  return real == 0 ? 1 : real;
}

void labclock_fired(struct labclock *c, double started_ms, uint64_t lab_ms) {
  if (c == NULL) {
    return;
  }
  double deadline = started_ms + (double) lab_ms;
  double now = labclock_now_ms(c);
  if (deadline > now) {
    c->skipped_ms += deadline - now;
  }
}
