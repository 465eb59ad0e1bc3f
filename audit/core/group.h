/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_GROUP_H
#define MPA_GROUP_H

/*
 * Grouping of stuck objects by holder. Pure logic. A holder id already
 * stands for (state, port, queue, ring, site); the key adds the pool, the
 * lcore and the state the scanner derived (pmd and unknown are derived, not
 * stamped), which together are the report's
 * (pool, state, lcore, port, queue, ring, site).
 */

#include <stdint.h>

#include "objhist.h"

/** Sample addresses kept per group. */
#define MPA_GROUP_SAMPLES 4
/** Most groups kept; objects of further holders are counted in @c dropped. */
#define MPA_GROUPS_MAX 4096

struct mpa_group_key {
	uint32_t pool;    /**< index in the scan's pool list */
	uint32_t holder;  /**< holder id from the stamp */
	uint8_t lcore;
	uint8_t state;    /**< derived state */
};

struct mpa_group {
	struct mpa_group_key key;
	uint32_t count;
	uint32_t new_count;   /**< objects that became stuck at this scan */
	int32_t max_age_ms;
	uint32_t nsamples;
	uintptr_t samples[MPA_GROUP_SAMPLES];
	/*
	 * Each sample's previous holders, most recent first (MPAUDIT_HISTORY,
	 * filled by the scan once the pool's walk is done; 0 without).
	 */
	uint8_t nprev[MPA_GROUP_SAMPLES];
	struct mpa_objhist_ent prev[MPA_GROUP_SAMPLES][MPA_OBJHIST_CAP];
};

struct mpa_groups {
	struct mpa_group *v;
	uint32_t n;
	uint32_t cap;
	uint32_t dropped;     /**< objects not grouped: table full */
	uint32_t last;        /**< index of the last group hit */
};

/** Forget every group, keep the memory. */
void mpa_groups_reset(struct mpa_groups *g);

/** Release the memory; accepts a zeroed set. */
void mpa_groups_free(struct mpa_groups *g);

/**
 * Count one stuck object.
 * @return 0, or -ENOMEM (the object is counted in @c dropped).
 */
int mpa_groups_add(struct mpa_groups *g, const struct mpa_group_key *key,
		   int32_t age_ms, uintptr_t addr, int is_new);

/**
 * Count a whole group of objects at once under @p key (its own key is
 * ignored): counts add up, the oldest age wins, samples fill up to
 * MPA_GROUP_SAMPLES, each with its previous holders.
 * @return 0, or -ENOMEM (its objects are counted in @c dropped).
 */
int mpa_groups_merge(struct mpa_groups *g, const struct mpa_group_key *key,
		     const struct mpa_group *src);

/** Sort by count, largest first; ties by oldest first, then by key. */
void mpa_groups_sort(struct mpa_groups *g);

#endif /* MPA_GROUP_H */
