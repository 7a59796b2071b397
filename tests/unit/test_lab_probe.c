/* tests/unit/test_lab_probe.c: the probe's inputs (lab/probe.c) — an address or a domain with
 * its placeholder local part, the password file and the modes it refuses, what lab_probe_run
 * refuses before it sends anything, and what counts as clean. */
#include "lab/probe.h"
#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void target_is(const char *arg, const char *want, bool placeholder) {
  char err[256] = "";
  bool ph = !placeholder;
  char *email = lab_probe_target(arg, &ph, err, sizeof err);
  assert_non_null(email);
  assert_string_equal(email, want);
  assert_int_equal(ph, placeholder);
  assert_string_equal(err, "");
  free(email);
}

static void target_fails(const char *arg, const char *sentence) {
  char err[256] = "";
  bool ph = true;
  assert_null(lab_probe_target(arg, &ph, err, sizeof err));
  assert_false(ph);
  assert_string_equal(err, sentence);
}

static void test_target(void **state) {
  target_is("alice@contoso.com", "alice@contoso.com", false);
  target_is("Contoso.COM", LAB_PROBE_LOCAL_PART "@contoso.com", true);
  target_is("contoso.com.", LAB_PROBE_LOCAL_PART "@contoso.com", true);
  target_is("xn--bcher-kva.example", LAB_PROBE_LOCAL_PART "@xn--bcher-kva.example", true);
  target_fails("", "probe needs an e-mail address or a domain");
  target_fails("@contoso.com", "\"@contoso.com\" is not an e-mail address (local-part@domain)");
  target_fails("alice@", "\"alice@\" is not an e-mail address (local-part@domain)");
  target_fails("alice@-x.com", "\"alice@-x.com\" is not an e-mail address (local-part@domain)");
  target_fails("contoso..com", "\"contoso..com\" is neither an e-mail address nor a domain name "
                               "(letters, digits, hyphens and dots)");
  target_fails("https://contoso.com/", "\"https://contoso.com/\" is neither an e-mail address "
                                       "nor a domain name (letters, digits, hyphens and dots)");
  char label[80];
  memset(label, 'a', 64);
  memcpy(label + 64, ".com", 5);
  char err[256];
  bool ph;
  assert_null(lab_probe_target(label, &ph, err, sizeof err)); /* a 64-byte label */
  assert_int_equal(lab_probe_default_client(0) != NULL, true);
  assert_string_equal(lab_probe_default_client(0), "outlook-2016-msi");
  assert_string_equal(lab_probe_default_client(1), "mso-xdscli");
  assert_null(lab_probe_default_client(2));
}

/* write_file writes `text` to dir/name with `mode` and returns the path (caller frees). */
static char *write_file(const char *dir, const char *name, const char *text, mode_t mode) {
  size_t size = strlen(dir) + strlen(name) + 2;
  char *path = malloc(size);
  assert_true(buf_fmt(path, size, "%s/%s", dir, name));
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
  close(fd);
  assert_int_equal(chmod(path, mode), 0);
  return path;
}

static void password_fails(const char *dir, const char *text, mode_t mode, const char *part) {
  char *path = write_file(dir, "pw", text, mode);
  char out[64] = "untouched";
  char err[512] = "";
  assert_int_equal(lab_probe_read_password(path, out, sizeof out, err, sizeof err), -1);
  assert_non_null(strstr(err, part));
  assert_non_null(strstr(err, path));
  assert_string_equal(out, "untouched");
  unlink(path);
  free(path);
}

static void test_password_file(void **state) {
  char *dir = test_tmpdir("probe-pw");
  char *path = write_file(dir, "ok", "s3cret pw\r\nsecond line\n", 0600);
  char out[64];
  char err[512] = "";
  assert_int_equal(lab_probe_read_password(path, out, sizeof out, err, sizeof err), 0);
  assert_string_equal(out, "s3cret pw");
  assert_int_equal(chmod(path, 0640), 0); /* the group may read it: allowed */
  assert_int_equal(lab_probe_read_password(path, out, sizeof out, err, sizeof err), 0);
  unlink(path);
  free(path);
  path = write_file(dir, "nonl", "no newline", 0400);
  assert_int_equal(lab_probe_read_password(path, out, sizeof out, err, sizeof err), 0);
  assert_string_equal(out, "no newline");
  unlink(path);
  free(path);
  password_fails(dir, "s3cret\n", 0644, "others may read or change it (mode 644)");
  password_fails(dir, "s3cret\n", 0602, "others may read or change it (mode 602)");
  password_fails(dir, "\nsecond\n", 0600, "the first line is empty");
  password_fails(dir, "", 0600, "the first line is empty");
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  password_fails(dir, big, 0600, "over 1022 bytes");
  big[100] = '\n';
  password_fails(dir, big, 0600, "the password is over 63 bytes"); /* out holds 64 */
  char missing[600];
  buf_fmt(missing, sizeof missing, "%s/missing", dir);
  assert_int_equal(lab_probe_read_password(missing, out, sizeof out, err, sizeof err), -1);
  assert_non_null(strstr(err, "No such file or directory"));
  assert_int_equal(lab_probe_read_password(dir, out, sizeof out, err, sizeof err), -1);
  assert_non_null(strstr(err, "not a regular file"));
  test_rmtree(dir);
  free(dir);
}

static void run_fails(struct lab_probe_options *o, const char *part) {
  struct lab_probe *p = (struct lab_probe *) o; /* must become NULL */
  char err[1024] = "";
  assert_int_equal(lab_probe_run(o, &p, err, sizeof err), -1);
  assert_null(p);
  if (strstr(err, part) == NULL) {
    fail_msg("\"%s\" does not say \"%s\"", err, part);
  }
}

static void test_run_refuses_before_sending(void **state) {
  static const char *const unknown[] = {"outlook-1997"};
  run_fails(&(struct lab_probe_options){.target = "not a domain"}, "neither an e-mail address");
  run_fails(
      &(struct lab_probe_options){.target = "contoso.com", .clients = unknown, .n_clients = 1},
      "unknown client model \"outlook-1997\" (known: mso-xdscli, ");
  run_fails(&(struct lab_probe_options){.target = "contoso.com", .dns = "127.0.0.1:99999"},
            "--dns 127.0.0.1:99999: expected ADDR:PORT");
  run_fails(&(struct lab_probe_options){.target = "contoso.com", .dns = "dns.example"},
            "--dns dns.example: expected ADDR:PORT");
  run_fails(&(struct lab_probe_options){.target = "contoso.com", .username = "bob"},
            "credentials need both a user name and a password");
  run_fails(&(struct lab_probe_options){.target = "contoso.com",
                                        .dns = "127.0.0.1:9",
                                        .trust_pem = "/nowhere/ca.pem"},
            "cannot read the trust store /nowhere/ca.pem");
  setenv("SSL_CERT_FILE", "/nowhere/system.pem", 1);
  run_fails(&(struct lab_probe_options){.target = "contoso.com", .dns = "[::1]:9"},
            "cannot read the trust store /nowhere/system.pem");
  unsetenv("SSL_CERT_FILE");
}

static void test_clean(void **state) {
  struct sim_prompt prompt = {.kind = SIM_PROMPT_REDIRECT};
  struct sim_transcript t = {.success = true};
  assert_true(lab_probe_clean(&t));
  t.prompts = &prompt;
  t.n_prompts = 1;
  assert_false(lab_probe_clean(&t)); /* settings, but after a dialog */
  t.n_prompts = 0;
  t.success = false;
  assert_false(lab_probe_clean(&t));
  assert_false(lab_probe_clean(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_target),
      cmocka_unit_test(test_password_file),
      cmocka_unit_test(test_run_refuses_before_sending),
      cmocka_unit_test(test_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
