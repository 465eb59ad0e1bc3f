/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The growth rule (audit/heap/growth.c): which windows of a stack's
 * outstanding bytes say "growing".
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "heap/growth.h"

/* The log type lives in mpaudit.c, not linked here. */
int mpa_logtype;

_Static_assert(MPA_GROWTH_WINDOW == 8, "the windows below are 8 samples");

static int
rule(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f,
     uint64_t g, uint64_t h, uint64_t peak)
{
	const uint64_t w[MPA_GROWTH_WINDOW] = { a, b, c, d, e, f, g, h };

	return mpa_growth_rule(w, peak);
}

/* A list that gains a block a second grows; so does one gaining in steps. */
static void
test_rising(void **state)
{
	(void)state;
	assert_int_equal(rule(512, 1024, 1536, 2048, 2560, 3072, 3584, 4096, 0), 1);
	assert_int_equal(rule(100, 100, 100, 100, 101, 101, 101, 101, 100), 1);
	/* From nothing: a stack that appeared mid-window. */
	assert_int_equal(rule(0, 0, 0, 0, 64, 128, 192, 256, 0), 1);
}

/* Flat, shrinking, or gone: not growing. */
static void
test_not_rising(void **state)
{
	(void)state;
	assert_int_equal(rule(768, 768, 768, 768, 768, 768, 768, 768, 768), 0);
	assert_int_equal(rule(800, 700, 600, 500, 400, 300, 200, 100, 900), 0);
	assert_int_equal(rule(64, 64, 64, 64, 0, 0, 0, 0, 64), 0);
	assert_int_equal(rule(0, 0, 0, 0, 0, 0, 0, 0, 0), 0);
}

/* A rise that has levelled off for a sample of the newer half stops. */
static void
test_levelled_off(void **state)
{
	(void)state;
	assert_int_equal(rule(100, 200, 300, 400, 400, 500, 600, 700, 0), 0);
	assert_int_equal(rule(100, 200, 300, 400, 500, 600, 700, 700, 0), 1);
}

/* A swing that only returns to an earlier high sets no new high. */
static void
test_swing_below_peak(void **state)
{
	(void)state;
	assert_int_equal(rule(872, 880, 888, 896, 904, 912, 916, 920, 920), 0);
	assert_int_equal(rule(872, 880, 888, 896, 904, 912, 916, 920, 903), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rising),
		cmocka_unit_test(test_not_rising),
		cmocka_unit_test(test_levelled_off),
		cmocka_unit_test(test_swing_below_peak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
