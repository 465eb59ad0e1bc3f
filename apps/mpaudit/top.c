/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * mpaudit top: a full-screen view of one audited process, refreshed every
 * interval: a header (program, pid, mode, scans, stuck, errors, verdict),
 * the heap's live bytes per kind, the pools (in use, free, drain rate,
 * time to exhaustion) and the largest stuck groups (page 0 of
 * /mpaudit/stuck, largest first), each clipped to the terminal.
 *
 * The tables are the ones the one-shot commands print (render.c), drawn
 * line by line, so a field looks the same in both. The drain rate is the
 * auditor's rate_per_s when it judges the pool growing, 0 when it judges
 * it not (its signed floor slope then is noise, and a negative one reads
 * as a refill), else the change of in_use between two refreshes; the time
 * to exhaustion its exhaust_s, else free objects over a positive drain
 * rate.
 *
 * The terminal is restored on every way out: q, an error (the message is
 * printed after), SIGINT and SIGTERM (a flag; getch() returns at the
 * latest after the interval).
 */

#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "cli.h"
#include "render.h"

/* Largest stuck groups asked for: one page of /mpaudit/stuck. */
#define TOP_STUCK_CMD "/mpaudit/stuck"
/* Rows of the screen kept for the stuck groups, at least. */
#define TOP_STUCK_MIN_ROWS 4

enum top_sort {
	SORT_IN_USE,
	SORT_FREE,
	SORT_DRAIN,
	SORT_EXHAUST,
	SORT_NAME,
	SORT_COUNT,
};

static const char *const sort_names[SORT_COUNT] = {
	[SORT_IN_USE] = "in use",
	[SORT_FREE] = "free",
	[SORT_DRAIN] = "drain rate",
	[SORT_EXHAUST] = "time to exhaustion",
	[SORT_NAME] = "name",
};

struct top {
	struct mpa_cli *c;
	char program[64];
	json_t *summary;
	json_t *pools;		/* array, with drain_per_s / exhaust_s */
	json_t *stuck;		/* page 0 reply */
	json_t *prev_in_use;	/* pool name -> in_use at the last refresh */
	double prev_t;
	enum top_sort sort;
	int verdict;
};

/* ---- data -------------------------------------------------------------- */

/* The auditor's rate: telemetry sends it as a decimal string ("%.3f"),
 * a JSON file may hold a number. NAN when absent (history too short). */
static double
auditor_rate(json_t *p)
{
	json_t *v = json_object_get(p, "rate_per_s");
	const char *s = json_string_value(v);
	char *end;
	double r;

	if (json_is_number(v))
		return json_number_value(v);
	if (s == NULL)
		return NAN;
	r = strtod(s, &end);
	return end != s && *end == '\0' ? r : NAN;
}

/*
 * Add drain_per_s and exhaust_s to each pool. The auditor's forecast wins
 * when it has one: it judged the trend over its whole history, and a pool
 * it does not call growing gets no time to exhaustion. Only while its
 * history is too short, the change since the last refresh stands in.
 */
static void
pool_rates(struct top *tp, json_t *arr, double t)
{
	double dt = t - tp->prev_t;
	json_t *p, *seen = json_object();
	size_t i;

	json_array_foreach(arr, i, p) {
		const char *name = json_string_value(json_object_get(p,
							       "name"));
		json_int_t in_use = mpa_cli_int(p, "in_use", 0);
		json_t *ex = json_object_get(p, "exhaust_s");
		json_t *growing = json_object_get(p, "growing");
		double r = auditor_rate(p);
		int from_auditor = !isnan(r);
		json_t *prev;

		if (name == NULL)
			continue;
		/* "growing": 0 in telemetry, false in a report file. */
		if (from_auditor && growing != NULL &&
		    !json_is_true(growing) && json_integer_value(growing) == 0)
			r = 0;
		prev = json_object_get(tp->prev_in_use, name);
		if (!from_auditor && json_is_integer(prev) && dt > 0)
			r = (in_use - json_integer_value(prev)) / dt;
		if (!isnan(r))
			json_object_set_new(p, "drain_per_s", json_real(r));
		if (json_is_number(ex))
			json_object_set(p, "exhaust_s", ex);
		else if (!from_auditor && !isnan(r) && r > 0)
			json_object_set_new(p, "exhaust_s", json_real(
				mpa_cli_int(p, "free", 0) / r));
		json_object_set_new(seen, name, json_integer(in_use));
	}
	json_decref(tp->prev_in_use);
	tp->prev_in_use = seen;
	tp->prev_t = t;
}

static int
refresh_data(struct top *tp)
{
	struct mpa_tele *t = tp->c->t;
	json_t *sum, *pools, *stuck;
	int v;

	if (mpa_tele_get(t, "/mpaudit/summary", &sum) != 0)
		return -1;
	/* Not mpa_cli_verdict(): nothing may print while curses has the
	 * screen; the message is printed once it is restored. */
	if (!json_is_integer(json_object_get(sum, "exit_code"))) {
		json_decref(sum);
		snprintf(t->err, sizeof(t->err), "/mpaudit/summary: reply lacks "
			 "field 'exit_code' (integer)");
		return -1;
	}
	v = json_integer_value(json_object_get(sum, "exit_code")) ==
		MPA_EXIT_FOUND ? MPA_EXIT_FOUND : MPA_EXIT_CLEAN;
	if (mpa_tele_pages(t, "/mpaudit/pools", "pools", &pools) != 0) {
		json_decref(sum);
		return -1;
	}
	if (mpa_tele_get(t, TOP_STUCK_CMD, &stuck) != 0) {
		json_decref(sum);
		json_decref(pools);
		return -1;
	}
	json_decref(tp->summary);
	json_decref(tp->pools);
	json_decref(tp->stuck);
	tp->summary = sum;
	tp->pools = json_incref(json_object_get(pools, "pools"));
	json_decref(pools);
	tp->stuck = stuck;
	tp->verdict = v;
	pool_rates(tp, tp->pools, mpa_cli_now_s());
	return 0;
}

/* ---- sorting ----------------------------------------------------------- */

static enum top_sort cmp_sort;

static double
num_or(json_t *p, const char *k, double dflt)
{
	json_t *v = json_object_get(p, k);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

static int
cmp_pool(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *nx = json_string_value(json_object_get(x, "name"));
	const char *ny = json_string_value(json_object_get(y, "name"));
	double dx = 0, dy = 0;

	switch (cmp_sort) {
	case SORT_IN_USE:	/* most used first */
		dx = -num_or(x, "in_use", 0);
		dy = -num_or(y, "in_use", 0);
		break;
	case SORT_FREE:		/* closest to empty first */
		dx = num_or(x, "free", 0);
		dy = num_or(y, "free", 0);
		break;
	case SORT_DRAIN:	/* fastest draining first */
		dx = -num_or(x, "drain_per_s", -INFINITY);
		dy = -num_or(y, "drain_per_s", -INFINITY);
		break;
	case SORT_EXHAUST:	/* soonest exhausted first, never last */
		dx = num_or(x, "exhaust_s", INFINITY);
		dy = num_or(y, "exhaust_s", INFINITY);
		break;
	default:
		break;
	}
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(nx ? nx : "", ny ? ny : "");
}

static json_t *
sorted_pools(struct top *tp)
{
	size_t n = json_array_size(tp->pools);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();

	if (v == NULL || out == NULL) {
		free(v);
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(tp->pools, i);
	cmp_sort = tp->sort;
	qsort(v, n, sizeof(*v), cmp_pool);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

/* ---- drawing ----------------------------------------------------------- */

/* Draw @text from row *@y on, one line per row, clipped to the screen and
 * to @max_rows rows. */
static void
draw_text(int *y, const char *text, int max_rows)
{
	const char *s = text;
	int rows = 0;

	while (*s != '\0' && *y < LINES && rows < max_rows) {
		size_t l = strcspn(s, "\n");

		mvaddnstr(*y, 0, s, (int)(l < (size_t)COLS ? l : (size_t)COLS));
		(*y)++;
		rows++;
		s += l;
		if (*s == '\n')
			s++;
	}
}

/* Render with @fn into a string. */
static char *
render_to_string(void (*fn)(struct top *tp, FILE *f), struct top *tp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fn(tp, f);
	fclose(f);
	return buf;
}

static void
pools_table(struct top *tp, FILE *f)
{
	static const struct mpa_col cols[] = {
		{ "POOL", "name", MPA_COL_LEFT, NULL },
		{ "SIZE", "size", MPA_COL_NUM, NULL },
		{ "IN_USE", "in_use", MPA_COL_NUM, NULL },
		{ "FREE", "free", MPA_COL_NUM, NULL },
		{ "STUCK", "stuck", MPA_COL_NUM, NULL },
		{ "DRAIN/S", "drain_per_s", MPA_COL_NUM, NULL },
		{ "EXHAUSTED_IN", "exhaust_s", MPA_COL_NUM, mpa_cell_seconds },
	};
	json_t *arr = sorted_pools(tp);

	if (arr == NULL)
		return;
	if (json_array_size(arr) == 0)
		fprintf(f, "no audited pool\n");
	else
		mpa_render_list(f, cols, 7, arr);
	json_decref(arr);
}

static void
stuck_table(struct top *tp, FILE *f)
{
	static const struct mpa_col cols[] = {
		{ "COUNT", "count", MPA_COL_NUM, NULL },
		{ "STATE", "state", MPA_COL_LEFT, NULL },
		{ "POOL", "pool", MPA_COL_LEFT, NULL },
		{ "LCORE", "lcore", MPA_COL_NUM, NULL },
		{ "PORT", "port", MPA_COL_NUM, NULL },
		{ "QUEUE", "queue", MPA_COL_NUM, NULL },
		{ "RING", "ring", MPA_COL_LEFT, NULL },
		{ "MAX_AGE", "max_age_ms", MPA_COL_NUM, mpa_cell_ms },
		{ "SITE", "site", MPA_COL_LEFT, mpa_cell_site },
	};
	json_t *obj = json_object_get(tp->stuck, "groups");
	json_t *arr = json_array();
	char key[24];

	if (arr == NULL)
		return;
	/* Page 0, in rank order. */
	for (size_t r = 0; r < json_object_size(obj); r++) {
		snprintf(key, sizeof(key), "%zu", r);
		if (json_object_get(obj, key) != NULL)
			json_array_append(arr, json_object_get(obj, key));
	}
	if (json_array_size(arr) == 0)
		fprintf(f, "no stuck objects\n");
	else
		mpa_render_list(f, cols, 9, arr);
	json_decref(arr);
}

static void
heap_text(json_t *heap, char *buf, size_t len)
{
	static const char *const kinds[] = { "libc", "rte_malloc" };
	size_t off;

	if (mpa_cli_int(heap, "active", 0) == 0) {
		const char *why = json_string_value(json_object_get(heap,
							      "disabled"));

		snprintf(buf, len, "heap: not tracked (%s)",
			 why ? why : "inactive");
		return;
	}
	off = snprintf(buf, len, "heap live:");
	for (int i = 0; i < 2 && off < len; i++) {
		json_t *k = json_object_get(heap, kinds[i]);
		char b[32];

		mpa_render_bytes((double)mpa_cli_int(k, "live_bytes", 0), b,
				 sizeof(b));
		off += snprintf(buf + off, len - off, "  %s %s in %lld",
				kinds[i], b,
				(long long)mpa_cli_int(k, "live_count", 0));
	}
}

static void
draw(struct top *tp)
{
	json_t *s = tp->summary;
	const char *mode = json_string_value(json_object_get(s, "mode"));
	char line[512];
	char *text;
	int y = 0;

	erase();
	snprintf(line, sizeof(line), "mpaudit top: %s pid %ld, %s  scans %lld"
		 "  stuck %lld in %lld groups  errors %lld  %s",
		 tp->program, tp->c->t->pid, mode ? mode : "-",
		 (long long)mpa_cli_int(s, "scans", 0),
		 (long long)mpa_cli_int(s, "stuck", 0),
		 (long long)mpa_cli_int(s, "groups", 0),
		 (long long)mpa_cli_int(s, "errors", 0),
		 tp->verdict == MPA_EXIT_FOUND ? "LEAKS FOUND" : "clean");
	attron(A_BOLD);
	draw_text(&y, line, 1);
	attroff(A_BOLD);
	heap_text(json_object_get(s, "heap"), line, sizeof(line));
	draw_text(&y, line, 1);
	snprintf(line, sizeof(line), "every %g s, pools sorted by %s   "
		 "[s] sort  [q] quit", tp->c->interval, sort_names[tp->sort]);
	draw_text(&y, line, 1);
	y++;
	text = render_to_string(pools_table, tp);
	if (text != NULL)
		draw_text(&y, text, LINES - y - TOP_STUCK_MIN_ROWS - 2);
	free(text);
	y++;
	attron(A_BOLD);
	draw_text(&y, "largest stuck groups", 1);
	attroff(A_BOLD);
	text = render_to_string(stuck_table, tp);
	if (text != NULL)
		draw_text(&y, text, LINES - y);
	free(text);
	refresh();
}

/* ---- loop -------------------------------------------------------------- */

/* Wait out the interval, handling keys. Returns 1 to quit. */
static int
wait_keys(struct top *tp)
{
	double end = mpa_cli_now_s() + tp->c->interval;

	while (!mpa_cli_stop) {
		double left = end - mpa_cli_now_s();
		int ch;

		if (left <= 0)
			return 0;
		timeout((int)ceil(left * 1000));
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			return 1;
		if (ch == 's' || ch == 'S') {
			tp->sort = (tp->sort + 1) % SORT_COUNT;
			draw(tp);
		} else if (ch == KEY_RESIZE) {
			draw(tp);
		}
	}
	return 1;
}

static void
top_free(struct top *tp)
{
	json_decref(tp->summary);
	json_decref(tp->pools);
	json_decref(tp->stuck);
	json_decref(tp->prev_in_use);
}

int
mpa_cmd_top(struct mpa_cli *c)
{
	struct top tp = { .c = c, .verdict = MPA_EXIT_CLEAN };
	int r, failed = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		mpa_cli_err("top needs a terminal; for logs use watch");
		return MPA_EXIT_FAIL;
	}
	r = mpa_cli_connect(c);
	if (r != 0)
		return r;
	/* Fail before taking the screen: the message stays readable. */
	if (refresh_data(&tp) != 0) {
		top_free(&tp);
		return mpa_cli_fail(c);
	}
	mpa_tele_comm(c->t->pid, tp.program, sizeof(tp.program));
	if (initscr() == NULL) {
		top_free(&tp);
		mpa_cli_err("cannot set up the terminal");
		return MPA_EXIT_FAIL;
	}
	mpa_cli_catch_stop();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	draw(&tp);
	while (!wait_keys(&tp)) {
		if (refresh_data(&tp) != 0) {
			failed = 1;
			break;
		}
		draw(&tp);
	}
	endwin();
	top_free(&tp);
	if (failed)
		return mpa_cli_fail(c);
	return tp.verdict;
}
