/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The live side of the view (query.h): the latest scan of the registry,
 * the threshold in force, and a pool's history.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_string_fns.h>

#include "core/guard.h"
#include "core/pool.h"
#include "core/state.h"
#include "query.h"

uint32_t
mpa_query_threshold_ms_locked(void)
{
	const struct mpa_scan_result *r = mpa_scan_result();
	struct mpa_config c;

	if (!mpa_state_config(&c) && r->valid && r->stuck_ms != 0)
		return r->stuck_ms;
	return c.stuck_ms;
}

int
mpa_query_take_locked(struct mpa_query *q, unsigned int what,
		      uint32_t heap_age_ms)
{
	uint32_t threshold = mpa_query_threshold_ms_locked();
	int rc;

	if (heap_age_ms == MPA_QUERY_HEAP_AGE_THRESHOLD)
		heap_age_ms = threshold;
	rc = mpa_query_from_result(q, mpa_scan_result(), mpa_scan_stats(),
				   what, heap_age_ms);
	q->threshold_ms = threshold;
	return rc;
}

int
mpa_query_take(struct mpa_query *q, unsigned int what, uint32_t heap_age_ms)
{
	int rc;

	mpa_guard_enter();
	mpa_registry_lock();
	rc = mpa_query_take_locked(q, what, heap_age_ms);
	mpa_registry_unlock();
	mpa_guard_leave();
	return rc;
}

uint64_t
mpa_query_scans(void)
{
	uint64_t n;

	mpa_registry_lock();
	n = mpa_scan_stats()->scans;
	mpa_registry_unlock();
	return n;
}

/* An audited pool by name; caller holds the registry lock. */
static const struct mpa_pool *
pool_named(const char *name)
{
	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++) {
		const struct mpa_pool *p = mpa_pool_slot(i);

		if (p != NULL && strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

int
mpa_query_history(struct mpa_query_history *h, const char *name)
{
	const struct mpa_pool *p;
	int rc = 0;

	memset(h, 0, sizeof(*h));
	mpa_guard_enter();
	mpa_registry_lock();
	p = strlen(name) < RTE_MEMPOOL_NAMESIZE ? pool_named(name) : NULL;
	if (p == NULL) {
		rc = -ENOENT;
		goto out;
	}
	h->v = malloc((p->hist.n != 0 ? p->hist.n : 1) * sizeof(*h->v));
	if (h->v == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rte_strscpy(h->pool, p->name, sizeof(h->pool));
	h->size = p->size;
	h->scans = mpa_scan_stats()->scans;
	h->n = p->hist.n;
	for (uint32_t i = 0; i < h->n; i++)
		h->v[i] = *mpa_history_at(&p->hist, i);
	if (h->n != 0)
		h->newest_ms = h->v[h->n - 1].t_ms;
	mpa_forecast(&p->hist, p->size, &h->forecast);
out:
	mpa_registry_unlock();
	mpa_guard_leave();
	return rc;
}

void
mpa_query_history_release(struct mpa_query_history *h)
{
	if (h == NULL)
		return;
	mpa_guard_enter();
	free(h->v);
	mpa_guard_leave();
	h->v = NULL;
	h->n = 0;
}
