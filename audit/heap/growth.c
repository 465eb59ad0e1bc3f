/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Growth of the outstanding heap per (kind, stack): see growth.h.
 *
 * One entry per stack ever seen in a sample, in an open-addressing table
 * (libc memory; the control thread is marked internal), each with a ring
 * of the last MPA_GROWTH_WINDOW samples of its bytes. A sample writes 0
 * into every entry first, so a stack that has gone reads as 0. The rule
 * "min(newer half) > max(older half)" needs a rise that outlasts half the
 * window: a stack that churns up and down, or warms up and levels off,
 * stops being "growing" within half a window. The newer half must also
 * top every sample that has left the window (peak): a set that only
 * swings up and down sets no new high once one swing has been seen.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mpaudit_stamp.h"
#include "growth.h"
#include "heap.h"

#define ENTRIES_MAX (1u << 20)

struct trend {
	uint64_t key;            /* (stack << 1 | kind) + 1; 0 = empty */
	uint64_t bytes[MPA_GROWTH_WINDOW];
	uint64_t peak;           /* highest sample that left the window */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct trend *tab;
static uint32_t cap, used;
static uint32_t nsamples;        /* taken; the ring slot is nsamples % W */
static uint32_t start_ms, last_ms;
static int started;

static uint64_t
key_of(enum mpa_heap_kind kind, uint32_t stack)
{
	return ((uint64_t)stack << 1 | (uint64_t)kind) + 1;
}

static uint32_t
slot_of(uint64_t key, uint32_t c)
{
	return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (c - 1);
}

static struct trend *
find(uint64_t key)
{
	if (cap == 0)
		return NULL;
	for (uint32_t j = slot_of(key, cap);; j = (j + 1) & (cap - 1)) {
		if (tab[j].key == key)
			return &tab[j];
		if (tab[j].key == 0)
			return NULL;
	}
}

static int
grow(void)
{
	uint32_t ncap = cap != 0 ? cap * 2 : 1024;
	struct trend *n;

	if (ncap > ENTRIES_MAX)
		return -ENOSPC;
	n = calloc(ncap, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++) {
		uint32_t j;

		if (tab[i].key == 0)
			continue;
		for (j = slot_of(tab[i].key, ncap); n[j].key != 0; j = (j + 1) & (ncap - 1))
			;
		n[j] = tab[i];
	}
	free(tab);
	tab = n;
	cap = ncap;
	return 0;
}

static struct trend *
insert(uint64_t key)
{
	struct trend *t = find(key);
	uint32_t j;

	if (t != NULL)
		return t;
	if ((used + 1) * 2 > cap && grow() != 0)
		return NULL;
	for (j = slot_of(key, cap); tab[j].key != 0; j = (j + 1) & (cap - 1))
		;
	tab[j].key = key;
	used++;
	return &tab[j];
}

void
mpa_growth_tick(uint32_t now_ms)
{
	struct mpa_heap_group *g = NULL;
	uint32_t slot;
	int n;

	if (!mpa_heap_tracking())
		return;
	if (!started) {
		started = 1;
		start_ms = now_ms;
		return;
	}
	if (mpa_age_ms(now_ms, start_ms) < MPA_GROWTH_WARMUP_MS ||
	    (nsamples != 0 && mpa_age_ms(now_ms, last_ms) < MPA_GROWTH_PERIOD_MS))
		return;
	last_ms = now_ms;
	n = mpa_heap_groups(0, &g);
	if (n < 0)
		return;
	pthread_mutex_lock(&lock);
	slot = nsamples % MPA_GROWTH_WINDOW;
	for (uint32_t i = 0; i < cap; i++) {
		if (tab[i].bytes[slot] > tab[i].peak)
			tab[i].peak = tab[i].bytes[slot];
		tab[i].bytes[slot] = 0;
	}
	for (int i = 0; i < n; i++) {
		struct trend *t = insert(key_of(g[i].kind, g[i].stack));

		/* Full (or out of memory): new stacks are not followed. */
		if (t != NULL)
			t->bytes[slot] = g[i].bytes;
	}
	nsamples++;
	pthread_mutex_unlock(&lock);
	free(g);
}

int
mpa_growth_rule(const uint64_t w[MPA_GROWTH_WINDOW], uint64_t peak)
{
	uint64_t old_max = 0, new_min = UINT64_MAX;

	for (uint32_t k = 0; k < MPA_GROWTH_WINDOW; k++) {
		if (k < MPA_GROWTH_WINDOW / 2)
			old_max = w[k] > old_max ? w[k] : old_max;
		else
			new_min = w[k] < new_min ? w[k] : new_min;
	}
	return new_min > old_max && new_min > peak;
}

static int
growing(const struct trend *t)
{
	uint64_t w[MPA_GROWTH_WINDOW];

	/* Oldest first: the slot after the newest. */
	for (uint32_t k = 0; k < MPA_GROWTH_WINDOW; k++)
		w[k] = t->bytes[(nsamples + k) % MPA_GROWTH_WINDOW];
	return mpa_growth_rule(w, t->peak);
}

void
mpa_growth_mark(struct mpa_heap_group *g, int n)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n; i++) {
		const struct trend *t;

		g[i].growing = 0;
		if (nsamples < MPA_GROWTH_MIN_SAMPLES)
			continue;
		t = find(key_of(g[i].kind, g[i].stack));
		g[i].growing = t != NULL && growing(t);
	}
	pthread_mutex_unlock(&lock);
}

uint32_t
mpa_growth_samples(void)
{
	return __atomic_load_n(&nsamples, __ATOMIC_RELAXED);
}
