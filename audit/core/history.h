/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_HISTORY_H
#define MPA_HISTORY_H

/*
 * Per-pool history of scans and the drain forecast made from it.
 *
 * Each scan appends one sample per pool (in use, stuck, driver held,
 * free) to a bounded ring of MPAUDIT_HISTORY_SCANS samples, allocated on
 * the first sample. From the ring, mpa_forecast() estimates how fast the
 * pool's in-use floor grows and when the pool runs dry at that rate.
 *
 * Why the floor, and why robust statistics: traffic makes in-use swing
 * by a burst, a deep ring filling or a TX queue backing up, and the
 * swings are larger than a slow leak over minutes. What a leak changes
 * is the level in-use falls back to when the datapath drains: the
 * minimum. The ring is cut into MPA_FORECAST_BUCKETS buckets of equal
 * sample count; each bucket's minimum is one point. The rate is the
 * Theil-Sen slope of those points (the median of the pairwise slopes),
 * which one outlier bucket cannot move; the trend must also pass a
 * Mann-Kendall count (pairs rising minus pairs falling at least
 * MPA_FORECAST_MIN_KENDALL) and the floor must have risen by at least
 * MPA_FORECAST_MIN_RISE objects, so a pool that only fluctuates is never
 * forecast to run dry. The floor of stuck objects must have risen by as
 * much: a ring filling up raises the in-use floor too, but its objects
 * move and never turn stuck. Pure: the unit tests feed it made-up samples.
 *
 * Not thread-safe: the scan appends and the surfaces read under the pool
 * registry lock.
 */

#include <stdint.h>

/** Default and upper bound of MPAUDIT_HISTORY_SCANS. */
#define MPA_DEFAULT_HISTORY_SCANS 3600u
#define MPA_MAX_HISTORY_SCANS 1000000u

/** Points the forecast fits: the minimum of each bucket of samples. */
#define MPA_FORECAST_BUCKETS 8
/** Fewest samples, and shortest span, a forecast is made from. */
#define MPA_FORECAST_MIN_SAMPLES 16u
#define MPA_FORECAST_MIN_SPAN_MS 5000u
/** Of the 28 pairs of points, rising minus falling at least this. */
#define MPA_FORECAST_MIN_KENDALL 20
/** Rise of the floor (objects) over the span below which nothing grows. */
#define MPA_FORECAST_MIN_RISE 4u

/** One scan of one pool. */
struct mpa_hist_sample {
	uint32_t t_ms;          /**< coarse clock at the scan */
	uint32_t in_use;
	uint32_t stuck;
	uint32_t driver_held;
	uint32_t nfree;
};

/** A bounded ring of samples, oldest overwritten. Zeroed = empty. */
struct mpa_history {
	struct mpa_hist_sample *v;
	uint32_t cap;           /**< slots allocated */
	uint32_t n;             /**< samples held, <= cap */
	uint32_t head;          /**< next slot written */
};

/**
 * Append @p s, allocating @p cap slots on the first call.
 * @return 0, -ENOMEM (the history stays empty), -EINVAL (@p cap is 0).
 */
int mpa_history_add(struct mpa_history *h, uint32_t cap,
		    const struct mpa_hist_sample *s);

/** Sample @p i, 0 the oldest; @p i < h->n. */
const struct mpa_hist_sample *mpa_history_at(const struct mpa_history *h,
					     uint32_t i);

/** Free the ring; accepts an empty history. */
void mpa_history_free(struct mpa_history *h);

/** What the history says about a pool of @p size objects. */
struct mpa_forecast {
	int valid;              /**< enough samples and span to judge */
	int growing;            /**< the in-use floor grows: a drain */
	double rate_per_s;      /**< floor growth, objects/s (any sign) */
	double exhaust_s;       /**< seconds to no free object; < 0: never */
	uint32_t samples;       /**< samples the judgement used */
	uint32_t span_ms;       /**< from the oldest to the newest */
	int kendall;            /**< rising minus falling pairs of points */
};

/** Judge @p h for a pool of @p size objects. */
void mpa_forecast(const struct mpa_history *h, uint32_t size,
		  struct mpa_forecast *f);

#endif /* MPA_HISTORY_H */
