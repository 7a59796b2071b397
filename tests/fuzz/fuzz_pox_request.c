/* tests/fuzz/fuzz_pox_request.c: bytes as a POX request body through the libxml2 parser, and a
 * request it accepts through the answer builder. */
#include "proxy/http/internal.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct http_pox_request req;
  char why[256];
  enum http_pox_parse st = http__pox_parse(&req, (struct slice){data, size}, why, sizeof why);
  if (st == HTTP_POX_OK) {
    struct scn_autodiscover ad = {.action = SCN_AD_SETTINGS,
                                  .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"};
    struct buf out;
    buf_init(&out, 1u << 20);
    http__pox_answer(&out, &ad, &req, "fuzz");
    buf_cleanup(&out);
  }
  http__pox_request_cleanup(&req);
  return 0;
}
