/* lab/page_html.c: one self-contained HTML page per report — inline CSS and SVG, nothing
 * fetched, opens offline — with a sequence diagram per transcript: lifelines for the client, DNS
 * and each host; per step the messages (query and answer, connect, certificate, alert, request,
 * response) in the order the client took them; prompts standing out; the time waited along the
 * left axis. Elements carry stable classes and data attributes (docs/report.md) so tests and
 * tools can read the diagram. */
#include "lab/lab.h"
#include "lab/report.h"

#include <stdlib.h>
#include <string.h>

enum {
  AXIS_W = 120, /* the time axis column */
  COL_W = 230,  /* between lifelines */
  HEAD_Y = 16,
  HEAD_H = 58,
  ROW_H = 26,
  BAND_H = 30,
  LABEL_MAX = 90, /* characters of a message label */
  SVG_MAX = 32 * 1024 * 1024,
};

/* --- escaping --- */

static void esc(struct buf *b, const char *s) {
  for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
    switch (*p) {
      case '&': buf_append_str(b, "&amp;"); break;
      case '<': buf_append_str(b, "&lt;"); break;
      case '>': buf_append_str(b, "&gt;"); break;
      case '"': buf_append_str(b, "&quot;"); break;
      case '\'': buf_append_str(b, "&#39;"); break;
      default: buf_append(b, (struct slice){(const uint8_t *) p, 1});
    }
  }
}

/* esc_cut escapes at most LABEL_MAX characters (whole UTF-8 sequences), marking a cut. */
static void esc_cut(struct buf *b, const char *s) {
  if (s == NULL) {
    return;
  }
  size_t n = 0, i = 0;
  while (s[i] != '\0' && n < LABEL_MAX) {
    i++;
    while ((s[i] & 0xc0) == 0x80) {
      i++;
    }
    n++;
  }
  char *head = str_ndup(s, i);
  esc(b, head);
  free(head);
  if (s[i] != '\0') {
    buf_append_str(b, "…");
  }
}

static void fesc(FILE *out, const char *s) {
  struct buf b;
  buf_init(&b, SVG_MAX);
  esc(&b, s);
  fputs(buf_cstr(&b), out);
  buf_cleanup(&b);
}

/* --- lifelines --- */

struct lifeline {
  const char *key;   /* host id, or the name asked when the lab does not describe the host */
  const char *title; /* "www", "DNS", the client's name */
  char *sub;         /* owned: the names */
  const char *address;
  const struct lab_host_desc *host;
  int x;
};

struct diagram {
  const struct lab_page *page;
  const struct sim_transcript *t;
  struct lifeline *lines;
  size_t n_lines;
  struct buf svg; /* the body, drawn before the height is known */
  int y;
};

static void add_line(struct diagram *d, const char *key, const char *title, char *sub,
                     const char *address, const struct lab_host_desc *h) {
  d->lines = xrealloc_array(d->lines, d->n_lines + 1, sizeof *d->lines);
  d->lines[d->n_lines] =
      (struct lifeline){key, title, sub, address, h, AXIS_W + 70 + (int) d->n_lines * COL_W};
  d->n_lines++;
}

/* line_of returns the lifeline of the host a step reached, or -1. */
static int line_of(const struct diagram *d, const struct sim_step *s) {
  if (s->kind == SIM_STEP_SRV || s->kind == SIM_STEP_LOCAL_XML || s->host == NULL) {
    return -1;
  }
  const struct lab_host_desc *h = lab_desc_host_named(d->page->lab, s->host);
  for (size_t i = 2; i < d->n_lines; i++) {
    const struct lifeline *l = &d->lines[i];
    if ((h != NULL && l->host == h) || (l->host == NULL && str_eq_nocase(l->key, s->host))) {
      return (int) i;
    }
    if (h == NULL && l->host != NULL && l->host->address != NULL && s->dns_answer != NULL &&
        strcmp(l->host->address, s->dns_answer) == 0) {
      return (int) i;
    }
  }
  return -1;
}

static bool reached(const struct sim_step *s) {
  switch (s->result) {
    case SIM_R_SKIPPED:
    case SIM_R_DNS_FAILED:
    case SIM_R_NO_CANDIDATE: return false;
    default: return s->kind != SIM_STEP_SRV && s->kind != SIM_STEP_LOCAL_XML;
  }
}

static void setup_lines(struct diagram *d) {
  char *client = NULL;
  struct buf b;
  buf_init(&b, 4096);
  buf_appendf(&b, "%s", d->t->email != NULL ? d->t->email : "");
  client = buf_take(&b);
  add_line(d, "client", d->t->client != NULL ? d->t->client : "client", client, NULL, NULL);
  const struct lab_desc *lab = d->page->lab;
  add_line(d, "dns", "DNS", str_dup("the lab's DNS"), lab != NULL ? lab->dns : NULL, NULL);
  for (size_t i = 0; lab != NULL && i < lab->n_hosts; i++) {
    const struct lab_host_desc *h = &lab->hosts[i];
    buf_init(&b, 4096);
    for (size_t k = 0; k < h->n_names && k < 2; k++) {
      buf_appendf(&b, "%s%s", k > 0 ? ", " : "", h->names[k]);
    }
    if (h->n_names > 2) {
      buf_append_str(&b, ", …");
    }
    char *sub = buf_take(&b);
    add_line(d, h->id, h->id, sub != NULL ? sub : str_dup(""), h->address, h);
  }
  for (size_t i = 0; i < d->t->n_steps; i++) { /* hosts the lab does not describe */
    const struct sim_step *s = &d->t->steps[i];
    if (reached(s) && s->host != NULL && line_of(d, s) < 0) {
      add_line(d, s->host, s->host, str_dup("not in the lab's description"), s->dns_answer, NULL);
    }
  }
}

/* --- drawing --- */

/* How a message is drawn: as it is, arriving but wrong (red), or not arriving (red, a cross). */
enum look { LOOK_OK, LOOK_WARN, LOOK_FAIL };

static void msg(struct diagram *d, const char *kind, int from, int to, const char *label,
                enum look look) {
  int x1 = d->lines[from].x, x2 = to >= 0 ? d->lines[to].x : d->lines[from].x + COL_W;
  int y = d->y + ROW_H - 8;
  static const char *const classes[] = {"", " warn", " fail"};
  buf_appendf(&d->svg, "<g class=\"msg%s\" data-msg=\"%s\">", classes[look], kind);
  buf_appendf(&d->svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" marker-end=\"url(#%s)\"/>",
              x1, y, x2 + (x2 > x1 ? -4 : 4), y, look == LOOK_FAIL ? "cross" : "arrow");
  int tx = x1 < x2 ? x1 + 8 : x2 + 8;
  buf_appendf(&d->svg, "<text x=\"%d\" y=\"%d\">", tx, y - 5);
  esc_cut(&d->svg, label);
  buf_append_str(&d->svg, "</text></g>\n");
  d->y += ROW_H;
}

static void note(struct diagram *d, const char *kind, int at, const char *label) {
  buf_appendf(&d->svg, "<g class=\"msg note\" data-msg=\"%s\"><text x=\"%d\" y=\"%d\">", kind,
              d->lines[at].x + 8, d->y + ROW_H - 10);
  esc_cut(&d->svg, label);
  buf_append_str(&d->svg, "</text></g>\n");
  d->y += ROW_H;
}

static void prompt_box(struct diagram *d, const struct sim_prompt *p) {
  char label[1024];
  switch (p->kind) {
    case SIM_PROMPT_CERTIFICATE:
      buf_fmt(label, sizeof label, "⚠ Security Alert — %s: %s → %s", p->host ? p->host : "?",
              p->reason ? p->reason : "?", p->accepted ? "Yes" : "No");
      break;
    case SIM_PROMPT_REDIRECT:
      buf_fmt(label, sizeof label, "⚠ Allow %s to configure settings? → %s",
              p->host ? p->host : "?", p->accepted ? "Allow" : "Cancel");
      break;
    case SIM_PROMPT_CREDENTIALS:
      buf_fmt(label, sizeof label, "⚠ Windows Security: %s asks for a password → %s",
              p->host ? p->host : "?", p->accepted ? "OK" : "Cancel");
      break;
  }
  int x = d->lines[0].x - 60;
  buf_appendf(&d->svg, "<g class=\"prompt\" data-kind=\"%s\" data-host=\"",
              sim_prompt_kind_name(p->kind));
  esc(&d->svg, p->host);
  buf_append_str(&d->svg, "\" data-reason=\"");
  esc(&d->svg, p->reason);
  buf_appendf(&d->svg, "\" data-accepted=\"%s\">", p->accepted ? "true" : "false");
  buf_appendf(&d->svg, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"5\"/>", x, d->y + 2,
              COL_W + 200, ROW_H - 4);
  buf_appendf(&d->svg, "<text x=\"%d\" y=\"%d\">", x + 8, d->y + ROW_H - 9);
  esc_cut(&d->svg, label);
  buf_append_str(&d->svg, "</text><title>");
  esc(&d->svg, p->text);
  buf_append_str(&d->svg, "</title></g>\n");
  d->y += ROW_H;
}

static const char *method_of(const struct sim_step *s) {
  switch (s->kind) {
    case SIM_STEP_HTTP_REDIRECT:
    case SIM_STEP_O365_DIRECT:
    case SIM_STEP_O365_FALLBACK: return "GET";
    default: return "POST";
  }
}

static void response_label(char *out, size_t out_size, const struct sim_step *s) {
  switch (s->result) {
    case SIM_R_SETTINGS: buf_fmt(out, out_size, "%d settings", s->http_status); return;
    case SIM_R_REDIRECT:
      buf_fmt(out, out_size, "%d → %s", s->http_status, s->redirect_to ? s->redirect_to : "?");
      return;
    case SIM_R_XML_ERROR:
      buf_fmt(out, out_size, "%d Autodiscover error %u", s->http_status, s->error_code);
      return;
    case SIM_R_REJECTED:
      buf_fmt(out, out_size, "%d → %s (refused)", s->http_status,
              s->redirect_to ? s->redirect_to : "?");
      return;
    default:
      buf_fmt(out, out_size, "%d%s%s", s->http_status, s->auth_schemes ? " asks " : "",
              s->auth_schemes ? s->auth_schemes : " not Autodiscover");
  }
}

static void cert_label(char *out, size_t out_size, const struct sim_step *s) {
  struct buf b;
  buf_init(&b, 1024);
  buf_appendf(&b, "certificate %s", s->cert_subject);
  static const unsigned order[] = {SIM_CERT_UNTRUSTED,      SIM_CERT_EXPIRED,
                                   SIM_CERT_NOT_YET_VALID,  SIM_CERT_NAME,
                                   SIM_CERT_WEAK_SIGNATURE, SIM_CERT_WEAK_KEY};
  const char *sep = ": ";
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    if (s->cert_failures & order[i]) {
      buf_appendf(&b, "%s%s", sep, sim_cert_failure_name(order[i]));
      sep = ", ";
    }
  }
  if (s->cert_failures == 0) {
    buf_append_str(&b, " ✓");
  }
  buf_fmt(out, out_size, "%s", buf_cstr(&b));
  buf_cleanup(&b);
}

static void step_messages(struct diagram *d, size_t i) {
  const struct sim_step *s = &d->t->steps[i];
  char label[2048];
  int host = line_of(d, s);
  if (s->result == SIM_R_SKIPPED) {
    note(d, "skipped", 0, s->detail != NULL ? s->detail : "skipped");
    return;
  }
  bool dns = s->kind == SIM_STEP_SRV || s->dns_answer != NULL || s->dns_error != NULL;
  if (dns) {
    buf_fmt(label, sizeof label, "%s %s?", s->kind == SIM_STEP_SRV ? "SRV" : "A",
            s->host ? s->host : "?");
    msg(d, "dns-query", 0, 1, label, LOOK_OK);
    buf_fmt(label, sizeof label, "%s",
            s->dns_error != NULL    ? s->dns_error
            : s->dns_answer != NULL ? s->dns_answer
                                    : "?");
    msg(d, "dns-answer", 1, 0, label, s->dns_error != NULL ? LOOK_WARN : LOOK_OK);
  }
  if (reached(s)) {
    bool https = s->url == NULL || strncmp(s->url, "http:", 5) != 0;
    if (s->connect_error != NULL) {
      buf_fmt(label, sizeof label, "connect :%d — %s", https ? 443 : 80, s->connect_error);
    } else {
      buf_fmt(label, sizeof label, "connect :%d", https ? 443 : 80);
    }
    msg(d, "connect", 0, host, label, s->connect_error != NULL ? LOOK_FAIL : LOOK_OK);
    if (s->cert_subject != NULL) {
      cert_label(label, sizeof label, s);
      msg(d, "certificate", host >= 0 ? host : 0, host >= 0 ? 0 : 1, label,
          s->cert_failures != 0 ? LOOK_WARN : LOOK_OK);
    }
    if (s->result == SIM_R_TLS_FAILED) {
      msg(d, "alert", 0, host, s->tls_error != NULL ? s->tls_error : "TLS failed", LOOK_FAIL);
    }
  }
  for (size_t k = 0; k < d->t->n_prompts; k++) {
    if (d->t->prompts[k].step == i) {
      prompt_box(d, &d->t->prompts[k]);
    }
  }
  if (reached(s) && (s->http_status != 0 || s->result == SIM_R_HTTP_FAILED)) {
    const char *path = s->url != NULL ? strstr(s->url, "://") : NULL;
    path = path != NULL ? path + 3 + strcspn(path + 3, "/") : "/";
    buf_fmt(label, sizeof label, "%s %s", method_of(s), *path != '\0' ? path : "/");
    msg(d, "request", 0, host, label, LOOK_OK);
    if (s->http_status != 0) {
      response_label(label, sizeof label, s);
      msg(d, "response", host >= 0 ? host : 0, host >= 0 ? 0 : 1, label,
          s->result == SIM_R_SETTINGS || s->result == SIM_R_REDIRECT ? LOOK_OK : LOOK_WARN);
    } else {
      note(d, "no-response", 0, s->detail != NULL ? s->detail : "no answer");
    }
  } else if (s->result == SIM_R_SETTINGS && s->kind == SIM_STEP_LOCAL_XML) {
    note(d, "local-xml", 0, s->detail != NULL ? s->detail : "settings from the local XML file");
  } else if (s->kind == SIM_STEP_SRV && s->redirect_to != NULL) {
    buf_fmt(label, sizeof label, "→ %s", s->redirect_to);
    note(d, "srv-target", 0, label);
  }
}

static void draw_step(struct diagram *d, size_t i, double at_ms, double max_ms) {
  const struct sim_step *s = &d->t->steps[i];
  int y0 = d->y;
  buf_appendf(&d->svg, "<g class=\"step\" data-index=\"%zu\" data-step=\"", i);
  esc(&d->svg, s->name);
  buf_append_str(&d->svg, "\" data-host=\"");
  esc(&d->svg, s->host);
  buf_appendf(&d->svg, "\" data-result=\"%s\" data-elapsed-ms=\"%.1f\">\n",
              sim_result_name(s->result), s->elapsed_ms);
  bool prompted = false;
  for (size_t k = 0; k < d->t->n_prompts; k++) {
    prompted = prompted || d->t->prompts[k].step == i;
  }
  buf_appendf(&d->svg, "<rect class=\"band%s%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
              s->result == SIM_R_SETTINGS ? " ok" : "", prompted ? " prompted" : "", AXIS_W, d->y,
              (int) d->n_lines * COL_W + 40, BAND_H - 4);
  char head[4096];
  buf_fmt(head, sizeof head, "%zu %s  %s", i + 1, s->name ? s->name : "?",
          s->kind == SIM_STEP_SRV || s->url == NULL ? (s->host ? s->host : "") : s->url);
  buf_appendf(&d->svg, "<text class=\"step-title\" x=\"%d\" y=\"%d\">", AXIS_W + 8, d->y + 18);
  esc_cut(&d->svg, head);
  buf_append_str(&d->svg, "</text>");
  buf_appendf(&d->svg,
              "<text class=\"step-result\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
              AXIS_W + (int) d->n_lines * COL_W + 30, d->y + 18, sim_result_name(s->result));
  d->y += BAND_H;
  step_messages(d, i);
  buf_append_str(&d->svg, "</g>\n");
  /* the time axis: when the step started and how long the user waited in it */
  char when[40], took[40];
  lab_format_ms(when, sizeof when, at_ms);
  lab_format_ms(took, sizeof took, s->elapsed_ms);
  double share = max_ms > 0 && s->elapsed_ms > 0 ? s->elapsed_ms / max_ms : 0;
  int bar = (int) (40.0 * (share < 1 ? share : 1));
  buf_appendf(&d->svg,
              "<g class=\"wait\" data-step-index=\"%zu\" data-at-ms=\"%.1f\" "
              "data-elapsed-ms=\"%.1f\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
              "<text x=\"10\" y=\"%d\">+%s</text><text class=\"took\" x=\"10\" y=\"%d\">%s</text>"
              "</g>\n",
              i, at_ms, s->elapsed_ms, AXIS_W - 14 - bar, y0, bar > 2 ? bar : 2, d->y - y0 - 2,
              y0 + 18, when, y0 + 34, took);
}

static void draw(struct diagram *d, FILE *out, size_t index) {
  setup_lines(d);
  buf_init(&d->svg, SVG_MAX);
  d->y = HEAD_Y + HEAD_H + 16;
  double at = 0, max = 0;
  for (size_t i = 0; i < d->t->n_steps; i++) {
    max = d->t->steps[i].elapsed_ms > max ? d->t->steps[i].elapsed_ms : max;
  }
  for (size_t i = 0; i < d->t->n_steps; i++) {
    draw_step(d, i, at, max);
    at += d->t->steps[i].elapsed_ms;
  }
  int height = d->y + 40;
  int width = AXIS_W + (int) d->n_lines * COL_W + 60;
  fprintf(out,
          "<svg class=\"sequence\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
          "height=\"%d\" viewBox=\"0 0 %d %d\" data-section=\"%zu\" data-client=\"",
          width, height, width, height, index);
  fesc(out, d->t->client);
  fprintf(out, "\" data-total-ms=\"%.1f\">\n", d->t->total_ms);
  fputs("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 "
        "L0,10 z\"/></marker><marker id=\"cross\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" "
        "markerWidth=\"9\" markerHeight=\"9\"><path d=\"M1,1 L9,9 M9,1 L1,9\" "
        "class=\"cross\"/></marker></defs>\n",
        out);
  for (size_t i = 0; i < d->n_lines; i++) {
    const struct lifeline *l = &d->lines[i];
    fprintf(out, "<g class=\"lifeline\" data-lifeline=\"%s\" data-key=\"",
            i == 0   ? "client"
            : i == 1 ? "dns"
                     : "host");
    fesc(out, l->key);
    fprintf(out,
            "\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\"/><text "
            "class=\"title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
            l->x - COL_W / 2 + 12, HEAD_Y, COL_W - 24, HEAD_H, l->x, HEAD_Y + 19);
    fesc(out, l->title);
    fprintf(out, "</text><text class=\"sub\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", l->x,
            HEAD_Y + 35);
    fesc(out, l->sub);
    fprintf(out, "</text><text class=\"sub\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", l->x,
            HEAD_Y + 49);
    fesc(out, l->address);
    fprintf(out, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>\n", l->x,
            HEAD_Y + HEAD_H, l->x, height - 20);
  }
  char total[40];
  lab_format_ms(total, sizeof total, d->t->total_ms);
  fprintf(out,
          "<g class=\"time-axis\" data-total-ms=\"%.1f\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
          "y2=\"%d\"/><text x=\"10\" y=\"%d\">time (%s)</text><text class=\"total\" x=\"10\" "
          "y=\"%d\">waited %s</text></g>\n",
          d->t->total_ms, AXIS_W - 12, HEAD_Y + HEAD_H + 10, AXIS_W - 12, height - 24, HEAD_Y + 24,
          d->t->clock == SIM_CLOCK_JOURNAL ? "wall clock"
          : d->t->clock == SIM_CLOCK_REAL  ? "real time"
                                           : "lab clock",
          height - 10, total);
  fputs(buf_cstr(&d->svg), out);
  fputs("</svg>\n", out);
  buf_cleanup(&d->svg);
  for (size_t i = 0; i < d->n_lines; i++) {
    free(d->lines[i].sub);
  }
  free(d->lines);
}

/* --- the page --- */

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1f2933;"
    "background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px}"
    ".source{color:#52606d;margin:0 0 16px}"
    ".summary{border-collapse:collapse;margin:8px 0 12px}"
    ".summary td{padding:3px 12px 3px 0;vertical-align:top}.summary td:first-child"
    "{white-space:nowrap;color:#52606d}.prompts-list{margin:0;padding-left:18px}"
    ".prompts-list li,.finding{color:#8a4b00;font-weight:600}"
    ".finding{color:#b42318}"
    ".verdict.pass{color:#137333;font-weight:600}.verdict.fail{color:#b42318;font-weight:600}"
    "svg.sequence{display:block;margin:12px 0;font-size:12px}"
    "svg .lifeline rect{fill:#eef2f7;stroke:#9aa5b1}svg .lifeline line{stroke:#9aa5b1;"
    "stroke-dasharray:4 4}"
    "svg .lifeline .title{font-weight:700;font-size:13px}svg .lifeline .sub{fill:#52606d;"
    "font-size:11px}"
    "svg .band{fill:#f5f7fa}svg .band.ok{fill:#e6f4ea}svg .band.prompted{fill:#fff4e0}"
    "svg .step-title{font-weight:600}svg .step-result{fill:#52606d}"
    "svg .msg line{stroke:#3e4c59;stroke-width:1.4}svg .msg.fail line,svg .msg.warn line"
    "{stroke:#b42318}svg .msg.fail text,svg .msg.warn text{fill:#b42318}svg .msg.note "
    "text{fill:#52606d;font-style:italic}"
    "svg marker path{fill:#3e4c59}svg marker path.cross{stroke:#b42318;stroke-width:2;fill:none}"
    "svg .prompt rect{fill:#ffb020;stroke:#b54708;stroke-width:1.5}"
    "svg .prompt text{font-weight:700;fill:#3b1d00}"
    "svg .time-axis line{stroke:#52606d;stroke-width:2}svg .time-axis text{fill:#52606d}"
    "svg .time-axis .total{font-weight:700}"
    "svg .wait rect{fill:#7b8794}svg .wait text{fill:#3e4c59;font-size:11px}"
    "svg .wait .took{fill:#7b8794}"
    "pre{background:#f5f7fa;padding:12px;overflow:auto;font-size:12px}";

static void section_summary(FILE *out, const struct lab_page_section *sec) {
  const struct sim_transcript *t = sec->t;
  char total[40];
  lab_format_ms(total, sizeof total, t->total_ms);
  fputs("<table class=\"summary\">", out);
  fputs("<tr><td>outcome</td><td class=\"outcome\">", out);
  if (t->success) {
    fputs("settings from ", out);
    fesc(out, t->final_url);
    if (t->ews_url != NULL) {
      fputs(" (EWS ", out);
      fesc(out, t->ews_url);
      fputs(")", out);
    }
  } else {
    fputs("failure — no candidate returned settings", out);
  }
  fputs("</td></tr><tr><td>prompts</td><td>", out);
  if (t->n_prompts == 0) {
    fputs("none", out);
  } else {
    fputs("<ul class=\"prompts-list\">", out);
    for (size_t i = 0; i < t->n_prompts; i++) {
      struct buf b;
      buf_init(&b, 4096);
      lab_prompt_describe(&b, &t->prompts[i]);
      fputs("<li>", out);
      fesc(out, buf_cstr(&b));
      fprintf(out, " — step %zu, %s</li>", t->prompts[i].step + 1,
              t->prompts[i].accepted ? "accepted" : "refused");
      buf_cleanup(&b);
    }
    fputs("</ul>", out);
  }
  fprintf(out, "</td></tr><tr><td>waiting time</td><td class=\"waiting\">%s (%s)</td></tr>", total,
          sim_clock_text(t->clock));
  if (sec->verdict != NULL) {
    bool pass = sec->failures == NULL || sec->failures[0] == '\0';
    fprintf(out, "<tr><td>expectations</td><td class=\"verdict %s\">", pass ? "pass" : "fail");
    fesc(out, sec->verdict);
    if (!pass) {
      fputs("<pre>", out);
      fesc(out, sec->failures);
      fputs("</pre>", out);
    }
    fputs("</td></tr>", out);
  }
  fputs("</table>\n", out);
}

static void section_text(FILE *out, const struct sim_transcript *t) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (mem == NULL) {
    return;
  }
  sim_transcript_text(t, mem, false);
  fclose(mem);
  fputs("<details><summary>transcript</summary><pre class=\"transcript\">", out);
  fesc(out, text);
  fputs("</pre></details>\n", out);
  free(text);
}

void lab_html_text(FILE *out, const char *s) {
  fesc(out, s);
}

void lab_page_html(FILE *out, const struct lab_page *page) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", out);
  fesc(out, page->title);
  fprintf(out, " — autodisco</title><style>%s</style></head>\n<body>\n<h1>", css);
  fesc(out, page->title);
  fputs("</h1>\n<p class=\"source\">", out);
  fesc(out, page->source);
  if (page->lab != NULL && page->lab->domain != NULL) {
    fputs(" · domain ", out);
    fesc(out, page->lab->domain);
  }
  fputs("</p>\n", out);
  for (size_t i = 0; i < page->n_sections; i++) {
    const struct lab_page_section *sec = &page->sections[i];
    fprintf(out, "<section class=\"client\" data-client=\"");
    fesc(out, sec->t->client);
    fputs("\"><h2>", out);
    fesc(out, sec->t->client);
    fputs(", ", out);
    fesc(out, sec->t->email);
    fputs("</h2>\n", out);
    section_summary(out, sec);
    struct diagram d = {.page = page, .t = sec->t};
    draw(&d, out, i);
    section_text(out, sec->t);
    fputs("</section>\n", out);
  }
  if (page->n_findings > 0) {
    fputs("<h2>Findings</h2><ul class=\"findings\">", out);
    for (size_t i = 0; i < page->n_findings; i++) {
      const struct lab_finding *f = &page->findings[i];
      fputs("<li class=\"finding\" data-kind=\"", out);
      fesc(out, f->kind);
      fputs("\">", out);
      fesc(out, f->kind);
      if (f->host != NULL) {
        fputs(" at ", out);
        fesc(out, f->host);
      }
      fputs(": ", out);
      fesc(out, f->text);
      fprintf(out, " (journal line %u)</li>", f->line);
    }
    fputs("</ul>\n", out);
  }
  if (page->n_notes > 0) {
    fputs("<h2>Notes</h2><ul class=\"notes\">", out);
    for (size_t i = 0; i < page->n_notes; i++) {
      fputs("<li>", out);
      fesc(out, page->notes[i]);
      fputs("</li>", out);
    }
    fputs("</ul>\n", out);
  }
  fputs("</body></html>\n", out);
}
