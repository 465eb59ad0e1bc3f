/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The heap's part of the reports: the `malloc` groups and the `heap`
 * object of the JSON report, the human table, and snapshot differences.
 * Control plane only; runs marked internal, so what it allocates is never
 * reported.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "mpaudit_heap.h"
#include "heap/heap.h"
#include "heapreport.h"
#include "heap/growth.h"
#include "core/log.h"
#include "heap/reach.h"
#include "heap/stack.h"
#include "heap/symbol.h"

#define FRAME_LEN 256

json_t *
mpa_heap_stack_json(uint32_t id, uint32_t max_frames)
{
	const struct mpa_stack *st = mpa_stack_get(id);
	json_t *a = json_array();
	char buf[FRAME_LEN];

	if (st == NULL || a == NULL)
		return a;
	for (uint32_t i = 0; i < st->depth && i < max_frames; i++) {
		mpa_symbol_frame(&st->frames[i], buf, sizeof(buf));
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *
mpa_heap_group_json(const struct mpa_heap_group *g, uint32_t max_frames)
{
	json_t *o = json_object(), *lc = json_array();
	char addr[32];

	snprintf(addr, sizeof(addr), "0x%" PRIxPTR, g->sample);
	json_object_set_new(o, "kind", json_string(mpa_heap_kind_name(g->kind)));
	json_object_set_new(o, "class", str_or_null(mpa_heap_class_name(g->cls)));
	json_object_set_new(o, "owner", str_or_null(g->owner));
	json_object_set_new(o, "growing", json_boolean(g->growing));
	json_object_set_new(o, "leak", json_boolean(mpa_reach_is_leak(g)));
	json_object_set_new(o, "bytes", json_integer((json_int_t)g->bytes));
	json_object_set_new(o, "count", json_integer((json_int_t)g->count));
	json_object_set_new(o, "max_age_ms", json_integer(g->max_age_ms));
	json_object_set_new(o, "stack", mpa_heap_stack_json(g->stack, max_frames));
	json_object_set_new(o, "sample_address", json_string(addr));
	json_object_set_new(o, "type", str_or_null(g->type));
	json_object_set_new(o, "memzone", str_or_null(g->memzone));
	json_object_set_new(o, "socket", g->socket >= 0 ?
			    json_integer(g->socket) : json_null());
	for (int i = 0; i < 64; i++)
		if (g->lcores & (UINT64_C(1) << i))
			json_array_append_new(lc, json_integer(i));
	json_object_set_new(o, "lcores", lc);
	json_object_set_new(o, "non_eal", json_integer(g->non_eal));
	return o;
}

json_t *
mpa_heap_groups_json(const struct mpa_heap_group *g, int n)
{
	json_t *a = json_array();

	mpa_guard_enter();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, mpa_heap_group_json(&g[i], MPA_STACK_MAX_DEPTH));
	mpa_guard_leave();
	return a;
}

json_t *
mpa_heap_scan_json(const struct mpa_heap_group *g, int n,
		   const struct mpa_reach_stats *st)
{
	json_t *o = json_object(), *cls = json_object();
	int growing = 0;

	mpa_guard_enter();
	for (int i = 0; i < n; i++)
		growing += g[i].growing != 0;
	for (int c = MPA_HEAP_LOST; c < MPA_HEAP_CLASSES; c++) {
		json_t *e = json_object();
		uint64_t groups = 0, count = 0, bytes = 0;

		/* Of the groups listed: the loader's own are in none. */
		for (int i = 0; i < n; i++) {
			if (g[i].cls != (enum mpa_heap_class)c)
				continue;
			groups++;
			count += g[i].count;
			bytes += g[i].bytes;
		}
		json_object_set_new(e, "groups", json_integer((json_int_t)groups));
		json_object_set_new(e, "count", json_integer((json_int_t)count));
		json_object_set_new(e, "bytes", json_integer((json_int_t)bytes));
		json_object_set_new(cls, mpa_heap_class_name(c), e);
	}
	json_object_set_new(o, "classes", cls);
	json_object_set_new(o, "leak_groups", json_integer(mpa_reach_leaks(g, n)));
	json_object_set_new(o, "growing_groups", json_integer(growing));
	json_object_set_new(o, "growth_samples", json_integer(mpa_growth_samples()));
	json_object_set_new(o, "scan_ms", json_real((double)st->ns / 1e6));
	json_object_set_new(o, "records", json_integer((json_int_t)st->records));
	json_object_set_new(o, "bytes_read", json_integer((json_int_t)st->bytes_read));
	json_object_set_new(o, "root_bytes", json_integer((json_int_t)st->root_bytes));
	json_object_set_new(o, "threads", json_integer(st->threads));
	json_object_set_new(o, "modules", json_integer(st->modules));
	json_object_set_new(o, "unreadable", json_integer(st->unreadable));
	mpa_guard_leave();
	return o;
}

json_t *
mpa_heap_stats_json(void)
{
	struct mpa_heap_stats st;
	const char *names[MPA_HEAP_SNAPSHOTS_MAX];
	json_t *o = json_object(), *live = json_object(), *snaps = json_array();
	uint64_t rc_count[MPA_HEAP_KINDS], rc_bytes[MPA_HEAP_KINDS];
	int n;

	mpa_guard_enter();
	mpa_heap_stats(&st);
	json_object_set_new(o, "active", json_boolean(st.active));
	json_object_set_new(o, "tracking", json_boolean(st.tracking));
	json_object_set_new(o, "disabled", str_or_null(st.active ? NULL : st.disabled));
	json_object_set_new(o, "depth", json_integer(st.depth));
	for (int k = 0; k < MPA_HEAP_KINDS; k++) {
		json_t *e = json_object();

		json_object_set_new(e, "count", json_integer((json_int_t)st.live_count[k]));
		json_object_set_new(e, "bytes", json_integer((json_int_t)st.live_bytes[k]));
		json_object_set_new(e, "allocs", json_integer((json_int_t)st.allocs[k]));
		json_object_set_new(e, "frees", json_integer((json_int_t)st.frees[k]));
		json_object_set_new(live, mpa_heap_kind_name(k), e);
	}
	json_object_set_new(o, "live", live);
	/* Outstanding, but the loader's: in live, in no group. */
	live = json_object();
	mpa_heap_runtime(rc_count, rc_bytes);
	for (int k = 0; k < MPA_HEAP_KINDS; k++) {
		json_t *e = json_object();

		json_object_set_new(e, "count", json_integer((json_int_t)rc_count[k]));
		json_object_set_new(e, "bytes", json_integer((json_int_t)rc_bytes[k]));
		json_object_set_new(live, mpa_heap_kind_name(k), e);
	}
	json_object_set_new(o, "runtime", live);
	json_object_set_new(o, "records", json_integer((json_int_t)st.records));
	json_object_set_new(o, "stacks", json_integer(st.stacks));
	json_object_set_new(o, "table_bytes", json_integer((json_int_t)st.table_bytes));
	n = mpa_heap_snapshot_names(names, MPA_HEAP_SNAPSHOTS_MAX);
	for (int i = 0; i < n; i++)
		json_array_append_new(snaps, json_string(names[i]));
	json_object_set_new(o, "snapshots", snaps);
	mpa_guard_leave();
	return o;
}

static void
human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= (UINT64_C(10) << 20))
		snprintf(buf, len, "%" PRIu64 " MiB", b >> 20);
	else if (b >= (UINT64_C(10) << 10))
		snprintf(buf, len, "%" PRIu64 " KiB", b >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", b);
}

/* Frames printed per group in the human table; the JSON has them all. */
#define PRINT_FRAMES 4
/* Groups printed; the JSON has them all. */
#define PRINT_GROUPS 20

int
mpa_heap_print(FILE *f, const struct mpa_heap_group *g, int n,
	       const struct mpa_reach_stats *rs)
{
	char buf[FRAME_LEN], bytes[32];
	int leaks, shown = 0;

	leaks = n > 0 ? mpa_reach_leaks(g, n) : 0;
	if (leaks > 0) {
		fprintf(f, "\n%10s %8s  %-10s %11s  %s\n", "BYTES", "COUNT",
			"KIND", "MAX_AGE", "ALLOCATED AT (leaks: lost or growing)");
		for (int i = 0; i < n && shown < PRINT_GROUPS; i++) {
			const struct mpa_stack *st = mpa_stack_get(g[i].stack);

			if (!mpa_reach_is_leak(&g[i]))
				continue;
			shown++;

			human_bytes(g[i].bytes, bytes, sizeof(bytes));
			fprintf(f, "%10s %8" PRIu64 "  %-10s %7u.%01u s  ", bytes,
				g[i].count, mpa_heap_kind_name(g[i].kind),
				g[i].max_age_ms / 1000, (g[i].max_age_ms % 1000) / 100);
			for (uint32_t j = 0; st != NULL && j < st->depth &&
			     j < PRINT_FRAMES; j++) {
				mpa_symbol_frame(&st->frames[j], buf, sizeof(buf));
				if (j == 0)
					fprintf(f, "%s\n", buf);
				else
					fprintf(f, "%46s<- %s\n", "", buf);
			}
			if (st == NULL || st->depth == 0)
				fprintf(f, "?\n");
			if (g[i].memzone != NULL)
				fprintf(f, "%46s(memzone %s)\n", "", g[i].memzone);
			if (g[i].growing)
				fprintf(f, "%46s(growing; %s)\n", "",
					mpa_heap_class_name(g[i].cls));
		}
		if (leaks > shown)
			fprintf(f, "%10s ... %d more groups in the JSON report\n",
				"", leaks - shown);
	}
	if (n > 0) {
		char r[32], o[32];

		uint64_t cnt[MPA_HEAP_CLASSES] = { 0 }, by[MPA_HEAP_CLASSES] = { 0 };

		for (int i = 0; i < n; i++) {
			cnt[g[i].cls] += g[i].count;
			by[g[i].cls] += g[i].bytes;
		}
		human_bytes(by[MPA_HEAP_REACHABLE], r, sizeof(r));
		human_bytes(by[MPA_HEAP_OWNED], o, sizeof(o));
		fprintf(f, "heap: %" PRIu64 " allocations lost, %" PRIu64
			" reachable (%s), %" PRIu64 " owned by DPDK objects (%s);"
			" scanned in %.1f ms\n", cnt[MPA_HEAP_LOST],
			cnt[MPA_HEAP_REACHABLE], r, cnt[MPA_HEAP_OWNED], o,
			(double)rs->ns / 1e6);
	}
	return leaks;
}

json_t *
mpa_heap_diff_json(const char *from, const char *to, int *rc)
{
	struct mpa_heap_delta *d = NULL;
	json_t *o, *a;
	int64_t tb = 0, tc = 0;
	int n;

	n = mpa_heap_diff(from, to, &d);
	if (n < 0) {
		*rc = n;
		return NULL;
	}
	o = json_object();
	a = json_array();
	json_object_set_new(o, "from", json_string(from));
	json_object_set_new(o, "to", json_string(to != NULL ? to : "now"));
	for (int i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "kind", json_string(mpa_heap_kind_name(d[i].kind)));
		json_object_set_new(e, "change", json_string(mpa_heap_change_name(&d[i])));
		json_object_set_new(e, "bytes_delta", json_integer(d[i].bytes_delta));
		json_object_set_new(e, "count_delta", json_integer(d[i].count_delta));
		json_object_set_new(e, "bytes_from", json_integer((json_int_t)d[i].bytes_from));
		json_object_set_new(e, "bytes_to", json_integer((json_int_t)d[i].bytes_to));
		json_object_set_new(e, "count_from", json_integer((json_int_t)d[i].count_from));
		json_object_set_new(e, "count_to", json_integer((json_int_t)d[i].count_to));
		json_object_set_new(e, "stack", mpa_heap_stack_json(d[i].stack, MPA_STACK_MAX_DEPTH));
		json_array_append_new(a, e);
		tb += d[i].bytes_delta;
		tc += d[i].count_delta;
	}
	json_object_set_new(o, "changes", a);
	a = json_object();
	json_object_set_new(a, "bytes_delta", json_integer(tb));
	json_object_set_new(a, "count_delta", json_integer(tc));
	json_object_set_new(o, "total", a);
	free(d);
	*rc = 0;
	return o;
}

int
mpa_heap_diff_write(const char *from, const char *to, const char *path)
{
	json_t *o;
	int rc;

	mpa_guard_enter();
	o = mpa_heap_diff_json(from, to, &rc);
	if (o != NULL) {
		if (path == NULL)
			rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		else
			rc = json_dump_file(o, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (rc != 0)
			rc = -EIO;
		if (path == NULL)
			fflush(stdout);
		json_decref(o);
	}
	mpa_guard_leave();
	return rc;
}
