/* lab/cli/cmd_serve.c: `autodisco serve` — the scenario's network kept up for real clients
 * until SIGINT or SIGTERM, with the journal complete when it exits. */
#include "lab/cli/cli.h"
#include "proxy/proxy.h"
#include "scenario/scn.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
    "usage: autodisco serve SCENARIO [--dns ADDR:PORT] [--https-port N] [--http-port N]\n"
    "                       [--address-base ADDR] [--journal FILE]\n"
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
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct proxy_options po = {.dns_listen = "127.0.0.1:53", .https_port = 443, .http_port = 80};
  const char *journal_path = NULL;
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
    cli_error("--journal %s: cannot open it", journal_path);
    goto out;
  }
  po.jnl = j;
  po.ca = ca;
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
  cli_note(c, "autodisco: serving %s; SIGINT or SIGTERM stops", s->name);
  uv_run(&loop, UV_RUN_DEFAULT);
  cli_note(c, "autodisco: stopped");
  rc = EXIT_HOLDS;
out:
  uv_run(&loop, UV_RUN_DEFAULT); /* finish whatever closes are pending */
  uv_loop_close(&loop);
  jnl_close(j);
  ca_free(ca);
  scn_free(s);
  return rc;
}
