/* tests/fuzz/fuzz_client_answer.c: what the client reads from a server, on arbitrary bytes — a
 * server can send anything: the POX answer classifier (also used for the local XML file), the
 * AutoDV2 JSON "Url" scanner, and the WWW-Authenticate scheme reader. */
#include "client/internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct slice in = {data, size};
  struct sim_answer a;
  sim__classify(&a, 200, NULL, in);
  sim__answer_cleanup(&a);

  char *url = NULL;
  if (sim__json_url(in, &url)) {
    if (url == NULL || url[0] == '\0') {
      abort(); /* true means a non-empty URL */
    }
    struct sim_url u;
    if (sim__url_parse(&u, url)) {
      sim__url_cleanup(&u);
    }
  } else if (url != NULL) {
    abort(); /* false leaves nothing to free */
  }
  free(url);

  if (size < 4096) {
    char *text = str_ndup((const char *) data, size); /* a header value ends at a NUL */
    struct buf schemes;
    buf_init(&schemes, 1024);
    sim__auth_schemes_add(&schemes, text);
    const char *scheme = NULL;
    sim__auth_decide(buf_cstr(&schemes), &scheme);
    buf_cleanup(&schemes);
    free(text);
  }
  return 0;
}
