/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"

static int
key_eq(const struct mpa_group_key *a, const struct mpa_group_key *b)
{
	return a->pool == b->pool && a->holder == b->holder &&
	       a->lcore == b->lcore && a->state == b->state;
}

void
mpa_groups_reset(struct mpa_groups *g)
{
	g->n = 0;
	g->dropped = 0;
	g->last = 0;
}

void
mpa_groups_free(struct mpa_groups *g)
{
	if (g == NULL)
		return;
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static struct mpa_group *
find_or_add(struct mpa_groups *g, const struct mpa_group_key *key)
{
	struct mpa_group *grp;

	/* Stuck objects come in long runs of one holder: try the last hit. */
	if (g->last < g->n && key_eq(&g->v[g->last].key, key))
		return &g->v[g->last];
	for (uint32_t i = 0; i < g->n; i++) {
		if (key_eq(&g->v[i].key, key)) {
			g->last = i;
			return &g->v[i];
		}
	}
	if (g->n == g->cap) {
		uint32_t cap = g->cap != 0 ? g->cap * 2 : 16;
		struct mpa_group *v;

		if (cap > MPA_GROUPS_MAX)
			cap = MPA_GROUPS_MAX;
		if (cap == g->cap)
			return NULL;
		v = realloc(g->v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		g->v = v;
		g->cap = cap;
	}
	grp = &g->v[g->n];
	memset(grp, 0, sizeof(*grp));
	grp->key = *key;
	g->last = g->n++;
	return grp;
}

int
mpa_groups_add(struct mpa_groups *g, const struct mpa_group_key *key,
	       int32_t age_ms, uintptr_t addr, int is_new)
{
	struct mpa_group *grp = find_or_add(g, key);

	if (grp == NULL) {
		g->dropped++;
		return -ENOMEM;
	}
	grp->count++;
	if (is_new)
		grp->new_count++;
	if (age_ms > grp->max_age_ms)
		grp->max_age_ms = age_ms;
	if (grp->nsamples < MPA_GROUP_SAMPLES) {
		grp->nprev[grp->nsamples] = 0;
		grp->samples[grp->nsamples++] = addr;
	}
	return 0;
}

int
mpa_groups_merge(struct mpa_groups *g, const struct mpa_group_key *key,
		 const struct mpa_group *src)
{
	struct mpa_group *grp = find_or_add(g, key);

	if (grp == NULL) {
		g->dropped += src->count;
		return -ENOMEM;
	}
	grp->count += src->count;
	grp->new_count += src->new_count;
	if (src->max_age_ms > grp->max_age_ms)
		grp->max_age_ms = src->max_age_ms;
	for (uint32_t i = 0; i < src->nsamples &&
	     grp->nsamples < MPA_GROUP_SAMPLES; i++) {
		uint32_t k = grp->nsamples++;

		grp->samples[k] = src->samples[i];
		grp->nprev[k] = src->nprev[i];
		memcpy(grp->prev[k], src->prev[i], sizeof(grp->prev[k]));
	}
	return 0;
}

static int
group_cmp(const void *pa, const void *pb)
{
	const struct mpa_group *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->max_age_ms != b->max_age_ms)
		return a->max_age_ms > b->max_age_ms ? -1 : 1;
	if (a->key.pool != b->key.pool)
		return a->key.pool < b->key.pool ? -1 : 1;
	if (a->key.holder != b->key.holder)
		return a->key.holder < b->key.holder ? -1 : 1;
	if (a->key.lcore != b->key.lcore)
		return a->key.lcore < b->key.lcore ? -1 : 1;
	return (int)a->key.state - (int)b->key.state;
}

void
mpa_groups_sort(struct mpa_groups *g)
{
	if (g->n > 1)
		qsort(g->v, g->n, sizeof(*g->v), group_cmp);
	g->last = 0;
}
