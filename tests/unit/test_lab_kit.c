/* tests/unit/test_lab_kit.c: the Windows lab kit's settings — models, --set, --dns, a
 * scenario's clients: entry — and the shape of the files it renders (line ends, encodings,
 * no template markers left, the same bytes every time). The texts themselves are compared
 * with golden files by tests/integration/test_kit.py. */
#include "client/sim.h"
#include "lab/kit.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char scenario[] = "name: kit\n"
                               "description: the kit's scenario\n"
                               "domain: contoso.com\n"
                               "dns:\n"
                               "  records:\n"
                               "    - { name: contoso.com, type: A, host: www }\n"
                               "hosts:\n"
                               "  www:\n"
                               "    https:\n"
                               "      certificate: { profile: valid }\n"
                               "      routes: [ { path: /, status: 200, body: hi } ]\n"
                               "clients:\n"
                               "  - model: outlook-2013\n"
                               "    exclude_srv_record: true\n"
                               "    exclude_explicit_o365_endpoint: true\n"
                               "    redirect_servers: [hoster.net, mail.hoster.net]\n"
                               "  - model: outlook-2016-msi\n"
                               "    exclude_https_root_domain: true\n";

static struct scn *load(void) {
  struct scn *s = NULL;
  char err[512] = "";
  if (scn_load_string(&s, "kit.yaml", scenario, sizeof scenario - 1, err, sizeof err) != SCN_OK) {
    fail_msg("%s", err);
  }
  return s;
}

static char *render(struct kit *k, enum kit_file f, size_t *out_len) {
  struct buf b;
  buf_init(&b, 8u << 20);
  assert_int_equal(kit_render(k, f, &b), KIT_OK);
  *out_len = b.len;
  return buf_take(&b);
}

static void test_models(void **state) {
  struct kit *k = NULL;
  assert_int_equal(kit_new(&k, "mso-xdscli", NULL, 0), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "outlook-2013"));
  assert_non_null(strstr(kit_detail(k), "outlook-m365"));
  kit_free(k);
  assert_int_equal(kit_new(&k, "outlook-2016-c2r", NULL, 0), KIT_OK);
  assert_string_equal(kit_file_name(k, KIT_REG), "autodiscover-outlook-2016-c2r.reg");
  assert_null(kit_file_name(k, KIT_LOCAL_XML));
  kit_free(k);
  assert_true(kit_knows_model("outlook-2007", NULL, 0));
  assert_false(kit_knows_model("outlook-2019", NULL, 0));
  assert_false(kit_knows_model(NULL, NULL, 0));
}

static void test_set(void **state) {
  struct kit *k = NULL;
  assert_int_equal(kit_new(&k, "outlook-2016-msi", NULL, 0), KIT_OK);
  assert_int_equal(kit_set(k, "excludehttpsrootdomain=1"), KIT_OK); /* as the registry: any case */
  assert_int_equal(kit_set(k, "ExcludeLastKnownGoodUrl=0"), KIT_OK);
  assert_int_equal(kit_set(k, "ExcludeHttpsRootDomain=2"), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "0 (method on) or 1 (off)"));
  assert_int_equal(kit_set(k, "ExcludeHttpsRootDomain"), KIT_EINPUT);
  assert_int_equal(kit_set(k, "=1"), KIT_EINPUT);
  assert_int_equal(kit_set(k, "ExcludeTheMoon=1"), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "unknown registry value \"ExcludeTheMoon\""));
  assert_non_null(strstr(kit_detail(k), kit_value_names()));
  assert_int_equal(kit_set(k, "RedirectServers=a.net,,b.net"), KIT_EINPUT);
  assert_int_equal(kit_set(k, "RedirectServers=a.net,b.net'; rm -rf /"), KIT_EINPUT);
  assert_int_equal(kit_set(k, "RedirectServers=hoster.net,Hoster.NET,mail.hoster.net"), KIT_OK);
  assert_int_equal(kit_set(k, "RedirectServers="), KIT_OK); /* none */
  kit_free(k);

  /* Outlook 2013 reads no ExcludeExplicitO365Endpoint: a --set of it is refused. */
  assert_int_equal(kit_new(&k, "outlook-2013", NULL, 0), KIT_OK);
  assert_int_equal(kit_set(k, "ExcludeExplicitO365Endpoint=1"), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "Office 16.0 and later"));
  kit_free(k);
}

static void test_value_names_match_the_table(void **state) {
  /* Every name kit_set takes is listed, and each listed name is taken. */
  char *names = str_dup(kit_value_names());
  struct kit *k = NULL;
  assert_int_equal(kit_new(&k, "outlook-m365", NULL, 0), KIT_OK);
  size_t n = 0;
  for (char *p = strtok(names, ", "); p != NULL; p = strtok(NULL, ", ")) {
    char assignment[128];
    assert_true(buf_fmt(assignment, sizeof assignment, "%s=%s", p,
                        strcmp(p, "RedirectServers") == 0 ? "a.net" : "1"));
    assert_int_equal(kit_set(k, assignment), KIT_OK);
    n++;
  }
  assert_int_equal(n, 9);
  kit_free(k);
  free(names);
  /* they are the settings table's registry rows, the client models' own names */
  for (size_t i = 0; scn_setting_at(i) != NULL; i++) {
    const struct scn_setting *row = scn_setting_at(i);
    bool written = row->kind == SCN_SETTING_REGISTRY &&
                   (row->type == SCN_SETTING_BOOL || row->type == SCN_SETTING_HOSTS);
    assert_int_equal(strstr(kit_value_names(), row->name) != NULL, written);
  }
  /* what is not a registry value is no business of the kit's --set, old names neither */
  assert_int_equal(kit_new(&k, "outlook-m365", NULL, 0), KIT_OK);
  assert_int_equal(kit_set(k, "domain_joined=1"), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "unknown registry value \"domain_joined\""));
  assert_int_equal(kit_set(k, "exclude_https_root_domain=1"), KIT_EINPUT);
  kit_free(k);
}

static void test_dns(void **state) {
  struct kit *k = NULL;
  assert_int_equal(kit_new(&k, "outlook-2016-msi", NULL, 0), KIT_OK);
  assert_int_equal(kit_set_dns(k, "192.168.56.10"), KIT_OK);
  assert_int_equal(kit_set_dns(k, "fd00:0::10"), KIT_OK);
  assert_int_equal(kit_set_dns(k, "192.168.56.10:53"), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "port 53"));
  assert_int_equal(kit_set_dns(k, "lab.example"), KIT_EINPUT);
  assert_int_equal(kit_set_dns(k, "192.168.56.300"), KIT_EINPUT);
  kit_free(k);
}

struct rendered {
  char *dir;
  struct ca *ca;
};

static int setup(void **state) {
  struct rendered *r = calloc(1, sizeof *r);
  r->dir = test_tmpdir("autodisco-kit");
  if (ca_open(&r->ca, r->dir, true) != CA_OK) {
    return -1;
  }
  *state = r;
  return 0;
}

static int teardown(void **state) {
  struct rendered *r = *state;
  ca_free(r->ca);
  test_rmtree(r->dir);
  free(r->dir);
  free(r);
  return 0;
}

static bool contains(const char *text, size_t len, const char *what) {
  size_t n = strlen(what);
  for (size_t i = 0; i + n <= len; i++) {
    if (memcmp(text + i, what, n) == 0) {
      return true;
    }
  }
  return false;
}

/* write_model writes a --client-file model into the fixture's folder and loads it. */
static struct sim_model *write_model(const struct rendered *r, const char *yaml) {
  char path[512];
  buf_fmt(path, sizeof path, "%s/model.yaml", r->dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(yaml, f);
  fclose(f);
  char err[512] = "";
  struct sim_model *m = sim_model_load(path, err, sizeof err);
  if (m == NULL) {
    fail_msg("%s", err);
  }
  return m;
}

/* A model of the user's own (--client-file) gets a kit when it reads an Office registry: its
 * settings are the kit's, and it is named as the user's own. */
static void test_own_model(void **state) {
  struct rendered *r = *state;
  struct sim_model *m = write_model(r, "name: my-outlook\n"
                                       "base: outlook-2016-msi\n"
                                       "settings:\n"
                                       "  ExcludeHttpsRootDomain: 1\n");
  const struct sim_model *own[] = {m};
  struct kit *k = NULL;
  assert_true(kit_knows_model("my-outlook", own, 1));
  assert_false(kit_knows_model("my-outlook", NULL, 0));
  assert_int_equal(kit_new(&k, "my-outlook", own, 1), KIT_OK);
  assert_string_equal(kit_file_name(k, KIT_REG), "autodiscover-my-outlook.reg");
  assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
  size_t len = 0;
  char *ps1 = render(k, KIT_INSTALL_PS1, &len);
  assert_true(contains(ps1, len, "  OfficeVersion   = '16.0'\r\n"));
  assert_true(contains(ps1, len, "  ExcludeHttpsRootDomain         = 1\r\n"));
  assert_true(contains(ps1, len, "# Client model my-outlook: a model of your own, Office 16.0."));
  free(ps1);
  kit_free(k);
  sim_model_free(m);

  /* no Office registry: no kit, and the message says what to add */
  m = write_model(r, "name: no-registry\nsteps: [https-root]\n");
  own[0] = m;
  assert_int_equal(kit_new(&k, "no-registry", own, 1), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "your model reads no Office registry"));
  kit_free(k);
  sim_model_free(m);
}

/* A scenario's entry for the model sets the values; --set overrides them; a value the Office
 * version does not read is not written. */
static void test_scenario_settings(void **state) {
  struct rendered *r = *state;
  struct scn *s = load();
  struct kit *k = NULL;
  assert_int_equal(kit_new(&k, "outlook-2013", NULL, 0), KIT_OK);
  assert_int_equal(kit_use_scenario(k, s), KIT_OK);
  assert_int_equal(kit_set(k, "ExcludeScpLookup=1"), KIT_OK);
  assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
  size_t len = 0;
  char *ps1 = render(k, KIT_INSTALL_PS1, &len);
  assert_true(contains(ps1, len, "  OfficeVersion   = '15.0'\r\n"));
  assert_true(contains(ps1, len, "  ExcludeSrvRecord               = 1\r\n"));
  assert_true(contains(ps1, len, "  ExcludeScpLookup               = 1\r\n"));
  assert_true(contains(ps1, len, "  ExcludeHttpsRootDomain         = 0\r\n"));
  assert_false(contains(ps1, len, "ExcludeExplicitO365Endpoint    ="));
  assert_true(contains(ps1, len,
                       "$RedirectServers = @(\r\n  'hoster.net'\r\n  "
                       "'mail.hoster.net'\r\n)\r\n"));
  assert_true(contains(ps1, len, "  Domain          = 'contoso.com'\r\n"));
  assert_true(contains(ps1, len, "  LabDns          = ''\r\n"));
  free(ps1);
  kit_free(k);

  /* The scenario's entry for another model changes nothing here. */
  assert_int_equal(kit_new(&k, "outlook-m365", NULL, 0), KIT_OK);
  assert_int_equal(kit_use_scenario(k, s), KIT_OK);
  assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
  char *readme = render(k, KIT_README, &len);
  assert_true(contains(readme, len, "the scenario has no clients: entry for outlook-m365"));
  assert_true(contains(readme, len, "  ExcludeHttpsRootDomain         0\r\n"));
  free(readme);
  kit_free(k);
  scn_free(s);
}

/* README.txt's serve command is one serve accepts (docs/commands.md): the hosts on an IPv4
 * --listen address (serve refuses IPv6 there), the DNS on the kit's address, --user; and its
 * check command names the kit's client model (outlook-m365 included). */
static void test_readme_commands(void **state) {
  struct rendered *r = *state;
  struct kit *k = NULL;
  size_t len = 0;
  assert_int_equal(kit_new(&k, "outlook-2016-msi", NULL, 0), KIT_OK);
  assert_int_equal(kit_set_dns(k, "192.168.56.10"), KIT_OK);
  assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
  char *readme = render(k, KIT_README, &len);
  assert_true(contains(readme, len, "--listen 192.168.56.10 --dns 192.168.56.10:53 --user $USER"));
  assert_true(contains(readme, len, "--journal lab.jsonl --client outlook-2016-msi\r\n"));
  free(readme);
  kit_free(k);

  assert_int_equal(kit_new(&k, "outlook-m365", NULL, 0), KIT_OK);
  assert_int_equal(kit_set_dns(k, "fd00::10"), KIT_OK);
  assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
  readme = render(k, KIT_README, &len);
  assert_false(contains(readme, len, "--listen fd00"));
  assert_true(contains(readme, len, "--listen LAB-IPV4 --dns [fd00::10]:53 --user $USER"));
  assert_true(contains(readme, len, "--journal lab.jsonl --client outlook-m365\r\n"));
  free(readme);
  kit_free(k);
}

static void test_files_are_windows_text(void **state) {
  struct rendered *r = *state;
  struct kit *k = NULL;
  assert_int_equal(kit_new(&k, "outlook-2016-msi", NULL, 0), KIT_OK);
  assert_int_equal(kit_set_dns(k, "192.168.56.10"), KIT_OK);
  assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
  enum kit_file crlf_files[] = {KIT_INSTALL_PS1, KIT_UNINSTALL_PS1, KIT_README};
  for (size_t f = 0; f < sizeof crlf_files / sizeof crlf_files[0]; f++) {
    size_t len = 0;
    char *text = render(k, crlf_files[f], &len);
    for (size_t i = 0; i < len; i++) {
      unsigned char ch = (unsigned char) text[i];
      assert_true(ch < 0x80); /* Windows PowerShell 5.1 reads a file without a BOM as ANSI */
      if (ch == '\n') {
        assert_true(i > 0 && text[i - 1] == '\r');
      }
    }
    assert_false(contains(text, len, "@KIT_"));
    assert_false(contains(text, len, "(null)"));
    free(text);
  }
  size_t len = 0;
  char *reg = render(k, KIT_REG, &len);
  assert_true(len > 4 && len % 2 == 0);
  assert_memory_equal(reg, "\xff\xfeW\0i\0n\0", 8);
  for (size_t i = 2; i < len; i += 2) {
    assert_int_equal(reg[i + 1], 0);
    if (reg[i] == '\n') {
      assert_int_equal(reg[i - 2], '\r');
    }
  }
  free(reg);
  char *sh = render(k, KIT_CA_INSTALL_LINUX, &len);
  assert_false(contains(sh, len, "\r"));
  assert_memory_equal(sh, "#!/bin/sh\n", 10);
  free(sh);
  kit_free(k);
}

/* The same kit renders the same bytes: nothing depends on the time or the machine. */
static void test_render_is_stable(void **state) {
  struct rendered *r = *state;
  for (int f = 0; f < KIT_N_FILES; f++) {
    if (f == KIT_LOCAL_XML) {
      continue;
    }
    char *text[2];
    size_t len[2];
    for (int i = 0; i < 2; i++) {
      struct kit *k = NULL;
      assert_int_equal(kit_new(&k, "outlook-2016-msi", NULL, 0), KIT_OK);
      assert_int_equal(kit_set(k, "ExcludeExplicitO365Endpoint=1"), KIT_OK);
      assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
      text[i] = render(k, (enum kit_file) f, &len[i]);
      kit_free(k);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(text[0], text[1], len[0]);
    free(text[0]);
    free(text[1]);
  }
}

static void test_write_refuses_an_installed_kit(void **state) {
  struct rendered *r = *state;
  char dir[4096];
  char path[4200];
  assert_true(buf_fmt(dir, sizeof dir, "%s/kit", r->dir));
  struct kit *k = NULL;
  assert_int_equal(kit_new(&k, "outlook-2016-msi", NULL, 0), KIT_OK);
  assert_int_equal(kit_set_ca(k, r->ca), KIT_OK);
  assert_int_equal(kit_write(k, dir), KIT_OK);
  struct stat st;
  assert_true(buf_fmt(path, sizeof path, "%s/ca-install-linux.sh", dir));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0755);
  assert_true(buf_fmt(path, sizeof path, "%s/install.ps1", dir));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);
  assert_int_equal(kit_write(k, dir), KIT_OK); /* again: the same files, rewritten */
  assert_true(buf_fmt(path, sizeof path, "%s/autodisco-kit-state.json", dir));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(kit_write(k, dir), KIT_EINPUT);
  assert_non_null(strstr(kit_detail(k), "uninstall.ps1"));
  assert_true(buf_fmt(path, sizeof path, "%s/install.ps1/x", dir));
  assert_int_equal(kit_write(k, path), KIT_EIO);
  kit_free(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_models),
      cmocka_unit_test_setup_teardown(test_own_model, setup, teardown),
      cmocka_unit_test(test_set),
      cmocka_unit_test(test_value_names_match_the_table),
      cmocka_unit_test(test_dns),
      cmocka_unit_test_setup_teardown(test_scenario_settings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_readme_commands, setup, teardown),
      cmocka_unit_test_setup_teardown(test_files_are_windows_text, setup, teardown),
      cmocka_unit_test_setup_teardown(test_render_is_stable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_refuses_an_installed_kit, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
