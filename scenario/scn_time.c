/* scenario/scn_time.c: durations ("500ms", "5s", "2m") and instants (RFC 3339, or relative to
 * now: "-30d", "+1y", "now") as scenario files write them (docs/scenarios.md). */
#include "scenario/internal.h"

#include <string.h>

/* read_digits reads 1 to 9 decimal digits; the count read, or 0. */
static size_t read_digits(const char *s, uint64_t *out) {
  size_t i = 0;
  uint64_t v = 0;
  while (s[i] >= '0' && s[i] <= '9' && i < 10) {
    v = v * 10 + (uint64_t) (s[i] - '0');
    i++;
  }
  if (i == 0 || i > 9) {
    return 0;
  }
  *out = v;
  return i;
}

bool scn__parse_duration_ms(const char *s, uint32_t *out) {
  uint64_t v = 0;
  size_t n = read_digits(s, &v);
  if (n == 0) {
    return false;
  }
  const char *unit = s + n;
  uint64_t mult = 0;
  if (strcmp(unit, "ms") == 0) {
    mult = 1;
  } else if (strcmp(unit, "s") == 0) {
    mult = 1000;
  } else if (strcmp(unit, "m") == 0) {
    mult = 60 * 1000;
  } else {
    return false;
  }
  if (v * mult > UINT32_MAX) {
    return false;
  }
  *out = (uint32_t) (v * mult);
  return true;
}

/* days_from_civil counts days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (the usual era arithmetic: 400-year eras of 146097 days). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static bool fixed_digits(const char *s, size_t n, int64_t *out) {
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* rfc3339 reads YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) (RFC 3339 5.6; "t", "z" and a space
 * for the T are accepted too). Fractions are dropped; a leap second (:60) counts as :59. */
static bool rfc3339(const char *s, int64_t *out) {
  int64_t y, mo, d, h, mi, sec;
  if (strlen(s) < 20 || !fixed_digits(s, 4, &y) || s[4] != '-' || !fixed_digits(s + 5, 2, &mo) ||
      s[7] != '-' || !fixed_digits(s + 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !fixed_digits(s + 11, 2, &h) ||
      s[13] != ':' || !fixed_digits(s + 14, 2, &mi) || s[16] != ':' ||
      !fixed_digits(s + 17, 2, &sec)) {
    return false;
  }
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
      sec > 60) {
    return false;
  }
  const char *p = s + 19;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9') {
      return false;
    }
    while (*p >= '0' && *p <= '9') {
      p++;
    }
  }
  int64_t offset = 0;
  if ((p[0] == 'Z' || p[0] == 'z') && p[1] == 0) {
    offset = 0;
  } else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':') {
    int64_t oh, om;
    if (!fixed_digits(p + 1, 2, &oh) || !fixed_digits(p + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset = (oh * 60 + om) * 60 * (p[0] == '+' ? 1 : -1);
  } else {
    return false;
  }
  if (sec == 60) {
    sec = 59;
  }
  *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return true;
}

bool scn__parse_time(const char *s, int64_t now, int64_t *out) {
  if (strcmp(s, "now") == 0) {
    *out = now;
    return true;
  }
  if (s[0] == '+' || s[0] == '-') {
    uint64_t v = 0;
    size_t n = read_digits(s + 1, &v);
    if (n == 0 || s[n + 1] == 0 || s[n + 2] != 0) {
      return false;
    }
    int64_t unit = 0;
    switch (s[n + 1]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'y': unit = 365 * 86400; break;
      default: return false;
    }
    /* v < 10^9 and unit < 2^25: the product fits easily */
    int64_t delta = (int64_t) v * unit;
    *out = s[0] == '+' ? now + delta : now - delta;
    return true;
  }
  return rfc3339(s, out);
}
