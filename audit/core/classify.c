/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <string.h>

#include "classify.h"

const char *
mpa_state_name(uint8_t state)
{
	static const char *const names[MPA_ST_COUNT] = {
		[MPA_ST_NONE] = "unknown",
		[MPA_ST_FREE] = "free",
		[MPA_ST_APP] = "app",
		[MPA_ST_RX] = "rx",
		[MPA_ST_TX] = "tx",
		[MPA_ST_RING] = "ring",
		[MPA_ST_PMD] = "pmd",
		[MPA_ST_UNKNOWN] = "unknown",
	};

	return state < MPA_ST_COUNT ? names[state] : "unknown";
}

static int
live_state(uint8_t st)
{
	return st == MPA_ST_APP || st == MPA_ST_RX || st == MPA_ST_TX ||
	       st == MPA_ST_RING;
}

void
mpa_classify(struct mpa_objstate *os, int is_free, int have_free_set,
	     uint64_t stamp, uint8_t stamp_state, uint32_t now,
	     uint32_t stuck_ms, struct mpa_class *out)
{
	/* held_scans is 0 for an object never seen held (or seen free). */
	int same = os->held_scans != 0 && stamp == os->stamp;
	uint8_t state;
	int32_t age;

	/* Without a free set, the stamp is all we know. */
	if (!have_free_set && (stamp_state == MPA_ST_FREE ||
			       stamp_state == MPA_ST_NONE))
		is_free = 1;

	if (is_free) {
		os->stamp = 0;
		os->flags = MPA_OS_WAS_FREE;
		os->held_scans = 0;
		os->since = now;
		out->verdict = MPA_V_FREE;
		out->state = MPA_ST_FREE;
		out->age_ms = 0;
		return;
	}

	if (!same) {
		/*
		 * A new holding. If the object was free at the last scan and its
		 * stamp predates that scan, whatever took it stamps nothing (a
		 * driver refilling RX descriptors, uninstrumented code): its age
		 * counts from now. A newer stamp dates the holding itself.
		 */
		os->flags &= ~(MPA_OS_REPORTED | MPA_OS_TAKEN);
		if ((os->flags & MPA_OS_WAS_FREE) && stamp != 0 &&
		    mpa_age_ms(os->since, mpa_stamp_time(stamp)) >
		    (int32_t)MPA_TAKEN_SLACK_MS)
			os->flags |= MPA_OS_TAKEN;
		os->flags &= ~MPA_OS_WAS_FREE;
		if (live_state(stamp_state) && !(os->flags & MPA_OS_TAKEN))
			os->since = mpa_stamp_time(stamp);
		else
			os->since = now;
		os->stamp = stamp;
		os->held_scans = 1;
	} else if (os->held_scans < UINT8_MAX) {
		os->held_scans++;
	}

	if (os->flags & MPA_OS_TAKEN)
		state = MPA_ST_PMD;
	else if (stamp_state == MPA_ST_FREE)
		state = MPA_ST_PMD; /* freed by us, taken by a non-stamping path */
	else if (live_state(stamp_state))
		state = stamp_state;
	else
		state = MPA_ST_UNKNOWN;

	age = mpa_age_ms(now, os->since);
	if (age < 0)
		age = 0;
	out->state = state;
	out->age_ms = age;
	if ((uint32_t)age < stuck_ms || os->held_scans < MPA_CONFIRM_SCANS) {
		out->verdict = MPA_V_HELD;
	} else if (!(os->flags & MPA_OS_REPORTED)) {
		os->flags |= MPA_OS_REPORTED;
		out->verdict = MPA_V_STUCK_NEW;
	} else {
		out->verdict = MPA_V_STUCK;
	}
}
