/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * objpool: a generic instrumented application (compiled with
 * -include mpaudit_override.h, like any user program) that holds plain,
 * non-mbuf mempool objects, for tests/integration/mpa_it.py.
 *
 * It creates two pools, one cache-aligned (stamps in the header pad) and
 * one RTE_MEMPOOL_F_NO_CACHE_ALIGN (stamps in the side table), fills every
 * object with a byte pattern, then:
 *  - keeps IT_PLAIN_KEEP objects of it_plain and IT_NOCACHE_KEEP of
 *    it_nocache, each set taken at one line (state app);
 *  - parks IT_RING_KEEP objects of it_plain in ring it_ring (state ring);
 *  - gets and puts back many others (must not be reported);
 *  - passes junk pointers (small integers, pointers into the middle of
 *    held objects, into an object header, to the stack, to the heap, NULL)
 *    through ring it_junk, mixed with real objects, and leaves some junk
 *    there: the auditor must ignore them and crash on nothing;
 *  - keeps IT_FREED_KEEP objects of pool it_freed and, after the sleep,
 *    frees that pool with them still out: the report must still show them,
 *    from the pool's last scan before it went;
 *  - sleeps past the stuck threshold;
 *  - checks that every object's pattern and header are intact: the auditor
 *    must never write inside an object, nor in DPDK's object header (all
 *    of it, as it was once the pool was built), whatever MPAUDIT_HISTORY
 *    (exit 1 otherwise);
 *  - prints the ground truth in mpaudit-fwd's format, then calls
 *    rte_eal_cleanup(), which produces the final report, and exits with
 *    mpa_fini()'s verdict.
 *
 * Usage: objpool [EAL options] -- [--sleep-ms MS]
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "mpaudit.h"

#define PROG "objpool"

#define IT_PLAIN_NAME "it_plain"
#define IT_PLAIN_NB 1023
#define IT_PLAIN_SIZE 100
#define IT_PLAIN_CACHE 32
#define IT_PLAIN_SEED 0x5a

#define IT_NOCACHE_NAME "it_nocache"
#define IT_NOCACHE_NB 511
#define IT_NOCACHE_SIZE 40
#define IT_NOCACHE_SEED 0xc3

#define IT_RING_NAME "it_ring"
#define IT_JUNK_NAME "it_junk"
#define IT_RING_SIZE 16
#define IT_JUNK_SIZE 64

/* A pool freed with objects still held: its last scan must be reported. */
#define IT_FREED_NAME "it_freed"
#define IT_FREED_NB 255
#define IT_FREED_SIZE 64
#define IT_FREED_KEEP 4

/* The ground truth: what stays held when the program ends. */
#define IT_PLAIN_KEEP 7
#define IT_NOCACHE_KEEP 5
#define IT_RING_KEEP 3

/* Get/put traffic that must leave nothing behind. */
#define IT_CHURN_ROUNDS 200
#define IT_CHURN_BULK 24

#define IT_DEF_SLEEP_MS 1500
#define IT_MAX_SLEEP_MS 600000

#define EXIT_USAGE 2

/* Most objects of a pool whose header is kept for the check. */
#define IT_HDRS_MAX 1024

struct it_seed {
	uint8_t seed;
	/* Each object's header as DPDK left it, by obj_iter index. */
	struct rte_mempool_objhdr hdrs[IT_HDRS_MAX];
};

struct it_check {
	uint8_t seed;
	const struct rte_mempool_objhdr *hdrs;
	struct rte_mempool *mp;
	unsigned int nb_objs;
	unsigned int nb_bad;
};

static inline uint8_t
it_pattern(uint8_t seed, unsigned int idx, size_t off)
{
	return (uint8_t)(seed ^ (idx * 131u) ^ (off * 7u + 1u));
}

/* obj_init callback of rte_mempool_create(): fill the whole element. */
static void
it_obj_fill(struct rte_mempool *mp, void *opaque, void *obj, unsigned int idx)
{
	struct it_seed *s = opaque;
	uint8_t *p = obj;
	size_t off;

	/* Called once the pool is populated: its headers are final. */
	if (idx < IT_HDRS_MAX)
		s->hdrs[idx] = *rte_mempool_get_header(obj);
	for (off = 0; off < mp->elt_size; off++)
		p[off] = it_pattern(s->seed, idx, off);
}

/* rte_mempool_obj_iter() callback: pattern and header still intact? */
static void
it_obj_check(struct rte_mempool *mp, void *opaque, void *obj, unsigned int idx)
{
	struct it_check *c = opaque;
	const uint8_t *p = obj;
	size_t off;

	c->nb_objs++;
	if (rte_mempool_get_header(obj)->mp != mp ||
	    (idx < IT_HDRS_MAX &&
	     memcmp(rte_mempool_get_header(obj), &c->hdrs[idx],
		    sizeof(c->hdrs[idx])) != 0)) {
		printf(PROG ": CORRUPTED pool=%s object=%u header\n", mp->name,
		       idx);
		c->nb_bad++;
		return;
	}
	for (off = 0; off < mp->elt_size; off++) {
		if (p[off] != it_pattern(c->seed, idx, off)) {
			printf(PROG ": CORRUPTED pool=%s object=%u offset=%zu "
			       "byte=0x%02x expected=0x%02x\n", mp->name, idx,
			       off, p[off], it_pattern(c->seed, idx, off));
			c->nb_bad++;
			return;
		}
	}
}

static unsigned int
it_pool_check(struct rte_mempool *mp, const struct it_seed *s)
{
	struct it_check c = { .seed = s->seed, .hdrs = s->hdrs, .mp = mp };

	rte_mempool_obj_iter(mp, it_obj_check, &c);
	printf(PROG ": pattern pool=%s objects=%u corrupted=%u\n", mp->name,
	       c.nb_objs, c.nb_bad);
	return c.nb_bad + (c.nb_objs != mp->size);
}

/* __FILE__ without leading "./" and "../", as mpaudit reports sites. */
static const char *
it_site_file(void)
{
	const char *f = __FILE__;

	for (;;) {
		if (strncmp(f, "./", 2) == 0)
			f += 2;
		else if (strncmp(f, "../", 3) == 0)
			f += 3;
		else
			return f;
	}
}

static void
it_truth(const char *kind, unsigned int count, const char *pool,
	 const char *state, const char *ring, int line)
{
	printf(PROG ": truth kind=%s count=%u pool=%s state=%s lcore=%u "
	       "port=- queue=- ring=%s site=%s:%d\n", kind, count, pool, state,
	       rte_lcore_id(), ring != NULL ? ring : "-", it_site_file(), line);
}

static void
it_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
it_parse_args(int argc, char **argv, unsigned int *sleep_ms)
{
	unsigned long v;
	char *end;
	int i;

	*sleep_ms = IT_DEF_SLEEP_MS;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sleep-ms") == 0 && i + 1 < argc) {
			errno = 0;
			v = strtoul(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || argv[i][0] == '\0' ||
			    argv[i][0] == '-' || v > IT_MAX_SLEEP_MS) {
				fprintf(stderr, PROG ": invalid value '%s' for "
					"--sleep-ms (0..%u)\n", argv[i],
					IT_MAX_SLEEP_MS);
				return -1;
			}
			*sleep_ms = (unsigned int)v;
		} else {
			fprintf(stderr, PROG ": unknown argument '%s' "
				"(usage: " PROG " [EAL options] -- "
				"[--sleep-ms MS])\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* Traffic that leaves nothing held: get/put, single and bulk. */
static int
it_churn(struct rte_mempool *plain, struct rte_mempool *nocache)
{
	void *objs[IT_CHURN_BULK];
	void *one;
	int r;

	for (r = 0; r < IT_CHURN_ROUNDS; r++) {
		if (rte_mempool_get_bulk(plain, objs, IT_CHURN_BULK) != 0)
			return -1;
		rte_mempool_put_bulk(plain, objs, IT_CHURN_BULK);
		if (rte_mempool_get(nocache, &one) != 0)
			return -1;
		rte_mempool_put(nocache, one);
		if (rte_mempool_get_bulk(nocache, objs, IT_CHURN_BULK) != 0)
			return -1;
		rte_mempool_put_bulk(nocache, objs, IT_CHURN_BULK);
	}
	return 0;
}

/*
 * Junk through a ring, mixed with real objects that come back out and are
 * put back. Some junk stays in it_junk to the end. Nothing here may be
 * stamped (the held objects whose middles are pointed to must keep their
 * app stamp) and nothing may crash.
 */
static int
it_junk(struct rte_ring *junk, struct rte_mempool *plain,
	struct rte_mempool *nocache, void **plain_keep, void **nocache_keep)
{
	int on_stack = 0;
	char *heap = malloc(64);
	void *real[2];
	void *out[IT_JUNK_SIZE];
	void *one;
	unsigned int n, i;
	int rc = -1;

	void *bad[] = {
		(void *)(uintptr_t)0x1,
		(void *)(uintptr_t)0x40,
		(char *)plain_keep[0] + 8,	/* middle of a held object */
		(char *)nocache_keep[0] + 4,	/* same, side-table pool */
		(char *)plain_keep[1] - 8,	/* inside its header */
		(char *)nocache_keep[1] + IT_NOCACHE_SIZE - 1,	/* last byte */
		&on_stack,
		heap,
		NULL,
	};
	const unsigned int nb_bad = RTE_DIM(bad);
	void *mixed[RTE_DIM(bad) + RTE_DIM(real)];

	if (heap == NULL)
		return -1;
	if (rte_mempool_get(plain, &real[0]) != 0)
		goto out;
	if (rte_mempool_get(nocache, &real[1]) != 0) {
		rte_mempool_put(plain, real[0]);
		goto out;
	}

	/* Bulk in, burst out. */
	memcpy(mixed, bad, sizeof(bad));
	mixed[nb_bad] = real[0];
	mixed[nb_bad + 1] = real[1];
	if (rte_ring_enqueue_bulk(junk, mixed, RTE_DIM(mixed), NULL) !=
	    RTE_DIM(mixed))
		goto put;
	n = rte_ring_dequeue_burst(junk, out, RTE_DIM(out), NULL);
	if (n != RTE_DIM(mixed))
		goto put;
	for (i = 0; i < n; i++)
		if (out[i] != mixed[i])
			goto put;

	/* One by one in, bulk out. */
	for (i = 0; i < nb_bad; i++)
		if (rte_ring_enqueue(junk, bad[i]) != 0)
			goto put;
	if (rte_ring_dequeue_bulk(junk, out, nb_bad, NULL) != nb_bad)
		goto put;

	/* Burst in, one by one out. */
	if (rte_ring_enqueue_burst(junk, bad, nb_bad, NULL) != nb_bad)
		goto put;
	for (i = 0; i < nb_bad; i++)
		if (rte_ring_dequeue(junk, &one) != 0 || one != bad[i])
			goto put;

	/* Left in the ring to the end: only pointers that stay valid. */
	if (rte_ring_enqueue_bulk(junk, &bad[2], 4, NULL) != 4)
		goto put;
	rc = 0;
put:
	rte_mempool_put(plain, real[0]);
	rte_mempool_put(nocache, real[1]);
out:
	free(heap);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct it_seed plain_seed = { .seed = IT_PLAIN_SEED };
	static struct it_seed nocache_seed = { .seed = IT_NOCACHE_SEED };
	void *plain_keep[IT_PLAIN_KEEP];
	void *nocache_keep[IT_NOCACHE_KEEP];
	void *ring_objs[IT_RING_KEEP];
	void *freed_keep[IT_FREED_KEEP];
	struct rte_mempool *plain, *nocache, *freed;
	struct rte_ring *ring, *junk;
	int plain_line, nocache_line = 0, ring_get_line, ring_line, freed_line;
	unsigned int sleep_ms, bad = 0, i;
	int ret, rc;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, PROG ": cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		return rte_errno == EINVAL ? EXIT_USAGE : EXIT_FAILURE;
	}
	argc -= ret;
	argv += ret;
	if (it_parse_args(argc, argv, &sleep_ms) != 0) {
		rte_eal_cleanup();
		return EXIT_USAGE;
	}
	printf(PROG ": audited=%d\n", mpa_enabled());

	plain = rte_mempool_create(IT_PLAIN_NAME, IT_PLAIN_NB, IT_PLAIN_SIZE,
				   IT_PLAIN_CACHE, 0, NULL, NULL, it_obj_fill,
				   &plain_seed, (int)rte_socket_id(), 0);
	nocache = rte_mempool_create(IT_NOCACHE_NAME, IT_NOCACHE_NB,
				     IT_NOCACHE_SIZE, 0, 0, NULL, NULL,
				     it_obj_fill, &nocache_seed,
				     (int)rte_socket_id(),
				     RTE_MEMPOOL_F_NO_CACHE_ALIGN);
	ring = rte_ring_create(IT_RING_NAME, IT_RING_SIZE, (int)rte_socket_id(),
			       0);
	junk = rte_ring_create(IT_JUNK_NAME, IT_JUNK_SIZE, (int)rte_socket_id(),
			       0);
	if (plain == NULL || nocache == NULL || ring == NULL || junk == NULL) {
		fprintf(stderr, PROG ": cannot create pools and rings: %s\n",
			rte_strerror(rte_errno));
		goto fail;
	}

	/* The held sets: each taken at one line, which is their site. */
	plain_line = __LINE__; rc = rte_mempool_get_bulk(plain, plain_keep, IT_PLAIN_KEEP);
	if (rc != 0)
		goto nomem;
	for (i = 0; i < IT_NOCACHE_KEEP; i++) {
		nocache_line = __LINE__; rc = rte_mempool_get(nocache, &nocache_keep[i]);
		if (rc != 0)
			goto nomem;
	}
	ring_get_line = __LINE__; rc = rte_mempool_get_bulk(plain, ring_objs, IT_RING_KEEP);
	if (rc != 0)
		goto nomem;
	ring_line = __LINE__; rc = (int)rte_ring_enqueue_bulk(ring, ring_objs, IT_RING_KEEP, NULL);
	if (rc != IT_RING_KEEP) {
		fprintf(stderr, PROG ": cannot enqueue to " IT_RING_NAME "\n");
		goto fail;
	}

	if (it_churn(plain, nocache) != 0)
		goto nomem;
	if (it_junk(junk, plain, nocache, plain_keep, nocache_keep) != 0) {
		fprintf(stderr, PROG ": ring " IT_JUNK_NAME " lost or "
			"changed pointers\n");
		goto fail;
	}

	freed = rte_mempool_create(IT_FREED_NAME, IT_FREED_NB, IT_FREED_SIZE, 0,
				   0, NULL, NULL, NULL, NULL,
				   (int)rte_socket_id(), 0);
	if (freed == NULL)
		goto nomem;
	freed_line = __LINE__; rc = rte_mempool_get_bulk(freed, freed_keep, IT_FREED_KEEP);
	if (rc != 0)
		goto nomem;

	it_sleep_ms(sleep_ms);
	rte_mempool_free(freed);

	bad += it_pool_check(plain, &plain_seed);
	bad += it_pool_check(nocache, &nocache_seed);

	it_truth("app_plain", IT_PLAIN_KEEP, IT_PLAIN_NAME, "app", NULL,
		 plain_line);
	it_truth("app_nocache", IT_NOCACHE_KEEP, IT_NOCACHE_NAME, "app", NULL,
		 nocache_line);
	it_truth("ring_plain", IT_RING_KEEP, IT_PLAIN_NAME, "ring",
		 IT_RING_NAME, ring_line);
	it_truth("app_freed", IT_FREED_KEEP, IT_FREED_NAME, "app", NULL,
		 freed_line);
	/* Before it_ring, the ring's objects were the application's. */
	printf(PROG ": truth prev kind=ring_plain n=1 state=app lcore=%u "
	       "site=%s:%d\n", rte_lcore_id(), it_site_file(), ring_get_line);
	printf(PROG ": in_use %s=%u %s=%u\n",
	       IT_PLAIN_NAME, rte_mempool_in_use_count(plain),
	       IT_NOCACHE_NAME, rte_mempool_in_use_count(nocache));
	fflush(stdout);

	/* The pools stay: the final report, made here, must see them. */
	rte_eal_cleanup();
	rc = mpa_fini();
	if (bad != 0) {
		fprintf(stderr, PROG ": objects were modified\n");
		return EXIT_FAILURE;
	}
	return rc;

nomem:
	fprintf(stderr, PROG ": cannot get objects from the pools\n");
fail:
	rte_eal_cleanup();
	return EXIT_FAILURE;
}
