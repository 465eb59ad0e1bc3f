/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_CLASSIFY_H
#define MPA_CLASSIFY_H

/*
 * Classification of one object at one scan. Pure logic: the scanner feeds
 * it what it saw (free or not, the stamp, the stamp's state) and the
 * object's scanner-private memory from earlier scans; it returns a verdict
 * and updates that memory. See docs/design.md, "How a stuck object is
 * classified".
 */

#include <stdint.h>

#include "mpaudit_stamp.h"

/** Scans an object must be seen held with the same stamp to be stuck. */
#define MPA_CONFIRM_SCANS 2
/*
 * A stamp older than the scan that saw the object free, by more than the
 * clock's staleness, was written before that scan: whatever took the object
 * since stamped nothing.
 */
#define MPA_TAKEN_SLACK_MS (2 * MPA_CLOCK_TICK_MS)

/* mpa_objstate.flags */
#define MPA_OS_WAS_FREE  0x01 /**< free at the previous scan */
#define MPA_OS_REPORTED  0x02 /**< this holding was already reported */
/* Taken since it was seen free, and not stamped since: state pmd. Stamp 0
 * means never stamped, which says nothing about who took it: unknown. */
#define MPA_OS_TAKEN     0x04
/* Set by the scan, not by mpa_classify(): stuck as pmd at this scan (and
 * newly so), until a chain's head claims it as one of its segments. */
#define MPA_OS_PMD_STUCK 0x08
#define MPA_OS_PMD_NEW   0x10

/** What the scanner remembers of one object between scans (16 bytes). */
struct mpa_objstate {
	uint64_t stamp;      /**< stamp seen at the previous scan, if held */
	uint32_t since;      /**< start of the current holding, or the time of
				  the scan that last saw the object free */
	uint8_t flags;
	uint8_t held_scans;  /**< consecutive scans held with this stamp */
	uint16_t pad;
};

enum mpa_verdict {
	MPA_V_FREE = 0,   /**< in the pool (ring or an lcore cache) */
	MPA_V_HELD,       /**< held, younger than the threshold */
	MPA_V_STUCK_NEW,  /**< stuck, first time reported */
	MPA_V_STUCK,      /**< stuck, already reported: still stuck */
};

struct mpa_class {
	enum mpa_verdict verdict;
	uint8_t state;    /**< enum mpa_state of the holder */
	int32_t age_ms;   /**< age of the holding, >= 0 */
};

/**
 * Classify one object.
 *
 * @param os           the object's memory; updated
 * @param is_free      object was found in the pool's ring or a cache; the
 *                     stamp is then not looked at (the scanner does not read
 *                     it: most objects are free, and their stamps would cost
 *                     a cache miss each)
 * @param have_free_set the pool's free objects could be enumerated; if not,
 *                     a FREE or never-set stamp is taken to mean free
 * @param stamp        the object's current stamp
 * @param stamp_state  state of the stamp's holder (MPA_ST_NONE if 0)
 * @param now          current clock, ms
 * @param stuck_ms     threshold
 */
void mpa_classify(struct mpa_objstate *os, int is_free, int have_free_set,
		  uint64_t stamp, uint8_t stamp_state, uint32_t now,
		  uint32_t stuck_ms, struct mpa_class *out);

/** Report name of a state ("app", "rx", ...). */
const char *mpa_state_name(uint8_t state);

#endif /* MPA_CLASSIFY_H */
