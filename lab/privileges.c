/* lab/privileges.c: `serve` binds its privileged ports as root, then gives root up for good
 * before the loop reads a byte from a client: no supplementary groups, the user's gid and uid
 * as real, effective and saved ids (setresgid/setresuid, so that nothing can switch back), and a
 * check that root cannot be had again. */
#define _GNU_SOURCE /* setresuid, getresuid */
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum lab_priv_status lab_priv_lookup(struct lab_priv_user *out, const char *name, char *err,
                                     size_t err_size) {
  memset(out, 0, sizeof *out);
  struct passwd *pw = getpwnam(name);
  uint32_t numeric = 0;
  if (pw == NULL && parse_u32(name, 0, UINT32_MAX - 1, &numeric)) {
    pw = getpwuid((uid_t) numeric);
  }
  if (pw == NULL) {
    buf_fmt(err, err_size, "--user %s: no such user", name);
    return LAB_PRIV_EUSER;
  }
  if (pw->pw_uid == 0) {
    buf_fmt(err, err_size,
            "--user %s: that is root; serve gives root up after binding its ports, so name an "
            "unprivileged user (default: nobody)",
            name);
    return LAB_PRIV_EUSER;
  }
  buf_fmt(out->name, sizeof out->name, "%s", pw->pw_name);
  out->uid = pw->pw_uid;
  out->gid = pw->pw_gid;
  return LAB_PRIV_DROPPED;
}

bool lab_priv_can_write_dir(const struct lab_priv_user *u, const char *file_path) {
  char dir[4096];
  const char *slash = strrchr(file_path, '/');
  if (slash == NULL) {
    buf_fmt(dir, sizeof dir, ".");
  } else if (slash == file_path) {
    buf_fmt(dir, sizeof dir, "/");
  } else if (!buf_fmt(dir, sizeof dir, "%.*s", (int) (slash - file_path), file_path)) {
    return false;
  }
  if (setgroups(0, NULL) != 0 || setegid(u->gid) != 0) {
    return false;
  }
  if (seteuid(u->uid) != 0) {
    setegid(0);
    return false;
  }
  bool ok = faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0;
  /* back to root: the saved uid is still 0 */
  if (seteuid(0) != 0 || setegid(0) != 0) {
    return false; /* lab_priv_drop follows and checks the ids itself */
  }
  return ok;
}

static enum lab_priv_status sys_fail(char *err, size_t err_size, const char *what) {
  buf_fmt(err, err_size, "cannot drop root: %s: %s", what, strerror(errno));
  return LAB_PRIV_ESYS;
}

enum lab_priv_status lab_priv_drop(const struct lab_priv_user *u, char *err, size_t err_size) {
  if (getuid() != 0 && geteuid() != 0) {
    return LAB_PRIV_NOT_ROOT;
  }
  /* groups first: once the uid is not 0, setgroups and setresgid are refused */
  if (setgroups(0, NULL) != 0) {
    return sys_fail(err, err_size, "setgroups");
  }
  if (setresgid(u->gid, u->gid, u->gid) != 0) {
    return sys_fail(err, err_size, "setresgid");
  }
  if (setresuid(u->uid, u->uid, u->uid) != 0) {
    return sys_fail(err, err_size, "setresuid");
  }
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
    return sys_fail(err, err_size, "getresuid");
  }
  if (ru != u->uid || eu != u->uid || su != u->uid || rg != u->gid || eg != u->gid ||
      sg != u->gid || getgroups(0, NULL) != 0) {
    buf_fmt(err, err_size, "cannot drop root: the ids did not change to %s's (uid %u, gid %u)",
            u->name, (unsigned) u->uid, (unsigned) u->gid);
    return LAB_PRIV_ESYS;
  }
  if (setuid(0) == 0 || seteuid(0) == 0) {
    buf_fmt(err, err_size, "cannot drop root: it could be regained after becoming %s", u->name);
    return LAB_PRIV_ESYS;
  }
  return LAB_PRIV_DROPPED;
}
