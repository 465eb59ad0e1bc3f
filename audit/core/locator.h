/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_LOCATOR_H
#define MPA_LOCATOR_H

/*
 * Object locator: maps an address to the index of the pool object that
 * starts there, or says it is not an object start.
 *
 * Object addresses are not base + i * stride: without hugepages DPDK skips
 * to the next page rather than let an object straddle one, and a pool may
 * span several memory chunks; with 2 MB hugepages no object straddles a
 * page either, so a 262,144-mbuf pool has about 300 runs. The locator cuts
 * the sorted address list (from rte_mempool_obj_iter) into maximal runs of
 * equal stride. A lookup goes through a directory of equal address
 * granules (about four per run) to the run, usually with no search at all,
 * then divides by the run's stride exactly with a multiply (the stride's
 * odd part has an inverse modulo 2^64), so the scanner can place every free
 * pointer it finds in a few nanoseconds.
 */

#include <stdint.h>

struct mpa_run {
	uintptr_t first;     /**< address of the run's first object */
	uint64_t inv;        /**< inverse of (stride >> shift) modulo 2^64 */
	uint32_t first_idx;  /**< index of that object in the pool */
	uint32_t count;      /**< objects in the run */
	uint32_t stride;     /**< bytes between consecutive objects */
	uint32_t shift;      /**< trailing zero bits of stride */
};

/** Directory granules per run, so a granule rarely spans several runs. */
#define MPA_LOCATOR_DIR_PER_RUN 4
/** Largest directory, in entries. */
#define MPA_LOCATOR_DIR_MAX (1u << 20)

struct mpa_locator {
	struct mpa_run *runs;
	uint32_t *dir;       /**< per granule: last run starting at or before it */
	uint32_t dir_n;
	uint32_t dir_shift;  /**< log2 of the granule size */
	uint32_t nruns;
	uint32_t nobjs;
	uintptr_t lo;        /**< first object address */
	uintptr_t hi;        /**< last object address */
};

/**
 * Build a locator from @p n object addresses sorted in increasing order.
 * @return 0, -EINVAL if the list is empty or unsorted, -ENOMEM.
 */
int mpa_locator_build(struct mpa_locator *loc, const uintptr_t *addrs,
		      uint32_t n);

/** Release a locator's memory; accepts a zeroed or already freed one. */
void mpa_locator_free(struct mpa_locator *loc);

/** @return the index of the object starting at @p addr, or -1. */
int64_t mpa_locator_find(const struct mpa_locator *loc, uintptr_t addr);

/**
 * Index in the pool of the object at @p addr of run @p r, or -1 if no
 * object of the run starts there; @p addr may be anywhere.
 *
 * One multiply decides it. With d the stride's odd part and inv its
 * inverse modulo 2^64, q = n * inv (n = offset >> shift) is n / d when d
 * divides n; when it does not, d * q would be another number congruent
 * to n below 2^64, so q > (2^64 - 1) / d >= count. Hence q < count holds
 * exactly for the run's object starts; an address below the run wraps to
 * an offset beyond any run and fails the same test.
 */
static inline int64_t
mpa_run_index(const struct mpa_run *r, uintptr_t addr)
{
	uint64_t off = addr - r->first, idx;

	if ((off & ((UINT64_C(1) << r->shift) - 1)) != 0)
		return -1;
	idx = (off >> r->shift) * r->inv;
	if (idx >= r->count)
		return -1;
	return (int64_t)(r->first_idx + idx);
}

#endif /* MPA_LOCATOR_H */
