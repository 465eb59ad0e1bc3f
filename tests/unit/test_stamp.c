/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of the stamp encoding in include/mpaudit_stamp.h: the 64-bit
 * word is holder id (bits 63..40), lcore (39..32) and coarse time (31..0).
 * Every field is checked at its limits, alone and next to all-ones
 * neighbours, so a field that spills into another is caught. The stamp
 * location is checked against DPDK's own header size computation.
 *
 * Only the inline helpers are exercised: nothing here references the
 * datapath globals (mpa_on, mpa_hcache, ...), so no auditor library is
 * linked.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "mpaudit_stamp.h"

#define TIME_MAX UINT32_MAX

/* Check that @p s decodes to exactly (holder, lcore, time). */
#define assert_fields(...) assert_fields_line(__LINE__, __VA_ARGS__)

static void
assert_fields_line(int line, uint64_t s, uint32_t holder, unsigned int lcore,
		   uint32_t time)
{
	if (mpa_stamp_holder(s) != holder || mpa_stamp_lcore(s) != lcore ||
	    mpa_stamp_time(s) != time)
		fail_msg("line %d: stamp %#llx: got holder %#x lcore %#x time %#x, expected holder %#x lcore %#x time %#x",
			 line, (unsigned long long)s, mpa_stamp_holder(s),
			 mpa_stamp_lcore(s), mpa_stamp_time(s), holder, lcore,
			 time);
}

/* The field layout constants the encoding is built from. */
static void
test_layout_constants(void **state)
{
	assert_int_equal(MPA_STAMP_TIME_BITS, 32);
	assert_int_equal(MPA_STAMP_LCORE_SHIFT, 32);
	assert_int_equal(MPA_STAMP_HOLDER_SHIFT, 40);
	assert_int_equal(MPA_HOLDER_MAX, 0xffffff);
	assert_int_equal(MPA_LCORE_NONE, 0xff);
	/* Every EAL lcore id fits below the "not an lcore" value. */
	assert_true(RTE_MAX_LCORE <= MPA_LCORE_NONE);
}

/* Each field lands at its documented bit position. */
static void
test_exact_bits(void **state)
{
	assert_int_equal(mpa_stamp_make(0xABCDEF, 0x12, 0x3456789A),
			 0xABCDEF123456789Aull);
	assert_int_equal(mpa_stamp_make(0, 0, 0), 0);
	assert_int_equal(mpa_stamp_make(1, 0, 0), 0x0000010000000000ull);
	assert_int_equal(mpa_stamp_make(0, 1, 0), 0x0000000100000000ull);
	assert_int_equal(mpa_stamp_make(0, 0, 1), 0x0000000000000001ull);
	assert_int_equal(mpa_stamp_make(MPA_HOLDER_MAX, 0, 0),
			 0xFFFFFF0000000000ull);
	assert_int_equal(mpa_stamp_make(0, MPA_LCORE_NONE, 0),
			 0x000000FF00000000ull);
	assert_int_equal(mpa_stamp_make(0, 0, TIME_MAX), 0x00000000FFFFFFFFull);
	assert_int_equal(mpa_stamp_make(MPA_HOLDER_MAX, MPA_LCORE_NONE, TIME_MAX),
			 UINT64_MAX);
}

/* Holder ids at the limits, with zero and all-ones neighbours. */
static void
test_holder_round_trip(void **state)
{
	static const uint32_t holders[] = { 0, 1, 2, 0x800000, MPA_HOLDER_MAX };

	for (size_t i = 0; i < RTE_DIM(holders); i++) {
		uint32_t h = holders[i];

		assert_fields(mpa_stamp_make(h, 0, 0), h, 0, 0);
		assert_fields(mpa_stamp_make(h, MPA_LCORE_NONE, TIME_MAX),
			      h, MPA_LCORE_NONE, TIME_MAX);
		assert_fields(mpa_stamp_make(h, 127, 0x80000000u),
			      h, 127, 0x80000000u);
	}
	assert_int_equal(mpa_stamp_make(1, 0, 0) >> MPA_STAMP_HOLDER_SHIFT, 1);
	assert_int_equal(mpa_stamp_holder(0xFFFFFF0000000000ull), MPA_HOLDER_MAX);
	assert_int_equal(mpa_stamp_holder(0x000000FFFFFFFFFFull), 0);
}

/*
 * A holder id wider than 24 bits loses its high bits (they are shifted out
 * of the word); it never reaches the lcore or time fields.
 */
static void
test_holder_overflow_stays_in_field(void **state)
{
	assert_int_equal(mpa_stamp_make(MPA_HOLDER_MAX + 1, 0, 0), 0);
	assert_fields(mpa_stamp_make(UINT32_MAX, 0x34, 0x5678),
		      MPA_HOLDER_MAX, 0x34, 0x5678);
	assert_fields(mpa_stamp_make(0x01000002, 0, 0), 2, 0, 0);
}

/* lcore values at the limits. */
static void
test_lcore_round_trip(void **state)
{
	static const unsigned int lcores[] = { 0, 1, 127, 128, 254, MPA_LCORE_NONE };

	for (size_t i = 0; i < RTE_DIM(lcores); i++) {
		unsigned int l = lcores[i];

		assert_fields(mpa_stamp_make(0, l, 0), 0, l, 0);
		assert_fields(mpa_stamp_make(MPA_HOLDER_MAX, l, TIME_MAX),
			      MPA_HOLDER_MAX, l, TIME_MAX);
	}
	assert_int_equal(mpa_stamp_lcore(0xFFFFFF00FFFFFFFFull), 0);
	assert_int_equal(mpa_stamp_lcore(0x000000FF00000000ull), MPA_LCORE_NONE);
}

/* An lcore above 0xff is masked to its low byte: the holder is untouched. */
static void
test_lcore_masked(void **state)
{
	assert_int_equal(mpa_stamp_make(0, 0x100, 0), 0);
	assert_int_equal(mpa_stamp_make(0, 0x1ff, 0), 0x000000FF00000000ull);
	assert_int_equal(mpa_stamp_make(0, 0x1234, 0), 0x0000003400000000ull);
	assert_int_equal(mpa_stamp_make(0, UINT32_MAX, 0), 0x000000FF00000000ull);
	assert_fields(mpa_stamp_make(0, 0x1ff, 0), 0, 0xff, 0);
	assert_fields(mpa_stamp_make(0, UINT32_MAX, 0), 0, 0xff, 0);
	assert_fields(mpa_stamp_make(0xABCDEF, 0x3ff, 7), 0xABCDEF, 0xff, 7);
	assert_fields(mpa_stamp_make(0xABCDEF, RTE_MAX_LCORE + 0x100, 7),
		      0xABCDEF, RTE_MAX_LCORE, 7);
	assert_fields(mpa_stamp_make(0xABCDEF, LCORE_ID_ANY, 7),
		      0xABCDEF, 0xff, 7);
}

/* Time values at the limits. */
static void
test_time_round_trip(void **state)
{
	static const uint32_t times[] = { 0, 1, 0x7fffffffu, 0x80000000u, TIME_MAX };

	for (size_t i = 0; i < RTE_DIM(times); i++) {
		uint32_t t = times[i];

		assert_fields(mpa_stamp_make(0, 0, t), 0, 0, t);
		assert_fields(mpa_stamp_make(MPA_HOLDER_MAX, MPA_LCORE_NONE, t),
			      MPA_HOLDER_MAX, MPA_LCORE_NONE, t);
	}
	assert_int_equal(mpa_stamp_time(0xFFFFFFFF00000000ull), 0);
	assert_int_equal(mpa_stamp_time(0x00000000FFFFFFFFull), TIME_MAX);
}

/* Ages are signed 32-bit differences: the 49-day wrap is harmless. */
static void
test_age_signed_and_wrap(void **state)
{
	assert_int_equal(mpa_age_ms(0, 0), 0);
	assert_int_equal(mpa_age_ms(1000, 0), 1000);
	assert_int_equal(mpa_age_ms(TIME_MAX, TIME_MAX), 0);
	/* A stamp slightly ahead of the clock: negative, not ~49 days. */
	assert_int_equal(mpa_age_ms(1000, 1001), -1);
	assert_int_equal(mpa_age_ms(1000, 1010), -10);
	assert_int_equal(mpa_age_ms(0, 1), -1);
	/* Across the wrap: the small positive difference. */
	assert_int_equal(mpa_age_ms(0, TIME_MAX), 1);
	assert_int_equal(mpa_age_ms(5, 0xfffffffbu), 10);
	assert_int_equal(mpa_age_ms(0x100, 0xffffff00u), 512);
	/* ... and backwards across it. */
	assert_int_equal(mpa_age_ms(TIME_MAX, 0), -1);
	assert_int_equal(mpa_age_ms(0xfffffff6u, 5), -15);
	/* Half the range away is the limit of what can be told apart. */
	assert_int_equal(mpa_age_ms(0x7fffffffu, 0), INT32_MAX);
	assert_int_equal(mpa_age_ms(0x80000000u, 0), INT32_MIN);
	assert_int_equal(mpa_age_ms(0, 0x80000001u), INT32_MAX);
}

/* The age of a stamp read back from the word. */
static void
test_age_of_stamp(void **state)
{
	uint64_t s = mpa_stamp_make(MPA_HOLDER_MAX, MPA_LCORE_NONE, 0xfffffc18u);

	assert_int_equal(mpa_age_ms(1000, mpa_stamp_time(s)), 2000);
	assert_int_equal(mpa_age_ms(0xfffffc00u, mpa_stamp_time(s)), -24);
}

/* The stamp sits MPA_STAMP_BACK bytes before the object. */
static void
test_stamp_slot(void **state)
{
	unsigned char buf[2 * MPA_STAMP_BACK] __rte_cache_aligned;
	void *obj = buf + MPA_STAMP_BACK;
	uint64_t *slot = mpa_stamp_slot(obj);
	uint64_t want = mpa_stamp_make(0xABCDEF, 0x12, 0x3456789A);
	uint64_t got;

	assert_int_equal(MPA_STAMP_BACK, 64);
	assert_ptr_equal(slot, buf);
	assert_int_equal((uintptr_t)obj - (uintptr_t)slot, MPA_STAMP_BACK);

	/* A store through the slot writes bytes [obj-64, obj-56) only. */
	memset(buf, 0xa5, sizeof(buf));
	*slot = want;
	memcpy(&got, buf, sizeof(got));
	assert_int_equal(got, want);
	for (size_t i = sizeof(uint64_t); i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);
}

/*
 * The stamp fits in the header pad and does not overlap DPDK's object
 * header, which occupies the last sizeof(objhdr) bytes before the object.
 * The header sizes are DPDK's own computation for a 2 KiB element.
 */
static void
test_stamp_in_header_pad(void **state)
{
	struct rte_mempool_objsz sz;

	assert_int_equal(sizeof(struct rte_mempool_objhdr), 24);
	assert_true(MPA_STAMP_BACK >= sizeof(struct rte_mempool_objhdr) +
		    sizeof(uint64_t));

	memset(&sz, 0, sizeof(sz));
	rte_mempool_calc_obj_size(2048, 0, &sz);
	assert_int_equal(sz.header_size, 64);
	assert_true(sz.header_size >= MPA_STAMP_BACK);

	/* Without cache alignment there is no pad: the side table is used. */
	memset(&sz, 0, sizeof(sz));
	rte_mempool_calc_obj_size(2048, RTE_MEMPOOL_F_NO_CACHE_ALIGN, &sz);
	assert_int_equal(sz.header_size, 24);
	assert_true(sz.header_size < MPA_STAMP_BACK);
}

/* Non-EAL threads, and ids that do not fit, are stored as MPA_LCORE_NONE. */
static void
test_cur_lcore(void **state)
{
	static const struct {
		unsigned int id;
		unsigned int want;
	} cases[] = {
		{ 0, 0 },
		{ 1, 1 },
		{ 127, 127 },
		{ 254, 254 },
		{ 255, MPA_LCORE_NONE },
		{ 256, MPA_LCORE_NONE },  /* not 256 & 0xff == 0 */
		{ 0x1ff, MPA_LCORE_NONE },
		{ LCORE_ID_ANY, MPA_LCORE_NONE },
	};
	unsigned int saved = RTE_PER_LCORE(_lcore_id);

	/* This thread never went through rte_eal_init(). */
	assert_int_equal(rte_lcore_id(), LCORE_ID_ANY);
	assert_int_equal(mpa_cur_lcore(), MPA_LCORE_NONE);

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		RTE_PER_LCORE(_lcore_id) = cases[i].id;
		assert_int_equal(mpa_cur_lcore(), cases[i].want);
		assert_fields(mpa_stamp_make(5, mpa_cur_lcore(), 9),
			      5, cases[i].want, 9);
	}
	RTE_PER_LCORE(_lcore_id) = saved;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_constants),
		cmocka_unit_test(test_exact_bits),
		cmocka_unit_test(test_holder_round_trip),
		cmocka_unit_test(test_holder_overflow_stays_in_field),
		cmocka_unit_test(test_lcore_round_trip),
		cmocka_unit_test(test_lcore_masked),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_age_signed_and_wrap),
		cmocka_unit_test(test_age_of_stamp),
		cmocka_unit_test(test_stamp_slot),
		cmocka_unit_test(test_stamp_in_header_pad),
		cmocka_unit_test(test_cur_lcore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
