/* lab/cli/cmd_probe.c: `autodisco probe` — the client models walked against a real domain
 * (lab/probe.h): the arguments, the note saying whose credentials may be sent, the progress
 * line on a terminal, and the transcripts as `run` prints them. */
#include "lab/cli/cli.h"
#include "lab/lab.h"
#include "lab/probe.h"

#include <getopt.h>
#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char probe_usage[] =
    "usage: autodisco probe EMAIL|DOMAIN [--dns ADDR:PORT] [--client NAME]...\n"
    "                       [--trust FILE|system] [--format text|json|html]\n"
    "                       [--user NAME --password-file FILE] [--timeout MS] [--journal FILE]\n"
    "                       [--set NAME=VALUE]... [--client-file FILE]...\n"
    "\n"
    "Walks client models against a real domain: its DNS (the system's resolver unless --dns),\n"
    "the real network, certificates checked against the system trust store. Prints the same\n"
    "transcript as `run`: steps, certificates met, prompts, time waited (real time). A DOMAIN\n"
    "is walked as " LAB_PROBE_LOCAL_PART "@DOMAIN. Sends no credentials unless given.\n"
    "Exit status: 0 every client found settings without a prompt, 1 a prompt would be shown\n"
    "or no settings were found, 2 bad input.\n"
    "\n"
    "  --dns ADDR:PORT     the DNS server to ask (default: /etc/resolv.conf's)\n"
    "  --client NAME       walk this model (repeatable; default: outlook-2016-msi, mso-xdscli)\n"
    "  --trust FILE|system trust the certificates in this PEM bundle, or the system's (default)\n"
    "  --format F          text (default), json (docs/transcript.md) or html (one page)\n"
    "  --user NAME         answer a Basic challenge over HTTPS with NAME and the password in\n"
    "  --password-file F   F's first line (F must not be readable by others)\n"
    "  --timeout MS        per network operation instead of each model's own (real ms)\n"
    "  --journal FILE      append the client events as JSON lines (docs/journal.md)\n"
    "  --set NAME=VALUE    give every walk this setting: a registry value as the registry\n"
    "                      names it (ExcludeHttpsRootDomain=1), a fact about the machine\n"
    "                      (domain_joined=1) or a policy choice (docs/clients.md); repeatable\n"
    "  --client-file FILE  a model of your own (docs/clients.md); walked instead of the\n"
    "                      defaults when no --client is given; repeatable\n"
    "\n"
    "On a terminal a progress line shows the step being waited for (not with --quiet).\n";

/* --- the progress line (stderr on a terminal only) --- */

static unsigned term_columns(void) {
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) {
    return ws.ws_col;
  }
  return 80;
}

/* utf8_cut returns the longest prefix of s within `max` bytes that does not split a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t max) {
  size_t len = strlen(s);
  if (len <= max) {
    return len;
  }
  while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80) {
    max--;
  }
  return max;
}

/* on_progress rewrites the one progress line: "outlook-2016-msi (1/2) step 3/7
 * https-autodiscover autodiscover.contoso.com: connecting… 2.1 s". On a narrow terminal the
 * host name gives way first, then the model's name, so what is being waited for and how long
 * stay in view. */
static void on_progress(void *arg, const struct lab_probe_progress *p) {
  (void) arg;
  const struct sim_progress *at = p->at;
  char head[160];
  char tail[120];
  char who[96] = "";
  size_t cols = term_columns() - 1;
  buf_fmt(tail, sizeof tail, ": %s%s %.1f s", at->doing, at->ended ? "," : "…", p->step_ms / 1000);
  for (int brief = 0; brief < 2; brief++) { /* the model's name goes when room is short */
    if (p->n_clients > 1) {
      buf_fmt(who, sizeof who, "%s%s(%zu/%zu) ", brief ? "" : at->client, brief ? "" : " ",
              p->client + 1, p->n_clients);
    }
    buf_fmt(head, sizeof head, "%sstep %zu/%zu %s", who, at->step + 1, at->n_steps_known,
            at->step_name);
    if (strlen(head) + strlen(tail) <= cols) {
      break;
    }
  }
  const char *host = at->host != NULL ? at->host : "";
  size_t room = cols > strlen(head) + strlen(tail) + 1 ? cols - strlen(head) - strlen(tail) - 1 : 0;
  char line[640];
  if (host[0] == '\0' || room < 8) {
    buf_fmt(line, sizeof line, "%s%s", head, tail);
  } else if (strlen(host) <= room) {
    buf_fmt(line, sizeof line, "%s %s%s", head, host, tail);
  } else {
    buf_fmt(line, sizeof line, "%s %.*s…%s", head, (int) utf8_cut(host, room - 3), host, tail);
  }
  line[utf8_cut(line, cols)] = '\0'; /* one line that updates: never wrap */
  fprintf(stderr, "\r\033[K%s", line);
  fflush(stderr);
}

static void progress_clear(void) {
  fputs("\r\033[K", stderr);
  fflush(stderr);
}

/* --- reports --- */

static void verdict_text(FILE *out, const struct lab_probe *p) {
  size_t n_clean = 0;
  for (size_t i = 0; i < p->n; i++) {
    n_clean += lab_probe_clean(p->transcripts[i]);
  }
  if (n_clean == p->n) {
    fprintf(out, "\nverdict: every client finds settings without a prompt\n");
    return;
  }
  fprintf(out, "\nverdict: %zu of %zu clients find settings without a prompt\n", n_clean, p->n);
  for (size_t i = 0; i < p->n; i++) {
    const struct sim_transcript *t = p->transcripts[i];
    if (lab_probe_clean(t)) {
      continue;
    }
    struct buf prompts;
    buf_init(&prompts, 8192);
    lab_prompts_summary(&prompts, t);
    fprintf(out, "  %s: %s%s%s\n", t->client, t->success ? "settings" : "no settings",
            prompts.len > 0 ? " after prompts: " : "", buf_cstr(&prompts));
    buf_cleanup(&prompts);
  }
}

static void print_text(FILE *out, const struct lab_probe *p, bool color) {
  fprintf(out, "probe %s%s\n", p->email, p->placeholder ? " (a placeholder address)" : "");
  fprintf(out, "dns: %s; trust: %s; credentials: %s\n",
          p->dns != NULL ? p->dns : "the system's resolver", p->trust,
          p->user != NULL ? p->user : "none sent");
  for (size_t i = 0; i < p->n; i++) {
    fputc('\n', out);
    sim_transcript_text(p->transcripts[i], out, color);
  }
  verdict_text(out, p);
}

static void print_json(FILE *out, const struct lab_probe *p, const char *target, bool clean) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_obj_begin(&doc, "probe");
  jnl_str(&doc, "target", target);
  jnl_str(&doc, "email", p->email);
  jnl_bool(&doc, "placeholder", p->placeholder);
  jnl_str(&doc, "dns", p->dns);
  jnl_str(&doc, "trust", p->trust);
  jnl_str(&doc, "user", p->user);
  jnl_obj_end(&doc);
  jnl_arr_begin(&doc, "clients");
  for (size_t i = 0; i < p->n; i++) {
    jnl_obj_begin(&doc, NULL);
    jnl_str(&doc, "client", p->transcripts[i]->client);
    jnl_bool(&doc, "clean", lab_probe_clean(p->transcripts[i]));
    char *t = sim_transcript_json(p->transcripts[i]);
    jnl_raw(&doc, "transcript", t);
    free(t);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  jnl_bool(&doc, "clean", clean);
  char *text = jnl_doc_take(&doc);
  fputs(text, out);
  fputc('\n', out);
  free(text);
}

/* --- the command --- */

struct probe_args {
  const char **clients;
  size_t n_clients;
  const char *dns;
  const char *trust;
  const char *format;
  const char *user;
  const char *password_file;
  const char *journal;
  unsigned timeout_ms;
  struct cli_walk walk; /* --set, --client-file */
};

/* parse_args reads the options; returns -1 to go on, else the exit status. */
static int parse_args(struct cli *c, int argc, char **argv, struct probe_args *a) {
  static const struct option opts[] = {
      {"dns", required_argument, NULL, 'd'},
      {"client", required_argument, NULL, 'c'},
      {"trust", required_argument, NULL, 'T'},
      {"format", required_argument, NULL, 'f'},
      {"user", required_argument, NULL, 'u'},
      {"password-file", required_argument, NULL, 'P'},
      {"timeout", required_argument, NULL, 't'},
      {"journal", required_argument, NULL, 'j'},
      {"set", required_argument, NULL, 'S'},
      {"client-file", required_argument, NULL, 'F'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:c:T:f:u:P:t:j:S:F:qh", opts, NULL)) != -1) {
    switch (opt) {
      case 'S':
        if (!cli_set(&a->walk, optarg)) {
          return EXIT_BAD_INPUT;
        }
        break;
      case 'F':
        if (!cli_client_file(&a->walk, optarg)) {
          return EXIT_BAD_INPUT;
        }
        break;
      case 'd': a->dns = optarg; break;
      case 'c': a->clients[a->n_clients++] = optarg; break;
      case 'T': a->trust = optarg; break;
      case 'f': a->format = optarg; break;
      case 'u': a->user = optarg; break;
      case 'P': a->password_file = optarg; break;
      case 'j': a->journal = optarg; break;
      case 'q': c->quiet = true; break;
      case 't': {
        uint32_t ms = 0;
        if (!parse_u32(optarg, 1, 3600000, &ms)) {
          cli_error("--timeout %s: expected milliseconds (1..3600000)", optarg);
          return EXIT_BAD_INPUT;
        }
        a->timeout_ms = ms;
        break;
      }
      case 'h': fputs(probe_usage, stdout); return EXIT_HOLDS;
      default: fputs(probe_usage, stderr); return EXIT_BAD_INPUT;
    }
  }
  if (optind + 1 != argc) {
    cli_error("probe takes one EMAIL or DOMAIN\n%s", probe_usage);
    return EXIT_BAD_INPUT;
  }
  if (strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0 &&
      strcmp(a->format, "html") != 0) {
    cli_error("--format %s: expected text, json or html", a->format);
    return EXIT_BAD_INPUT;
  }
  if ((a->user == NULL) != (a->password_file == NULL)) {
    cli_error("--user and --password-file go together (the password is never taken on the "
              "command line)");
    return EXIT_BAD_INPUT;
  }
  return -1;
}

/* say_credentials tells the user, before anything is sent, what the probe sends. */
static void say_credentials(const struct cli *c, const struct probe_args *a) {
  if (a->user == NULL) {
    cli_note(c, "autodisco: probe sends no credentials: a server asking for a password (HTTP "
                "401) is reported, not answered (--user and --password-file answer Basic over "
                "HTTPS)");
  } else {
    cli_note(c,
             "autodisco: probe sends the credentials of %s (HTTP Basic, over HTTPS only) to a "
             "server that asks for them with a 401",
             a->user);
  }
}

int cmd_probe(struct cli *c, int argc, char **argv) {
  struct probe_args a = {.format = "text"};
  a.clients = xcalloc((size_t) argc, sizeof *a.clients);
  int rc = parse_args(c, argc, argv, &a);
  if (rc >= 0) {
    cli_walk_cleanup(&a.walk);
    free(a.clients);
    return rc;
  }
  rc = EXIT_BAD_INPUT;
  char password[1024] = "";
  char err[1024];
  struct jnl *j = NULL;
  struct lab_probe *p = NULL;
  const char *target = argv[optind];
  if (a.password_file != NULL &&
      lab_probe_read_password(a.password_file, password, sizeof password, err, sizeof err) != 0) {
    cli_error("%s", err);
    goto out;
  }
  if (jnl_open(&j, a.journal, err, sizeof err) != JNL_OK) {
    cli_error("--journal %s", err);
    goto out;
  }
  bool progress = !c->quiet && isatty(STDERR_FILENO);
  struct lab_probe_options po = {
      .target = target,
      .clients = a.clients,
      .n_clients = a.n_clients,
      .dns = a.dns,
      .trust_pem = a.trust != NULL && strcmp(a.trust, "system") != 0 ? a.trust : NULL,
      .username = a.user,
      .password = a.user != NULL ? password : NULL,
      .timeout_ms = a.timeout_ms,
      .settings = cli_walk_settings(&a.walk),
      .models = (const struct sim_model *const *) a.walk.models,
      .n_models = a.walk.n_models,
      .jnl = j,
      .progress = progress ? on_progress : NULL,
      .progress_tick_ms = 100,
  };
  say_credentials(c, &a);
  int st = lab_probe_run(&po, &p, err, sizeof err);
  if (progress) {
    progress_clear();
  }
  if (st != 0) {
    cli_error("%s", err);
    goto out;
  }
  bool clean = p->n > 0;
  for (size_t i = 0; i < p->n; i++) {
    clean = clean && lab_probe_clean(p->transcripts[i]);
  }
  if (strcmp(a.format, "json") == 0) {
    print_json(stdout, p, target, clean);
  } else if (strcmp(a.format, "html") == 0) {
    lab_probe_html(stdout, p);
  } else {
    print_text(stdout, p, c->color);
  }
  rc = clean ? EXIT_HOLDS : EXIT_FAILS;
out:
  OPENSSL_cleanse(password, sizeof password);
  lab_probe_free(p);
  jnl_close(j);
  cli_walk_cleanup(&a.walk);
  free(a.clients);
  return rc;
}
