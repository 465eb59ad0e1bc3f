/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The /mpaudit/ telemetry commands (docs/telemetry.md).
 *
 * DPDK 22.11's telemetry has no null and no 64-bit signed integer, caps a
 * reply at 16 KiB and silently drops what does not fit. Hence:
 *  - lists are dicts keyed by the entry's rank ("0", "1", ...), paginated
 *    with a fixed number of entries per page; the worst-case size of a page
 *    (every string at its cap, every character escaped) is checked at
 *    compile time against the 16 KiB, so nothing is ever dropped;
 *  - strings are clipped visibly, with "...", before DPDK sees them;
 *  - a field that does not apply (the report's null) is left out;
 *  - errors are replies, {"error", "code", "usage"}: a negative return
 *    would only give the client {"cmd": null}.
 *
 * Heap tracking is linked in everywhere but records only under
 * LD_PRELOAD=libmpaudit_preload.so; elsewhere the heap commands answer
 * with the reason mpa_heap_stats() gives. Handlers that allocate run
 * between mpa_guard_enter() and _leave(): the auditor's own
 * allocations must not look like the application's.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "mpaudit.h"
#include "mpaudit_heap.h"
#include "core/classify.h"
#include "core/config.h"
#include "core/guard.h"
#include "core/log.h"
#include "core/pool.h"
#include "core/scan.h"
#include "core/state.h"
#include "heap/heap.h"
#include "heap/stack.h"
#include "heap/symbol.h"
#include "pcap.h"
#include "query/query.h"
#include "telemetry.h"

/* ---- reply budget ------------------------------------------------------ */

/*
 * What a callback may fill: DPDK's 16 KiB output buffer less the wrapper
 * {"<command>": ...} around it (commands are shorter than 64 characters).
 */
#define REPLY_BUDGET (16384 - 128)

/* String caps (characters before escaping). */
#define POOL_CAP (RTE_MEMPOOL_NAMESIZE - 1)
#define RING_CAP (RTE_RING_NAMESIZE - 1)
#define SITE_CAP 96       /* file:line, clipped at the head */
#define FUNC_CAP 64
#define FRAME_CAP 96      /* one symbolised frame */
#define TYPE_CAP 32       /* rte_malloc type string */
#define OWNER_CAP 48      /* "mempool NAME", "ethdev P rxq Q" */
#define ZONE_CAP 31       /* memzone name (RTE_MEMZONE_NAMESIZE - 1) */
#define NAME_CAP MPA_HEAP_NAME_MAX
#define REASON_CAP 96
#define ERRSITE_CAP 95    /* struct mpa_error site strings hold 95 */
#define WHERE_CAP 31
#define MSG_CAP (RTE_TEL_MAX_STRING_LEN - 1)

/*
 * Worst-case JSON sizes: "key": plus a value and a comma. A string may
 * double when every character is escaped (control characters are replaced
 * before, so nothing needs \u00XX); a number takes at most 20 digits.
 */
#define J_KEY(k) (sizeof(k) - 1 + 3)
#define J_NUM(k) (J_KEY(k) + 20 + 1)
#define J_STR(k, cap) (J_KEY(k) + 2 * (cap) + 2 + 1)
/* "rank":{...}, with a rank of up to 10 digits. */
#define J_ITEM (10 + 3 + 2 + 1)
/* The page fields, the scan number and the list's own key. */
#define J_PAGE_HEADER (J_NUM("total") + J_NUM("page") + J_NUM("pages") + \
		       J_NUM("per_page") + J_NUM("scan") + J_NUM("listed") + \
		       J_NUM("not_listed") + J_KEY("groups") + 2 + 2)

#define POOLS_PER_PAGE 32
/* "-12345678.123": a rate as text, DPDK 22.11 telemetry has no doubles. */
#define RATE_CAP 24
#define POOL_ITEM_MAX (J_ITEM + J_STR("name", POOL_CAP) + J_NUM("size") + \
		       J_NUM("in_use") + J_NUM("free") + J_NUM("stuck") + \
		       J_NUM("driver_held") + J_NUM("driver_expected") + \
		       J_NUM("destroyed") + J_NUM("history") + \
		       J_STR("rate_per_s", RATE_CAP) + J_NUM("growing") + \
		       J_NUM("exhaust_s"))
_Static_assert(J_PAGE_HEADER + POOLS_PER_PAGE * POOL_ITEM_MAX <= REPLY_BUDGET,
	       "a page of pools may not fit in a telemetry reply");

#define STUCK_PER_PAGE 20
#define STUCK_ITEM_MAX (J_ITEM + J_STR("pool", POOL_CAP) + J_STR("state", 7) + \
			J_NUM("lcore") + J_NUM("port") + J_NUM("queue") + \
			J_STR("ring", RING_CAP) + J_STR("site", SITE_CAP) + \
			J_STR("function", FUNC_CAP) + J_NUM("count") + \
			J_NUM("new") + J_NUM("max_age_ms"))
_Static_assert(J_PAGE_HEADER + STUCK_PER_PAGE * STUCK_ITEM_MAX <= REPLY_BUDGET,
	       "a page of stuck groups may not fit in a telemetry reply");

/*
 * /mpaudit/stuck,history: the groups again, each with its samples'
 * previous holders (MPAUDIT_HISTORY), flat "hN_*" fields per sample so a
 * sample is one container; sites clipped shorter (the report has them
 * whole). Four samples of four holders each make a group large: two a
 * page.
 */
#define STUCK_HISTORY_PER_PAGE 2
#define HIST_SITE_CAP 64
#define HIST_ENT_MAX (J_STR("h1_state", 7) + J_NUM("h1_lcore") + \
		      J_NUM("h1_port") + J_NUM("h1_queue") + \
		      J_STR("h1_ring", RING_CAP) + \
		      J_STR("h1_site", HIST_SITE_CAP) + J_NUM("h1_age_ms"))
#define HIST_SAMPLE_MAX (J_ITEM + J_STR("address", 18) + \
			 J_NUM("previous") + MPA_OBJHIST_CAP * HIST_ENT_MAX)
#define STUCK_HIST_ITEM_MAX (STUCK_ITEM_MAX + J_KEY("history") + 2 + \
			     MPA_GROUP_SAMPLES * HIST_SAMPLE_MAX)
#define STUCK_HEADER_MAX (J_PAGE_HEADER + J_NUM("stuck") + \
			  J_NUM("ungrouped") + J_NUM("history"))
_Static_assert(STUCK_HEADER_MAX + STUCK_HISTORY_PER_PAGE * STUCK_HIST_ITEM_MAX <=
	       REPLY_BUDGET, "a page of stuck groups with history may not fit in a telemetry reply");
/* Per group: its dict, its history dict, one dict per sample. */
#define STUCK_HIST_CONTAINERS (2 + MPA_GROUP_SAMPLES)

#define ERRORS_PER_PAGE 20
#define ERROR_ITEM_MAX (J_ITEM + J_STR("type", 12) + \
			J_STR("pool_or_heap", WHERE_CAP) + J_STR("address", 18) + \
			J_STR("site", ERRSITE_CAP) + J_STR("first_site", ERRSITE_CAP) + \
			J_NUM("lcore"))
_Static_assert(J_PAGE_HEADER + ERRORS_PER_PAGE * ERROR_ITEM_MAX <= REPLY_BUDGET,
	       "a page of free errors may not fit in a telemetry reply");

/* Heap groups and diff entries carry the first frames of their stack. */
#define HEAP_PER_PAGE 8
/* Heap groups also carry their class and owner: one fewer per page. */
#define HEAP_GROUPS_PER_PAGE 7
#define HEAP_FRAMES 6
#define J_STACK (J_NUM("stack_id") + J_NUM("frames") + J_KEY("stack") + 2 + \
		 HEAP_FRAMES * (2 * FRAME_CAP + 2 + 1))
#define HEAP_KIND_MAX (J_KEY("rte_malloc") + 2 + J_NUM("live_count") + \
		       J_NUM("live_bytes") + J_NUM("allocs") + J_NUM("frees"))
#define HEAP_HEADER_MAX (J_PAGE_HEADER + J_NUM("active") + J_NUM("tracking") + \
			 J_STR("disabled", REASON_CAP) + J_NUM("depth") + \
			 J_NUM("min_age_ms") + J_NUM("records") + \
			 J_NUM("stacks") + J_NUM("table_bytes") + \
			 J_NUM("total_bytes") + J_NUM("total_count") + \
			 MPA_HEAP_KINDS * HEAP_KIND_MAX + J_KEY("snapshots") + \
			 2 + MPA_HEAP_SNAPSHOTS_MAX * (2 * NAME_CAP + 2 + 1))
#define HEAP_ITEM_MAX (J_ITEM + J_STR("kind", 10) + J_STR("class", 10) + \
		       J_STR("owner", OWNER_CAP) + J_NUM("leak") + J_NUM("bytes") + \
		       J_NUM("count") + J_NUM("max_age_ms") + \
		       J_STR("sample", 18) + J_STR("type", TYPE_CAP) + \
		       J_STR("memzone", ZONE_CAP) + J_NUM("socket") + \
		       J_NUM("lcores") + J_NUM("non_eal") + J_STACK)
_Static_assert(HEAP_HEADER_MAX + HEAP_GROUPS_PER_PAGE * HEAP_ITEM_MAX <= REPLY_BUDGET,
	       "a page of heap groups may not fit in a telemetry reply");

#define DIFF_HEADER_MAX (J_PAGE_HEADER + J_STR("from", NAME_CAP) + \
			 J_STR("to", NAME_CAP) + J_NUM("new") + J_NUM("gone") + \
			 J_NUM("grown") + J_NUM("shrunk") + J_NUM("same") + \
			 J_NUM("grown_bytes") + J_NUM("shrunk_bytes"))
#define DIFF_ITEM_MAX (J_ITEM + J_STR("kind", 10) + J_STR("change", 6) + \
		       J_NUM("bytes_from") + J_NUM("bytes_to") + \
		       J_NUM("bytes_delta") + J_NUM("count_from") + \
		       J_NUM("count_to") + J_NUM("count_delta") + J_STACK)
_Static_assert(DIFF_HEADER_MAX + HEAP_PER_PAGE * DIFF_ITEM_MAX <= REPLY_BUDGET,
	       "a page of heap changes may not fit in a telemetry reply");

#define SITES_PER_PAGE 20
#define SITE_ITEM_MAX (J_ITEM + J_STR("site", SITE_CAP) + \
		       J_STR("function", FUNC_CAP) + J_STR("state", 7) + \
		       J_NUM("port") + J_NUM("queue") + J_STR("ring", RING_CAP) + \
		       J_NUM("held") + J_NUM("stuck") + J_NUM("max_age_ms"))
#define SITES_HEADER_MAX (J_PAGE_HEADER + J_NUM("counted") + J_NUM("held") + \
			  J_NUM("holders") + J_NUM("unlisted"))
_Static_assert(SITES_HEADER_MAX + SITES_PER_PAGE * SITE_ITEM_MAX <= REPLY_BUDGET,
	       "a page of sites may not fit in a telemetry reply");

/*
 * History pages are columns, one array per field, not a dict per sample:
 * a container is a whole dict's worth of memory, and a page of samples
 * would need hundreds. Every value is a uint32_t: 10 digits and a comma.
 */
#define HISTORY_PER_PAGE 240
#define HISTORY_FIELDS 5
#define HISTORY_HEADER_MAX (J_PAGE_HEADER + J_STR("pool", POOL_CAP) + \
			    J_NUM("size") + J_NUM("span_ms") + \
			    J_NUM("history") + J_STR("rate_per_s", RATE_CAP) + \
			    J_NUM("growing") + J_NUM("exhaust_s") + \
			    J_KEY("age_ms") + J_KEY("in_use") + J_KEY("stuck") + \
			    J_KEY("driver_held") + J_KEY("free") + HISTORY_FIELDS * 2)
_Static_assert(HISTORY_HEADER_MAX + HISTORY_FIELDS * HISTORY_PER_PAGE * 11 <=
	       REPLY_BUDGET, "a page of history may not fit in a telemetry reply");
_Static_assert(HISTORY_PER_PAGE <= RTE_TEL_MAX_ARRAY_ENTRIES,
	       "a history page exceeds DPDK's array limit");

#define CONFIG_MAX (J_STR("mode", 16) + J_NUM("enabled") + J_NUM("stuck_ms") + \
		    J_NUM("scan_ms") + J_STR("report", MSG_CAP) + \
		    J_NUM("report_ms") + J_NUM("history_scans") + J_NUM("history") + \
		    J_NUM("summary") + J_NUM("heap") + J_NUM("heap_depth") + \
		    J_NUM("heap_max_mb") + J_NUM("dump_signal") + \
		    J_NUM("track_signal") + J_NUM("changed"))
_Static_assert(CONFIG_MAX <= REPLY_BUDGET, "the configuration may not fit");

/* The most containers one reply uses: a list and one dict per entry. */
#define CONTAINERS_MAX (1 + POOLS_PER_PAGE)
_Static_assert(POOLS_PER_PAGE + 1 <= CONTAINERS_MAX &&
	       STUCK_PER_PAGE + 1 <= CONTAINERS_MAX &&
	       ERRORS_PER_PAGE + 1 <= CONTAINERS_MAX &&
	       SITES_PER_PAGE + 1 <= CONTAINERS_MAX &&
	       1 + STUCK_HISTORY_PER_PAGE * STUCK_HIST_CONTAINERS <= CONTAINERS_MAX &&
	       HISTORY_FIELDS <= CONTAINERS_MAX &&
	       MPA_HEAP_KINDS + 2 + 2 * HEAP_PER_PAGE <= CONTAINERS_MAX,
	       "CONTAINERS_MAX too small");
_Static_assert(POOLS_PER_PAGE <= RTE_TEL_MAX_DICT_ENTRIES - 16 &&
	       MPA_HEAP_SNAPSHOTS_MAX <= RTE_TEL_MAX_ARRAY_ENTRIES,
	       "a list exceeds DPDK's entry limits");

/* ---- commands ---------------------------------------------------------- */

struct tele_cmd {
	const char *name;
	telemetry_cb fn;
	const char *usage;
	const char *help;   /* < RTE_TEL_MAX_STRING_LEN, shown by /help */
};

/* What the acting commands run (mpa_telemetry_register()). */
static struct mpa_telemetry_actions actions;

static int cmd_summary(const char *, const char *, struct rte_tel_data *);
static int cmd_pools(const char *, const char *, struct rte_tel_data *);
static int cmd_stuck(const char *, const char *, struct rte_tel_data *);
static int cmd_errors(const char *, const char *, struct rte_tel_data *);
static int cmd_heap(const char *, const char *, struct rte_tel_data *);
static int cmd_heap_track(const char *, const char *, struct rte_tel_data *);
static int cmd_heap_snapshot(const char *, const char *, struct rte_tel_data *);
static int cmd_heap_diff(const char *, const char *, struct rte_tel_data *);
static int cmd_heap_drop(const char *, const char *, struct rte_tel_data *);
static int cmd_dump(const char *, const char *, struct rte_tel_data *);
static int cmd_config(const char *, const char *, struct rte_tel_data *);
static int cmd_sites(const char *, const char *, struct rte_tel_data *);
static int cmd_history(const char *, const char *, struct rte_tel_data *);
static int cmd_pcap(const char *, const char *, struct rte_tel_data *);

enum {
	C_SUMMARY, C_POOLS, C_STUCK, C_ERRORS, C_HEAP, C_HEAP_TRACK,
	C_HEAP_SNAPSHOT, C_HEAP_DIFF, C_HEAP_DROP, C_DUMP, C_CONFIG, C_SITES,
	C_HISTORY, C_PCAP, C_COUNT
};

static const struct tele_cmd cmds[C_COUNT] = {
	[C_SUMMARY] = { "/mpaudit/summary", cmd_summary, "/mpaudit/summary",
		"mpaudit verdict: mode, scans, stuck objects, groups, free errors, exit_code, heap live counts. No parameters" },
	[C_POOLS] = { "/mpaudit/pools", cmd_pools, "/mpaudit/pools[,PAGE]",
		"mpaudit pools: name, size, in_use, free, stuck. Parameters: int page (from 0, default 0)" },
	[C_STUCK] = { "/mpaudit/stuck", cmd_stuck, "/mpaudit/stuck[,history][,PAGE]",
		"mpaudit stuck groups: pool, state, lcore, port, queue, ring, site, count, max_age_ms. Parameters: history, int page" },
	[C_ERRORS] = { "/mpaudit/errors", cmd_errors, "/mpaudit/errors[,PAGE]",
		"mpaudit free errors: type, pool_or_heap, address, site, first_site. Parameters: int page (from 0)" },
	[C_HEAP] = { "/mpaudit/heap", cmd_heap, "/mpaudit/heap[,PAGE]",
		"mpaudit heap: live counts and allocations older than the threshold, by stack. Parameters: int page" },
	[C_HEAP_TRACK] = { "/mpaudit/heap_track", cmd_heap_track,
		"/mpaudit/heap_track,on|off",
		"mpaudit heap: start or stop tracking, replies previous and new state. Parameters: on or off" },
	[C_HEAP_SNAPSHOT] = { "/mpaudit/heap_snapshot", cmd_heap_snapshot,
		"/mpaudit/heap_snapshot,NAME",
		"mpaudit heap: snapshot outstanding allocations. Parameters: name ([A-Za-z0-9_.-], 1-31)" },
	[C_HEAP_DIFF] = { "/mpaudit/heap_diff", cmd_heap_diff,
		"/mpaudit/heap_diff,FROM[,TO[,PAGE]]",
		"mpaudit heap: changes by stack between snapshots. Parameters: from[,to (default now)[,int page]]" },
	[C_HEAP_DROP] = { "/mpaudit/heap_drop", cmd_heap_drop,
		"/mpaudit/heap_drop,NAME",
		"mpaudit heap: drop a snapshot. Parameters: name" },
	[C_DUMP] = { "/mpaudit/dump", cmd_dump, "/mpaudit/dump",
		"mpaudit: write the JSON report (MPAUDIT_REPORT) now, reply with its path. No parameters" },
	[C_CONFIG] = { "/mpaudit/config", cmd_config,
		"/mpaudit/config[,stuck_ms=N][,scan_ms=N]",
		"mpaudit settings in force. Parameters: stuck_ms=N (1-86400000), scan_ms=N (0-3600000), applied from the next scan" },
	[C_SITES] = { "/mpaudit/sites", cmd_sites, "/mpaudit/sites[,PAGE]",
		"mpaudit holders of the objects in use, stuck or not: site, state, port, queue, ring, held. Parameters: int page" },
	[C_HISTORY] = { "/mpaudit/history", cmd_history,
		"/mpaudit/history,POOL[,PAGE]",
		"mpaudit per-scan in_use, stuck, driver_held, free of a pool, oldest first, and its forecast. Parameters: pool[,int page]" },
	[C_PCAP] = { "/mpaudit/pcap", cmd_pcap, "/mpaudit/pcap,NAME",
		"mpaudit: scan, write the stuck mbufs to MPAUDIT_PCAP_DIR/NAME.pcap and whose each is to NAME.json. Parameters: name" },
};

/* ---- small helpers ----------------------------------------------------- */

/*
 * Copy at most @p cap characters of @p s into @p buf (cap + 1 bytes).
 * Control characters become '?', so DPDK never needs a six-byte escape
 * and the size bounds above hold. A longer string is cut where it matters
 * least and the cut shows as "...": at the head for paths (the file and
 * line are at the end), else at the tail.
 */
static const char *
clip(char *buf, size_t cap, const char *s, int keep_tail)
{
	size_t n = strlen(s), i, o = 0;
	const char *src = s;
	int cut = n > cap;

	if (cut) {
		if (keep_tail) {
			memcpy(buf, "...", 3);
			o = 3;
			src = s + n - (cap - 3);
			n = cap - 3;
		} else {
			n = cap - 3;
		}
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];

		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (cut && !keep_tail) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * A frame "function (file:line)" too long for its cap keeps its location
 * and loses the end of the function name (C++ templates), so the line
 * that matters survives.
 */
static const char *
clip_frame(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s);
	const char *loc = strrchr(s, '(');
	size_t loclen;

	if (n <= cap || loc == NULL || loc == s)
		return clip(buf, cap, s, 0);
	loclen = strlen(loc);
	if (loclen + 1 + 3 + 8 > cap)   /* not even 8 characters of the name */
		return clip(buf, cap, s, 0);
	clip(buf, cap - loclen - 1, s, 0);
	strcat(buf, " ");
	clip(buf + strlen(buf), loclen, loc, 0);
	return buf;
}

static void
add_str(struct rte_tel_data *d, const char *key, const char *v, size_t cap)
{
	char buf[RTE_TEL_MAX_STRING_LEN];

	if (cap > sizeof(buf) - 1)
		cap = sizeof(buf) - 1;
	rte_tel_data_add_dict_string(d, key, clip(buf, cap, v, 0));
}

static void
add_int(struct rte_tel_data *d, const char *key, int v)
{
	rte_tel_data_add_dict_int(d, key, v);
}

static void
add_u64(struct rte_tel_data *d, const char *key, uint64_t v)
{
	rte_tel_data_add_dict_u64(d, key, v);
}

/*
 * A pool's drain forecast: the samples judged, the in-use floor's growth
 * as text (objects/s, 3 decimals: 22.11 telemetry carries no doubles),
 * whether it is a drain and, if so, whole seconds until the pool is dry.
 * Rate and time are left out while the history is too short to judge.
 */
static void
add_forecast(struct rte_tel_data *d, const struct mpa_forecast *f)
{
	char rate[RATE_CAP];

	add_u64(d, "history", f->samples);
	if (!f->valid)
		return;
	snprintf(rate, sizeof(rate), "%.3f", f->rate_per_s);
	add_str(d, "rate_per_s", rate, RATE_CAP);
	add_int(d, "growing", f->growing);
	if (f->growing)
		add_u64(d, "exhaust_s", (uint64_t)(f->exhaust_s + 0.5));
}

/*
 * The code of an error reply. Linux gives ENOTSUP and EOPNOTSUPP one
 * value, and strerrorname_np() the second name; the heap API says ENOTSUP.
 */
static const char *
errno_name(int err)
{
	const char *n;

	if (err == ENOTSUP)
		return "ENOTSUP";
	n = strerrorname_np(err);
	return n != NULL ? n : "EIO";
}

/*
 * An error reply: {"error": message, "code": "EINVAL", "usage": ...}.
 * Always returns 0, so DPDK sends it (a negative value would send null).
 */
static int
reply_error(struct rte_tel_data *d, int cmd, int err, const char *fmt, ...)
{
	char msg[MSG_CAP + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	add_str(d, "error", msg, MSG_CAP);
	add_str(d, "code", errno_name(err), MSG_CAP);
	add_str(d, "usage", cmds[cmd].usage, MSG_CAP);
	return 0;
}

/*
 * Containers taken before a reply is built, so that building cannot fail
 * half-way with containers already handed to DPDK (which owns and frees
 * what it is given, and only that).
 */
struct tel_pool {
	struct rte_tel_data *v[CONTAINERS_MAX];
	unsigned int n, used;
};

static int
tpool_get(struct tel_pool *p, unsigned int n)
{
	p->n = p->used = 0;
	if (n > CONTAINERS_MAX)
		return -E2BIG;
	while (p->n < n) {
		p->v[p->n] = rte_tel_data_alloc();
		if (p->v[p->n] == NULL) {
			while (p->n > 0)
				rte_tel_data_free(p->v[--p->n]);
			return -ENOMEM;
		}
		p->n++;
	}
	return 0;
}

static struct rte_tel_data *
tpool_dict(struct tel_pool *p)
{
	struct rte_tel_data *c = p->v[p->used++];

	rte_tel_data_start_dict(c);
	return c;
}

static struct rte_tel_data *
tpool_array(struct tel_pool *p, enum rte_tel_value_type type)
{
	struct rte_tel_data *c = p->v[p->used++];

	rte_tel_data_start_array(c, type);
	return c;
}

/* Free the containers not handed to DPDK. */
static void
tpool_put(struct tel_pool *p)
{
	while (p->n > p->used)
		rte_tel_data_free(p->v[--p->n]);
}

/* Hand a container to its parent; DPDK frees it after the reply. */
static void
add_child(struct rte_tel_data *parent, const char *key,
	  struct rte_tel_data *child)
{
	rte_tel_data_add_dict_container(parent, key, child, 0);
}

static void
add_ranked(struct rte_tel_data *list, uint32_t rank, struct rte_tel_data *item)
{
	char key[16];

	snprintf(key, sizeof(key), "%" PRIu32, rank);
	add_child(list, key, item);
}

/* ---- parameters -------------------------------------------------------- */

#define ARGS_MAX 4
#define ARGS_LEN 256

struct args {
	unsigned int n;
	char *v[ARGS_MAX];
	char buf[ARGS_LEN];
};

/*
 * Split the parameters at commas. DPDK passes NULL when there are none
 * (also for a lone trailing comma). Empty fields, too many or too long
 * are errors. @return 0, or -1 with the error reply filled.
 */
static int
args_get(struct rte_tel_data *d, int cmd, const char *params,
	 unsigned int min, unsigned int max, struct args *a)
{
	char show[24];
	char *p;

	a->n = 0;
	if (params != NULL) {
		if (strlen(params) >= sizeof(a->buf))
			return reply_error(d, cmd, E2BIG, "parameters longer than %d characters",
					   ARGS_LEN - 1), -1;
		strcpy(a->buf, params);
		p = a->buf;
		for (;;) {
			char *comma = strchr(p, ',');

			if (comma != NULL)
				*comma = '\0';
			if (*p == '\0')
				return reply_error(d, cmd, EINVAL, "empty parameter"), -1;
			if (a->n == max)
				return reply_error(d, cmd, EINVAL, "unexpected parameter '%s'",
						   clip(show, sizeof(show) - 1, p, 0)), -1;
			a->v[a->n++] = p;
			if (comma == NULL)
				break;
			p = comma + 1;
		}
	}
	if (a->n < min)
		return reply_error(d, cmd, EINVAL, "missing parameter"), -1;
	return 0;
}

/* A page number: decimal digits only. @return 0, or -1 with the reply. */
static int
page_arg(struct rte_tel_data *d, int cmd, const char *s, uint32_t *page)
{
	char show[24];
	size_t n;

	*page = 0;
	if (s == NULL)
		return 0;
	n = strspn(s, "0123456789");
	if (n == 0 || s[n] != '\0')
		return reply_error(d, cmd, EINVAL, "page '%s' is not a number",
				   clip(show, sizeof(show) - 1, s, 0)), -1;
	if (n > 9)
		return reply_error(d, cmd, ERANGE, "page '%s' out of range",
				   clip(show, sizeof(show) - 1, s, 0)), -1;
	*page = (uint32_t)strtoul(s, NULL, 10);
	return 0;
}

struct page {
	uint32_t total, per, page, pages, first, end;
};

/*
 * Place @p page in a list of @p total entries. An empty list still has its
 * page 0, so a client can always ask for it. @return 0, or -1 with the
 * error reply filled.
 */
static int
page_place(struct rte_tel_data *d, int cmd, uint32_t total, uint32_t per,
	   uint32_t page, struct page *pg)
{
	pg->total = total;
	pg->per = per;
	pg->page = page;
	pg->pages = total == 0 ? 1 : (total + per - 1) / per;
	if (page >= pg->pages)
		return reply_error(d, cmd, ERANGE, "page %" PRIu32 " out of range: %" PRIu32 " page%s (0..%" PRIu32 ")",
				   page, pg->pages, pg->pages == 1 ? "" : "s",
				   pg->pages - 1), -1;
	pg->first = page * per;
	pg->end = pg->first + per < total ? pg->first + per : total;
	return 0;
}

static void
page_fields(struct rte_tel_data *d, const struct page *pg)
{
	add_u64(d, "total", pg->total);
	add_u64(d, "page", pg->page);
	add_u64(d, "pages", pg->pages);
	add_u64(d, "per_page", pg->per);
}

/*
 * Place the page and take its containers: the list's and one per entry.
 * A container is a large struct (a whole dict), so only what the page
 * needs. @return 0, or -1 with the error reply filled.
 */
static int
page_begin(struct rte_tel_data *d, int cmd, uint32_t total, uint32_t per,
	   uint32_t page, unsigned int per_entry, unsigned int extra,
	   struct page *pg, struct tel_pool *tp)
{
	if (page_place(d, cmd, total, per, page, pg) != 0)
		return -1;
	if (tpool_get(tp, extra + 1 + per_entry * (pg->end - pg->first)) != 0)
		return reply_error(d, cmd, ENOMEM, "out of memory"), -1;
	return 0;
}

/* Snapshot names: what mpa_heap_snapshot() accepts, "now" aside. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= MPA_HEAP_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_.-") == n;
}

static int
name_arg(struct rte_tel_data *d, int cmd, const char *s, int now_ok)
{
	char show[24];

	if (!name_ok(s))
		return reply_error(d, cmd, EINVAL, "bad snapshot name '%s': 1-%d characters of [A-Za-z0-9_.-]",
				   clip(show, sizeof(show) - 1, s, 0),
				   MPA_HEAP_NAME_MAX), -1;
	if (!now_ok && strcmp(s, "now") == 0)
		return reply_error(d, cmd, EINVAL, "snapshot name 'now' is reserved"), -1;
	return 0;
}

/* ---- the auditor's configuration --------------------------------------- */

/*
 * The one it runs with, whether it came from the environment, the API or
 * /mpaudit/config. @return 1 while the auditor runs.
 */
static int
running_config(struct mpa_config *c)
{
	return mpa_state_config(c);
}

/* ---- /mpaudit/summary -------------------------------------------------- */

static void
heap_kinds(struct rte_tel_data *d, struct tel_pool *tp,
	   const struct mpa_heap_stats *hs, int full)
{
	for (int k = 0; k < MPA_HEAP_KINDS; k++) {
		struct rte_tel_data *o = tpool_dict(tp);

		add_u64(o, "live_count", hs->live_count[k]);
		add_u64(o, "live_bytes", hs->live_bytes[k]);
		if (full) {
			add_u64(o, "allocs", hs->allocs[k]);
			add_u64(o, "frees", hs->frees[k]);
		}
		add_child(d, mpa_heap_kind_name((enum mpa_heap_kind)k), o);
	}
}

static int
cmd_summary(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_heap_stats hs;
	struct mpa_query q;
	struct tel_pool tp;
	struct rte_tel_data *heap, *scanner;
	struct args a;

	if (args_get(d, C_SUMMARY, params, 0, 0, &a) != 0)
		return 0;
	mpa_guard_enter();
	if (tpool_get(&tp, 2 + MPA_HEAP_KINDS) != 0) {
		mpa_guard_leave();
		return reply_error(d, C_SUMMARY, ENOMEM, "out of memory");
	}
	mpa_heap_stats(&hs);
	/* The exit code counts the heap's leaks, as the report does. */
	mpa_query_take(&q, MPA_QUERY_HEAP, MPA_QUERY_HEAP_AGE_REPORT);
	rte_tel_data_start_dict(d);
	add_str(d, "tool", "mpaudit", MSG_CAP);
	add_str(d, "version", MPA_VERSION, MSG_CAP);
	add_str(d, "mode", mpa_state_mode(), MSG_CAP);
	add_int(d, "enabled", mpa_enabled());
	add_u64(d, "stuck_ms", q.threshold_ms);
	add_u64(d, "scans", q.stats.scans);
	add_u64(d, "pools", q.npools);
	add_u64(d, "stuck", q.stuck);
	add_u64(d, "groups", q.ngroups);
	add_u64(d, "ungrouped", q.ungrouped);
	add_u64(d, "errors", q.errors);
	add_u64(d, "errors_listed", q.nerrors);
	add_int(d, "exit_code", mpa_query_exit_code(&q));
	/*
	 * What auditing costs the host, as the report's "scanner": a fleet
	 * watches it to see the scanner keep up with its period.
	 */
	scanner = tpool_dict(&tp);
	add_str(scanner, "mode", q.stats.last_by_service ? "service" : "thread",
		MSG_CAP);
	add_u64(scanner, "scans", q.stats.scans);
	add_u64(scanner, "service_scans", q.stats.service_scans);
	add_u64(scanner, "objects", q.stats.objects);
	add_u64(scanner, "total_ns", q.stats.total_ns);
	add_u64(scanner, "max_ns", q.stats.max_ns);
	add_u64(scanner, "last_ns", q.stats.last_ns);
	add_child(d, "scanner", scanner);
	heap = tpool_dict(&tp);
	add_int(heap, "active", hs.active);
	add_int(heap, "tracking", hs.tracking);
	if (hs.disabled != NULL)
		add_str(heap, "disabled", hs.disabled, REASON_CAP);
	if (hs.active) {
		heap_kinds(heap, &tp, &hs, 0);
		/* The reachability scan behind this reply (cached ones too). */
		add_u64(heap, "scan_ns", q.heap_rc < 0 ? 0 : q.heap_scan.ns);
	}
	mpa_query_release(&q);
	add_child(d, "heap", heap);
	tpool_put(&tp);
	mpa_guard_leave();
	return 0;
}

/* ---- /mpaudit/pools ---------------------------------------------------- */

static int
cmd_pools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_query q;
	struct tel_pool tp;
	struct rte_tel_data *list;
	struct page pg;
	struct args a;
	uint32_t page;

	if (args_get(d, C_POOLS, params, 0, 1, &a) != 0 ||
	    page_arg(d, C_POOLS, a.n ? a.v[0] : NULL, &page) != 0)
		return 0;
	mpa_guard_enter();
	mpa_query_take(&q, 0, 0);
	if (page_begin(d, C_POOLS, q.npools, POOLS_PER_PAGE, page, 1, 0,
		       &pg, &tp) == 0) {
		rte_tel_data_start_dict(d);
		add_u64(d, "scan", q.stats.scans);
		page_fields(d, &pg);
		list = tpool_dict(&tp);
		for (uint32_t i = pg.first; i < pg.end; i++) {
			const struct mpa_result_pool *p = &q.pools[i];
			struct rte_tel_data *o = tpool_dict(&tp);

			add_str(o, "name", p->name, POOL_CAP);
			add_u64(o, "size", p->size);
			add_u64(o, "in_use", p->in_use);
			add_u64(o, "free", p->nfree);
			add_u64(o, "stuck", p->stuck);
			add_u64(o, "driver_held", p->driver_held);
			add_u64(o, "driver_expected", p->driver_expected);
			add_int(o, "destroyed", p->destroyed);
			add_forecast(o, &p->forecast);
			add_ranked(list, i, o);
		}
		add_child(d, "pools", list);
		tpool_put(&tp);
	}
	mpa_query_release(&q);
	mpa_guard_leave();
	return 0;
}

/* ---- /mpaudit/stuck ---------------------------------------------------- */

/*
 * What a holder says of its objects, as the stuck groups and the sites
 * show it (the query view's holder, as the report renders it): port and
 * queue, the ring, the call site and its function; what does not apply
 * (the report's null) is left out.
 */
static void
holder_fill(struct rte_tel_data *o, const struct mpa_query_holder *h)
{
	char buf[SITE_CAP + 1], site[512];

	if (h->port >= 0) {
		add_int(o, "port", h->port);
		add_int(o, "queue", h->queue);
	}
	if (h->has_ring)
		add_str(o, "ring", h->ring, RING_CAP);
	if (h->file != NULL) {
		snprintf(site, sizeof(site), "%s:%u", h->file, h->line);
		rte_tel_data_add_dict_string(o, "site", clip(buf, SITE_CAP, site, 1));
		if (h->func != NULL)
			add_str(o, "function", h->func, FUNC_CAP);
	}
}

static void
group_fill(struct rte_tel_data *o, const struct mpa_query_group *g)
{
	add_str(o, "pool", g->h.pool, POOL_CAP);
	add_str(o, "state", mpa_state_name(g->h.state), 7);
	if (g->h.lcore >= 0)
		add_int(o, "lcore", g->h.lcore);
	holder_fill(o, &g->h);
	add_u64(o, "count", g->count);
	add_u64(o, "new", g->new_count);
	add_int(o, "max_age_ms", g->max_age_ms);
}

/*
 * Previous holder @p j (0: the most recent) of a sample, as "h<j+1>_*":
 * what the report's sample_history says, flat.
 */
static void
prev_fill(struct rte_tel_data *o, unsigned int j, const struct mpa_query_prev *p)
{
	char key[24], buf[HIST_SITE_CAP + 1], site[512];

#define PREV_KEY(name) (snprintf(key, sizeof(key), "h%u_%s", j + 1, name), key)
	add_str(o, PREV_KEY("state"), mpa_state_name(p->h.state), 7);
	if (p->h.lcore >= 0)
		add_int(o, PREV_KEY("lcore"), p->h.lcore);
	if (p->h.port >= 0) {
		add_int(o, PREV_KEY("port"), p->h.port);
		add_int(o, PREV_KEY("queue"), p->h.queue);
	}
	if (p->h.has_ring)
		add_str(o, PREV_KEY("ring"), p->h.ring, RING_CAP);
	if (p->h.file != NULL) {
		snprintf(site, sizeof(site), "%s:%u", p->h.file, p->h.line);
		rte_tel_data_add_dict_string(o, PREV_KEY("site"),
					     clip(buf, HIST_SITE_CAP, site, 1));
	}
	add_int(o, PREV_KEY("age_ms"), p->age_ms);
#undef PREV_KEY
}

/* The samples of group @p g, keyed by their rank in the group. */
static void
history_fill(struct rte_tel_data *o, struct tel_pool *tp,
	     const struct mpa_query_group *g)
{
	struct rte_tel_data *h = tpool_dict(tp);

	for (uint32_t s = 0; s < g->nsamples; s++) {
		struct rte_tel_data *e = tpool_dict(tp);
		uint32_t n = g->prev != NULL ? g->nprev[s] : 0;
		char addr[32];

		snprintf(addr, sizeof(addr), "0x%" PRIxPTR, g->samples[s]);
		add_str(e, "address", addr, 18);
		add_u64(e, "previous", n);
		for (uint32_t j = 0; j < n; j++)
			prev_fill(e, j, &g->prev[s * MPA_OBJHIST_CAP + j]);
		add_ranked(h, s, e);
	}
	add_child(o, "history", h);
}

static int
cmd_stuck(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_query q;
	struct tel_pool tp;
	struct rte_tel_data *list;
	const char *page_s = NULL;
	int history = 0;
	char show[24];
	struct page pg;
	struct args a;
	uint32_t page;

	if (args_get(d, C_STUCK, params, 0, 2, &a) != 0)
		return 0;
	/* "history" and a page number, in either order, each once. */
	for (unsigned int i = 0; i < a.n; i++) {
		if (strcmp(a.v[i], "history") == 0 && !history)
			history = 1;
		else if (page_s == NULL && strcmp(a.v[i], "history") != 0)
			page_s = a.v[i];
		else
			return reply_error(d, C_STUCK, EINVAL,
					   "unexpected parameter '%s' (history and a page, once each)",
					   clip(show, sizeof(show) - 1, a.v[i], 0));
	}
	if (page_arg(d, C_STUCK, page_s, &page) != 0)
		return 0;
	mpa_guard_enter();
	if (mpa_query_take(&q, MPA_QUERY_GROUPS, 0) != 0) {
		mpa_guard_leave();
		return reply_error(d, C_STUCK, ENOMEM, "out of memory");
	}
	/* Without history kept, the groups as ever: no history in them. */
	if (page_begin(d, C_STUCK, q.ngroups, history ? STUCK_HISTORY_PER_PAGE :
		       STUCK_PER_PAGE, page, history && q.objhist_k != 0 ?
		       STUCK_HIST_CONTAINERS : 1, 0, &pg, &tp) == 0) {
		rte_tel_data_start_dict(d);
		add_u64(d, "scan", q.stats.scans);
		add_u64(d, "stuck", q.stuck);
		add_u64(d, "ungrouped", q.ungrouped);
		if (history)
			add_u64(d, "history", q.objhist_k);
		page_fields(d, &pg);
		list = tpool_dict(&tp);
		for (uint32_t i = pg.first; i < pg.end; i++) {
			struct rte_tel_data *o = tpool_dict(&tp);

			group_fill(o, &q.groups[i]);
			if (history && q.objhist_k != 0)
				history_fill(o, &tp, &q.groups[i]);
			add_ranked(list, i, o);
		}
		add_child(d, "groups", list);
		tpool_put(&tp);
	}
	mpa_query_release(&q);
	mpa_guard_leave();
	return 0;
}

/* ---- /mpaudit/errors --------------------------------------------------- */

static int
cmd_errors(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_query q;
	struct tel_pool tp;
	struct rte_tel_data *list;
	struct page pg;
	struct args a;
	uint32_t page;

	if (args_get(d, C_ERRORS, params, 0, 1, &a) != 0 ||
	    page_arg(d, C_ERRORS, a.n ? a.v[0] : NULL, &page) != 0)
		return 0;
	mpa_guard_enter();
	if (mpa_query_take(&q, MPA_QUERY_ERRORS, 0) != 0) {
		mpa_guard_leave();
		return reply_error(d, C_ERRORS, ENOMEM, "out of memory");
	}
	if (page_begin(d, C_ERRORS, q.nerrors, ERRORS_PER_PAGE, page, 1, 0,
		       &pg, &tp) == 0) {
		rte_tel_data_start_dict(d);
		/* Only the first MPA_ERRORS_MAX are kept: say how many are not. */
		add_u64(d, "recorded", q.errors);
		add_u64(d, "not_listed", q.errors - q.nerrors);
		page_fields(d, &pg);
		list = tpool_dict(&tp);
		for (uint32_t i = pg.first; i < pg.end; i++) {
			const struct mpa_error *e = &q.errorv[i].e;
			struct rte_tel_data *o;
			char addr[32];

			if (!q.errorv[i].present)  /* being recorded right now */
				continue;
			o = tpool_dict(&tp);
			snprintf(addr, sizeof(addr), "0x%" PRIxPTR, e->addr);
			add_str(o, "type", mpa_error_type_name(e->type), 12);
			if (e->where[0] != '\0')
				add_str(o, "pool_or_heap", e->where, WHERE_CAP);
			add_str(o, "address", addr, 18);
			if (e->site[0] != '\0')
				add_str(o, "site", e->site, ERRSITE_CAP);
			if (e->first_site[0] != '\0')
				add_str(o, "first_site", e->first_site, ERRSITE_CAP);
			if (e->lcore >= 0)
				add_int(o, "lcore", e->lcore);
			add_ranked(list, i, o);
		}
		add_child(d, "errors", list);
		tpool_put(&tp);
	}
	mpa_query_release(&q);
	mpa_guard_leave();
	return 0;
}

/* ---- heap -------------------------------------------------------------- */

/* Heap commands need heap tracking active. @return 0, or -1 with the reply. */
static int
heap_ready(struct rte_tel_data *d, int cmd, struct mpa_heap_stats *hs)
{
	mpa_heap_stats(hs);
	if (!hs->active)
		return reply_error(d, cmd, ENOTSUP, "heap tracking is not active%s%s",
				   hs->disabled != NULL ? ": " : "",
				   hs->disabled != NULL ? hs->disabled : ""), -1;
	return 0;
}

/* The message of a negative errno from the heap functions. */
static int
heap_error(struct rte_tel_data *d, int cmd, int rc, const char *name)
{
	switch (rc) {
	case -ENOTSUP:
		return reply_error(d, cmd, ENOTSUP, "heap tracking is not active");
	case -ENOENT:
		return reply_error(d, cmd, ENOENT, "no snapshot '%s'", name);
	case -EEXIST:
		return reply_error(d, cmd, EEXIST, "snapshot '%s' exists already", name);
	case -ENOSPC:
		return reply_error(d, cmd, ENOSPC, "%d snapshots kept already: drop one first",
				   MPA_HEAP_SNAPSHOTS_MAX);
	case -EINVAL:
		return reply_error(d, cmd, EINVAL, "bad snapshot name '%s'", name);
	default:
		return reply_error(d, cmd, -rc, "%s", strerror(-rc));
	}
}

/*
 * The first HEAP_FRAMES frames of stack @p id, symbolised, and the
 * stack's full depth ("frames"), so a cut stack says it is one. Caller
 * holds the registry lock, which serialises symbol.c with the reports.
 */
static void
stack_fill(struct rte_tel_data *o, struct tel_pool *tp, uint32_t id)
{
	const struct mpa_stack *s = id != MPA_STACK_NONE ? mpa_stack_get(id) : NULL;
	struct rte_tel_data *arr = tpool_array(tp, RTE_TEL_STRING_VAL);
	uint32_t depth = s != NULL ? s->depth : 0;
	char raw[512], buf[FRAME_CAP + 1];

	for (uint32_t i = 0; i < depth && i < HEAP_FRAMES; i++) {
		mpa_symbol_frame(&s->frames[i], raw, sizeof(raw));
		rte_tel_data_add_array_string(arr, clip_frame(buf, FRAME_CAP, raw));
	}
	add_u64(o, "stack_id", id);
	add_u64(o, "frames", depth);
	add_child(o, "stack", arr);
}

static void
snapshot_names(struct rte_tel_data *d, struct tel_pool *tp)
{
	const char *names[MPA_HEAP_SNAPSHOTS_MAX];
	struct rte_tel_data *arr = tpool_array(tp, RTE_TEL_STRING_VAL);
	int n = mpa_heap_snapshot_names(names, MPA_HEAP_SNAPSHOTS_MAX);
	char buf[NAME_CAP + 1];

	for (int i = 0; i < n && i < MPA_HEAP_SNAPSHOTS_MAX; i++)
		rte_tel_data_add_array_string(arr, clip(buf, NAME_CAP, names[i], 0));
	add_child(d, "snapshots", arr);
}

static int
cmd_heap(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_heap_stats hs;
	const struct mpa_heap_group *g;
	struct mpa_query q;
	struct tel_pool tp;
	struct rte_tel_data *list;
	struct page pg;
	struct args a;
	uint64_t bytes = 0, count = 0;
	uint32_t page;
	int n;

	if (args_get(d, C_HEAP, params, 0, 1, &a) != 0 ||
	    page_arg(d, C_HEAP, a.n ? a.v[0] : NULL, &page) != 0 ||
	    heap_ready(d, C_HEAP, &hs) != 0)
		return 0;
	mpa_guard_enter();
	mpa_query_take(&q, MPA_QUERY_HEAP, MPA_QUERY_HEAP_AGE_THRESHOLD);
	g = q.heap;
	n = q.nheap;
	if (q.heap_rc < 0) {
		heap_error(d, C_HEAP, q.heap_rc, "");
		goto out;
	}
	/* Per group: its dict and its stack; besides: kinds, snapshots. */
	if (page_begin(d, C_HEAP, (uint32_t)n, HEAP_GROUPS_PER_PAGE, page, 2,
		       MPA_HEAP_KINDS + 1, &pg, &tp) != 0)
		goto out;
	for (int i = 0; i < n; i++) {
		bytes += g[i].bytes;
		count += g[i].count;
	}
	rte_tel_data_start_dict(d);
	add_int(d, "active", hs.active);
	add_int(d, "tracking", hs.tracking);
	add_u64(d, "depth", hs.depth);
	add_u64(d, "min_age_ms", q.heap_age_ms);
	heap_kinds(d, &tp, &hs, 1);
	add_u64(d, "records", hs.records);
	add_u64(d, "stacks", hs.stacks);
	add_u64(d, "table_bytes", hs.table_bytes);
	snapshot_names(d, &tp);
	add_u64(d, "total_bytes", bytes);
	add_u64(d, "total_count", count);
	page_fields(d, &pg);
	list = tpool_dict(&tp);
	mpa_registry_lock();
	for (uint32_t i = pg.first; i < pg.end; i++) {
		const struct mpa_heap_group *e = &g[i];
		struct rte_tel_data *o = tpool_dict(&tp);
		char addr[32];

		snprintf(addr, sizeof(addr), "0x%" PRIxPTR, e->sample);
		add_str(o, "kind", mpa_heap_kind_name(e->kind), 10);
		if (mpa_heap_class_name(e->cls) != NULL)
			add_str(o, "class", mpa_heap_class_name(e->cls), 10);
		if (e->owner != NULL)
			add_str(o, "owner", e->owner, OWNER_CAP);
		add_int(o, "leak", mpa_reach_is_leak(e));
		add_u64(o, "bytes", e->bytes);
		add_u64(o, "count", e->count);
		add_u64(o, "max_age_ms", e->max_age_ms);
		add_str(o, "sample", addr, 18);
		if (e->type != NULL && e->type[0] != '\0')
			add_str(o, "type", e->type, TYPE_CAP);
		if (e->memzone != NULL && e->memzone[0] != '\0')
			add_str(o, "memzone", e->memzone, ZONE_CAP);
		if (e->socket >= 0)
			add_int(o, "socket", e->socket);
		add_u64(o, "lcores", e->lcores);
		add_u64(o, "non_eal", e->non_eal);
		stack_fill(o, &tp, e->stack);
		add_ranked(list, i, o);
	}
	mpa_registry_unlock();
	add_child(d, "groups", list);
	tpool_put(&tp);
out:
	mpa_query_release(&q);
	mpa_guard_leave();
	return 0;
}

static int
cmd_heap_track(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_heap_stats hs;
	struct args a;
	char show[24];
	int on, prev;

	if (args_get(d, C_HEAP_TRACK, params, 1, 1, &a) != 0)
		return 0;
	if (strcmp(a.v[0], "on") == 0)
		on = 1;
	else if (strcmp(a.v[0], "off") == 0)
		on = 0;
	else
		return reply_error(d, C_HEAP_TRACK, EINVAL, "bad parameter '%s': on or off",
				   clip(show, sizeof(show) - 1, a.v[0], 0));
	if (heap_ready(d, C_HEAP_TRACK, &hs) != 0)
		return 0;
	mpa_guard_enter();
	prev = mpa_heap_track(on);
	mpa_guard_leave();
	if (prev < 0)
		return heap_error(d, C_HEAP_TRACK, prev, "");
	rte_tel_data_start_dict(d);
	add_str(d, "previous", prev ? "on" : "off", 3);
	add_str(d, "tracking", on ? "on" : "off", 3);
	return 0;
}

static int
cmd_heap_snapshot(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_heap_stats hs;
	struct tel_pool tp;
	struct args a;
	int rc;

	if (args_get(d, C_HEAP_SNAPSHOT, params, 1, 1, &a) != 0 ||
	    name_arg(d, C_HEAP_SNAPSHOT, a.v[0], 0) != 0)
		return 0;
	if (heap_ready(d, C_HEAP_SNAPSHOT, &hs) != 0)
		return 0;
	mpa_guard_enter();
	rc = mpa_heap_snapshot(a.v[0]);
	if (rc != 0) {
		heap_error(d, C_HEAP_SNAPSHOT, rc, a.v[0]);
	} else if (tpool_get(&tp, 1) != 0) {
		reply_error(d, C_HEAP_SNAPSHOT, ENOMEM, "snapshot '%s' taken; out of memory for the reply",
			    a.v[0]);
	} else {
		rte_tel_data_start_dict(d);
		add_str(d, "snapshot", a.v[0], NAME_CAP);
		snapshot_names(d, &tp);
		tpool_put(&tp);
	}
	mpa_guard_leave();
	return 0;
}

static int
cmd_heap_drop(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_heap_stats hs;
	struct tel_pool tp;
	struct args a;
	int rc;

	if (args_get(d, C_HEAP_DROP, params, 1, 1, &a) != 0 ||
	    name_arg(d, C_HEAP_DROP, a.v[0], 0) != 0 ||
	    heap_ready(d, C_HEAP_DROP, &hs) != 0)
		return 0;
	mpa_guard_enter();
	rc = mpa_heap_snapshot_drop(a.v[0]);
	if (rc != 0) {
		heap_error(d, C_HEAP_DROP, rc, a.v[0]);
	} else if (tpool_get(&tp, 1) != 0) {
		reply_error(d, C_HEAP_DROP, ENOMEM, "snapshot '%s' dropped; out of memory for the reply",
			    a.v[0]);
	} else {
		rte_tel_data_start_dict(d);
		add_str(d, "dropped", a.v[0], NAME_CAP);
		snapshot_names(d, &tp);
		tpool_put(&tp);
	}
	mpa_guard_leave();
	return 0;
}

/* DPDK 22.11 has 32-bit signed integers only: a larger delta is left out. */
static void
add_delta(struct rte_tel_data *o, const char *key, int64_t v)
{
	if (v >= INT32_MIN && v <= INT32_MAX)
		add_int(o, key, (int)v);
}

static int
cmd_heap_diff(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const changes[] = { "new", "gone", "grown", "shrunk", "same" };
	uint64_t tally[5] = { 0 }, grown_bytes = 0, shrunk_bytes = 0;
	struct mpa_heap_delta *v = NULL;
	struct mpa_heap_stats hs;
	struct tel_pool tp;
	struct rte_tel_data *list;
	struct page pg;
	struct args a;
	const char *from, *to;
	uint32_t page = 0;
	int n;

	if (args_get(d, C_HEAP_DIFF, params, 1, 3, &a) != 0 ||
	    name_arg(d, C_HEAP_DIFF, a.v[0], 0) != 0 ||
	    (a.n >= 2 && name_arg(d, C_HEAP_DIFF, a.v[1], 1) != 0) ||
	    page_arg(d, C_HEAP_DIFF, a.n >= 3 ? a.v[2] : NULL, &page) != 0 ||
	    heap_ready(d, C_HEAP_DIFF, &hs) != 0)
		return 0;
	from = a.v[0];
	to = a.n >= 2 ? a.v[1] : "now";
	mpa_guard_enter();
	n = mpa_heap_diff(from, strcmp(to, "now") == 0 ? NULL : to, &v);
	if (n < 0) {
		/* Say which of the two is unknown. */
		const char *missing = from;

		if (n == -ENOENT && strcmp(to, "now") != 0) {
			const char *names[MPA_HEAP_SNAPSHOTS_MAX];
			int k = mpa_heap_snapshot_names(names, MPA_HEAP_SNAPSHOTS_MAX);
			int have_from = 0;

			for (int i = 0; i < k; i++)
				have_from |= strcmp(names[i], from) == 0;
			if (have_from)
				missing = to;
		}
		heap_error(d, C_HEAP_DIFF, n, missing);
		goto out;
	}
	if (page_begin(d, C_HEAP_DIFF, (uint32_t)n, HEAP_PER_PAGE, page, 2, 0,
		       &pg, &tp) != 0)
		goto out;
	for (int i = 0; i < n; i++) {
		const char *c = mpa_heap_change_name(&v[i]);

		for (unsigned int k = 0; k < RTE_DIM(changes); k++)
			if (strcmp(c, changes[k]) == 0)
				tally[k]++;
		if (v[i].bytes_delta > 0)
			grown_bytes += (uint64_t)v[i].bytes_delta;
		else
			shrunk_bytes += (uint64_t)-v[i].bytes_delta;
	}
	rte_tel_data_start_dict(d);
	add_str(d, "from", from, NAME_CAP);
	add_str(d, "to", to, NAME_CAP);
	for (unsigned int k = 0; k < RTE_DIM(changes); k++)
		add_u64(d, changes[k], tally[k]);
	add_u64(d, "grown_bytes", grown_bytes);
	add_u64(d, "shrunk_bytes", shrunk_bytes);
	page_fields(d, &pg);
	list = tpool_dict(&tp);
	mpa_registry_lock();
	for (uint32_t i = pg.first; i < pg.end; i++) {
		const struct mpa_heap_delta *e = &v[i];
		struct rte_tel_data *o = tpool_dict(&tp);

		add_str(o, "kind", mpa_heap_kind_name(e->kind), 10);
		add_str(o, "change", mpa_heap_change_name(e), 6);
		add_u64(o, "bytes_from", e->bytes_from);
		add_u64(o, "bytes_to", e->bytes_to);
		add_delta(o, "bytes_delta", e->bytes_delta);
		add_u64(o, "count_from", e->count_from);
		add_u64(o, "count_to", e->count_to);
		add_delta(o, "count_delta", e->count_delta);
		stack_fill(o, &tp, e->stack);
		add_ranked(list, i, o);
	}
	mpa_registry_unlock();
	add_child(d, "changes", list);
	tpool_put(&tp);
out:
	free(v);
	mpa_guard_leave();
	return 0;
}

/* ---- /mpaudit/dump ----------------------------------------------------- */

static int
cmd_dump(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_config c;
	struct args a;
	int rc;

	if (args_get(d, C_DUMP, params, 0, 0, &a) != 0)
		return 0;
	mpa_guard_enter();
	running_config(&c);
	if (c.report_path[0] == '\0') {
		mpa_guard_leave();
		return reply_error(d, C_DUMP, EINVAL, "no report path: set MPAUDIT_REPORT");
	}
	/*
	 * What the dump signal does, in both modes (mpa_heap_dump() refuses
	 * without heap tracking): scan now, write the report, print the
	 * summary on stderr. It takes the registry lock itself.
	 */
	rc = actions.dump != NULL ? actions.dump() : -ENODEV;
	mpa_guard_leave();
	if (rc == -ENODEV)
		return reply_error(d, C_DUMP, ENODEV, "the auditor is not running");
	if (rc != 0)
		return reply_error(d, C_DUMP, -rc, "cannot write %s: %s", c.report_path,
				   strerror(-rc));
	rte_tel_data_start_dict(d);
	add_str(d, "path", c.report_path, MSG_CAP);
	add_u64(d, "scan", mpa_query_scans());
	return 0;
}

/* ---- /mpaudit/config --------------------------------------------------- */

/* One NAME=VALUE setting. @return 0, or -1 with the error reply filled. */
static int
setting_arg(struct rte_tel_data *d, char *arg, uint32_t *stuck, uint32_t *scan,
	    unsigned int *seen)
{
	static const struct {
		const char *name;
		uint32_t min, max;
		unsigned int bit;
	} known[] = {
		{ "stuck_ms", 1, MPA_MAX_STUCK_MS, 1 },
		{ "scan_ms", 0, MPA_MAX_SCAN_MS, 2 },
	};
	char show[24], *eq = strchr(arg, '=');

	if (eq == NULL)
		return reply_error(d, C_CONFIG, EINVAL, "parameter '%s' is not NAME=VALUE",
				   clip(show, sizeof(show) - 1, arg, 0)), -1;
	*eq = '\0';
	for (size_t i = 0; i < RTE_DIM(known); i++) {
		uint32_t *out = known[i].bit == 1 ? stuck : scan;
		int rc;

		if (strcmp(arg, known[i].name) != 0)
			continue;
		if (*seen & known[i].bit)
			return reply_error(d, C_CONFIG, EINVAL, "%s given twice",
					   known[i].name), -1;
		*seen |= known[i].bit;
		rc = mpa_config_parse_u32(eq + 1, known[i].min, known[i].max, out);
		if (rc != 0)
			return reply_error(d, C_CONFIG, rc == -ERANGE ? ERANGE : EINVAL,
					   "%s '%s': expected an integer from %u to %u",
					   known[i].name,
					   clip(show, sizeof(show) - 1, eq + 1, 0),
					   known[i].min, known[i].max), -1;
		return 0;
	}
	return reply_error(d, C_CONFIG, EINVAL, "unknown setting '%s' (settable: stuck_ms, scan_ms)",
			   clip(show, sizeof(show) - 1, arg, 0)), -1;
}

static int
cmd_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_config c;
	unsigned int seen = 0, changed = 0;
	uint32_t stuck, scan;
	struct args a;

	if (args_get(d, C_CONFIG, params, 0, 2, &a) != 0)
		return 0;
	running_config(&c);
	stuck = c.stuck_ms;
	scan = c.scan_ms;
	for (unsigned int i = 0; i < a.n; i++)
		if (setting_arg(d, a.v[i], &stuck, &scan, &seen) != 0)
			return 0;
	if (a.n != 0) {
		if (actions.set_timing == NULL ||
		    actions.set_timing(stuck, scan) != 0)
			return reply_error(d, C_CONFIG, ENODEV, "the auditor is not running");
		changed = (stuck != c.stuck_ms) + (scan != c.scan_ms);
		running_config(&c);
	}
	rte_tel_data_start_dict(d);
	add_str(d, "mode", mpa_state_mode(), 16);
	add_int(d, "enabled", mpa_enabled());
	add_u64(d, "stuck_ms", c.stuck_ms);
	add_u64(d, "scan_ms", c.scan_ms);
	add_str(d, "report", c.report_path, MSG_CAP);
	add_u64(d, "report_ms", c.report_ms);
	add_u64(d, "history_scans", c.history_scans);
	add_u64(d, "history", c.history);
	add_int(d, "summary", c.summary);
	add_u64(d, "heap", c.heap);
	add_u64(d, "heap_depth", c.heap_depth);
	add_u64(d, "heap_max_mb", c.heap_max_mb);
	add_int(d, "dump_signal", c.dump_signal);
	add_int(d, "track_signal", c.track_signal);
	add_u64(d, "changed", changed);
	return 0;
}

/* ---- /mpaudit/sites ---------------------------------------------------- */

static int
cmd_sites(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_query q;
	struct tel_pool tp;
	struct rte_tel_data *list;
	struct page pg;
	struct args a;
	uint32_t page;

	if (args_get(d, C_SITES, params, 0, 1, &a) != 0 ||
	    page_arg(d, C_SITES, a.n ? a.v[0] : NULL, &page) != 0)
		return 0;
	mpa_guard_enter();
	if (mpa_query_take(&q, MPA_QUERY_SITES, 0) != 0) {
		mpa_guard_leave();
		return reply_error(d, C_SITES, ENOMEM, "out of memory");
	}
	if (page_begin(d, C_SITES, q.nsites, SITES_PER_PAGE, page, 1, 0,
		       &pg, &tp) == 0) {
		rte_tel_data_start_dict(d);
		add_u64(d, "scan", q.stats.scans);
		add_int(d, "counted", q.sites_counted);
		add_u64(d, "held", q.held);
		add_u64(d, "holders", q.holders);
		add_u64(d, "unlisted", q.unlisted);
		page_fields(d, &pg);
		list = tpool_dict(&tp);
		for (uint32_t i = pg.first; i < pg.end; i++) {
			const struct mpa_query_site *row = &q.sites[i];
			struct rte_tel_data *o = tpool_dict(&tp);

			/* One holder of objects in use, as a group says it. */
			add_str(o, "state", mpa_state_name(row->h.state), 7);
			holder_fill(o, &row->h);
			add_u64(o, "held", row->held);
			add_u64(o, "stuck", row->stuck);
			add_u64(o, "max_age_ms", row->max_age_ms);
			add_ranked(list, i, o);
		}
		add_child(d, "sites", list);
		tpool_put(&tp);
	}
	mpa_query_release(&q);
	mpa_guard_leave();
	return 0;
}

/* ---- /mpaudit/history -------------------------------------------------- */

static int
cmd_history(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const fields[HISTORY_FIELDS] = {
		"age_ms", "in_use", "stuck", "driver_held", "free",
	};
	struct rte_tel_data *col[HISTORY_FIELDS];
	struct mpa_query_history h;
	struct tel_pool tp;
	struct page pg;
	struct args a;
	uint32_t page;
	char show[24];
	int rc;

	if (args_get(d, C_HISTORY, params, 1, 2, &a) != 0 ||
	    page_arg(d, C_HISTORY, a.n > 1 ? a.v[1] : NULL, &page) != 0)
		return 0;
	mpa_guard_enter();
	rc = mpa_query_history(&h, a.v[0]);
	if (rc == -ENOENT) {
		reply_error(d, C_HISTORY, ENOENT, "no audited pool '%s'",
			    clip(show, sizeof(show) - 1, a.v[0], 0));
		goto out;
	}
	if (rc != 0) {
		reply_error(d, C_HISTORY, ENOMEM, "out of memory");
		goto out;
	}
	if (page_place(d, C_HISTORY, h.n, HISTORY_PER_PAGE, page, &pg) != 0)
		goto out;
	if (tpool_get(&tp, HISTORY_FIELDS) != 0) {
		reply_error(d, C_HISTORY, ENOMEM, "out of memory");
		goto out;
	}
	rte_tel_data_start_dict(d);
	add_str(d, "pool", h.pool, POOL_CAP);
	add_u64(d, "size", h.size);
	add_u64(d, "scan", h.scans);
	add_u64(d, "span_ms", h.forecast.span_ms);
	add_forecast(d, &h.forecast);
	page_fields(d, &pg);
	for (int k = 0; k < HISTORY_FIELDS; k++)
		col[k] = tpool_array(&tp, RTE_TEL_U64_VAL);
	for (uint32_t i = pg.first; i < pg.end; i++) {
		const struct mpa_hist_sample *sm = &h.v[i];

		/* Before the newest sample: the clock wraps, ages do not. */
		rte_tel_data_add_array_u64(col[0], h.newest_ms - sm->t_ms);
		rte_tel_data_add_array_u64(col[1], sm->in_use);
		rte_tel_data_add_array_u64(col[2], sm->stuck);
		rte_tel_data_add_array_u64(col[3], sm->driver_held);
		rte_tel_data_add_array_u64(col[4], sm->nfree);
	}
	for (int k = 0; k < HISTORY_FIELDS; k++)
		add_child(d, fields[k], col[k]);
	tpool_put(&tp);
out:
	mpa_query_history_release(&h);
	mpa_guard_leave();
	return 0;
}

/* ---- /mpaudit/pcap ----------------------------------------------------- */

/*
 * A capture name: a snapshot name that is not "." or ".." and has no
 * "..", so it names a file in MPAUDIT_PCAP_DIR and nothing else.
 */
static int
pcap_name_arg(struct rte_tel_data *d, const char *s)
{
	char show[24];

	if (!name_ok(s) || s[0] == '.' || strstr(s, "..") != NULL)
		return reply_error(d, C_PCAP, EINVAL, "bad capture name '%s': 1-%d characters of [A-Za-z0-9_.-], not starting with '.', no '..'",
				   clip(show, sizeof(show) - 1, s, 0),
				   MPA_HEAP_NAME_MAX), -1;
	return 0;
}

static int
cmd_pcap(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mpa_pcap_result *res;
	struct mpa_config c;
	struct args a;
	uint64_t scan;
	int rc;

	if (args_get(d, C_PCAP, params, 1, 1, &a) != 0 ||
	    pcap_name_arg(d, a.v[0]) != 0)
		return 0;
	if (!running_config(&c))
		return reply_error(d, C_PCAP, ENODEV, "the auditor is not running");
	if (c.pcap_dir[0] == '\0')
		return reply_error(d, C_PCAP, ENOTSUP, "no capture directory: set MPAUDIT_PCAP_DIR");
	mpa_guard_enter();
	res = malloc(sizeof(*res));
	if (res == NULL) {
		mpa_guard_leave();
		return reply_error(d, C_PCAP, ENOMEM, "out of memory");
	}
	/* A scan first, as /mpaudit/dump does: the capture is of now. */
	mpa_registry_lock();
	mpa_scan_locked(mpa_query_threshold_ms_locked());
	rc = mpa_pcap_write_locked(c.pcap_dir, a.v[0], res);
	scan = mpa_scan_stats()->scans;
	mpa_registry_unlock();
	if (rc != 0) {
		reply_error(d, C_PCAP, -rc, "cannot write %s/%s.pcap: %s",
			    c.pcap_dir, a.v[0], strerror(-rc));
	} else {
		rte_tel_data_start_dict(d);
		add_str(d, "path", res->path, MSG_CAP);
		add_str(d, "sidecar", res->sidecar, MSG_CAP);
		add_u64(d, "packets", res->packets);
		add_u64(d, "bytes", res->bytes);
		add_u64(d, "truncated", res->truncated);
		add_u64(d, "not_mbufs", res->not_mbufs);
		add_u64(d, "scan", scan);
	}
	free(res);
	mpa_guard_leave();
	return 0;
}

/* ---- registration ------------------------------------------------------ */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t reg_done;   /* bit per command registered */
static int reg_deferred;

/*
 * libmpaudit_preload.so carries a private copy of this code. When the
 * process also holds libmpaudit.so (exporting mpa_eal_init), that copy
 * is the auditor (preload.c stays inactive then), so it alone registers.
 * Compare the modules, not the addresses, which a PLT entry could alias.
 */
static int
other_copy_owns(void)
{
	void *global = dlsym(RTLD_DEFAULT, "mpa_eal_init");
	Dl_info gi, mine;

	if (global == NULL)
		return 0;
	if (dladdr(global, &gi) == 0 || dladdr((void *)&reg_done, &mine) == 0)
		return 0;
	return gi.dli_fbase != mine.dli_fbase;
}

int
mpa_telemetry_register(const struct mpa_telemetry_actions *act)
{
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	actions = *act;
	if (!reg_deferred && other_copy_owns()) {
		reg_deferred = 1;
		MPA_LOG(DEBUG, "telemetry: libmpaudit.so answers the /mpaudit/ commands");
	}
	/* DPDK keeps the command table for the life of the process. */
	mpa_guard_enter();
	for (int i = 0; i < C_COUNT && !reg_deferred; i++) {
		int r;

		if (reg_done & (1u << i))
			continue;
		r = rte_telemetry_register_cmd(cmds[i].name, cmds[i].fn, cmds[i].help);
		if (r == 0) {
			reg_done |= 1u << i;
		} else {
			MPA_LOG(WARNING, "telemetry: cannot register %s: %s",
				cmds[i].name, strerror(-r));
			rc = r;
		}
	}
	mpa_guard_leave();
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int
mpa_telemetry_call(const char *name, const char *params,
		   struct rte_tel_data *d)
{
	for (int i = 0; i < C_COUNT; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return cmds[i].fn(name, params, d);
	return -ENOENT;
}
