/* lab/cli/cmd_sandbox.c: `autodisco sandbox` — an unmodified client run in private network and
 * mount namespaces (Linux) whose resolver is the lab's DNS and whose trust store holds the lab
 * CA; autodisco exits with the client's status. The namespaces and the files over the system's
 * are the lab's (lab_sandbox_*); this file parses the arguments, starts the lab network and the
 * command and passes signals on. */
#include "lab/cli/cli.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "proxy/proxy.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char sandbox_usage[] =
    "usage: autodisco sandbox SCENARIO [--journal FILE] -- CMD [ARG]...\n"
    "\n"
    "Runs CMD, unmodified, in private network and mount namespaces: loopback only, the\n"
    "scenario's DNS on 127.0.0.1:53 as the resolver (/etc/resolv.conf, /etc/hosts with\n"
    "localhost only), every host on its real ports 443 and 80, and a trust store holding the\n"
    "system's CAs plus the lab CA (over /etc/ssl/certs/ca-certificates.crt, and in\n"
    "SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS). Nothing outside\n"
    "the sandbox changes. stdout belongs to CMD; notes go to stderr.\n"
    "\n"
    "  --journal FILE      append one JSON line per event to FILE\n"
    "\n"
    "Needs root (CAP_SYS_ADMIN). Exit status: CMD's (128+N when signal N killed it), 127 CMD\n"
    "could not be started, 1 the lab could not be started, 2 bad input or no privilege.\n";

struct sandbox {
  struct proxy *proxy;
  uv_process_t child;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  int status; /* CMD's exit status once it exited */
};

static void on_child_closed(uv_handle_t *h) {
  (void) h;
}

static void on_child_exit(uv_process_t *proc, int64_t exit_status, int term_signal) {
  struct sandbox *sb = proc->data;
  sb->status = term_signal != 0 ? 128 + term_signal : (int) (exit_status & 0xff);
  uv_close((uv_handle_t *) proc, on_child_closed);
  uv_close((uv_handle_t *) &sb->sigint, NULL);
  uv_close((uv_handle_t *) &sb->sigterm, NULL);
  proxy_close(sb->proxy);
  sb->proxy = NULL;
}

/* on_signal passes SIGINT and SIGTERM on to CMD: the lab stops once CMD exits. */
static void on_signal(uv_signal_t *h, int signum) {
  struct sandbox *sb = h->data;
  uv_process_kill(&sb->child, signum);
}

int cmd_sandbox(struct cli *c, int argc, char **argv) {
  const char *scenario = NULL;
  const char *journal_path = NULL;
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--journal") == 0 && i + 1 < argc) {
      journal_path = argv[++i];
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(sandbox_usage, stdout);
      return EXIT_HOLDS;
    } else if (argv[i][0] == '-' || scenario != NULL) {
      cli_error("sandbox: unexpected argument %s\n%s", argv[i], sandbox_usage);
      return EXIT_BAD_INPUT;
    } else {
      scenario = argv[i];
    }
  }
  if (scenario == NULL || i + 1 >= argc) {
    cli_error("sandbox takes a SCENARIO, then -- and the command to run\n%s", sandbox_usage);
    return EXIT_BAD_INPUT;
  }
  if (journal_path != NULL && strcmp(journal_path, "-") == 0) {
    cli_error("sandbox: --journal needs a file: stdout belongs to the command");
    return EXIT_BAD_INPUT;
  }
  char **cmd = argv + i + 1;

  int rc = EXIT_BAD_INPUT;
  char err[1024];
  struct scn *s = NULL;
  struct ca *ca = NULL;
  struct jnl *j = NULL;
  struct lab_sandbox_files files = {0};
  struct sandbox sb = {.status = EXIT_FAILS};
  bool loop_ready = false;
  uv_loop_t loop;
  if (scn_load(&s, scenario, err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  /* Before anything could start a thread (the loop, the CA). */
  enum lab_sandbox_status st = lab_sandbox_enter(err, sizeof err);
  if (st != LAB_SANDBOX_OK) {
    cli_error("%s", err);
    rc = st == LAB_SANDBOX_EPERM ? EXIT_BAD_INPUT : EXIT_FAILS;
    goto out;
  }
  rc = EXIT_BAD_INPUT;
  if ((ca = cli_open_ca(c)) == NULL) {
    goto out;
  }
  if (jnl_open(&j, journal_path, err, sizeof err) != JNL_OK) {
    cli_error("--journal %s", err);
    goto out;
  }
  rc = EXIT_FAILS;
  if (lab_sandbox_files_init(&files, ca_cert_path(ca), err, sizeof err) != LAB_SANDBOX_OK) {
    cli_error("%s", err);
    goto out;
  }
  if (uv_loop_init(&loop) != 0) {
    cli_error("cannot start an event loop");
    goto out;
  }
  loop_ready = true;
  struct proxy_options po = {
      .jnl = j, .ca = ca, .dns_listen = "127.0.0.1:53", .https_port = 443, .http_port = 80};
  if (proxy_start(&sb.proxy, &loop, s, &po, err, sizeof err) != PROXY_OK) {
    cli_error("%s", err);
    goto out;
  }
  lab_journal_start(j, s, sb.proxy, ca); /* before the client runs: what the lab is */
  uv_stdio_container_t stdio[3] = {
      {.flags = UV_INHERIT_FD, .data.fd = 0},
      {.flags = UV_INHERIT_FD, .data.fd = 1},
      {.flags = UV_INHERIT_FD, .data.fd = 2},
  };
  uv_process_options_t popt = {
      .exit_cb = on_child_exit,
      .file = cmd[0],
      .args = cmd,
      .stdio_count = 3,
      .stdio = stdio,
  };
  sb.child.data = &sb;
  int e = uv_spawn(&loop, &sb.child, &popt);
  if (e != 0) {
    cli_error("cannot run %s: %s", cmd[0], uv_strerror(e));
    uv_close((uv_handle_t *) &sb.child, NULL);
    proxy_close(sb.proxy);
    sb.proxy = NULL;
    rc = 127;
    goto out;
  }
  uv_signal_init(&loop, &sb.sigint);
  uv_signal_init(&loop, &sb.sigterm);
  sb.sigint.data = &sb;
  sb.sigterm.data = &sb;
  uv_signal_start(&sb.sigint, on_signal, SIGINT);
  uv_signal_start(&sb.sigterm, on_signal, SIGTERM);
  cli_note(c, "autodisco: sandbox for %s: running %s", s->name, cmd[0]);
  uv_run(&loop, UV_RUN_DEFAULT);
  cli_note(c, "autodisco: %s exited with status %d", cmd[0], sb.status);
  rc = sb.status;
out:
  if (loop_ready) {
    uv_run(&loop, UV_RUN_DEFAULT); /* finish whatever closes are pending */
    uv_loop_close(&loop);
  }
  if (lab_sandbox_files_cleanup(&files, err, sizeof err) != LAB_SANDBOX_OK) {
    cli_error("%s", err);
  }
  jnl_close(j);
  ca_free(ca);
  scn_free(s);
  return rc;
}
