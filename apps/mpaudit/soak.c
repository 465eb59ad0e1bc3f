/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * mpaudit soak: the run (soak.h, docs/soak.md).
 *
 * Start the rig, then sample every --interval on the monotonic clock
 * from the start (no drift) until --duration, a signal, or a process
 * that dies; between samples, sleep in short ticks so that a dead
 * process ends the soak at once. Each sample asks the DUT for its
 * summary, pools, stuck groups and heap stacks, and both sides for their
 * ethdev packet counters, whose differences give the rates. Then stop
 * both, take the DUT's final report, judge, and write the files.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "soak.h"

/* A packet counter and when it was read. */
struct counter {
	double t_s;
	double pkts;
	int valid;
};

struct sampler {
	struct mpa_tele *dut, *gen;
	struct counter dut_rx, gen_tx;
};


static struct mpa_tele *
open_prefix(const char *prefix, char *err, size_t len)
{
	char path[108];

	if (mpa_tele_find_prefix(prefix, path, sizeof(path), err, len) != 0)
		return NULL;
	return mpa_tele_open(path, NULL, err, len);
}

/* Sum of field @key ("ipackets", "opackets") over every ethdev port;
 * -1 when it cannot be read. */
static double
ports_sum(struct mpa_tele *t, const char *key)
{
	json_t *list, *e, *st;
	double sum = 0;
	char cmd[64];
	size_t i;

	if (t == NULL || mpa_tele_ask(t, "/ethdev/list", &list) != 0)
		return -1;
	if (!json_is_array(list) || json_array_size(list) == 0) {
		json_decref(list);
		return -1;
	}
	json_array_foreach(list, i, e) {
		if (!json_is_integer(e))
			continue;
		snprintf(cmd, sizeof(cmd), "/ethdev/stats,%lld",
			 (long long)json_integer_value(e));
		if (mpa_tele_ask(t, cmd, &st) != 0) {
			json_decref(list);
			return -1;
		}
		sum += (double)mpa_cli_int(st, key, 0);
		json_decref(st);
	}
	json_decref(list);
	return sum;
}

/* Mpps since the previous reading of @c, NAN for the first. */
static double
rate(struct counter *c, double t_s, double pkts)
{
	double r = NAN;

	if (pkts < 0) {
		c->valid = 0;
		return NAN;
	}
	if (c->valid && t_s > c->t_s && pkts >= c->pkts)
		r = (pkts - c->pkts) / (t_s - c->t_s) / 1e6;
	c->t_s = t_s;
	c->pkts = pkts;
	c->valid = 1;
	return r;
}

static const char *
str_or(json_t *o, const char *k, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : dflt;
}

/* A stuck group of this sample: update its holder, or a new one. */
static void
take_holder(struct mpa_soak *s, json_t *g, double t_s)
{
	struct mpa_soak_holder h = { .first_s = t_s, .live = 1 };
	int i;

	snprintf(h.pool, sizeof(h.pool), "%s", str_or(g, "pool", ""));
	snprintf(h.state, sizeof(h.state), "%s", str_or(g, "state", ""));
	snprintf(h.ring, sizeof(h.ring), "%s", str_or(g, "ring", ""));
	snprintf(h.site, sizeof(h.site), "%s", str_or(g, "site", ""));
	snprintf(h.function, sizeof(h.function), "%s",
		 str_or(g, "function", ""));
	h.lcore = (long)mpa_cli_int(g, "lcore", -1);
	h.port = (long)mpa_cli_int(g, "port", -1);
	h.queue = (long)mpa_cli_int(g, "queue", -1);
	h.count = (long)mpa_cli_int(g, "count", 0);
	h.max_age_ms = (long)mpa_cli_int(g, "max_age_ms", 0);
	for (i = 0; i < s->nb_holders; i++) {
		struct mpa_soak_holder *o = &s->holders[i];

		if (strcmp(o->pool, h.pool) == 0 &&
		    strcmp(o->state, h.state) == 0 &&
		    strcmp(o->ring, h.ring) == 0 &&
		    strcmp(o->site, h.site) == 0 && o->lcore == h.lcore &&
		    o->port == h.port && o->queue == h.queue) {
			o->count = h.count;
			o->max_age_ms = h.max_age_ms;
			o->live = 1;
			return;
		}
	}
	if (s->nb_holders < MPA_SOAK_MAX_HOLDERS)
		s->holders[s->nb_holders++] = h;
}

/* A heap group of this sample: update its stack's bytes. */
static void
take_stack(struct mpa_soak *s, json_t *g, double t_s)
{
	long id = (long)mpa_cli_int(g, "stack_id", -1);
	const char *kind = str_or(g, "kind", "");
	long bytes = (long)mpa_cli_int(g, "bytes", 0);
	struct mpa_soak_stack *k = NULL;
	json_t *f;
	size_t i, l = 0;

	for (int j = 0; j < s->nb_stacks && k == NULL; j++)
		if (s->stacks[j].id == id &&
		    strcmp(s->stacks[j].kind, kind) == 0)
			k = &s->stacks[j];
	if (k == NULL) {
		if (s->nb_stacks == MPA_SOAK_MAX_STACKS)
			return;
		k = &s->stacks[s->nb_stacks++];
		memset(k, 0, sizeof(*k));
		k->id = id;
		snprintf(k->kind, sizeof(k->kind), "%s", kind);
		json_array_foreach(json_object_get(g, "stack"), i, f)
			if (json_is_string(f) && l < sizeof(k->stack))
				l += (size_t)snprintf(k->stack + l,
					sizeof(k->stack) - l, "%s%s",
					i ? "; " : "", json_string_value(f));
		k->bytes_first = bytes;
		k->first_s = t_s;
	} else if (t_s < s->o.warmup_s) {
		/* Judged from the end of the warm-up on. */
		k->bytes_first = bytes;
	} else {
		k->steps++;
		if (bytes > k->bytes_last)
			k->grew_steps++;
	}
	k->bytes_last = bytes;
	if (bytes > k->bytes_max)
		k->bytes_max = bytes;
	k->count_last = (long)mpa_cli_int(g, "count", 0);
	k->last_s = t_s;
}

static double
str_num(json_t *v)
{
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v))
		return strtod(json_string_value(v), NULL);
	return NAN;
}

static int
sample_pools(struct mpa_soak *s, struct sampler *sm,
	     struct mpa_soak_sample *x)
{
	json_t *pools, *p;
	size_t i, n;

	if (mpa_tele_pages(sm->dut, "/mpaudit/pools", "pools", &pools) != 0)
		return -1;
	x->in_use = 0;
	n = 0;
	json_array_foreach(json_object_get(pools, "pools"), i, p)
		n += !mpa_cli_int(p, "destroyed", 0);
	x->pools = calloc((n < MPA_SOAK_MAX_POOLS ? n : MPA_SOAK_MAX_POOLS) + 1,
			  sizeof(*x->pools));
	if (x->pools == NULL) {
		json_decref(pools);
		return -ENOMEM;
	}
	json_array_foreach(json_object_get(pools, "pools"), i, p) {
		struct mpa_soak_pool *q;

		if (mpa_cli_int(p, "destroyed", 0) ||
		    x->nb_pools == MPA_SOAK_MAX_POOLS)
			continue;
		q = &x->pools[x->nb_pools++];
		snprintf(q->name, sizeof(q->name), "%s", str_or(p, "name", ""));
		q->size = (long)mpa_cli_int(p, "size", 0);
		q->in_use = (long)mpa_cli_int(p, "in_use", 0);
		q->stuck = (long)mpa_cli_int(p, "stuck", 0);
		q->driver_held = (long)mpa_cli_int(p, "driver_held", 0);
		q->rate_per_s = str_num(json_object_get(p, "rate_per_s"));
		q->exhaust_s = (long)mpa_cli_int(p, "exhaust_s", -1);
		x->in_use += q->in_use;
	}
	json_decref(pools);
	return 0;
}

static int
sample_groups(struct mpa_soak *s, struct sampler *sm, double t_s,
	      int heap_active)
{
	json_t *v, *g;
	size_t i;

	if (mpa_tele_pages(sm->dut, "/mpaudit/stuck", "groups", &v) != 0)
		return -1;
	for (int j = 0; j < s->nb_holders; j++)
		s->holders[j].live = 0;
	json_array_foreach(json_object_get(v, "groups"), i, g)
		take_holder(s, g, t_s);
	json_decref(v);
	if (!heap_active)
		return 0;
	if (mpa_tele_pages(sm->dut, "/mpaudit/heap", "groups", &v) != 0)
		return -1;
	json_array_foreach(json_object_get(v, "groups"), i, g)
		take_stack(s, g, t_s);
	json_decref(v);
	return 0;
}

/* One sample; 0, or -1 with s->error set. */
static int
take_sample(struct mpa_soak *s, struct sampler *sm)
{
	struct mpa_soak_sample *x;
	json_t *sum, *heap;
	char err[MPA_TELE_ERR_MAX];
	int rc = -1;
	double now = mpa_cli_now_s();

	if (s->nb_samples == s->cap_samples) {
		int nc = s->cap_samples ? 2 * s->cap_samples : 64;
		void *n = realloc(s->samples, (size_t)nc * sizeof(*x));

		if (n == NULL) {
			snprintf(s->error, sizeof(s->error), "out of memory");
			return -1;
		}
		s->samples = n;
		s->cap_samples = nc;
	}
	x = &s->samples[s->nb_samples];
	memset(x, 0, sizeof(*x));
	x->t_s = now - s->start_s;
	if (mpa_tele_get(sm->dut, "/mpaudit/summary", &sum) != 0)
		goto tele_err;
	x->stuck = (long)mpa_cli_int(sum, "stuck", 0);
	x->errors = (long)mpa_cli_int(sum, "errors", 0);
	heap = json_object_get(sum, "heap");
	x->heap_libc = x->heap_rte = -1;
	if (mpa_cli_int(heap, "active", 0)) {
		x->heap_libc = (long)mpa_cli_int(json_object_get(heap, "libc"),
						 "live_bytes", 0);
		x->heap_rte = (long)mpa_cli_int(json_object_get(heap,
						"rte_malloc"), "live_bytes", 0);
	}
	json_decref(sum);
	rc = sample_pools(s, sm, x);
	if (rc == 0)
		rc = sample_groups(s, sm, x->t_s, x->heap_libc >= 0);
	if (rc != 0)
		goto tele_err;
	x->dut_mpps = rate(&sm->dut_rx, x->t_s, ports_sum(sm->dut,
							  "ipackets"));
	/* The generator's socket may come late (or go): ask again. */
	if (sm->gen == NULL && s->gen_prefix[0] != '\0')
		sm->gen = open_prefix(s->gen_prefix, err, sizeof(err));
	x->gen_mpps = rate(&sm->gen_tx, x->t_s, ports_sum(sm->gen,
							  "opackets"));
	if (sm->gen != NULL && !sm->gen_tx.valid) {
		mpa_tele_close(sm->gen);
		sm->gen = NULL;
	}
	s->nb_samples++;
	return 0;
tele_err:
	free(x->pools);
	x->pools = NULL;
	if (rc == -ENOMEM) {
		snprintf(s->error, sizeof(s->error), "out of memory");
		return -1;
	}
	snprintf(s->error, sizeof(s->error), "cannot sample the DUT: %s",
		 sm->dut->err);
	return -1;
}

static void
mpps_text(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", v);
}

static void
progress(const struct mpa_soak *s)
{
	const struct mpa_soak_sample *x = &s->samples[s->nb_samples - 1];
	char g[32], d[32], h[32] = "-";

	mpps_text(g, sizeof(g), x->gen_mpps);
	mpps_text(d, sizeof(d), x->dut_mpps);
	if (x->heap_libc >= 0)
		snprintf(h, sizeof(h), "%ld", x->heap_libc + x->heap_rte);
	fprintf(stderr, "soak: %6.1f/%.0f s  gen %s Mpps  dut %s Mpps  "
		"in use %ld  stuck %ld  errors %ld  heap %s\n", x->t_s,
		s->o.duration_s, g, d, x->in_use, x->stuck, x->errors, h);
}

/* Copy @from to @to; 0 or -1. */
static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "r"), *out;
	size_t n;
	int r = 0;

	if (in == NULL)
		return -1;
	out = fopen(to, "w");
	if (out == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			r = -1;
	fclose(in);
	if (fclose(out) != 0)
		r = -1;
	return r;
}

/*
 * --attach: the DUT keeps running, so its report is asked for: written
 * by /mpaudit/dump to its MPAUDIT_REPORT and copied, or else put
 * together from its summary, pools, stuck groups and errors.
 */
static void
attach_report(struct mpa_soak *s, struct sampler *sm)
{
	static const char *const parts[][2] = {
		{ "/mpaudit/pools", "pools" }, { "/mpaudit/stuck", "groups" },
		{ "/mpaudit/errors", "errors" },
	};
	json_t *d, *r, *v;
	const char *path;

	if (sm->dut == NULL)
		return;
	if (mpa_tele_get(sm->dut, "/mpaudit/dump", &d) == 0) {
		path = json_string_value(json_object_get(d, "path"));
		if (path != NULL && copy_file(path, s->report_path) == 0)
			s->have_report = 1;
		json_decref(d);
		if (s->have_report)
			return;
	}
	r = json_object();
	json_object_set_new(r, "source", json_string("telemetry"));
	if (mpa_tele_get(sm->dut, "/mpaudit/summary", &v) == 0)
		json_object_set_new(r, "summary", v);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (mpa_tele_pages(sm->dut, parts[i][0], parts[i][1], &v) == 0)
			json_object_set_new(r, parts[i][0] +
					    strlen("/mpaudit/"), v);
	if (json_dump_file(r, s->report_path,
			   MPA_SOAK_JSON_FLAGS(1)) == 0)
		s->have_report = 1;
	json_decref(r);
}

static int
check_report(struct mpa_soak *s)
{
	json_error_t je;
	json_t *r = json_load_file(s->report_path, 0, &je);

	json_decref(r);
	return r != NULL;
}

/* Make @dir (and its parents); 0 or -1 after saying why. */
static int
make_dir(const char *dir)
{
	char p[4096];
	size_t l = strlen(dir);

	if (l == 0 || l >= sizeof(p)) {
		mpa_cli_err("soak: bad --out '%s'", dir);
		return -1;
	}
	memcpy(p, dir, l + 1);
	for (size_t i = 1; i <= l; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			mpa_cli_err("soak: cannot create %s: %s", p,
				    strerror(errno));
			return -1;
		}
		p[i] = dir[i];
	}
	return 0;
}

/* The run proper: sample until the end; sets s->end and s->error. */
static void
run(struct mpa_soak *s, struct sampler *sm)
{
	long k = 0;

	for (;;) {
		struct mpa_soak_proc *dead;
		double next = s->start_s + (double)k * s->o.interval_s;
		double end = s->start_s + s->o.duration_s;

		if (next > end)
			next = end;
		if (mpa_cli_stop) {
			s->end = MPA_SOAK_INTERRUPTED;
			snprintf(s->error, sizeof(s->error), "interrupted "
				 "after %.1f s of %.0f s",
				 mpa_cli_now_s() - s->start_s, s->o.duration_s);
			return;
		}
		dead = mpa_soak_rig_poll(s);
		if (dead != NULL) {
			char st[160];

			mpa_soak_rig_status(dead, st, sizeof(st));
			s->end = dead == &s->gen ? MPA_SOAK_GEN_DIED :
				MPA_SOAK_DUT_DIED;
			snprintf(s->error, sizeof(s->error), "the %s (pid %ld) "
				 "%s after %.1f s of %.0f s; its output is in "
				 "%s", dead->role, (long)dead->pid, st,
				 dead->exit_t_s, s->o.duration_s, dead->log);
			return;
		}
		if (mpa_cli_now_s() >= next) {
			if (take_sample(s, sm) != 0) {
				/* A DUT that just died fails to answer. */
				dead = mpa_soak_rig_poll(s);
				if (dead != NULL)
					continue;
				if (s->o.attach != NULL) {
					s->end = MPA_SOAK_DUT_DIED;
					return;
				}
				s->end = MPA_SOAK_FAILED;
				return;
			}
			progress(s);
			if (next >= end) {
				s->end = MPA_SOAK_COMPLETED;
				return;
			}
			k++;
			continue;
		}
		mpa_cli_sleep_until(fmin(next, mpa_cli_now_s() + MPA_SOAK_TICK_S));
	}
}

static void
summary(const struct mpa_soak *s)
{
	const struct mpa_soak_verdict *v = &s->v;
	int shown = 0;

	fprintf(stderr, "soak: %s (exit %d) after %.1f s, %d samples\n",
		v->word, v->exit_code, s->end_t_s, s->nb_samples);
	if (s->error[0] != '\0')
		fprintf(stderr, "mpaudit: soak: %s\n", s->error);
	for (int i = 0; i < v->nb_reasons; i++)
		fprintf(stderr, "soak: %s\n", v->reasons[i]);
	for (int i = 0; i < s->nb_holders && shown < MPA_SOAK_TOP; i++) {
		const struct mpa_soak_holder *h = &s->holders[i];

		fprintf(stderr, "soak: holder %ld stuck in %s: state %s", h->count,
			h->pool, h->state);
		if (h->lcore >= 0)
			fprintf(stderr, " lcore %ld", h->lcore);
		if (h->port >= 0)
			fprintf(stderr, " port %ld", h->port);
		if (h->queue >= 0)
			fprintf(stderr, " queue %ld", h->queue);
		if (h->ring[0])
			fprintf(stderr, " ring %s", h->ring);
		fprintf(stderr, " at %s%s%s%s, first seen at %.1f s\n",
			h->site[0] ? h->site : "-", h->function[0] ? " (" : "",
			h->function, h->function[0] ? ")" : "", h->first_s);
		shown++;
	}
	for (int i = 0, n = 0; i < s->nb_stacks && n < MPA_SOAK_TOP; i++) {
		const struct mpa_soak_stack *k = &s->stacks[i];

		if (k->bytes_last <= k->bytes_first)
			continue;
		fprintf(stderr, "soak: heap stack %ld (%s) %ld -> %ld bytes, "
			"first seen at %.1f s: %.200s\n", k->id, k->kind,
			k->bytes_first, k->bytes_last, k->first_s, k->stack);
		n++;
	}
	fprintf(stderr, "soak: results in %s (report.html, junit.xml, "
		"samples.csv, samples.json, soak.json%s)\n", s->o.out,
		s->have_report ? ", report.json" : "");
}

/*
 * The DUT and the generator run in process groups of their own
 * (soakrig.c), so neither a hangup of the terminal nor the death of a
 * pipe reader (`2>&1 | tee soak.log` over ssh) reaches them: if either
 * killed this process they would be left running, polling their CPUs,
 * forever. A hangup stops the soak as SIGINT does, and a write to a
 * closed pipe fails (EPIPE) instead of killing; the processes are then
 * stopped and the files written as after any interruption. The children
 * get SIGPIPE back at their default (spawn()).
 */
static void
catch_hangup(void)
{
	struct sigaction sa;

	sigaction(SIGINT, NULL, &sa);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Holders by count, largest first (stable: first seen breaks ties). */
static int
holder_cmp(const void *a, const void *b)
{
	const struct mpa_soak_holder *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->first_s < y->first_s ? -1 : x->first_s > y->first_s;
}

static int
stack_cmp(const void *a, const void *b)
{
	const struct mpa_soak_stack *x = a, *y = b;
	long gx = x->bytes_last - x->bytes_first;
	long gy = y->bytes_last - y->bytes_first;

	return gx < gy ? 1 : gx > gy ? -1 : 0;
}

int
mpa_cmd_soak(struct mpa_cli *c)
{
	struct mpa_soak *s;
	struct sampler sm = { 0 };
	char err[MPA_TELE_ERR_MAX];
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		mpa_cli_err("out of memory");
		return MPA_EXIT_FAIL;
	}
	s->o = c->soak;
	if (make_dir(s->o.out) != 0) {
		free(s);
		return MPA_EXIT_FAIL;
	}
	mpa_cli_catch_stop();
	catch_hangup();
	s->start_s = mpa_cli_now_s();
	if (mpa_soak_rig_start(s) != 0) {
		s->end = mpa_cli_stop ? MPA_SOAK_INTERRUPTED : MPA_SOAK_FAILED;
		goto judge;
	}
	sm.dut = open_prefix(s->dut_prefix, err, sizeof(err));
	if (sm.dut == NULL) {
		snprintf(s->error, sizeof(s->error), "%s", err);
		s->end = MPA_SOAK_FAILED;
	} else {
		/* The clock starts with the traffic. */
		s->start_s = mpa_cli_now_s();
		fprintf(stderr, "soak: DUT %s (file prefix %s)%s%s\n",
			s->dut.pid > 0 ? s->dut.cmdline : "attached",
			s->dut_prefix, s->gen.pid > 0 ? "\nsoak: generator " :
			"", s->gen.pid > 0 ? s->gen.cmdline : "");
		run(s, &sm);
	}
	s->end_t_s = mpa_cli_now_s() - s->start_s;
	if (s->o.attach != NULL)
		attach_report(s, &sm);
	mpa_tele_close(sm.dut);
	mpa_tele_close(sm.gen);
	sm.dut = sm.gen = NULL;
	mpa_soak_rig_stop(s);
	if (s->end == MPA_SOAK_GEN_DIED && s->dut.exited &&
	    WIFSIGNALED(s->dut.status) && WTERMSIG(s->dut.status) != SIGKILL) {
		char st[160];
		size_t l = strlen(s->error);

		mpa_soak_rig_status(&s->dut, st, sizeof(st));
		snprintf(s->error + l, sizeof(s->error) - l, "; then the DUT "
			 "%s (its last periodic report is kept)", st);
	}
	if (s->o.attach == NULL)
		s->have_report = check_report(s);
judge:
	if (s->end_t_s == 0)
		s->end_t_s = mpa_cli_now_s() - s->start_s;
	qsort(s->holders, (size_t)s->nb_holders, sizeof(s->holders[0]),
	      holder_cmp);
	qsort(s->stacks, (size_t)s->nb_stacks, sizeof(s->stacks[0]),
	      stack_cmp);
	mpa_soak_verdict(s);
	rc = s->v.exit_code;
	if (mpa_soak_write(s) != 0)
		rc = MPA_EXIT_FAIL;
	summary(s);
	if (s->o.json) {
		json_t *r = mpa_soak_result(s);

		if (r == NULL || json_dumpf(r, stdout,
					      MPA_SOAK_JSON_FLAGS(2)) != 0)
			rc = MPA_EXIT_FAIL;
		putchar('\n');
		json_decref(r);
	}
	for (int i = 0; i < s->nb_samples; i++)
		free(s->samples[i].pools);
	free(s->samples);
	free(s);
	return rc;
}
