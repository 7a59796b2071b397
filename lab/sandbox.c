/* lab/sandbox.c: what `autodisco sandbox` sets up before it runs a command (Linux) — private
 * network and mount namespaces, loopback up, the lab's DNS as the resolver and the lab CA
 * added to the trust store, each over the system's file by a bind mount only the sandbox sees. */
#define _GNU_SOURCE
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char sandbox_resolv[] = "nameserver 127.0.0.1\noptions attempts:1 timeout:2\n";
static const char sandbox_hosts[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n";
static const char system_bundle[] = "/etc/ssl/certs/ca-certificates.crt";

enum { SANDBOX_FILE_MAX = 64 * 1024 * 1024 };

static bool fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fail writes the sentence for people into err and returns false. */
static bool fail(char *err, size_t err_size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
  return false;
}

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

/* write_file creates `path` (0644) holding `len` bytes; false with a sentence in err. */
static bool write_file(const char *path, const void *data, size_t len, char *err, size_t err_size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail(err, err_size, "cannot create %s: %s", path, strerror(errno));
  }
  const uint8_t *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail(err, err_size, "cannot write %s: %s", path, strerror(errno));
      close(fd);
      return false;
    }
    p += n;
    len -= (size_t) n;
  }
  if (close(fd) != 0) {
    return fail(err, err_size, "cannot write %s: %s", path, strerror(errno));
  }
  return true;
}

/* bind_over mounts `src` over the existing file `dst` in this (private) mount namespace. */
static bool bind_over(const char *src, const char *dst, char *err, size_t err_size) {
  if (mount(src, dst, NULL, MS_BIND, NULL) != 0) {
    return fail(err, err_size, "cannot bind-mount %s over %s: %s", src, dst, strerror(errno));
  }
  return true;
}

enum lab_sandbox_status lab_sandbox_enter(char *err, size_t err_size) {
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    if (errno == EPERM) {
      fail(err, err_size, "sandbox needs root: it creates network and mount namespaces");
      return LAB_SANDBOX_EPERM;
    }
    fail(err, err_size, "cannot create network and mount namespaces: %s", strerror(errno));
    return LAB_SANDBOX_ESYS;
  }
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    fail(err, err_size, "cannot make the sandbox's mounts private: %s", strerror(errno));
    return LAB_SANDBOX_ESYS;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail(err, err_size, "cannot open a socket to configure the loopback interface: %s",
         strerror(errno));
    return LAB_SANDBOX_ESYS;
  }
  struct ifreq ifr = {0};
  buf_fmt(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  enum lab_sandbox_status st = LAB_SANDBOX_OK;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    fail(err, err_size, "cannot read the loopback interface's flags: %s", strerror(errno));
    st = LAB_SANDBOX_ESYS;
  } else {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
      fail(err, err_size, "cannot bring the loopback interface up: %s", strerror(errno));
      st = LAB_SANDBOX_ESYS;
    }
  }
  close(fd);
  return st;
}

enum lab_sandbox_status lab_sandbox_files_init(struct lab_sandbox_files *f, const char *lab_ca_pem,
                                               char *err, size_t err_size) {
  buf_fmt(f->dir, sizeof f->dir, "/tmp/autodisco-sandbox-XXXXXX");
  if (mkdtemp(f->dir) == NULL) {
    fail(err, err_size, "cannot create a temporary directory under /tmp: %s", strerror(errno));
    f->dir[0] = '\0';
    return LAB_SANDBOX_ESYS;
  }
  if (chmod(f->dir, 0700) != 0) {
    fail(err, err_size, "cannot restrict %s: %s", f->dir, strerror(errno));
    return LAB_SANDBOX_ESYS;
  }
  buf_fmt(f->resolv, sizeof f->resolv, "%s/resolv.conf", f->dir);
  buf_fmt(f->hosts, sizeof f->hosts, "%s/hosts", f->dir);
  buf_fmt(f->bundle, sizeof f->bundle, "%s/ca-certificates.crt", f->dir);
  if (!write_file(f->resolv, sandbox_resolv, strlen(sandbox_resolv), err, err_size) ||
      !write_file(f->hosts, sandbox_hosts, strlen(sandbox_hosts), err, err_size)) {
    return LAB_SANDBOX_ESYS;
  }
  struct buf bundle;
  buf_init(&bundle, SANDBOX_FILE_MAX);
  enum lab_sandbox_status st = LAB_SANDBOX_ESYS;
  bool have_system = access(system_bundle, F_OK) == 0;
  if (have_system && !read_into(&bundle, system_bundle)) {
    fail(err, err_size, "cannot read the system's CA bundle %s: %s", system_bundle,
         strerror(errno));
    goto out;
  }
  if (bundle.len > 0 && bundle.ptr[bundle.len - 1] != '\n' && !buf_append_str(&bundle, "\n")) {
    fail(err, err_size, "the system's CA bundle %s is too large", system_bundle);
    goto out;
  }
  if (!read_into(&bundle, lab_ca_pem)) {
    fail(err, err_size, "cannot read the lab CA certificate %s: %s", lab_ca_pem, strerror(errno));
    goto out;
  }
  if (!write_file(f->bundle, bundle.ptr, bundle.len, err, err_size)) {
    goto out;
  }
  /* The directory is 0700 for writing; the files must stay readable to a CMD that drops
   * privileges, so the directory gets search permission once they are complete. */
  if (chmod(f->dir, 0711) != 0) {
    fail(err, err_size, "cannot open %s for searching: %s", f->dir, strerror(errno));
    goto out;
  }
  if (!bind_over(f->resolv, "/etc/resolv.conf", err, err_size)) {
    goto out;
  }
  f->resolv_mounted = true;
  if (!bind_over(f->hosts, "/etc/hosts", err, err_size)) {
    goto out;
  }
  f->hosts_mounted = true;
  if (have_system) {
    if (!bind_over(f->bundle, system_bundle, err, err_size)) {
      goto out;
    }
    f->bundle_mounted = true;
  }
  static const char *const vars[] = {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                                     "NODE_EXTRA_CA_CERTS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    if (setenv(vars[i], f->bundle, 1) != 0) {
      fail(err, err_size, "cannot set %s: %s", vars[i], strerror(errno));
      goto out;
    }
  }
  st = LAB_SANDBOX_OK;
out:
  buf_cleanup(&bundle);
  return st;
}

enum lab_sandbox_status lab_sandbox_files_cleanup(struct lab_sandbox_files *f, char *err,
                                                  size_t err_size) {
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
    return LAB_SANDBOX_OK;
  }
  unlink(f->resolv);
  unlink(f->hosts);
  unlink(f->bundle);
  if (rmdir(f->dir) != 0) {
    fail(err, err_size, "cannot remove %s: %s", f->dir, strerror(errno));
    return LAB_SANDBOX_ESYS;
  }
  return LAB_SANDBOX_OK;
}
