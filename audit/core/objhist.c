/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include "mpaudit_stamp.h"
#include "objhist.h"

static_assert(MPA_OBJHIST_MAX <= MPA_OBJHIST_CAP,
	      "the header pad holds more history words than a group keeps");

/* Set by the lifecycle before stamping starts (mpaudit_stamp.h). */
volatile uint32_t mpa_objhist_k;

/*
 * Is @p w a stamp we wrote, no newer than @p newer (the time of the
 * holder that followed it)?
 */
static int
word_ok(const struct mpa_objhist_in *in, uint64_t w, uint32_t newer)
{
	/* Free holders are table ids with a flag (MPA_HOLDER_FREE_FLAG). */
	uint32_t h = mpa_stamp_holder(w) & ~MPA_HOLDER_FREE_FLAG;
	uint32_t t = mpa_stamp_time(w);

	return w != 0 && h != 0 && h < in->nholders &&
	       mpa_age_ms(in->now_ms, t) >= 0 &&
	       mpa_age_ms(t, in->since_ms) >= 0 &&
	       mpa_age_ms(newer, t) >= 0;
}

static void
put(struct mpa_objhist_ent *e, const struct mpa_objhist_in *in, uint64_t w)
{
	e->holder = mpa_stamp_holder(w);
	e->lcore = (uint8_t)mpa_stamp_lcore(w);
	e->age_ms = mpa_age_ms(in->now_ms, mpa_stamp_time(w));
}

unsigned int
mpa_objhist_decode(const struct mpa_objhist_in *in,
		   struct mpa_objhist_ent *out, unsigned int max)
{
	uint32_t newer = mpa_stamp_time(in->stamp);
	unsigned int n = 0;

	if (max > MPA_OBJHIST_CAP)
		max = MPA_OBJHIST_CAP;
	if (in->stamp == 0 || max == 0)
		return 0;
	if ((mpa_stamp_holder(in->stamp) != in->holder ||
	     mpa_stamp_lcore(in->stamp) != in->lcore) &&
	    word_ok(in, in->stamp, in->now_ms))
		put(&out[n++], in, in->stamp);
	for (uint32_t i = 0; i < in->nwords && n < max; i++) {
		uint64_t w = in->words[i];

		if (!word_ok(in, w, newer))
			break;
		put(&out[n++], in, w);
		newer = mpa_stamp_time(w);
	}
	return n;
}
