/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "locator.h"

/* Inverse of an odd number modulo 2^64, by Newton's iteration. */
static uint64_t
odd_inverse(uint64_t a)
{
	uint64_t x = a; /* correct to 3 bits for any odd a */

	for (int i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

static void
run_init(struct mpa_run *r, uintptr_t first, uint32_t first_idx,
	 uint32_t count, uint32_t stride)
{
	r->first = first;
	r->first_idx = first_idx;
	r->count = count;
	/* A one-object run needs no stride; 1 keeps the arithmetic valid. */
	r->stride = stride != 0 ? stride : 1;
	r->shift = (uint32_t)__builtin_ctz(r->stride);
	r->inv = odd_inverse(r->stride >> r->shift);
}

static int
build_dir(struct mpa_locator *loc)
{
	uint64_t span = (uint64_t)(loc->hi - loc->lo) + 1;
	uint64_t want = (uint64_t)loc->nruns * MPA_LOCATOR_DIR_PER_RUN;
	uint32_t shift = 0, r = 0;

	if (want > MPA_LOCATOR_DIR_MAX)
		want = MPA_LOCATOR_DIR_MAX;
	/* Smallest granule that covers the span in at most 'want' entries. */
	while (shift < 63 && (span >> shift) >= want)
		shift++;
	loc->dir_shift = shift;
	loc->dir_n = (uint32_t)(((span - 1) >> shift) + 1);
	loc->dir = malloc(sizeof(*loc->dir) * loc->dir_n);
	if (loc->dir == NULL) {
		free(loc->runs);
		loc->runs = NULL;
		return -ENOMEM;
	}
	for (uint32_t g = 0; g < loc->dir_n; g++) {
		uintptr_t start = loc->lo + ((uintptr_t)g << shift);

		while (r + 1 < loc->nruns && loc->runs[r + 1].first <= start)
			r++;
		loc->dir[g] = r;
	}
	return 0;
}

int
mpa_locator_build(struct mpa_locator *loc, const uintptr_t *addrs, uint32_t n)
{
	uint32_t nruns = 0, start = 0;

	memset(loc, 0, sizeof(*loc));
	if (n == 0)
		return -EINVAL;
	for (uint32_t i = 1; i < n; i++)
		if (addrs[i] <= addrs[i - 1])
			return -EINVAL;

	/*
	 * Two passes: count the runs, then fill them. A gap too large for a
	 * 32-bit stride starts a new run.
	 */
	for (int pass = 0; pass < 2; pass++) {
		nruns = 0;
		start = 0;
		while (start < n) {
			uint32_t end = start + 1;
			uintptr_t stride = 0;

			if (end < n && addrs[end] - addrs[start] <= UINT32_MAX) {
				stride = addrs[end] - addrs[start];
				while (end < n && addrs[end] - addrs[end - 1] == stride)
					end++;
			}
			if (pass == 1)
				run_init(&loc->runs[nruns], addrs[start], start,
					 end - start, (uint32_t)stride);
			nruns++;
			start = end;
		}
		if (pass == 0) {
			loc->runs = calloc(nruns, sizeof(*loc->runs));
			if (loc->runs == NULL)
				return -ENOMEM;
		}
	}
	loc->nruns = nruns;
	loc->nobjs = n;
	loc->lo = addrs[0];
	loc->hi = addrs[n - 1];
	return build_dir(loc);
}

void
mpa_locator_free(struct mpa_locator *loc)
{
	if (loc == NULL)
		return;
	free(loc->runs);
	free(loc->dir);
	memset(loc, 0, sizeof(*loc));
}

int64_t
mpa_locator_find(const struct mpa_locator *loc, uintptr_t addr)
{
	uint32_t i;

	if (loc->nruns == 0 || addr < loc->lo || addr > loc->hi)
		return -1;
	/* Last run whose first object is <= addr, starting from its granule. */
	i = loc->dir[(addr - loc->lo) >> loc->dir_shift];
	while (i + 1 < loc->nruns && loc->runs[i + 1].first <= addr)
		i++;
	return mpa_run_index(&loc->runs[i], addr);
}
