/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of audit/surface/report.c: the JSON report, its atomic file writer,
 * the human summary and the log lines, rendered from a hand-built scan
 * result whose holders are interned through audit/core/holder.c with static call
 * sites. The expected documents and lines are written out in full below;
 * they are the ground truth, independent of the code under test.
 *
 * Free errors go through the real audit/core/errors.c; every test that records
 * one forgets it again. report.c is linked without audit/mpaudit.c (the
 * lifecycle), so this file provides the two things it takes from there:
 * the log type and the mode.
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_ring.h>

#include "core/errors.h"
#include "core/holder.h"
#include "core/state.h"
#include "surface/report.h"

/* From audit/mpaudit.c, which is not linked. */
int mpa_logtype;

/*
 * Call sites as the compiler would place them: meson passes paths relative
 * to the build directory, hence the leading "../".
 */
static struct mpa_site site_rx = { "../apps/x/main.c", "rx_loop", 123, 0 };
static struct mpa_site site_tx = { "apps/x/main.c", "tx_flush", 200, 0 };
static struct mpa_site site_ring = { "./apps/x/pipe.c", "pipe_put", 45, 0 };
static struct mpa_site site_app = { "../../apps/x/obj.c", "obj_get", 7, 0 };

/* Only the names of the rings are read, at intern time. */
static struct rte_ring fake_ring, fake_ring2;

/* Holder ids, interned once by the group setup. */
static uint32_t h_rx, h_tx, h_ring, h_app, h_ring_scan;

/* A holder id beyond the published table. */
#define H_UNPUBLISHED 60000u

static int
setup(void **state)
{
	mpa_logtype = rte_log_register("mpaudit");
	if (mpa_logtype < 0 || rte_log_set_level(mpa_logtype, RTE_LOG_DEBUG) != 0)
		return -1;
	snprintf(fake_ring.name, sizeof(fake_ring.name), "fwd_keep");
	snprintf(fake_ring2.name, sizeof(fake_ring2.name), "fwd_rx2w");
	h_rx = mpa_holder_intern(MPA_ST_RX, &site_rx, 2, 5, NULL);
	h_tx = mpa_holder_intern(MPA_ST_TX, &site_tx, 0, 0, NULL);
	h_ring = mpa_holder_intern(MPA_ST_RING, &site_ring, UINT16_MAX,
				   UINT16_MAX, &fake_ring);
	h_app = mpa_holder_intern(MPA_ST_APP, &site_app, UINT16_MAX,
				  UINT16_MAX, NULL);
	/* As the scanner interns a watched ring's objects: no site. */
	h_ring_scan = mpa_holder_intern(MPA_ST_RING, NULL, UINT16_MAX,
					UINT16_MAX, &fake_ring2);
	return 0;
}

/* A failed test must not leave its errors or log stream to the next one. */
static int
forget_errors(void **state)
{
	rte_openlog_stream(NULL);
	mpa_errors_reset();
	return 0;
}

/* ---- the scan results ------------------------------------------------ */

static struct mpa_scan_stats stats_thread = {
	.scans = 20,
	.objects = 163820,
	.total_ns = 4000000,
	.max_ns = 350000,
	.last_ns = 180000,
	.service_scans = 0,
	.last_by_service = 0,
};

static struct mpa_config cfg_leaks = {
	.stuck_ms = 1000,
	.scan_ms = 250,
	.report_path = "",
	.summary = 1,
};

static struct mpa_result_pool *
add_pool(struct mpa_scan_result *r, const char *name, uint32_t size,
	 uint32_t in_use, uint32_t nfree, uint32_t stuck, const char *stamp_where,
	 int have_free_set)
{
	struct mpa_result_pool *p = &r->pools[r->npools++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->size = size;
	p->in_use = in_use;
	p->nfree = nfree;
	p->stuck = stuck;
	p->stamp_where = stamp_where;
	p->have_free_set = have_free_set;
	return p;
}

static struct mpa_group *
add_group(struct mpa_scan_result *r, uint32_t pool, uint32_t holder,
	  uint8_t lcore, uint8_t state, uint32_t count, uint32_t new_count,
	  int32_t max_age_ms)
{
	struct mpa_group *g = &r->groups.v[r->groups.n++];

	memset(g, 0, sizeof(*g));
	g->key.pool = pool;
	g->key.holder = holder;
	g->key.lcore = lcore;
	g->key.state = state;
	g->count = count;
	g->new_count = new_count;
	g->max_age_ms = max_age_ms;
	return g;
}

static void
add_sample(struct mpa_group *g, uintptr_t addr)
{
	g->samples[g->nsamples++] = addr;
}

#define LEAKS_GROUPS 7

/*
 * Two pools and the groups a scan makes: every state; holders with and
 * without port, queue, ring and site; driver holdings beyond the RX
 * descriptors (67 held, 64 expected: 3 reported); two objects not grouped
 * (table full).
 */
static void
leaks_result(struct mpa_scan_result *r, struct mpa_group *v)
{
	struct mpa_result_pool *p;
	struct mpa_group *g;

	memset(r, 0, sizeof(*r));
	r->valid = 1;
	r->now_ms = 123456;
	r->stuck_ms = 1000;
	r->groups.v = v;
	r->groups.cap = LEAKS_GROUPS;
	p = add_pool(r, "mpaudit_fwd_pool", 8191, 200, 7991, 88, "dynfield", 1);
	p->driver_held = 67;
	p->driver_expected = 64;
	/* Draining at 20.5 objects/s: 7991 free objects last 389.8 s. */
	p->forecast = (struct mpa_forecast){ .valid = 1, .growing = 1,
		.rate_per_s = 20.5, .exhaust_s = 389.75, .samples = 120,
		.span_ms = 119000, .kendall = 28 };
	/* A pool destroyed while audited: its last scan. */
	add_pool(r, "objs", 100, 8, 92, 6, "side", 0)->destroyed = 1;

	g = add_group(r, 0, h_rx, 1, MPA_ST_RX, 40, 40, 5014);
	add_sample(g, 0x10068a300);
	add_sample(g, 0x10068ac40);
	add_sample(g, 0x10068b580);
	add_sample(g, 0x10068bec0);
	g = add_group(r, 0, h_tx, 2, MPA_ST_TX, 24, 0, 12345);
	add_sample(g, 0x10068c800);
	g = add_group(r, 0, h_ring, 0, MPA_ST_RING, 16, 0, 1999);
	add_sample(g, 0x1000);
	add_sample(g, 0x2000);
	/* Found in a watched ring: the ring's name, no site. */
	g = add_group(r, 0, h_ring_scan, 1, MPA_ST_RING, 5, 5, 999);
	add_sample(g, 0xabc0);
	add_sample(g, 0xac00);
	/* Driver excess of a pool feeding several queues: holder 0. */
	g = add_group(r, 0, 0, MPA_LCORE_NONE, MPA_ST_PMD, 3, 3, 86400000);
	add_sample(g, 0x7f0000000040);
	g = add_group(r, 1, h_app, 127, MPA_ST_APP, 3, 1, 0);
	add_sample(g, 0x100000000);
	add_sample(g, 0x100000080);
	add_sample(g, 0x100000100);
	/* Never stamped: holder 0. */
	g = add_group(r, 1, 0, MPA_LCORE_NONE, MPA_ST_UNKNOWN, 1, 0, 5000);
	add_sample(g, 0);

	r->groups.dropped = 2;
	r->stuck = 94;
	r->new_stuck = 49;
}

static const char leaks_json[] =
	"{"
	"\"tool\": \"mpaudit\", \"version\": \"test\", \"mode\": \"instrumented\","
	"\"config\": {\"stuck_ms\": 1000, \"scan_ms\": 250, \"history\": 0},"
	"\"pools\": ["
	" {\"name\": \"mpaudit_fwd_pool\", \"size\": 8191, \"in_use\": 200,"
	"  \"free\": 7991, \"stuck\": 88, \"stamp\": \"dynfield\","
	"  \"free_set\": \"ring+cache\", \"driver_held\": 67,"
	"  \"driver_expected\": 64, \"destroyed\": false, \"history\": 120,"
	"  \"rate_per_s\": 20.5, \"growing\": true, \"exhaust_s\": 389.75},"
	" {\"name\": \"objs\", \"size\": 100, \"in_use\": 8, \"free\": 92,"
	"  \"stuck\": 6, \"stamp\": \"side\", \"free_set\": \"stamps\","
	"  \"driver_held\": 0, \"driver_expected\": 0, \"destroyed\": true,"
	"  \"history\": 0, \"rate_per_s\": null, \"growing\": false,"
	"  \"exhaust_s\": null}"
	"],"
	"\"stuck\": ["
	" {\"pool\": \"mpaudit_fwd_pool\", \"state\": \"rx\", \"lcore\": 1,"
	"  \"port\": 2, \"queue\": 5, \"ring\": null,"
	"  \"site\": \"apps/x/main.c:123\", \"function\": \"rx_loop\","
	"  \"count\": 40, \"new\": 40, \"max_age_ms\": 5014,"
	"  \"samples\": [\"0x10068a300\", \"0x10068ac40\", \"0x10068b580\","
	"               \"0x10068bec0\"]},"
	" {\"pool\": \"mpaudit_fwd_pool\", \"state\": \"tx\", \"lcore\": 2,"
	"  \"port\": 0, \"queue\": 0, \"ring\": null,"
	"  \"site\": \"apps/x/main.c:200\", \"function\": \"tx_flush\","
	"  \"count\": 24, \"new\": 0, \"max_age_ms\": 12345,"
	"  \"samples\": [\"0x10068c800\"]},"
	" {\"pool\": \"mpaudit_fwd_pool\", \"state\": \"ring\", \"lcore\": 0,"
	"  \"port\": null, \"queue\": null, \"ring\": \"fwd_keep\","
	"  \"site\": \"apps/x/pipe.c:45\", \"function\": \"pipe_put\","
	"  \"count\": 16, \"new\": 0, \"max_age_ms\": 1999,"
	"  \"samples\": [\"0x1000\", \"0x2000\"]},"
	" {\"pool\": \"mpaudit_fwd_pool\", \"state\": \"ring\", \"lcore\": 1,"
	"  \"port\": null, \"queue\": null, \"ring\": \"fwd_rx2w\","
	"  \"site\": null, \"function\": null,"
	"  \"count\": 5, \"new\": 5, \"max_age_ms\": 999,"
	"  \"samples\": [\"0xabc0\", \"0xac00\"]},"
	" {\"pool\": \"mpaudit_fwd_pool\", \"state\": \"pmd\", \"lcore\": null,"
	"  \"port\": null, \"queue\": null, \"ring\": null,"
	"  \"site\": null, \"function\": null,"
	"  \"count\": 3, \"new\": 3, \"max_age_ms\": 86400000,"
	"  \"samples\": [\"0x7f0000000040\"]},"
	" {\"pool\": \"objs\", \"state\": \"app\", \"lcore\": 127,"
	"  \"port\": null, \"queue\": null, \"ring\": null,"
	"  \"site\": \"apps/x/obj.c:7\", \"function\": \"obj_get\","
	"  \"count\": 3, \"new\": 1, \"max_age_ms\": 0,"
	"  \"samples\": [\"0x100000000\", \"0x100000080\", \"0x100000100\"]},"
	" {\"pool\": \"objs\", \"state\": \"unknown\", \"lcore\": null,"
	"  \"port\": null, \"queue\": null, \"ring\": null,"
	"  \"site\": null, \"function\": null,"
	"  \"count\": 1, \"new\": 0, \"max_age_ms\": 5000,"
	"  \"samples\": [\"0x0\"]}"
	"],"
	"\"malloc\": [],"
	"\"heap\": {\"active\": false, \"tracking\": false,"
	"  \"disabled\": \"MPAUDIT_HEAP=off or not preloaded\", \"depth\": 16,"
	"  \"live\": {\"libc\": {\"count\": 0, \"bytes\": 0, \"allocs\": 0, \"frees\": 0},"
	"    \"rte_malloc\": {\"count\": 0, \"bytes\": 0, \"allocs\": 0, \"frees\": 0}},"
	"  \"runtime\": {\"libc\": {\"count\": 0, \"bytes\": 0},"
	"    \"rte_malloc\": {\"count\": 0, \"bytes\": 0}},"
	"  \"records\": 0, \"stacks\": 0, \"table_bytes\": 0, \"snapshots\": []},"
	"\"errors\": [],"
	"\"scanner\": {\"mode\": \"thread\", \"scans\": 20, \"service_scans\": 0,"
	"  \"objects\": 163820, \"total_ns\": 4000000, \"max_ns\": 350000,"
	"  \"last_ns\": 180000},"
	"\"summary\": {\"stop\": \"exit\", \"signal\": null, \"stuck\": 94, \"groups\": 7, \"ungrouped\": 2,"
	"  \"errors\": 0, \"errors_listed\": 0, \"malloc_groups\": 0, \"malloc_leaks\": 0,"
	"  \"exit_code\": 3}"
	"}";

static const char leaks_summary[] =
	"mpaudit: report (exit) after 20 scans, threshold 1000 ms\n"
	"POOL                           SIZE     IN_USE       FREE      STUCK\n"
	"mpaudit_fwd_pool               8191        200       7991         88\n"
	"objs                            100          8         92          6  (destroyed)\n"
	"\n"
	"   STUCK  STATE   LCORE  PORT QUEUE  RING               MAX_AGE  SITE\n"
	"      40  rx          1     2     5  -                    5.0 s  apps/x/main.c:123 (rx_loop)\n"
	"      24  tx          2     0     0  -                   12.3 s  apps/x/main.c:200 (tx_flush)\n"
	"      16  ring        0     -     -  fwd_keep             1.9 s  apps/x/pipe.c:45 (pipe_put)\n"
	"       5  ring        1     -     -  fwd_rx2w             0.9 s  -\n"
	"       3  pmd         -     -     -  -                86400.0 s  -\n"
	"       3  app       127     -     -  -                    0.0 s  apps/x/obj.c:7 (obj_get)\n"
	"       1  unknown     -     -     -  -                    5.0 s  -\n"
	"\n"
	"mpaudit: 94 stuck objects in 7 groups in 2 pools, 0 free errors: LEAKS FOUND\n";

/* One pool, nothing stuck, scanned by the DPDK service. */
static struct mpa_scan_stats stats_service = {
	.scans = 1,
	.objects = 512,
	.total_ns = 90000,
	.max_ns = 90000,
	.last_ns = 90000,
	.service_scans = 1,
	.last_by_service = 1,
};

static struct mpa_config cfg_clean = {
	.stuck_ms = MPA_DEFAULT_STUCK_MS,
	.scan_ms = MPA_DEFAULT_SCAN_MS,
	.report_path = "/nonexistent/report.json",
	.summary = 0,
};

static void
clean_result(struct mpa_scan_result *r)
{
	memset(r, 0, sizeof(*r));
	r->valid = 1;
	r->now_ms = 1000;
	r->stuck_ms = MPA_DEFAULT_STUCK_MS;
	add_pool(r, "clean_pool", 512, 0, 512, 0, "header", 1);
}

static const char clean_json[] =
	"{"
	"\"tool\": \"mpaudit\", \"version\": \"test\", \"mode\": \"instrumented\","
	"\"config\": {\"stuck_ms\": 5000, \"scan_ms\": 1000, \"history\": 0},"
	"\"pools\": ["
	" {\"name\": \"clean_pool\", \"size\": 512, \"in_use\": 0, \"free\": 512,"
	"  \"stuck\": 0, \"stamp\": \"header\", \"free_set\": \"ring+cache\","
	"  \"driver_held\": 0, \"driver_expected\": 0, \"destroyed\": false,"
	"  \"history\": 0, \"rate_per_s\": null, \"growing\": false,"
	"  \"exhaust_s\": null}"
	"],"
	"\"stuck\": [],"
	"\"malloc\": [],"
	"\"heap\": {\"active\": false, \"tracking\": false,"
	"  \"disabled\": \"MPAUDIT_HEAP=off or not preloaded\", \"depth\": 16,"
	"  \"live\": {\"libc\": {\"count\": 0, \"bytes\": 0, \"allocs\": 0, \"frees\": 0},"
	"    \"rte_malloc\": {\"count\": 0, \"bytes\": 0, \"allocs\": 0, \"frees\": 0}},"
	"  \"runtime\": {\"libc\": {\"count\": 0, \"bytes\": 0},"
	"    \"rte_malloc\": {\"count\": 0, \"bytes\": 0}},"
	"  \"records\": 0, \"stacks\": 0, \"table_bytes\": 0, \"snapshots\": []},"
	"\"errors\": [],"
	"\"scanner\": {\"mode\": \"service\", \"scans\": 1, \"service_scans\": 1,"
	"  \"objects\": 512, \"total_ns\": 90000, \"max_ns\": 90000,"
	"  \"last_ns\": 90000},"
	"\"summary\": {\"stop\": \"exit\", \"signal\": null, \"stuck\": 0, \"groups\": 0, \"ungrouped\": 0,"
	"  \"errors\": 0, \"errors_listed\": 0, \"malloc_groups\": 0, \"malloc_leaks\": 0,"
	"  \"exit_code\": 0}"
	"}";

static const char clean_summary[] =
	"mpaudit: report (exit) after 1 scans, threshold 5000 ms\n"
	"POOL                           SIZE     IN_USE       FREE      STUCK\n"
	"clean_pool                      512          0        512          0\n"
	"\n"
	"mpaudit: 0 stuck objects in 0 groups in 1 pools, 0 free errors: clean\n";

/* ---- helpers --------------------------------------------------------- */

/* Compare two texts line by line, naming the first line that differs. */
static void
assert_text(const char *got, const char *want)
{
	const char *g = got, *w = want;

	assert_non_null(got);
	for (unsigned int line = 1; *g != '\0' || *w != '\0'; line++) {
		size_t gl = strcspn(g, "\n"), wl = strcspn(w, "\n");

		if (gl != wl || memcmp(g, w, gl) != 0 || g[gl] != w[wl])
			fail_msg("line %u differs:\n got: \"%.*s\"%s\nwant: \"%.*s\"%s",
				 line, (int)gl, g, g[gl] == '\0' ? " (no newline)" : "",
				 (int)wl, w, w[wl] == '\0' ? " (no newline)" : "");
		g += gl + (g[gl] != '\0');
		w += wl + (w[wl] != '\0');
	}
}

/* Report where @p got differs from @p want: for arrays, the first element. */
static void
fail_json(const char *key, const json_t *got, const json_t *want)
{
	size_t i = 0;
	char *gs, *ws;

	if (json_is_array(got) && json_is_array(want)) {
		while (i < json_array_size(got) && i < json_array_size(want) &&
		       json_equal(json_array_get(got, i), json_array_get(want, i)))
			i++;
		gs = json_dumps(json_array_get(got, i), JSON_SORT_KEYS | JSON_ENCODE_ANY);
		ws = json_dumps(json_array_get(want, i), JSON_SORT_KEYS | JSON_ENCODE_ANY);
		fail_msg("\"%s\"[%zu] differs (%zu elements, want %zu):\n got: %s\nwant: %s",
			 key, i, json_array_size(got), json_array_size(want),
			 gs != NULL ? gs : "(missing)", ws != NULL ? ws : "(missing)");
	}
	gs = got != NULL ? json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	ws = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
	fail_msg("\"%s\" differs:\n got: %s\nwant: %s", key,
		 gs != NULL ? gs : "(missing)", ws);
}

/* Compare a JSON document with the expected text, key by key. */
static void
assert_json(const json_t *got, const char *want_text)
{
	json_error_t err;
	json_t *want = json_loads(want_text, 0, &err);
	const char *key;
	json_t *v;

	if (want == NULL)
		fail_msg("bad expected JSON, line %d: %s", err.line, err.text);
	assert_non_null(got);
	assert_true(json_is_object(got));
	json_object_foreach(want, key, v) {
		json_t *g = json_object_get(got, key);

		if (!json_equal(g, v))
			fail_json(key, g, v);
	}
	json_object_foreach((json_t *)(uintptr_t)got, key, v)
		if (json_object_get(want, key) == NULL)
			fail_msg("unexpected key \"%s\"", key);
	assert_true(json_equal(got, want));
	json_decref(want);
}

/* Compare one member of a JSON object with the expected text. */
static void
assert_json_key(const json_t *obj, const char *key, const char *want_text)
{
	json_error_t err;
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, &err);
	json_t *got = json_object_get(obj, key);

	if (want == NULL)
		fail_msg("bad expected JSON, line %d: %s", err.line, err.text);
	if (!json_equal(got, want))
		fail_json(key, got, want);
	json_decref(want);
}

static char *
print_summary(const struct mpa_scan_result *r, const struct mpa_scan_stats *st,
	      const struct mpa_config *cfg, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = mpa_report_print_summary(f, r, st, cfg);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Names in directory @p dir other than "." and "..", sorted, "\n"-joined. */
static char *
list_dir(const char *dir)
{
	struct dirent **names;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = scandir(dir, &names, NULL, alphasort);

	assert_non_null(f);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0)
			fprintf(f, "%s\n", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
assert_dir(const char *dir, const char *want)
{
	char *got = list_dir(dir);

	assert_string_equal(got, want);
	free(got);
}

/* A fresh directory per file test, removed with whatever a failure left. */
static int
make_dir(void **state)
{
	static char dir[32];

	snprintf(dir, sizeof(dir), "/tmp/mpa_ut_report.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int
remove_dir(void **state)
{
	const char *dir = *state;
	struct dirent **names;
	char path[PATH_MAX];
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			if (unlink(path) != 0)
				rmdir(path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return rmdir(dir) == 0 ? 0 : -1;
}

/* ---- tests ----------------------------------------------------------- */

/* Build-directory prefixes are dropped from reported file names. */
static void
test_site_file(void **state)
{
	static const char abs_path[] = "/src/apps/x/main.c";

	assert_string_equal(mpa_site_file("../apps/x/main.c"), "apps/x/main.c");
	assert_string_equal(mpa_site_file("../../apps/x/main.c"), "apps/x/main.c");
	assert_string_equal(mpa_site_file("./apps/x/main.c"), "apps/x/main.c");
	assert_string_equal(mpa_site_file("./.././../a.c"), "a.c");
	assert_string_equal(mpa_site_file("apps/x/main.c"), "apps/x/main.c");
	assert_ptr_equal(mpa_site_file(abs_path), abs_path);
	assert_string_equal(mpa_site_file("apps/../x.c"), "apps/../x.c");
	assert_string_equal(mpa_site_file(".../x.c"), ".../x.c");
	assert_string_equal(mpa_site_file("..x.c"), "..x.c");
	assert_string_equal(mpa_site_file("../"), "");
	assert_string_equal(mpa_site_file(".."), "..");
	assert_string_equal(mpa_site_file(""), "");
	assert_string_equal(mpa_site_file(NULL), "?");
}

/* The holders the reports resolve, as the setup interned them. */
static void
test_holders(void **state)
{
	const struct mpa_holder_ent *e;

	/* Ids after the bare states, in intern order. */
	assert_int_equal(h_rx, MPA_ST_COUNT);
	assert_int_equal(h_tx, MPA_ST_COUNT + 1);
	assert_int_equal(h_ring, MPA_ST_COUNT + 2);
	assert_int_equal(h_app, MPA_ST_COUNT + 3);
	assert_int_equal(h_ring_scan, MPA_ST_COUNT + 4);
	assert_int_equal(mpa_holder_count(), MPA_ST_COUNT + 5);
	/* Interning is idempotent. */
	assert_int_equal(mpa_holder_intern(MPA_ST_RX, &site_rx, 2, 5, NULL), h_rx);
	assert_int_equal(mpa_holder_intern(MPA_ST_RING, &site_ring, UINT16_MAX,
					   UINT16_MAX, &fake_ring), h_ring);
	assert_int_equal(mpa_holder_count(), MPA_ST_COUNT + 5);

	e = mpa_holder_get(h_rx);
	assert_non_null(e);
	assert_ptr_equal(e->site, &site_rx);
	assert_null(e->ring);
	assert_int_equal(e->port, 2);
	assert_int_equal(e->queue, 5);
	assert_int_equal(e->state, MPA_ST_RX);
	e = mpa_holder_get(h_ring);
	assert_non_null(e);
	assert_ptr_equal(e->ring, &fake_ring);
	assert_string_equal(e->ring_name, "fwd_keep");
	assert_int_equal(e->port, UINT16_MAX);
	assert_int_equal(e->state, MPA_ST_RING);
	e = mpa_holder_get(h_ring_scan);
	assert_non_null(e);
	assert_null(e->site);
	assert_ptr_equal(e->ring, &fake_ring2);
	assert_string_equal(e->ring_name, "fwd_rx2w");

	e = mpa_holder_get(MPA_ST_PMD);
	assert_non_null(e);
	assert_null(e->site);
	assert_int_equal(e->state, MPA_ST_PMD);
	assert_int_equal(e->port, UINT16_MAX);
	assert_null(mpa_holder_get(0));
	assert_null(mpa_holder_get(MPA_ST_COUNT + 5));
	assert_null(mpa_holder_get(H_UNPUBLISHED));
}

static void
test_json_leaks(void **state)
{
	struct mpa_group v[LEAKS_GROUPS];
	struct mpa_scan_result r;
	json_t *root;

	leaks_result(&r, v);
	root = mpa_report_json(&r, &stats_thread, &cfg_leaks);
	assert_json(root, leaks_json);
	/* The fields scripts gate on, spelled out. */
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(root, "summary"), "exit_code")), MPA_EXIT_FOUND);
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(root, "stuck"), 4), "lcore")));
	json_decref(root);
}

static void
test_json_clean(void **state)
{
	struct mpa_scan_result r;
	json_t *root;

	clean_result(&r);
	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	assert_json(root, clean_json);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(root, "summary"), "exit_code")), MPA_EXIT_CLEAN);
	json_decref(root);
}

/* No pools at all: empty arrays, still a complete document. */
static void
test_json_empty(void **state)
{
	struct mpa_scan_result r;
	json_t *root;

	memset(&r, 0, sizeof(r));
	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "pools")), 0);
	assert_true(json_is_array(json_object_get(root, "pools")));
	assert_int_equal(json_array_size(json_object_get(root, "stuck")), 0);
	assert_true(json_is_array(json_object_get(root, "stuck")));
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(root, "summary"), "exit_code")), MPA_EXIT_CLEAN);
	json_decref(root);
}

/*
 * A group whose pool index and holder id the result does not know: the
 * pool reads "?" and everything the holder would say is null.
 */
static void
test_json_unresolved_group(void **state)
{
	struct mpa_group v[1];
	struct mpa_scan_result r;
	struct mpa_group *g;
	json_t *root, *want;
	int ret;
	char *out;

	clean_result(&r);
	r.groups.v = v;
	r.groups.cap = 1;
	g = add_group(&r, 5, H_UNPUBLISHED, 4, MPA_ST_RX, 2, 2, 7000);
	add_sample(g, 0xdeadbeef);
	add_sample(g, 0xfeedface);
	r.stuck = 2;
	r.new_stuck = 2;

	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	assert_non_null(root);
	want = json_pack("{s:s, s:s, s:i, s:n, s:n, s:n, s:n, s:n, s:i, s:i, s:i, s:[s,s]}",
			 "pool", "?", "state", "rx", "lcore", 4, "port",
			 "queue", "ring", "site", "function", "count", 2,
			 "new", 2, "max_age_ms", 7000, "samples",
			 "0xdeadbeef", "0xfeedface");
	assert_non_null(want);
	assert_true(json_equal(json_array_get(json_object_get(root, "stuck"), 0),
			       want));
	json_decref(want);
	json_decref(root);

	out = print_summary(&r, &stats_service, &cfg_clean, &ret);
	assert_int_equal(ret, 2);
	assert_text(out,
		"mpaudit: report (exit) after 1 scans, threshold 5000 ms\n"
		"POOL                           SIZE     IN_USE       FREE      STUCK\n"
		"clean_pool                      512          0        512          0\n"
		"\n"
		"   STUCK  STATE   LCORE  PORT QUEUE  RING               MAX_AGE  SITE\n"
		"       2  rx          4     -     -  -                    7.0 s  -\n"
		"\n"
		"mpaudit: 2 stuck objects in 1 groups in 1 pools, 0 free errors: LEAKS FOUND\n");
	free(out);
}

/*
 * The ring name is shown for state ring only, whatever the holder says;
 * port and queue only where the holder has them.
 */
/*
 * Driver holdings beyond the RX descriptors of a pool that feeds exactly
 * one RX queue are charged to that queue: port and queue are reported.
 */
static void
test_pmd_on_rx_queue(void **state)
{
	uint32_t h_pmd = mpa_holder_intern(MPA_ST_PMD, NULL, 3, 1, NULL);
	struct mpa_group v[1];
	struct mpa_scan_result r;
	json_t *root;
	char *out;
	int ret;

	clean_result(&r);
	r.groups.v = v;
	r.groups.cap = RTE_DIM(v);
	add_sample(add_group(&r, 0, h_pmd, MPA_LCORE_NONE, MPA_ST_PMD, 12, 12,
			     2500), 0x80);
	r.stuck = 12;

	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	assert_non_null(root);
	assert_json_key(root, "stuck",
		"[{\"pool\": \"clean_pool\", \"state\": \"pmd\", \"lcore\": null,"
		"  \"port\": 3, \"queue\": 1, \"ring\": null, \"site\": null,"
		"  \"function\": null, \"count\": 12, \"new\": 12,"
		"  \"max_age_ms\": 2500, \"samples\": [\"0x80\"]}]");
	json_decref(root);

	out = print_summary(&r, &stats_service, &cfg_clean, &ret);
	assert_int_equal(ret, 12);
	assert_non_null(strstr(out,
		"      12  pmd         -     3     1  -                    2.5 s  -\n"));
	free(out);
}

static void
test_ring_only_for_ring_state(void **state)
{
	static const uint8_t states[] = {
		MPA_ST_APP, MPA_ST_RX, MPA_ST_TX, MPA_ST_RING, MPA_ST_PMD,
		MPA_ST_UNKNOWN,
	};
	struct mpa_group v[RTE_DIM(states)];
	struct mpa_scan_result r;
	json_t *root;
	char *out;
	int ret;

	clean_result(&r);
	r.groups.v = v;
	r.groups.cap = RTE_DIM(states);
	for (size_t i = 0; i < RTE_DIM(states); i++)
		add_sample(add_group(&r, 0, h_ring, (uint8_t)i, states[i], 1, 0,
				     1500), 0x40 * (i + 1));
	r.stuck = RTE_DIM(states);

	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	assert_non_null(root);
	assert_json_key(root, "stuck",
		"[{\"pool\": \"clean_pool\", \"state\": \"app\", \"lcore\": 0,"
		"  \"port\": null, \"queue\": null, \"ring\": null,"
		"  \"site\": \"apps/x/pipe.c:45\", \"function\": \"pipe_put\","
		"  \"count\": 1, \"new\": 0, \"max_age_ms\": 1500, \"samples\": [\"0x40\"]},"
		" {\"pool\": \"clean_pool\", \"state\": \"rx\", \"lcore\": 1,"
		"  \"port\": null, \"queue\": null, \"ring\": null,"
		"  \"site\": \"apps/x/pipe.c:45\", \"function\": \"pipe_put\","
		"  \"count\": 1, \"new\": 0, \"max_age_ms\": 1500, \"samples\": [\"0x80\"]},"
		" {\"pool\": \"clean_pool\", \"state\": \"tx\", \"lcore\": 2,"
		"  \"port\": null, \"queue\": null, \"ring\": null,"
		"  \"site\": \"apps/x/pipe.c:45\", \"function\": \"pipe_put\","
		"  \"count\": 1, \"new\": 0, \"max_age_ms\": 1500, \"samples\": [\"0xc0\"]},"
		" {\"pool\": \"clean_pool\", \"state\": \"ring\", \"lcore\": 3,"
		"  \"port\": null, \"queue\": null, \"ring\": \"fwd_keep\","
		"  \"site\": \"apps/x/pipe.c:45\", \"function\": \"pipe_put\","
		"  \"count\": 1, \"new\": 0, \"max_age_ms\": 1500, \"samples\": [\"0x100\"]},"
		" {\"pool\": \"clean_pool\", \"state\": \"pmd\", \"lcore\": 4,"
		"  \"port\": null, \"queue\": null, \"ring\": null,"
		"  \"site\": \"apps/x/pipe.c:45\", \"function\": \"pipe_put\","
		"  \"count\": 1, \"new\": 0, \"max_age_ms\": 1500, \"samples\": [\"0x140\"]},"
		" {\"pool\": \"clean_pool\", \"state\": \"unknown\", \"lcore\": 5,"
		"  \"port\": null, \"queue\": null, \"ring\": null,"
		"  \"site\": \"apps/x/pipe.c:45\", \"function\": \"pipe_put\","
		"  \"count\": 1, \"new\": 0, \"max_age_ms\": 1500, \"samples\": [\"0x180\"]}]");
	json_decref(root);

	out = print_summary(&r, &stats_service, &cfg_clean, &ret);
	assert_int_equal(ret, 6);
	assert_text(out,
		"mpaudit: report (exit) after 1 scans, threshold 5000 ms\n"
		"POOL                           SIZE     IN_USE       FREE      STUCK\n"
		"clean_pool                      512          0        512          0\n"
		"\n"
		"   STUCK  STATE   LCORE  PORT QUEUE  RING               MAX_AGE  SITE\n"
		"       1  app         0     -     -  -                    1.5 s  apps/x/pipe.c:45 (pipe_put)\n"
		"       1  rx          1     -     -  -                    1.5 s  apps/x/pipe.c:45 (pipe_put)\n"
		"       1  tx          2     -     -  -                    1.5 s  apps/x/pipe.c:45 (pipe_put)\n"
		"       1  ring        3     -     -  fwd_keep             1.5 s  apps/x/pipe.c:45 (pipe_put)\n"
		"       1  pmd         4     -     -  -                    1.5 s  apps/x/pipe.c:45 (pipe_put)\n"
		"       1  unknown     5     -     -  -                    1.5 s  apps/x/pipe.c:45 (pipe_put)\n"
		"\n"
		"mpaudit: 6 stuck objects in 6 groups in 1 pools, 0 free errors: LEAKS FOUND\n");
	free(out);
}

/* The JSON "mode" is the lifecycle's. */
static void
test_json_mode(void **state)
{
	struct mpa_scan_result r;
	json_t *root;

	clean_result(&r);
	mpa_state_set_mode(MPA_MODE_PRELOAD);
	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	mpa_state_set_mode(MPA_MODE_INSTRUMENTED);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "mode")),
			    "preload");
	json_decref(root);
}

/*
 * MPAUDIT_HISTORY=3: a leak that went rx -> ring -> app, its samples'
 * previous holders in the JSON report (most recent first, as a group's
 * holder says them, with their ages) and in the summary (oldest first,
 * ending with the group's holder). One sample moved while it was read
 * and keeps none. The pools say what they keep: 0 for a side table.
 */
static void
history_result(struct mpa_scan_result *r, struct mpa_group *v)
{
	struct mpa_group *g;

	memset(r, 0, sizeof(*r));
	r->valid = 1;
	r->now_ms = 50000;
	r->stuck_ms = 1000;
	r->objhist_k = 3;
	r->groups.v = v;
	r->groups.cap = 1;
	add_pool(r, "mpaudit_fwd_pool", 8191, 2, 8189, 2, "header", 1)->objhist = 3;
	add_pool(r, "objs", 100, 0, 100, 0, "side", 0);
	g = add_group(r, 0, h_app, 2, MPA_ST_APP, 2, 2, 2100);
	add_sample(g, 0x1000);
	add_sample(g, 0x2000);
	g->nprev[0] = 2;
	g->prev[0][0] = (struct mpa_objhist_ent){ h_ring, 2110, 1 };
	g->prev[0][1] = (struct mpa_objhist_ent){ h_rx, 2120, 1 };
	r->stuck = 2;
	r->new_stuck = 2;
}

static const char history_json_stuck[] =
	"["
	" {\"pool\": \"mpaudit_fwd_pool\", \"state\": \"app\", \"lcore\": 2,"
	"  \"port\": null, \"queue\": null, \"ring\": null,"
	"  \"site\": \"apps/x/obj.c:7\", \"function\": \"obj_get\","
	"  \"count\": 2, \"new\": 2, \"max_age_ms\": 2100,"
	"  \"samples\": [\"0x1000\", \"0x2000\"],"
	"  \"sample_history\": ["
	"   {\"address\": \"0x1000\", \"previous\": ["
	"     {\"state\": \"ring\", \"lcore\": 1, \"port\": null, \"queue\": null,"
	"      \"ring\": \"fwd_keep\", \"site\": \"apps/x/pipe.c:45\","
	"      \"function\": \"pipe_put\", \"age_ms\": 2110},"
	"     {\"state\": \"rx\", \"lcore\": 1, \"port\": 2, \"queue\": 5,"
	"      \"ring\": null, \"site\": \"apps/x/main.c:123\","
	"      \"function\": \"rx_loop\", \"age_ms\": 2120}]},"
	"   {\"address\": \"0x2000\", \"previous\": []}]}"
	"]";

static void
test_json_history(void **state)
{
	struct mpa_group v[1];
	struct mpa_scan_result r;
	struct mpa_config cfg = cfg_leaks;
	json_t *root, *want, *pools;
	json_error_t jerr;

	history_result(&r, v);
	cfg.history = 3;
	root = mpa_report_json(&r, &stats_thread, &cfg);
	assert_non_null(root);
	want = json_loads(history_json_stuck, 0, &jerr);
	assert_non_null(want);
	if (!json_equal(json_object_get(root, "stuck"), want)) {
		char *got = json_dumps(json_object_get(root, "stuck"), 0);

		fail_msg("stuck differs: %s", got);
	}
	json_decref(want);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(root, "config"), "history")), 3);
	pools = json_object_get(root, "pools");
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(pools, 0), "stamp_history")), 3);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(pools, 1), "stamp_history")), 0);
	json_decref(root);

	/* History off: not a word of it, whatever the groups hold. */
	r.objhist_k = 0;
	root = mpa_report_json(&r, &stats_thread, &cfg_leaks);
	assert_null(json_object_get(json_array_get(json_object_get(root,
		"stuck"), 0), "sample_history"));
	assert_null(json_object_get(json_array_get(json_object_get(root,
		"pools"), 0), "stamp_history"));
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(root, "config"), "history")), 0);
	json_decref(root);
}

static const char history_summary_tail[] =
	"\n"
	"HOW THE SAMPLES GOT THERE (MPAUDIT_HISTORY=3: previous holders, oldest first, age at the scan)\n"
	"       2  app lcore 2 at apps/x/obj.c:7\n"
	"          0x1000: rx port 2 queue 5 lcore 1 at apps/x/main.c:123 (2.1 s) -> ring fwd_keep lcore 1 at apps/x/pipe.c:45 (2.1 s) -> app lcore 2 at apps/x/obj.c:7\n"
	"          0x2000: (no earlier holder known) -> app lcore 2 at apps/x/obj.c:7\n"
	"\n"
	"mpaudit: 2 stuck objects in 1 groups in 2 pools, 0 free errors: LEAKS FOUND\n";

static void
test_summary_history(void **state)
{
	struct mpa_group v[1];
	struct mpa_scan_result r;
	const char *tail;
	char *out;
	int ret;

	history_result(&r, v);
	out = print_summary(&r, &stats_thread, &cfg_leaks, &ret);
	tail = strstr(out, "\nHOW THE SAMPLES");
	assert_non_null(tail);
	assert_string_equal(tail, history_summary_tail);
	free(out);
	r.objhist_k = 0;
	out = print_summary(&r, &stats_thread, &cfg_leaks, &ret);
	assert_null(strstr(out, "HOW THE SAMPLES"));
	free(out);
}

static void
test_summary_leaks(void **state)
{
	struct mpa_group v[LEAKS_GROUPS];
	struct mpa_scan_result r;
	char *out;
	int ret;

	leaks_result(&r, v);
	out = print_summary(&r, &stats_thread, &cfg_leaks, &ret);
	assert_text(out, leaks_summary);
	assert_int_equal(ret, 94);
	free(out);
}

static void
test_summary_clean(void **state)
{
	struct mpa_scan_result r;
	char *out;
	int ret;

	clean_result(&r);
	out = print_summary(&r, &stats_service, &cfg_clean, &ret);
	assert_text(out, clean_summary);
	assert_int_equal(ret, 0);
	free(out);
}

/*
 * The stop path is named in the summary object and on the first line: the
 * signal once, either as the stop itself or as what came before an exit.
 */
static void
test_stop_named(void **state)
{
	static const struct {
		const char *why, *signal, *line;
	} cases[] = {
		{ "signal SIGTERM", "SIGTERM",
		  "mpaudit: report (signal SIGTERM) after 1 scans, threshold 5000 ms\n" },
		{ "exit", "SIGINT",
		  "mpaudit: report (exit, after SIGINT) after 1 scans, threshold 5000 ms\n" },
		{ "periodic", NULL,
		  "mpaudit: report (periodic) after 1 scans, threshold 5000 ms\n" },
		{ "dump", "SIGHUP",
		  "mpaudit: report (dump, after SIGHUP) after 1 scans, threshold 5000 ms\n" },
	};
	struct mpa_scan_result r;

	clean_result(&r);
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		json_t *root, *sum, *sig;
		char *out;
		int ret;

		mpa_report_set_stop(cases[i].why, cases[i].signal);
		out = print_summary(&r, &stats_service, &cfg_clean, &ret);
		assert_memory_equal(out, cases[i].line, strlen(cases[i].line));
		free(out);
		root = mpa_report_json(&r, &stats_service, &cfg_clean);
		assert_non_null(root);
		sum = json_object_get(root, "summary");
		assert_string_equal(json_string_value(json_object_get(sum, "stop")),
				    cases[i].why);
		sig = json_object_get(sum, "signal");
		if (cases[i].signal == NULL)
			assert_true(json_is_null(sig));
		else
			assert_string_equal(json_string_value(sig), cases[i].signal);
		json_decref(root);
	}
	mpa_report_set_stop("exit", NULL);
}

/*
 * Only groups with newly stuck objects are logged, a holder at once the
 * first time, then at most every 10 s; a flush says what was held back.
 */
static void
test_log_new(void **state)
{
	struct mpa_group v[LEAKS_GROUPS];
	struct mpa_scan_result r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(rte_openlog_stream(f), 0);
	mpa_report_log_forget();
	leaks_result(&r, v);
	mpa_report_log_new(&r);
	/* Every group new: every sentence shape. */
	for (uint32_t i = 0; i < r.groups.n; i++)
		r.groups.v[i].new_count = i + 1;
	mpa_report_log_new(&r);
	/* What the second call held back, at a stop. */
	mpa_report_log_flush();
	/* 10 s on, a holder may be logged again. */
	r.now_ms += 10000;
	for (uint32_t i = 0; i < r.groups.n; i++)
		r.groups.v[i].new_count = 1;
	mpa_report_log_new(&r);
	mpa_report_log_flush();
	rte_openlog_stream(NULL);
	assert_int_equal(fclose(f), 0);
	mpa_report_log_forget();

	assert_text(buf,
		/* First call: the groups with newly stuck objects. */
		"mpaudit: pool mpaudit_fwd_pool: 40 objects held since RX on port 2 queue 5 by lcore 1, oldest 5.0 s, last touched at apps/x/main.c:123 (rx_loop) [40 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 5 objects sitting in ring fwd_rx2w by lcore 1, oldest 0.9 s [5 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 3 objects taken by a driver or uninstrumented code, oldest 86400.0 s [3 newly stuck]\n"
		"mpaudit: pool objs: 3 objects held by application code by lcore 127, oldest 0.0 s, last touched at apps/x/obj.c:7 (obj_get) [1 newly stuck]\n"
		/* Second call, same scan time: only holders not logged yet. */
		"mpaudit: pool mpaudit_fwd_pool: 24 objects handed to TX, not completed on port 0 queue 0 by lcore 2, oldest 12.3 s, last touched at apps/x/main.c:200 (tx_flush) [2 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 16 objects sitting in ring fwd_keep by lcore 0, oldest 1.9 s, last touched at apps/x/pipe.c:45 (pipe_put) [3 newly stuck]\n"
		"mpaudit: pool objs: 1 objects held by an unknown holder, oldest 5.0 s [7 newly stuck]\n"
		/* The flush: the others' held-back objects. */
		"mpaudit: pool mpaudit_fwd_pool: 40 objects held since RX on port 2 queue 5 by lcore 1, oldest 5.0 s, last touched at apps/x/main.c:123 (rx_loop) [1 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 5 objects sitting in ring fwd_rx2w by lcore 1, oldest 0.9 s [4 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 3 objects taken by a driver or uninstrumented code, oldest 86400.0 s [5 newly stuck]\n"
		"mpaudit: pool objs: 3 objects held by application code by lcore 127, oldest 0.0 s, last touched at apps/x/obj.c:7 (obj_get) [6 newly stuck]\n"
		/* 10 s later: every holder at once, and nothing left to flush. */
		"mpaudit: pool mpaudit_fwd_pool: 40 objects held since RX on port 2 queue 5 by lcore 1, oldest 5.0 s, last touched at apps/x/main.c:123 (rx_loop) [1 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 24 objects handed to TX, not completed on port 0 queue 0 by lcore 2, oldest 12.3 s, last touched at apps/x/main.c:200 (tx_flush) [1 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 16 objects sitting in ring fwd_keep by lcore 0, oldest 1.9 s, last touched at apps/x/pipe.c:45 (pipe_put) [1 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 5 objects sitting in ring fwd_rx2w by lcore 1, oldest 0.9 s [1 newly stuck]\n"
		"mpaudit: pool mpaudit_fwd_pool: 3 objects taken by a driver or uninstrumented code, oldest 86400.0 s [1 newly stuck]\n"
		"mpaudit: pool objs: 3 objects held by application code by lcore 127, oldest 0.0 s, last touched at apps/x/obj.c:7 (obj_get) [1 newly stuck]\n"
		"mpaudit: pool objs: 1 objects held by an unknown holder, oldest 5.0 s [1 newly stuck]\n");
	free(buf);
}

/*
 * Free errors: listed in the JSON "errors" array and in the summary, and
 * they alone make the exit status 3.
 */
static void
test_free_errors(void **state)
{
	struct mpa_scan_result r;
	char *log = NULL, *out;
	size_t loglen = 0;
	json_t *root;
	FILE *f;
	int ret;

	clean_result(&r);
	mpa_errors_reset();
	assert_int_equal(mpa_report_exit_code(&r), MPA_EXIT_CLEAN);

	/* errors.c logs each error: keep that out of the test output. */
	f = open_memstream(&log, &loglen);
	assert_non_null(f);
	assert_int_equal(rte_openlog_stream(f), 0);
	mpa_error_report(MPA_ERR_DOUBLE_FREE, "mpaudit_fwd_pool", 0x10068a300,
			 "apps/x/main.c:88", "apps/x/main.c:80");
	mpa_error_report(MPA_ERR_FOREIGN_FREE, "heap0", 0x1, "apps/y.c:1", NULL);
	assert_int_equal(mpa_report_exit_code(&r), MPA_EXIT_FOUND);

	out = print_summary(&r, &stats_service, &cfg_clean, &ret);
	assert_int_equal(ret, 0);
	assert_text(out,
		"mpaudit: report (exit) after 1 scans, threshold 5000 ms\n"
		"POOL                           SIZE     IN_USE       FREE      STUCK\n"
		"clean_pool                      512          0        512          0\n"
		"\n"
		"ERROR         ADDRESS            POOL_OR_HEAP             SITE\n"
		"double_free   0x10068a300        mpaudit_fwd_pool         apps/x/main.c:88\n"
		"foreign_free  0x1                heap0                    apps/y.c:1\n"
		"\n"
		"mpaudit: 0 stuck objects in 0 groups in 1 pools, 2 free errors: FREE ERRORS FOUND\n");
	free(out);

	/* Unknown strings are null in the JSON. */
	mpa_error_report(MPA_ERR_STRAY_FREE, NULL, 0xdead0000, NULL, NULL);
	/* Found by the scanner: no site, the lcore of the cache. */
	mpa_error_found(MPA_ERR_DOUBLE_FREE, "p", 0xbeef00, 2);
	rte_openlog_stream(NULL);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(log, "mpaudit: double_free of 0xbeef00 in p, in lcore 2's cache; "
			       "found among the pool's free objects, too late to keep out\n"));
	assert_non_null(strstr(log, "mpaudit: stray_free of 0xdead0000 in ?; kept out of the pool or heap\n"));
	free(log);
	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	assert_non_null(root);
	assert_json_key(root, "errors",
		"[{\"type\": \"double_free\", \"pool_or_heap\": \"mpaudit_fwd_pool\","
		"  \"address\": \"0x10068a300\", \"site\": \"apps/x/main.c:88\","
		"  \"first_site\": \"apps/x/main.c:80\", \"lcore\": null},"
		" {\"type\": \"foreign_free\", \"pool_or_heap\": \"heap0\","
		"  \"address\": \"0x1\", \"site\": \"apps/y.c:1\","
		"  \"first_site\": null, \"lcore\": null},"
		" {\"type\": \"stray_free\", \"pool_or_heap\": null,"
		"  \"address\": \"0xdead0000\", \"site\": null,"
		"  \"first_site\": null, \"lcore\": null},"
		" {\"type\": \"double_free\", \"pool_or_heap\": \"p\","
		"  \"address\": \"0xbeef00\", \"site\": null,"
		"  \"first_site\": null, \"lcore\": 2}]");
	assert_json_key(root, "summary",
		"{\"stop\": \"exit\", \"signal\": null, \"stuck\": 0, \"groups\": 0, \"ungrouped\": 0, \"errors\": 4,"
		" \"errors_listed\": 4, \"malloc_groups\": 0, \"malloc_leaks\": 0, \"exit_code\": 3}");
	assert_json_key(root, "stuck", "[]");
	json_decref(root);

	mpa_errors_reset();
	assert_int_equal(mpa_report_exit_code(&r), MPA_EXIT_CLEAN);
	root = mpa_report_json(&r, &stats_service, &cfg_clean);
	assert_json(root, clean_json);
	json_decref(root);
}

/* The file holds the same document as mpa_report_json(), and only it. */
static void
test_write_file(void **state)
{
	const char *dir = *state;
	char path[64], buf[64];
	struct mpa_group v[LEAKS_GROUPS];
	struct mpa_scan_result r;
	json_error_t err;
	json_t *got;
	FILE *f;

	snprintf(path, sizeof(path), "%s/report.json", dir);

	leaks_result(&r, v);
	assert_int_equal(mpa_report_write_file(path, &r, &stats_thread,
					       &cfg_leaks), 0);
	assert_dir(dir, "report.json\n");
	got = json_load_file(path, 0, &err);
	if (got == NULL)
		fail_msg("%s: line %d: %s", path, err.line, err.text);
	assert_json(got, leaks_json);
	json_decref(got);
	/* Indented, keys in report order. */
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "{\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "  \"tool\": \"mpaudit\",\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "  \"version\": \"test\",\n");
	fclose(f);

	/* Rewritten in place: the new document replaces the old one. */
	clean_result(&r);
	assert_int_equal(mpa_report_write_file(path, &r, &stats_service,
					       &cfg_clean), 0);
	assert_dir(dir, "report.json\n");
	got = json_load_file(path, 0, &err);
	if (got == NULL)
		fail_msg("%s: line %d: %s", path, err.line, err.text);
	assert_json(got, clean_json);
	json_decref(got);

	assert_int_equal(unlink(path), 0);
}

/* Failures return a negative errno and leave no file behind. */
static void
test_write_file_errors(void **state)
{
	const char *dir = *state;
	char path[64], want[160];
	char *log = NULL, *longp;
	size_t loglen = 0;
	struct mpa_scan_result r;
	struct stat sb;
	FILE *f;

	clean_result(&r);

	assert_int_equal(mpa_report_write_file(NULL, &r, &stats_service,
					       &cfg_clean), -EINVAL);
	assert_int_equal(mpa_report_write_file("", &r, &stats_service,
					       &cfg_clean), -EINVAL);

	/* Missing directory: the open fails, and says so in the log. */
	snprintf(path, sizeof(path), "%s/missing/report.json", dir);
	f = open_memstream(&log, &loglen);
	assert_non_null(f);
	assert_int_equal(rte_openlog_stream(f), 0);
	assert_int_equal(mpa_report_write_file(path, &r, &stats_service,
					       &cfg_clean), -ENOENT);
	rte_openlog_stream(NULL);
	assert_int_equal(fclose(f), 0);
	snprintf(want, sizeof(want),
		 "mpaudit: cannot write report %s: No such file or directory\n",
		 path);
	assert_string_equal(log, want);
	free(log);
	assert_dir(dir, "");

	/* The target is a directory: the rename fails, the .tmp is removed. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	log = NULL;
	f = open_memstream(&log, &loglen);
	assert_non_null(f);
	assert_int_equal(rte_openlog_stream(f), 0);
	assert_int_equal(mpa_report_write_file(path, &r, &stats_service,
					       &cfg_clean), -EISDIR);
	rte_openlog_stream(NULL);
	assert_int_equal(fclose(f), 0);
	snprintf(want, sizeof(want),
		 "mpaudit: cannot write report %s: Is a directory\n", path);
	assert_string_equal(log, want);
	free(log);
	assert_dir(dir, "sub\n");
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(rmdir(path), 0);

	/* Too long for the temporary name. */
	longp = malloc(8192);
	assert_non_null(longp);
	memset(longp, 'a', 8191);
	longp[0] = '/';
	longp[8191] = '\0';
	assert_int_equal(mpa_report_write_file(longp, &r, &stats_service,
					       &cfg_clean), -ENAMETOOLONG);
	free(longp);

	assert_dir(dir, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_site_file),
		cmocka_unit_test(test_holders),
		cmocka_unit_test(test_json_leaks),
		cmocka_unit_test(test_json_clean),
		cmocka_unit_test(test_json_empty),
		cmocka_unit_test(test_json_unresolved_group),
		cmocka_unit_test(test_ring_only_for_ring_state),
		cmocka_unit_test(test_pmd_on_rx_queue),
		cmocka_unit_test(test_json_mode),
		cmocka_unit_test(test_summary_leaks),
		cmocka_unit_test(test_json_history),
		cmocka_unit_test(test_summary_history),
		cmocka_unit_test(test_summary_clean),
		cmocka_unit_test(test_stop_named),
		cmocka_unit_test(test_log_new),
		cmocka_unit_test_teardown(test_free_errors, forget_errors),
		cmocka_unit_test_setup_teardown(test_write_file, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_write_file_errors,
						make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
