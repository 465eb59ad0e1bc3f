/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <string.h>
#include <time.h>

#include <rte_prefetch.h>
#include <rte_string_fns.h>

#include "clock.h"
#include "holder.h"
#include "log.h"
#include "report.h"
#include "scan.h"

/* How far ahead the object walk prefetches stamps. */
#define MPA_SCAN_PREFETCH 8

static struct mpa_scan_result result;
static struct mpa_scan_stats stats;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
scan_pool(struct mpa_pool *p, uint32_t pool_idx, uint32_t now,
	  uint32_t stuck_ms, struct mpa_result_pool *rp)
{
	uint32_t nfree = mpa_pool_snapshot_free(p);
	uint32_t stuck = 0, held = 0, prev = p->last_scan_ms;

	for (uint32_t i = 0; i < p->size; i++) {
		int is_free = (p->freemap[i >> 6] >> (i & 63)) & 1;
		struct mpa_class c;
		uint64_t s;

		/* Free objects' stamps are not needed: no cache miss for them. */
		if (is_free && p->have_free_set) {
			if (p->st[i].held_scans != 0 ||
			    !(p->st[i].flags & MPA_OS_WAS_FREE))
				mpa_classify(&p->st[i], 1, 1, 0, MPA_ST_NONE,
					     now, stuck_ms, &c);
			continue;
		}
		if (p->header_stamp && i + MPA_SCAN_PREFETCH < p->size)
			rte_prefetch0(mpa_stamp_slot(
				(void *)p->addrs[i + MPA_SCAN_PREFETCH]));
		s = mpa_pool_stamp(p, i);
		/* Free at the previous scan: that scan's time, see classify.h. */
		if (p->st[i].flags & MPA_OS_WAS_FREE)
			p->st[i].since = prev;
		mpa_classify(&p->st[i], is_free, p->have_free_set, s,
			     mpa_holder_state(mpa_stamp_holder(s)), now,
			     stuck_ms, &c);
		if (c.verdict == MPA_V_FREE)
			continue;
		held++;
		if (c.verdict == MPA_V_HELD)
			continue;
		struct mpa_group_key key = {
			.pool = pool_idx,
			.holder = mpa_stamp_holder(s),
			.lcore = (uint8_t)mpa_stamp_lcore(s),
			.state = c.state,
		};
		/* pmd and unknown holdings are not the stamp's doing. */
		if (c.state == MPA_ST_PMD || c.state == MPA_ST_UNKNOWN) {
			key.holder = c.state == MPA_ST_PMD &&
				     mpa_holder_state(key.holder) == MPA_ST_FREE ?
				     key.holder : 0;
			if (key.holder == 0)
				key.lcore = MPA_LCORE_NONE;
		}
		mpa_groups_add(&result.groups, &key, c.age_ms, p->addrs[i],
			       c.verdict == MPA_V_STUCK_NEW);
		stuck++;
	}
	/* Without a free set, "free" means "not seen held". */
	if (!p->have_free_set)
		nfree = p->size - held;
	p->last_scan_ms = now;
	p->nfree = nfree;
	p->in_use = p->size - nfree;
	p->stuck = stuck;
	rte_strscpy(rp->name, p->name, sizeof(rp->name));
	rp->size = p->size;
	rp->in_use = p->in_use;
	rp->nfree = p->nfree;
	rp->stuck = stuck;
	rp->header_stamp = p->header_stamp;
	rp->have_free_set = p->have_free_set;
}

int
mpa_scan_locked(uint32_t stuck_ms)
{
	uint64_t t0 = now_ns(), dt, objects = 0;
	uint32_t now = mpa_clock_update();

	mpa_groups_reset(&result.groups);
	result.npools = 0;
	result.stuck = 0;
	result.new_stuck = 0;
	result.now_ms = now;
	result.stuck_ms = stuck_ms;
	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++) {
		struct mpa_pool *p = mpa_pool_slot(i);
		struct mpa_result_pool *rp;

		if (p == NULL)
			continue;
		rp = &result.pools[result.npools];
		memset(rp, 0, sizeof(*rp));
		scan_pool(p, result.npools, now, stuck_ms, rp);
		result.stuck += rp->stuck;
		objects += p->size;
		result.npools++;
	}
	mpa_groups_sort(&result.groups);
	for (uint32_t i = 0; i < result.groups.n; i++)
		result.new_stuck += result.groups.v[i].new_count;
	result.valid = 1;

	dt = now_ns() - t0;
	stats.scans++;
	stats.objects += objects;
	stats.total_ns += dt;
	stats.last_ns = dt;
	if (dt > stats.max_ns)
		stats.max_ns = dt;

	if (result.new_stuck != 0)
		mpa_report_log_new(&result);
	return (int)result.stuck;
}

void
mpa_scan_note_runner(int by_service)
{
	stats.last_by_service = by_service;
	if (by_service)
		stats.service_scans++;
}

const struct mpa_scan_result *
mpa_scan_result(void)
{
	return &result;
}

const struct mpa_scan_stats *
mpa_scan_stats(void)
{
	return &stats;
}

void
mpa_scan_reset(void)
{
	mpa_groups_free(&result.groups);
	memset(&result, 0, sizeof(result));
	memset(&stats, 0, sizeof(stats));
}
