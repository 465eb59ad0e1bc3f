/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/classify.h"
#include "core/errors.h"
#include "heap/heap.h"
#include "heapreport.h"
#include "heap/reach.h"
#include "core/holder.h"
#include "core/state.h"
#include "core/log.h"
#include "report.h"

/* What a group's holder says, resolved once for every printer. */
struct group_view {
	const char *pool;
	const char *state;
	int lcore;              /* -1: not known */
	int port;               /* -1: not applicable */
	int queue;
	const char *ring;       /* NULL: not applicable */
	const char *file;       /* NULL: no site */
	unsigned int line;
	const char *func;
};

static void
group_view(const struct mpa_scan_result *r, const struct mpa_group *g,
	   struct group_view *v)
{
	const struct mpa_holder_ent *h = mpa_holder_get(g->key.holder);

	memset(v, 0, sizeof(*v));
	v->pool = g->key.pool < r->npools ? r->pools[g->key.pool].name : "?";
	v->state = mpa_state_name(g->key.state);
	v->lcore = g->key.lcore == MPA_LCORE_NONE ? -1 : g->key.lcore;
	v->port = -1;
	v->queue = -1;
	if (h == NULL)
		return;
	/* rx, tx, and pmd groups charged to the one RX queue of their pool. */
	if (h->port != UINT16_MAX) {
		v->port = h->port;
		v->queue = h->queue;
	}
	if (g->key.state == MPA_ST_RING && h->ring != NULL)
		v->ring = h->ring_name;
	if (h->site != NULL) {
		v->file = mpa_site_file(h->site->file);
		v->line = h->site->line;
		v->func = h->site->func;
	}
}

static char stop_why[32] = MPA_STOP_EXIT;
static char stop_signal[16];

void
mpa_report_set_stop(const char *why, const char *signal)
{
	snprintf(stop_why, sizeof(stop_why), "%s", why);
	snprintf(stop_signal, sizeof(stop_signal), "%s",
		 signal != NULL ? signal : "");
}

static const char *
state_phrase(uint8_t state)
{
	switch (state) {
	case MPA_ST_APP: return "held by application code";
	case MPA_ST_RX: return "held since RX";
	case MPA_ST_TX: return "handed to TX, not completed";
	case MPA_ST_RING: return "sitting in ring";
	case MPA_ST_PMD: return "taken by a driver or uninstrumented code";
	default: return "held by an unknown holder";
	}
}

/* One line: the shared sentence of the log and the summary. */
static void
group_sentence(const struct mpa_scan_result *r, const struct mpa_group *g,
	       char *buf, size_t len)
{
	struct group_view v;
	size_t n;

	group_view(r, g, &v);
	n = (size_t)snprintf(buf, len, "pool %s: %u objects %s", v.pool,
			     g->count, state_phrase(g->key.state));
	if (v.ring != NULL && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s", v.ring);
	if (v.port >= 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " on port %d queue %d",
				      v.port, v.queue);
	if (v.lcore >= 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " by lcore %d", v.lcore);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, ", oldest %d.%01d s",
				      g->max_age_ms / 1000,
				      (g->max_age_ms % 1000) / 100);
	if (v.file != NULL && n < len)
		snprintf(buf + n, len - n, ", last touched at %s:%u (%s)",
			 v.file, v.line, v.func != NULL ? v.func : "?");
}

void
mpa_report_log_new(const struct mpa_scan_result *r)
{
	char line[512];

	for (uint32_t i = 0; i < r->groups.n; i++) {
		const struct mpa_group *g = &r->groups.v[i];

		if (g->new_count == 0)
			continue;
		group_sentence(r, g, line, sizeof(line));
		MPA_LOG(WARNING, "%s [%u newly stuck]", line, g->new_count);
	}
}

static json_t *
int_or_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *
group_json(const struct mpa_scan_result *r, const struct mpa_group *g)
{
	struct group_view v;
	json_t *o = json_object(), *samples = json_array();
	char site[512];

	group_view(r, g, &v);
	if (v.file != NULL)
		snprintf(site, sizeof(site), "%s:%u", v.file, v.line);
	json_object_set_new(o, "pool", json_string(v.pool));
	json_object_set_new(o, "state", json_string(v.state));
	json_object_set_new(o, "lcore", int_or_null(v.lcore));
	json_object_set_new(o, "port", int_or_null(v.port));
	json_object_set_new(o, "queue", int_or_null(v.queue));
	json_object_set_new(o, "ring", v.ring != NULL ? json_string(v.ring) : json_null());
	json_object_set_new(o, "site", v.file != NULL ? json_string(site) : json_null());
	json_object_set_new(o, "function", v.func != NULL ? json_string(v.func) : json_null());
	json_object_set_new(o, "count", json_integer(g->count));
	json_object_set_new(o, "new", json_integer(g->new_count));
	json_object_set_new(o, "max_age_ms", json_integer(g->max_age_ms));
	for (uint32_t i = 0; i < g->nsamples; i++) {
		char a[32];

		snprintf(a, sizeof(a), "0x%" PRIxPTR, g->samples[i]);
		json_array_append_new(samples, json_string(a));
	}
	json_object_set_new(o, "samples", samples);
	return o;
}

/*
 * Heap allocations reported: at least this old. 0 for the final report
 * (everything still outstanding at exit is a leak), the stuck threshold
 * for reports taken while the application runs.
 */
static uint32_t heap_age_ms;

void
mpa_report_heap_age(uint32_t min_age_ms)
{
	heap_age_ms = min_age_ms;
}

/*
 * Heap leak groups at the current age threshold (0 without heap
 * tracking): lost or growing only. A service keeps most of its memory
 * until it ends (pools, rings, tables reachable from its globals); that
 * is not a leak.
 */
static int
heap_leaks(void)
{
	struct mpa_heap_group *g = NULL;
	int n;

	mpa_guard_enter();
	n = mpa_reach_groups(heap_age_ms, MPA_REACH_STALE_MS, &g, NULL);
	n = n > 0 ? mpa_reach_leaks(g, n) : 0;
	free(g);
	mpa_guard_leave();
	return n;
}

int
mpa_report_exit_code(const struct mpa_scan_result *r)
{
	return r->stuck != 0 || mpa_error_count() != 0 || heap_leaks() != 0 ?
	       MPA_EXIT_FOUND : MPA_EXIT_CLEAN;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

/* The kept errors; summary.errors has the total, also beyond those. */
static json_t *
errors_json(void)
{
	uint64_t n = mpa_error_count();
	json_t *a = json_array();

	for (uint64_t i = 0; i < n && i < MPA_ERRORS_MAX; i++) {
		const struct mpa_error *e = mpa_error_get(i);
		json_t *o;
		char addr[32];

		if (e == NULL)
			continue;
		o = json_object();
		snprintf(addr, sizeof(addr), "0x%" PRIxPTR, e->addr);
		json_object_set_new(o, "type", json_string(mpa_error_type_name(e->type)));
		json_object_set_new(o, "pool_or_heap", str_or_null(e->where));
		json_object_set_new(o, "address", json_string(addr));
		json_object_set_new(o, "site", str_or_null(e->site));
		json_object_set_new(o, "first_site", str_or_null(e->first_site));
		json_object_set_new(o, "lcore", e->lcore >= 0 ?
				    json_integer(e->lcore) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

json_t *
mpa_report_json(const struct mpa_scan_result *r,
		const struct mpa_scan_stats *st, const struct mpa_config *cfg)
{
	json_t *root = json_object(), *pools = json_array(), *stuck = json_array();
	json_t *config = json_object(), *scanner = json_object(), *summary = json_object();
	struct mpa_heap_group *hg = NULL;
	struct mpa_reach_stats rs;
	json_t *heap;
	int nheap, leaks;

	if (root == NULL || pools == NULL || stuck == NULL || config == NULL ||
	    scanner == NULL || summary == NULL)
		goto err;
	json_object_set_new(root, "tool", json_string("mpaudit"));
	json_object_set_new(root, "version", json_string(MPA_VERSION));
	json_object_set_new(root, "mode", json_string(mpa_state_mode()));
	json_object_set_new(config, "stuck_ms", json_integer(cfg->stuck_ms));
	json_object_set_new(config, "scan_ms", json_integer(cfg->scan_ms));
	json_object_set_new(root, "config", config);
	config = NULL;
	for (uint32_t i = 0; i < r->npools; i++) {
		const struct mpa_result_pool *p = &r->pools[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(p->name));
		json_object_set_new(o, "size", json_integer(p->size));
		json_object_set_new(o, "in_use", json_integer(p->in_use));
		json_object_set_new(o, "free", json_integer(p->nfree));
		json_object_set_new(o, "stuck", json_integer(p->stuck));
		json_object_set_new(o, "stamp", json_string(p->header_stamp ? "header" : "side"));
		json_object_set_new(o, "free_set", json_string(p->have_free_set ? "ring+cache" : "stamps"));
		json_object_set_new(o, "driver_held", json_integer(p->driver_held));
		json_object_set_new(o, "driver_expected", json_integer(p->driver_expected));
		json_object_set_new(o, "destroyed", json_boolean(p->destroyed));
		/* The drain forecast (core/history.h); null until judged. */
		json_object_set_new(o, "history", json_integer(p->forecast.samples));
		json_object_set_new(o, "rate_per_s", p->forecast.valid ?
				    json_real(p->forecast.rate_per_s) : json_null());
		json_object_set_new(o, "growing", json_boolean(p->forecast.growing));
		json_object_set_new(o, "exhaust_s", p->forecast.growing ?
				    json_real(p->forecast.exhaust_s) : json_null());
		json_array_append_new(pools, o);
	}
	json_object_set_new(root, "pools", pools);
	pools = NULL;
	for (uint32_t i = 0; i < r->groups.n; i++)
		json_array_append_new(stuck, group_json(r, &r->groups.v[i]));
	json_object_set_new(root, "stuck", stuck);
	stuck = NULL;
	mpa_guard_enter();
	nheap = mpa_reach_groups(heap_age_ms, MPA_REACH_STALE_MS, &hg, &rs);
	if (nheap < 0)
		nheap = 0;
	leaks = mpa_reach_leaks(hg, nheap);
	json_object_set_new(root, "malloc", mpa_heap_groups_json(hg, nheap));
	json_object_set_new(root, "errors", errors_json());
	heap = mpa_heap_stats_json();
	if (mpa_heap_active())
		json_object_set_new(heap, "scan", mpa_heap_scan_json(hg, nheap, &rs));
	json_object_set_new(root, "heap", heap);
	free(hg);
	mpa_guard_leave();
	json_object_set_new(scanner, "mode",
			    json_string(st->last_by_service ? "service" : "thread"));
	json_object_set_new(scanner, "scans", json_integer((json_int_t)st->scans));
	json_object_set_new(scanner, "service_scans",
			    json_integer((json_int_t)st->service_scans));
	json_object_set_new(scanner, "objects", json_integer((json_int_t)st->objects));
	json_object_set_new(scanner, "total_ns", json_integer((json_int_t)st->total_ns));
	json_object_set_new(scanner, "max_ns", json_integer((json_int_t)st->max_ns));
	json_object_set_new(scanner, "last_ns", json_integer((json_int_t)st->last_ns));
	json_object_set_new(root, "scanner", scanner);
	scanner = NULL;
	json_object_set_new(summary, "stop", json_string(stop_why));
	json_object_set_new(summary, "signal", str_or_null(stop_signal));
	json_object_set_new(summary, "stuck", json_integer(r->stuck));
	json_object_set_new(summary, "groups", json_integer(r->groups.n));
	json_object_set_new(summary, "ungrouped", json_integer(r->groups.dropped));
	json_object_set_new(summary, "errors",
			    json_integer((json_int_t)mpa_error_count()));
	json_object_set_new(summary, "errors_listed",
			    json_integer((json_int_t)(mpa_error_count() < MPA_ERRORS_MAX ?
						      mpa_error_count() : MPA_ERRORS_MAX)));
	json_object_set_new(summary, "malloc_groups", json_integer(nheap));
	json_object_set_new(summary, "malloc_leaks", json_integer(leaks));
	json_object_set_new(summary, "exit_code",
			    json_integer(r->stuck != 0 || mpa_error_count() != 0 ||
					 leaks != 0 ? MPA_EXIT_FOUND : MPA_EXIT_CLEAN));
	json_object_set_new(root, "summary", summary);
	return root;
err:
	json_decref(root);
	json_decref(pools);
	json_decref(stuck);
	json_decref(config);
	json_decref(scanner);
	json_decref(summary);
	return NULL;
}

int
mpa_report_write_file(const char *path, const struct mpa_scan_result *r,
		      const struct mpa_scan_stats *st,
		      const struct mpa_config *cfg)
{
	char tmp[4096 + 16];
	json_t *root;
	int rc = 0;

	if (path == NULL || *path == '\0')
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	root = mpa_report_json(r, st, cfg);
	if (root == NULL)
		return -ENOMEM;
	if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		rc = errno != 0 ? -errno : -EIO;
	else if (rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		MPA_LOG(ERR, "cannot write report %s: %s", path, strerror(-rc));
	}
	json_decref(root);
	return rc;
}

int
mpa_report_print_summary(FILE *f, const struct mpa_scan_result *r,
			 const struct mpa_scan_stats *st,
			 const struct mpa_config *cfg)
{
	/* "(exit, after SIGINT)": the signal is said once. */
	int after = stop_signal[0] != '\0' && strncmp(stop_why, "signal", 6) != 0;
	char heap[48] = "";
	int nheap, leaks;

	fprintf(f, "mpaudit: report (%s%s%s) after %" PRIu64 " scans, threshold %u ms\n",
		stop_why, after ? ", after " : "", after ? stop_signal : "",
		st->scans, cfg->stuck_ms);
	fprintf(f, "%-24s %10s %10s %10s %10s\n", "POOL", "SIZE", "IN_USE",
		"FREE", "STUCK");
	for (uint32_t i = 0; i < r->npools; i++) {
		const struct mpa_result_pool *p = &r->pools[i];

		/* A destroyed pool's row is its last scan before it went. */
		fprintf(f, "%-24s %10u %10u %10u %10u%s\n", p->name, p->size,
			p->in_use, p->nfree, p->stuck,
			p->destroyed ? "  (destroyed)" : "");
	}
	if (r->groups.n != 0) {
		fprintf(f, "\n%8s  %-7s %5s %5s %5s  %-14s %11s  %s\n", "STUCK",
			"STATE", "LCORE", "PORT", "QUEUE", "RING", "MAX_AGE",
			"SITE");
		for (uint32_t i = 0; i < r->groups.n; i++) {
			const struct mpa_group *g = &r->groups.v[i];
			struct group_view v;
			char lc[12] = "-", pt[12] = "-", qu[12] = "-";

			group_view(r, g, &v);
			if (v.lcore >= 0)
				snprintf(lc, sizeof(lc), "%d", v.lcore);
			if (v.port >= 0) {
				snprintf(pt, sizeof(pt), "%d", v.port);
				snprintf(qu, sizeof(qu), "%d", v.queue);
			}
			fprintf(f, "%8u  %-7s %5s %5s %5s  %-14s %7d.%01d s  ",
				g->count, v.state, lc, pt, qu,
				v.ring != NULL ? v.ring : "-",
				g->max_age_ms / 1000, (g->max_age_ms % 1000) / 100);
			if (v.file != NULL)
				fprintf(f, "%s:%u (%s)\n", v.file, v.line,
					v.func != NULL ? v.func : "?");
			else
				fprintf(f, "-\n");
		}
	}
	if (mpa_error_count() != 0) {
		uint64_t n = mpa_error_count();

		fprintf(f, "\n%-13s %-18s %-24s %s\n", "ERROR", "ADDRESS",
			"POOL_OR_HEAP", "SITE");
		for (uint64_t i = 0; i < n && i < MPA_ERRORS_MAX; i++) {
			const struct mpa_error *e = mpa_error_get(i);

			if (e != NULL)
				fprintf(f, "%-13s 0x%-16" PRIxPTR " %-24s %s\n",
					mpa_error_type_name(e->type), e->addr,
					e->where[0] ? e->where : "-",
					e->site[0] ? e->site : "-");
		}
	}
	nheap = mpa_heap_print(f, heap_age_ms);
	leaks = r->stuck != 0 || nheap != 0;
	if (mpa_heap_active())
		snprintf(heap, sizeof(heap), ", %d heap leak groups", nheap);
	fprintf(f, "\nmpaudit: %u stuck objects in %u groups in %u pools%s, %" PRIu64 " free errors: %s\n",
		r->stuck, r->groups.n, r->npools, heap, mpa_error_count(),
		leaks && mpa_error_count() != 0 ? "LEAKS AND FREE ERRORS FOUND" :
		leaks ? "LEAKS FOUND" :
		mpa_error_count() != 0 ? "FREE ERRORS FOUND" : "clean");
	return (int)r->stuck;
}
