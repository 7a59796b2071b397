/* lab/cli/cli.c: what every command shares — the printer for people (errors always, notes
 * unless --quiet) and opening the lab CA the way --ca-dir says. The commands call into this
 * file; it calls none of them. */
#include "lab/cli/cli.h"

#include "common/buf.h"

#include <stdarg.h>

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("autodisco: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void cli_note(const struct cli *c, const char *fmt, ...) {
  if (c->quiet) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

struct ca *cli_open_ca(const struct cli *c) {
  char dir[4096];
  if (c->ca_dir != NULL) {
    buf_fmt(dir, sizeof dir, "%s", c->ca_dir);
  } else if (!ca_default_dir(dir, sizeof dir)) {
    cli_error("cannot find a directory for the lab CA: set AUTODISCO_CA_DIR or use --ca-dir");
    return NULL;
  }
  struct ca *ca = NULL;
  enum ca_status st = ca_open(&ca, dir, true);
  if (st != CA_OK) {
    cli_error("lab CA in %s: %s: %s", dir, ca_strerror(st), ca != NULL ? ca_detail(ca) : "");
    ca_free(ca);
    return NULL;
  }
  return ca;
}
