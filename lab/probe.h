/* lab/probe.h: a real domain walked by the client models — the local counterpart of an online
 * connectivity analyser (`autodisco probe`). Any DNS server (the system's resolver by default),
 * the real network (no port map, no lab clock: the models' real timeouts) and the system trust
 * store; the same transcripts as `run`. No credentials are sent unless given. */
#ifndef AD_LAB_PROBE_H
#define AD_LAB_PROBE_H

#include "client/sim.h"
#include "journal/jnl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The local part a DOMAIN argument is walked with: autodisco-probe@DOMAIN. */
#define LAB_PROBE_LOCAL_PART "autodisco-probe"

/* Where a probe is, for a progress line. */
struct lab_probe_progress {
  const struct sim_progress *at; /* what the walk is doing (borrowed for the call) */
  size_t client;                 /* index of the client walking, from 0 */
  size_t n_clients;
  double step_ms; /* real milliseconds since the step began */
};
typedef void (*lab_probe_progress_cb)(void *arg, const struct lab_probe_progress *p);

struct lab_probe_options {
  const char *target;         /* an e-mail address, or a domain (walked as
                                 LAB_PROBE_LOCAL_PART@domain) */
  const char *const *clients; /* models to walk; n_clients == 0 → lab_probe_default_client,
                                 or the models below when there are any */
  size_t n_clients;
  const struct scn_client *settings;     /* --set: given to every walk; may be NULL */
  const struct sim_model *const *models; /* users' own models (--client-file) */
  size_t n_models;
  const char *dns;       /* "ADDR:PORT", "[V6]:PORT" or "ADDR" (port 53); NULL: the system's
                            resolver (/etc/resolv.conf) */
  const char *trust_pem; /* a PEM bundle; NULL: the system trust store (ca_trust_system_path) */
  const char *username;  /* answers a Basic challenge over HTTPS with this and password; NULL:
                            no credentials are ever sent */
  const char *password;
  unsigned timeout_ms;            /* per network operation; 0 → each model's own */
  struct jnl *jnl;                /* probe.start and the client events; may be NULL */
  lab_probe_progress_cb progress; /* may be NULL */
  void *progress_arg;
  unsigned progress_tick_ms; /* also call progress this often while a step waits; 0: only when
                                something changes */
};

/* What a probe found. Strings and transcripts are owned. */
struct lab_probe {
  char *email;      /* the address walked */
  bool placeholder; /* email was made from a domain */
  char *dns;        /* the DNS server asked ("127.0.0.1:53"), or NULL: the system's resolver */
  char *trust;      /* the trust store file */
  char *user;       /* whose credentials may be sent, or NULL */
  struct sim_transcript **transcripts;
  size_t n;
};

/* lab_probe_default_client returns the i-th model walked when none is named (outlook-2016-msi,
 * mso-xdscli), NULL past the last. */
const char *lab_probe_default_client(size_t i);

/* lab_probe_target turns a probe's argument into the address to walk (caller frees): an
 * address as it is, a domain as LAB_PROBE_LOCAL_PART@domain (lowercased, without a final
 * dot); *out_placeholder says which. NULL with a sentence in err when it is neither. */
char *lab_probe_target(const char *arg, bool *out_placeholder, char *err, size_t err_size);

/* lab_probe_read_password reads the first line of `path` (without its line end) into out.
 * Refuses (-1, a sentence in err) a file others may read or write (a password file must be
 * private, as ssh wants its keys), one that is not a regular file, an empty one, and one whose
 * line does not fit. The caller wipes out after use. */
int lab_probe_read_password(const char *path, char *out, size_t out_size, char *err,
                            size_t err_size);

/* lab_probe walks every client, one after another, on a loop of its own. Returns 0 with *out
 * filled (free it with lab_probe_free), or -1 with a sentence in err: bad input (target, DNS
 * address, client model, trust store) or a walk that could not start. */
int lab_probe_run(const struct lab_probe_options *opt, struct lab_probe **out, char *err,
                  size_t err_size);
void lab_probe_free(struct lab_probe *p);

/* lab_probe_html writes the walks as one self-contained HTML page, a sequence diagram per
 * client (the renderer of `report` and `run --format html`). */
void lab_probe_html(FILE *out, const struct lab_probe *p);
/* lab_probe_clean says whether a walk found settings without showing a single prompt. */
bool lab_probe_clean(const struct sim_transcript *t);

#endif
