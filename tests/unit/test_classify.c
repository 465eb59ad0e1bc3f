/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of audit/core/classify.c. Each test plays a sequence of scans of
 * one object and checks the exact verdict, state and age after each one.
 * An object's memory starts zeroed, as the scanner allocates it (calloc in
 * audit/core/pool.c).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/classify.h"

#define STUCK_MS 5000u

/* Holder ids; their states are passed explicitly, as the scanner does. */
#define H_APP 7u
#define H_FREE 8u
#define H_RX 9u
#define H_TX 10u
#define LCORE 3u

struct obj {
	struct mpa_objstate os;
	uint32_t stuck_ms;
	int have_free_set;
};

static void
obj_init(struct obj *o, int have_free_set)
{
	memset(o, 0, sizeof(*o));
	o->stuck_ms = STUCK_MS;
	o->have_free_set = have_free_set;
}

/*
 * One scan of an object not found in its pool; checks the verdict, state
 * and age. The macro passes the caller's line for the failure message.
 */
#define held_at(...) held_at_line(__LINE__, __VA_ARGS__)

static void
held_at_line(int line, struct obj *o, uint64_t stamp, uint8_t st, uint32_t now,
	     enum mpa_verdict verdict, uint8_t state, int32_t age)
{
	struct mpa_class c;

	memset(&c, 0x5a, sizeof(c));
	mpa_classify(&o->os, 0, o->have_free_set, stamp, st, now, o->stuck_ms, &c);
	if (c.verdict != verdict || c.state != state || c.age_ms != age)
		fail_msg("line %d: now=%u stamp=%#llx: got verdict %d state %u age %d, expected verdict %d state %u age %d",
			 line, now, (unsigned long long)stamp, c.verdict, c.state,
			 c.age_ms, verdict, state, age);
}

/* One scan of an object found in its pool. */
static void
free_at(struct obj *o, uint64_t stamp, uint8_t st, uint32_t now)
{
	struct mpa_class c;

	memset(&c, 0x5a, sizeof(c));
	mpa_classify(&o->os, 1, o->have_free_set, stamp, st, now, o->stuck_ms, &c);
	assert_int_equal(c.verdict, MPA_V_FREE);
	assert_int_equal(c.state, MPA_ST_FREE);
	assert_int_equal(c.age_ms, 0);
}

static void
test_state_names(void **state)
{
	assert_string_equal(mpa_state_name(MPA_ST_NONE), "unknown");
	assert_string_equal(mpa_state_name(MPA_ST_FREE), "free");
	assert_string_equal(mpa_state_name(MPA_ST_APP), "app");
	assert_string_equal(mpa_state_name(MPA_ST_RX), "rx");
	assert_string_equal(mpa_state_name(MPA_ST_TX), "tx");
	assert_string_equal(mpa_state_name(MPA_ST_RING), "ring");
	assert_string_equal(mpa_state_name(MPA_ST_PMD), "pmd");
	assert_string_equal(mpa_state_name(MPA_ST_UNKNOWN), "unknown");
	assert_string_equal(mpa_state_name(MPA_ST_COUNT), "unknown");
	assert_string_equal(mpa_state_name(255), "unknown");
}

/* The stamp layout the classifier relies on. */
static void
test_stamp_fields(void **state)
{
	uint64_t s = mpa_stamp_make(0xabcdef, 0x12, 0xfedcba98);

	assert_int_equal(s, 0xabcdef12fedcba98ull);
	assert_int_equal(mpa_stamp_holder(s), 0xabcdef);
	assert_int_equal(mpa_stamp_lcore(s), 0x12);
	assert_int_equal(mpa_stamp_time(s), 0xfedcba98u);
	assert_int_equal(mpa_stamp_make(1, 0x1ff, 0), 0x000001ff00000000ull);
	assert_int_equal(mpa_age_ms(0x100, 0xffffff00u), 512);
	assert_int_equal(mpa_age_ms(1000, 1005), -5);
}

/* Each live state: stuck once age >= threshold and seen held twice. */
static void
test_live_states_become_stuck(void **state)
{
	static const uint8_t live[] = {
		MPA_ST_APP, MPA_ST_RX, MPA_ST_TX, MPA_ST_RING,
	};

	for (size_t i = 0; i < sizeof(live); i++) {
		uint64_t s = mpa_stamp_make(H_APP + i, LCORE, 1000);
		struct obj o;

		obj_init(&o, 1);
		held_at(&o, s, live[i], 2000, MPA_V_HELD, live[i], 1000);
		assert_int_equal(o.os.held_scans, 1);
		assert_int_equal(o.os.since, 1000);
		held_at(&o, s, live[i], 5999, MPA_V_HELD, live[i], 4999);
		assert_int_equal(o.os.held_scans, 2);
		held_at(&o, s, live[i], 6000, MPA_V_STUCK_NEW, live[i], 5000);
		assert_true(o.os.flags & MPA_OS_REPORTED);
		/* Reported once: later scans say "still stuck". */
		held_at(&o, s, live[i], 7000, MPA_V_STUCK, live[i], 6000);
		held_at(&o, s, live[i], 8000, MPA_V_STUCK, live[i], 7000);
		held_at(&o, s, live[i], 100000, MPA_V_STUCK, live[i], 99000);
	}
}

/* Old enough at the first sight is not enough: a second scan confirms. */
static void
test_confirm_scans(void **state)
{
	uint64_t s = mpa_stamp_make(H_APP, LCORE, 1000);
	struct obj o;

	assert_int_equal(MPA_CONFIRM_SCANS, 2);
	obj_init(&o, 1);
	held_at(&o, s, MPA_ST_APP, 50000, MPA_V_HELD, MPA_ST_APP, 49000);
	held_at(&o, s, MPA_ST_APP, 51000, MPA_V_STUCK_NEW, MPA_ST_APP, 50000);
	held_at(&o, s, MPA_ST_APP, 52000, MPA_V_STUCK, MPA_ST_APP, 51000);

	/* Two scans in the same millisecond still confirm. */
	obj_init(&o, 1);
	held_at(&o, s, MPA_ST_RX, 50000, MPA_V_HELD, MPA_ST_RX, 49000);
	held_at(&o, s, MPA_ST_RX, 50000, MPA_V_STUCK_NEW, MPA_ST_RX, 49000);
}

static void
test_threshold_boundaries(void **state)
{
	uint64_t s = mpa_stamp_make(H_APP, LCORE, 100);
	struct obj o;

	obj_init(&o, 1);
	o.stuck_ms = 1;
	held_at(&o, s, MPA_ST_APP, 100, MPA_V_HELD, MPA_ST_APP, 0);
	held_at(&o, s, MPA_ST_APP, 100, MPA_V_HELD, MPA_ST_APP, 0);
	held_at(&o, s, MPA_ST_APP, 101, MPA_V_STUCK_NEW, MPA_ST_APP, 1);

	obj_init(&o, 1);
	o.stuck_ms = 86400000;
	held_at(&o, s, MPA_ST_TX, 86400099, MPA_V_HELD, MPA_ST_TX, 86399999);
	held_at(&o, s, MPA_ST_TX, 86400099, MPA_V_HELD, MPA_ST_TX, 86399999);
	held_at(&o, s, MPA_ST_TX, 86400100, MPA_V_STUCK_NEW, MPA_ST_TX, 86400000);
}

/* Being found free forgets everything about the previous holding. */
static void
test_free_resets(void **state)
{
	uint64_t s = mpa_stamp_make(H_APP, LCORE, 1000);
	uint64_t f = mpa_stamp_make(H_FREE, LCORE, 9000);
	uint64_t s2 = mpa_stamp_make(H_APP, LCORE, 11500);
	struct obj o;

	obj_init(&o, 1);
	held_at(&o, s, MPA_ST_APP, 7000, MPA_V_HELD, MPA_ST_APP, 6000);
	held_at(&o, s, MPA_ST_APP, 8000, MPA_V_STUCK_NEW, MPA_ST_APP, 7000);
	free_at(&o, f, MPA_ST_FREE, 10000);
	assert_int_equal(o.os.flags, MPA_OS_WAS_FREE);
	assert_int_equal(o.os.held_scans, 0);
	assert_int_equal(o.os.since, 10000);
	/* A free object's stamp is not read, so nothing of it is kept. */
	assert_true(o.os.stamp == 0);
	free_at(&o, f, MPA_ST_FREE, 11000);
	assert_int_equal(o.os.flags, MPA_OS_WAS_FREE);

	/* Allocated again: a new holding, reported anew when stuck. */
	held_at(&o, s2, MPA_ST_APP, 12000, MPA_V_HELD, MPA_ST_APP, 500);
	assert_int_equal(o.os.flags, 0);
	held_at(&o, s2, MPA_ST_APP, 16499, MPA_V_HELD, MPA_ST_APP, 4999);
	held_at(&o, s2, MPA_ST_APP, 16500, MPA_V_STUCK_NEW, MPA_ST_APP, 5000);
	held_at(&o, s2, MPA_ST_APP, 17000, MPA_V_STUCK, MPA_ST_APP, 5500);

	/* Free with a live stamp too (freed by code that stamps nothing). */
	free_at(&o, s2, MPA_ST_APP, 18000);
	assert_int_equal(o.os.flags, MPA_OS_WAS_FREE);
	assert_int_equal(o.os.held_scans, 0);
}

/* A changed stamp is a new holding: the old age is never reported. */
static void
test_stamp_change_resets(void **state)
{
	uint64_t a = mpa_stamp_make(H_APP, LCORE, 0);
	uint64_t b = mpa_stamp_make(H_APP, LCORE, 9990);
	uint64_t c = mpa_stamp_make(H_APP, LCORE + 1, 9990);
	uint64_t d = mpa_stamp_make(H_RX, LCORE + 1, 9990);
	struct obj o;

	/* Freed and reused between two scans, before any report. */
	obj_init(&o, 1);
	held_at(&o, a, MPA_ST_APP, 10000, MPA_V_HELD, MPA_ST_APP, 10000);
	held_at(&o, b, MPA_ST_APP, 11000, MPA_V_HELD, MPA_ST_APP, 1010);
	assert_int_equal(o.os.held_scans, 1);
	held_at(&o, b, MPA_ST_APP, 14989, MPA_V_HELD, MPA_ST_APP, 4999);
	held_at(&o, b, MPA_ST_APP, 14990, MPA_V_STUCK_NEW, MPA_ST_APP, 5000);

	/* Only the lcore differs: still another holding. */
	held_at(&o, c, MPA_ST_APP, 20000, MPA_V_HELD, MPA_ST_APP, 10010);
	assert_int_equal(o.os.held_scans, 1);
	assert_int_equal(o.os.flags & MPA_OS_REPORTED, 0);
	held_at(&o, c, MPA_ST_APP, 20001, MPA_V_STUCK_NEW, MPA_ST_APP, 10011);

	/* Only the holder (and so the state) differs. */
	held_at(&o, d, MPA_ST_RX, 20002, MPA_V_HELD, MPA_ST_RX, 10012);
	held_at(&o, d, MPA_ST_RX, 20003, MPA_V_STUCK_NEW, MPA_ST_RX, 10013);
	held_at(&o, d, MPA_ST_RX, 20004, MPA_V_STUCK, MPA_ST_RX, 10014);
}

/* A stuck object freed and reused before the next scan starts over. */
static void
test_reused_after_report(void **state)
{
	uint64_t a = mpa_stamp_make(H_RX, LCORE, 1000);
	uint64_t b = mpa_stamp_make(H_RX, LCORE, 8500);
	struct obj o;

	obj_init(&o, 1);
	held_at(&o, a, MPA_ST_RX, 6000, MPA_V_HELD, MPA_ST_RX, 5000);
	held_at(&o, a, MPA_ST_RX, 7000, MPA_V_STUCK_NEW, MPA_ST_RX, 6000);
	held_at(&o, a, MPA_ST_RX, 8000, MPA_V_STUCK, MPA_ST_RX, 7000);
	held_at(&o, b, MPA_ST_RX, 9000, MPA_V_HELD, MPA_ST_RX, 500);
	held_at(&o, b, MPA_ST_RX, 13499, MPA_V_HELD, MPA_ST_RX, 4999);
	held_at(&o, b, MPA_ST_RX, 13500, MPA_V_STUCK_NEW, MPA_ST_RX, 5000);
}

/*
 * Seen free, then held with a stamp older than that free sighting: taken
 * by code that stamps nothing. The age counts from the first scan that saw
 * it held.
 */
static void
test_taken_while_free_is_pmd(void **state)
{
	uint64_t f = mpa_stamp_make(H_FREE, LCORE, 500);
	uint64_t s = mpa_stamp_make(H_APP, LCORE, 20000);
	struct obj o;

	obj_init(&o, 1);
	free_at(&o, f, MPA_ST_FREE, 1000);
	held_at(&o, f, MPA_ST_FREE, 2000, MPA_V_HELD, MPA_ST_PMD, 0);
	assert_int_equal(o.os.flags, MPA_OS_TAKEN);
	assert_int_equal(o.os.since, 2000);
	held_at(&o, f, MPA_ST_FREE, 6999, MPA_V_HELD, MPA_ST_PMD, 4999);
	held_at(&o, f, MPA_ST_FREE, 7000, MPA_V_STUCK_NEW, MPA_ST_PMD, 5000);
	held_at(&o, f, MPA_ST_FREE, 9000, MPA_V_STUCK, MPA_ST_PMD, 7000);

	/* The application stamps it: its own holding, dated by the stamp. */
	held_at(&o, s, MPA_ST_APP, 21000, MPA_V_HELD, MPA_ST_APP, 1000);
	assert_int_equal(o.os.flags, 0);
	held_at(&o, s, MPA_ST_APP, 25000, MPA_V_STUCK_NEW, MPA_ST_APP, 5000);

	/* Returned, then taken again without a stamp: pmd, reported anew. */
	free_at(&o, s, MPA_ST_APP, 26000);
	held_at(&o, s, MPA_ST_APP, 27000, MPA_V_HELD, MPA_ST_PMD, 0);
	held_at(&o, s, MPA_ST_APP, 32000, MPA_V_STUCK_NEW, MPA_ST_PMD, 5000);
	held_at(&o, s, MPA_ST_APP, 33000, MPA_V_STUCK, MPA_ST_PMD, 6000);
}

/*
 * The published clock can lag by a tick, so a stamp written just after a
 * scan may carry a time slightly before it: within MPA_TAKEN_SLACK_MS it
 * still dates a live holding; beyond, the object was taken unstamped.
 */
static void
test_taken_slack(void **state)
{
	uint64_t within = mpa_stamp_make(H_RX, LCORE, 10000 - MPA_TAKEN_SLACK_MS);
	uint64_t beyond = mpa_stamp_make(H_RX, LCORE, 10000 - MPA_TAKEN_SLACK_MS - 1);
	struct obj o;

	obj_init(&o, 1);
	free_at(&o, 0, MPA_ST_NONE, 10000);
	held_at(&o, within, MPA_ST_RX, 11000, MPA_V_HELD, MPA_ST_RX,
		1000 + MPA_TAKEN_SLACK_MS);
	assert_int_equal(o.os.flags, 0);

	obj_init(&o, 1);
	free_at(&o, 0, MPA_ST_NONE, 10000);
	held_at(&o, beyond, MPA_ST_RX, 11000, MPA_V_HELD, MPA_ST_PMD, 0);
	assert_int_equal(o.os.flags, MPA_OS_TAKEN);
	assert_int_equal(o.os.since, 11000);
}

/*
 * Never stamped, seen free, then taken: the stamp says nothing, so the
 * holder is unknown (not pmd), aged from the first scan that saw it held.
 */
static void
test_unstamped_taken_is_unknown(void **state)
{
	struct obj o;

	obj_init(&o, 1);
	free_at(&o, 0, MPA_ST_NONE, 300000);
	held_at(&o, 0, MPA_ST_NONE, 301000, MPA_V_HELD, MPA_ST_UNKNOWN, 0);
	assert_int_equal(o.os.since, 301000);
	held_at(&o, 0, MPA_ST_NONE, 305999, MPA_V_HELD, MPA_ST_UNKNOWN, 4999);
	held_at(&o, 0, MPA_ST_NONE, 306000, MPA_V_STUCK_NEW, MPA_ST_UNKNOWN, 5000);
	held_at(&o, 0, MPA_ST_NONE, 307000, MPA_V_STUCK, MPA_ST_UNKNOWN, 6000);
}

/* Held with a FREE stamp, never seen free: pmd, aged from first sight. */
static void
test_free_stamp_held_is_pmd(void **state)
{
	uint64_t f = mpa_stamp_make(H_FREE, LCORE, 500);
	struct obj o;

	obj_init(&o, 1);
	held_at(&o, f, MPA_ST_FREE, 3000, MPA_V_HELD, MPA_ST_PMD, 0);
	assert_int_equal(o.os.since, 3000);
	assert_int_equal(o.os.flags, 0);
	held_at(&o, f, MPA_ST_FREE, 7999, MPA_V_HELD, MPA_ST_PMD, 4999);
	held_at(&o, f, MPA_ST_FREE, 8000, MPA_V_STUCK_NEW, MPA_ST_PMD, 5000);
	held_at(&o, f, MPA_ST_FREE, 9000, MPA_V_STUCK, MPA_ST_PMD, 6000);
}

/* A stamp whose holder has no known state: unknown, aged from first sight. */
static void
test_unknown_holder_state(void **state)
{
	uint64_t s = mpa_stamp_make(99, LCORE, 500);
	struct obj o;

	obj_init(&o, 1);
	held_at(&o, s, MPA_ST_NONE, 3000, MPA_V_HELD, MPA_ST_UNKNOWN, 0);
	held_at(&o, s, MPA_ST_NONE, 7999, MPA_V_HELD, MPA_ST_UNKNOWN, 4999);
	held_at(&o, s, MPA_ST_NONE, 8000, MPA_V_STUCK_NEW, MPA_ST_UNKNOWN, 5000);
	held_at(&o, s, MPA_ST_NONE, 8001, MPA_V_STUCK, MPA_ST_UNKNOWN, 5001);
}

/*
 * Never stamped (stamp 0) and held from the first scan on, e.g. an mbuf
 * a driver put in its RX ring before the first scan: unknown, and like any
 * holding whose stamp dates nothing its age counts from the first scan
 * that saw it held, not from clock 0.
 */
static void
test_never_stamped_is_unknown(void **state)
{
	struct obj o;

	obj_init(&o, 1);
	held_at(&o, 0, MPA_ST_NONE, 100000, MPA_V_HELD, MPA_ST_UNKNOWN, 0);
	held_at(&o, 0, MPA_ST_NONE, 101000, MPA_V_HELD, MPA_ST_UNKNOWN, 1000);
	held_at(&o, 0, MPA_ST_NONE, 104999, MPA_V_HELD, MPA_ST_UNKNOWN, 4999);
	held_at(&o, 0, MPA_ST_NONE, 105000, MPA_V_STUCK_NEW, MPA_ST_UNKNOWN, 5000);
	held_at(&o, 0, MPA_ST_NONE, 106000, MPA_V_STUCK, MPA_ST_UNKNOWN, 6000);
}

/* Without a free set, FREE and never-set stamps mean free. */
static void
test_no_free_set(void **state)
{
	uint64_t f = mpa_stamp_make(H_FREE, LCORE, 500);
	uint64_t s = mpa_stamp_make(H_APP, LCORE, 62000);
	struct obj o;
	struct mpa_class c;

	obj_init(&o, 0);
	held_at(&o, 0, MPA_ST_NONE, 1000, MPA_V_FREE, MPA_ST_FREE, 0);
	assert_int_equal(o.os.flags, MPA_OS_WAS_FREE);
	held_at(&o, f, MPA_ST_FREE, 2000, MPA_V_FREE, MPA_ST_FREE, 0);
	held_at(&o, f, MPA_ST_FREE, 60000, MPA_V_FREE, MPA_ST_FREE, 0);
	/* Allocated: a live stamp newer than the free sighting dates it. */
	held_at(&o, s, MPA_ST_APP, 63500, MPA_V_HELD, MPA_ST_APP, 1500);
	assert_int_equal(o.os.flags, 0);
	held_at(&o, s, MPA_ST_APP, 67000, MPA_V_STUCK_NEW, MPA_ST_APP, 5000);
	held_at(&o, s, MPA_ST_APP, 68000, MPA_V_STUCK, MPA_ST_APP, 6000);

	/* is_free still wins when the caller knows. */
	mpa_classify(&o.os, 1, 0, s, MPA_ST_APP, 69000, STUCK_MS, &c);
	assert_int_equal(c.verdict, MPA_V_FREE);
	assert_int_equal(c.state, MPA_ST_FREE);
	assert_int_equal(c.age_ms, 0);
}

/* With a free set, a FREE stamp alone does not make an object free. */
static void
test_free_set_overrides_stamp(void **state)
{
	uint64_t f = mpa_stamp_make(H_FREE, LCORE, 500);
	struct obj o;

	obj_init(&o, 1);
	held_at(&o, f, MPA_ST_FREE, 1000, MPA_V_HELD, MPA_ST_PMD, 0);
	obj_init(&o, 1);
	free_at(&o, mpa_stamp_make(H_APP, LCORE, 500), MPA_ST_APP, 1000);
}

/* Signed ages: the 32-bit millisecond clock wraps after 49 days. */
static void
test_clock_wraparound(void **state)
{
	uint64_t s = mpa_stamp_make(H_APP, LCORE, 0xffffff00u);
	struct obj o;

	obj_init(&o, 1);
	o.stuck_ms = 500;
	held_at(&o, s, MPA_ST_APP, 0x00000100u, MPA_V_HELD, MPA_ST_APP, 512);
	held_at(&o, s, MPA_ST_APP, 0x00000180u, MPA_V_STUCK_NEW, MPA_ST_APP, 640);
	held_at(&o, s, MPA_ST_APP, 0x00010000u, MPA_V_STUCK, MPA_ST_APP, 65792);

	/* Held since before the wrap, first seen before it too. */
	obj_init(&o, 1);
	held_at(&o, s, MPA_ST_RX, 0xffffff80u, MPA_V_HELD, MPA_ST_RX, 128);
	held_at(&o, s, MPA_ST_RX, 0x00001388u, MPA_V_STUCK_NEW, MPA_ST_RX, 5256);

	/* pmd holding across the wrap, aged from first sight. */
	obj_init(&o, 1);
	free_at(&o, s, MPA_ST_FREE, 0xfffffc00u);
	held_at(&o, s, MPA_ST_FREE, 0xfffffe00u, MPA_V_HELD, MPA_ST_PMD, 0);
	held_at(&o, s, MPA_ST_FREE, 0x00001188u, MPA_V_STUCK_NEW, MPA_ST_PMD, 5000);
}

/* A stamp slightly ahead of the scanner's clock has age 0, not ~49 days. */
static void
test_future_stamp(void **state)
{
	uint64_t s = mpa_stamp_make(H_TX, LCORE, 10005);
	uint64_t far = mpa_stamp_make(H_APP, LCORE, 10000u + 0x80000000u);
	struct obj o;

	obj_init(&o, 1);
	o.stuck_ms = 1;
	held_at(&o, s, MPA_ST_TX, 10000, MPA_V_HELD, MPA_ST_TX, 0);
	held_at(&o, s, MPA_ST_TX, 10004, MPA_V_HELD, MPA_ST_TX, 0);
	held_at(&o, s, MPA_ST_TX, 10005, MPA_V_HELD, MPA_ST_TX, 0);
	held_at(&o, s, MPA_ST_TX, 10006, MPA_V_STUCK_NEW, MPA_ST_TX, 1);

	/* Half the clock range away: the sign says future, so 0. */
	obj_init(&o, 1);
	held_at(&o, far, MPA_ST_APP, 10000, MPA_V_HELD, MPA_ST_APP, 0);
	held_at(&o, far, MPA_ST_APP, 10000, MPA_V_HELD, MPA_ST_APP, 0);
}

/* The held-scan counter saturates instead of wrapping to 0. */
static void
test_held_scans_saturate(void **state)
{
	uint64_t s = mpa_stamp_make(H_APP, LCORE, 0);
	struct obj o;

	obj_init(&o, 1);
	held_at(&o, s, MPA_ST_APP, 10000, MPA_V_HELD, MPA_ST_APP, 10000);
	held_at(&o, s, MPA_ST_APP, 10001, MPA_V_STUCK_NEW, MPA_ST_APP, 10001);
	for (uint32_t i = 2; i < 600; i++)
		held_at(&o, s, MPA_ST_APP, 10000 + i, MPA_V_STUCK, MPA_ST_APP,
			(int32_t)(10000 + i));
	assert_int_equal(o.os.held_scans, UINT8_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_stamp_fields),
		cmocka_unit_test(test_live_states_become_stuck),
		cmocka_unit_test(test_confirm_scans),
		cmocka_unit_test(test_threshold_boundaries),
		cmocka_unit_test(test_free_resets),
		cmocka_unit_test(test_stamp_change_resets),
		cmocka_unit_test(test_reused_after_report),
		cmocka_unit_test(test_taken_while_free_is_pmd),
		cmocka_unit_test(test_taken_slack),
		cmocka_unit_test(test_unstamped_taken_is_unknown),
		cmocka_unit_test(test_free_stamp_held_is_pmd),
		cmocka_unit_test(test_unknown_holder_state),
		cmocka_unit_test(test_never_stamped_is_unknown),
		cmocka_unit_test(test_no_free_set),
		cmocka_unit_test(test_free_set_overrides_stamp),
		cmocka_unit_test(test_clock_wraparound),
		cmocka_unit_test(test_future_stamp),
		cmocka_unit_test(test_held_scans_saturate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
