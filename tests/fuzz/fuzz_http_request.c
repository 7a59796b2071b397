/* tests/fuzz/fuzz_http_request.c: raw bytes through the request session — llhttp parsing, the
 * limits, routing and the responders (POX, AutoDV2 query parsing, SOAP, 401 challenges
 * included) — with no sockets. The input is split at
 * its first byte's value to exercise bytes arriving in pieces. A request for the upstream route
 * is made into the request the real server would get (http_forward.c) and ended as the
 * connection would end it — relayed, or a 502 — before the rest is parsed. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static char *protocols[] = {"AutodiscoverV1", "EWS"};
static char *urls[] = {"https://a/autodiscover/autodiscover.xml", "https://a/EWS/Exchange.asmx"};
static char *challenges[] = {"Basic realm=\"x\"", "NTLM"};
static struct scn_header headers[] = {{.name = "X-Lab", .value = "fuzz"}};
/* route.answers: by request count and by the address asked for */
static struct scn_route answers[] = {
    {.kind = SCN_ROUTE_AUTODISCOVER,
     .first_n = 1,
     .counter = 0,
     .ad = {.action = SCN_AD_REDIRECT_ADDR, .redirect_addr = "bob@fabrikam.com"}},
    {.kind = SCN_ROUTE_STATUS,
     .for_email = "alice@contoso.com",
     .first_n = 2,
     .counter = 1,
     .status = 200,
     .body = "\xff\xfe<\0",
     .body_len = 4},
    {.kind = SCN_ROUTE_AUTODISCOVER_V2,
     .for_email = "carol@contoso.com",
     .ad2 = {.protocols = protocols, .urls = urls, .n_protocols = 2}},
};
static uint32_t counts[2];

static struct scn_route routes[] = {
    {.path = "/autodiscover/autodiscover.xml",
     .kind = SCN_ROUTE_AUTODISCOVER,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"}},
    {.path = "/redirect",
     .kind = SCN_ROUTE_REDIRECT,
     .status = 302,
     .location = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"},
    {.path = "/post", .method = "POST", .kind = SCN_ROUTE_STATUS, .status = 401},
    {.path = "/autodiscover/autodiscover.json",
     .kind = SCN_ROUTE_AUTODISCOVER_V2,
     .ad2 = {.protocols = protocols, .urls = urls, .n_protocols = 2}},
    {.path = "/autodiscover/autodiscover.svc",
     .kind = SCN_ROUTE_SOAP,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"}},
    {.path = "/auth",
     .kind = SCN_ROUTE_STATUS,
     .status = 200,
     .body = "ok",
     .headers = headers,
     .n_headers = 1,
     .auth = {.present = true,
              .challenges = challenges,
              .n_challenges = 2,
              .accept_credentials = true}},
    {.path = "/up",
     .kind = SCN_ROUTE_UPSTREAM,
     .status = 502,
     .upstream = {.url = "https://real.example/base",
                  .https = true,
                  .host = "real.example",
                  .port = 443,
                  .base_path = "/base"}},
    {.path = "/answers",
     .kind = SCN_ROUTE_ANSWERS,
     .answers = answers,
     .n_answers = 3,
     .auth = {.present = true, .challenges = challenges, .n_challenges = 1}},
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "<html>site</html>"},
};
static struct http_record record = {.counts = counts, .n_counts = 2};
static struct scn_listener listener = {
    .present = true, .routes = routes, .n_routes = sizeof routes / sizeof routes[0]};
static struct scn_host host = {.id = "fuzz"};

/* forwarded ends the forwarded requests as a connection would: each one's upstream request is
 * built, then it is relayed or answered 502, by the bits of `how`. */
static bool forwarded(struct http_session *s, bool more, uint8_t how) {
  for (int n = 0; more && s->forward != NULL && n < 64; n++) {
    struct buf req;
    buf_init(&req, 4u << 20);
    struct http_upstream_request r = http__session_forward_request(s);
    http__upstream_build(&req, &r);
    buf_cleanup(&req);
    struct http_upstream_end end = {.ok = (how & 1) != 0,
                                    .relayed_any = (how & 2) != 0,
                                    .keep_alive = (how & 4) != 0,
                                    .status = 200,
                                    .length = 3,
                                    .error = (how & 1) != 0 ? NULL : "fuzz"};
    more = http__session_forwarded(s, &end);
    how = (uint8_t) (how >> 1 | how << 7);
  }
  return more;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct http_session s;
  http__session_init(&s, &host, &listener, NULL);
  memset(counts, 0, sizeof counts); /* each input starts with no request answered */
  s.rec = &record;
  size_t cut = size > 0 ? data[0] % (size + 1) : 0;
  uint8_t how = size > 1 ? data[1] : 0;
  if (forwarded(&s, http__session_feed(&s, (struct slice){data, cut}), how)) {
    forwarded(&s, http__session_feed(&s, (struct slice){data + cut, size - cut}), how);
  }
  http__session_eof(&s);
  http__session_cleanup(&s);
  return 0;
}
