/* Hashing runs on a thread of its own, one block behind the writes: while
 * libcurl fills one buffer, the other is hashed, so a transfer is bound by
 * the slower of the two, not their sum. One block in flight keeps the hash
 * in byte order. */
#ifndef SC_HASHER_H
#define SC_HASHER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sc_hash;

struct hasher {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sc_hash **h;
	const uint8_t *job;
	size_t len;
	bool busy, stop, running;
	int err;
};

/* Start the thread; *h is the hash it updates (it may be replaced between
 * blocks, after sc_hasher_wait). */
int sc_hasher_start(struct hasher *hs, struct sc_hash **h);
/* Wait until the block in flight is hashed; <0 when hashing failed. */
int sc_hasher_wait(struct hasher *hs);
/* Hash p[0..n) on the thread; p must stay valid until the next submit or
 * wait. */
void sc_hasher_submit(struct hasher *hs, const uint8_t *p, size_t n);
void sc_hasher_stop(struct hasher *hs);

#endif
