/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/classify.h"
#include "core/errors.h"
#include "core/guard.h"
#include "core/log.h"
#include "core/state.h"
#include "heap/heap.h"
#include "heapreport.h"
#include "query/query.h"
#include "report.h"

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
group_sentence(const struct mpa_query_holder *v, uint32_t count,
	       int32_t max_age_ms, char *buf, size_t len)
{
	size_t n;

	n = (size_t)snprintf(buf, len, "pool %s: %u objects %s", v->pool,
			     count, state_phrase(v->state));
	if (v->has_ring && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s", v->ring);
	if (v->port >= 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " on port %d queue %d",
				      v->port, v->queue);
	if (v->lcore >= 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " by lcore %d", v->lcore);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, ", oldest %d.%01d s",
				      max_age_ms / 1000, (max_age_ms % 1000) / 100);
	if (v->file != NULL && n < len)
		snprintf(buf + n, len - n, ", last touched at %s:%u (%s)",
			 v->file, v->line, v->func != NULL ? v->func : "?");
}

/*
 * A holder that goes on leaking has newly stuck objects at every scan, and
 * one line per scan would bury the log. Its first stuck objects are logged
 * at once; later ones are summed and logged at most every
 * MPA_LOG_REPEAT_MS, and what is left when the auditor reports at a stop
 * (mpa_report_log_flush()): each stuck object is still in exactly one
 * line, whose count is the holder's total so far. Holders are told apart
 * by pool name, holder, lcore and state (a scan's pool index can change).
 */
#define MPA_LOG_REPEAT_MS 10000
#define MPA_LOG_HOLDERS 128

struct logged_holder {
	char pool[RTE_MEMPOOL_NAMESIZE];
	uint32_t holder;
	uint8_t lcore;
	uint8_t state;
	int used;
	uint32_t at_ms;         /* clock of its latest line */
	uint32_t pending;       /* newly stuck since, not logged yet */
	char line[512];         /* the latest sentence, for a pending line */
};

/* Under the registry lock, like the scan that calls in. */
static struct logged_holder logged[MPA_LOG_HOLDERS];

static void
log_pending(struct logged_holder *l, uint32_t now_ms)
{
	if (l->pending == 0)
		return;
	MPA_LOG(WARNING, "%s [%u newly stuck]", l->line, l->pending);
	l->pending = 0;
	l->at_ms = now_ms;
}

static struct logged_holder *
logged_find(const char *pool, const struct mpa_group_key *k, int *fresh)
{
	struct logged_holder *free_slot = NULL, *oldest = NULL;

	*fresh = 0;
	for (unsigned int i = 0; i < MPA_LOG_HOLDERS; i++) {
		struct logged_holder *l = &logged[i];

		if (!l->used) {
			if (free_slot == NULL)
				free_slot = l;
			continue;
		}
		if (l->holder == k->holder && l->lcore == k->lcore &&
		    l->state == k->state && strcmp(l->pool, pool) == 0)
			return l;
		if (oldest == NULL || mpa_age_ms(oldest->at_ms, l->at_ms) > 0)
			oldest = l;
	}
	/* Full: the holder logged longest ago makes room, its sum said. */
	if (free_slot == NULL) {
		log_pending(oldest, oldest->at_ms);
		free_slot = oldest;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = 1;
	rte_strscpy(free_slot->pool, pool, sizeof(free_slot->pool));
	free_slot->holder = k->holder;
	free_slot->lcore = k->lcore;
	free_slot->state = k->state;
	*fresh = 1;
	return free_slot;
}

/*
 * Called by the scan under the registry lock: each group's holder is
 * resolved through the query layer, one at a time, so logging allocates
 * nothing and cannot fail on a scan's thread.
 */
void
mpa_report_log_new(const struct mpa_scan_result *r)
{
	struct mpa_query_holder h;

	for (uint32_t i = 0; i < r->groups.n; i++) {
		const struct mpa_group *g = &r->groups.v[i];
		const char *pool = g->key.pool < r->npools ?
				   r->pools[g->key.pool].name : "?";
		struct logged_holder *l;
		int fresh;

		if (g->new_count == 0)
			continue;
		l = logged_find(pool, &g->key, &fresh);
		mpa_query_group_holder(&h, r, g);
		group_sentence(&h, g->count, g->max_age_ms, l->line,
			       sizeof(l->line));
		l->pending += g->new_count;
		if (fresh ||
		    mpa_age_ms(r->now_ms, l->at_ms) >= (int32_t)MPA_LOG_REPEAT_MS)
			log_pending(l, r->now_ms);
	}
}

void
mpa_report_log_flush(void)
{
	for (unsigned int i = 0; i < MPA_LOG_HOLDERS; i++)
		if (logged[i].used)
			log_pending(&logged[i], logged[i].at_ms);
}

void
mpa_report_log_forget(void)
{
	memset(logged, 0, sizeof(logged));
}

static json_t *
int_or_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

void
mpa_report_holder_json(json_t *o, const struct mpa_query_holder *v)
{
	char site[512];

	if (v->file != NULL)
		snprintf(site, sizeof(site), "%s:%u", v->file, v->line);
	json_object_set_new(o, "pool", json_string(v->pool));
	json_object_set_new(o, "state", json_string(mpa_state_name(v->state)));
	json_object_set_new(o, "lcore", int_or_null(v->lcore));
	json_object_set_new(o, "port", int_or_null(v->port));
	json_object_set_new(o, "queue", int_or_null(v->queue));
	json_object_set_new(o, "ring", v->has_ring ? json_string(v->ring) : json_null());
	json_object_set_new(o, "site", v->file != NULL ? json_string(site) : json_null());
	json_object_set_new(o, "function", v->file != NULL && v->func != NULL ?
			    json_string(v->func) : json_null());
}

/*
 * The samples' previous holders (MPAUDIT_HISTORY), one entry per sample
 * in the order of "samples": its address and who held it before, most
 * recent first, each as a group's holder says it (the pool is the
 * group's) with its age at the scan.
 */
static json_t *
sample_history_json(const struct mpa_query_group *g)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < g->nsamples; i++) {
		json_t *e = json_object(), *prev = json_array();
		char addr[32];

		snprintf(addr, sizeof(addr), "0x%" PRIxPTR, g->samples[i]);
		json_object_set_new(e, "address", json_string(addr));
		for (uint32_t j = 0; g->prev != NULL && j < g->nprev[i]; j++) {
			const struct mpa_query_prev *p =
				&g->prev[i * MPA_OBJHIST_CAP + j];
			json_t *h = json_object();

			mpa_report_holder_json(h, &p->h);
			json_object_del(h, "pool");
			json_object_set_new(h, "age_ms", json_integer(p->age_ms));
			json_array_append_new(prev, h);
		}
		json_object_set_new(e, "previous", prev);
		json_array_append_new(a, e);
	}
	return a;
}

static json_t *
group_json(const struct mpa_query_group *g, uint32_t objhist_k)
{
	json_t *o = json_object(), *samples = json_array();

	mpa_report_holder_json(o, &g->h);
	json_object_set_new(o, "count", json_integer(g->count));
	json_object_set_new(o, "new", json_integer(g->new_count));
	json_object_set_new(o, "max_age_ms", json_integer(g->max_age_ms));
	for (uint32_t i = 0; i < g->nsamples; i++) {
		char a[32];

		snprintf(a, sizeof(a), "0x%" PRIxPTR, g->samples[i]);
		json_array_append_new(samples, json_string(a));
	}
	json_object_set_new(o, "samples", samples);
	if (objhist_k != 0)
		json_object_set_new(o, "sample_history", sample_history_json(g));
	return o;
}

void
mpa_report_heap_age(uint32_t min_age_ms)
{
	mpa_query_heap_age(min_age_ms);
}

int
mpa_report_exit_code(const struct mpa_scan_result *r)
{
	struct mpa_query q;
	int rc;

	/* Copies no list: only the counts and the heap's leak groups. */
	mpa_query_from_result(&q, r, NULL, MPA_QUERY_HEAP,
			      MPA_QUERY_HEAP_AGE_REPORT);
	rc = mpa_query_exit_code(&q);
	mpa_query_release(&q);
	return rc;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

/* The kept errors; summary.errors has the total, also beyond those. */
static json_t *
errors_json(const struct mpa_query *q)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < q->nerrors; i++) {
		const struct mpa_error *e = &q->errorv[i].e;
		json_t *o;
		char addr[32];

		if (!q->errorv[i].present)
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

static json_t *
pool_json(const struct mpa_result_pool *p, uint32_t objhist_k)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "size", json_integer(p->size));
	json_object_set_new(o, "in_use", json_integer(p->in_use));
	json_object_set_new(o, "free", json_integer(p->nfree));
	json_object_set_new(o, "stuck", json_integer(p->stuck));
	json_object_set_new(o, "stamp", json_string(p->stamp_where));
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
	/* With MPAUDIT_HISTORY: what this pool keeps (0: side table). */
	if (objhist_k != 0)
		json_object_set_new(o, "stamp_history", json_integer(p->objhist));
	return o;
}

static json_t *
view_json(const struct mpa_query *q, const struct mpa_config *cfg)
{
	json_t *root = json_object(), *pools = json_array(), *stuck = json_array();
	json_t *config = json_object(), *scanner = json_object(), *summary = json_object();
	const struct mpa_scan_stats *st = &q->stats;
	json_t *heap;

	if (root == NULL || pools == NULL || stuck == NULL || config == NULL ||
	    scanner == NULL || summary == NULL)
		goto err;
	json_object_set_new(root, "tool", json_string("mpaudit"));
	json_object_set_new(root, "version", json_string(MPA_VERSION));
	json_object_set_new(root, "mode", json_string(mpa_state_mode()));
	json_object_set_new(config, "stuck_ms", json_integer(cfg->stuck_ms));
	json_object_set_new(config, "scan_ms", json_integer(cfg->scan_ms));
	json_object_set_new(config, "history", json_integer(cfg->history));
	json_object_set_new(root, "config", config);
	config = NULL;
	for (uint32_t i = 0; i < q->npools; i++)
		json_array_append_new(pools, pool_json(&q->pools[i], q->objhist_k));
	json_object_set_new(root, "pools", pools);
	pools = NULL;
	for (uint32_t i = 0; i < q->ngroups; i++)
		json_array_append_new(stuck, group_json(&q->groups[i], q->objhist_k));
	json_object_set_new(root, "stuck", stuck);
	stuck = NULL;
	json_object_set_new(root, "malloc", mpa_heap_groups_json(q->heap, q->nheap));
	json_object_set_new(root, "errors", errors_json(q));
	heap = mpa_heap_stats_json();
	if (mpa_heap_active())
		json_object_set_new(heap, "scan", mpa_heap_scan_json(q->heap, q->nheap,
								     &q->heap_scan));
	json_object_set_new(root, "heap", heap);
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
	json_object_set_new(summary, "stuck", json_integer(q->stuck));
	json_object_set_new(summary, "groups", json_integer(q->ngroups));
	json_object_set_new(summary, "ungrouped", json_integer(q->ungrouped));
	json_object_set_new(summary, "errors", json_integer((json_int_t)q->errors));
	json_object_set_new(summary, "errors_listed", json_integer(q->nerrors));
	json_object_set_new(summary, "malloc_groups", json_integer(q->nheap));
	json_object_set_new(summary, "malloc_leaks", json_integer(q->heap_leaks));
	json_object_set_new(summary, "exit_code", json_integer(mpa_query_exit_code(q)));
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

json_t *
mpa_report_json(const struct mpa_scan_result *r,
		const struct mpa_scan_stats *st, const struct mpa_config *cfg)
{
	struct mpa_query q;
	json_t *root = NULL;

	mpa_guard_enter();
	if (mpa_query_from_result(&q, r, st, MPA_QUERY_ALL,
				  MPA_QUERY_HEAP_AGE_REPORT) == 0) {
		root = view_json(&q, cfg);
		mpa_query_release(&q);
	}
	mpa_guard_leave();
	return root;
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

/* The stuck groups' table of the summary. */
static void
print_groups(FILE *f, const struct mpa_query *q)
{
	fprintf(f, "\n%8s  %-7s %5s %5s %5s  %-14s %11s  %s\n", "STUCK",
		"STATE", "LCORE", "PORT", "QUEUE", "RING", "MAX_AGE", "SITE");
	for (uint32_t i = 0; i < q->ngroups; i++) {
		const struct mpa_query_group *g = &q->groups[i];
		const struct mpa_query_holder *v = &g->h;
		char lc[12] = "-", pt[12] = "-", qu[12] = "-";

		if (v->lcore >= 0)
			snprintf(lc, sizeof(lc), "%d", v->lcore);
		if (v->port >= 0) {
			snprintf(pt, sizeof(pt), "%d", v->port);
			snprintf(qu, sizeof(qu), "%d", v->queue);
		}
		fprintf(f, "%8u  %-7s %5s %5s %5s  %-14s %7d.%01d s  ",
			g->count, mpa_state_name(v->state), lc, pt, qu,
			v->has_ring ? v->ring : "-",
			g->max_age_ms / 1000, (g->max_age_ms % 1000) / 100);
		if (v->file != NULL)
			fprintf(f, "%s:%u (%s)\n", v->file, v->line,
				v->func != NULL ? v->func : "?");
		else
			fprintf(f, "-\n");
	}
}

/* "rx port 0 queue 0 lcore 1 at FILE:LINE": who, in a few words. */
static void
holder_words(const struct mpa_query_holder *v, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s", mpa_state_name(v->state));

	if (v->has_ring && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s", v->ring);
	if (v->port >= 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " port %d queue %d",
				      v->port, v->queue);
	if (v->lcore >= 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " lcore %d", v->lcore);
	if (v->file != NULL && n < len)
		snprintf(buf + n, len - n, " at %s:%u", v->file, v->line);
}

/*
 * The samples' previous holders, oldest first, ending with the group's
 * holder: how each sample got where it is stuck.
 */
static void
print_histories(FILE *f, const struct mpa_query *q)
{
	char w[512];

	fprintf(f, "\nHOW THE SAMPLES GOT THERE (MPAUDIT_HISTORY=%u: previous holders, oldest first, age at the scan)\n",
		q->objhist_k);
	for (uint32_t i = 0; i < q->ngroups; i++) {
		const struct mpa_query_group *g = &q->groups[i];

		holder_words(&g->h, w, sizeof(w));
		fprintf(f, "%8u  %s\n", g->count, w);
		for (uint32_t s = 0; s < g->nsamples; s++) {
			fprintf(f, "          0x%" PRIxPTR ": ", g->samples[s]);
			if (g->prev == NULL || g->nprev[s] == 0)
				fprintf(f, "(no earlier holder known) -> ");
			for (uint32_t j = g->prev != NULL ? g->nprev[s] : 0;
			     j-- > 0;) {
				const struct mpa_query_prev *p =
					&g->prev[s * MPA_OBJHIST_CAP + j];

				holder_words(&p->h, w, sizeof(w));
				fprintf(f, "%s (%d.%01d s) -> ", w,
					p->age_ms / 1000, (p->age_ms % 1000) / 100);
			}
			holder_words(&g->h, w, sizeof(w));
			fprintf(f, "%s\n", w);
		}
	}
}

int
mpa_report_print_summary(FILE *f, const struct mpa_scan_result *r,
			 const struct mpa_scan_stats *st,
			 const struct mpa_config *cfg)
{
	/* "(exit, after SIGINT)": the signal is said once. */
	int after = stop_signal[0] != '\0' && strncmp(stop_why, "signal", 6) != 0;
	char heap[48] = "";
	struct mpa_query q;
	int leaks;

	mpa_guard_enter();
	if (mpa_query_from_result(&q, r, st, MPA_QUERY_ALL,
				  MPA_QUERY_HEAP_AGE_REPORT) != 0) {
		mpa_guard_leave();
		fprintf(f, "mpaudit: report: out of memory\n");
		return (int)r->stuck;
	}
	fprintf(f, "mpaudit: report (%s%s%s) after %" PRIu64 " scans, threshold %u ms\n",
		stop_why, after ? ", after " : "", after ? stop_signal : "",
		q.stats.scans, cfg->stuck_ms);
	fprintf(f, "%-24s %10s %10s %10s %10s\n", "POOL", "SIZE", "IN_USE",
		"FREE", "STUCK");
	for (uint32_t i = 0; i < q.npools; i++) {
		const struct mpa_result_pool *p = &q.pools[i];

		/* A destroyed pool's row is its last scan before it went. */
		fprintf(f, "%-24s %10u %10u %10u %10u%s\n", p->name, p->size,
			p->in_use, p->nfree, p->stuck,
			p->destroyed ? "  (destroyed)" : "");
	}
	if (q.ngroups != 0)
		print_groups(f, &q);
	if (q.ngroups != 0 && q.objhist_k != 0)
		print_histories(f, &q);
	if (q.errors != 0) {
		fprintf(f, "\n%-13s %-18s %-24s %s\n", "ERROR", "ADDRESS",
			"POOL_OR_HEAP", "SITE");
		for (uint32_t i = 0; i < q.nerrors; i++) {
			const struct mpa_error *e = &q.errorv[i].e;

			if (q.errorv[i].present)
				fprintf(f, "%-13s 0x%-16" PRIxPTR " %-24s %s\n",
					mpa_error_type_name(e->type), e->addr,
					e->where[0] ? e->where : "-",
					e->site[0] ? e->site : "-");
		}
	}
	mpa_heap_print(f, q.heap, q.nheap, &q.heap_scan);
	leaks = q.stuck != 0 || q.heap_leaks != 0;
	if (mpa_heap_active())
		snprintf(heap, sizeof(heap), ", %d heap leak groups", q.heap_leaks);
	fprintf(f, "\nmpaudit: %u stuck objects in %u groups in %u pools%s, %" PRIu64 " free errors: %s\n",
		q.stuck, q.ngroups, q.npools, heap, q.errors,
		leaks && q.errors != 0 ? "LEAKS AND FREE ERRORS FOUND" :
		leaks ? "LEAKS FOUND" :
		q.errors != 0 ? "FREE ERRORS FOUND" : "clean");
	mpa_query_release(&q);
	mpa_guard_leave();
	return (int)r->stuck;
}
