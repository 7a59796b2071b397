/* tests/unit/test_scenario_extends.c: extends: — a scenario built on another one
 * (scenario/scn_extend.c): the merge rules on tests/data/good/extends-*.yaml, chains, loops,
 * bases that are not scenarios, and scenarios loaded from memory. Runs from tests/data. */
#include "tests/unit/test_scenario_fixture.h"

static void check_child(const struct scn *s) {
  assert_string_equal(s->domain, "contoso.com");
  assert_string_equal(s->zone_file, "zones/contoso.zone");
  /* removed: old.contoso.com (both types) and contoso.com AAAA; added: new.contoso.com */
  assert_null(record(s, "old.contoso.com", 1));
  assert_null(record(s, "old.contoso.com", 16));
  const struct scn_record *r = record(s, "contoso.com", 28);
  assert_null(r);
  r = record(s, "www2.contoso.com", 1);
  assert_non_null(r);
  assert_string_equal(r->mark.file, "good/bases/extends-base.yaml");
  assert_int_equal(r->mark.line, 9);
  r = record(s, "new.contoso.com", 1);
  assert_non_null(r);
  assert_string_equal(r->mark.file, "good/extends-child.yaml");
  assert_int_equal(r->mark.line, 10);
  assert_non_null(record(s, "contoso.com", 1)); /* the base's zone file */
  assert_int_equal(s->n_hosts, 2);
  const struct scn_host *www = scn_host_find(s, "www");
  assert_non_null(www);
  assert_int_equal(www->n_names, 2);
  assert_ptr_equal(www->https.cert.profile, ca_profile_named("valid"));
  assert_int_equal(www->https.cert.n_names, 2); /* merged: the base's names stay */
  assert_string_equal(www->https.cert.mark.file, "good/extends-child.yaml");
  assert_int_equal(www->https.delay_ms, 0);
  assert_int_equal(www->https.n_routes, 1);
  assert_string_equal(www->https.routes[0].mark.file, "good/bases/extends-base.yaml");
  assert_false(www->http.present);
  assert_null(scn_host_find(s, "dead"));
  assert_non_null(scn_host_find(s, "extra"));
  assert_int_equal(s->n_clients, 2); /* a list replaces */
  assert_string_equal(s->clients[1].model, "outlook-2016-c2r");
  assert_int_equal(s->n_expects, 2);
  const struct scn_expect *e = expect_for(s, "outlook-2016-msi");
  assert_non_null(e);
  assert_string_equal(e->outcome, "failure");
  assert_true(e->has_prompt_count);
  assert_int_equal(e->prompt_count, 0);
  assert_null(expect_for(s, "mso-xdscli"));
  assert_string_equal(expect_for(s, "outlook-2016-c2r")->outcome, "settings");
}

static void test_extends(void **state) {
  struct scn *s = load_ok("good/extends-child.yaml");
  assert_string_equal(s->name, "extends-child");
  assert_string_equal(s->description, "The base with the certificate renewed.");
  assert_string_equal(s->extends, "good/bases/extends-base.yaml");
  check_child(s);
  assert_int_equal(s->n_rules, 1);
  scn_free(s);

  s = load_ok("good/extends-grandchild.yaml");
  assert_string_equal(s->name, "extends-grandchild");
  assert_string_equal(s->extends, "good/extends-child.yaml");
  check_child(s);
  assert_int_equal(s->n_rules, 1); /* a list replaces */
  assert_string_equal(s->rules[0].name, "slow.contoso.com");
  assert_string_equal(s->rules[0].mark.file, "good/extends-grandchild.yaml");
  scn_free(s);
}

static void expect_error(const char *path, const char *want_suffix) {
  struct scn *s = NULL;
  char err[1024] = "";
  enum scn_status st = scn_load(&s, path, err, sizeof err);
  assert_null(s);
  assert_int_equal(st, SCN_ESCHEMA);
  size_t n = strlen(err), w = strlen(want_suffix);
  if (n < w || strcmp(err + n - w, want_suffix) != 0) {
    fail_msg("got \"%s\", expected it to end in \"%s\"", err, want_suffix);
  }
}

static void test_extends_edges(void **state) {
  char *dir = test_tmpdir("model-extends");
  char path[4096];
  /* a file extending itself */
  write_file(dir, "self.yaml", "name: a\ndescription: d\ndomain: c.com\nextends: self.yaml\n");
  assert_true(buf_fmt(path, sizeof path, "%s/self.yaml", dir));
  char want[8192];
  assert_true(buf_fmt(want, sizeof want,
                      "self.yaml:4:10: extends loop: %s/self.yaml extends %s/self.yaml", dir, dir));
  expect_error(path, want);
  /* the base is not a mapping; an empty base */
  write_file(dir, "list.yaml", "- a\n- b\n");
  write_file(dir, "empty.yaml", "# nothing\n");
  write_file(dir, "l.yaml", "name: a\ndescription: d\ndomain: c.com\nextends: list.yaml\n");
  write_file(dir, "e.yaml", "name: a\ndescription: d\ndomain: c.com\nextends: empty.yaml\n");
  assert_true(buf_fmt(path, sizeof path, "%s/l.yaml", dir));
  expect_error(path, "list.yaml:1:1: the base scenario is a sequence, not a mapping");
  assert_true(buf_fmt(path, sizeof path, "%s/e.yaml", dir));
  expect_error(path, "empty.yaml:1:1: the base scenario is empty, not a mapping");
  /* a duplicate key in the extending file is still one */
  write_file(dir, "b.yaml", "name: b\ndescription: d\ndomain: c.com\n");
  write_file(dir, "dup.yaml", "extends: b.yaml\nhosts:\n  x: {}\n  x: {}\n");
  assert_true(buf_fmt(path, sizeof path, "%s/dup.yaml", dir));
  expect_error(path, "dup.yaml:4:3: duplicate key \"x\" in hosts (first at line 3)");
  /* a base that is a directory, not a file */
  write_file(dir, "d.yaml", "extends: .\n");
  assert_true(buf_fmt(path, sizeof path, "%s/d.yaml", dir));
  assert_true(buf_fmt(want, sizeof want,
                      "d.yaml:1:10: extends: cannot read \"%s\": not a regular file", dir));
  expect_error(path, want);
  /* everything from the base: the extending file only names it */
  write_file(dir, "only.yaml", "extends: b.yaml\nname: only\n");
  assert_true(buf_fmt(path, sizeof path, "%s/only.yaml", dir));
  struct scn *s = load_ok(path);
  assert_string_equal(s->name, "only");
  assert_string_equal(s->description, "d");
  scn_free(s);
  /* add_records onto a base without records; a null removing what the base lacks */
  write_file(dir, "add.yaml",
             "extends: b.yaml\nemail: ~\ndns:\n  add_records: [ { name: c.com, type: A, address: "
             "127.0.0.1 } ]\n");
  assert_true(buf_fmt(path, sizeof path, "%s/add.yaml", dir));
  s = load_ok(path);
  assert_int_equal(s->n_records, 1);
  assert_int_equal(s->records[0].mark.line, 4);
  assert_string_equal(s->email, "user@c.com");
  scn_free(s);
  test_rmtree(dir);
  free(dir);
}

/* extends from a scenario loaded from memory: relative to its path's folder */
static void test_extends_string(void **state) {
  struct scn *s = load_text_ok("good/inline.yaml", "extends: extends-child.yaml\nname: inline\n");
  assert_string_equal(s->extends, "good/extends-child.yaml");
  check_child(s);
  scn_free(s);
  s = load_text_ok("inline.yaml", "extends: good/everything.yaml\nname: inline\n");
  assert_string_equal(s->extends, "good/everything.yaml");
  assert_string_equal(s->domain, "contoso.com");
  scn_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_extends),
      cmocka_unit_test(test_extends_edges),
      cmocka_unit_test(test_extends_string),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
