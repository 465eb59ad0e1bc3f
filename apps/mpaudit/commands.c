/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The one-shot commands of the mpaudit CLI: each asks the process one
 * /mpaudit/ command (every page of it), prints a table or the joined JSON,
 * and returns the exit status. The commands that report a verdict
 * (status, pools, stuck, errors) take it from /mpaudit/summary's
 * exit_code, so that the CLI and the application's own exit agree.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "render.h"

/* Stack frames printed under a heap group or change (the rest: --json). */
#define HEAP_FRAMES_SHOWN 6

/* ---- connection -------------------------------------------------------- */

int
mpa_cli_connect(struct mpa_cli *c)
{
	char err[MPA_TELE_ERR_MAX];
	int r = 0;

	if (c->socket != NULL)
		snprintf(c->path, sizeof(c->path), "%s", c->socket);
	else if (c->pid != 0)
		r = mpa_tele_find_pid(c->pid, c->path, sizeof(c->path), err,
				      sizeof(err));
	else
		r = mpa_tele_find_prefix(c->prefix ? c->prefix :
					 MPA_TELE_DEFAULT_PREFIX, c->path,
					 sizeof(c->path), err, sizeof(err));
	if (r == 0)
		c->t = mpa_tele_open(c->path, NULL, err, sizeof(err));
	if (r != 0 || c->t == NULL) {
		mpa_cli_err("%s", err);
		return MPA_EXIT_FAIL;
	}
	return 0;
}

int
mpa_cli_fail(struct mpa_cli *c)
{
	mpa_cli_err("%s", c->t->err);
	return MPA_EXIT_FAIL;
}

int
mpa_cli_verdict(json_t *summary)
{
	if (mpa_cli_check(summary, "/mpaudit/summary", "exit_code:i") != 0)
		return MPA_EXIT_FAIL;
	return json_integer_value(json_object_get(summary, "exit_code")) ==
		MPA_EXIT_FOUND ? MPA_EXIT_FOUND : MPA_EXIT_CLEAN;
}

int
mpa_cli_ask_verdict(struct mpa_cli *c)
{
	json_t *s;
	int v;

	if (mpa_tele_get(c->t, "/mpaudit/summary", &s) != 0)
		return mpa_cli_fail(c);
	v = mpa_cli_verdict(s);
	json_decref(s);
	return v;
}


/* ---- reply fields ------------------------------------------------------ */

static int
field_ok(json_t *v, char type)
{
	switch (type) {
	case 'i': return json_is_integer(v);
	case 'n': return json_is_number(v);
	case 's': return json_is_string(v);
	case 'a': return json_is_array(v);
	case 'o': return json_is_object(v);
	}
	return 0;
}

static const char *
type_name(char type)
{
	switch (type) {
	case 'i': return "integer";
	case 'n': return "number";
	case 's': return "string";
	case 'a': return "array";
	}
	return "object";
}

int
mpa_cli_check(json_t *o, const char *what, const char *spec)
{
	const char *f = spec;

	/* spec: "name:t name:t ..." with t one of i n s a o */
	while (f != NULL && *f != '\0') {
		size_t n = strcspn(f, ":");
		char key[64];
		char type;

		if (n >= sizeof(key) || f[n] != ':')
			break;
		memcpy(key, f, n);
		key[n] = '\0';
		type = f[n + 1];
		if (!field_ok(json_object_get(o, key), type)) {
			mpa_cli_err("%s: reply lacks field '%s' (%s)", what, key,
				    type_name(type));
			return -1;
		}
		f += n + 2;
		f += strspn(f, " ");
	}
	return 0;
}

/* Each entry of a joined list, as mpa_cli_check(). */
static int
check_entries(json_t *arr, const char *cmd, const char *spec)
{
	char what[128];
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		snprintf(what, sizeof(what), "%s: entry %zu", cmd, i);
		if (mpa_cli_check(e, what, spec) != 0)
			return -1;
	}
	return 0;
}

/*
 * Connect, ask @cmd (every page when @list_key), check the fields the
 * output needs (@need of the reply, @entry of each entry), return the
 * reply.
 */
static json_t *
fetch(struct mpa_cli *c, const char *cmd, const char *list_key,
      const char *need, const char *entry)
{
	json_t *v;
	int r;

	if (mpa_cli_connect(c) != 0)
		return NULL;
	if (list_key != NULL)
		r = mpa_tele_pages(c->t, cmd, list_key, &v);
	else
		r = mpa_tele_get(c->t, cmd, &v);
	if (r != 0) {
		mpa_cli_fail(c);
		return NULL;
	}
	if (mpa_cli_check(v, cmd, need) != 0 ||
	    (list_key != NULL && check_entries(json_object_get(v, list_key),
					       cmd, entry) != 0)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Print @v as JSON, or as @human says; free it; return @status, or
 * MPA_EXIT_FAIL if printing failed. */
static int
output(struct mpa_cli *c, json_t *v, void (*human)(json_t *v), int status)
{
	int r = 0;

	if (c->json)
		r = mpa_render_json(stdout, v);
	else
		human(v);
	json_decref(v);
	if (fflush(stdout) != 0 || r != 0) {
		mpa_cli_err("cannot write the output");
		return MPA_EXIT_FAIL;
	}
	return status;
}

/* A list, then the verdict of the summary. */
static int
list_with_verdict(struct mpa_cli *c, const char *cmd, const char *key,
		  const char *need, const char *entry, void (*human)(json_t *v))
{
	json_t *v = fetch(c, cmd, key, need, entry);
	int verdict;

	if (v == NULL)
		return MPA_EXIT_FAIL;
	verdict = mpa_cli_ask_verdict(c);
	if (verdict == MPA_EXIT_FAIL) {
		json_decref(v);
		return verdict;
	}
	return output(c, v, human, verdict);
}

json_int_t
mpa_cli_int(json_t *o, const char *k, json_int_t dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

volatile sig_atomic_t mpa_cli_stop;

static void
on_stop(int sig)
{
	(void)sig;
	mpa_cli_stop = 1;
}

void
mpa_cli_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

double
mpa_cli_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
mpa_cli_sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (!mpa_cli_stop &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* A field as text, "-" when absent. */
static const char *
text_of(json_t *o, const char *k, char *buf, size_t len)
{
	mpa_render_value(json_object_get(o, k), buf, len);
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
	return buf;
}

/* ---- list -------------------------------------------------------------- */

/* How long list waits for each reply of one process (not MPA_TELE_TIMEOUT_MS). */
#define MPA_LIST_PROBE_MS 2000

struct list_ctx {
	struct mpa_cli *c;
	json_t *arr;
};

static void
list_probe(json_t *e, const char *path)
{
	enum mpa_tele_state st;
	char err[MPA_TELE_ERR_MAX];
	char comm[64];
	struct mpa_tele *t;
	json_t *s;
	int a;

	t = mpa_tele_open(path, &st, err, sizeof(err));
	if (t == NULL) {
		json_object_set_new(e, "state", json_string(
			st == MPA_TELE_STALE ? "stale" : "error"));
		json_object_set_new(e, "mode", json_string(
			st == MPA_TELE_STALE ? "stale socket" : err));
		return;
	}
	/*
	 * list asks every process on the machine: one that is stuck (its
	 * auditor's lock held by a hung thread, say) must not hold up the
	 * rows of the others for the full reply timeout.
	 */
	mpa_tele_set_timeout(t, MPA_LIST_PROBE_MS);
	json_object_set_new(e, "state", json_string("live"));
	if (t->pid >= 0) {
		json_object_set_new(e, "pid", json_integer(t->pid));
		mpa_tele_comm(t->pid, comm, sizeof(comm));
		json_object_set_new(e, "program", json_string(comm));
	}
	a = mpa_tele_audited(t);
	if (a == 1 && mpa_tele_get(t, "/mpaudit/summary", &s) == 0) {
		json_t *m = json_object_get(s, "mode");

		json_object_set(e, "mode", json_is_string(m) ? m :
				json_string("unknown"));
		json_object_set(e, "exit_code", json_object_get(s,
				"exit_code"));
		json_decref(s);
	} else {
		json_object_set_new(e, "mode", json_string(a == 0 ?
			"not audited" : t->err));
	}
	mpa_tele_close(t);
}

static int
list_one(const char *path, const char *prefix, void *arg)
{
	struct list_ctx *lc = arg;
	json_t *e;

	if (lc->c->prefix != NULL && strcmp(lc->c->prefix, prefix) != 0)
		return 0;
	if (lc->c->socket != NULL && strcmp(lc->c->socket, path) != 0)
		return 0;
	e = json_object();
	if (e == NULL)
		return -1;
	json_object_set_new(e, "prefix", json_string(prefix));
	json_object_set_new(e, "socket", json_string(path));
	list_probe(e, path);
	if (lc->c->pid != 0 && mpa_cli_int(e, "pid", -1) != lc->c->pid) {
		json_decref(e);
		return 0;
	}
	json_array_append_new(lc->arr, e);
	return 0;
}

static void
list_human(json_t *arr)
{
	static const struct mpa_col cols[] = {
		{ "PREFIX", "prefix", MPA_COL_LEFT, NULL },
		{ "PID", "pid", MPA_COL_NUM, NULL },
		{ "PROGRAM", "program", MPA_COL_LEFT, NULL },
		{ "MODE", "mode", MPA_COL_LEFT, NULL },
		{ "SOCKET", "socket", MPA_COL_LEFT, NULL },
	};

	if (json_array_size(arr) == 0) {
		printf("no DPDK telemetry socket found\n");
		return;
	}
	mpa_render_list(stdout, cols, 5, arr);
}

int
mpa_cmd_list(struct mpa_cli *c)
{
	struct list_ctx lc = { .c = c, .arr = json_array() };

	/* A socket named on the command line may be anywhere. */
	if (lc.arr != NULL && c->socket != NULL) {
		if (list_one(c->socket, "-", &lc) != 0) {
			json_decref(lc.arr);
			lc.arr = NULL;
		}
	} else if (lc.arr != NULL && mpa_tele_foreach(list_one, &lc) != 0) {
		json_decref(lc.arr);
		lc.arr = NULL;
	}
	if (lc.arr == NULL) {
		mpa_cli_err("out of memory");
		json_decref(lc.arr);
		return MPA_EXIT_FAIL;
	}
	if (json_array_size(lc.arr) == 0 &&
	    (c->pid != 0 || c->prefix != NULL || c->socket != NULL)) {
		mpa_cli_err("no DPDK telemetry socket matches the target");
		json_decref(lc.arr);
		return MPA_EXIT_FAIL;
	}
	return output(c, lc.arr, list_human, MPA_EXIT_CLEAN);
}

/* ---- status ------------------------------------------------------------ */

static void
heap_line(json_t *heap, char *buf, size_t len)
{
	static const char *const kinds[] = { "libc", "rte_malloc" };
	size_t off = 0;

	if (!json_is_object(heap)) {
		snprintf(buf, len, "-");
		return;
	}
	if (mpa_cli_int(heap, "active", 0) == 0) {
		const char *why = json_string_value(json_object_get(heap,
							      "disabled"));

		snprintf(buf, len, "not tracked (%s)", why ? why : "inactive");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < 2 && off < len; i++) {
		json_t *k = json_object_get(heap, kinds[i]);
		char b[32];

		mpa_render_bytes((double)mpa_cli_int(k, "live_bytes", 0), b,
				 sizeof(b));
		off += snprintf(buf + off, len - off, "%s%s %lld live, %s",
				i ? "; " : "", kinds[i],
				(long long)mpa_cli_int(k, "live_count", 0), b);
	}
	if (mpa_cli_int(heap, "tracking", 0) == 0 && off < len)
		snprintf(buf + off, len - off, " (tracking paused)");
}

/* "12 (thread; last 0.210 ms, mean 0.305 ms, max 0.912 ms)": scan cost. */
static void
scan_line(json_t *s, char *buf, size_t len)
{
	json_t *sc = json_object_get(s, "scanner");
	json_int_t n = mpa_cli_int(s, "scans", 0);
	char mode[32];
	int off;

	off = snprintf(buf, len, "%lld", (long long)n);
	if (!json_is_object(sc) || n <= 0 || off < 0 || (size_t)off >= len)
		return;
	snprintf(buf + off, len - off, " (%s; last %.3f ms, mean %.3f ms, "
		 "max %.3f ms)",
		 text_of(sc, "mode", mode, sizeof(mode)),
		 (double)mpa_cli_int(sc, "last_ns", 0) / 1e6,
		 (double)mpa_cli_int(sc, "total_ns", 0) / 1e6 / (double)n,
		 (double)mpa_cli_int(sc, "max_ns", 0) / 1e6);
}

static void
status_human(json_t *s)
{
	char a[64], b[64], d[64], h[256];
	json_int_t code = mpa_cli_int(s, "exit_code", -1);

	printf("mode:       %s, %s (mpaudit %s)\n", text_of(s, "mode", a, 64),
	       mpa_cli_int(s, "enabled", 0) ? "auditing" : "auditor stopped",
	       text_of(s, "version", b, 64));
	printf("threshold:  %s ms\n", text_of(s, "stuck_ms", a, 64));
	scan_line(s, h, sizeof(h));
	printf("scans:      %s\n", h);
	printf("pools:      %s\n", text_of(s, "pools", a, 64));
	printf("stuck:      %s objects in %s groups (%s ungrouped)\n",
	       text_of(s, "stuck", a, 64), text_of(s, "groups", b, 64),
	       text_of(s, "ungrouped", d, 64));
	printf("errors:     %s free errors (%s listed)\n",
	       text_of(s, "errors", a, 64), text_of(s, "errors_listed", b, 64));
	heap_line(json_object_get(s, "heap"), h, sizeof(h));
	printf("heap:       %s\n", h);
	printf("verdict:    %s (exit %lld)\n", code == MPA_EXIT_FOUND ?
	       "LEAKS FOUND" : "clean", (long long)code);
}

int
mpa_cmd_status(struct mpa_cli *c)
{
	json_t *s = fetch(c, "/mpaudit/summary", NULL, MPA_CLI_SUMMARY_FIELDS,
			  NULL);
	int verdict;

	if (s == NULL)
		return MPA_EXIT_FAIL;
	verdict = mpa_cli_verdict(s);
	if (verdict == MPA_EXIT_FAIL) {
		json_decref(s);
		return verdict;
	}
	return output(c, s, status_human, verdict);
}

/* ---- pools, stuck, errors, sites --------------------------------------- */

static void
pools_human(json_t *v)
{
	static const struct mpa_col cols[] = {
		{ "POOL", "name", MPA_COL_LEFT, NULL },
		{ "SIZE", "size", MPA_COL_NUM, NULL },
		{ "IN_USE", "in_use", MPA_COL_NUM, NULL },
		{ "FREE", "free", MPA_COL_NUM, NULL },
		{ "STUCK", "stuck", MPA_COL_NUM, NULL },
		{ "DRIVER_HELD", "driver_held", MPA_COL_NUM, NULL },
		{ "RATE/S", "rate_per_s", MPA_COL_NUM | MPA_COL_OPTIONAL, NULL },
		{ "EXHAUST", "exhaust_s", MPA_COL_NUM | MPA_COL_OPTIONAL,
		  mpa_cell_seconds },
		/* A destroyed pool's last scan is kept; say so when there is one. */
		{ "DESTROYED", "destroyed", MPA_COL_NUM | MPA_COL_OPTIONAL |
		  MPA_COL_NONZERO, NULL },
	};

	mpa_render_list(stdout, cols, 9, json_object_get(v, "pools"));
}

int
mpa_cmd_pools(struct mpa_cli *c)
{
	return list_with_verdict(c, "/mpaudit/pools", "pools", "",
				 "name:s size:i in_use:i free:i stuck:i",
				 pools_human);
}

static void
stuck_human(json_t *v)
{
	static const struct mpa_col cols[] = {
		{ "COUNT", "count", MPA_COL_NUM, NULL },
		{ "NEW", "new", MPA_COL_NUM, NULL },
		{ "STATE", "state", MPA_COL_LEFT, NULL },
		{ "POOL", "pool", MPA_COL_LEFT, NULL },
		{ "LCORE", "lcore", MPA_COL_NUM, NULL },
		{ "PORT", "port", MPA_COL_NUM, NULL },
		{ "QUEUE", "queue", MPA_COL_NUM, NULL },
		{ "RING", "ring", MPA_COL_LEFT, NULL },
		{ "MAX_AGE", "max_age_ms", MPA_COL_NUM, mpa_cell_ms },
		{ "SITE", "site", MPA_COL_LEFT, mpa_cell_site },
	};
	json_t *g = json_object_get(v, "groups");
	char a[32], b[32], d[32];

	printf("%s stuck objects in %zu groups (%s ungrouped), scan %s\n",
	       text_of(v, "stuck", a, 32), json_array_size(g),
	       text_of(v, "ungrouped", b, 32), text_of(v, "scan", d, 32));
	if (json_array_size(g) > 0) {
		putchar('\n');
		mpa_render_list(stdout, cols, 10, g);
	}
}

/* Most previous holders telemetry gives per sample (h1 .. h4). */
#define PREV_MAX 4

/*
 * One previous holder from a telemetry sample's flat "hN_*" fields, as
 * the JSON report's sample_history says it (null where it does not
 * apply); NULL when the sample has no hN.
 */
static json_t *
prev_of(json_t *e, unsigned int n)
{
	static const char *const keys[] = { "state", "lcore", "port", "queue",
		"ring", "site", "age_ms" };
	json_t *o;
	char k[32];

	snprintf(k, sizeof(k), "h%u_state", n);
	if (!json_is_string(json_object_get(e, k)))
		return NULL;
	o = json_object();
	for (size_t i = 0; o != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v;

		snprintf(k, sizeof(k), "h%u_%s", n, keys[i]);
		v = json_object_get(e, k);
		json_object_set(o, keys[i], v != NULL ? v : json_null());
	}
	return o;
}

/*
 * Each group's "history" dict of samples (keyed by rank) becomes
 * "sample_history", an array in rank order of {address, previous: [...]},
 * most recent holder first: the JSON report's shape. @return 0 or -1.
 */
static int
history_arrays(json_t *groups)
{
	size_t gi;
	json_t *g;

	json_array_foreach(groups, gi, g) {
		json_t *h = json_object_get(g, "history"), *arr = json_array();
		char key[16];

		if (arr == NULL)
			return -1;
		for (size_t s = 0; json_is_object(h); s++) {
			json_t *e, *out, *prev;

			snprintf(key, sizeof(key), "%zu", s);
			e = json_object_get(h, key);
			if (!json_is_object(e))
				break;
			out = json_object();
			prev = json_array();
			if (out == NULL || prev == NULL) {
				json_decref(out);
				json_decref(prev);
				json_decref(arr);
				return -1;
			}
			json_object_set(out, "address", json_object_get(e, "address"));
			for (unsigned int n = 1; n <= PREV_MAX; n++) {
				json_t *p = prev_of(e, n);

				if (p == NULL)
					break;
				json_array_append_new(prev, p);
			}
			json_object_set_new(out, "previous", prev);
			json_array_append_new(arr, out);
		}
		json_object_del(g, "history");
		if (h != NULL)
			json_object_set_new(g, "sample_history", arr);
		else
			json_decref(arr);
	}
	return 0;
}

/* "rx port 0 queue 0 lcore 1 at FILE:LINE", as the report's summary says. */
static void
holder_words(json_t *o, char *buf, size_t len)
{
	const char *st = json_string_value(json_object_get(o, "state"));
	const char *ring = json_string_value(json_object_get(o, "ring"));
	const char *site = json_string_value(json_object_get(o, "site"));
	json_t *port = json_object_get(o, "port");
	json_t *lcore = json_object_get(o, "lcore");
	size_t n = (size_t)snprintf(buf, len, "%s", st != NULL ? st : "?");

	if (ring != NULL && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s", ring);
	if (json_is_integer(port) && n < len)
		n += (size_t)snprintf(buf + n, len - n, " port %lld queue %lld",
				      (long long)json_integer_value(port),
				      (long long)mpa_cli_int(o, "queue", -1));
	if (json_is_integer(lcore) && n < len)
		n += (size_t)snprintf(buf + n, len - n, " lcore %lld",
				      (long long)json_integer_value(lcore));
	if (site != NULL && n < len)
		snprintf(buf + n, len - n, " at %s", site);
}

/* The samples' paths, oldest holder first, ending at the group's. */
static void
history_human(json_t *v)
{
	json_t *groups = json_object_get(v, "groups"), *g;
	char w[512], age[32];
	size_t gi;

	stuck_human(v);
	if (mpa_cli_int(v, "history", 0) == 0) {
		printf("\nno history: the process keeps none (MPAUDIT_HISTORY=0)\n");
		return;
	}
	if (json_array_size(groups) == 0)
		return;
	printf("\nhow the samples got there (MPAUDIT_HISTORY=%lld): previous "
	       "holders, oldest first, age at the scan\n",
	       (long long)mpa_cli_int(v, "history", 0));
	json_array_foreach(groups, gi, g) {
		json_t *samples = json_object_get(g, "sample_history"), *e;
		size_t si;

		holder_words(g, w, sizeof(w));
		printf("\n%lld %s\n", (long long)mpa_cli_int(g, "count", 0), w);
		json_array_foreach(samples, si, e) {
			json_t *prev = json_object_get(e, "previous");
			const char *a = json_string_value(json_object_get(e,
								  "address"));

			printf("  %s: ", a != NULL ? a : "?");
			if (json_array_size(prev) == 0)
				printf("(no earlier holder known) -> ");
			for (size_t j = json_array_size(prev); j-- > 0;) {
				json_t *p = json_array_get(prev, j);

				holder_words(p, w, sizeof(w));
				mpa_cell_ms(p, "age_ms", age, sizeof(age));
				printf("%s (%s) -> ", w, age[0] ? age : "-");
			}
			holder_words(g, w, sizeof(w));
			printf("%s\n", w);
		}
	}
}

int
mpa_cmd_stuck(struct mpa_cli *c)
{
	json_t *v;
	int verdict;

	if (!c->history)
		return list_with_verdict(c, "/mpaudit/stuck", "groups",
					 "stuck:i", "pool:s state:s count:i",
					 stuck_human);
	v = fetch(c, "/mpaudit/stuck,history", "groups", "stuck:i history:i",
		  "pool:s state:s count:i");
	if (v == NULL)
		return MPA_EXIT_FAIL;
	if (history_arrays(json_object_get(v, "groups")) != 0) {
		json_decref(v);
		mpa_cli_err("out of memory");
		return MPA_EXIT_FAIL;
	}
	verdict = mpa_cli_ask_verdict(c);
	if (verdict == MPA_EXIT_FAIL) {
		json_decref(v);
		return verdict;
	}
	return output(c, v, history_human, verdict);
}

static void
errors_human(json_t *v)
{
	static const struct mpa_col cols[] = {
		{ "TYPE", "type", MPA_COL_LEFT, NULL },
		{ "POOL_OR_HEAP", "pool_or_heap", MPA_COL_LEFT, NULL },
		{ "ADDRESS", "address", MPA_COL_LEFT, NULL },
		{ "LCORE", "lcore", MPA_COL_NUM, NULL },
		{ "SITE", "site", MPA_COL_LEFT, NULL },
		{ "FIRST_SITE", "first_site", MPA_COL_LEFT, NULL },
	};
	json_t *e = json_object_get(v, "errors");
	char a[32], b[32];

	printf("%s free errors recorded, %s not listed\n",
	       text_of(v, "recorded", a, 32), text_of(v, "not_listed", b, 32));
	if (json_array_size(e) > 0) {
		putchar('\n');
		mpa_render_list(stdout, cols, 6, e);
	}
}

int
mpa_cmd_errors(struct mpa_cli *c)
{
	return list_with_verdict(c, "/mpaudit/errors", "errors", "recorded:i",
				 "type:s", errors_human);
}

static void
sites_human(json_t *v)
{
	static const struct mpa_col cols[] = {
		{ "HELD", "held", MPA_COL_NUM, NULL },
		{ "STUCK", "stuck", MPA_COL_NUM, NULL },
		{ "STATE", "state", MPA_COL_LEFT, NULL },
		{ "PORT", "port", MPA_COL_NUM, NULL },
		{ "QUEUE", "queue", MPA_COL_NUM, NULL },
		{ "RING", "ring", MPA_COL_LEFT, NULL },
		{ "MAX_AGE", "max_age_ms", MPA_COL_NUM, mpa_cell_ms },
		{ "SITE", "site", MPA_COL_LEFT, mpa_cell_site },
	};
	json_t *s = json_object_get(v, "sites");
	char a[32], b[32];

	printf("%s objects held at %zu sites, scan %s\n",
	       text_of(v, "held", a, 32), json_array_size(s),
	       text_of(v, "scan", b, 32));
	if (json_array_size(s) > 0) {
		putchar('\n');
		mpa_render_list(stdout, cols, 8, s);
	}
}

int
mpa_cmd_sites(struct mpa_cli *c)
{
	return list_with_verdict(c, "/mpaudit/sites", "sites", "held:i",
				 "state:s held:i", sites_human);
}

/* ---- heap, snapshot, diff ---------------------------------------------- */

/*
 * A table of heap entries (groups or changes): the columns of @cols, the
 * innermost frame in the last column, the next frames under it.
 */
static void
stack_table(const struct mpa_col *cols, int ncols, json_t *arr)
{
	const char *titles[MPA_TABLE_COLS_MAX] = { NULL };
	int flags[MPA_TABLE_COLS_MAX] = { 0 };
	struct mpa_table *t;
	size_t i;
	json_t *e;

	if (ncols + 1 > MPA_TABLE_COLS_MAX)
		return;
	for (int k = 0; k < ncols; k++) {
		titles[k] = cols[k].title;
		flags[k] = cols[k].flags;
	}
	titles[ncols] = "STACK (innermost first)";
	flags[ncols] = MPA_COL_LEFT;
	t = mpa_table_new(ncols + 1, titles, flags);
	if (t == NULL)
		return;
	json_array_foreach(arr, i, e) {
		json_t *st = json_object_get(e, "stack");
		char buf[512];

		if (mpa_table_row(t) != 0)
			break;
		for (int k = 0; k < ncols; k++) {
			if (cols[k].fmt != NULL)
				cols[k].fmt(e, cols[k].key, buf, sizeof(buf));
			else
				mpa_render_value(json_object_get(e,
						 cols[k].key), buf,
						 sizeof(buf));
			mpa_table_cell(t, k, buf);
		}
		mpa_table_cell(t, ncols, json_string_value(
			json_array_get(st, 0)));
		for (size_t f = 1; f < json_array_size(st) &&
		     f < HEAP_FRAMES_SHOWN; f++)
			mpa_table_more(t, json_string_value(
				json_array_get(st, f)) ?: "?");
		if (mpa_cli_int(e, "frames", 0) > (json_int_t)json_array_size(st)) {
			snprintf(buf, sizeof(buf), "... (%lld frames)",
				 (long long)mpa_cli_int(e, "frames", 0));
			mpa_table_more(t, buf);
		}
	}
	mpa_table_print(t, stdout);
	mpa_table_free(t);
}

static void
bytes_of(json_t *o, const char *k, char *buf, size_t len)
{
	json_t *v = json_object_get(o, k);

	if (json_is_number(v))
		mpa_render_bytes(json_number_value(v), buf, len);
	else
		snprintf(buf, len, "-");
}

static void
heap_human(json_t *v)
{
	static const struct mpa_col cols[] = {
		{ "KIND", "kind", MPA_COL_LEFT, NULL },
		{ "BYTES", "bytes", MPA_COL_NUM, NULL },
		{ "COUNT", "count", MPA_COL_NUM, NULL },
		{ "MAX_AGE", "max_age_ms", MPA_COL_NUM, mpa_cell_ms },
		{ "TYPE", "type", MPA_COL_LEFT, NULL },
	};
	json_t *g = json_object_get(v, "groups");
	char h[256], a[32], b[32], d[512];

	heap_line(v, h, sizeof(h));
	printf("heap: %s\n", h);
	mpa_render_value(json_object_get(v, "snapshots"), d, sizeof(d));
	printf("snapshots: %s\n", d[0] ? d : "none");
	bytes_of(v, "total_bytes", a, sizeof(a));
	printf("outstanding beyond %s ms: %s in %s allocations, %zu stacks\n",
	       text_of(v, "min_age_ms", b, 32), a,
	       text_of(v, "total_count", d, 32), json_array_size(g));
	if (json_array_size(g) > 0) {
		putchar('\n');
		stack_table(cols, 5, g);
	}
}

int
mpa_cmd_heap(struct mpa_cli *c)
{
	json_t *v = fetch(c, "/mpaudit/heap", "groups", "active:i",
			  "kind:s bytes:i count:i stack:a");

	if (v == NULL)
		return MPA_EXIT_FAIL;
	return output(c, v, heap_human, MPA_EXIT_CLEAN);
}

/* A snapshot name goes into a command line: a comma would make it two
 * parameters. The process checks the rest. */
static int
name_ok(const char *what, const char *name)
{
	if (name[0] == '\0' || strchr(name, ',') != NULL) {
		mpa_cli_err("bad snapshot name for %s: '%s'", what, name);
		return 0;
	}
	return 1;
}

static void
snapshot_human(json_t *v)
{
	char a[64], b[512];

	printf("snapshot %s taken; kept: %s\n", text_of(v, "snapshot", a, 64),
	       text_of(v, "snapshots", b, sizeof(b)));
}

int
mpa_cmd_snapshot(struct mpa_cli *c)
{
	char cmd[256];
	json_t *v;

	if (!name_ok("snapshot", c->args[0]))
		return MPA_EXIT_USAGE;
	snprintf(cmd, sizeof(cmd), "/mpaudit/heap_snapshot,%s", c->args[0]);
	v = fetch(c, cmd, NULL, "snapshot:s snapshots:a", NULL);
	if (v == NULL)
		return MPA_EXIT_FAIL;
	return output(c, v, snapshot_human, MPA_EXIT_CLEAN);
}

static void
diff_human(json_t *v)
{
	static const struct mpa_col cols[] = {
		{ "CHANGE", "change", MPA_COL_LEFT, NULL },
		{ "KIND", "kind", MPA_COL_LEFT, NULL },
		{ "BYTES_FROM", "bytes_from", MPA_COL_NUM, NULL },
		{ "BYTES_TO", "bytes_to", MPA_COL_NUM, NULL },
		{ "DELTA", "bytes_delta", MPA_COL_NUM, NULL },
		{ "COUNT_FROM", "count_from", MPA_COL_NUM, NULL },
		{ "COUNT_TO", "count_to", MPA_COL_NUM, NULL },
	};
	json_t *ch = json_object_get(v, "changes");
	char f[64], t[64], n[5][32], gb[32], sb[32];
	static const char *const k[] = { "new", "gone", "grown", "shrunk",
		"same" };

	for (int i = 0; i < 5; i++)
		text_of(v, k[i], n[i], 32);
	bytes_of(v, "grown_bytes", gb, sizeof(gb));
	bytes_of(v, "shrunk_bytes", sb, sizeof(sb));
	printf("from %s to %s: %s new, %s gone, %s grown, %s shrunk, %s same "
	       "stacks; %s more, %s less\n", text_of(v, "from", f, 64),
	       text_of(v, "to", t, 64), n[0], n[1], n[2], n[3], n[4], gb, sb);
	if (json_array_size(ch) > 0) {
		putchar('\n');
		stack_table(cols, 7, ch);
	}
}

int
mpa_cmd_diff(struct mpa_cli *c)
{
	const char *to = c->nargs > 1 ? c->args[1] : "now";
	char cmd[256];
	json_t *v;

	if (!name_ok("diff FROM", c->args[0]) || !name_ok("diff TO", to))
		return MPA_EXIT_USAGE;
	snprintf(cmd, sizeof(cmd), "/mpaudit/heap_diff,%s,%s", c->args[0], to);
	v = fetch(c, cmd, "changes", "from:s to:s",
		  "kind:s change:s stack:a");
	if (v == NULL)
		return MPA_EXIT_FAIL;
	return output(c, v, diff_human, MPA_EXIT_CLEAN);
}

/* ---- config, dump ------------------------------------------------------ */

static void
object_human(json_t *v)
{
	mpa_render_object(stdout, v, 0);
}

int
mpa_cmd_config(struct mpa_cli *c)
{
	char cmd[128] = "/mpaudit/config";
	size_t off = strlen(cmd);
	json_t *v;

	if (c->stuck_ms >= 0)
		off += snprintf(cmd + off, sizeof(cmd) - off, ",stuck_ms=%ld",
				c->stuck_ms);
	if (c->scan_ms >= 0)
		snprintf(cmd + off, sizeof(cmd) - off, ",scan_ms=%ld",
			 c->scan_ms);
	v = fetch(c, cmd, NULL, "stuck_ms:i scan_ms:i", NULL);
	/* A value the process refuses (out of range) is the user's error,
	 * like a malformed one the CLI itself refuses. */
	if (v == NULL && c->t != NULL &&
	    (strcmp(c->t->code, "EINVAL") == 0 ||
	     strcmp(c->t->code, "ERANGE") == 0))
		return MPA_EXIT_USAGE;
	if (v == NULL)
		return MPA_EXIT_FAIL;
	return output(c, v, object_human, MPA_EXIT_CLEAN);
}

static void
dump_human(json_t *v)
{
	char a[512], b[32];

	printf("report written to %s (scan %s)\n", text_of(v, "path", a, 512),
	       text_of(v, "scan", b, 32));
}

int
mpa_cmd_dump(struct mpa_cli *c)
{
	json_t *v = fetch(c, "/mpaudit/dump", NULL, "path:s", NULL);

	if (v == NULL)
		return MPA_EXIT_FAIL;
	return output(c, v, dump_human, MPA_EXIT_CLEAN);
}

/* ---- pcap -------------------------------------------------------------- */

static void
pcap_human(json_t *v)
{
	char path[512], side[512], n[32], b[32], t[32];

	printf("%s packets (%s bytes, %s truncated) written to %s\n"
	       "whose each packet is: %s\n", text_of(v, "packets", n, 32),
	       text_of(v, "bytes", b, 32), text_of(v, "truncated", t, 32),
	       text_of(v, "path", path, 512), text_of(v, "sidecar", side, 512));
}

/*
 * The capture is written by the process, into its MPAUDIT_PCAP_DIR: the
 * CLI only names it. Exit 3 when it holds packets (stuck mbufs exist).
 */
int
mpa_cmd_pcap(struct mpa_cli *c)
{
	char cmd[128];
	json_t *v;

	if (!name_ok("pcap NAME", c->args[0]))
		return MPA_EXIT_USAGE;
	if (c->args[0][0] == '.' || strstr(c->args[0], "..") != NULL) {
		mpa_cli_err("pcap NAME: '%s' may not start with '.' or hold '..'",
			    c->args[0]);
		return MPA_EXIT_USAGE;
	}
	snprintf(cmd, sizeof(cmd), "/mpaudit/pcap,%s", c->args[0]);
	v = fetch(c, cmd, NULL, "path:s sidecar:s packets:i bytes:i", NULL);
	if (v == NULL)
		return MPA_EXIT_FAIL;
	return output(c, v, pcap_human,
		      json_integer_value(json_object_get(v, "packets")) > 0 ?
		      MPA_EXIT_FOUND : MPA_EXIT_CLEAN);
}
