/* lab/cli/cmd_serve.c: `autodisco serve` — the scenario's network kept up for real clients
 * until SIGINT or SIGTERM, with the journal complete when it exits, and on request the HTTP
 * exchanges as HAR and the TLS secrets as a key log. On loopback by default; with --listen on
 * a lab network's addresses for a VM, after which it gives root up (--user). */
#include "common/addr.h"
#include "common/buf.h"
#include "journal/jnl.h"
#include "lab/cli/cli.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "proxy/proxy.h"
#include "scenario/scn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define HAR_MAX_BYTES (256u << 20) /* entries past this are counted, not kept */

static const char serve_usage[] =
    "usage: autodisco serve SCENARIO [--dns ADDR:PORT] [--https-port N] [--http-port N]\n"
    "                       [--address-base ADDR | --listen IP... [--map HOST=IP]...]\n"
    "                       [--user NAME] [--journal FILE] [--har FILE] [--keylog FILE]\n"
    "                       [--record-credentials] [--max-conns N] [--max-conns-per-client N]\n"
    "                       [--head-timeout MS] [--body-timeout MS] [--handshake-timeout MS]\n"
    "                       [--dns-tcp-max-conns N] [--dns-tcp-max-per-client N]\n"
    "                       [--dns-tcp-timeout MS]\n"
    "\n"
    "Keeps the scenario's network up for real clients. Once everything listens it prints one\n"
    "line on stdout: `ready ` and a JSON object with the DNS address, each host's names,\n"
    "address and ports (null: the host has no listener there), the addresses with their\n"
    "hosts, the warnings of the address plan and the lab CA file. Everything else goes to\n"
    "stderr. SIGINT or SIGTERM shut it down cleanly, the journal complete.\n"
    "\n"
    "  --dns ADDR:PORT     where the lab's DNS listens (default 127.0.0.1:53; with --listen,\n"
    "                      the first address's port 53); not the wildcard 0.0.0.0 or [::]\n"
    "  --https-port N      the port every host's HTTPS listener binds (default 443; 0: a free\n"
    "                      port per host, reported in the ready line)\n"
    "  --http-port N       the same for plain HTTP (default 80)\n"
    "  --address-base A    the first host's loopback address (default 127.77.0.1); hosts get\n"
    "                      consecutive addresses\n"
    "  --listen IP         put the hosts on this IPv4 address of a lab network (for a VM)\n"
    "                      instead of loopback; repeat it for more addresses. With fewer\n"
    "                      addresses than hosts, hosts share one, told apart by SNI and the\n"
    "                      Host header; what sharing loses is warned about (docs/commands.md)\n"
    "  --map HOST=IP       put the scenario's host HOST on IP (added to the --listen addresses)\n"
    "  --user NAME         run as NAME once the ports are bound, when started as root\n"
    "                      (default nobody)\n"
    "  --journal FILE      append one JSON line per event (\"-\": stdout after the ready line)\n"
    "  --har FILE          write every HTTP exchange as HAR 1.2 to FILE (mode 0600) when serve\n"
    "                      stops on SIGINT or SIGTERM; a killed serve writes none (the journal\n"
    "                      is the durable record)\n"
    "  --keylog FILE       append the TLS secrets of every connection as NSS key-log lines (what\n"
    "                      Wireshark's tls.keylog_file reads) to FILE, mode 0600\n"
    "  --record-credentials  write Authorization values in clear to the journal and the HAR\n"
    "                      (default: the scheme and a SHA-256 fingerprint only)\n"
    "\n"
    "Limits (0 turns one off; refusals are journaled as limit.reached, once a second):\n"
    "  --max-conns N       HTTP(S) connections open at once on one listener (default 512)\n"
    "  --max-conns-per-client N  ... from one client address (default 64)\n"
    "  --head-timeout MS   a request head must be complete this long after its first byte,\n"
    "                      however slowly it comes, or it is answered 408 (default 10000)\n"
    "  --body-timeout MS   a request body must be complete this long after its head, however\n"
    "                      slowly it comes, or it is answered 408 (default 10000)\n"
    "  --handshake-timeout MS  a TLS handshake must be complete this long after the connection\n"
    "                      is accepted (default 10000)\n"
    "  --dns-tcp-max-conns N  DNS over TCP connections open at once (default 256)\n"
    "  --dns-tcp-max-per-client N  ... from one client address (default 16)\n"
    "  --dns-tcp-timeout MS  a DNS over TCP connection idle this long, or a message not complete\n"
    "                      this long after its first byte, is closed (default 10000)\n"
    "\n"
    "Ports below 1024 need root or CAP_NET_BIND_SERVICE; unprivileged, use e.g.\n"
    "--dns 127.0.0.1:5353 --https-port 0 --http-port 0. Started as root, serve binds its\n"
    "ports, opens its files, then runs as --user before it reads a byte from a client.\n";

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

/* open_har opens the archive before root is given up (the user serve becomes may not create
 * files in its folder); it is rewritten in place when serve stops. -1 with errno set. */
static int open_har(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0 && fchmod(fd, 0600) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

/* is_loopback: an IPv4 address in 127.0.0.0/8 or ::1 (text, an address or ADDR:PORT). */
static bool is_loopback(const char *text) {
  return strncmp(text, "127.", 4) == 0 || strncmp(text, "[::1]", 5) == 0 ||
         strcmp(text, "::1") == 0;
}

/* say_network tells on stderr (always) which addresses beyond this machine the lab answers on,
 * and what the plan could not keep. */
static void say_network(const struct proxy_plan *plan, const char *dns) {
  char list[1024] = "";
  size_t at = 0;
  for (size_t i = 0; i < proxy_plan_n_addresses(plan); i++) {
    const char *a = proxy_plan_address(plan, i);
    if (!is_loopback(a) && at < sizeof list) {
      at += (size_t) snprintf(list + at, sizeof list - at, "%s%s", at > 0 ? ", " : "", a);
    }
  }
  if (list[0] != '\0') {
    cli_error("serving on %s (not loopback): every machine that reaches these addresses reaches "
              "the lab",
              list);
  }
  if (dns != NULL && !is_loopback(dns)) {
    cli_error("DNS on %s (not loopback)", dns);
  }
  for (size_t i = 0; i < proxy_plan_n_warnings(plan); i++) {
    cli_error("warning: %s", proxy_plan_warning(plan, i));
  }
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

/* Long options without a short form. */
enum {
  OPT_MAX_CONNS = 256,
  OPT_MAX_PER_CLIENT,
  OPT_HEAD_TIMEOUT,
  OPT_BODY_TIMEOUT,
  OPT_HANDSHAKE_TIMEOUT,
  OPT_DNS_MAX_CONNS,
  OPT_DNS_MAX_PER_CLIENT,
  OPT_DNS_TIMEOUT,
};

/* parse_limit reads a limit's value: a count (0..1000000) or milliseconds (0..3600000). */
static bool parse_limit(const char *flag, const char *text, bool ms, unsigned *out) {
  uint32_t v = 0;
  uint32_t max = ms ? 3600000u : 1000000u;
  if (!parse_u32(text, 0, max, &v)) {
    cli_error("%s %s: expected %s (0..%u; 0: no limit)", flag, text,
              ms ? "milliseconds" : "a number of connections", (unsigned) max);
    return false;
  }
  *out = v;
  return true;
}

/* set_limit applies one limit flag to `l`. */
static bool set_limit(struct proxy_limits *l, int opt, const char *text) {
  switch (opt) {
    case OPT_MAX_CONNS: return parse_limit("--max-conns", text, false, &l->max_conns);
    case OPT_MAX_PER_CLIENT:
      return parse_limit("--max-conns-per-client", text, false, &l->max_conns_per_client);
    case OPT_HEAD_TIMEOUT: return parse_limit("--head-timeout", text, true, &l->head_timeout_ms);
    case OPT_BODY_TIMEOUT: return parse_limit("--body-timeout", text, true, &l->body_timeout_ms);
    case OPT_HANDSHAKE_TIMEOUT:
      return parse_limit("--handshake-timeout", text, true, &l->handshake_timeout_ms);
    case OPT_DNS_MAX_CONNS:
      return parse_limit("--dns-tcp-max-conns", text, false, &l->dns_tcp_max_conns);
    case OPT_DNS_MAX_PER_CLIENT:
      return parse_limit("--dns-tcp-max-per-client", text, false, &l->dns_tcp_max_per_client);
    case OPT_DNS_TIMEOUT:
      return parse_limit("--dns-tcp-timeout", text, true, &l->dns_tcp_timeout_ms);
  }
  return false;
}

/* dns_address_ok checks --dns before anything starts: ADDR:PORT, and not the wildcard, which
 * would answer on every interface of the machine, whatever network it is on. */
static bool dns_address_ok(const char *text) {
  struct sockaddr_storage ss;
  if (!addr_parse(text, 0, &ss)) {
    cli_error("--dns %s: expected ADDR:PORT (e.g. 127.0.0.1:5353, [::1]:5353)", text);
    return false;
  }
  bool any = ss.ss_family == AF_INET
                 ? ((const struct sockaddr_in *) &ss)->sin_addr.s_addr == htonl(INADDR_ANY)
                 : IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *) &ss)->sin6_addr);
  if (any) {
    cli_error("--dns %s: the wildcard address answers on every interface, on every network this "
              "machine is on; name one address (loopback, or the lab network's: e.g. --dns "
              "192.168.56.10:53)",
              text);
    return false;
  }
  return true;
}

/* raise_fd_limit lifts the soft limit on open files towards the hard one, so that the
 * connection caps, not the usual 1024 descriptors, say when the lab refuses a client. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return;
  }
  rlim_t want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
  if (rl.rlim_cur < want) {
    rl.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
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
      {"listen", required_argument, NULL, 'L'},
      {"map", required_argument, NULL, 'M'},
      {"user", required_argument, NULL, 'u'},
      {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
      {"max-conns-per-client", required_argument, NULL, OPT_MAX_PER_CLIENT},
      {"head-timeout", required_argument, NULL, OPT_HEAD_TIMEOUT},
      {"body-timeout", required_argument, NULL, OPT_BODY_TIMEOUT},
      {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
      {"dns-tcp-max-conns", required_argument, NULL, OPT_DNS_MAX_CONNS},
      {"dns-tcp-max-per-client", required_argument, NULL, OPT_DNS_MAX_PER_CLIENT},
      {"dns-tcp-timeout", required_argument, NULL, OPT_DNS_TIMEOUT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct proxy_options po = {.dns_listen = "127.0.0.1:53", .https_port = 443, .http_port = 80};
  struct proxy_limits limits = proxy_limits_default();
  const char *journal_path = NULL;
  const char *har_path = NULL;
  const char *keylog_path = NULL;
  const char *user_name = NULL;
  const char **listen = xcalloc((size_t) argc + 1, sizeof *listen);
  const char **maps = xcalloc((size_t) argc + 1, sizeof *maps);
  size_t n_listen = 0, n_maps = 0;
  bool dns_given = false;
  bool args_ok = true;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:s:p:a:j:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'd':
        po.dns_listen = optarg;
        dns_given = true;
        break;
      case 'L': listen[n_listen++] = optarg; break;
      case 'M': maps[n_maps++] = optarg; break;
      case 'u': user_name = optarg; break;
      case 's': args_ok = args_ok && parse_port("--https-port", optarg, &po.https_port); break;
      case 'p': args_ok = args_ok && parse_port("--http-port", optarg, &po.http_port); break;
      case 'a': po.address_base = optarg; break;
      case 'j': journal_path = optarg; break;
      case 'H': har_path = optarg; break;
      case 'k': keylog_path = optarg; break;
      case 'r': po.record_credentials = true; break;
      case OPT_MAX_CONNS:
      case OPT_MAX_PER_CLIENT:
      case OPT_HEAD_TIMEOUT:
      case OPT_BODY_TIMEOUT:
      case OPT_HANDSHAKE_TIMEOUT:
      case OPT_DNS_MAX_CONNS:
      case OPT_DNS_MAX_PER_CLIENT:
      case OPT_DNS_TIMEOUT: args_ok = args_ok && set_limit(&limits, opt, optarg); break;
      case 'h':
        fputs(serve_usage, stdout);
        free(listen);
        free(maps);
        return EXIT_HOLDS;
      default:
        fputs(serve_usage, stderr);
        free(listen);
        free(maps);
        return EXIT_BAD_INPUT;
    }
  }
  int rc = EXIT_BAD_INPUT;
  char err[1024];
  char dns_default[INET6_ADDRSTRLEN + 8];
  struct scn *s = NULL;
  struct proxy_plan *plan = NULL;
  struct lab_priv_user user = {0};
  bool drop = false;
  struct ca *ca = NULL;
  struct jnl *j = NULL;
  struct jnl_har *har = NULL;
  int har_fd = -1;
  FILE *keylog = NULL;
  struct lab_desc *start = NULL;
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct serve sv = {0};
  if (!args_ok) {
    goto out;
  }
  if (optind + 1 != argc) {
    cli_error("serve takes one SCENARIO\n%s", serve_usage);
    goto out;
  }
  if (dns_given && !dns_address_ok(po.dns_listen)) {
    goto out;
  }
  if (po.address_base != NULL && n_listen + n_maps > 0) {
    cli_error("--address-base places hosts on loopback; --listen and --map place them on a lab "
              "network: give one or the other");
    goto out;
  }
  if (scn_load(&s, argv[optind], err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  if (n_listen + n_maps > 0) {
    if (proxy_plan_new(&plan, s, listen, n_listen, maps, n_maps, err, sizeof err) != PROXY_OK) {
      cli_error("%s", err);
      goto out;
    }
    po.plan = plan;
    if (!dns_given) { /* a VM on the lab network must reach the DNS too */
      buf_fmt(dns_default, sizeof dns_default, "%s:53", proxy_plan_address(plan, 0));
      po.dns_listen = dns_default;
    }
    say_network(plan, po.dns_listen);
  } else if (dns_given && !is_loopback(po.dns_listen)) {
    cli_error("DNS on %s (not loopback)", po.dns_listen);
  }
  /* the user is looked up while the user database can still be read */
  if (getuid() == 0 || geteuid() == 0) {
    if (lab_priv_lookup(&user, user_name != NULL ? user_name : "nobody", err, sizeof err) !=
        LAB_PRIV_DROPPED) {
      cli_error("%s", err);
      goto out;
    }
    drop = true;
  } else if (user_name != NULL) {
    cli_note(c, "autodisco: not root: nothing to drop, --user %s is not needed", user_name);
  }
  if ((ca = cli_open_ca(c)) == NULL) {
    goto out;
  }
  if (jnl_open(&j, journal_path, err, sizeof err) != JNL_OK) {
    cli_error("--journal %s", err);
    goto out;
  }
  if (har_path != NULL) {
    /* written at the stop, by the user serve has become: where that user cannot create the
     * archive, it is opened now and rewritten in place */
    bool in_place = drop && !lab_priv_can_write_dir(&user, har_path);
    if (in_place ? (har_fd = open_har(har_path)) < 0 : !har_writable(har_path)) {
      cli_error("--har %s: cannot write it: %s", har_path, strerror(errno));
      goto out;
    }
    if (in_place) {
      cli_note(c,
               "autodisco: --har %s: %s cannot write its folder: it is opened now and rewritten "
               "when serve stops (a killed serve leaves it as it is)",
               har_path, user.name);
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
  po.limits = &limits;
  raise_fd_limit();
  if (proxy_start(&sv.proxy, &loop, s, &po, err, sizeof err) != PROXY_OK) {
    cli_error("%s", err);
    if (plan != NULL && strstr(err, "address not available") != NULL) {
      cli_error("--listen and --map take addresses this machine has on an interface; add one "
                "first, e.g. `ip addr add 192.168.56.10/24 dev vboxnet0`");
    }
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
  /* lab.start reads the CA's files: described while they can still be read */
  if (j != NULL) {
    start = lab_start_describe(s, sv.proxy, ca);
  }
  /* every port is bound and every file open: root goes before the loop reads a client's byte */
  if (drop) {
    if (lab_priv_drop(&user, err, sizeof err) != LAB_PRIV_DROPPED) {
      cli_error("%s", err);
      on_signal(&sv.sigint, SIGTERM); /* closes the network */
      rc = EXIT_FAILS;
      goto out;
    }
    cli_note(c, "autodisco: running as %s (uid %u, gid %u)", user.name, (unsigned) user.uid,
             (unsigned) user.gid);
  }
  char *ready = proxy_ready_json(sv.proxy);
  printf("ready %s\n", ready);
  fflush(stdout);
  free(ready);
  /* what the lab is, after the ready line (a journal on stdout follows it) and before any
   * client event: the loop has not run yet */
  lab_journal_start_desc(j, start, sv.proxy);
  /* from here lines are written together, 10 ms after the first of them, not each on its own
   * (docs/journal.md, "Writing"); what is left goes out when the loop has stopped */
  jnl_attach_loop(j, &loop);
  cli_note(c, "autodisco: serving %s; SIGINT or SIGTERM stops", s->name);
  uv_run(&loop, UV_RUN_DEFAULT);
  jnl_detach(j);
  if (jnl_n_lost(j) > 0) {
    cli_error("--journal %s: %llu lines could not be written", journal_path,
              (unsigned long long) jnl_n_lost(j));
  }
  cli_note(c, "autodisco: stopped");
  rc = EXIT_HOLDS;
  if (har != NULL) {
    bool written = har_fd >= 0 ? jnl_har_write_fd(har, har_fd, "0.1.0") /* --version's */
                               : jnl_har_write(har, har_path, "0.1.0");
    if (written) {
      cli_note(c, "autodisco: %zu HTTP exchanges written to %s", jnl_har_n_entries(har), har_path);
    } else {
      cli_error("--har %s: cannot write it: %s", har_path, strerror(errno));
      rc = EXIT_FAILS;
    }
  }
out:
  jnl_detach(j);
  uv_run(&loop, UV_RUN_DEFAULT); /* finish whatever closes are pending */
  uv_loop_close(&loop);
  lab_desc_free(start);
  jnl_har_free(har);
  if (har_fd >= 0) {
    close(har_fd);
  }
  if (keylog != NULL) {
    fclose(keylog);
  }
  jnl_close(j);
  ca_free(ca);
  proxy_plan_free(plan);
  scn_free(s);
  free(listen);
  free(maps);
  return rc;
}
