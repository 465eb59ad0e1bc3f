/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of audit/core/locator.c. Each layout is generated from its
 * parameters, so the index of every object is known; a lookup is checked
 * both against that index and against a plain binary search of the
 * address list (the ground truth for probes that are not object starts).
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>

#include "core/locator.h"

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define PAGE_4K 4096u

/* A user-space-looking base, 2 MiB aligned. */
#define BASE ((uintptr_t)0x7f3a00000000ull)

/* Ground truth: index of @p addr in the sorted list, or -1. */
static int64_t
ref_find(const uintptr_t *addrs, uint32_t n, uintptr_t addr)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (addrs[mid] == addr)
			return mid;
		if (addrs[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Check one probe against the ground truth and against @p want. */
static void
check_probe(const struct mpa_locator *loc, const uintptr_t *addrs, uint32_t n,
	    uintptr_t addr)
{
	int64_t got = mpa_locator_find(loc, addr);
	int64_t want = ref_find(addrs, n, addr);

	if (got != want)
		fail_msg("find(%#lx) = %ld, expected %ld",
			 (unsigned long)addr, (long)got, (long)want);
}

/*
 * Every object maps to its index; every address near an object that is not
 * an object start maps to -1; so do addresses around and outside the pool.
 * @p stride is the layout's nominal object size, used for the probe set.
 */
static void
check_layout(const uintptr_t *addrs, uint32_t n, uint32_t stride,
	     uint32_t want_runs)
{
	const uintptr_t deltas[] = {
		1, 2, 7, 8, 63, 64, 65, 128, stride / 2, stride - 1, stride,
		stride + 1, 2 * (uintptr_t)stride, PAGE_4K - 1, PAGE_4K,
	};
	struct mpa_locator loc;

	assert_int_equal(mpa_locator_build(&loc, addrs, n), 0);
	assert_int_equal(loc.nobjs, n);
	assert_int_equal(loc.nruns, want_runs);
	assert_true(loc.lo == addrs[0]);
	assert_true(loc.hi == addrs[n - 1]);

	for (uint32_t i = 0; i < n; i++) {
		int64_t got = mpa_locator_find(&loc, addrs[i]);

		if (got != (int64_t)i)
			fail_msg("object %u at %#lx: find = %ld", i,
				 (unsigned long)addrs[i], (long)got);
		for (size_t d = 0; d < RTE_DIM(deltas); d++) {
			check_probe(&loc, addrs, n, addrs[i] + deltas[d]);
			check_probe(&loc, addrs, n, addrs[i] - deltas[d]);
		}
	}

	/* Before the first and after the last object. */
	assert_int_equal(mpa_locator_find(&loc, addrs[0] - 1), -1);
	assert_int_equal(mpa_locator_find(&loc, addrs[0] - stride), -1);
	assert_int_equal(mpa_locator_find(&loc, addrs[0] - 2 * (uintptr_t)stride), -1);
	assert_int_equal(mpa_locator_find(&loc, 0), -1);
	assert_int_equal(mpa_locator_find(&loc, addrs[n - 1] + 1), -1);
	assert_int_equal(mpa_locator_find(&loc, addrs[n - 1] + stride), -1);
	assert_int_equal(mpa_locator_find(&loc, addrs[n - 1] + 2 * (uintptr_t)stride), -1);
	assert_int_equal(mpa_locator_find(&loc, UINTPTR_MAX), -1);

	mpa_locator_free(&loc);
	assert_null(loc.runs);
	assert_int_equal(loc.nruns, 0);
	/* A freed locator finds nothing and can be freed again. */
	assert_int_equal(mpa_locator_find(&loc, addrs[0]), -1);
	mpa_locator_free(&loc);
}

/* n objects at base + i * stride. */
static uintptr_t *
make_uniform(uintptr_t base, uint32_t stride, uint32_t n)
{
	uintptr_t *a = malloc(sizeof(*a) * n);

	assert_non_null(a);
	for (uint32_t i = 0; i < n; i++)
		a[i] = base + (uintptr_t)i * stride;
	return a;
}

/*
 * n objects of @p stride bytes packed into pages of @p page bytes: the first
 * object of each page at page start + @p first_off; an object that would
 * cross the page end moves to the next page (DPDK without hugepages).
 * Returns the number of pages used in @p npages.
 */
static uintptr_t *
make_paged(uintptr_t base, uint32_t page, uint32_t first_off, uint32_t stride,
	   uint32_t n, uint32_t *npages)
{
	uintptr_t *a = malloc(sizeof(*a) * n);
	uintptr_t pg = base, off = first_off;

	assert_non_null(a);
	assert_true(first_off + stride <= page);
	*npages = 1;
	for (uint32_t i = 0; i < n; i++) {
		if (off + stride > page) {
			pg += page;
			off = first_off;
			(*npages)++;
		}
		a[i] = pg + off;
		off += stride;
	}
	return a;
}

static void
uniform_case(uint32_t stride, uint32_t n)
{
	uintptr_t *a = make_uniform(BASE + 64, stride, n);

	check_layout(a, n, stride, 1);
	free(a);
}

static void
test_uniform_2368(void **state)
{
	struct mpa_locator loc;
	uintptr_t *a;
	const uint32_t n = 8191;

	uniform_case(2368, n);

	/* Hand-checked values: 2368 = 37 * 64. */
	a = make_uniform(BASE, 2368, n);
	assert_int_equal(mpa_locator_build(&loc, a, n), 0);
	assert_int_equal(loc.nruns, 1);
	assert_int_equal(loc.runs[0].stride, 2368);
	assert_int_equal(loc.runs[0].shift, 6);
	assert_int_equal(loc.runs[0].count, n);
	assert_int_equal(loc.runs[0].first_idx, 0);
	assert_int_equal(mpa_locator_find(&loc, BASE), 0);
	assert_int_equal(mpa_locator_find(&loc, BASE + 2368), 1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 1000 * 2368), 1000);
	assert_int_equal(mpa_locator_find(&loc, BASE + 8190 * 2368), 8190);
	assert_int_equal(mpa_locator_find(&loc, BASE + 8191 * 2368), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 1000 * 2368 + 1), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 1000 * 2368 + 8), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 1000 * 2368 + 64), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 1000 * 2368 + 1184), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 1000 * 2368 - 64), -1);
	/* Multiples of 64 (the stride's power-of-two part) that are not objects. */
	assert_int_equal(mpa_locator_find(&loc, BASE + 64), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 36 * 64), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 38 * 64), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 37), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE - 2368), -1);
	mpa_locator_free(&loc);
	free(a);
}

static void
test_uniform_odd_even_strides(void **state)
{
	/* Odd, even, power of two, and strides with large odd parts. */
	static const uint32_t strides[] = {
		2367, 2369, 192, 4096, 24, 64, 1, 2, 3, 7, 8, 1000, 65535,
		65536, 1u << 20, 3u << 20, 2147483648u, 4294967295u,
	};

	for (size_t i = 0; i < RTE_DIM(strides); i++) {
		uint32_t n = strides[i] >= (1u << 20) ? 64 : 1031;

		uniform_case(strides[i], n);
	}
}

/* 64-byte objects, 63 to a 4 KiB page and a 64-byte gap at each page end. */
static void
test_paged_64(void **state)
{
	const uint32_t n = 63 * 40 + 5;
	uint32_t npages = (n + 62) / 63;
	uintptr_t *a = malloc(sizeof(*a) * n);
	struct mpa_locator loc;

	assert_non_null(a);
	for (uint32_t i = 0; i < n; i++)
		a[i] = BASE + (uintptr_t)(i / 63) * PAGE_4K + (i % 63) * 64;
	assert_int_equal(npages, 41);
	check_layout(a, n, 64, npages);

	assert_int_equal(mpa_locator_build(&loc, a, n), 0);
	assert_int_equal(mpa_locator_find(&loc, BASE), 0);
	assert_int_equal(mpa_locator_find(&loc, BASE + 62 * 64), 62);
	/* The gap at the end of page 0. */
	assert_int_equal(mpa_locator_find(&loc, BASE + 63 * 64), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 63 * 64 + 8), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + PAGE_4K), 63);
	assert_int_equal(mpa_locator_find(&loc, BASE + PAGE_4K + 64), 64);
	assert_int_equal(mpa_locator_find(&loc, BASE + PAGE_4K + 32), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 40 * PAGE_4K + 4 * 64), n - 1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 40 * PAGE_4K + 5 * 64), -1);
	mpa_locator_free(&loc);
	free(a);
}

/*
 * DPDK-like pages with a gap at each page end, for odd and even strides,
 * some with a header offset before the first object of each page.
 */
static void
test_paged_small(void **state)
{
	static const struct {
		uint32_t stride, first_off, n, want_pages;
	} cases[] = {
		/* (4096 - 64) / 192 = 21 per page, 64 bytes left over. */
		{ 192, 64, 21 * 30, 30 },
		{ 192, 64, 21 * 30 + 1, 31 },
		/* (4096 - 0) / 24 = 170 per page, 16 bytes left over. */
		{ 24, 0, 170 * 12 + 100, 13 },
		/* odd stride: (4096 - 8) / 2367 = 1 per page. */
		{ 2367, 8, 300, 300 },
		/* even non-power-of-two: 1000 x 4 per page, gap 96 */
		{ 1000, 0, 4 * 25, 25 },
	};

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		uint32_t npages;
		uintptr_t *a = make_paged(BASE, PAGE_4K, cases[i].first_off,
					  cases[i].stride, cases[i].n, &npages);

		assert_int_equal(npages, cases[i].want_pages);
		/*
		 * One run per page, except one object per page: then all
		 * objects are a page apart and form a single run.
		 */
		check_layout(a, cases[i].n, cases[i].stride,
			     cases[i].stride * 2 + cases[i].first_off > PAGE_4K ?
			     1 : npages);
		free(a);
	}
}

/* 2368-byte objects, one per 4 KiB page: one run of stride 4096. */
static void
test_paged_2368(void **state)
{
	const uint32_t n = 8191;
	uint32_t npages;
	uintptr_t *a = make_paged(BASE, PAGE_4K, 64, 2368, n, &npages);
	struct mpa_locator loc;

	assert_int_equal(npages, n);
	check_layout(a, n, 2368, 1);

	assert_int_equal(mpa_locator_build(&loc, a, n), 0);
	assert_int_equal(loc.runs[0].stride, 4096);
	assert_int_equal(mpa_locator_find(&loc, BASE + 64), 0);
	assert_int_equal(mpa_locator_find(&loc, BASE + 64 + 4096 * 5000), 5000);
	/* Where the next object would be without page skipping. */
	assert_int_equal(mpa_locator_find(&loc, BASE + 64 + 2368), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 64 + 2 * 2368), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4096 * 5000), -1);
	mpa_locator_free(&loc);
	free(a);
}

/* Several memory chunks far apart (more than 4 GiB, so no 32-bit stride). */
static void
test_chunks_big_gaps(void **state)
{
	static const struct {
		uintptr_t base;
		uint32_t n;
	} chunks[] = {
		{ BASE, 1000 },
		{ BASE + 5 * GIB, 1 },              /* lone object */
		{ BASE + 5 * GIB + 6 * GIB, 2500 },
		{ BASE + 64 * GIB, 2 },
		{ BASE + 300 * GIB + 128, 700 },
	};
	const uint32_t stride = 2368;
	uint32_t n = 0, k = 0;
	uintptr_t *a;
	struct mpa_locator loc;

	for (size_t c = 0; c < RTE_DIM(chunks); c++)
		n += chunks[c].n;
	a = malloc(sizeof(*a) * n);
	assert_non_null(a);
	for (size_t c = 0; c < RTE_DIM(chunks); c++)
		for (uint32_t i = 0; i < chunks[c].n; i++)
			a[k++] = chunks[c].base + (uintptr_t)i * stride;
	assert_int_equal(k, 4203);

	check_layout(a, n, stride, 5);

	assert_int_equal(mpa_locator_build(&loc, a, n), 0);
	assert_int_equal(mpa_locator_find(&loc, BASE + 999 * stride), 999);
	assert_int_equal(mpa_locator_find(&loc, BASE + 1000 * stride), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 5 * GIB), 1000);
	assert_int_equal(mpa_locator_find(&loc, BASE + 5 * GIB + stride), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 5 * GIB - stride), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 11 * GIB), 1001);
	assert_int_equal(mpa_locator_find(&loc, BASE + 11 * GIB + 2499 * stride), 3500);
	assert_int_equal(mpa_locator_find(&loc, BASE + 64 * GIB + stride), 3502);
	assert_int_equal(mpa_locator_find(&loc, BASE + 300 * GIB + 128), 3503);
	assert_int_equal(mpa_locator_find(&loc, BASE + 300 * GIB + 128 + 699 * stride), 4202);
	/* Inside the gaps, including exact multiples of the stride. */
	assert_int_equal(mpa_locator_find(&loc, BASE + 2 * GIB), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4000 * (uintptr_t)stride), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 5 * GIB + 1000000 * (uintptr_t)stride), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 100 * GIB), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 300 * GIB), -1);
	mpa_locator_free(&loc);
	free(a);
}

/* Gaps at the 32-bit limit: UINT32_MAX still fits a run, 2^32 does not. */
static void
test_gap_at_32bit_limit(void **state)
{
	uintptr_t a[] = {
		BASE,
		BASE + UINT32_MAX,
		BASE + 2 * (uintptr_t)UINT32_MAX,
		BASE + 2 * (uintptr_t)UINT32_MAX + (1ull << 32),
		BASE + 2 * (uintptr_t)UINT32_MAX + (2ull << 32),
	};
	struct mpa_locator loc;

	assert_int_equal(mpa_locator_build(&loc, a, RTE_DIM(a)), 0);
	/* {a0, a1, a2} stride UINT32_MAX, then {a3}, {a4}. */
	assert_int_equal(loc.nruns, 3);
	for (uint32_t i = 0; i < RTE_DIM(a); i++) {
		assert_int_equal(mpa_locator_find(&loc, a[i]), i);
		assert_int_equal(mpa_locator_find(&loc, a[i] + 1), -1);
		assert_int_equal(mpa_locator_find(&loc, a[i] - 1), -1);
	}
	assert_int_equal(mpa_locator_find(&loc, a[3] + UINT32_MAX), -1);
	assert_int_equal(mpa_locator_find(&loc, a[2] + UINT32_MAX), -1);
	mpa_locator_free(&loc);
}

/* Objects at the very top of the address space. */
static void
test_top_of_address_space(void **state)
{
	const uint32_t n = 100, stride = 2368;
	uintptr_t base = UINTPTR_MAX - (uintptr_t)n * stride + 1;
	uintptr_t *a = make_uniform(base, stride, n);

	assert_true(a[n - 1] == UINTPTR_MAX - stride + 1);
	check_layout(a, n, stride, 1);
	free(a);
}

/*
 * mpa_run_index() alone, which the ring stamps call on any pointer a ring
 * slot holds, without a range check first: every byte address from three
 * strides below a run to three beyond it, and the far ends of the address
 * space, against a division. Strides: odd, a power of two, and the odd
 * parts DPDK pools get (mbufs of 2368 and 2432 bytes, 192-byte objects).
 */
static void
test_run_index_anywhere(void **state)
{
	const uint32_t strides[] = { 1, 7, 64, 192, 2368, 2432, 4096, 9000 };
	const uint32_t n = 40;

	for (size_t s = 0; s < RTE_DIM(strides); s++) {
		uint32_t stride = strides[s];
		uintptr_t *a = make_uniform(BASE + 4160, stride, n);
		uintptr_t lo = a[0] - 3 * (uintptr_t)stride;
		uintptr_t end = a[0] + (uintptr_t)(n + 3) * stride;
		struct mpa_locator loc;
		const struct mpa_run *r;

		assert_int_equal(mpa_locator_build(&loc, a, n), 0);
		assert_int_equal(loc.nruns, 1);
		r = &loc.runs[0];
		for (uintptr_t x = lo; x < end; x++) {
			int64_t want = -1;

			if (x >= a[0] && (x - a[0]) % stride == 0 &&
			    (x - a[0]) / stride < n)
				want = (int64_t)((x - a[0]) / stride);
			if (mpa_run_index(r, x) != want)
				fail_msg("stride %u: index(%#lx) = %ld, expected %ld",
					 stride, (unsigned long)x,
					 (long)mpa_run_index(r, x), (long)want);
		}
		assert_int_equal(mpa_run_index(r, 0), -1);
		assert_int_equal(mpa_run_index(r, a[0] - 1), -1);
		assert_int_equal(mpa_run_index(r, UINTPTR_MAX), -1);
		assert_int_equal(mpa_run_index(r, UINTPTR_MAX - stride + 1), -1);
		mpa_locator_free(&loc);
		free(a);
	}
}

static void
test_single_object(void **state)
{
	uintptr_t a[] = { BASE + 4160 };
	struct mpa_locator loc;

	assert_int_equal(mpa_locator_build(&loc, a, 1), 0);
	assert_int_equal(loc.nruns, 1);
	assert_int_equal(loc.nobjs, 1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4160), 0);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4161), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4159), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4160 + 64), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4160 + 4096), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE), -1);
	assert_int_equal(mpa_locator_find(&loc, 0), -1);
	assert_int_equal(mpa_locator_find(&loc, UINTPTR_MAX), -1);
	mpa_locator_free(&loc);

	check_layout(a, 1, 64, 1);
}

static void
test_two_objects(void **state)
{
	uintptr_t a[] = { BASE + 100, BASE + 100 + 2367 };
	struct mpa_locator loc;

	assert_int_equal(mpa_locator_build(&loc, a, 2), 0);
	assert_int_equal(loc.nruns, 1);
	assert_int_equal(mpa_locator_find(&loc, a[0]), 0);
	assert_int_equal(mpa_locator_find(&loc, a[1]), 1);
	assert_int_equal(mpa_locator_find(&loc, a[1] + 2367), -1);
	assert_int_equal(mpa_locator_find(&loc, a[0] + 1183), -1);
	mpa_locator_free(&loc);
}

/* Irregular spacing: every run is short. */
static void
test_irregular(void **state)
{
	uintptr_t a[] = {
		BASE, BASE + 64, BASE + 128,
		BASE + 200, BASE + 272,
		BASE + 273,
		BASE + 4096, BASE + 4096 + 24, BASE + 4096 + 48, BASE + 4096 + 72,
		BASE + 8192,
	};
	struct mpa_locator loc;

	/*
	 * Greedy runs: [0..2] stride 64, [3..4] 72, [5..6] 3823, [7..9] 24,
	 * [10] alone.
	 */
	check_layout(a, RTE_DIM(a), 24, 5);
	assert_int_equal(mpa_locator_build(&loc, a, RTE_DIM(a)), 0);
	assert_int_equal(mpa_locator_find(&loc, BASE + 192), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 344), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 273), 5);
	assert_int_equal(mpa_locator_find(&loc, BASE + 4096 + 96), -1);
	assert_int_equal(mpa_locator_find(&loc, BASE + 8192), 10);
	mpa_locator_free(&loc);
}

/* Every byte of a small paged layout, against the ground truth. */
static void
test_exhaustive_small(void **state)
{
	static const uint32_t strides[] = { 24, 64, 192, 2367, 2368, 4096 };

	for (size_t s = 0; s < RTE_DIM(strides); s++) {
		uint32_t npages, n = 3 * (PAGE_4K / strides[s]) + 1;
		uintptr_t *a = make_paged(BASE, PAGE_4K, 0, strides[s], n, &npages);
		struct mpa_locator loc;

		assert_int_equal(mpa_locator_build(&loc, a, n), 0);
		for (uintptr_t addr = BASE - 2 * PAGE_4K;
		     addr < a[n - 1] + 2 * PAGE_4K; addr++)
			check_probe(&loc, a, n, addr);
		mpa_locator_free(&loc);
		free(a);
	}
}

static void
test_invalid_input(void **state)
{
	uintptr_t unsorted[] = { BASE, BASE + 128, BASE + 64, BASE + 192 };
	uintptr_t dup[] = { BASE, BASE + 64, BASE + 64, BASE + 128 };
	uintptr_t dup_first[] = { BASE, BASE };
	uintptr_t reversed[] = { BASE + 64, BASE };
	uintptr_t ok[] = { BASE };
	struct mpa_locator loc;

	memset(&loc, 0x5a, sizeof(loc));
	assert_int_equal(mpa_locator_build(&loc, ok, 0), -EINVAL);
	assert_null(loc.runs);
	assert_int_equal(loc.nruns, 0);
	assert_int_equal(mpa_locator_find(&loc, BASE), -1);
	mpa_locator_free(&loc);

	memset(&loc, 0x5a, sizeof(loc));
	assert_int_equal(mpa_locator_build(&loc, unsorted, RTE_DIM(unsorted)),
			 -EINVAL);
	assert_null(loc.runs);
	assert_int_equal(loc.nruns, 0);
	assert_int_equal(mpa_locator_find(&loc, BASE), -1);
	mpa_locator_free(&loc);

	assert_int_equal(mpa_locator_build(&loc, dup, RTE_DIM(dup)), -EINVAL);
	assert_null(loc.runs);
	assert_int_equal(mpa_locator_find(&loc, BASE + 64), -1);
	mpa_locator_free(&loc);

	assert_int_equal(mpa_locator_build(&loc, dup_first, RTE_DIM(dup_first)),
			 -EINVAL);
	assert_int_equal(mpa_locator_build(&loc, reversed, RTE_DIM(reversed)),
			 -EINVAL);
	assert_int_equal(loc.nruns, 0);

	/* NULL is accepted by the destructor. */
	mpa_locator_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_2368),
		cmocka_unit_test(test_uniform_odd_even_strides),
		cmocka_unit_test(test_paged_64),
		cmocka_unit_test(test_paged_small),
		cmocka_unit_test(test_paged_2368),
		cmocka_unit_test(test_chunks_big_gaps),
		cmocka_unit_test(test_gap_at_32bit_limit),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_single_object),
		cmocka_unit_test(test_two_objects),
		cmocka_unit_test(test_irregular),
		cmocka_unit_test(test_exhaustive_small),
		cmocka_unit_test(test_run_index_anywhere),
		cmocka_unit_test(test_invalid_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
