/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_SITES_H
#define MPA_SITES_H

/*
 * Who holds the objects in use right now, stuck or not: each scan counts
 * every held object under its holder (the call site with its state, port,
 * queue or ring; in zero-recompile mode the state, port and queue only)
 * and keeps the MPA_SITES_MAX holders with most objects, ranked. Where
 * the stuck groups answer "what is leaking", this answers "where are my
 * mbufs", the question before anything crosses the threshold.
 *
 * Counting is one increment per held object into a table indexed by
 * holder id, which the scan has in hand already: no hashing. The table
 * grows with the holder table, at the start of a scan, and only its used
 * part is cleared. Pure logic. Not thread-safe: the scan writes and the surfaces read
 * under the pool registry lock.
 */

#include <stdint.h>

/** Holders kept per scan. */
#define MPA_SITES_MAX 256u

/** One holder's objects at the latest scan. */
struct mpa_site_row {
	uint32_t holder;        /**< holder id (holder.h); 0: never stamped */
	uint32_t held;          /**< objects in use held by it */
	uint32_t stuck;         /**< of which past the threshold */
	uint32_t max_age_ms;    /**< the oldest of them */
};

struct mpa_sites {
	uint32_t n;             /**< rows in v, ranked by held */
	uint32_t holders;       /**< holders with objects, listed or not */
	uint64_t held;          /**< objects counted, all holders */
	uint64_t unlisted;      /**< objects of holders beyond v */
	int failed;             /**< no memory for the table: not counted */
	struct mpa_site_row v[MPA_SITES_MAX];
};

/**
 * Start counting for a scan: size the table for the @p nholders holder
 * ids interned so far (ids 0 to @p nholders). Pure, for the unit tests:
 * the scan passes mpa_holder_count().
 * @return 0, or -ENOMEM (nothing is counted at this scan).
 */
int mpa_sites_begin(uint32_t nholders);

/** Count one held object of @p holder, @p age_ms old, stuck or not. */
void mpa_sites_add(uint32_t holder, uint32_t age_ms, int stuck);

/** Rank what was counted into @p out and clear the table. */
void mpa_sites_end(struct mpa_sites *out);

/** Free the table (auditor shutdown). */
void mpa_sites_free(void);

#endif /* MPA_SITES_H */
