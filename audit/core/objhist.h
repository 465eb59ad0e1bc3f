/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_OBJHIST_H
#define MPA_OBJHIST_H

/*
 * Per-object history (MPAUDIT_HISTORY=K): decoding the words that the
 * stamping wrappers shift behind each stamp (mpaudit_stamp.h,
 * mpa_objhist_store()). Pure logic: the scanner reads the words of a
 * stuck group's samples, this turns them into previous holders.
 *
 * The words live in memory that was someone else's before the pool was
 * audited, and are read while the datapath runs, so a word is believed
 * only while it looks like one of ours: a published holder id, a time
 * between the pool's attach and the scan, and no newer than the holder
 * that followed it. The first word that fails ends the history.
 */

#include <stdint.h>

/** Previous holders decoded per object at most (every pad word fits). */
#define MPA_OBJHIST_CAP 4

/** One previous holder of an object. */
struct mpa_objhist_ent {
	uint32_t holder;  /**< holder id of the stamp */
	int32_t age_ms;   /**< since that stamp was written, at the scan */
	uint8_t lcore;    /**< lcore of the stamp (MPA_LCORE_NONE: none) */
};

/** What the scanner read of one object, and what it judged. */
struct mpa_objhist_in {
	uint64_t stamp;          /**< the object's stamp */
	const uint64_t *words;   /**< the history words, most recent first */
	uint32_t nwords;         /**< words read (K) */
	uint32_t holder;         /**< holder the scan charged the object to */
	uint8_t lcore;           /**< ... and its lcore */
	uint32_t now_ms;         /**< clock at the scan */
	uint32_t since_ms;       /**< clock when the pool was attached */
	uint32_t nholders;       /**< holder ids published (mpa_holder_count()) */
};

/**
 * The previous holders of an object, most recent first, at most @p max
 * (<= MPA_OBJHIST_CAP). The stamp itself comes first when the scan
 * charged the object to another holder than the stamp names (an object
 * found in a watched ring, or taken by a driver: the stamp is then who
 * had it before).
 *
 * @return the number of entries written to @p out.
 */
unsigned int mpa_objhist_decode(const struct mpa_objhist_in *in,
				struct mpa_objhist_ent *out, unsigned int max);

#endif /* MPA_OBJHIST_H */
