/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

int
mpa_history_add(struct mpa_history *h, uint32_t cap,
		const struct mpa_hist_sample *s)
{
	if (h->v == NULL) {
		if (cap == 0)
			return -EINVAL;
		h->v = calloc(cap, sizeof(*h->v));
		if (h->v == NULL)
			return -ENOMEM;
		h->cap = cap;
		h->n = 0;
		h->head = 0;
	}
	h->v[h->head] = *s;
	h->head = (h->head + 1) % h->cap;
	if (h->n < h->cap)
		h->n++;
	return 0;
}

const struct mpa_hist_sample *
mpa_history_at(const struct mpa_history *h, uint32_t i)
{
	uint32_t oldest = (h->head + h->cap - h->n) % h->cap;

	return &h->v[(oldest + i) % h->cap];
}

void
mpa_history_free(struct mpa_history *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
mpa_forecast(const struct mpa_history *h, uint32_t size,
	     struct mpa_forecast *f)
{
	enum { K = MPA_FORECAST_BUCKETS };
	double pt_t[K], pt_y[K], slopes[K * (K - 1) / 2];
	uint32_t stuck_floor[K];
	const struct mpa_hist_sample *first, *last;
	uint32_t t0, nslopes = 0;
	int kendall = 0;

	memset(f, 0, sizeof(*f));
	f->exhaust_s = -1;
	if (h->n == 0)
		return;
	first = mpa_history_at(h, 0);
	last = mpa_history_at(h, h->n - 1);
	t0 = first->t_ms;
	f->samples = h->n;
	f->span_ms = last->t_ms - t0;   /* unsigned: right across a wrap */
	if (h->n < MPA_FORECAST_MIN_SAMPLES ||
	    f->span_ms < MPA_FORECAST_MIN_SPAN_MS)
		return;
	f->valid = 1;

	/* Each bucket's floor, at the time it was seen. */
	for (uint32_t b = 0; b < K; b++) {
		uint32_t lo = (uint32_t)((uint64_t)h->n * b / K);
		uint32_t hi = (uint32_t)((uint64_t)h->n * (b + 1) / K);
		const struct mpa_hist_sample *min = mpa_history_at(h, lo);

		stuck_floor[b] = min->stuck;
		for (uint32_t i = lo + 1; i < hi; i++) {
			const struct mpa_hist_sample *s = mpa_history_at(h, i);

			if (s->in_use < min->in_use)
				min = s;
			if (s->stuck < stuck_floor[b])
				stuck_floor[b] = s->stuck;
		}
		pt_t[b] = (double)(uint32_t)(min->t_ms - t0) / 1000.0;
		pt_y[b] = min->in_use;
	}
	for (int i = 0; i < K; i++)
		for (int j = i + 1; j < K; j++) {
			kendall += (pt_y[j] > pt_y[i]) - (pt_y[j] < pt_y[i]);
			if (pt_t[j] != pt_t[i])
				slopes[nslopes++] = (pt_y[j] - pt_y[i]) /
						    (pt_t[j] - pt_t[i]);
		}
	f->kendall = kendall;
	if (nslopes == 0)
		return;
	qsort(slopes, nslopes, sizeof(slopes[0]), cmp_double);
	f->rate_per_s = nslopes % 2 ? slopes[nslopes / 2] :
		(slopes[nslopes / 2 - 1] + slopes[nslopes / 2]) / 2;
	/*
	 * A floor that rises can still be traffic: a software ring that the
	 * consumer falls behind on fills over seconds and then stays full,
	 * and until the plateau fills most buckets that rise looks like a
	 * leak. Objects of a leak are left behind and turn stuck; objects in
	 * a full but moving ring keep being stamped and never do. So a drain
	 * also needs the stuck floor to have risen.
	 */
	f->growing = f->rate_per_s > 0 &&
		     kendall >= MPA_FORECAST_MIN_KENDALL &&
		     pt_y[K - 1] >= pt_y[0] + MPA_FORECAST_MIN_RISE &&
		     stuck_floor[K - 1] >= stuck_floor[0] + MPA_FORECAST_MIN_RISE;
	if (f->growing)
		f->exhaust_s = last->in_use >= size ? 0 :
			(double)(size - last->in_use) / f->rate_per_s;
}
