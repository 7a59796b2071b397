/* lab/cli/cmd_serve.c: `autodisco serve` — the scenario's network kept up for real clients
 * until SIGINT or SIGTERM, with the journal complete when it exits, and on request the HTTP
 * exchanges as HAR and the TLS secrets as a key log. */
#include "common/buf.h"
#include "journal/jnl.h"
#include "lab/cli/cli.h"
#include "lab/report.h"
#include "proxy/proxy.h"
#include "scenario/scn.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HAR_MAX_BYTES (256u << 20) /* entries past this are counted, not kept */

static const char serve_usage[] =
    "usage: autodisco serve SCENARIO [--dns ADDR:PORT] [--https-port N] [--http-port N]\n"
    "                       [--address-base ADDR] [--journal FILE] [--har FILE]\n"
    "                       [--keylog FILE] [--record-credentials]\n"
    "\n"
    "Keeps the scenario's network up for real clients. Once everything listens it prints one\n"
    "line on stdout: `ready ` and a JSON object with the DNS address, each host's names,\n"
    "address and ports (null: connections are refused) and the lab CA file. Everything else\n"
    "goes to stderr. SIGINT or SIGTERM shut it down cleanly, the journal complete.\n"
    "\n"
    "  --dns ADDR:PORT     where the lab's DNS listens (default 127.0.0.1:53)\n"
    "  --https-port N      the port every host's HTTPS listener binds (default 443; 0: a free\n"
    "                      port per host, reported in the ready line)\n"
    "  --http-port N       the same for plain HTTP (default 80)\n"
    "  --address-base A    the first host's loopback address (default 127.77.0.1); hosts get\n"
    "                      consecutive addresses\n"
    "  --journal FILE      append one JSON line per event (\"-\": stdout after the ready line)\n"
    "  --har FILE          write every HTTP exchange as HAR 1.2 to FILE (mode 0600) when serve\n"
    "                      stops on SIGINT or SIGTERM; a killed serve writes none (the journal\n"
    "                      is the durable record)\n"
    "  --keylog FILE       append the TLS secrets of every connection as NSS key-log lines (what\n"
    "                      Wireshark's tls.keylog_file reads) to FILE, mode 0600\n"
    "  --record-credentials  write Authorization values in clear to the journal and the HAR\n"
    "                      (default: the scheme and a SHA-256 fingerprint only)\n"
    "\n"
    "Ports below 1024 need root or CAP_NET_BIND_SERVICE; unprivileged, use e.g.\n"
    "--dns 127.0.0.1:5353 --https-port 0 --http-port 0.\n";

struct serve {
  struct proxy *proxy;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  bool stopping;
};

static void on_signal(uv_signal_t *h, int signum) {
  struct serve *sv = h->data;
  if (sv->stopping) {
    return;
  }
  sv->stopping = true;
  proxy_close(sv->proxy);
  sv->proxy = NULL;
  uv_close((uv_handle_t *) &sv->sigint, NULL);
  uv_close((uv_handle_t *) &sv->sigterm, NULL);
}

/* open_private opens `path` for appending (creating it) with mode 0600, also when it existed
 * with a wider one: key logs and archives hold secrets. NULL with errno set. */
static FILE *open_private(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return NULL;
  }
  FILE *f = fchmod(fd, 0600) == 0 ? fdopen(fd, "a") : NULL;
  if (f == NULL) {
    int saved = errno;
    close(fd);
    errno = saved;
  }
  return f;
}

/* har_writable checks before serving that the archive can be written where it is asked for,
 * rather than losing it at the end. */
static bool har_writable(const char *path) {
  char tmp[4096];
  if (!buf_fmt(tmp, sizeof tmp, "%s.tmp", path)) {
    errno = ENAMETOOLONG;
    return false;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return errno == EEXIST; /* left by an earlier run; jnl_har_write replaces it */
  }
  close(fd);
  unlink(tmp);
  return true;
}

static bool parse_port(const char *flag, const char *text, int *out) {
  uint32_t v = 0;
  if (!parse_u32(text, 0, 65535, &v)) {
    cli_error("%s %s: expected a port number (0..65535)", flag, text);
    return false;
  }
  *out = (int) v;
  return true;
}

int cmd_serve(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"dns", required_argument, NULL, 'd'},
      {"https-port", required_argument, NULL, 's'},
      {"http-port", required_argument, NULL, 'p'},
      {"address-base", required_argument, NULL, 'a'},
      {"journal", required_argument, NULL, 'j'},
      {"har", required_argument, NULL, 'H'},
      {"keylog", required_argument, NULL, 'k'},
      {"record-credentials", no_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct proxy_options po = {.dns_listen = "127.0.0.1:53", .https_port = 443, .http_port = 80};
  const char *journal_path = NULL;
  const char *har_path = NULL;
  const char *keylog_path = NULL;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:s:p:a:j:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'd': po.dns_listen = optarg; break;
      case 's':
        if (!parse_port("--https-port", optarg, &po.https_port)) {
          return EXIT_BAD_INPUT;
        }
        break;
      case 'p':
        if (!parse_port("--http-port", optarg, &po.http_port)) {
          return EXIT_BAD_INPUT;
        }
        break;
      case 'a': po.address_base = optarg; break;
      case 'j': journal_path = optarg; break;
      case 'H': har_path = optarg; break;
      case 'k': keylog_path = optarg; break;
      case 'r': po.record_credentials = true; break;
      case 'h': fputs(serve_usage, stdout); return EXIT_HOLDS;
      default: fputs(serve_usage, stderr); return EXIT_BAD_INPUT;
    }
  }
  if (optind + 1 != argc) {
    cli_error("serve takes one SCENARIO\n%s", serve_usage);
    return EXIT_BAD_INPUT;
  }
  int rc = EXIT_BAD_INPUT;
  char err[1024];
  struct scn *s = NULL;
  struct ca *ca = NULL;
  struct jnl *j = NULL;
  struct jnl_har *har = NULL;
  FILE *keylog = NULL;
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct serve sv = {0};
  if (scn_load(&s, argv[optind], err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  if ((ca = cli_open_ca(c)) == NULL) {
    goto out;
  }
  if (jnl_open(&j, journal_path, err, sizeof err) != JNL_OK) {
    cli_error("--journal %s", err);
    goto out;
  }
  if (har_path != NULL) {
    if (!har_writable(har_path)) {
      cli_error("--har %s: cannot write it: %s", har_path, strerror(errno));
      goto out;
    }
    har = jnl_har_new(HAR_MAX_BYTES);
  }
  if (keylog_path != NULL && (keylog = open_private(keylog_path)) == NULL) {
    cli_error("--keylog %s: cannot open it: %s", keylog_path, strerror(errno));
    goto out;
  }
  if (po.record_credentials) {
    cli_error("warning: --record-credentials: passwords and tokens go in clear to the journal%s",
              har_path != NULL ? " and the HAR" : "");
  }
  po.jnl = j;
  po.ca = ca;
  po.har = har;
  po.keylog = keylog;
  if (proxy_start(&sv.proxy, &loop, s, &po, err, sizeof err) != PROXY_OK) {
    cli_error("%s", err);
    if (strstr(err, "permission denied") != NULL) {
      cli_error("ports below 1024 need root or CAP_NET_BIND_SERVICE; unprivileged, try "
                "--dns 127.0.0.1:5353 --https-port 0 --http-port 0 (the ready line gives the "
                "ports)");
    }
    rc = EXIT_FAILS;
    goto out;
  }
  uv_signal_init(&loop, &sv.sigint);
  uv_signal_init(&loop, &sv.sigterm);
  sv.sigint.data = &sv;
  sv.sigterm.data = &sv;
  uv_signal_start(&sv.sigint, on_signal, SIGINT);
  uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
  char *ready = proxy_ready_json(sv.proxy);
  printf("ready %s\n", ready);
  fflush(stdout);
  free(ready);
  /* what the lab is, after the ready line (a journal on stdout follows it) and before any
   * client event: the loop has not run yet */
  lab_journal_start(j, s, sv.proxy, ca);
  cli_note(c, "autodisco: serving %s; SIGINT or SIGTERM stops", s->name);
  uv_run(&loop, UV_RUN_DEFAULT);
  cli_note(c, "autodisco: stopped");
  rc = EXIT_HOLDS;
  if (har != NULL) {
    if (jnl_har_write(har, har_path, "0.1.0")) { /* the version --version prints */
      cli_note(c, "autodisco: %zu HTTP exchanges written to %s", jnl_har_n_entries(har), har_path);
    } else {
      cli_error("--har %s: cannot write it: %s", har_path, strerror(errno));
      rc = EXIT_FAILS;
    }
  }
out:
  uv_run(&loop, UV_RUN_DEFAULT); /* finish whatever closes are pending */
  uv_loop_close(&loop);
  jnl_har_free(har);
  if (keylog != NULL) {
    fclose(keylog);
  }
  jnl_close(j);
  ca_free(ca);
  scn_free(s);
  return rc;
}
