/* lab/report_check_html.c: `check --html DIR` — the index page over the walks' pages: a row per
 * scenario × client with its verdict, the prompts the user saw, the lab time and the failed
 * expectations, linked to the page with the walk's sequence diagram (lab_run_html_file wrote it
 * where the walk ran). Self-contained like the walks' pages: inline CSS, no script, nothing
 * fetched. Rows carry data attributes (docs/report.md) for tests and tools. */
#include "lab/lab.h"
#include "lab/report.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d232b;background:#fff}"
    "h1{font-size:20px;margin:0 0 4px}p.source{color:#5b6573;margin:0 0 16px}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #dde2e8;vertical-align:top}"
    "th{background:#f3f5f8;font-weight:600}"
    "td.verdict{font-weight:700}tr.PASS td.verdict{color:#1a7f37}"
    "tr.FAIL td.verdict{color:#c62828}tr.NO-EXPECT td.verdict{color:#9a6700}"
    "tr.ERROR td.verdict{color:#8e24aa}td.prompts{color:#8a5300}"
    "pre{margin:4px 0 0;white-space:pre-wrap;font:12px ui-monospace,monospace;color:#c62828}"
    "p.totals{margin-top:16px;font-weight:600}";

/* page_exists says whether the walk's page is in dir; writes its name into `name`. */
static bool page_exists(const char *dir, const struct lab_check *k, size_t index,
                        const char *client, char *name, size_t name_size) {
  char path[4096];
  return lab_check_page_name(name, name_size, k, index, client) &&
         buf_fmt(path, sizeof path, "%s/%s", dir, name) && access(path, R_OK) == 0;
}

static void row(FILE *out, const char *dir, const struct lab_check *k, size_t index,
                const struct lab_check_row *r, size_t *n_missing) {
  const char *scenario_path = k->scenarios[index].path;
  const char *verdict = lab_verdict_name(r->verdict);
  char name[2048] = "";
  bool linked = r->client != NULL && r->verdict != LAB_ERROR &&
                page_exists(dir, k, index, r->client, name, sizeof name);
  if (r->client != NULL && r->verdict != LAB_ERROR && !linked) {
    (*n_missing)++;
  }
  fprintf(out, "<tr class=\"row %s\" data-scenario=\"", verdict);
  lab_html_text(out, scenario_path);
  fputs("\" data-client=\"", out);
  lab_html_text(out, r->client != NULL ? r->client : "");
  fprintf(out, "\" data-verdict=\"%s\" data-page=\"", verdict);
  lab_html_text(out, linked ? name : "");
  fputs("\"><td class=\"scenario\">", out);
  lab_html_text(out, scenario_path);
  fputs("</td><td class=\"client\">", out);
  if (linked) {
    fputs("<a href=\"", out);
    lab_html_text(out, name);
    fputs("\">", out);
    lab_html_text(out, r->client);
    fputs("</a>", out);
  } else {
    lab_html_text(out, r->client != NULL ? r->client : "-");
  }
  fprintf(out, "</td><td class=\"verdict\">%s</td><td class=\"prompts\">", verdict);
  lab_html_text(out, r->prompts != NULL && r->prompts[0] != '\0' ? r->prompts : "-");
  char ms[32] = "-";
  if (r->verdict != LAB_ERROR) {
    lab_format_ms(ms, sizeof ms, r->lab_ms);
  }
  fputs("</td><td class=\"time\">", out);
  lab_html_text(out, ms);
  fputs("</td><td class=\"failures\">", out);
  if (r->failures != NULL && r->failures[0] != '\0') {
    fputs("<pre>", out);
    lab_html_text(out, r->failures);
    fputs("</pre>", out);
  }
  fputs("</td></tr>\n", out);
}

bool lab_check_html_index(const struct lab_check *k, const char *dir, char *err, size_t err_size) {
  char path[4096];
  if (!buf_fmt(path, sizeof path, "%s/index.html", dir)) {
    buf_fmt(err, err_size, "%s: path too long", dir);
    return false;
  }
  FILE *out = fopen(path, "w");
  if (out == NULL) {
    buf_fmt(err, err_size, "%s: cannot write it: %s", path, strerror(errno));
    return false;
  }
  struct lab_check_totals t = lab_check_count(k);
  fprintf(out,
          "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\">"
          "<title>autodisco check — %zu passed, %zu failed</title><style>%s</style></head>\n"
          "<body><h1>autodisco check</h1><p class=\"source\">%zu scenario file%s, a row per "
          "client walked (lab clock); each client links to its walk's sequence diagram</p>\n"
          "<table class=\"check\"><thead><tr><th>scenario</th><th>client</th><th>verdict</th>"
          "<th>prompts</th><th>lab time</th><th>failed expectations</th></tr></thead><tbody>\n",
          t.by[LAB_PASS], t.by[LAB_FAIL], css, k->n, k->n == 1 ? "" : "s");
  size_t n_missing = 0;
  for (size_t i = 0; i < k->n; i++) {
    for (size_t r = 0; r < k->scenarios[i].n_rows; r++) {
      row(out, dir, k, i, &k->scenarios[i].rows[r], &n_missing);
    }
  }
  fprintf(out,
          "</tbody></table>\n<p class=\"totals\" data-pass=\"%zu\" data-fail=\"%zu\" "
          "data-no-expect=\"%zu\" data-error=\"%zu\">%zu passed, %zu failed, %zu without "
          "expectations, %zu could not run</p>\n</body></html>\n",
          t.by[LAB_PASS], t.by[LAB_FAIL], t.by[LAB_NO_EXPECT], t.by[LAB_ERROR], t.by[LAB_PASS],
          t.by[LAB_FAIL], t.by[LAB_NO_EXPECT], t.by[LAB_ERROR]);
  if (fclose(out) != 0) {
    buf_fmt(err, err_size, "%s: cannot write it", path);
    return false;
  }
  if (n_missing > 0) {
    buf_fmt(err, err_size, "%s: %zu walk page%s could not be written", dir, n_missing,
            n_missing == 1 ? "" : "s");
    return false;
  }
  return true;
}
