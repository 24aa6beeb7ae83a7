#include "pool.h"
#include "util.h"

#include <pthread.h>

struct pool {
	size_t n, next;
	int (*fn)(void *ud, size_t i, sc_err *e);
	void *ud;
	int err;
	sc_err e;
	pthread_mutex_t lock;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	sc_big_keep(true);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		bool stop = p->err < 0 || i >= p->n;
		pthread_mutex_unlock(&p->lock);
		if (stop) {
			sc_big_keep(false);
			return NULL;
		}
		sc_err e;
		int r = p->fn(p->ud, i, &e);
		if (r < 0) {
			pthread_mutex_lock(&p->lock);
			if (p->err >= 0) {
				p->err = r;
				p->e = e;
			}
			pthread_mutex_unlock(&p->lock);
		}
	}
}

int sc_pool_run(size_t n, int (*fn)(void *ud, size_t i, sc_err *e), void *ud, sc_err *e)
{
	struct pool p = { .n = n, .fn = fn, .ud = ud };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t threads = cpus < 1 ? 1 : cpus > 8 ? 8 : (size_t)cpus, started = 0;
	pthread_t th[8];
	if (threads > n)
		threads = n;
	pthread_mutex_init(&p.lock, NULL);
	for (size_t i = 1; i < threads; i++)
		if (pthread_create(&th[started], NULL, pool_worker, &p) == 0)
			started++;
	pool_worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.lock);
	if (p.err < 0)
		return sc_error(e, p.err, "%s", p.e.msg);
	return 0;
}

