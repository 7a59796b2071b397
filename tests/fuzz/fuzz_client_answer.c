/* tests/fuzz/fuzz_client_answer.c: the client's Autodiscover answer classifier on arbitrary
 * bytes — a server can send anything. */
#include "client/internal.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL, (struct slice){data, size});
  sim__answer_cleanup(&a);
  return 0;
}
