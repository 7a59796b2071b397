/* tests/fuzz/fuzz_pox_soap.c: bytes as a SOAP Autodiscover envelope through the libxml2 parser,
 * and a request it accepts through the answer builder (user and domain settings). */
#include "proxy/http/internal.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct http_soap_request req;
  char why[256];
  struct buf out;
  buf_init(&out, 4u << 20);
  if (http__soap_parse(&req, (struct slice){data, size}, why, sizeof why)) {
    struct scn_autodiscover ad = {.action = SCN_AD_SETTINGS,
                                  .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"};
    http__soap_answer(&out, &ad, &req, "fuzz");
  } else {
    http__soap_fault(&out, why);
  }
  buf_cleanup(&out);
  http__soap_request_cleanup(&req);
  return 0;
}
