/* lab/report_check.c: what `check` prints — the table for people, the JSON document and the
 * JUnit XML for CI — from the rows lab_check_run collected. */
#include "lab/lab.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t width(const char *s) {
  size_t n = 0;
  for (; *s != 0; s++) {
    n += ((unsigned char) *s & 0xc0) != 0x80; /* count UTF-8 characters, not bytes */
  }
  return n;
}

static void cell(FILE *out, const char *s, size_t w, bool last) {
  fputs(s, out);
  if (!last) {
    for (size_t n = width(s); n < w + 2; n++) {
      fputc(' ', out);
    }
  }
}

static const char *verdict_color(enum lab_verdict v) {
  switch (v) {
    case LAB_PASS: return "\033[32m";
    case LAB_FAIL: return "\033[1;31m";
    case LAB_NO_EXPECT: return "\033[33m";
    case LAB_ERROR: return "\033[1;35m";
  }
  return "";
}

void lab_check_table(const struct lab_check *k, FILE *out, bool color) {
  enum { N_COLS = 5 };
  static const char *const head[N_COLS] = {"SCENARIO", "CLIENT", "VERDICT", "PROMPTS", "LAB TIME"};
  size_t w[N_COLS];
  for (int i = 0; i < N_COLS; i++) {
    w[i] = width(head[i]);
  }
  /* --sweep: a SETTING column after SCENARIO, one row per value */
  size_t sweep_w = 0;
  for (size_t i = 0; i < k->n; i++) {
    if (k->scenarios[i].setting != NULL) {
      size_t vw = width(k->scenarios[i].setting);
      sweep_w = vw > sweep_w ? vw : sweep_w;
    }
  }
  if (sweep_w > 0 && sweep_w < width("SETTING")) {
    sweep_w = width("SETTING");
  }
  for (size_t i = 0; i < k->n; i++) {
    size_t sw = width(k->scenarios[i].path);
    w[0] = sw > w[0] ? sw : w[0];
    for (size_t r = 0; r < k->scenarios[i].n_rows; r++) {
      const struct lab_check_row *row = &k->scenarios[i].rows[r];
      size_t cw = row->client != NULL ? width(row->client) : 1;
      size_t pw = row->prompts != NULL && row->prompts[0] != 0 ? width(row->prompts) : 1;
      w[1] = cw > w[1] ? cw : w[1];
      w[3] = pw > w[3] ? pw : w[3];
    }
  }
  w[2] = width("NO-EXPECT");
  for (int i = 0; i < N_COLS; i++) {
    cell(out, head[i], w[i], i == N_COLS - 1);
    if (i == 0 && sweep_w > 0) {
      cell(out, "SETTING", sweep_w, false);
    }
  }
  fputc('\n', out);
  for (size_t i = 0; i < k->n; i++) {
    for (size_t r = 0; r < k->scenarios[i].n_rows; r++) {
      const struct lab_check_row *row = &k->scenarios[i].rows[r];
      char ms[32] = "-";
      if (row->verdict != LAB_ERROR) {
        lab_format_ms(ms, sizeof ms, row->lab_ms);
      }
      cell(out, k->scenarios[i].path, w[0], false);
      if (sweep_w > 0) {
        cell(out, k->scenarios[i].setting != NULL ? k->scenarios[i].setting : "-", sweep_w, false);
      }
      cell(out, row->client != NULL ? row->client : "-", w[1], false);
      if (color) {
        fputs(verdict_color(row->verdict), out);
      }
      fputs(lab_verdict_name(row->verdict), out);
      if (color) {
        fputs("\033[0m", out);
      }
      for (size_t n = width(lab_verdict_name(row->verdict)); n < w[2] + 2; n++) {
        fputc(' ', out);
      }
      cell(out, row->prompts != NULL && row->prompts[0] != 0 ? row->prompts : "-", w[3], false);
      cell(out, ms, w[4], true);
      fputc('\n', out);
    }
  }
  bool header = false;
  for (size_t i = 0; i < k->n; i++) {
    for (size_t r = 0; r < k->scenarios[i].n_rows; r++) {
      const struct lab_check_row *row = &k->scenarios[i].rows[r];
      if (row->failures == NULL || row->failures[0] == 0) {
        continue;
      }
      if (!header) {
        fputc('\n', out);
        header = true;
      }
      fputs(row->failures, out);
    }
  }
  struct lab_check_totals t = lab_check_count(k);
  size_t n_files = k->n;
  size_t n_values = 0;
  for (size_t i = 0; i < k->n; i++) {
    n_values = k->scenarios[i].setting != NULL && k->scenarios[i].variant + 1 > n_values
                   ? k->scenarios[i].variant + 1
                   : n_values;
  }
  if (n_values > 0) {
    n_files = k->n / n_values;
  }
  fprintf(out,
          "\n%zu passed, %zu failed, %zu without expectations, %zu could not run (%zu "
          "scenario%s",
          t.by[LAB_PASS], t.by[LAB_FAIL], t.by[LAB_NO_EXPECT], t.by[LAB_ERROR], n_files,
          n_files == 1 ? "" : "s");
  if (n_values > 0) {
    fprintf(out, " x %zu values", n_values);
  }
  fputs(")\n", out);
}

static void json_lines(struct jnl_event *doc, const char *key, const char *text) {
  jnl_arr_begin(doc, key);
  const char *line = text != NULL ? text : "";
  while (*line != 0) {
    const char *nl = strchr(line, '\n');
    size_t len = nl != NULL ? (size_t) (nl - line) : strlen(line);
    jnl_strn(doc, NULL, (struct slice){(const uint8_t *) line, len});
    line += len + (nl != NULL ? 1 : 0);
  }
  jnl_arr_end(doc);
}

void lab_check_json(const struct lab_check *k, FILE *out, int exit_status) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_arr_begin(&doc, "scenarios");
  for (size_t i = 0; i < k->n; i++) {
    const struct lab_check_scenario *o = &k->scenarios[i];
    jnl_obj_begin(&doc, NULL);
    jnl_str(&doc, "path", k->scenarios[i].path);
    jnl_str(&doc, "name", o->scn != NULL ? o->scn->name : NULL);
    jnl_str(&doc, "setting", o->setting);
    jnl_arr_begin(&doc, "results");
    for (size_t r = 0; r < o->n_rows; r++) {
      const struct lab_check_row *row = &o->rows[r];
      jnl_obj_begin(&doc, NULL);
      jnl_str(&doc, "client", row->client);
      jnl_str(&doc, "verdict", lab_verdict_name(row->verdict));
      jnl_str(&doc, "prompts", row->prompts);
      jnl_double(&doc, "lab_ms", row->lab_ms);
      json_lines(&doc, "failures", row->failures);
      jnl_obj_end(&doc);
    }
    jnl_arr_end(&doc);
    jnl_obj_end(&doc);
  }
  jnl_arr_end(&doc);
  struct lab_check_totals t = lab_check_count(k);
  jnl_obj_begin(&doc, "totals");
  jnl_uint(&doc, "pass", t.by[LAB_PASS]);
  jnl_uint(&doc, "fail", t.by[LAB_FAIL]);
  jnl_uint(&doc, "no_expect", t.by[LAB_NO_EXPECT]);
  jnl_uint(&doc, "error", t.by[LAB_ERROR]);
  jnl_obj_end(&doc);
  jnl_int(&doc, "exit", exit_status);
  char *text = jnl_doc_take(&doc);
  fputs(text, out);
  fputc('\n', out);
  free(text);
}

/* xml_text makes a string safe for an XML 1.0 document: control characters other than tab and
 * newline become '?'. */
static xmlChar *xml_text(const char *s) {
  char *copy = str_dup(s != NULL ? s : "");
  for (char *p = copy; *p != 0; p++) {
    if ((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n') {
      *p = '?';
    }
  }
  return (xmlChar *) copy;
}

static void xml_prop(xmlNodePtr node, const char *name, const char *value) {
  xmlChar *v = xml_text(value);
  xmlNewProp(node, (const xmlChar *) name, v);
  free(v);
}

static void xml_prop_count(xmlNodePtr node, const char *name, size_t n) {
  char v[32];
  buf_fmt(v, sizeof v, "%zu", n);
  xml_prop(node, name, v);
}

static void xml_prop_seconds(xmlNodePtr node, double ms) {
  char v[32];
  buf_fmt(v, sizeof v, "%.3f", ms / 1000);
  xml_prop(node, "time", v);
}

static xmlNodePtr xml_child(xmlNodePtr parent, const char *name, const char *text) {
  xmlChar *t = text != NULL ? xml_text(text) : NULL;
  xmlNodePtr n = xmlNewTextChild(parent, NULL, (const xmlChar *) name, t);
  free(t);
  return n;
}

/* first_line copies the first line of `text` for a message attribute. */
static char *first_line(const char *text) {
  const char *s = text != NULL ? text : "";
  const char *nl = strchr(s, '\n');
  return str_ndup(s, nl != NULL ? (size_t) (nl - s) : strlen(s));
}

/* junit_doc builds the JUnit document of `k` named `name` (caller frees). */
static xmlDocPtr junit_doc(const struct lab_check *k, const char *name) {
  char host[256] = "localhost";
  if (gethostname(host, sizeof host) != 0) {
    buf_fmt(host, sizeof host, "localhost");
  }
  host[sizeof host - 1] = 0;
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

  xmlDocPtr doc = xmlNewDoc((const xmlChar *) "1.0");
  xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *) "testsuites");
  xmlDocSetRootElement(doc, root);
  struct lab_check_totals all = lab_check_count(k);
  xml_prop(root, "name", name);
  xml_prop_count(root, "tests",
                 all.by[LAB_PASS] + all.by[LAB_FAIL] + all.by[LAB_NO_EXPECT] + all.by[LAB_ERROR]);
  xml_prop_count(root, "failures", all.by[LAB_FAIL]);
  xml_prop_count(root, "errors", all.by[LAB_ERROR]);
  xml_prop_count(root, "skipped", all.by[LAB_NO_EXPECT]);
  xml_prop_seconds(root, all.lab_ms);
  for (size_t i = 0; i < k->n; i++) {
    const struct lab_check_scenario *o = &k->scenarios[i];
    size_t by[LAB_ERROR + 1] = {0};
    double ms = 0;
    for (size_t r = 0; r < o->n_rows; r++) {
      by[o->rows[r].verdict]++;
      ms += o->rows[r].lab_ms;
    }
    xmlNodePtr suite = xmlNewChild(root, NULL, (const xmlChar *) "testsuite", NULL);
    xml_prop(suite, "name", k->scenarios[i].path);
    xml_prop_count(suite, "tests", o->n_rows);
    xml_prop_count(suite, "failures", by[LAB_FAIL]);
    xml_prop_count(suite, "errors", by[LAB_ERROR]);
    xml_prop_count(suite, "skipped", by[LAB_NO_EXPECT]);
    xml_prop_seconds(suite, ms);
    xml_prop(suite, "timestamp", stamp);
    xml_prop(suite, "hostname", host);
    for (size_t r = 0; r < o->n_rows; r++) {
      const struct lab_check_row *row = &o->rows[r];
      xmlNodePtr tc = xmlNewChild(suite, NULL, (const xmlChar *) "testcase", NULL);
      char case_name[512];
      buf_fmt(case_name, sizeof case_name, "%s%s%s%s",
              row->client != NULL ? row->client : "(scenario)", o->setting != NULL ? " [" : "",
              o->setting != NULL ? o->setting : "", o->setting != NULL ? "]" : "");
      xml_prop(tc, "name", case_name);
      xml_prop(tc, "classname", k->scenarios[i].path);
      xml_prop_seconds(tc, row->lab_ms);
      char *msg = first_line(row->failures);
      if (row->verdict == LAB_FAIL) {
        xmlNodePtr f = xml_child(tc, "failure", row->failures);
        xml_prop(f, "message", msg);
        xml_prop(f, "type", "expectation");
      } else if (row->verdict == LAB_ERROR) {
        xmlNodePtr f = xml_child(tc, "error", row->failures);
        xml_prop(f, "message", msg);
        xml_prop(f, "type", "bad-input");
      } else if (row->verdict == LAB_NO_EXPECT) {
        xmlNodePtr f = xml_child(tc, "skipped", NULL);
        xml_prop(f, "message", "the scenario expects nothing of this client");
      }
      free(msg);
      if (row->verdict != LAB_ERROR) {
        struct buf out;
        buf_init(&out, 64 * 1024);
        buf_appendf(&out, "prompts: %s\n", row->prompts[0] != 0 ? row->prompts : "none");
        char ms_text[32];
        lab_format_ms(ms_text, sizeof ms_text, row->lab_ms);
        buf_appendf(&out, "lab time: %s\n", ms_text);
        xml_child(tc, "system-out", buf_cstr(&out));
        buf_cleanup(&out);
      }
    }
  }
  return doc;
}

bool lab_check_junit(const struct lab_check *k, const char *path) {
  xmlDocPtr doc = junit_doc(k, "autodisco check");
  bool ok = xmlSaveFormatFileEnc(path, doc, "UTF-8", 1) >= 0;
  xmlFreeDoc(doc);
  return ok;
}

/* junit_write writes the JUnit document of `k` into an open stream. */
static bool junit_write(const struct lab_check *k, const char *name, FILE *out) {
  xmlDocPtr doc = junit_doc(k, name);
  xmlChar *text = NULL;
  int len = 0;
  xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
  bool ok = text != NULL && len >= 0 && fwrite(text, 1, (size_t) len, out) == (size_t) len;
  xmlFree(text);
  xmlFreeDoc(doc);
  return ok;
}

bool lab_run_junit(FILE *out, const struct scn *s, const struct lab_result *r, size_t n) {
  struct lab_check_scenario one = {.path = s->path, .n_expected = n, .done = true};
  one.rows = lab_check_rows(0, r, n);
  one.n_rows = n;
  struct lab_check k = {.scenarios = &one, .n = 1, .n_done = 1};
  bool ok = junit_write(&k, "autodisco run", out);
  lab_check_rows_free(one.rows, one.n_rows);
  return ok;
}
