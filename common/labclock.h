/* common/labclock.h: the lab clock. Timeouts and delays keep their real lengths in lab time
 * but run `scale` times faster on the wall clock, so a scenario with a 21-second black hole
 * finishes in milliseconds while the transcript still says the user waited 21 seconds.
 *
 * Reading: lab now = real time elapsed since the clock started + time skipped. A timer that
 * stands for `lab_ms` really runs labclock_real_ms(lab_ms); when it fires, labclock_fired
 * moves the clock to at least the timer's lab deadline. Everything that waits on the lab's
 * behalf (client timeouts, server delays) in one process shares one clock. */
#ifndef AD_COMMON_LABCLOCK_H
#define AD_COMMON_LABCLOCK_H

#include <stdint.h>
#include <uv.h>

struct labclock {
  uv_loop_t *loop;
  double scale;      /* 1: real time; 1000: a lab second lasts a real millisecond */
  uint64_t start_ns; /* uv_hrtime() when the clock started */
  double skipped_ms; /* lab time added by timers that fired */
};

/* labclock_init starts a clock for `loop`; scale < 1 is taken as 1. A NULL clock anywhere
 * below means real time. */
void labclock_init(struct labclock *c, uv_loop_t *loop, double scale);
/* labclock_now_ms reads the lab clock (milliseconds since it started); real time when c is
 * NULL (milliseconds of uv_hrtime). */
double labclock_now_ms(const struct labclock *c);
/* labclock_real_ms says how long a timer standing for lab_ms really runs (at least 1 ms when
 * lab_ms > 0, so order is kept). */
uint64_t labclock_real_ms(const struct labclock *c, uint64_t lab_ms);
/* labclock_fired records that a timer started at lab time `started_ms` for `lab_ms` fired:
 * the clock moves on to its deadline if it is not there yet. */
void labclock_fired(struct labclock *c, double started_ms, uint64_t lab_ms);

#endif
