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
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_free),
		cmocka_unit_test(test_foreign_free),
		cmocka_unit_test(test_stray_one_over_tombstone),
		cmocka_unit_test(test_markers_not_recorded),
		cmocka_unit_test(test_tombstone_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
