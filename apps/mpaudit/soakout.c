/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The data files of mpaudit soak (soak.h, docs/soak.md): samples.csv
 * and samples.json (the time series), junit.xml (one test case per
 * check) and soak.json (the result, also what --json prints). Each is
 * written to a temporary name and renamed, so a reader never sees half
 * a file. report.html is soakhtml.c's.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "soak.h"

#define CSV_HEADER "time_s,pool,size,in_use,stuck,driver_held,rate_per_s," \
	"gen_mpps,dut_mpps,heap_libc_bytes,heap_rte_malloc_bytes"

static const char *const end_names[] = {
	[MPA_SOAK_COMPLETED] = "completed",
	[MPA_SOAK_INTERRUPTED] = "interrupted",
	[MPA_SOAK_GEN_DIED] = "generator_died",
	[MPA_SOAK_DUT_DIED] = "dut_died",
	[MPA_SOAK_FAILED] = "failed",
};

static json_t *
num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(round(v * 1e3) / 1e3);
}

static json_t *
long_or_null(long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *
str_or_null(const char *v)
{
	return v != NULL && v[0] != '\0' ? json_string(v) : json_null();
}

static json_t *
proc_json(const struct mpa_soak_proc *p, const char *prefix)
{
	char st[160];

	if (p->pid <= 0)
		return json_pack("{s:s?, s:n, s:n, s:n}", "prefix",
				 prefix[0] ? prefix : NULL, "command", "log",
				 "exit");
	mpa_soak_rig_status(p, st, sizeof(st));
	return json_pack("{s:s?, s:s, s:s, s:s, s:o}", "prefix",
			 prefix[0] ? prefix : NULL, "command", p->cmdline,
			 "log", p->log, "exit", st, "exit_status",
			 p->exited && WIFEXITED(p->status) ?
			 json_integer(WEXITSTATUS(p->status)) : json_null());
}

double
mpa_soak_mean_mpps(const struct mpa_soak *s, int gen)
{
	double sum = 0;
	int n = 0;

	for (int i = 0; i < s->nb_samples; i++) {
		double v = gen ? s->samples[i].gen_mpps :
			s->samples[i].dut_mpps;

		if (!isnan(v) && s->samples[i].t_s >= s->o.warmup_s) {
			sum += v;
			n++;
		}
	}
	return n ? sum / n : NAN;
}

json_t *
mpa_soak_result(const struct mpa_soak *s)
{
	const struct mpa_soak_verdict *v = &s->v;
	json_t *r, *a;

	r = json_pack("{s:s, s:s, s:i, s:s, s:o, s:f, s:f, s:f, s:f, s:f, "
		      "s:f, s:i}", "tool", "mpaudit soak", "verdict", v->word,
		      "exit_code", v->exit_code, "status", end_names[s->end],
		      "error", str_or_null(s->error), "duration_s",
		      s->o.duration_s, "elapsed_s", round(s->end_t_s * 1e3) / 1e3,
		      "interval_s", s->o.interval_s, "warmup_s", s->o.warmup_s,
		      "tolerance", s->o.tolerance, "window_s",
		      round(v->window_s * 1e3) / 1e3, "samples", s->nb_samples);
	if (r == NULL)
		return NULL;
	a = json_array();
	for (int i = 0; i < v->nb_reasons; i++)
		json_array_append_new(a, json_string(v->reasons[i]));
	json_object_set_new(r, "reasons", a);
	json_object_set_new(r, "failed", json_pack("{s:b, s:b, s:b, s:b}",
		"trend", v->trend_failed, "stuck", v->stuck_failed, "errors",
		v->errors_failed, "heap", v->heap_failed));
	json_object_set_new(r, "stuck_max", json_integer(v->stuck_max));
	json_object_set_new(r, "errors_max", json_integer(v->errors_max));
	json_object_set_new(r, "dut", proc_json(&s->dut, s->dut_prefix));
	json_object_set_new(r, "generator", proc_json(&s->gen, s->gen_prefix));
	json_object_set_new(r, "eal_mem", json_string(s->mem));
	json_object_set_new(r, "gen_mpps_mean",
			    num_or_null(mpa_soak_mean_mpps(s, 1)));
	json_object_set_new(r, "dut_mpps_mean",
			    num_or_null(mpa_soak_mean_mpps(s, 0)));
	a = json_array();
	for (int i = 0; i < v->nb_pools; i++) {
		const struct mpa_soak_pool_verdict *p = &v->pools[i];

		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, "
			"s:I, s:o, s:o, s:f, s:b}", "name", p->name, "size",
			(json_int_t)p->size, "in_use_first",
			(json_int_t)p->in_use_first, "in_use_last",
			(json_int_t)p->in_use_last, "floor_first",
			(json_int_t)p->floor_first, "floor_last",
			(json_int_t)p->floor_last, "rate_per_s",
			num_or_null(p->rate_per_s), "growth",
			num_or_null(p->growth), "limit", p->limit, "failed",
			p->failed));
	}
	json_object_set_new(r, "pools", a);
	a = json_array();
	for (int i = 0; i < s->nb_holders; i++) {
		const struct mpa_soak_holder *h = &s->holders[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:o, "
			"s:o, s:o, s:o, s:I, s:I, s:f, s:b}", "pool", h->pool,
			"state", h->state, "lcore", long_or_null(h->lcore),
			"port", long_or_null(h->port), "queue",
			long_or_null(h->queue), "ring", str_or_null(h->ring),
			"site", str_or_null(h->site), "function",
			str_or_null(h->function), "count", (json_int_t)h->count,
			"max_age_ms", (json_int_t)h->max_age_ms, "first_seen_s",
			round(h->first_s * 1e3) / 1e3, "live", h->live));
	}
	json_object_set_new(r, "holders", a);
	a = json_array();
	for (int i = 0; i < s->nb_stacks; i++) {
		const struct mpa_soak_stack *k = &s->stacks[i];

		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, "
			"s:f, s:i, s:i, s:s}", "kind", k->kind, "stack_id",
			(json_int_t)k->id, "bytes_first",
			(json_int_t)k->bytes_first, "bytes_last",
			(json_int_t)k->bytes_last, "count",
			(json_int_t)k->count_last, "first_seen_s",
			round(k->first_s * 1e3) / 1e3, "grew_steps",
			k->grew_steps, "steps", k->steps, "stack", k->stack));
	}
	json_object_set_new(r, "heap_stacks", a);
	json_object_set_new(r, "report", s->have_report ?
			    json_string("report.json") : json_null());
	return r;
}

/* ---- files --------------------------------------------------------------- */

struct out {
	char tmp[4200], path[4200];
	FILE *f;
};

static FILE *
out_open(const struct mpa_soak *s, struct out *o, const char *name)
{
	snprintf(o->path, sizeof(o->path), "%s/%s", s->o.out, name);
	snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.tmp", s->o.out, name);
	o->f = fopen(o->tmp, "w");
	if (o->f == NULL)
		mpa_cli_err("soak: cannot write %s: %s", o->tmp,
			    strerror(errno));
	return o->f;
}

static int
out_close(struct out *o)
{
	int bad = ferror(o->f);

	if (fclose(o->f) != 0 || bad || rename(o->tmp, o->path) != 0) {
		mpa_cli_err("soak: cannot write %s: %s", o->path,
			    strerror(errno));
		unlink(o->tmp);
		return -1;
	}
	return 0;
}

static void
csv_num(FILE *f, double v)
{
	if (!isnan(v))
		fprintf(f, "%.3f", v);
}

static void
csv_long(FILE *f, long v)
{
	if (v >= 0)
		fprintf(f, "%ld", v);
}

static void
csv_row(FILE *f, const struct mpa_soak_sample *x,
	const struct mpa_soak_pool *p)
{
	fprintf(f, "%.3f,", x->t_s);
	if (p != NULL) {
		fprintf(f, "%s,%ld,%ld,%ld,%ld,", p->name, p->size, p->in_use,
			p->stuck, p->driver_held);
		csv_num(f, p->rate_per_s);
	} else {
		fprintf(f, ",,,,,");
	}
	fputc(',', f);
	csv_num(f, x->gen_mpps);
	fputc(',', f);
	csv_num(f, x->dut_mpps);
	fputc(',', f);
	csv_long(f, x->heap_libc);
	fputc(',', f);
	csv_long(f, x->heap_rte);
	fputc('\n', f);
}

/* One row per pool per sample: tidy data, for any plotting tool. */
static int
write_csv(const struct mpa_soak *s)
{
	struct out o;

	if (out_open(s, &o, "samples.csv") == NULL)
		return -1;
	fprintf(o.f, CSV_HEADER "\n");
	for (int i = 0; i < s->nb_samples; i++) {
		const struct mpa_soak_sample *x = &s->samples[i];

		if (x->nb_pools == 0)
			csv_row(o.f, x, NULL);
		for (int j = 0; j < x->nb_pools; j++)
			csv_row(o.f, x, &x->pools[j]);
	}
	return out_close(&o);
}

static int
write_samples_json(const struct mpa_soak *s)
{
	json_t *r, *arr = json_array();
	struct out o;
	int rc;

	for (int i = 0; i < s->nb_samples; i++) {
		const struct mpa_soak_sample *x = &s->samples[i];
		json_t *pools = json_array();

		for (int j = 0; j < x->nb_pools; j++) {
			const struct mpa_soak_pool *p = &x->pools[j];

			json_array_append_new(pools, json_pack("{s:s, s:I, s:I, "
				"s:I, s:I, s:o, s:o}", "name", p->name, "size",
				(json_int_t)p->size, "in_use",
				(json_int_t)p->in_use, "stuck",
				(json_int_t)p->stuck, "driver_held",
				(json_int_t)p->driver_held, "rate_per_s",
				num_or_null(p->rate_per_s), "exhaust_s",
				long_or_null(p->exhaust_s)));
		}
		json_array_append_new(arr, json_pack("{s:f, s:o, s:o, s:I, s:I, "
			"s:I, s:o, s:o}", "t_s", round(x->t_s * 1e3) / 1e3,
			"gen_mpps", num_or_null(x->gen_mpps), "dut_mpps",
			num_or_null(x->dut_mpps), "in_use", (json_int_t)x->in_use,
			"stuck", (json_int_t)x->stuck, "errors",
			(json_int_t)x->errors, "heap", x->heap_libc < 0 ?
			json_null() : json_pack("{s:I, s:I}", "libc",
			(json_int_t)x->heap_libc, "rte_malloc",
			(json_int_t)x->heap_rte), "pools", pools));
	}
	r = json_pack("{s:f, s:f, s:s, s:o}", "interval_s", s->o.interval_s,
		      "warmup_s", s->o.warmup_s, "status", end_names[s->end],
		      "samples", arr);
	if (out_open(s, &o, "samples.json") == NULL) {
		json_decref(r);
		return -1;
	}
	rc = json_dumpf(r, o.f, MPA_SOAK_JSON_FLAGS(1));
	fputc('\n', o.f);
	json_decref(r);
	return out_close(&o) != 0 || rc != 0 ? -1 : 0;
}

static void
testcase(FILE *f, const char *name, const char *kind, const char *msg,
	 double secs)
{
	fprintf(f, "    <testcase classname=\"mpaudit.soak\" name=\"");
	mpa_soak_escape(f, name);
	fprintf(f, "\" time=\"%.3f\"", secs);
	if (kind == NULL) {
		fprintf(f, "/>\n");
		return;
	}
	fprintf(f, ">\n      <%s message=\"", kind);
	mpa_soak_escape(f, msg);
	fprintf(f, "\"/>\n    </testcase>\n");
}

/* The first reason that says @start, or @dflt. */
static const char *
reason_for(const struct mpa_soak *s, const char *start, const char *dflt)
{
	for (int i = 0; i < s->v.nb_reasons; i++)
		if (strstr(s->v.reasons[i], start) != NULL)
			return s->v.reasons[i];
	return dflt;
}

/*
 * junit.xml: one test case for the run itself (an error unless it
 * completed), one per pool (its in-use trend), and one each for stuck
 * objects, free errors and heap growth (failures).
 */
static int
write_junit(const struct mpa_soak *s)
{
	const struct mpa_soak_verdict *v = &s->v;
	int tests = 4 + v->nb_pools;
	int errors = s->end != MPA_SOAK_COMPLETED;
	int failures = v->stuck_failed + v->errors_failed + v->heap_failed;
	char name[128], stamp[32];
	time_t now = time(NULL);
	struct out o;
	struct tm tm;

	for (int i = 0; i < v->nb_pools; i++)
		failures += v->pools[i].failed;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (out_open(s, &o, "junit.xml") == NULL)
		return -1;
	fprintf(o.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"mpaudit soak\" tests=\"%d\" failures=\"%d\" "
		"errors=\"%d\" time=\"%.3f\">\n  <testsuite name=\"mpaudit "
		"soak\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\" "
		"time=\"%.3f\" timestamp=\"%s\">\n", tests, failures, errors,
		s->end_t_s, tests, failures, errors, s->end_t_s, stamp);
	testcase(o.f, "soak run", errors ? "error" : NULL,
		 s->error[0] ? s->error : end_names[s->end], s->end_t_s);
	for (int i = 0; i < v->nb_pools; i++) {
		char who[80];

		snprintf(who, sizeof(who), "pool %s:", v->pools[i].name);
		snprintf(name, sizeof(name), "pool %s in-use trend",
			 v->pools[i].name);
		testcase(o.f, name, v->pools[i].failed ? "failure" : NULL,
			 reason_for(s, who, "in use grows"), 0);
	}
	testcase(o.f, "no stuck objects", v->stuck_failed ? "failure" : NULL,
		 reason_for(s, "objects stuck", ""), 0);
	testcase(o.f, "no free errors", v->errors_failed ? "failure" : NULL,
		 reason_for(s, "free errors", ""), 0);
	testcase(o.f, "no heap growth", v->heap_failed ? "failure" : NULL,
		 reason_for(s, "heap:", ""), 0);
	fprintf(o.f, "  </testsuite>\n</testsuites>\n");
	return out_close(&o);
}

static int
write_result(const struct mpa_soak *s)
{
	json_t *r = mpa_soak_result(s);
	struct out o;
	int rc;

	if (r == NULL || out_open(s, &o, "soak.json") == NULL) {
		json_decref(r);
		return -1;
	}
	rc = json_dumpf(r, o.f, MPA_SOAK_JSON_FLAGS(2));
	fputc('\n', o.f);
	json_decref(r);
	return out_close(&o) != 0 || rc != 0 ? -1 : 0;
}

int
mpa_soak_write(const struct mpa_soak *s)
{
	char path[4200];
	int r = 0;

	r |= write_csv(s);
	r |= write_samples_json(s);
	r |= write_junit(s);
	r |= write_result(s);
	snprintf(path, sizeof(path), "%s/report.html", s->o.out);
	r |= mpa_soak_write_html(s, path);
	return r ? -1 : 0;
}
