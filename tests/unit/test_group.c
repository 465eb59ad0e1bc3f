/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of audit/core/group.c: grouping of stuck objects by
 * (pool, holder, lcore, state), the per-group counters and samples, the
 * report order, and the table's capacity limit.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>

#include "core/group.h"
#include "mpaudit_stamp.h"

static struct mpa_group_key
key(uint32_t pool, uint32_t holder, uint8_t lcore, uint8_t state)
{
	struct mpa_group_key k;

	/* Padding zeroed too: the table must not depend on it either way. */
	memset(&k, 0, sizeof(k));
	k.pool = pool;
	k.holder = holder;
	k.lcore = lcore;
	k.state = state;
	return k;
}

static void
assert_key(const struct mpa_group_key *k, uint32_t pool, uint32_t holder,
	   uint8_t lcore, uint8_t state)
{
	assert_int_equal(k->pool, pool);
	assert_int_equal(k->holder, holder);
	assert_int_equal(k->lcore, lcore);
	assert_int_equal(k->state, state);
}

/* Index of the group with key @p k, or -1. */
static int
find(const struct mpa_groups *g, const struct mpa_group_key *k)
{
	for (uint32_t i = 0; i < g->n; i++)
		if (g->v[i].key.pool == k->pool &&
		    g->v[i].key.holder == k->holder &&
		    g->v[i].key.lcore == k->lcore &&
		    g->v[i].key.state == k->state)
			return (int)i;
	return -1;
}

static void
test_one_group_counts(void **state)
{
	struct mpa_groups g = { 0 };
	struct mpa_group_key a = key(0, 7, 3, MPA_ST_APP);

	assert_int_equal(mpa_groups_add(&g, &a, 100, 0x1000, 1), 0);
	assert_int_equal(mpa_groups_add(&g, &a, 300, 0x2000, 0), 0);
	assert_int_equal(mpa_groups_add(&g, &a, 200, 0x3000, 1), 0);
	assert_int_equal(mpa_groups_add(&g, &a, 0, 0x4000, 0), 0);

	assert_int_equal(g.n, 1);
	assert_int_equal(g.dropped, 0);
	assert_key(&g.v[0].key, 0, 7, 3, MPA_ST_APP);
	assert_int_equal(g.v[0].count, 4);
	assert_int_equal(g.v[0].new_count, 2);
	assert_int_equal(g.v[0].max_age_ms, 300);
	assert_int_equal(g.v[0].nsamples, 4);
	assert_int_equal(g.v[0].samples[0], 0x1000);
	assert_int_equal(g.v[0].samples[1], 0x2000);
	assert_int_equal(g.v[0].samples[2], 0x3000);
	assert_int_equal(g.v[0].samples[3], 0x4000);
	mpa_groups_free(&g);
}

/* Only the first MPA_GROUP_SAMPLES addresses are kept. */
static void
test_samples_capped(void **state)
{
	struct mpa_groups g = { 0 };
	struct mpa_group_key a = key(2, 1, 0, MPA_ST_RX);
	struct mpa_group_key b = key(2, 2, 0, MPA_ST_RX);

	assert_int_equal(MPA_GROUP_SAMPLES, 4);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(mpa_groups_add(&g, &a, (int32_t)i,
						0xa000 + i * 64, 0), 0);
	assert_int_equal(mpa_groups_add(&g, &b, 5, 0xb000, 0), 0);

	assert_int_equal(g.n, 2);
	assert_int_equal(g.v[0].count, 10);
	assert_int_equal(g.v[0].new_count, 0);
	assert_int_equal(g.v[0].max_age_ms, 9);
	assert_int_equal(g.v[0].nsamples, 4);
	assert_int_equal(g.v[0].samples[0], 0xa000);
	assert_int_equal(g.v[0].samples[1], 0xa040);
	assert_int_equal(g.v[0].samples[2], 0xa080);
	assert_int_equal(g.v[0].samples[3], 0xa0c0);
	assert_int_equal(g.v[1].count, 1);
	assert_int_equal(g.v[1].nsamples, 1);
	assert_int_equal(g.v[1].samples[0], 0xb000);
	mpa_groups_free(&g);
}

/* Keys that differ in a single field are different groups. */
static void
test_key_fields_distinct(void **state)
{
	const struct mpa_group_key keys[] = {
		key(0, 7, 3, MPA_ST_APP),
		key(1, 7, 3, MPA_ST_APP),
		key(0, 8, 3, MPA_ST_APP),
		key(0, 7, 4, MPA_ST_APP),
		key(0, 7, 3, MPA_ST_RX),
		key(0, 0, MPA_LCORE_NONE, MPA_ST_PMD),
		key(0, 0, MPA_LCORE_NONE, MPA_ST_UNKNOWN),
		key(0, 1u << 23, 3, MPA_ST_APP),
	};
	struct mpa_groups g = { 0 };

	/* Interleaved: the last-hit shortcut must not merge neighbours. */
	for (uint32_t round = 0; round < 3; round++)
		for (uint32_t i = 0; i < RTE_DIM(keys); i++)
			assert_int_equal(mpa_groups_add(&g, &keys[i],
				(int32_t)(i * 10 + round),
				0x100000 * (i + 1) + round, round == 0), 0);

	assert_int_equal(g.n, RTE_DIM(keys));
	assert_int_equal(g.dropped, 0);
	for (uint32_t i = 0; i < RTE_DIM(keys); i++) {
		assert_int_equal(find(&g, &keys[i]), i);
		assert_int_equal(g.v[i].count, 3);
		assert_int_equal(g.v[i].new_count, 1);
		assert_int_equal(g.v[i].max_age_ms, i * 10 + 2);
		assert_int_equal(g.v[i].nsamples, 3);
		for (uint32_t r = 0; r < 3; r++)
			assert_int_equal(g.v[i].samples[r],
					 0x100000 * (i + 1) + r);
	}
	mpa_groups_free(&g);
}

static void
test_sort_order(void **state)
{
	/* Each group: key, number of objects, max age. */
	static const struct {
		uint32_t pool, holder;
		uint8_t lcore, state;
		uint32_t count;
		int32_t age;
	} in[] = {
		{ 0, 1, 0, MPA_ST_APP, 2, 100 },        /* G1 */
		{ 0, 1, 1, MPA_ST_APP, 2, 100 },        /* G5 */
		{ 0, 2, 0, MPA_ST_APP, 5, 10 },         /* G2 */
		{ 1, 0, 0, MPA_ST_APP, 2, 100 },        /* G4 */
		{ 0, 9, 0, MPA_ST_TX, 1, 50000 },       /* G8 */
		{ 0, 3, 0, MPA_ST_APP, 2, 900 },        /* G3 */
		{ 0, 1, 0, MPA_ST_RX, 2, 100 },         /* G6 */
		{ 0, 0, 255, MPA_ST_PMD, 2, 100 },      /* G7 */
	};
	/* Expected order, as indexes into in[]. */
	static const uint32_t want[] = { 2, 5, 7, 0, 6, 1, 3, 4 };
	struct mpa_group_key g1 = key(0, 1, 0, MPA_ST_APP);
	struct mpa_groups g = { 0 };

	/* Ages rise then fall, so max_age is not simply the last one. */
	for (uint32_t i = 0; i < RTE_DIM(in); i++) {
		struct mpa_group_key k = key(in[i].pool, in[i].holder,
					     in[i].lcore, in[i].state);

		for (uint32_t j = 0; j < in[i].count; j++)
			assert_int_equal(mpa_groups_add(&g, &k,
				j == in[i].count / 2 ? in[i].age : in[i].age / 2,
				0x1000 * (i + 1) + j, j == 0), 0);
	}
	assert_int_equal(g.n, RTE_DIM(in));

	mpa_groups_sort(&g);
	assert_int_equal(g.n, RTE_DIM(in));
	assert_int_equal(g.last, 0);
	for (uint32_t r = 0; r < RTE_DIM(want); r++) {
		uint32_t i = want[r];

		assert_key(&g.v[r].key, in[i].pool, in[i].holder, in[i].lcore,
			   in[i].state);
		assert_int_equal(g.v[r].count, in[i].count);
		assert_int_equal(g.v[r].new_count, 1);
		assert_int_equal(g.v[r].max_age_ms, in[i].age);
		assert_int_equal(g.v[r].samples[0], 0x1000 * (i + 1));
	}

	/* Adding after a sort still finds the right group. */
	assert_int_equal(mpa_groups_add(&g, &g1, 7, 0xdead, 0), 0);
	assert_int_equal(g.n, RTE_DIM(in));
	assert_int_equal(g.v[3].count, 3);
	assert_int_equal(g.v[0].count, 5);
	mpa_groups_free(&g);
}

static void
test_sort_small(void **state)
{
	struct mpa_groups g = { 0 };
	struct mpa_group_key a = key(0, 1, 0, MPA_ST_APP);

	mpa_groups_sort(&g);
	assert_int_equal(g.n, 0);
	assert_int_equal(mpa_groups_add(&g, &a, 5, 0x40, 1), 0);
	mpa_groups_sort(&g);
	assert_int_equal(g.n, 1);
	assert_key(&g.v[0].key, 0, 1, 0, MPA_ST_APP);
	assert_int_equal(g.v[0].count, 1);
	mpa_groups_free(&g);
}

/* Reset forgets the groups but keeps the allocation. */
static void
test_reset_keeps_memory(void **state)
{
	struct mpa_groups g = { 0 };
	struct mpa_group_key a = key(0, 1, 0, MPA_ST_APP);
	struct mpa_group *v;
	uint32_t cap;

	for (uint32_t i = 0; i < 40; i++) {
		struct mpa_group_key k = key(0, i + 1, 0, MPA_ST_APP);

		assert_int_equal(mpa_groups_add(&g, &k, 1000, 0x40 * i, 1), 0);
	}
	assert_int_equal(mpa_groups_add(&g, &a, 9000, 0x9000, 1), 0);
	assert_int_equal(g.n, 40);
	v = g.v;
	cap = g.cap;
	assert_true(cap >= 40);

	mpa_groups_reset(&g);
	assert_int_equal(g.n, 0);
	assert_int_equal(g.dropped, 0);
	assert_ptr_equal(g.v, v);
	assert_int_equal(g.cap, cap);

	/* A group re-created after reset starts from zero. */
	assert_int_equal(mpa_groups_add(&g, &a, 10, 0x5000, 0), 0);
	assert_int_equal(g.n, 1);
	assert_ptr_equal(g.v, v);
	assert_key(&g.v[0].key, 0, 1, 0, MPA_ST_APP);
	assert_int_equal(g.v[0].count, 1);
	assert_int_equal(g.v[0].new_count, 0);
	assert_int_equal(g.v[0].max_age_ms, 10);
	assert_int_equal(g.v[0].nsamples, 1);
	assert_int_equal(g.v[0].samples[0], 0x5000);

	mpa_groups_free(&g);
	assert_null(g.v);
	assert_int_equal(g.n, 0);
	assert_int_equal(g.cap, 0);
}

/*
 * Each sample keeps its previous holders through a merge (a retired
 * pool's groups, the driver group): they travel with its address.
 */
static void
test_merge_keeps_history(void **state)
{
	struct mpa_groups g = { 0 };
	struct mpa_group_key k = key(1, 5, 2, MPA_ST_APP);
	struct mpa_group src = { .key = k, .count = 2, .nsamples = 2,
				 .samples = { 0x700, 0x800 },
				 .nprev = { 2, 1 } };

	src.prev[0][0] = (struct mpa_objhist_ent){ 31, 1500, 1 };
	src.prev[0][1] = (struct mpa_objhist_ent){ 30, 1510, 1 };
	src.prev[1][0] = (struct mpa_objhist_ent){ 40, 900, 7 };
	/* A sample counted one by one has none until the scan reads it. */
	assert_int_equal(mpa_groups_add(&g, &k, 100, 0x600, 0), 0);
	assert_int_equal(g.v[0].nprev[0], 0);
	assert_int_equal(mpa_groups_merge(&g, &k, &src), 0);
	assert_int_equal(g.v[0].nsamples, 3);
	assert_int_equal(g.v[0].samples[1], 0x700);
	assert_int_equal(g.v[0].nprev[1], 2);
	assert_int_equal(g.v[0].prev[1][0].holder, 31);
	assert_int_equal(g.v[0].prev[1][0].age_ms, 1500);
	assert_int_equal(g.v[0].prev[1][0].lcore, 1);
	assert_int_equal(g.v[0].prev[1][1].holder, 30);
	assert_int_equal(g.v[0].samples[2], 0x800);
	assert_int_equal(g.v[0].nprev[2], 1);
	assert_int_equal(g.v[0].prev[2][0].holder, 40);
	assert_int_equal(g.v[0].prev[2][0].lcore, 7);
	/* Sorting moves whole groups, histories and all. */
	mpa_groups_add(&g, &(struct mpa_group_key){ 1, 6, 2, MPA_ST_APP }, 1,
		       0x900, 0);
	mpa_groups_add(&g, &(struct mpa_group_key){ 1, 6, 2, MPA_ST_APP }, 1,
		       0xa00, 0);
	mpa_groups_add(&g, &(struct mpa_group_key){ 1, 6, 2, MPA_ST_APP }, 1,
		       0xb00, 0);
	mpa_groups_add(&g, &(struct mpa_group_key){ 1, 6, 2, MPA_ST_APP }, 1,
		       0xc00, 0);
	mpa_groups_sort(&g);
	assert_int_equal(g.v[1].key.holder, 5);
	assert_int_equal(g.v[1].prev[2][0].holder, 40);
	mpa_groups_free(&g);
}

/* At MPA_GROUPS_MAX groups a new key is dropped, known keys still count. */
/*
 * A whole group counted at once: under the given key (the source's own is
 * ignored), counts add, the oldest age wins, samples fill up to the cap;
 * into a full table, all its objects are dropped.
 */
static void
test_merge(void **state)
{
	struct mpa_groups g = { 0 };
	struct mpa_group_key k = key(2, 77, 3, MPA_ST_PMD);
	struct mpa_group src = { .key = key(9, 9, 9, MPA_ST_APP), .count = 1000,
				 .new_count = 10, .max_age_ms = 4000,
				 .nsamples = 3,
				 .samples = { 0x100, 0x200, 0x300 } };
	int i;

	assert_int_equal(mpa_groups_add(&g, &k, 6000, 0x10, 1), 0);
	assert_int_equal(mpa_groups_merge(&g, &k, &src), 0);
	assert_int_equal(g.n, 1);
	i = find(&g, &k);
	assert_int_equal(i, 0);
	assert_key(&g.v[0].key, 2, 77, 3, MPA_ST_PMD);
	assert_int_equal(g.v[0].count, 1001);
	assert_int_equal(g.v[0].new_count, 11);
	assert_int_equal(g.v[0].max_age_ms, 6000);
	assert_int_equal(g.v[0].nsamples, MPA_GROUP_SAMPLES);
	assert_int_equal(g.v[0].samples[0], 0x10);
	assert_int_equal(g.v[0].samples[1], 0x100);
	assert_int_equal(g.v[0].samples[2], 0x200);
	assert_int_equal(g.v[0].samples[3], 0x300);

	/* Into a new key: a new group equal to the source but for its key. */
	k = key(2, 78, 3, MPA_ST_PMD);
	src.max_age_ms = 7000;
	assert_int_equal(mpa_groups_merge(&g, &k, &src), 0);
	i = find(&g, &k);
	assert_int_equal(i, 1);
	assert_int_equal(g.v[1].count, 1000);
	assert_int_equal(g.v[1].new_count, 10);
	assert_int_equal(g.v[1].max_age_ms, 7000);
	assert_int_equal(g.v[1].nsamples, 3);
	assert_int_equal(g.dropped, 0);

	mpa_groups_free(&g);
	g = (struct mpa_groups){ 0 };
	k = key(2, 77, 3, MPA_ST_PMD);
	assert_int_equal(mpa_groups_merge(&g, &k, &src), 0);
	for (uint32_t n = g.n; n < MPA_GROUPS_MAX; n++) {
		struct mpa_group_key f = key(5, n + 100, 0, MPA_ST_RING);

		assert_int_equal(mpa_groups_add(&g, &f, 1, 0, 0), 0);
	}
	k = key(6, 1, 0, MPA_ST_PMD);
	assert_int_equal(mpa_groups_merge(&g, &k, &src), -ENOMEM);
	assert_int_equal(g.dropped, 1000);
	mpa_groups_free(&g);
}

static void
test_capacity_limit(void **state)
{
	struct mpa_groups g = { 0 };
	struct mpa_group_key k;
	uint64_t total = 0;

	assert_int_equal(MPA_GROUPS_MAX, 4096);
	for (uint32_t i = 0; i < MPA_GROUPS_MAX; i++) {
		k = key(i % 3, i + 1, (uint8_t)i, MPA_ST_RING);
		assert_int_equal(mpa_groups_add(&g, &k, (int32_t)i, i, 1), 0);
	}
	assert_int_equal(g.n, MPA_GROUPS_MAX);
	assert_int_equal(g.cap, MPA_GROUPS_MAX);
	assert_int_equal(g.dropped, 0);

	k = key(0, 5000, 0, MPA_ST_RING);
	assert_int_equal(mpa_groups_add(&g, &k, 1, 0x1, 1), -ENOMEM);
	assert_int_equal(g.dropped, 1);
	assert_int_equal(g.n, MPA_GROUPS_MAX);
	assert_int_equal(find(&g, &k), -1);

	/* Known keys, the last one and an early one, are still counted. */
	k = key((MPA_GROUPS_MAX - 1) % 3, MPA_GROUPS_MAX,
		(uint8_t)(MPA_GROUPS_MAX - 1), MPA_ST_RING);
	assert_int_equal(mpa_groups_add(&g, &k, 99999, 0x2, 0), 0);
	assert_int_equal(g.v[MPA_GROUPS_MAX - 1].count, 2);
	assert_int_equal(g.v[MPA_GROUPS_MAX - 1].max_age_ms, 99999);
	k = key(1, 2, 1, MPA_ST_RING);
	assert_int_equal(mpa_groups_add(&g, &k, 0, 0x3, 0), 0);
	assert_int_equal(g.v[1].count, 2);

	k = key(0, 1, 0, MPA_ST_APP);  /* state differs from group 0 */
	assert_int_equal(mpa_groups_add(&g, &k, 1, 0x4, 1), -ENOMEM);
	assert_int_equal(mpa_groups_add(&g, &k, 1, 0x4, 1), -ENOMEM);
	assert_int_equal(g.dropped, 3);
	assert_int_equal(g.n, MPA_GROUPS_MAX);
	assert_int_equal(g.cap, MPA_GROUPS_MAX);

	for (uint32_t i = 0; i < g.n; i++)
		total += g.v[i].count;
	assert_int_equal(total, MPA_GROUPS_MAX + 2);

	/* Reset clears the drop counter; the table is usable again. */
	mpa_groups_reset(&g);
	assert_int_equal(g.dropped, 0);
	assert_int_equal(g.cap, MPA_GROUPS_MAX);
	assert_int_equal(mpa_groups_add(&g, &k, 1, 0x4, 1), 0);
	assert_int_equal(g.n, 1);
	mpa_groups_free(&g);
}

static void
test_free_accepts_empty(void **state)
{
	struct mpa_groups g = { 0 };

	mpa_groups_free(NULL);
	mpa_groups_free(&g);
	mpa_groups_free(&g);
	assert_null(g.v);
	assert_int_equal(g.n, 0);
	assert_int_equal(g.cap, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_group_counts),
		cmocka_unit_test(test_samples_capped),
		cmocka_unit_test(test_key_fields_distinct),
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_sort_small),
		cmocka_unit_test(test_reset_keeps_memory),
		cmocka_unit_test(test_capacity_limit),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_keeps_history),
		cmocka_unit_test(test_free_accepts_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
