/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The verdict of mpaudit soak (soak.h), from the samples alone.
 *
 * After the warm-up (the start fills RX descriptors and caches), the
 * soak fails when:
 * - a pool's in use grows beyond the tolerance (a fraction of its size)
 *   over the measured time: the DUT's own forecast (rate_per_s, the
 *   growth of the in-use floor) times the measured time, confirmed by
 *   the floor itself (the least in-use of the last third of the samples
 *   against that of the first third), so that neither a forecast of
 *   noise nor one burst fails a clean run;
 * - any object is stuck in a sample after the warm-up;
 * - any free error was seen, at any time;
 * - a heap call stack's bytes grew at more than half of the samples
 *   after the warm-up, and ended above where they started.
 * A soak that did not complete is never a pass: interrupted, it exits 3
 * with findings and 1 without; a process that died, or a soak that could
 * not sample, exits 1.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "soak.h"

/* Samples in each third of the window the floor is taken from. */
#define FLOOR_PARTS 3

static void
reason(struct mpa_soak_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->nb_reasons == (int)(sizeof(v->reasons) / sizeof(v->reasons[0])))
		return;
	va_start(ap, fmt);
	vsnprintf(v->reasons[v->nb_reasons++], sizeof(v->reasons[0]), fmt, ap);
	va_end(ap);
}

static const struct mpa_soak_pool *
pool_in(const struct mpa_soak_sample *x, const char *name)
{
	for (int i = 0; i < x->nb_pools; i++)
		if (strcmp(x->pools[i].name, name) == 0)
			return &x->pools[i];
	return NULL;
}

/* Least in use of pool @name over samples [from, to). */
static long
floor_of(const struct mpa_soak *s, const char *name, int from, int to)
{
	long f = -1;

	for (int i = from; i < to; i++) {
		const struct mpa_soak_pool *p = pool_in(&s->samples[i], name);

		if (p != NULL && (f < 0 || p->in_use < f))
			f = p->in_use;
	}
	return f;
}

static void
judge_pools(struct mpa_soak *s, int first)
{
	struct mpa_soak_verdict *v = &s->v;
	const struct mpa_soak_sample *last = &s->samples[s->nb_samples - 1];
	int n = s->nb_samples - first;
	int part = n / FLOOR_PARTS > 0 ? n / FLOOR_PARTS : 1;

	for (int i = 0; i < last->nb_pools && v->nb_pools < MPA_SOAK_MAX_POOLS;
	     i++) {
		const struct mpa_soak_pool *lp = &last->pools[i];
		const struct mpa_soak_pool *fp = pool_in(&s->samples[first],
							 lp->name);
		struct mpa_soak_pool_verdict *pv = &v->pools[v->nb_pools++];
		double floor_growth;

		snprintf(pv->name, sizeof(pv->name), "%s", lp->name);
		pv->size = lp->size;
		pv->in_use_first = fp != NULL ? fp->in_use : lp->in_use;
		pv->in_use_last = lp->in_use;
		pv->floor_first = floor_of(s, lp->name, first, first + part);
		pv->floor_last = floor_of(s, lp->name, s->nb_samples - part,
					  s->nb_samples);
		pv->rate_per_s = lp->rate_per_s;
		pv->limit = s->o.tolerance * (double)lp->size;
		floor_growth = (double)(pv->floor_last - pv->floor_first);
		pv->growth = isnan(lp->rate_per_s) ? floor_growth :
			lp->rate_per_s * v->window_s;
		pv->failed = n >= 2 && pv->growth > pv->limit &&
			floor_growth > pv->limit;
		if (!pv->failed)
			continue;
		v->trend_failed = 1;
		if (isnan(pv->rate_per_s))
			reason(v, "pool %s: in use grew by %.0f objects over "
			       "%.1f s, beyond the tolerance of %.0f (%g of %ld)",
			       pv->name, pv->growth, v->window_s, pv->limit,
			       s->o.tolerance, pv->size);
		else
			reason(v, "pool %s: in use grows %.1f objects/s: %.0f "
			       "over %.1f s, beyond the tolerance of %.0f (%g of "
			       "%ld)%s", pv->name, pv->rate_per_s, pv->growth,
			       v->window_s, pv->limit, s->o.tolerance, pv->size,
			       lp->exhaust_s >= 0 ? "; empty in" : "");
		if (lp->exhaust_s >= 0) {
			size_t l = strlen(v->reasons[v->nb_reasons - 1]);

			snprintf(v->reasons[v->nb_reasons - 1] + l,
				 sizeof(v->reasons[0]) - l, " %ld s at that "
				 "rate", lp->exhaust_s);
		}
	}
}

static void
judge_heap(struct mpa_soak *s)
{
	struct mpa_soak_verdict *v = &s->v;

	for (int i = 0; i < s->nb_stacks; i++) {
		const struct mpa_soak_stack *k = &s->stacks[i];

		if (k->steps < 2 || 2 * k->grew_steps <= k->steps ||
		    k->bytes_last <= k->bytes_first)
			continue;
		v->heap_failed = 1;
		reason(v, "heap: %s stack %ld grew from %ld to %ld bytes at %d "
		       "of %d samples, first seen at %.1f s: %.120s", k->kind,
		       k->id, k->bytes_first, k->bytes_last, k->grew_steps,
		       k->steps, k->first_s, k->stack);
	}
}

void
mpa_soak_verdict(struct mpa_soak *s)
{
	struct mpa_soak_verdict *v = &s->v;
	int first = -1, found;

	memset(v, 0, sizeof(*v));
	for (int i = 0; i < s->nb_samples; i++) {
		const struct mpa_soak_sample *x = &s->samples[i];

		if (x->errors > v->errors_max)
			v->errors_max = x->errors;
		if (x->t_s < s->o.warmup_s)
			continue;
		if (first < 0)
			first = i;
		if (x->stuck > v->stuck_max)
			v->stuck_max = x->stuck;
	}
	if (first >= 0)
		v->window_s = s->samples[s->nb_samples - 1].t_s -
			s->samples[first].t_s;
	/* Ended within the warm-up: the pools are listed, not judged. */
	if (s->nb_samples > 0)
		judge_pools(s, first >= 0 ? first : s->nb_samples - 1);
	if (v->stuck_max > 0) {
		v->stuck_failed = 1;
		reason(v, "%ld objects stuck (most in one sample after the "
		       "warm-up), %d holder%s", v->stuck_max, s->nb_holders,
		       s->nb_holders == 1 ? "" : "s");
	}
	if (v->errors_max > 0) {
		v->errors_failed = 1;
		reason(v, "%ld free errors (double, stray or foreign frees)",
		       v->errors_max);
	}
	judge_heap(s);
	found = v->trend_failed || v->stuck_failed || v->errors_failed ||
		v->heap_failed;
	switch (s->end) {
	case MPA_SOAK_COMPLETED:
		v->word = found ? "fail" : "pass";
		v->exit_code = found ? MPA_EXIT_FOUND : MPA_EXIT_CLEAN;
		break;
	case MPA_SOAK_INTERRUPTED:
		v->word = "interrupted";
		v->exit_code = found ? MPA_EXIT_FOUND : MPA_EXIT_FAIL;
		break;
	default:
		v->word = "error";
		v->exit_code = MPA_EXIT_FAIL;
		break;
	}
}
