/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The view copied from a scan result (query.h). What does not need the
 * registry lives here, so the report's unit test renders a result of its
 * own through the same copy; query.c adds the live registry.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_string_fns.h>

#include "mpaudit.h"
#include "core/classify.h"
#include "core/guard.h"
#include "core/holder.h"
#include "query.h"

/*
 * Heap allocations reported: at least this old. 0 for the final report
 * (everything still outstanding at exit is a leak), the stuck threshold
 * for reports taken while the application runs.
 */
static uint32_t report_heap_age_ms;

void
mpa_query_heap_age(uint32_t min_age_ms)
{
	report_heap_age_ms = min_age_ms;
}

uint32_t
mpa_query_report_heap_age(void)
{
	return report_heap_age_ms;
}

void
mpa_query_holder(struct mpa_query_holder *v, const char *pool, uint8_t state,
		 uint8_t lcore, uint32_t holder)
{
	const struct mpa_holder_ent *h = mpa_holder_get(holder);

	memset(v, 0, sizeof(*v));
	if (pool != NULL)
		rte_strscpy(v->pool, pool, sizeof(v->pool));
	v->state = state;
	v->lcore = lcore == MPA_LCORE_NONE ? -1 : lcore;
	v->port = -1;
	v->queue = -1;
	if (h == NULL)
		return;
	/* rx, tx, and pmd groups charged to the one RX queue of their pool. */
	if (h->port != UINT16_MAX) {
		v->port = h->port;
		v->queue = h->queue;
	}
	if (state == MPA_ST_RING && h->ring != NULL) {
		v->has_ring = 1;
		rte_strscpy(v->ring, h->ring_name, sizeof(v->ring));
	}
	if (h->site != NULL) {
		v->file = mpa_site_file(h->site->file);
		v->line = h->site->line;
		v->func = h->site->func;
	}
}

void
mpa_query_group_holder(struct mpa_query_holder *v,
		       const struct mpa_scan_result *r, const struct mpa_group *g)
{
	mpa_query_holder(v, g->key.pool < r->npools ?
			 r->pools[g->key.pool].name : "?",
			 g->key.state, g->key.lcore, g->key.holder);
}

/* Sample @p s's previous holders, resolved like the groups' holders. */
static void
copy_prev(struct mpa_query_group *o, struct mpa_query_prev *v,
	  const struct mpa_group *g, uint32_t s)
{
	o->nprev[s] = g->nprev[s] <= MPA_OBJHIST_CAP ? g->nprev[s] : 0;
	for (uint32_t j = 0; j < o->nprev[s]; j++) {
		const struct mpa_objhist_ent *e = &g->prev[s][j];

		mpa_query_holder(&v[j].h, NULL, mpa_holder_state(e->holder),
				 e->lcore, e->holder);
		v[j].age_ms = e->age_ms;
	}
}

static int
copy_groups(struct mpa_query *q, const struct mpa_scan_result *r)
{
	size_t per = MPA_GROUP_SAMPLES * MPA_OBJHIST_CAP;

	q->groups = calloc(r->groups.n != 0 ? r->groups.n : 1,
			   sizeof(*q->groups));
	if (q->groups == NULL)
		return -ENOMEM;
	/* Resolved holders are large: only when there is history. */
	if (q->objhist_k != 0) {
		q->prevs = calloc((r->groups.n != 0 ? r->groups.n : 1) * per,
				  sizeof(*q->prevs));
		if (q->prevs == NULL)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->groups.n; i++) {
		const struct mpa_group *g = &r->groups.v[i];
		struct mpa_query_group *o = &q->groups[i];

		mpa_query_group_holder(&o->h, r, g);
		o->count = g->count;
		o->new_count = g->new_count;
		o->max_age_ms = g->max_age_ms;
		o->nsamples = g->nsamples;
		memcpy(o->samples, g->samples, sizeof(o->samples));
		if (q->prevs == NULL)
			continue;
		o->prev = &q->prevs[i * per];
		for (uint32_t s = 0; s < g->nsamples && s < MPA_GROUP_SAMPLES; s++)
			copy_prev(o, &q->prevs[i * per + s * MPA_OBJHIST_CAP],
				  g, s);
	}
	q->ngroups = r->groups.n;
	return 0;
}

static int
copy_sites(struct mpa_query *q, const struct mpa_scan_result *r)
{
	q->sites = calloc(r->sites.n != 0 ? r->sites.n : 1, sizeof(*q->sites));
	if (q->sites == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->sites.n; i++) {
		const struct mpa_site_row *row = &r->sites.v[i];
		struct mpa_query_site *o = &q->sites[i];

		mpa_query_holder(&o->h, NULL, mpa_holder_state(row->holder),
				 MPA_LCORE_NONE, row->holder);
		o->held = row->held;
		o->stuck = row->stuck;
		o->max_age_ms = row->max_age_ms;
	}
	q->nsites = r->sites.n;
	q->sites_counted = r->valid && !r->sites.failed;
	q->holders = r->sites.holders;
	q->held = r->sites.held;
	q->unlisted = r->sites.unlisted;
	return 0;
}

/* Errors are recorded without a lock: count once, then copy as many. */
static int
copy_errors(struct mpa_query *q)
{
	q->errorv = calloc(q->nerrors != 0 ? q->nerrors : 1, sizeof(*q->errorv));
	if (q->errorv == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < q->nerrors; i++) {
		const struct mpa_error *e = mpa_error_get(i);

		if (e == NULL)  /* being recorded right now */
			continue;
		q->errorv[i].present = 1;
		q->errorv[i].e = *e;
	}
	return 0;
}

/*
 * Heap groups (0 without heap tracking): leaks are the lost or growing
 * ones. A service keeps most of its memory until it ends (pools, rings,
 * tables reachable from its globals); that is not a leak.
 */
static void
copy_heap(struct mpa_query *q, uint32_t age_ms)
{
	int n;

	q->heap_age_ms = age_ms;
	n = mpa_reach_groups(age_ms, MPA_REACH_STALE_MS, &q->heap,
			     &q->heap_scan);
	if (n < 0) {
		q->heap_rc = n;
		q->heap = NULL;
		n = 0;
	}
	q->nheap = n;
	q->heap_leaks = n > 0 ? mpa_reach_leaks(q->heap, n) : 0;
}

int
mpa_query_from_result(struct mpa_query *q, const struct mpa_scan_result *r,
		      const struct mpa_scan_stats *st, unsigned int what,
		      uint32_t heap_age_ms)
{
	int rc = 0;

	memset(q, 0, sizeof(*q));
	if (heap_age_ms == MPA_QUERY_HEAP_AGE_REPORT)
		heap_age_ms = report_heap_age_ms;
	mpa_guard_enter();
	q->what = what;
	q->valid = r->valid;
	q->stuck_ms = r->stuck_ms;
	q->threshold_ms = r->stuck_ms;
	if (st != NULL)
		q->stats = *st;
	q->npools = r->npools < MPA_QUERY_POOLS_MAX ? r->npools : MPA_QUERY_POOLS_MAX;
	memcpy(q->pools, r->pools, q->npools * sizeof(q->pools[0]));
	q->stuck = r->stuck;
	q->objhist_k = r->objhist_k;
	q->ngroups = r->groups.n;
	q->ungrouped = r->groups.dropped;
	q->errors = mpa_error_count();
	q->nerrors = (uint32_t)(q->errors < MPA_ERRORS_MAX ? q->errors :
				MPA_ERRORS_MAX);
	if ((what & MPA_QUERY_GROUPS) != 0)
		rc = copy_groups(q, r);
	if (rc == 0 && (what & MPA_QUERY_SITES) != 0)
		rc = copy_sites(q, r);
	if (rc == 0 && (what & MPA_QUERY_ERRORS) != 0)
		rc = copy_errors(q);
	if (rc == 0 && (what & MPA_QUERY_HEAP) != 0)
		copy_heap(q, heap_age_ms);
	mpa_guard_leave();
	if (rc != 0)
		mpa_query_release(q);
	return rc;
}

void
mpa_query_release(struct mpa_query *q)
{
	if (q == NULL)
		return;
	mpa_guard_enter();
	free(q->groups);
	free(q->prevs);
	free(q->sites);
	free(q->errorv);
	free(q->heap);
	mpa_guard_leave();
	q->groups = NULL;
	q->prevs = NULL;
	q->sites = NULL;
	q->errorv = NULL;
	q->heap = NULL;
	q->ngroups = q->nsites = q->nerrors = 0;
	q->nheap = q->heap_leaks = 0;
}

int
mpa_query_exit_code(const struct mpa_query *q)
{
	return q->stuck != 0 || q->errors != 0 || q->heap_leaks != 0 ?
	       MPA_EXIT_FOUND : MPA_EXIT_CLEAN;
}
