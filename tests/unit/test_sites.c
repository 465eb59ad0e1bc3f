/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The count of held objects per holder (audit/core/sites.c): exact
 * totals, the ranking, the MPA_SITES_MAX largest kept when there are
 * more holders, holders interned during a scan, and the table cleared
 * between scans.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/sites.h"

static struct mpa_sites out;

static int
teardown(void **state)
{
	(void)state;
	mpa_sites_free();
	return 0;
}

/* Three holders: counts, stuck counts, oldest ages and the order. */
static void
test_counts_and_rank(void **state)
{
	(void)state;
	assert_int_equal(mpa_sites_begin(10), 0);
	for (int i = 0; i < 5; i++)
		mpa_sites_add(7, 100 + i, i < 2);
	for (int i = 0; i < 9; i++)
		mpa_sites_add(3, 50, 0);
	mpa_sites_add(0, 9000, 1);
	/* Same held as holder 7, more stuck: ranked first of the two. */
	for (int i = 0; i < 5; i++)
		mpa_sites_add(10, 10, 1);
	mpa_sites_end(&out);

	assert_int_equal(out.failed, 0);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.holders, 4);
	assert_int_equal(out.held, 20);
	assert_int_equal(out.unlisted, 0);
	assert_int_equal(out.v[0].holder, 3);
	assert_int_equal(out.v[0].held, 9);
	assert_int_equal(out.v[0].stuck, 0);
	assert_int_equal(out.v[0].max_age_ms, 50);
	assert_int_equal(out.v[1].holder, 10);
	assert_int_equal(out.v[1].stuck, 5);
	assert_int_equal(out.v[2].holder, 7);
	assert_int_equal(out.v[2].held, 5);
	assert_int_equal(out.v[2].stuck, 2);
	assert_int_equal(out.v[2].max_age_ms, 104);
	assert_int_equal(out.v[3].holder, 0);
	assert_int_equal(out.v[3].max_age_ms, 9000);
}

/* The next scan starts from zero: nothing of the last one remains. */
static void
test_cleared_between_scans(void **state)
{
	(void)state;
	assert_int_equal(mpa_sites_begin(4), 0);
	mpa_sites_add(2, 1, 1);
	mpa_sites_add(2, 1, 1);
	mpa_sites_end(&out);
	assert_int_equal(out.n, 1);

	assert_int_equal(mpa_sites_begin(4), 0);
	mpa_sites_add(4, 5, 0);
	mpa_sites_end(&out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.held, 1);
	assert_int_equal(out.v[0].holder, 4);
	assert_int_equal(out.v[0].held, 1);
	assert_int_equal(out.v[0].stuck, 0);
}

/*
 * More holders than MPA_SITES_MAX, holder h holding h objects: the
 * largest are kept, in order, and the rest is counted as unlisted.
 */
static void
test_keeps_the_largest(void **state)
{
	const uint32_t nh = MPA_SITES_MAX + 44;
	uint64_t total = 0, unlisted = 0;

	(void)state;
	/* A growing table: sized for the first scan, then for more. */
	assert_int_equal(mpa_sites_begin(8), 0);
	mpa_sites_end(&out);
	assert_int_equal(mpa_sites_begin(nh), 0);
	/*
	 * Holder h holds h objects. The table is walked by id, so the ids
	 * get their counts in a scrambled order (7 is prime to nh): the
	 * replacement of the smallest kept row meets larger and smaller
	 * rows alike.
	 */
	for (uint32_t i = 0; i < nh; i++) {
		uint32_t id = i + 1, h = (i * 7) % nh + 1;

		for (uint32_t k = 0; k < h; k++)
			mpa_sites_add(id, 1, 0);
	}
	mpa_sites_end(&out);
	for (uint32_t h = 1; h <= nh; h++) {
		total += h;
		if (h <= nh - MPA_SITES_MAX)
			unlisted += h;
	}
	assert_int_equal(out.n, MPA_SITES_MAX);
	assert_int_equal(out.holders, nh);
	assert_int_equal(out.held, total);
	assert_int_equal(out.unlisted, unlisted);
	for (uint32_t i = 0; i < out.n; i++) {
		assert_int_equal(out.v[i].held, nh - i);
		assert_int_equal((out.v[i].holder - 1) * 7 % nh + 1, nh - i);
	}
}

/* A holder interned after the scan began is counted, not listed. */
static void
test_late_holder(void **state)
{
	(void)state;
	assert_int_equal(mpa_sites_begin(5), 0);
	mpa_sites_add(5, 1, 0);
	mpa_sites_add(6, 1, 0);
	mpa_sites_add(600000, 1, 1);
	mpa_sites_end(&out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.held, 3);
	assert_int_equal(out.unlisted, 2);
}

/* Without a table (begin failed or never called), nothing is counted. */
static void
test_not_counting(void **state)
{
	(void)state;
	mpa_sites_add(1, 1, 1);
	mpa_sites_end(&out);
	assert_int_equal(out.failed, 1);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.held, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_counts_and_rank, teardown),
		cmocka_unit_test_teardown(test_cleared_between_scans, teardown),
		cmocka_unit_test_teardown(test_keeps_the_largest, teardown),
		cmocka_unit_test_teardown(test_late_holder, teardown),
		cmocka_unit_test_teardown(test_not_counting, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
