/* tests/unit/test_journal_jnl.c: the journal writes one valid JSON object per line, escapes
 * what needs escaping, never writes a credential, survives oversized events, and appends to its
 * file or says why it cannot. */
#include "journal/jnl.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *journal_text(void (*write)(struct jnl *)) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  assert_non_null(mem);
  struct jnl *j = jnl_open_stream(mem);
  write(j);
  jnl_close(j);
  fclose(mem);
  char *copy = str_dup(text); /* memstream's buffer no longer tied to a local's address */
  free(text);
  return copy;
}

static void write_alert(struct jnl *j) {
  struct jnl_event ev;
  jnl_begin(&ev, j, "tls.alert");
  jnl_str(&ev, "host", "contoso.com");
  jnl_str(&ev, "alert", "certificate expired");
  jnl_end(&ev);
}

static void test_event_is_one_line_with_time_and_name(void **state) {
  char *text = journal_text(write_alert);
  assert_non_null(strstr(text, "\"ev\":\"tls.alert\",\"host\":\"contoso.com\","
                               "\"alert\":\"certificate expired\"}\n"));
  assert_int_equal(strncmp(text, "{\"t\":\"", 6), 0);
  /* 2026-01-05T10:00:00.123456Z: 27 characters */
  const char *t = text + 6;
  assert_int_equal(t[4], '-');
  assert_int_equal(t[10], 'T');
  assert_int_equal(t[19], '.');
  assert_int_equal(t[26], 'Z');
  assert_int_equal(t[27], '"');
  size_t n_lines = 0;
  for (const char *p = text; *p != 0; p++) {
    n_lines += *p == '\n';
  }
  assert_int_equal(n_lines, 1);
  free(text);
}

static void write_hostile(struct jnl *j) {
  struct jnl_event ev;
  jnl_begin(&ev, j, "http.request");
  static const uint8_t path[] = {'/', '"', '\\', '\n', 0x01, 0xff, 'x', 0xc3, 0xa9};
  jnl_strn(&ev, "path", (struct slice){path, sizeof path});
  jnl_end(&ev);
}

static void test_escapes_quotes_controls_and_bad_utf8(void **state) {
  char *text = journal_text(write_hostile);
  assert_non_null(strstr(text, "\"path\":\"/\\\"\\\\\\n\\u0001\\ufffdx\xc3\xa9\"}"));
  free(text);
}

/* Strings are tested eight bytes at a time, shorter ones and tails as overlapping words: every
 * byte value, at every position of a string of every length from 1 to 17, is escaped exactly as
 * it is alone — and alone, a byte other than the printable ASCII ones (quote and backslash
 * aside) is never copied as it is. */
static void test_escape_is_the_same_in_strings_of_every_length(void **state) {
  struct buf alone, inside, want;
  buf_init(&alone, 64);
  buf_init(&inside, 256);
  buf_init(&want, 256);
  for (unsigned v = 0; v < 256; v++) {
    uint8_t byte = (uint8_t) v;
    buf_reset(&alone);
    assert_true(jnl_escape(&alone, (struct slice){&byte, 1}));
    struct slice esc = {alone.ptr + 1, alone.len - 2}; /* without its quotes */
    bool printable = v >= 0x20 && v < 0x7f && v != '"' && v != '\\';
    assert_int_equal(esc.len == 1 && esc.ptr[0] == byte, printable);
    for (size_t len = 1; len <= 17; len++) {
      for (size_t at = 0; at < len; at++) {
        uint8_t s[17];
        memset(s, 'a', sizeof s);
        s[at] = byte;
        buf_reset(&inside);
        assert_true(jnl_escape(&inside, (struct slice){s, len}));
        buf_reset(&want);
        buf_append_str(&want, "\"");
        buf_append(&want, (struct slice){s, at});
        buf_append(&want, esc);
        buf_append(&want, (struct slice){s + at + 1, len - at - 1});
        buf_append_str(&want, "\"");
        assert_string_equal(buf_cstr(&inside), buf_cstr(&want));
      }
    }
  }
  buf_cleanup(&alone);
  buf_cleanup(&inside);
  buf_cleanup(&want);
}

static void write_secret(struct jnl *j) {
  struct jnl_event ev;
  jnl_begin(&ev, j, "http.request");
  jnl_secret(&ev, "authorization", slice_of_str("Basic YWxpY2U6c2VjcmV0"));
  jnl_end(&ev);
}

static void test_secret_keeps_scheme_and_fingerprint_only(void **state) {
  char *text = journal_text(write_secret);
  assert_non_null(strstr(text, "\"authorization\":{\"scheme\":\"Basic\",\"sha256\":\""));
  assert_null(strstr(text, "YWxpY2U6c2VjcmV0"));
  free(text);
}

static void write_nested(struct jnl *j) {
  struct jnl_event ev;
  jnl_begin(&ev, j, "tls.hello");
  jnl_arr_begin(&ev, "versions");
  jnl_str(&ev, NULL, "TLS1.3");
  jnl_str(&ev, NULL, "TLS1.2");
  jnl_arr_end(&ev);
  jnl_obj_begin(&ev, "o");
  jnl_int(&ev, "n", -3);
  jnl_bool(&ev, "b", true);
  jnl_null(&ev, "z");
  jnl_obj_end(&ev);
  jnl_end(&ev);
}

static void test_arrays_and_objects(void **state) {
  char *text = journal_text(write_nested);
  assert_non_null(
      strstr(text, "\"versions\":[\"TLS1.3\",\"TLS1.2\"],\"o\":{\"n\":-3,\"b\":true,\"z\":null}}"));
  free(text);
}

static void write_huge(struct jnl *j) {
  struct jnl_event ev;
  jnl_begin(&ev, j, "http.request");
  size_t n = 2u << 20;
  uint8_t *big = malloc(n);
  memset(big, 'a', n);
  jnl_strn(&ev, "body", (struct slice){big, n});
  jnl_end(&ev);
  free(big);
  write_alert(j);
}

static void test_oversized_event_is_not_lost_silently(void **state) {
  char *text = journal_text(write_huge);
  assert_non_null(strstr(text, "\"ev\":\"journal.truncated\"}\n"));
  assert_non_null(strstr(text, "\"ev\":\"tls.alert\""));
  free(text);
}

static void test_null_journal_drops_events(void **state) {
  struct jnl_event ev;
  jnl_begin(&ev, NULL, "dns.query");
  jnl_str(&ev, "qname", "contoso.com");
  jnl_end(&ev);
  assert_int_equal(jnl_n_events(NULL), 0);
}

/* Fields kept from one event and replayed in another read as if written again. */
static char kept[256];

static void write_replayed(struct jnl *j) {
  struct jnl_event ev;
  jnl_begin(&ev, j, "dns.query");
  jnl_str(&ev, "client", "127.0.0.1#5300");
  size_t mark = jnl_mark(&ev);
  jnl_str(&ev, "qname", "contoso.com");
  jnl_null(&ev, "rule");
  struct slice fields = jnl_since(&ev, mark);
  assert_true(fields.len < sizeof kept);
  memcpy(kept, fields.ptr, fields.len);
  kept[fields.len] = '\0';
  jnl_end(&ev);
  jnl_begin(&ev, j, "dns.query");
  jnl_str(&ev, "client", "127.0.0.2#5300");
  jnl_fields(&ev, slice_of_str(kept));
  jnl_bool(&ev, "tc", false); /* a field after the replayed ones gets its comma */
  jnl_end(&ev);
}

static void test_fields_replayed_into_another_event(void **state) {
  char *text = journal_text(write_replayed);
  assert_string_equal(kept, ",\"qname\":\"contoso.com\",\"rule\":null");
  assert_non_null(strstr(text, "\"client\":\"127.0.0.1#5300\",\"qname\":\"contoso.com\","
                               "\"rule\":null}\n"));
  assert_non_null(strstr(text, "\"client\":\"127.0.0.2#5300\",\"qname\":\"contoso.com\","
                               "\"rule\":null,\"tc\":false}\n"));
  free(text);
  struct jnl_event ev; /* a dropped event has nothing to keep */
  jnl_begin(&ev, NULL, "dns.query");
  size_t mark = jnl_mark(&ev);
  jnl_str(&ev, "qname", "contoso.com");
  assert_int_equal(jnl_since(&ev, mark).len, 0);
  jnl_end(&ev);
}

static void test_document_builder(void **state) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_str(&doc, "a", "b");
  jnl_raw(&doc, "c", "{\"d\":1}");
  char *text = jnl_doc_take(&doc);
  assert_string_equal(text, "{\"a\":\"b\",\"c\":{\"d\":1}}");
  free(text);
}

static void write_clear_credential(struct jnl *j) {
  struct jnl_event ev;
  jnl_begin(&ev, j, "http.request");
  jnl_credential(&ev, "hidden", slice_of_str("NTLM TlRMTVNTUAAB"), false);
  jnl_credential(&ev, "clear", slice_of_str("Basic YWxpY2U6c2VjcmV0"), true);
  jnl_end(&ev);
}

static void test_credential_in_clear_only_when_asked(void **state) {
  char *text = journal_text(write_clear_credential);
  assert_non_null(strstr(text, "\"hidden\":{\"scheme\":\"NTLM\",\"sha256\":\""));
  assert_null(strstr(text, "TlRMTVNTUAAB"));
  assert_non_null(strstr(text, "\"clear\":{\"scheme\":\"Basic\",\"sha256\":\""));
  assert_non_null(strstr(text, "\"value\":\"Basic YWxpY2U6c2VjcmV0\"}"));
  char fp[13];
  jnl_secret_fp(fp, slice_of_str("Basic YWxpY2U6c2VjcmV0"));
  assert_int_equal(strlen(fp), 12);
  assert_non_null(strstr(text, fp));
  struct slice scheme = jnl_secret_scheme(slice_of_str("Bearer abc"));
  assert_int_equal(scheme.len, 6);
  free(text);
}

static void test_utf8_check(void **state) {
  assert_true(jnl_utf8_valid(slice_of_str("<a>caf\xc3\xa9</a>")));
  assert_true(jnl_utf8_valid(slice_of_str("")));
  assert_false(jnl_utf8_valid(slice_of_str("\xff\xfe<")));
  assert_false(jnl_utf8_valid(slice_of_str("\xc3")));
  assert_false(jnl_utf8_valid((struct slice){(const uint8_t *) "a\0b", 3}));
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char *text = calloc(1, 1u << 16);
  size_t n = fread(text, 1, (1u << 16) - 1, f);
  text[n] = 0;
  fclose(f);
  return text;
}

static void test_har_archive(void **state) {
  char *dir = test_tmpdir("jnl-har");
  char path[512];
  buf_fmt(path, sizeof path, "%s/lab.har", dir);
  struct jnl_har *h = jnl_har_new(200);
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_str(&doc, "startedDateTime", "2026-01-05T10:00:00.000000Z");
  assert_true(jnl_har_add(h, jnl_doc_take(&doc)));
  jnl_doc_begin(&doc);
  jnl_uint(&doc, "n", 2);
  assert_true(jnl_har_add(h, jnl_doc_take(&doc)));
  char *big = calloc(1, 300);
  memset(big, 'x', 299);
  assert_false(jnl_har_add(h, big)); /* over the limit: left out, counted */
  assert_int_equal(jnl_har_n_entries(h), 2);
  assert_true(jnl_har_write(h, path, "1.0"));
  char *text = read_all(path);
  assert_string_equal(text, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"autodisco\","
                            "\"version\":\"1.0\"},\"comment\":\"1 later entries left out: the "
                            "archive was full\",\"entries\":[{\"startedDateTime\":"
                            "\"2026-01-05T10:00:00.000000Z\"},{\"n\":2}]}}\n");
  free(text);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  jnl_har_free(h);
  /* an empty archive is still a valid one */
  h = jnl_har_new(1u << 20);
  assert_true(jnl_har_write(h, path, "1.0"));
  text = read_all(path);
  assert_non_null(strstr(text, "\"entries\":[]}}"));
  free(text);
  jnl_har_free(h);
  /* a directory that does not exist: false with errno, nothing left behind */
  buf_fmt(path, sizeof path, "%s/missing/lab.har", dir);
  h = jnl_har_new(1u << 20);
  errno = 0;
  assert_false(jnl_har_write(h, path, "1.0"));
  assert_int_equal(errno, ENOENT);
  jnl_har_free(h);
  test_rmtree(dir);
  free(dir);
}

/* serve after giving root up: the archive goes into a file opened before, replacing all of what
 * it held (a longer earlier archive leaves nothing behind). */
static void test_har_written_into_an_open_file(void **state) {
  char *dir = test_tmpdir("jnl-har-fd");
  char path[512];
  buf_fmt(path, sizeof path, "%s/lab.har", dir);
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  char old[4096];
  memset(old, 'o', sizeof old);
  assert_int_equal(write(fd, old, sizeof old), (ssize_t) sizeof old);
  struct jnl_har *h = jnl_har_new(1u << 20);
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_uint(&doc, "n", 1);
  assert_true(jnl_har_add(h, jnl_doc_take(&doc)));
  assert_true(jnl_har_write_fd(h, fd, "1.0"));
  char *text = read_all(path);
  assert_string_equal(text, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"autodisco\","
                            "\"version\":\"1.0\"},\"entries\":[{\"n\":1}]}}\n");
  free(text);
  /* the descriptor stays the caller's, and a second write replaces the first */
  assert_true(jnl_har_write_fd(h, fd, "2.0"));
  text = read_all(path);
  assert_non_null(strstr(text, "\"version\":\"2.0\""));
  assert_int_equal(strlen(text), strlen("{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":"
                                        "\"autodisco\",\"version\":\"2.0\"},\"entries\":"
                                        "[{\"n\":1}]}}\n"));
  free(text);
  assert_int_equal(close(fd), 0);
  assert_false(jnl_har_write_fd(h, fd, "1.0")); /* a closed descriptor: an error, not a crash */
  assert_int_equal(errno, EBADF);
  jnl_har_free(h);
  test_rmtree(dir);
  free(dir);
}

static void test_open_appends_or_says_why(void **state) {
  char *dir = test_tmpdir("jnl");
  char path[4096];
  char err[256] = "";
  struct jnl *j = (struct jnl *) 1;
  /* no path: a journal that drops every event, and no error */
  assert_int_equal(jnl_open(&j, NULL, err, sizeof err), JNL_OK);
  assert_null(j);
  /* a folder that does not exist: a code, and a sentence naming the file */
  buf_fmt(path, sizeof path, "%s/missing/journal.jsonl", dir);
  j = (struct jnl *) 1;
  assert_int_equal(jnl_open(&j, path, err, sizeof err), JNL_EIO);
  assert_null(j);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "No such file or directory"));
  assert_string_equal(jnl_strerror(JNL_EIO), "the journal file cannot be opened");
  assert_string_equal(jnl_strerror(JNL_OK), "no error");
  /* a file: events are appended to what is there */
  buf_fmt(path, sizeof path, "%s/journal.jsonl", dir);
  for (int round = 0; round < 2; round++) {
    assert_int_equal(jnl_open(&j, path, err, sizeof err), JNL_OK);
    assert_non_null(j);
    write_alert(j);
    jnl_close(j);
  }
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  int n_lines = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    assert_non_null(strstr(line, "\"ev\":\"tls.alert\""));
    n_lines++;
  }
  fclose(f);
  assert_int_equal(n_lines, 2);
  unlink(path);
  test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_event_is_one_line_with_time_and_name),
      cmocka_unit_test(test_fields_replayed_into_another_event),
      cmocka_unit_test(test_escapes_quotes_controls_and_bad_utf8),
      cmocka_unit_test(test_escape_is_the_same_in_strings_of_every_length),
      cmocka_unit_test(test_secret_keeps_scheme_and_fingerprint_only),
      cmocka_unit_test(test_arrays_and_objects),
      cmocka_unit_test(test_oversized_event_is_not_lost_silently),
      cmocka_unit_test(test_null_journal_drops_events),
      cmocka_unit_test(test_document_builder),
      cmocka_unit_test(test_credential_in_clear_only_when_asked),
      cmocka_unit_test(test_utf8_check),
      cmocka_unit_test(test_har_archive),
      cmocka_unit_test(test_har_written_into_an_open_file),
      cmocka_unit_test(test_open_appends_or_says_why),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
