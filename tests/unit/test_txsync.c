/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of TX stamp elision (audit/core/txsync.c): when a queue is
 * trusted to free what it sends, when it never is again, and which
 * packets a queue that changed its ways gets stamped after the call.
 *
 * The mempool cache and the mbufs are fakes laid out as DPDK's: a pool
 * whose header_size leaves room for the stamp, objects MPA_STAMP_BACK
 * bytes after their stamp word.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "mpaudit_stamp.h"

/* What txsync.c links against, outside the pure module. */
int mpa_logtype;
volatile uint32_t mpa_nohdr_pools;
int32_t mpa_mbuf_stamp_off = -MPA_STAMP_BACK;

int32_t
mpa_stamp_off_of(const struct rte_mempool *mp)
{
	return -MPA_STAMP_BACK;
}
volatile uint32_t mpa_objhist_k;

void
mpa_stamp_side(struct rte_mempool *mp, void *obj, uint64_t stamp)
{
	fail_msg("side table used for a pool with header room");
}

#define NB_OBJS 8
#define OBJ_SIZE 256
#define STAMP 0x1234000000000abcull

static struct rte_mempool pool;
static uint8_t mem[NB_OBJS][OBJ_SIZE] __rte_aligned(64);
static struct rte_mempool_cache cache;

static struct rte_mbuf *
obj(int i)
{
	struct rte_mbuf *m = (struct rte_mbuf *)(void *)&mem[i][MPA_STAMP_BACK];

	return m;
}

static uint64_t
stamp_of(int i)
{
	return *mpa_stamp_slot(obj(i));
}

static int
setup(void **state)
{
	memset(mem, 0, sizeof(mem));
	memset(&cache, 0, sizeof(cache));
	pool.header_size = MPA_STAMP_BACK;
	for (int i = 0; i < NB_OBJS; i++)
		obj(i)->pool = &pool;
	return 0;
}

/* Put objects @p idx[0..n) on the cache, as rte_mempool_put() would. */
static void
put(const int *idx, int n)
{
	for (int i = 0; i < n; i++)
		cache.objs[cache.len++] = obj(idx[i]);
}

/* A burst freed whole and in order counts; MPA_TXSYNC_TRUST of them trust. */
static void
test_learn_trusts(void **state)
{
	struct rte_mbuf *pkts[3] = { obj(1), obj(2), obj(3) };
	int32_t sync = 0;

	for (int b = 0; b < MPA_TXSYNC_TRUST + 5; b++) {
		cache.len = 0;
		put((int []){ 0 }, 1);
		put((int []){ 1, 2, 3 }, 3);
		mpa_txsync_learn(&sync, &cache, pkts, 3);
		assert_int_equal(sync, RTE_MIN(b + 1, MPA_TXSYNC_TRUST));
	}
}

/* The last packet not on top: the driver kept it, never trusted. */
static void
test_learn_kept(void **state)
{
	struct rte_mbuf *pkts[3] = { obj(1), obj(2), obj(3) };
	int32_t sync = 10;

	put((int []){ 1, 2 }, 2);
	mpa_txsync_learn(&sync, &cache, pkts, 3);
	assert_int_equal(sync, MPA_TXSYNC_NEVER);

	/* Freed, but in another order. */
	sync = 10;
	cache.len = 0;
	put((int []){ 3, 2, 1 }, 3);
	mpa_txsync_learn(&sync, &cache, pkts, 3);
	assert_int_equal(sync, MPA_TXSYNC_NEVER);

	/* No cache to look in. */
	sync = 10;
	mpa_txsync_learn(&sync, NULL, pkts, 3);
	assert_int_equal(sync, MPA_TXSYNC_NEVER);
}

/*
 * A flush in the middle: the last packets on top, the first ones gone to
 * the pool. Proves nothing: the count stays.
 */
static void
test_learn_flush_inconclusive(void **state)
{
	struct rte_mbuf *pkts[3] = { obj(1), obj(2), obj(3) };
	int32_t sync = 7;

	put((int []){ 2, 3 }, 2);
	mpa_txsync_learn(&sync, &cache, pkts, 3);
	assert_int_equal(sync, 7);

	/* On top, but under it not the rest of the burst. */
	cache.len = 0;
	put((int []){ 5, 6, 3 }, 3);
	mpa_txsync_learn(&sync, &cache, pkts, 3);
	assert_int_equal(sync, 7);
}

/*
 * A trusted queue kept packets 2 and 4 and freed 1 and 3, no flush: the
 * kept ones are stamped, the freed ones (ours, in the cache) are not,
 * and the queue is never trusted again.
 */
static void
test_lost_stamps_kept(void **state)
{
	struct rte_mbuf *pkts[4] = { obj(1), obj(2), obj(3), obj(4) };
	int32_t sync = MPA_TXSYNC_TRUST;
	uint32_t len0;
	void *top0;

	put((int []){ 0, 5 }, 2);
	len0 = cache.len;
	top0 = cache.objs[len0 - 1];
	put((int []){ 1, 3 }, 2);
	mpa_txsync_lost(&sync, &cache, len0, top0, pkts, 4, STAMP, 0, 0);
	assert_int_equal(sync, MPA_TXSYNC_NEVER);
	assert_int_equal(stamp_of(2), STAMP);
	assert_int_equal(stamp_of(4), STAMP);
	assert_int_equal(stamp_of(1), 0);
	assert_int_equal(stamp_of(3), 0);
	/* Objects that were in the cache before the call are not the burst's. */
	assert_int_equal(stamp_of(0), 0);
	assert_int_equal(stamp_of(5), 0);
}

/*
 * The cache was flushed during the call (shorter than before, or its old
 * top replaced, or nothing to compare with): a freed packet may be in
 * another lcore's hands, so nothing is stamped.
 */
static void
test_lost_flush_stamps_none(void **state)
{
	struct rte_mbuf *pkts[2] = { obj(1), obj(2) };
	int32_t sync = MPA_TXSYNC_TRUST;

	/* Before: 0 5 6 (len 3). After a flush: 1 (len 1). */
	put((int []){ 1 }, 1);
	mpa_txsync_lost(&sync, &cache, 3, obj(6), pkts, 2, STAMP, 0, 0);
	assert_int_equal(sync, MPA_TXSYNC_NEVER);
	assert_int_equal(stamp_of(1), 0);
	assert_int_equal(stamp_of(2), 0);

	/* Long enough again, but the old top overwritten. */
	sync = MPA_TXSYNC_TRUST;
	cache.len = 0;
	put((int []){ 1, 5, 7 }, 3);
	mpa_txsync_lost(&sync, &cache, 2, obj(0), pkts, 2, STAMP, 0, 0);
	assert_int_equal(sync, MPA_TXSYNC_NEVER);
	assert_int_equal(stamp_of(2), 0);

	/* Empty before the call: no top to compare. */
	sync = MPA_TXSYNC_TRUST;
	mpa_txsync_lost(&sync, &cache, 0, NULL, pkts, 2, STAMP, 0, 0);
	assert_int_equal(sync, MPA_TXSYNC_NEVER);
	assert_int_equal(stamp_of(2), 0);
}

static void
test_cache_top(void **state)
{
	assert_false(mpa_cache_top_is(&cache, obj(0)));
	put((int []){ 0, 1 }, 2);
	assert_true(mpa_cache_top_is(&cache, obj(1)));
	assert_false(mpa_cache_top_is(&cache, obj(0)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_learn_trusts, setup),
		cmocka_unit_test_setup(test_learn_kept, setup),
		cmocka_unit_test_setup(test_learn_flush_inconclusive, setup),
		cmocka_unit_test_setup(test_lost_stamps_kept, setup),
		cmocka_unit_test_setup(test_lost_flush_stamps_none, setup),
		cmocka_unit_test_setup(test_cache_top, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
