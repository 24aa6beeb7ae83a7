#include "hasher.h"
#include "hash.h"



static void *hasher_main(void *ud)
{
	struct hasher *hs = ud;
	pthread_mutex_lock(&hs->mu);
	for (;;) {
		while (!hs->busy && !hs->stop)
			pthread_cond_wait(&hs->cv, &hs->mu);
		if (!hs->busy)
			break;
		struct sc_hash *h = *hs->h;
		const uint8_t *p = hs->job;
		size_t n = hs->len;
		pthread_mutex_unlock(&hs->mu);
		int r = sc_hash_update(h, p, n);
		pthread_mutex_lock(&hs->mu);
		if (r < 0)
			hs->err = r;
		hs->busy = false;
		pthread_cond_broadcast(&hs->cv);
	}
	pthread_mutex_unlock(&hs->mu);
	return NULL;
}

int sc_hasher_start(struct hasher *hs, struct sc_hash **h)
{
	*hs = (struct hasher){ .h = h };
	pthread_mutex_init(&hs->mu, NULL);
	pthread_cond_init(&hs->cv, NULL);
	if (pthread_create(&hs->th, NULL, hasher_main, hs) != 0)
		return -EAGAIN;
	hs->running = true;
	return 0;
}

/* Wait until the block in flight is hashed. */
int sc_hasher_wait(struct hasher *hs)
{
	pthread_mutex_lock(&hs->mu);
	while (hs->busy)
		pthread_cond_wait(&hs->cv, &hs->mu);
	int r = hs->err;
	pthread_mutex_unlock(&hs->mu);
	return r;
}

void sc_hasher_submit(struct hasher *hs, const uint8_t *p, size_t n)
{
	pthread_mutex_lock(&hs->mu);
	while (hs->busy)
		pthread_cond_wait(&hs->cv, &hs->mu);
	hs->job = p;
	hs->len = n;
	hs->busy = true;
	pthread_cond_broadcast(&hs->cv);
	pthread_mutex_unlock(&hs->mu);
}

void sc_hasher_stop(struct hasher *hs)
{
	if (!hs->running)
		return;
	pthread_mutex_lock(&hs->mu);
	hs->stop = true;
	pthread_cond_broadcast(&hs->cv);
	pthread_mutex_unlock(&hs->mu);
	pthread_join(hs->th, NULL);
	pthread_mutex_destroy(&hs->mu);
	pthread_cond_destroy(&hs->cv);
	hs->running = false;
}
