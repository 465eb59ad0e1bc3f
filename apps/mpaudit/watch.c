/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * mpaudit watch: one line per interval, for soak logs. Each line is
 * flushed as it is printed, so `watch >>log` is current even if killed.
 * Lines are scheduled on the monotonic clock from the start (no drift);
 * SIGINT/SIGTERM end the watch after the current line, with the verdict
 * of the last one.
 */

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "render.h"


/* What one line shows. */
struct sample {
	json_int_t scans, in_use, stuck, errors, heap;	/* heap -1: none */
	int verdict;
};

static int
take_sample(struct mpa_cli *c, struct sample *s)
{
	json_t *sum, *pools, *p, *heap;
	size_t i;

	if (mpa_tele_get(c->t, "/mpaudit/summary", &sum) != 0)
		return mpa_cli_fail(c);
	if (mpa_cli_check(sum, "/mpaudit/summary",
			  MPA_CLI_SUMMARY_FIELDS) != 0) {
		json_decref(sum);
		return MPA_EXIT_FAIL;
	}
	s->verdict = mpa_cli_verdict(sum);
	if (s->verdict == MPA_EXIT_FAIL) {
		json_decref(sum);
		return MPA_EXIT_FAIL;
	}
	s->scans = mpa_cli_int(sum, "scans", 0);
	s->stuck = mpa_cli_int(sum, "stuck", 0);
	s->errors = mpa_cli_int(sum, "errors", 0);
	heap = json_object_get(sum, "heap");
	s->heap = -1;
	if (mpa_cli_int(heap, "active", 0))
		s->heap = mpa_cli_int(json_object_get(heap, "libc"), "live_bytes", 0) +
			mpa_cli_int(json_object_get(heap, "rte_malloc"),
			       "live_bytes", 0);
	json_decref(sum);
	if (mpa_tele_pages(c->t, "/mpaudit/pools", "pools", &pools) != 0)
		return mpa_cli_fail(c);
	/* A destroyed pool's last scan is history, not memory in use. */
	s->in_use = 0;
	json_array_foreach(json_object_get(pools, "pools"), i, p) {
		if (!mpa_cli_int(p, "destroyed", 0))
			s->in_use += mpa_cli_int(p, "in_use", 0);
	}
	json_decref(pools);
	return 0;
}

static void
clock_text(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

static void
print_header(void)
{
	printf("%-8s  %8s  %10s  %8s  %8s  %6s  %6s  %10s\n", "TIME", "SCANS",
	       "IN_USE", "DELTA", "STUCK", "NEW", "ERRORS", "HEAP_LIVE");
}

static void
print_human(const struct sample *s, const struct sample *prev)
{
	char tm[16], delta[24] = "-", nw[24] = "-", heap[24] = "-";

	clock_text(tm, sizeof(tm));
	if (prev != NULL) {
		snprintf(delta, sizeof(delta), "%+lld",
			 (long long)(s->in_use - prev->in_use));
		snprintf(nw, sizeof(nw), "%lld", (long long)
			 (s->stuck > prev->stuck ? s->stuck - prev->stuck : 0));
	}
	if (s->heap >= 0)
		snprintf(heap, sizeof(heap), "%lld", (long long)s->heap);
	printf("%-8s  %8lld  %10lld  %8s  %8lld  %6s  %6lld  %10s\n", tm,
	       (long long)s->scans, (long long)s->in_use, delta,
	       (long long)s->stuck, nw, (long long)s->errors, heap);
}

static int
print_json(const struct sample *s, const struct sample *prev)
{
	char tm[16];
	json_t *o;
	int r;

	clock_text(tm, sizeof(tm));
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "time", tm,
		      "scans", s->scans, "in_use", s->in_use, "stuck",
		      s->stuck, "errors", s->errors, "exit_code",
		      (json_int_t)s->verdict);
	if (o == NULL)
		return -1;
	json_object_set_new(o, "delta", prev ? json_integer(s->in_use -
			    prev->in_use) : json_null());
	json_object_set_new(o, "new_stuck", prev ? json_integer(
		s->stuck > prev->stuck ? s->stuck - prev->stuck : 0) :
		json_null());
	json_object_set_new(o, "heap_live_bytes", s->heap >= 0 ?
			    json_integer(s->heap) : json_null());
	/* One document per line: JSON Lines, for a log. */
	r = json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return r;
}

int
mpa_cmd_watch(struct mpa_cli *c)
{
	struct sample s = { .verdict = MPA_EXIT_CLEAN }, prev = s;
	double start;
	long n = 0;
	int r;

	r = mpa_cli_connect(c);
	if (r != 0)
		return r;
	mpa_cli_catch_stop();
	if (!c->json)
		print_header();
	start = mpa_cli_now_s();
	while (!mpa_cli_stop) {
		r = take_sample(c, &s);
		if (r != 0)
			return r;
		if (c->json)
			print_json(&s, n ? &prev : NULL);
		else
			print_human(&s, n ? &prev : NULL);
		if (fflush(stdout) != 0) {
			mpa_cli_err("cannot write the output");
			return MPA_EXIT_FAIL;
		}
		prev = s;
		if (++n == c->count)
			break;
		mpa_cli_sleep_until(start + n * c->interval);
	}
	return s.verdict;
}
