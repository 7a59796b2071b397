/* common/bufpool.c: equal blocks lent for one read and taken back, a few kept warm. */
#include "common/bufpool.h"

#include "common/buf.h"

#include <assert.h>
#include <stdlib.h>

void bufpool_init(struct bufpool *p, size_t block_len, size_t max_idle) {
  assert(block_len > 0);
  p->block_len = block_len;
  p->max_idle = max_idle;
  p->idle = NULL;
  p->n_idle = 0;
  p->n_lent = 0;
}

void bufpool_cleanup(struct bufpool *p) {
  assert(p->n_lent == 0);
  bufpool_trim(p, 0);
  free(p->idle);
  p->idle = NULL;
}

uint8_t *bufpool_get(struct bufpool *p) {
  uint8_t *block;
  if (p->n_idle > 0) {
    block = p->idle[--p->n_idle];
  } else {
    block = malloc(p->block_len);
    if (block == NULL) {
      abort(); /* out of memory is not an input error (common/buf.h, xcalloc) */
    }
  }
  p->n_lent++;
  return block;
}

void bufpool_put(struct bufpool *p, uint8_t *block) {
  if (block == NULL) {
    return;
  }
  assert(p->n_lent > 0);
  p->n_lent--;
  if (p->n_idle >= p->max_idle) {
    free(block);
    return;
  }
  if (p->idle == NULL) {
    p->idle = xcalloc(p->max_idle, sizeof *p->idle); /* max_idle > n_idle >= 0 here */
  }
  p->idle[p->n_idle++] = block;
}

void bufpool_trim(struct bufpool *p, size_t keep) {
  while (p->n_idle > keep) {
    free(p->idle[--p->n_idle]);
  }
}
