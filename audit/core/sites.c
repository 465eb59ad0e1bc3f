/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sites.h"

struct acc {
	uint32_t held;
	uint32_t stuck;
	uint32_t max_age_ms;
};

static struct acc *tab;
static uint32_t cap;       /* entries allocated */
static uint32_t span;      /* entries that may be nonzero at this scan */
static int counting;
static uint64_t late;      /* objects of holders interned during the scan */

int
mpa_sites_begin(uint32_t nholders)
{
	/* Ids run from 0 to the count: the bare states come first. */
	uint32_t want = nholders + 1;

	counting = 0;
	late = 0;
	if (want > cap) {
		uint32_t ncap = cap != 0 ? cap : 256;
		struct acc *t;

		while (ncap < want)
			ncap *= 2;
		t = realloc(tab, (size_t)ncap * sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		memset(t + cap, 0, (size_t)(ncap - cap) * sizeof(*t));
		tab = t;
		cap = ncap;
	}
	span = want;
	counting = 1;
	return 0;
}

void
mpa_sites_add(uint32_t holder, uint32_t age_ms, int stuck)
{
	struct acc *a;

	if (!counting)
		return;
	/* A holder interned after the scan began: counted, not listed. */
	if (holder >= span) {
		late++;
		return;
	}
	a = &tab[holder];
	a->held++;
	a->stuck += stuck != 0;
	if (age_ms > a->max_age_ms)
		a->max_age_ms = age_ms;
}

/* Most held first, then most stuck, then the older holder id. */
static int
row_cmp(const void *x, const void *y)
{
	const struct mpa_site_row *a = x, *b = y;

	if (a->held != b->held)
		return a->held < b->held ? 1 : -1;
	if (a->stuck != b->stuck)
		return a->stuck < b->stuck ? 1 : -1;
	return a->holder < b->holder ? -1 : a->holder > b->holder;
}

/*
 * Keep the MPA_SITES_MAX largest: fill v, then replace its smallest row
 * whenever a larger one comes. The table is a few hundred holders in
 * practice, so a linear search for the smallest is cheap enough.
 */
void
mpa_sites_end(struct mpa_sites *out)
{
	uint32_t smallest = 0;

	out->n = 0;
	out->holders = 0;
	out->held = counting ? late : 0;
	out->unlisted = out->held;
	out->failed = !counting;
	for (uint32_t h = 0; counting && h < span; h++) {
		struct mpa_site_row r = {
			.holder = h,
			.held = tab[h].held,
			.stuck = tab[h].stuck,
			.max_age_ms = tab[h].max_age_ms,
		};

		if (r.held == 0)
			continue;
		memset(&tab[h], 0, sizeof(tab[h]));
		out->holders++;
		out->held += r.held;
		if (out->n < MPA_SITES_MAX) {
			out->v[out->n++] = r;
			if (out->n == MPA_SITES_MAX)
				for (uint32_t i = 1; i < out->n; i++)
					if (row_cmp(&out->v[i], &out->v[smallest]) > 0)
						smallest = i;
			continue;
		}
		if (row_cmp(&r, &out->v[smallest]) >= 0) {
			out->unlisted += r.held;
			continue;
		}
		out->unlisted += out->v[smallest].held;
		out->v[smallest] = r;
		for (uint32_t i = 0; i < out->n; i++)
			if (row_cmp(&out->v[i], &out->v[smallest]) > 0)
				smallest = i;
	}
	qsort(out->v, out->n, sizeof(out->v[0]), row_cmp);
	counting = 0;
	late = 0;
}

void
mpa_sites_free(void)
{
	free(tab);
	tab = NULL;
	cap = span = 0;
	counting = 0;
	late = 0;
}
