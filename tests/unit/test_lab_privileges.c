/* tests/unit/test_lab_privileges.c: giving root up for serve — the user looked up (or refused:
 * unknown, or root itself), and in a child process the drop itself: the ids, no supplementary
 * groups, no capabilities, no way back to root, files opened before still writable, the
 * folder check of --har. Needs root for the drop; without it those tests are skipped. */
#include "lab/lab.h"
#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_lookup(void **state) {
  (void) state;
  struct lab_priv_user u;
  char err[256] = "";
  assert_int_equal(lab_priv_lookup(&u, "nobody", err, sizeof err), LAB_PRIV_DROPPED);
  assert_string_equal(u.name, "nobody");
  assert_int_not_equal(u.uid, 0);
  char numeric[32];
  buf_fmt(numeric, sizeof numeric, "%u", (unsigned) u.uid);
  struct lab_priv_user by_number;
  assert_int_equal(lab_priv_lookup(&by_number, numeric, err, sizeof err), LAB_PRIV_DROPPED);
  assert_string_equal(by_number.name, "nobody");

  assert_int_equal(lab_priv_lookup(&u, "no-such-user-autodisco", err, sizeof err), LAB_PRIV_EUSER);
  assert_string_equal(err, "--user no-such-user-autodisco: no such user");
  assert_int_equal(lab_priv_lookup(&u, "root", err, sizeof err), LAB_PRIV_EUSER);
  assert_non_null(strstr(err, "--user root: that is root"));
  assert_int_equal(lab_priv_lookup(&u, "0", err, sizeof err), LAB_PRIV_EUSER);
}

/* status_field returns the value of a line of /proc/self/status ("Uid", "CapEff", ...). */
static void status_field(const char *name, char *out, size_t out_size) {
  FILE *f = fopen("/proc/self/status", "r");
  assert_non_null(f);
  char line[512];
  size_t len = strlen(name);
  out[0] = '\0';
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') {
      const char *v = line + len + 1;
      v += strspn(v, " \t");
      buf_fmt(out, out_size, "%.*s", (int) strcspn(v, "\n"), v);
    }
  }
  fclose(f);
}

/* child_drops runs in a forked child: returns the exit status (0: every check held). */
static int child_drops(const char *tmp) {
  struct lab_priv_user u;
  char err[256];
  if (lab_priv_lookup(&u, "nobody", err, sizeof err) != LAB_PRIV_DROPPED) {
    return 10;
  }
  char path[512];
  buf_fmt(path, sizeof path, "%s/opened-before", tmp);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    return 11;
  }
  /* tmp is root's 0700 folder: nobody cannot create files there, but root can */
  buf_fmt(path, sizeof path, "%s/x.har", tmp);
  if (lab_priv_can_write_dir(&u, path)) {
    return 12;
  }
  chmod(tmp, 0777);
  if (!lab_priv_can_write_dir(&u, path)) {
    return 13;
  }
  chmod(tmp, 0700);
  if (getuid() != 0 || geteuid() != 0) { /* the check switched back */
    return 14;
  }
  if (lab_priv_drop(&u, err, sizeof err) != LAB_PRIV_DROPPED) {
    fprintf(stderr, "%s\n", err);
    return 15;
  }
  char want[128], got[128];
  buf_fmt(want, sizeof want, "%u\t%u\t%u\t%u", (unsigned) u.uid, (unsigned) u.uid, (unsigned) u.uid,
          (unsigned) u.uid);
  status_field("Uid", got, sizeof got);
  if (strcmp(got, want) != 0) {
    return 16;
  }
  buf_fmt(want, sizeof want, "%u\t%u\t%u\t%u", (unsigned) u.gid, (unsigned) u.gid, (unsigned) u.gid,
          (unsigned) u.gid);
  status_field("Gid", got, sizeof got);
  if (strcmp(got, want) != 0) {
    return 17;
  }
  status_field("Groups", got, sizeof got);
  if (got[0] != '\0') {
    return 18;
  }
  status_field("CapEff", got, sizeof got);
  if (strcmp(got, "0000000000000000") != 0) {
    return 19;
  }
  if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
    return 20;
  }
  if (write(fd, "still mine\n", 11) != 11) { /* opened before: still usable */
    return 21;
  }
  close(fd);
  buf_fmt(path, sizeof path, "%s/made-after", tmp);
  if (open(path, O_WRONLY | O_CREAT, 0600) >= 0) { /* root's folder: no longer ours */
    return 22;
  }
  /* once dropped, there is nothing left to drop */
  if (lab_priv_drop(&u, err, sizeof err) != LAB_PRIV_NOT_ROOT) {
    return 23;
  }
  return 0;
}

static void test_drop_in_a_child(void **state) {
  (void) state;
  if (geteuid() != 0) {
    skip(); /* needs root; this machine and CI are root */
  }
  char *tmp = test_tmpdir("autodisco-priv-");
  chmod(tmp, 0700);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    _exit(child_drops(tmp));
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  char path[512];
  buf_fmt(path, sizeof path, "%s/opened-before", tmp);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[32] = "";
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  assert_string_equal(line, "still mine\n");
  test_rmtree(tmp);
  free(tmp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_drop_in_a_child),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
