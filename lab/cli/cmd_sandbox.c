/* lab/cli/cmd_sandbox.c: `autodisco sandbox` — an unmodified client run in private network and
 * mount namespaces (Linux) whose resolver is the lab's DNS and whose trust store holds the lab
 * CA; autodisco exits with the client's status. */
#define _GNU_SOURCE
#include "common/buf.h"
#include "lab/cli/cli.h"
#include "lab/report.h"
#include "proxy/proxy.h"
#include "scenario/scn.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const char sandbox_resolv[] = "nameserver 127.0.0.1\noptions attempts:1 timeout:2\n";
static const char sandbox_hosts[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n";
static const char system_bundle[] = "/etc/ssl/certs/ca-certificates.crt";

enum { SANDBOX_FILE_MAX = 64 * 1024 * 1024 };

struct sandbox {
  struct proxy *proxy;
  uv_process_t child;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  int status; /* CMD's exit status once it exited */
};

/* read_into appends the whole file at `path` to `b`; false with errno set on failure. */
static bool read_into(struct buf *b, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  uint8_t chunk[16384];
  bool ok = true;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      ok = false;
      break;
    }
    if (n == 0) {
      break;
    }
    if (!buf_append(b, (struct slice){chunk, (size_t) n})) {
      errno = EFBIG;
      ok = false;
      break;
    }
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

/* write_file creates `path` (0644) holding `len` bytes; false after cli_error. */
static bool write_file(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    cli_error("cannot create %s: %s", path, strerror(errno));
    return false;
  }
  const uint8_t *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      cli_error("cannot write %s: %s", path, strerror(errno));
      close(fd);
      return false;
    }
    p += n;
    len -= (size_t) n;
  }
  if (close(fd) != 0) {
    cli_error("cannot write %s: %s", path, strerror(errno));
    return false;
  }
  return true;
}

/* bind_over mounts `src` over the existing file `dst` in this (private) mount namespace. */
static bool bind_over(const char *src, const char *dst) {
  if (mount(src, dst, NULL, MS_BIND, NULL) != 0) {
    cli_error("cannot bind-mount %s over %s: %s", src, dst, strerror(errno));
    return false;
  }
  return true;
}

/* enter_namespaces moves this process into new network and mount namespaces, keeps its mounts
 * from propagating back to the host and brings the loopback interface up (which makes all of
 * 127.0.0.0/8 local). Returns 0, or an exit code after cli_error. Must run before any thread
 * starts: unshare(CLONE_NEWNS) refuses a multithreaded process. */
static int enter_namespaces(void) {
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    if (errno == EPERM) {
      cli_error("sandbox needs root: it creates network and mount namespaces");
      return EXIT_BAD_INPUT;
    }
    cli_error("cannot create network and mount namespaces: %s", strerror(errno));
    return EXIT_FAILS;
  }
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    cli_error("cannot make the sandbox's mounts private: %s", strerror(errno));
    return EXIT_FAILS;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    cli_error("cannot open a socket to configure the loopback interface: %s", strerror(errno));
    return EXIT_FAILS;
  }
  struct ifreq ifr = {0};
  buf_fmt(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  int rc = EXIT_HOLDS;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    cli_error("cannot read the loopback interface's flags: %s", strerror(errno));
    rc = EXIT_FAILS;
  } else {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
      cli_error("cannot bring the loopback interface up: %s", strerror(errno));
      rc = EXIT_FAILS;
    }
  }
  close(fd);
  return rc;
}

/* The temporary files the sandbox mounts over the system's. */
struct sandbox_files {
  char dir[64];
  char resolv[128];
  char hosts[128];
  char bundle[128];
  bool resolv_mounted;
  bool hosts_mounted;
  bool bundle_mounted;
};

/* files_setup writes resolv.conf, hosts and the CA bundle into a fresh 0700 directory, mounts
 * them over the system's files and points the usual environment variables at the bundle. */
static bool files_setup(struct sandbox_files *f, const char *lab_ca_pem) {
  buf_fmt(f->dir, sizeof f->dir, "/tmp/autodisco-sandbox-XXXXXX");
  if (mkdtemp(f->dir) == NULL) {
    cli_error("cannot create a temporary directory under /tmp: %s", strerror(errno));
    f->dir[0] = '\0';
    return false;
  }
  if (chmod(f->dir, 0700) != 0) {
    cli_error("cannot restrict %s: %s", f->dir, strerror(errno));
    return false;
  }
  buf_fmt(f->resolv, sizeof f->resolv, "%s/resolv.conf", f->dir);
  buf_fmt(f->hosts, sizeof f->hosts, "%s/hosts", f->dir);
  buf_fmt(f->bundle, sizeof f->bundle, "%s/ca-certificates.crt", f->dir);
  if (!write_file(f->resolv, sandbox_resolv, strlen(sandbox_resolv)) ||
      !write_file(f->hosts, sandbox_hosts, strlen(sandbox_hosts))) {
    return false;
  }
  struct buf bundle;
  buf_init(&bundle, SANDBOX_FILE_MAX);
  bool ok = false;
  bool have_system = access(system_bundle, F_OK) == 0;
  if (have_system && !read_into(&bundle, system_bundle)) {
    cli_error("cannot read the system's CA bundle %s: %s", system_bundle, strerror(errno));
    goto out;
  }
  if (bundle.len > 0 && bundle.ptr[bundle.len - 1] != '\n' && !buf_append_str(&bundle, "\n")) {
    cli_error("the system's CA bundle %s is too large", system_bundle);
    goto out;
  }
  if (!read_into(&bundle, lab_ca_pem)) {
    cli_error("cannot read the lab CA certificate %s: %s", lab_ca_pem, strerror(errno));
    goto out;
  }
  if (!write_file(f->bundle, bundle.ptr, bundle.len)) {
    goto out;
  }
  /* The directory is 0700 for writing; the files must stay readable to a CMD that drops
   * privileges, so the directory gets search permission once they are complete. */
  if (chmod(f->dir, 0711) != 0) {
    cli_error("cannot open %s for searching: %s", f->dir, strerror(errno));
    goto out;
  }
  if (!bind_over(f->resolv, "/etc/resolv.conf")) {
    goto out;
  }
  f->resolv_mounted = true;
  if (!bind_over(f->hosts, "/etc/hosts")) {
    goto out;
  }
  f->hosts_mounted = true;
  if (have_system) {
    if (!bind_over(f->bundle, system_bundle)) {
      goto out;
    }
    f->bundle_mounted = true;
  }
  static const char *const vars[] = {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                                     "NODE_EXTRA_CA_CERTS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    if (setenv(vars[i], f->bundle, 1) != 0) {
      cli_error("cannot set %s: %s", vars[i], strerror(errno));
      goto out;
    }
  }
  ok = true;
out:
  buf_cleanup(&bundle);
  return ok;
}

/* files_cleanup undoes files_setup: mounts first, then the files and their directory. */
static void files_cleanup(struct sandbox_files *f) {
  if (f->bundle_mounted) {
    umount2(system_bundle, MNT_DETACH);
  }
  if (f->hosts_mounted) {
    umount2("/etc/hosts", MNT_DETACH);
  }
  if (f->resolv_mounted) {
    umount2("/etc/resolv.conf", MNT_DETACH);
  }
  if (f->dir[0] == '\0') {
    return;
  }
  unlink(f->resolv);
  unlink(f->hosts);
  unlink(f->bundle);
  if (rmdir(f->dir) != 0) {
    cli_error("cannot remove %s: %s", f->dir, strerror(errno));
  }
}

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
  struct sandbox_files files = {0};
  struct sandbox sb = {.status = EXIT_FAILS};
  bool loop_ready = false;
  uv_loop_t loop;
  if (scn_load(&s, scenario, err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  /* Before anything could start a thread (the loop, the CA). */
  if ((rc = enter_namespaces()) != EXIT_HOLDS) {
    goto out;
  }
  rc = EXIT_BAD_INPUT;
  if ((ca = cli_open_ca(c)) == NULL) {
    goto out;
  }
  if (journal_path != NULL && (j = jnl_open(journal_path)) == NULL) {
    cli_error("--journal %s: cannot open it", journal_path);
    goto out;
  }
  rc = EXIT_FAILS;
  if (!files_setup(&files, ca_cert_path(ca))) {
    goto out;
  }
  if (uv_loop_init(&loop) != 0) {
    cli_error("cannot start an event loop");
    goto out;
  }
  loop_ready = true;
  struct proxy_options po = {
      .jnl = j, .ca = ca, .dns_listen = "127.0.0.1:53", .https_port = 443, .http_port = 80};
  if (proxy_start(&sb.proxy, &loop, s, &po, err, sizeof err) != 0) {
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
  files_cleanup(&files);
  jnl_close(j);
  ca_free(ca);
  scn_free(s);
  return rc;
}
