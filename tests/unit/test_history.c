/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The per-pool history ring and the drain forecast (audit/core/history.c),
 * on made-up scans whose true leak rate is known.
 */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/history.h"

#define POOL_SIZE 8191u

/* A deterministic generator for the traffic's swings. */
static uint32_t rng = 12345;

static uint32_t
next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 16) & 0x7fff;
}

static void
add_stuck(struct mpa_history *h, uint32_t cap, uint32_t t, uint32_t in_use,
	  uint32_t stuck)
{
	struct mpa_hist_sample s = {
		.t_ms = t, .in_use = in_use, .stuck = stuck,
		.nfree = POOL_SIZE - in_use,
	};

	assert_int_equal(mpa_history_add(h, cap, &s), 0);
}

/* A scan that finds nothing stuck. */
static void
add(struct mpa_history *h, uint32_t cap, uint32_t t, uint32_t in_use)
{
	add_stuck(h, cap, t, in_use, 0);
}

/* The ring keeps the newest cap samples, oldest first. */
static void
test_ring_wraps(void **state)
{
	struct mpa_history h = { 0 };

	for (uint32_t i = 0; i < 10; i++)
		add(&h, 4, i * 100, i);
	assert_int_equal(h.n, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(mpa_history_at(&h, i)->in_use, 6 + i);
		assert_int_equal(mpa_history_at(&h, i)->t_ms, (6 + i) * 100);
	}
	mpa_history_free(&h);
	assert_null(h.v);
	assert_int_equal(h.n, 0);
	mpa_history_free(&h);   /* twice: harmless */
	struct mpa_hist_sample s = { 0 };
	assert_int_equal(mpa_history_add(&h, 0, &s), -EINVAL);
}

/* Too few samples, or too short a span: no judgement. */
static void
test_not_enough(void **state)
{
	struct mpa_history h = { 0 };
	struct mpa_forecast f;

	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.valid, 0);
	assert_true(f.exhaust_s < 0);
	for (uint32_t i = 0; i < 15; i++)
		add(&h, 100, i * 1000, 100 + 10 * i);
	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.valid, 0);          /* 15 < 16 samples */
	mpa_history_free(&h);
	for (uint32_t i = 0; i < 40; i++)
		add(&h, 100, i * 100, 100 + 10 * i);
	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.valid, 0);          /* 3.9 s < 5 s */
	assert_int_equal(f.span_ms, 3900);
	mpa_history_free(&h);
}

/*
 * A leak of 20 objects/s under bursts of up to 400 objects, scanned every
 * 250 ms for 60 s: the rate within 2 %, exhaustion from the free count.
 */
static void
test_leak_under_bursts(void **state)
{
	struct mpa_history h = { 0 };
	struct mpa_forecast f;
	uint32_t in_use = 0;

	for (uint32_t i = 0; i < 240; i++) {
		uint32_t t = 1000 + i * 250;
		uint32_t base = 300 + (uint32_t)(20.0 * (t - 1000) / 1000.0);

		/* One scan in four sees the datapath drained; what leaked
		 * more than 500 ms ago is stuck.
		 */
		in_use = base + (i % 4 == 0 ? 0 : next_rand() % 400);
		add_stuck(&h, 3600, t, in_use,
			  t < 1500 ? 0 : (uint32_t)(20.0 * (t - 1500) / 1000.0));
	}
	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.valid, 1);
	assert_int_equal(f.growing, 1);
	assert_int_equal(f.samples, 240);
	assert_int_equal(f.span_ms, 239 * 250);
	assert_int_equal(f.kendall, 28);
	assert_true(fabs(f.rate_per_s - 20.0) < 0.4);
	assert_true(fabs(f.exhaust_s - (POOL_SIZE - in_use) / f.rate_per_s) <
		    1e-6);
	mpa_history_free(&h);
}

/*
 * A pool that only fluctuates (bursts up to 2000 over a floor of 500,
 * the floor itself wandering by 3): growing never, at any point of a
 * long run.
 */
static void
test_fluctuating_never_drains(void **state)
{
	struct mpa_history h = { 0 };
	struct mpa_forecast f;

	for (uint32_t i = 0; i < 4000; i++) {
		uint32_t floor = 500 + next_rand() % 4;

		add(&h, 600, i * 100, floor + (i % 3 == 0 ? 0 :
					       next_rand() % 2000));
		mpa_forecast(&h, POOL_SIZE, &f);
		assert_int_equal(f.growing, 0);
		assert_true(f.exhaust_s < 0);
	}
	assert_int_equal(f.valid, 1);
	assert_int_equal(f.samples, 600);
	mpa_history_free(&h);
}

/* A pool draining back (in use falling): never forecast to run dry. */
static void
test_falling(void **state)
{
	struct mpa_history h = { 0 };
	struct mpa_forecast f;

	for (uint32_t i = 0; i < 100; i++)
		add(&h, 3600, i * 100, 5000 - 40 * i);
	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.valid, 1);
	assert_int_equal(f.growing, 0);
	assert_int_equal(f.kendall, -28);
	assert_true(fabs(f.rate_per_s + 400.0) < 1e-6);
	mpa_history_free(&h);
}

/* A floor that rose once and then stays: no drain from a step alone. */
static void
test_step_then_flat(void **state)
{
	struct mpa_history h = { 0 };
	struct mpa_forecast f;

	for (uint32_t i = 0; i < 400; i++)
		add(&h, 3600, i * 100, i < 20 ? 100 : 300);
	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.valid, 1);
	assert_int_equal(f.growing, 0);
	assert_int_equal(f.kendall, 7);
	mpa_history_free(&h);
}

/*
 * A clean pipeline whose ring of 4095 fills over 8 s as RX outruns the
 * worker, then stays full (in use 64 + 512 a second up to 4159), scanned
 * every 200 ms for 16 s. The in-use floor rises as steadily as a leak's,
 * but its objects keep moving and nothing turns stuck: no drain. The same
 * scans with the rise left behind as stuck objects are one.
 */
static void
test_ring_fills(void **state)
{
	struct mpa_history h = { 0 }, leak = { 0 };
	struct mpa_forecast f;

	for (uint32_t i = 0; i < 80; i++) {
		uint32_t in_use = 64 + 512 * i / 5;

		if (in_use > 4159)
			in_use = 4159;
		add(&h, 3600, i * 200, in_use);
		add_stuck(&leak, 3600, i * 200, in_use, in_use - 64);
	}
	/*
	 * Floors 64, 1088, 2112, 3136 at 0, 2, 4, 6 s, then 4159 four
	 * times: 22 pairs rising, none falling; the median of the 28
	 * slopes is 324.13/s.
	 */
	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.valid, 1);
	assert_int_equal(f.kendall, 22);
	assert_true(fabs(f.rate_per_s - 324.1333333) < 1e-3);
	assert_int_equal(f.growing, 0);
	assert_true(f.exhaust_s < 0);
	mpa_forecast(&leak, POOL_SIZE, &f);
	assert_int_equal(f.growing, 1);
	assert_true(fabs(f.exhaust_s - (POOL_SIZE - 4159) / f.rate_per_s) <
		    1e-6);
	mpa_history_free(&h);
	mpa_history_free(&leak);
}

/* The coarse clock wraps at 2^32 ms: the span stays right. */
static void
test_clock_wrap(void **state)
{
	struct mpa_history h = { 0 };
	struct mpa_forecast f;

	for (uint32_t i = 0; i < 100; i++)
		add_stuck(&h, 3600, UINT32_MAX - 5000 + i * 100, 100 + 2 * i,
			  2 * i);
	mpa_forecast(&h, POOL_SIZE, &f);
	assert_int_equal(f.span_ms, 9900);
	assert_int_equal(f.growing, 1);
	assert_true(fabs(f.rate_per_s - 20.0) < 1e-6);
	assert_true(fabs(f.exhaust_s - (POOL_SIZE - 298) / 20.0) < 1e-6);
	mpa_history_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_not_enough),
		cmocka_unit_test(test_leak_under_bursts),
		cmocka_unit_test(test_fluctuating_never_drains),
		cmocka_unit_test(test_falling),
		cmocka_unit_test(test_step_then_flat),
		cmocka_unit_test(test_ring_fills),
		cmocka_unit_test(test_clock_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
