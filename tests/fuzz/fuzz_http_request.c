/* tests/fuzz/fuzz_http_request.c: raw bytes through the request session — llhttp parsing, the
 * limits, routing and the responders (POX, AutoDV2 query parsing, SOAP, 401 challenges
 * included) — with no sockets. The input is split at
 * its first byte's value to exercise bytes arriving in pieces. */
#include "proxy/http/internal.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static char *protocols[] = {"AutodiscoverV1", "EWS"};
static char *urls[] = {"https://a/autodiscover/autodiscover.xml", "https://a/EWS/Exchange.asmx"};
static char *challenges[] = {"Basic realm=\"x\"", "NTLM"};
static struct scn_header headers[] = {{.name = "X-Lab", .value = "fuzz"}};

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
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "<html>site</html>"},
};
static struct scn_listener listener = {
    .present = true, .routes = routes, .n_routes = sizeof routes / sizeof routes[0]};
static struct scn_host host = {.id = "fuzz"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct http_session s;
  http__session_init(&s, &host, &listener, NULL);
  size_t cut = size > 0 ? data[0] % (size + 1) : 0;
  if (http__session_feed(&s, (struct slice){data, cut})) {
    http__session_feed(&s, (struct slice){data + cut, size - cut});
  }
  http__session_eof(&s);
  http__session_cleanup(&s);
  return 0;
}
