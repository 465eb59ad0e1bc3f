/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_HOLDER_H
#define MPA_HOLDER_H

/*
 * Holder table: interns (state, port, queue, ring, call site) tuples so a
 * stamp carries one 24-bit id instead of the tuple.
 *
 * Ids 1 .. MPA_ST_COUNT-1 are the bare states (no site, port or ring); they
 * also serve as the fallback when the table is full. Entries are written
 * once, before the count that publishes them, and never change, so readers
 * (the scanner) need no lock: an id at or beyond the published count is
 * treated as unknown.
 */

#include <stdint.h>

#include <rte_ring.h>

#include "mpaudit_stamp.h"

/** Capacity of the holder table. */
#define MPA_HOLDERS_MAX 65536u

struct mpa_holder_ent {
	const struct mpa_site *site;  /**< NULL for bare states */
	const struct rte_ring *ring;  /**< identity only, never dereferenced */
	char ring_name[RTE_RING_NAMESIZE]; /**< copied at intern time */
	uint16_t port;                /**< UINT16_MAX: not applicable */
	uint16_t queue;               /**< UINT16_MAX: not applicable */
	uint8_t state;
};

/**
 * Look up a holder id. @return NULL if @p id is not a published holder.
 */
const struct mpa_holder_ent *mpa_holder_get(uint32_t id);

/** State of holder @p id; MPA_ST_NONE for 0, MPA_ST_UNKNOWN if unknown. */
uint8_t mpa_holder_state(uint32_t id);

/** Number of holder ids in use (for tests and statistics). */
uint32_t mpa_holder_count(void);

/**
 * Normalise a compiler path for reports: drop leading "./" and "../"
 * components so build-directory-relative paths read as project paths.
 */
const char *mpa_site_file(const char *file);

#endif /* MPA_HOLDER_H */
