/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_DFREE_H
#define MPA_DFREE_H

/*
 * Double frees of pool objects with the per-lcore cache on.
 *
 * Instrumented mode prevents them: the free wrappers (mpaudit_stamp.h)
 * read the stamp they are about to overwrite, and a stamp that already
 * says free sends the object here (mpa_free_twice()), where it is looked
 * for in this lcore's cache and in the ring before it is kept out.
 *
 * Zero-recompile mode can only find them after the fact: the inline free
 * is out of reach, so the scanner looks for an object present twice among
 * a pool's free objects (caches and ring), and reports it once it has seen
 * it so, unmoved and unstamped, in two consecutive scans (objects moving
 * through a busy cache or between a cache and the ring show up twice for
 * an instant).
 */

#include <stdint.h>

struct mpa_pool;

/** Per pool: duplicates seen by the last scans. */
#define MPA_DUPS_MAX 64

struct mpa_dup {
	int64_t idx;             /* object index in the pool */
	int lcore;               /* cache holding the second copy, -1: the ring */
	uint32_t slot;           /* its slot in that cache, or ring position */
	uint64_t stamp;          /* the object's stamp when seen */
};

struct mpa_dups {
	uint32_t n, prev_n;
	struct mpa_dup cur[MPA_DUPS_MAX], prev[MPA_DUPS_MAX];
	uint64_t *reported;      /* bit per object: reported already */
};

/**
 * Note a second sighting of object @p idx while snapshotting the free set:
 * in lcore @p lcore's cache (-1: the ring) at @p slot, with stamp @p stamp.
 */
void mpa_dups_note(struct mpa_dups *d, int64_t idx, int lcore, uint32_t slot,
		   uint64_t stamp);

/**
 * End of a snapshot of pool @p p: report the objects seen twice in this
 * snapshot and the previous one, with the second copy in the same place
 * and the stamp unchanged, once each. A datapath cycling a few hot
 * objects through its cache shows them "twice" in many snapshots (an
 * object moves from one slot to another while the slots are read), but
 * never still: it moves, and the rx/tx callbacks restamp it.
 */
void mpa_dups_settle(struct mpa_pool *p, struct mpa_dups *d);

#endif /* MPA_DFREE_H */
