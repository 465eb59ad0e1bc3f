/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * ringchurn: an instrumented application that creates and frees rings
 * while the auditor watches them and scans every millisecond, for the
 * fault tests (tests/integration/mpa_fault_it.py).
 *
 * CHURN_RINGS times: create a ring, enqueue CHURN_PER_RING mbufs through
 * it (the auditor starts watching it), let a few scans read it, dequeue
 * them back and free the ring, with the mbufs back in the pool. A small
 * rte_malloc block taken after each free keeps the next ring from reusing
 * the freed ring's address, so these are CHURN_RINGS distinct rings: more
 * than the auditor watches at once (MPA_RINGS_MAX), so freed rings must
 * leave the table. Last, CHURN_KEEP mbufs are left in one ring
 * that stays: the exact leak of the report. Usage: ringchurn [EAL options]
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "mpaudit.h"

#define PROG "ringchurn"
#define CHURN_POOL "churn_pool"
#define CHURN_POOL_SIZE 1023
#define CHURN_RINGS 200
#define CHURN_PER_RING 8
#define CHURN_RING_SIZE 64
#define CHURN_KEEP 5
#define CHURN_LAST "churn_last"
#define CHURN_NAP_US 2000
#define CHURN_SPACER_BYTES 64
#define CHURN_SLEEP_MS 1500

/* __FILE__ without leading "./" and "../", as mpaudit reports sites. */
static const char *
site_file(const char *f)
{
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
nap_us(long us)
{
	const struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
	static void *spacer[CHURN_RINGS];
	const struct rte_ring *first = NULL;
	unsigned int reused = 0;
	struct rte_mbuf *m[CHURN_PER_RING];
	struct rte_mempool *mp;
	struct rte_ring *r;
	char name[RTE_RING_NAMESIZE];
	unsigned int line;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, PROG ": EAL init failed\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create(CHURN_POOL, CHURN_POOL_SIZE, 32, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, PROG ": cannot create %s\n", CHURN_POOL);
		return 1;
	}
	for (int i = 0; i < CHURN_RINGS; i++) {
		snprintf(name, sizeof(name), "churn_%d", i);
		r = rte_ring_create(name, CHURN_RING_SIZE, rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (r == NULL || rte_pktmbuf_alloc_bulk(mp, m, CHURN_PER_RING) != 0 ||
		    rte_ring_enqueue_bulk(r, (void **)m, CHURN_PER_RING, NULL) !=
		    CHURN_PER_RING) {
			fprintf(stderr, PROG ": ring %s set-up failed\n", name);
			return 1;
		}
		nap_us(CHURN_NAP_US);
		if (rte_ring_dequeue_bulk(r, (void **)m, CHURN_PER_RING, NULL) !=
		    CHURN_PER_RING) {
			fprintf(stderr, PROG ": ring %s lost mbufs\n", name);
			return 1;
		}
		if (first == NULL)
			first = r;
		else if (r == first)
			reused++;
		rte_ring_free(r);
		spacer[i] = rte_malloc("churn_spacer", CHURN_SPACER_BYTES, 0);
		for (int k = 0; k < CHURN_PER_RING; k++)
			rte_pktmbuf_free(m[k]);
	}
	for (int i = 0; i < CHURN_RINGS; i++)
		rte_free(spacer[i]);
	r = rte_ring_create(CHURN_LAST, CHURN_RING_SIZE, rte_socket_id(),
			    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL || rte_pktmbuf_alloc_bulk(mp, m, CHURN_KEEP) != 0) {
		fprintf(stderr, PROG ": last ring set-up failed\n");
		return 1;
	}
	line = __LINE__ + 1;
	if (rte_ring_enqueue_bulk(r, (void **)m, CHURN_KEEP, NULL) != CHURN_KEEP) {
		fprintf(stderr, PROG ": last ring refused mbufs\n");
		return 1;
	}
	nap_us(CHURN_SLEEP_MS * 1000L);
	printf(PROG ": %d rings created and freed, %u at the first one's address\n",
	       CHURN_RINGS, reused);
	printf(PROG ": truth kind=ring_keep count=%d pool=%s state=ring lcore=%u port=- queue=- ring=%s site=%s:%u\n",
	       CHURN_KEEP, CHURN_POOL, rte_lcore_id(), CHURN_LAST,
	       site_file(__FILE__), line);
	fflush(stdout);
	rte_eal_cleanup();
	return mpa_fini();
}
