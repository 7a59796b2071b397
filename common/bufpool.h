/* common/bufpool.h: a pool of equal read blocks, lent while bytes are in flight. A server that
 * reads into a block of its own per connection keeps that block for the connection's whole life,
 * idle or not; lending one from a pool in libuv's alloc callback and taking it back once the read
 * is consumed makes an idle connection cost no read buffer at all. */
#ifndef AD_COMMON_BUFPOOL_H
#define AD_COMMON_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Blocks of `block_len` bytes; at most `max_idle` returned ones are kept for the next read, the
 * others are freed at once. The fields are read-only for callers. */
struct bufpool {
  size_t block_len;
  size_t max_idle;
  uint8_t **idle; /* returned blocks waiting to be lent again (the most recent last) */
  size_t n_idle;
  size_t n_lent; /* blocks lent and not returned yet */
};

/* bufpool_init prepares an empty pool (nothing is allocated until the first bufpool_get). */
void bufpool_init(struct bufpool *p, size_t block_len, size_t max_idle);
/* bufpool_cleanup frees the idle blocks; every lent block must have been returned. */
void bufpool_cleanup(struct bufpool *p);
/* bufpool_get lends a block of p->block_len bytes (contents undefined): the most recently
 * returned one (still warm in the cache), else a new one. Aborts on out of memory. */
uint8_t *bufpool_get(struct bufpool *p);
/* bufpool_put takes a block back (NULL is fine); it is kept for the next read while fewer than
 * max_idle wait, freed otherwise. */
void bufpool_put(struct bufpool *p, uint8_t *block);
/* bufpool_trim frees idle blocks until at most `keep` wait (a burst is over). */
void bufpool_trim(struct bufpool *p, size_t keep);

#endif
