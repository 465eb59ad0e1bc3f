/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of the heap table (audit/heap/heap.c): how a free is told apart as
 * taken, double, stray or foreign, straight through mpa_heap_insert() and
 * mpa_heap_take() without interposing anything. The addresses are chosen
 * to collide: every address below 16 hashes to the same shard and the
 * same first slot, so a tombstone left there lies on the probe path of
 * (void *)1.
 */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heap/heap_int.h"

/* From audit/mpaudit.c, which is not linked: heap.c logs through it. */
int mpa_logtype;

static struct mpa_heap_rec
rec(uintptr_t p, enum mpa_heap_kind kind, uint64_t size)
{
	struct mpa_heap_rec r;

	memset(&r, 0, sizeof(r));
	r.ptr = p;
	r.kind = kind;
	r.size = size;
	r.scope = 1;
	r.stack = 7;
	return r;
}

/* Freed and gone: a second free is a double free with the first's site. */
static void
test_double_free(void **state)
{
	struct mpa_heap_rec r = rec(0x7f0000001000, MPA_HEAP_LIBC, 64), out;
	struct mpa_heap_miss miss;

	(void)state;
	mpa_heap_insert(&r);
	assert_int_equal(mpa_heap_take(r.ptr, MPA_HEAP_LIBC, 0x4242, 1, &out,
				       &miss), 0);
	assert_int_equal(out.size, 64);
	assert_int_equal(out.stack, 7);
	assert_int_equal(mpa_heap_take(r.ptr, MPA_HEAP_LIBC, 0x4343, 1, &out,
				       &miss), -ENOENT);
	assert_int_equal(miss.what, MPA_MISS_DOUBLE);
	assert_int_equal(miss.first_pc, 0x4242);
	assert_int_equal(miss.found.stack, 7);
}

/* A live record of the other heap: a foreign free, the record untouched. */
static void
test_foreign_free(void **state)
{
	struct mpa_heap_rec r = rec(0x7f0000002000, MPA_HEAP_RTE, 128), out;
	struct mpa_heap_miss miss;

	(void)state;
	mpa_heap_insert(&r);
	assert_int_equal(mpa_heap_take(r.ptr, MPA_HEAP_LIBC, 0x10, 1, &out,
				       &miss), -ENOENT);
	assert_int_equal(miss.what, MPA_MISS_FOREIGN);
	assert_int_equal(miss.found.kind, MPA_HEAP_RTE);
	assert_int_equal(miss.found.size, 128);
	assert_int_equal(mpa_heap_take(r.ptr, MPA_HEAP_RTE, 0x11, 1, &out,
				       &miss), 0);
	assert_int_equal(out.size, 128);
}

/*
 * (void *)1 is the tombstone's own value. With a tombstone on its probe
 * path (0x8 shares its hash), its free once matched the dead record: a
 * foreign free with a stale first site, or, for the same heap, a free
 * that "succeeded" and counted a record twice out.
 */
static void
test_stray_one_over_tombstone(void **state)
{
	struct mpa_heap_rec r = rec(0x8, MPA_HEAP_LIBC, 16), out;
	struct mpa_heap_miss miss;
	struct mpa_heap_stats before, after;

	(void)state;
	mpa_heap_insert(&r);
	assert_int_equal(mpa_heap_take(0x8, MPA_HEAP_LIBC, 0x20, 1, &out,
				       &miss), 0);
	mpa_heap_stats(&before);
	for (int k = 0; k < MPA_HEAP_KINDS; k++) {
		assert_int_equal(mpa_heap_take(0x1, (enum mpa_heap_kind)k,
					       0x30, 1, &out, &miss), -ENOENT);
		assert_int_equal(miss.what, MPA_MISS_STRAY);
		assert_int_equal(miss.first_pc, 0);
	}
	/* And NULL, whose hash is the same, is stray too. */
	assert_int_equal(mpa_heap_take(0, MPA_HEAP_RTE, 0x31, 1, &out, &miss),
			 -ENOENT);
	assert_int_equal(miss.what, MPA_MISS_STRAY);
	mpa_heap_stats(&after);
	assert_int_equal(after.records, before.records);
	assert_int_equal(after.frees[MPA_HEAP_LIBC], before.frees[MPA_HEAP_LIBC]);
}

/* The markers are no one's address: they are never recorded. */
static void
test_markers_not_recorded(void **state)
{
	struct mpa_heap_rec r = rec(0x1, MPA_HEAP_RTE, 32), out;
	struct mpa_heap_miss miss;
	struct mpa_heap_stats before, after;

	(void)state;
	mpa_heap_stats(&before);
	mpa_heap_insert(&r);
	mpa_heap_stats(&after);
	assert_int_equal(after.records, before.records);
	assert_int_equal(mpa_heap_take(0x1, MPA_HEAP_RTE, 0x40, 1, &out,
				       &miss), -ENOENT);
	assert_int_equal(miss.what, MPA_MISS_STRAY);
}

/* A tombstone at 0x8's slot is reused by the next record there. */
static void
test_tombstone_reused(void **state)
{
	struct mpa_heap_rec a = rec(0x8, MPA_HEAP_LIBC, 16);
	struct mpa_heap_rec b = rec(0x4, MPA_HEAP_LIBC, 24), out;
	struct mpa_heap_miss miss;

	(void)state;
	mpa_heap_insert(&a);
	assert_int_equal(mpa_heap_take(0x8, MPA_HEAP_LIBC, 0x50, 1, &out,
				       &miss), 0);
	mpa_heap_insert(&b);
	assert_int_equal(mpa_heap_take(0x4, MPA_HEAP_LIBC, 0x51, 1, &out,
				       &miss), 0);
	assert_int_equal(out.size, 24);
	assert_int_equal(mpa_heap_take(0x1, MPA_HEAP_LIBC, 0x52, 1, &out,
				       &miss), -ENOENT);
	assert_int_equal(miss.what, MPA_MISS_STRAY);
}

/*
 * Per-thread magazines: a libc record is kept by the thread that made it.
 * These check that the other paths find it exactly once: another
 * thread's free, the thread's exit, a full set, the report's copy.
 */

/* heap.c's hash and magazine set of an address (256 sets). */
static uint32_t
mag_set_of(uintptr_t p)
{
	return (uint32_t)((((uint64_t)(p >> 4) * UINT64_C(0x9E3779B97F4A7C15)) >> 16) &
			  255);
}

static uint64_t
records_now(void)
{
	struct mpa_heap_stats st;

	mpa_heap_stats(&st);
	return st.records;
}

/* How many copied records have address @p p. */
static int
copies_of(uintptr_t p)
{
	struct mpa_heap_rec *v;
	int n, found = 0;

	n = mpa_heap_copy_records(&v);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		found += v[i].ptr == p;
	free(v);
	return found;
}

struct peer {
	uintptr_t p;
	int rc;
	struct mpa_heap_rec out;
	struct mpa_heap_miss miss;
};

static void *
peer_insert(void *arg)
{
	struct peer *pe = arg;
	struct mpa_heap_rec r = rec(pe->p, MPA_HEAP_LIBC, 40);

	mpa_heap_insert(&r);
	return NULL;
}

static void *
peer_take(void *arg)
{
	struct peer *pe = arg;

	pe->rc = mpa_heap_take(pe->p, MPA_HEAP_LIBC, 0x6161, 1, &pe->out,
			       &pe->miss);
	return NULL;
}

/* The builder's words are the bit-fields' layout. */
static void
test_rec_words(void **state)
{
	union mpa_heap_rec_words u;
	struct mpa_heap_rec r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.ptr = 0x7f00deadbee0;
	r.size = 0xabcdef123456;
	r.kind = 1;
	r.scope = 1;
	r.internal = 0;
	r.memzone = 1;
	r.lcore = 201;
	r.stack = 77;
	r.time_ms = 0x89abcdef;
	r.tid = 4242;
	r.type = 31;
	r.socket = -1;
	mpa_heap_rec_build(&u, r.ptr, r.size, 1, 1, 0, 1, 201, 77, 0x89abcdef,
			   4242, 31, -1);
	assert_memory_equal(&u.r, &r, sizeof(r));
}

/* Freed by another thread: taken once, then a double free of its site. */
static void
test_cross_thread_free(void **state)
{
	struct peer pe = { .p = 0x7f0000010000 };
	struct mpa_heap_rec out;
	struct mpa_heap_miss miss;
	pthread_t th;
	uint64_t before = records_now();

	(void)state;
	peer_insert(&pe);      /* ours */
	assert_int_equal(records_now(), before + 1);
	assert_int_equal(pthread_create(&th, NULL, peer_take, &pe), 0);
	pthread_join(th, NULL);
	assert_int_equal(pe.rc, 0);
	assert_int_equal(pe.out.size, 40);
	assert_int_equal(records_now(), before);
	assert_int_equal(mpa_heap_take(pe.p, MPA_HEAP_LIBC, 0x6262, 1, &out,
				       &miss), -ENOENT);
	assert_int_equal(miss.what, MPA_MISS_DOUBLE);
	assert_int_equal(miss.first_pc, 0x6161);
}

/* A thread that exits hands its records over: they stay, once. */
static void
test_thread_exit(void **state)
{
	struct peer pe = { .p = 0x7f0000020000 };
	struct mpa_heap_rec out;
	struct mpa_heap_miss miss;
	pthread_t th;
	uint64_t before = records_now();

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, peer_insert, &pe), 0);
	pthread_join(th, NULL);
	assert_int_equal(records_now(), before + 1);
	assert_int_equal(copies_of(pe.p), 1);
	assert_int_equal(mpa_heap_take(pe.p, MPA_HEAP_LIBC, 0x10, 1, &out,
				       &miss), 0);
	assert_int_equal(out.size, 40);
	assert_int_equal(records_now(), before);
	assert_int_equal(copies_of(pe.p), 0);
}

/* Nine records in one set of four ways: all kept, each found once. */
static void
test_full_set(void **state)
{
	uintptr_t p[9];
	uint32_t n = 0, set = mag_set_of(0x7f0000100000);
	uint64_t before = records_now();
	struct mpa_heap_rec out;
	struct mpa_heap_miss miss;

	(void)state;
	for (uintptr_t a = 0x7f0000100000; n < 9; a += 16)
		if (mag_set_of(a) == set)
			p[n++] = a;
	for (uint32_t i = 0; i < n; i++) {
		struct mpa_heap_rec r = rec(p[i], MPA_HEAP_LIBC, 100 + i);

		mpa_heap_insert(&r);
	}
	assert_int_equal(records_now(), before + n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(copies_of(p[i]), 1);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(mpa_heap_take(p[i], MPA_HEAP_LIBC, 0x20, 1, &out,
					       &miss), 0);
		assert_int_equal(out.size, 100 + i);
	}
	assert_int_equal(records_now(), before);
}

/* rte_free() of a libc block in a magazine: foreign, the record kept. */
static void
test_foreign_in_magazine(void **state)
{
	struct mpa_heap_rec r = rec(0x7f0000030000, MPA_HEAP_LIBC, 56), out;
	struct mpa_heap_miss miss;

	(void)state;
	mpa_heap_insert(&r);
	assert_int_equal(mpa_heap_take(r.ptr, MPA_HEAP_RTE, 0x30, 1, &out,
				       &miss), -ENOENT);
	assert_int_equal(miss.what, MPA_MISS_FOREIGN);
	assert_int_equal(miss.found.kind, MPA_HEAP_LIBC);
	assert_int_equal(miss.found.size, 56);
	assert_int_equal(mpa_heap_take(r.ptr, MPA_HEAP_LIBC, 0x31, 1, &out,
				       &miss), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_free),
		cmocka_unit_test(test_foreign_free),
		cmocka_unit_test(test_stray_one_over_tombstone),
		cmocka_unit_test(test_markers_not_recorded),
		cmocka_unit_test(test_tombstone_reused),
		cmocka_unit_test(test_rec_words),
		cmocka_unit_test(test_cross_thread_free),
		cmocka_unit_test(test_thread_exit),
		cmocka_unit_test(test_full_set),
		cmocka_unit_test(test_foreign_in_magazine),
	};

	/* mpa_heap_copy_records() answers an active tracker only. */
	mpa_heap_state = MPA_HEAP_ON;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
