/* lab/report_run_html.c: `run --format html` and `check --html` — the walks of one scenario on
 * the page renderer that `report --format html` uses: one page with every client, or one page
 * per scenario × client in a folder. */
#include "lab/lab.h"
#include "lab/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void verdict(const struct lab_result *r, char *out, size_t out_size) {
  if (r->expect == NULL) {
    buf_fmt(out, out_size, "none given");
  } else if (r->n_failures == 0) {
    buf_fmt(out, out_size, "expectations hold");
  } else {
    buf_fmt(out, out_size, "%zu failed", r->n_failures);
  }
}

static void page(FILE *out, const struct scn *s, const struct lab_result *r, size_t n) {
  struct lab_desc *lab = lab_desc_of_scn(s);
  struct lab_page_section *sections = xcalloc(n + 1, sizeof *sections);
  char(*verdicts)[64] = xcalloc(n + 1, sizeof *verdicts);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (r[i].transcript == NULL) {
      continue;
    }
    verdict(&r[i], verdicts[k], sizeof verdicts[k]);
    sections[k] = (struct lab_page_section){
        .t = r[i].transcript, .verdict = verdicts[k], .failures = buf_cstr(&r[i].failures)};
    k++;
  }
  char title[1024], source[4096];
  buf_fmt(title, sizeof title, "%s%s%s", s->name, n == 1 ? " — " : "",
          n == 1 ? r[0].client->model : "");
  buf_fmt(source, sizeof source, "autodisco run %s (client models, lab clock)", s->path);
  struct lab_page p = {
      .title = title, .source = source, .lab = lab, .sections = sections, .n_sections = k};
  lab_page_html(out, &p);
  free(verdicts);
  free(sections);
  lab_desc_free(lab);
}

void lab_run_html(FILE *out, const struct scn *s, const struct lab_result *r, size_t n) {
  page(out, s, r, n);
}

/* file_part copies `s` for a file name: letters, digits, '.', '-' and '_' stay. */
static void file_part(char *out, size_t out_size, const char *s) {
  size_t i = 0;
  for (; s[i] != '\0' && i + 1 < out_size; i++) {
    char c = s[i];
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_';
    out[i] = keep ? c : '_';
  }
  out[i] = '\0';
}

/* common_dir is how many bytes of `path` the folder every path of the check shares takes (up to
 * and with its last '/'). */
static size_t common_dir(const struct lab_check *k, const char *path) {
  size_t n = strlen(path);
  for (size_t i = 0; i < k->n; i++) {
    const char *o = k->scenarios[i].path;
    size_t same = 0;
    while (same < n && o[same] != '\0' && o[same] == path[same]) {
      same++;
    }
    n = same;
  }
  while (n > 0 && path[n - 1] != '/') {
    n--; /* back to a whole folder: "a/b.yaml" and "a/bc.yaml" share "a/" */
  }
  return n;
}

bool lab_check_page_name(char *out, size_t out_size, const struct lab_check *k, size_t index,
                         const char *client) {
  const char *path = k->scenarios[index].path;
  const char *p = path + common_dir(k, path);
  size_t len = strlen(p);
  if (len > 5 && strcmp(p + len - 5, ".yaml") == 0) {
    len -= 5;
  }
  char *stem = str_ndup(p, len);
  char a[1024], b[256], c[300] = "";
  file_part(a, sizeof a, stem);
  file_part(b, sizeof b, client);
  free(stem);
  const char *setting = k->scenarios[index].setting; /* --sweep: one page per value */
  if (setting != NULL) {
    c[0] = '.';
    file_part(c + 1, sizeof c - 1, setting);
  }
  return buf_fmt(out, out_size, "%s.%s%s.html", a, b, c);
}

bool lab_run_html_file(const char *path, const struct scn *s, const struct lab_result *r, char *err,
                       size_t err_size) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    buf_fmt(err, err_size, "%s: cannot write it: %s", path, strerror(errno));
    return false;
  }
  page(f, s, r, 1);
  if (fclose(f) != 0) {
    buf_fmt(err, err_size, "%s: cannot write it", path);
    return false;
  }
  return true;
}

int lab_run_html_dir(const char *dir, const struct scn *s, const struct lab_result *r, size_t n,
                     char *err, size_t err_size) {
  int written = 0;
  for (size_t i = 0; i < n; i++) {
    char path[8192], name[256], client[256];
    file_part(name, sizeof name, s->name);
    file_part(client, sizeof client, r[i].client->model);
    if (!buf_fmt(path, sizeof path, "%s%s%s.%s.html", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                 name, client)) {
      buf_fmt(err, err_size, "%s: path too long", dir);
      return -1;
    }
    if (!lab_run_html_file(path, s, &r[i], err, err_size)) {
      return -1;
    }
    written++;
  }
  return written;
}
