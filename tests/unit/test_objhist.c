/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of the per-object history (MPAUDIT_HISTORY): where its words
 * sit in the object header pad, how the stamping wrappers shift them
 * (mpaudit_stamp.h) and how the scanner decodes them (audit/core/objhist.c).
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
#include "core/objhist.h"

/* What the inline wrappers link against outside the pure modules. */
volatile uint32_t mpa_nohdr_pools;
int32_t mpa_mbuf_stamp_off = -MPA_STAMP_BACK;
/* What pool.c decided for the pool at its attach, as the test says. */
static int32_t attached_off = -MPA_STAMP_BACK;

int32_t
mpa_stamp_off_of(const struct rte_mempool *mp)
{
	return attached_off;
}

void
mpa_stamp_side(struct rte_mempool *mp, void *obj, uint64_t stamp)
{
	fail_msg("side table used for a pool with header room");
}

int
mpa_free_twice(struct rte_mempool *mp, void *obj, uint64_t old,
	       struct rte_mempool_cache *cache, const struct mpa_site *site)
{
	fail_msg("double-free check taken");
	return 0;
}

#define JUNK 0xa5

/*
 * An object with its header pad: the line before it, as a cache-aligned
 * pool lays it out (header_size 64, objhdr in its last 24 bytes).
 */
struct fake_obj {
	unsigned char pad[MPA_STAMP_BACK];
	unsigned char obj[sizeof(struct rte_mbuf)];
} __rte_cache_aligned;

static struct fake_obj fo;

/*
 * A pool as the inline wrappers see it: with no cache, its private data
 * (an mbuf pool's) follows the struct at once (rte_mempool_get_priv()).
 */
struct fake_pool {
	struct rte_mempool mp;
	struct rte_pktmbuf_pool_private priv;
};
/* The object's bytes as the test left them before stamping. */
static unsigned char obj_ref[sizeof(fo.obj)];

static uint64_t *
slot(void)
{
	return mpa_stamp_slot(fo.obj);
}

static uint64_t
word(unsigned int i)
{
	uint64_t w;

	memcpy(&w, fo.pad + i * sizeof(w), sizeof(w));
	return w;
}

/* The bytes outside the stamp and the history words kept their junk. */
static void
assert_rest_untouched(void)
{
	size_t end = (1 + MPA_OBJHIST_MAX) * sizeof(uint64_t);

	for (size_t i = end; i < sizeof(fo.pad); i++)
		assert_int_equal(fo.pad[i], JUNK);
	assert_memory_equal(fo.obj, obj_ref, sizeof(fo.obj));
}

static int
setup(void **state)
{
	memset(&fo, JUNK, sizeof(fo));
	memset(fo.pad, 0, (1 + MPA_OBJHIST_MAX) * sizeof(uint64_t));
	memcpy(obj_ref, fo.obj, sizeof(obj_ref));
	mpa_objhist_k = 0;
	mpa_mbuf_stamp_off = -MPA_STAMP_BACK;
	attached_off = -MPA_STAMP_BACK;
	return 0;
}

/*
 * The words fit between the stamp and DPDK's object header: with the
 * 24-byte header of a build without RTE_LIBRTE_MEMPOOL_DEBUG, four of
 * them, from obj-56 up to obj-24 where the header starts; the debug
 * cookie would make the header 32 bytes and leave three.
 */
static void
test_layout(void **state)
{
	uintptr_t obj = (uintptr_t)fo.obj;
	uintptr_t first = (uintptr_t)(slot() + 1);
	uintptr_t end = (uintptr_t)(slot() + 1 + MPA_OBJHIST_MAX);

	assert_int_equal(sizeof(struct rte_mempool_objhdr), 24);
	assert_int_equal(MPA_OBJHIST_MAX, 4);
	assert_int_equal(obj - first, 56);
	assert_int_equal(obj - end, 24);
	/* Nothing of DPDK's header, nor the stamp, is a history word. */
	assert_true(end <= obj - sizeof(struct rte_mempool_objhdr));
	assert_true(first >= (uintptr_t)slot() + sizeof(uint64_t));
	assert_int_equal(offsetof(struct rte_mempool_objhdr, next), 0);
	/* A cache-aligned pool's pad is the one line before the object. */
	assert_int_equal(obj % RTE_CACHE_LINE_SIZE, 0);
	assert_int_equal(obj - (uintptr_t)slot(), RTE_CACHE_LINE_SIZE);
}

static void
test_store_shifts(void **state)
{
	uint64_t a = mpa_stamp_make(10, 1, 1000);
	uint64_t b = mpa_stamp_make(11, 1, 1001);
	uint64_t c = mpa_stamp_make(12, 2, 1002);

	*slot() = a;
	mpa_objhist_store(slot(), b);
	assert_int_equal(word(0), b);
	assert_int_equal(word(1), a);
	assert_int_equal(word(2), 0);
	mpa_objhist_store(slot(), c);
	assert_int_equal(word(0), c);
	assert_int_equal(word(1), b);
	assert_int_equal(word(2), a);
	assert_int_equal(word(3), 0);
	assert_int_equal(word(4), 0);
	assert_rest_untouched();
}

/* After MPA_OBJHIST_MAX + 1 new holders the oldest is gone. */
static void
test_store_drops_oldest(void **state)
{
	*slot() = mpa_stamp_make(100, 0, 0);
	for (uint32_t h = 101; h <= 106; h++)
		mpa_objhist_store(slot(), mpa_stamp_make(h, 0, h));
	assert_int_equal(mpa_stamp_holder(word(0)), 106);
	for (unsigned int i = 1; i <= MPA_OBJHIST_MAX; i++)
		assert_int_equal(mpa_stamp_holder(word(i)), 106 - i);
	assert_rest_untouched();
}

/* The same holder on the same lcore again: the stamp moves on, no push. */
static void
test_store_same_holder(void **state)
{
	uint64_t a = mpa_stamp_make(20, 3, 500);
	uint64_t a2 = mpa_stamp_make(20, 3, 900);
	uint64_t other_lcore = mpa_stamp_make(20, 4, 950);

	*slot() = a;
	mpa_objhist_store(slot(), a2);
	assert_int_equal(word(0), a2);
	assert_int_equal(word(1), 0);
	/* Another lcore is another holding. */
	mpa_objhist_store(slot(), other_lcore);
	assert_int_equal(word(0), other_lcore);
	assert_int_equal(word(1), a2);
	assert_rest_untouched();
}

/* Freed, then flushed from a cache (another free stamp): one holding. */
static void
test_store_free_twice(void **state)
{
	uint64_t app = mpa_stamp_make(21, 1, 100);
	uint64_t freed = mpa_stamp_make(22 | MPA_HOLDER_FREE_FLAG, 1, 200);
	uint64_t flushed = mpa_stamp_make(MPA_HOLDER_FREE, MPA_LCORE_NONE, 300);

	*slot() = app;
	mpa_objhist_store(slot(), freed);
	mpa_objhist_store(slot(), flushed);
	assert_int_equal(word(0), flushed);
	assert_int_equal(word(1), app);
	assert_int_equal(word(2), 0);
	/* Taken again: the free is a previous holder like any other. */
	mpa_objhist_store(slot(), app);
	assert_int_equal(word(1), flushed);
	assert_int_equal(word(2), app);
	assert_rest_untouched();
}

/* With K = 0 the wrappers' stores leave the history words alone. */
static void
test_wrappers_off_and_on(void **state)
{
	struct fake_pool fp;
	struct rte_mempool *mpp = &fp.mp;
	struct rte_mbuf *pkts[1] = { (struct rte_mbuf *)(void *)fo.obj };

	memset(&fp, 0, sizeof(fp));
	mpp->header_size = MPA_STAMP_BACK;
	pkts[0]->pool = mpp;
	memcpy(obj_ref, fo.obj, sizeof(obj_ref));
	*slot() = mpa_stamp_make(1, 0, 1);
	mpa_stamp_obj(mpp, fo.obj, mpa_stamp_make(2, 0, 2));
	mpa_stamp_burst(pkts, 1, mpa_stamp_make(3, 0, 3));
	assert_int_equal(mpa_stamp_free(mpp, fo.obj, mpa_stamp_make(4, 0, 4),
					NULL, NULL), 0);
	assert_int_equal(mpa_stamp_holder(word(0)), 4);
	for (unsigned int i = 1; i <= MPA_OBJHIST_MAX; i++)
		assert_int_equal(word(i), 0);

	mpa_objhist_k = 2;
	mpa_stamp_obj(mpp, fo.obj, mpa_stamp_make(5, 0, 5));
	mpa_stamp_burst(pkts, 1, mpa_stamp_make(6, 0, 6));
	assert_int_equal(mpa_stamp_free(mpp, fo.obj, mpa_stamp_make(7, 0, 7),
					NULL, NULL), 0);
	assert_int_equal(mpa_stamp_holder(word(0)), 7);
	assert_int_equal(mpa_stamp_holder(word(1)), 6);
	assert_int_equal(mpa_stamp_holder(word(2)), 5);
	assert_int_equal(mpa_stamp_holder(word(3)), 4);
	assert_int_equal(word(4), 0);
	assert_rest_untouched();
}

/*
 * With the dynamic field, an mbuf pool's stamps are in the mbuf's second
 * line at mpa_mbuf_stamp_off and nowhere else; a pool that is not an mbuf
 * pool keeps them in the header pad (or the side table), never in the
 * object.
 */
static void
test_mbuf_stamp_in_dynfield(void **state)
{
	const int32_t off = RTE_ALIGN_FLOOR(sizeof(struct rte_mbuf) -
					    sizeof(uint64_t), sizeof(uint64_t));
	struct fake_pool fp;
	struct rte_mempool *mpp = &fp.mp;
	struct rte_mbuf *pkts[1] = { (struct rte_mbuf *)(void *)fo.obj };
	uint64_t w;

	memset(&fp, 0, sizeof(fp));
	mpp->header_size = MPA_STAMP_BACK;
	mpp->private_data_size = sizeof(fp.priv);
	fp.priv.mbuf_data_room_size = 2048;
	fp.priv.mbuf_priv_size = 64;
	mpp->elt_size = sizeof(struct rte_mbuf) + 64 + 2048;
	pkts[0]->pool = mpp;
	memcpy(obj_ref, fo.obj, sizeof(obj_ref));

	/* Recognition: exact sizes only, pinned external buffers too. */
	assert_int_equal(off, 120);
	assert_int_equal(mpa_mp_is_mbuf(mpp), 1);
	mpp->elt_size += 8;
	assert_int_equal(mpa_mp_is_mbuf(mpp), 0);
	fp.priv.flags = RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF;
	mpp->elt_size = sizeof(struct rte_mbuf) + 64 +
			sizeof(struct rte_mbuf_ext_shared_info);
	assert_int_equal(mpa_mp_is_mbuf(mpp), 1);
	mpp->private_data_size = sizeof(fp.priv) - 1;
	assert_int_equal(mpa_mp_is_mbuf(mpp), 0);
	mpp->private_data_size = sizeof(fp.priv);

	/* Without the field, every pool is stamped by its header room. */
	attached_off = off;
	assert_int_equal(mpa_mp_stamp_off(mpp), -MPA_STAMP_BACK);
	mpp->header_size = 0;
	assert_int_equal(mpa_mp_stamp_off(mpp), MPA_STAMP_OFF_SIDE);
	mpp->header_size = MPA_STAMP_BACK;
	/* With it, as the pool was attached. */
	mpa_mbuf_stamp_off = off;
	assert_int_equal(mpa_mp_stamp_off(mpp), off);

	mpa_stamp_burst(pkts, 1, mpa_stamp_make(3, 0, 3));
	memcpy(&w, fo.obj + off, sizeof(w));
	assert_int_equal(mpa_stamp_holder(w), 3);
	mpa_stamp_obj(mpp, fo.obj, mpa_stamp_make(4, 1, 4));
	assert_int_equal(mpa_stamp_free(mpp, fo.obj, mpa_stamp_make(5, 2, 5),
					NULL, NULL), 0);
	memcpy(&w, fo.obj + off, sizeof(w));
	assert_int_equal(w, mpa_stamp_make(5, 2, 5));
	/* The pad and every other byte of the mbuf are as they were. */
	for (unsigned int i = 0; i <= MPA_OBJHIST_MAX; i++)
		assert_int_equal(word(i), 0);
	memcpy(fo.obj + off, obj_ref + off, sizeof(w));
	assert_rest_untouched();

	/* A pool attached as not an mbuf pool: the header pad. */
	attached_off = -MPA_STAMP_BACK;
	mpa_stamp_obj(mpp, fo.obj, mpa_stamp_make(6, 0, 6));
	assert_int_equal(mpa_stamp_holder(word(0)), 6);
	assert_rest_untouched();
	/*
	 * While such a pool could hold mbufs (mpa_nohdr_pools), a burst
	 * goes by its pools: the same mbuf is stamped in its header.
	 */
	mpa_nohdr_pools = 1;
	mpa_stamp_burst(pkts, 1, mpa_stamp_make(7, 0, 7));
	mpa_nohdr_pools = 0;
	assert_int_equal(mpa_stamp_holder(word(0)), 7);
	assert_rest_untouched();
}

/* A decoder input over the fake object's words, as the scanner reads. */
static struct mpa_objhist_in
input(uint32_t k, uint32_t holder, uint8_t lcore)
{
	static uint64_t words[MPA_OBJHIST_CAP];

	for (unsigned int i = 0; i < MPA_OBJHIST_CAP; i++)
		words[i] = i < MPA_OBJHIST_MAX ? word(i + 1) : 0;
	return (struct mpa_objhist_in){
		.stamp = word(0), .words = words, .nwords = k,
		.holder = holder, .lcore = lcore,
		.now_ms = 5000, .since_ms = 100, .nholders = 64,
	};
}

/*
 * A known path, rx -> ring -> app, decoded exactly: most recent first,
 * each with its lcore and its age at the scan.
 */
static void
test_decode_path(void **state)
{
	uint64_t rx = mpa_stamp_make(30, 1, 1200);
	uint64_t ring = mpa_stamp_make(31, 1, 1210);
	uint64_t app = mpa_stamp_make(32, 2, 1300);
	struct mpa_objhist_ent e[MPA_OBJHIST_CAP];
	struct mpa_objhist_in in;

	*slot() = mpa_stamp_make(MPA_HOLDER_FREE, MPA_LCORE_NONE, 150);
	mpa_objhist_store(slot(), rx);
	mpa_objhist_store(slot(), ring);
	mpa_objhist_store(slot(), app);

	in = input(4, 32, 2);
	assert_int_equal(mpa_objhist_decode(&in, e, 4), 3);
	assert_int_equal(e[0].holder, 31);
	assert_int_equal(e[0].lcore, 1);
	assert_int_equal(e[0].age_ms, 5000 - 1210);
	assert_int_equal(e[1].holder, 30);
	assert_int_equal(e[1].lcore, 1);
	assert_int_equal(e[1].age_ms, 5000 - 1200);
	/* The attach's free stamp: a free holder, flag and all. */
	assert_int_equal(e[2].holder, MPA_HOLDER_FREE);
	assert_int_equal(e[2].lcore, MPA_LCORE_NONE);
	assert_int_equal(e[2].age_ms, 5000 - 150);
	/* A holder id the table has not published (here: beyond 2) is cut. */
	in.nholders = MPA_ST_FREE + 1;
	assert_int_equal(mpa_objhist_decode(&in, e, 4), 0);
	in.nholders = 31;
	assert_int_equal(mpa_objhist_decode(&in, e, 4), 0);
	in.nholders = 64;

	/* K limits what is decoded; so does the caller's room. */
	in = input(1, 32, 2);
	assert_int_equal(mpa_objhist_decode(&in, e, 4), 1);
	assert_int_equal(e[0].holder, 31);
	in = input(4, 32, 2);
	assert_int_equal(mpa_objhist_decode(&in, e, 2), 2);
	assert_int_equal(mpa_objhist_decode(&in, e, 0), 0);
}

/* Not charged to its stamp's holder (found in a ring): the stamp first. */
static void
test_decode_stamp_first(void **state)
{
	struct mpa_objhist_ent e[MPA_OBJHIST_CAP];
	struct mpa_objhist_in in;

	*slot() = mpa_stamp_make(40, 1, 1000);
	mpa_objhist_store(slot(), mpa_stamp_make(41, 1, 1100));
	in = input(2, 50, 1);
	assert_int_equal(mpa_objhist_decode(&in, e, 2), 2);
	assert_int_equal(e[0].holder, 41);
	assert_int_equal(e[0].age_ms, 5000 - 1100);
	assert_int_equal(e[1].holder, 40);
	/* Same holder, other lcore: the stamp is a holder of its own too. */
	in = input(2, 41, 3);
	assert_int_equal(mpa_objhist_decode(&in, e, 2), 2);
	assert_int_equal(e[0].holder, 41);
	assert_int_equal(e[0].lcore, 1);
	/* Never stamped: nothing to say. */
	memset(fo.pad, 0, (1 + MPA_OBJHIST_MAX) * sizeof(uint64_t));
	in = input(2, 0, MPA_LCORE_NONE);
	assert_int_equal(mpa_objhist_decode(&in, e, 2), 0);
}

/* Words that cannot be ours end the history, whatever follows them. */
static void
test_decode_rejects(void **state)
{
	struct mpa_objhist_ent e[MPA_OBJHIST_CAP];
	uint64_t *s = slot();
	struct mpa_objhist_in in;
	static const struct {
		uint64_t bad;
		const char *why;
	} cases[] = {
		{ 0, "never written" },
		{ UINT64_C(0x5a5a5a5a5a5a5a5a), "holder not published" },
		{ ((uint64_t)0 << 40) | 1500, "holder 0" },
		{ ((uint64_t)9 << 40) | 50, "older than the pool's attach" },
		{ ((uint64_t)9 << 40) | 6000, "after the scan" },
		{ ((uint64_t)9 << 40) | 2500, "newer than its successor" },
	};

	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		s[0] = mpa_stamp_make(8, 1, 3000);
		s[1] = mpa_stamp_make(7, 1, 2000);
		s[2] = cases[i].bad;
		s[3] = mpa_stamp_make(5, 1, 1000);
		s[4] = mpa_stamp_make(4, 1, 900);
		in = input(4, 8, 1);
		print_message("case: %s\n", cases[i].why);
		assert_int_equal(mpa_objhist_decode(&in, e, 4), 1);
		assert_int_equal(e[0].holder, 7);
	}
	/* Ages across the 32-bit wrap of the clock. */
	s[0] = mpa_stamp_make(8, 1, 20);
	s[1] = mpa_stamp_make(7, 1, 0xfffffff0u);
	s[2] = 0;
	in = input(4, 8, 1);
	in.now_ms = 30;
	in.since_ms = 0xffffff00u;
	assert_int_equal(mpa_objhist_decode(&in, e, 4), 1);
	assert_int_equal(e[0].age_ms, 30 + 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_layout, setup),
		cmocka_unit_test_setup(test_store_shifts, setup),
		cmocka_unit_test_setup(test_store_drops_oldest, setup),
		cmocka_unit_test_setup(test_store_same_holder, setup),
		cmocka_unit_test_setup(test_store_free_twice, setup),
		cmocka_unit_test_setup(test_wrappers_off_and_on, setup),
		cmocka_unit_test_setup(test_mbuf_stamp_in_dynfield, setup),
		cmocka_unit_test_setup(test_decode_path, setup),
		cmocka_unit_test_setup(test_decode_stamp_first, setup),
		cmocka_unit_test_setup(test_decode_rejects, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
