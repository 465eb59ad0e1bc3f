/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The heap tracker's table: one 32-byte record per live allocation, in
 * MPA_HEAP_SHARDS open-addressing tables picked by a hash of the address,
 * each behind its own spinlock. Two threads contend only when they touch
 * the same shard at the same moment, and a critical section is a probe
 * and one record copy, so a spinlock beats a mutex (no syscall, ever).
 *
 * Everything here may run inside malloc() or free(): no malloc, no stdio,
 * no lock other than a shard's; memory comes from mmap and is accounted
 * against MPAUDIT_HEAP_MAX_MB. When a table cannot grow, the tracker turns
 * itself off for good (mpa_heap_fail): from then on every call passes
 * straight to the real allocator, because a table that missed one
 * allocation could call a valid free stray.
 *
 * The questions the report asks (groups, snapshots, diffs) walk the shards
 * one at a time from a control thread and may allocate.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/guard.h"
#include "mpaudit_heap.h"
#include "core/clock.h"
#include "heap.h"
#include "heap_int.h"
#include "core/log.h"
#include "mpaudit_stamp.h"
#include "stack.h"

#define MPA_HEAP_SHARDS 1024u
#define SHARD_BITS 10
#define SHARD_MIN_CAP 16u
/* Recent frees remembered per shard, to tell a double free from a stray. */
#define FREED_RING 16u

#define EMPTY ((uintptr_t)0)
#define TOMB ((uintptr_t)1)

struct freed {
	uintptr_t ptr;
	uintptr_t pc;        /* return address of the free call */
	uint32_t alloc_stack;
	uint8_t kind;
};

struct shard {
	uint32_t lock;
	uint32_t mask;       /* capacity - 1; 0 while there is no table */
	uint32_t used;       /* live + tombstones */
	uint32_t live;
	struct mpa_heap_rec *slots;
	uint32_t ring_pos;
	/* In-scope counters, summed by mpa_heap_stats(). */
	uint64_t live_count[MPA_HEAP_KINDS];
	uint64_t live_bytes[MPA_HEAP_KINDS];
	uint64_t allocs[MPA_HEAP_KINDS];
	uint64_t frees[MPA_HEAP_KINDS];
	struct freed ring[FREED_RING];
} __attribute__((aligned(64)));

static struct shard shards[MPA_HEAP_SHARDS];

/* Tracker state, read on every call: see heap_int.h. */
int mpa_heap_state;
int mpa_heap_scope;
static const char *fail_reason;
static uint64_t mem_bytes;       /* mmap'd by the tables */
static uint64_t mem_cap = (uint64_t)4096 << 20;
static uint32_t depth_cfg = MPA_STACK_DEFAULT_DEPTH;
static int manual_cfg;

const char *
mpa_heap_kind_name(enum mpa_heap_kind kind)
{
	return kind == MPA_HEAP_RTE ? "rte_malloc" : "libc";
}

static inline uint64_t
hash_ptr(uintptr_t p)
{
	return (uint64_t)(p >> 4) * UINT64_C(0x9E3779B97F4A7C15);
}

static inline struct shard *
shard_of(uint64_t h)
{
	return &shards[h >> (64 - SHARD_BITS)];
}

static inline void
shard_lock(struct shard *s)
{
	while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED) != 0)
			__builtin_ia32_pause();
}

static inline void
shard_unlock(struct shard *s)
{
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

void
mpa_heap_fail(const char *why)
{
	const char *none = NULL;

	/* The first reason wins; readers see the state change after it. */
	__atomic_compare_exchange_n(&fail_reason, &none, why, 0,
				    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	__atomic_store_n(&mpa_heap_state, MPA_HEAP_FAILED, __ATOMIC_RELEASE);
}

void
mpa_heap_configure(uint32_t depth, uint64_t max_mb, int manual)
{
	depth_cfg = depth;
	mem_cap = max_mb << 20;
	manual_cfg = manual;
}

void
mpa_heap_poll(void)
{
	static int said;
	const char *why = __atomic_load_n(&fail_reason, __ATOMIC_ACQUIRE);

	/* Said from a control thread: the failure itself happens inside malloc. */
	if (why != NULL && !said) {
		said = 1;
		MPA_LOG(ERR, "heap tracking disabled: %s; the application runs on, its heap untracked",
			why);
	}
}

/*
 * fork(): the child must not inherit a shard lock held by a thread that
 * does not exist there. Take them all around the fork.
 */
static void
fork_prepare(void)
{
	for (uint32_t i = 0; i < MPA_HEAP_SHARDS; i++)
		shard_lock(&shards[i]);
}

static void
fork_done(void)
{
	for (uint32_t i = 0; i < MPA_HEAP_SHARDS; i++)
		shard_unlock(&shards[i]);
}

void
mpa_heap_atfork(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

uint32_t
mpa_heap_now(void)
{
	uint32_t t = mpa_clock_ms;

	return t != 0 ? t : mpa_clock_read();
}

int
mpa_heap_active(void)
{
	return __atomic_load_n(&mpa_heap_state, __ATOMIC_ACQUIRE) == MPA_HEAP_ON;
}

int
mpa_heap_tracking(void)
{
	return mpa_heap_active() &&
	       __atomic_load_n(&mpa_heap_scope, __ATOMIC_ACQUIRE);
}

void
mpa_heap_eal_ready(void)
{
	if (mpa_heap_active() && !manual_cfg) {
		__atomic_store_n(&mpa_heap_scope, 1, __ATOMIC_RELEASE);
		MPA_LOG(INFO, "heap tracking on: stacks of %u frames", depth_cfg);
	} else if (mpa_heap_active()) {
		MPA_LOG(INFO, "heap tracking armed (MPAUDIT_HEAP_TRACK=manual): start it with mpa_heap_track(1), /mpaudit/heap_track or the track signal");
	}
}

int
mpa_heap_track(int on)
{
	int prev;

	if (!mpa_heap_active())
		return -ENOTSUP;
	prev = __atomic_exchange_n(&mpa_heap_scope, on != 0, __ATOMIC_ACQ_REL);
	if (prev != (on != 0))
		MPA_LOG(INFO, "heap tracking %s", on ? "started" : "stopped");
	return prev;
}

int
mpa_heap_snapshot(const char *name)
{
	int rc;

	if (!mpa_heap_active())
		return -ENOTSUP;
	mpa_guard_enter();
	rc = mpa_heap_snapshot_take(name);
	mpa_guard_leave();
	return rc;
}

static void *
table_alloc(size_t bytes)
{
	void *p;

	if (__atomic_add_fetch(&mem_bytes, bytes, __ATOMIC_RELAXED) > mem_cap) {
		__atomic_sub_fetch(&mem_bytes, bytes, __ATOMIC_RELAXED);
		mpa_heap_fail("its tables reached MPAUDIT_HEAP_MAX_MB");
		return NULL;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		__atomic_sub_fetch(&mem_bytes, bytes, __ATOMIC_RELAXED);
		mpa_heap_fail("mmap failed: out of memory");
		return NULL;
	}
	return p;
}

static void
table_free(void *p, size_t bytes)
{
	munmap(p, bytes);
	__atomic_sub_fetch(&mem_bytes, bytes, __ATOMIC_RELAXED);
}

/*
 * Rebuild the shard's table with room for twice its live records (or the
 * same size, if tombstones are what filled it). Caller holds the lock.
 */
static int
shard_grow(struct shard *s)
{
	uint32_t cap = SHARD_MIN_CAP, old_cap = s->mask ? s->mask + 1 : 0;
	struct mpa_heap_rec *t;

	while (cap < (s->live + 1) * 2u)
		cap <<= 1;
	if (cap < old_cap && s->used - s->live < old_cap / 4)
		cap = old_cap;
	t = table_alloc((size_t)cap * sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < old_cap; i++) {
		const struct mpa_heap_rec *r = &s->slots[i];
		uint32_t j;

		if (r->ptr <= TOMB)
			continue;
		j = (uint32_t)(hash_ptr(r->ptr) >> 24) & (cap - 1);
		while (t[j].ptr != EMPTY)
			j = (j + 1) & (cap - 1);
		t[j] = *r;
	}
	if (old_cap != 0)
		table_free(s->slots, (size_t)old_cap * sizeof(*t));
	s->slots = t;
	s->mask = cap - 1;
	s->used = s->live;
	return 0;
}

/*
 * The slot holding @p p, or NULL. Caller holds the lock. The markers
 * themselves are never anyone's address: without the check, a free of
 * (void *)1 would match whichever tombstone lies on its probe path and
 * take that dead record's kind and sites.
 */
static struct mpa_heap_rec *
shard_find(struct shard *s, uintptr_t p, uint64_t h)
{
	uint32_t j;

	if (s->mask == 0 || p <= TOMB)
		return NULL;
	for (j = (uint32_t)(h >> 24) & s->mask; s->slots[j].ptr != EMPTY;
	     j = (j + 1) & s->mask)
		if (s->slots[j].ptr == p)
			return &s->slots[j];
	return NULL;
}

static inline void
count_in(struct shard *s, const struct mpa_heap_rec *r)
{
	if (r->scope) {
		s->live_count[r->kind]++;
		s->live_bytes[r->kind] += r->size;
		s->allocs[r->kind]++;
	}
}

static inline void
count_out(struct shard *s, const struct mpa_heap_rec *r)
{
	if (r->scope) {
		s->live_count[r->kind]--;
		s->live_bytes[r->kind] -= r->size;
		s->frees[r->kind]++;
	}
}

void
mpa_heap_insert(const struct mpa_heap_rec *r)
{
	uint64_t h = hash_ptr(r->ptr);
	struct shard *s = shard_of(h);
	struct mpa_heap_rec *slot, *tomb = NULL;
	uint32_t j;

	/* No allocator returns the markers; a record of them would be lost. */
	if (r->ptr <= TOMB)
		return;
	shard_lock(s);
	if ((s->used + 1) * 4u > (s->mask + 1) * 3u && shard_grow(s) != 0) {
		shard_unlock(s);
		return;
	}
	for (j = (uint32_t)(h >> 24) & s->mask; s->slots[j].ptr != EMPTY;
	     j = (j + 1) & s->mask) {
		slot = &s->slots[j];
		if (slot->ptr == r->ptr) {
			/*
			 * Only if memory came back without passing our free
			 * (an allocator call we do not see): the old record
			 * is stale.
			 */
			count_out(s, slot);
			s->live--;
			tomb = slot;
			s->used--;
			break;
		}
		if (slot->ptr == TOMB && tomb == NULL)
			tomb = slot;
	}
	if (tomb != NULL)
		slot = tomb;
	else {
		slot = &s->slots[j];
		s->used++;
	}
	*slot = *r;
	s->live++;
	count_in(s, r);
	shard_unlock(s);
}

/* Note a free in the shard's ring of recent frees. Caller holds the lock. */
static inline void
remember_free(struct shard *s, uintptr_t p, enum mpa_heap_kind kind,
	      uintptr_t pc, uint32_t alloc_stack)
{
	struct freed *f = &s->ring[s->ring_pos++ % FREED_RING];

	f->ptr = p;
	f->pc = pc;
	f->alloc_stack = alloc_stack;
	f->kind = (uint8_t)kind;
}

int
mpa_heap_take(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc,
	      int remember, struct mpa_heap_rec *out,
	      struct mpa_heap_miss *miss)
{
	uint64_t h = hash_ptr(p);
	struct shard *s = shard_of(h);
	struct mpa_heap_rec *slot;

	shard_lock(s);
	slot = shard_find(s, p, h);
	if (slot != NULL && slot->kind == kind && !slot->memzone) {
		*out = *slot;
		slot->ptr = TOMB;
		s->live--;
		count_out(s, out);
		if (remember)
			remember_free(s, p, kind, pc, out->stack);
		shard_unlock(s);
		return 0;
	}
	memset(miss, 0, sizeof(*miss));
	if (slot != NULL) {
		/* The other heap's, or a memzone's: foreign. */
		miss->found = *slot;
		miss->what = MPA_MISS_FOREIGN;
	} else {
		miss->what = MPA_MISS_STRAY;
		/* Newest first: the free that made this one a double free. */
		for (uint32_t i = 0; i < FREED_RING; i++) {
			const struct freed *f =
				&s->ring[(s->ring_pos - 1 - i) % FREED_RING];

			if (f->ptr == p && p > TOMB) {
				miss->what = MPA_MISS_DOUBLE;
				miss->first_pc = f->pc;
				miss->found.stack = f->alloc_stack;
				miss->found.kind = f->kind;
				break;
			}
		}
	}
	shard_unlock(s);
	return -ENOENT;
}

void
mpa_heap_forget_freed(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc,
		      uint32_t alloc_stack)
{
	struct shard *s = shard_of(hash_ptr(p));

	shard_lock(s);
	remember_free(s, p, kind, pc, alloc_stack);
	shard_unlock(s);
}

int
mpa_heap_take_memzone(uintptr_t addr, struct mpa_heap_rec *out)
{
	uint64_t h = hash_ptr(addr);
	struct shard *s = shard_of(h);
	struct mpa_heap_rec *slot;
	int rc = -ENOENT;

	shard_lock(s);
	slot = shard_find(s, addr, h);
	if (slot != NULL && slot->memzone) {
		*out = *slot;
		slot->ptr = TOMB;
		s->live--;
		count_out(s, out);
		rc = 0;
	}
	shard_unlock(s);
	return rc;
}

/* Control side: walks, groups, snapshots, diffs. */

void
mpa_heap_stats(struct mpa_heap_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->active = mpa_heap_active();
	st->tracking = mpa_heap_tracking();
	st->disabled = __atomic_load_n(&fail_reason, __ATOMIC_ACQUIRE);
	if (st->disabled == NULL && !st->active)
		st->disabled = "MPAUDIT_HEAP=off or not preloaded";
	st->depth = depth_cfg;
	for (uint32_t i = 0; i < MPA_HEAP_SHARDS; i++) {
		struct shard *s = &shards[i];

		shard_lock(s);
		for (int k = 0; k < MPA_HEAP_KINDS; k++) {
			st->live_count[k] += s->live_count[k];
			st->live_bytes[k] += s->live_bytes[k];
			st->allocs[k] += s->allocs[k];
			st->frees[k] += s->frees[k];
		}
		st->records += s->live;
		shard_unlock(s);
	}
	st->stacks = mpa_stack_count();
	st->table_bytes = __atomic_load_n(&mem_bytes, __ATOMIC_RELAXED);
	st->snapshots = (uint32_t)mpa_heap_snapshot_names(NULL, 0);
}

/*
 * Aggregation by (kind, stack): an open-addressing map from libc (we run
 * on a control thread, marked internal), rebuilt per question.
 */
struct agg {
	uint32_t cap, n;
	struct mpa_heap_group *g;
};

static uint64_t
agg_key(enum mpa_heap_kind kind, uint32_t stack, uint8_t cls)
{
	return ((uint64_t)stack << 3 | (uint64_t)cls << 1 | (uint64_t)kind) *
	       UINT64_C(0x9E3779B97F4A7C15);
}

static int
agg_init(struct agg *a, uint32_t cap)
{
	a->cap = cap;
	a->n = 0;
	a->g = calloc(cap, sizeof(*a->g));
	return a->g != NULL ? 0 : -ENOMEM;
}

/* Slot for (kind, stack), created empty if absent; count 0 marks empty. */
static struct mpa_heap_group *
agg_slot(struct agg *a, enum mpa_heap_kind kind, uint32_t stack, uint8_t cls)
{
	uint32_t j;

	if ((a->n + 1) * 2 > a->cap) {
		struct agg b;

		if (agg_init(&b, a->cap * 2) != 0)
			return NULL;
		for (uint32_t i = 0; i < a->cap; i++) {
			struct mpa_heap_group *g = &a->g[i];

			if (g->count == 0 && g->bytes == 0 && g->sample == 0)
				continue;
			j = (uint32_t)(agg_key(g->kind, g->stack, (uint8_t)g->cls) >> 32) &
			    (b.cap - 1);
			while (b.g[j].sample != 0)
				j = (j + 1) & (b.cap - 1);
			b.g[j] = *g;
			b.n++;
		}
		free(a->g);
		*a = b;
	}
	j = (uint32_t)(agg_key(kind, stack, cls) >> 32) & (a->cap - 1);
	while (a->g[j].sample != 0) {
		if (a->g[j].kind == kind && a->g[j].stack == stack &&
		    a->g[j].cls == (enum mpa_heap_class)cls)
			return &a->g[j];
		j = (j + 1) & (a->cap - 1);
	}
	a->g[j].kind = kind;
	a->g[j].stack = stack;
	a->g[j].cls = (enum mpa_heap_class)cls;
	a->n++;
	return &a->g[j];
}

/* Compact the map into its first n entries. */
static void
agg_compact(struct agg *a)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < a->cap; i++)
		if (a->g[i].sample != 0)
			a->g[n++] = a->g[i];
}

/* Fold record @p r, @p age ms old, into its group of class @p cls. */
static int
fold(struct agg *a, const struct mpa_heap_rec *r, uint32_t age, uint8_t cls,
     const char *owner)
{
	struct mpa_heap_group *g = agg_slot(a, (enum mpa_heap_kind)r->kind,
					    r->stack, cls);

	if (g == NULL)
		return -ENOMEM;
	g->bytes += r->size;
	g->count++;
	if (g->sample == 0 || age > g->max_age_ms ||
	    (age == g->max_age_ms && r->ptr < g->sample)) {
		g->max_age_ms = age;
		g->sample = r->ptr;
		g->type = r->memzone ? "memzone" : mpa_heap_string(r->type);
		g->memzone = r->memzone ? mpa_heap_string(r->type) : NULL;
		g->socket = r->socket;
		g->owner = owner;
	}
	if (r->lcore < 64)
		g->lcores |= UINT64_C(1) << r->lcore;
	else
		g->non_eal++;
	return 0;
}

/* Age of @p r at @p now; -1 if it is younger than @p min_age_ms. */
static int64_t
rec_age(const struct mpa_heap_rec *r, uint32_t min_age_ms, uint32_t now)
{
	uint32_t age = now - r->time_ms;

	if ((int32_t)age < 0)
		age = 0;
	return age < min_age_ms ? -1 : (int64_t)age;
}

/*
 * Fold every in-scope record at least @p min_age_ms old into @p a.
 * One shard locked at a time: allocations elsewhere go on meanwhile.
 */
static int
collect(struct agg *a, uint32_t min_age_ms, uint32_t now)
{
	for (uint32_t i = 0; i < MPA_HEAP_SHARDS; i++) {
		struct shard *s = &shards[i];
		int rc = 0;

		shard_lock(s);
		for (uint32_t j = 0; s->mask != 0 && j <= s->mask; j++) {
			const struct mpa_heap_rec *r = &s->slots[j];
			int64_t age;

			if (r->ptr <= TOMB || !r->scope)
				continue;
			age = rec_age(r, min_age_ms, now);
			if (age < 0)
				continue;
			rc = fold(a, r, (uint32_t)age, MPA_HEAP_UNCLASSIFIED, NULL);
			if (rc != 0)
				break;
		}
		shard_unlock(s);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Leaks first (lost, then the classes that are not), then by size. */
static int
group_cmp(const void *x, const void *y)
{
	const struct mpa_heap_group *a = x, *b = y;

	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/*
 * The dynamic loader's own allocations (the TLS blocks glibc keeps with
 * the thread stacks it caches for reuse, link maps of loaded modules) are
 * the C runtime's bookkeeping, never an application leak: a stack that
 * passes through ld.so is left out of every answer.
 */
static int
loader_stack(uint32_t id)
{
	const struct mpa_stack *st = mpa_stack_get(id);

	for (uint32_t i = 0; st != NULL && i < st->depth; i++) {
		const struct mpa_module *m = mpa_module_get(st->frames[i].module);
		const char *base;

		if (m == NULL || m->path == NULL)
			continue;
		base = strrchr(m->path, '/');
		base = base != NULL ? base + 1 : m->path;
		if (strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld64.so", 7) == 0)
			return 1;
	}
	return 0;
}

/* Keep the loader's groups (@p loader 1) or everything else (0). */
static void
filter_loader_groups(struct agg *a, int loader)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < a->n; i++)
		if (loader_stack(a->g[i].stack) == loader)
			a->g[n++] = a->g[i];
	a->n = n;
}

static int
aggregate_filtered(uint32_t min_age_ms, struct agg *a, int loader)
{
	int rc;

	if (!mpa_heap_active())
		return -ENOTSUP;
	rc = agg_init(a, 256);
	if (rc != 0)
		return rc;
	rc = collect(a, min_age_ms, mpa_heap_now());
	if (rc != 0) {
		free(a->g);
		return rc;
	}
	agg_compact(a);
	filter_loader_groups(a, loader);
	qsort(a->g, a->n, sizeof(*a->g), group_cmp);
	return 0;
}

static int
aggregate(uint32_t min_age_ms, struct agg *a)
{
	return aggregate_filtered(min_age_ms, a, 0);
}

int
mpa_heap_runtime(uint64_t count[MPA_HEAP_KINDS], uint64_t bytes[MPA_HEAP_KINDS])
{
	struct agg a;
	int rc = aggregate_filtered(0, &a, 1);

	for (int k = 0; k < MPA_HEAP_KINDS; k++)
		count[k] = bytes[k] = 0;
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < a.n; i++) {
		count[a.g[i].kind] += a.g[i].count;
		bytes[a.g[i].kind] += a.g[i].bytes;
	}
	free(a.g);
	return 0;
}

int
mpa_heap_groups(uint32_t min_age_ms, struct mpa_heap_group **out)
{
	struct agg a;
	int rc = aggregate(min_age_ms, &a);

	if (rc != 0)
		return rc;
	*out = a.g;
	return (int)a.n;
}

static int
rec_addr_cmp(const void *x, const void *y)
{
	const struct mpa_heap_rec *a = x, *b = y;

	return a->ptr < b->ptr ? -1 : a->ptr > b->ptr;
}

int
mpa_heap_copy_records(struct mpa_heap_rec **out)
{
	struct mpa_heap_rec *v = NULL;
	uint32_t n = 0, cap = 0;
	int rc = 0;

	if (!mpa_heap_active())
		return -ENOTSUP;
	for (uint32_t i = 0; i < MPA_HEAP_SHARDS && rc == 0; i++) {
		struct shard *s = &shards[i];

		shard_lock(s);
		/*
		 * Never allocate under a shard lock: our own allocation
		 * is recorded too, perhaps in this shard. Grow, then retry.
		 */
		while (n + s->live > cap) {
			uint32_t ncap = (n + s->live) * 2 + 1024;
			struct mpa_heap_rec *nv;

			shard_unlock(s);
			nv = realloc(v, (size_t)ncap * sizeof(*v));
			shard_lock(s);
			if (nv == NULL) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		for (uint32_t j = 0; rc == 0 && s->mask != 0 && j <= s->mask; j++) {
			const struct mpa_heap_rec *r = &s->slots[j];

			if (r->ptr > TOMB && !r->internal)
				v[n++] = *r;
		}
		shard_unlock(s);
	}
	if (rc != 0) {
		free(v);
		return rc;
	}
	qsort(v, n, sizeof(*v), rec_addr_cmp);
	*out = v;
	return (int)n;
}

int
mpa_heap_groups_of(const struct mpa_heap_rec *recs,
		   const struct mpa_heap_verdict *v, uint32_t n,
		   uint32_t min_age_ms, uint32_t now,
		   struct mpa_heap_group **out)
{
	struct agg a;
	int rc = agg_init(&a, 256);

	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		int64_t age;

		if (!recs[i].scope)
			continue;
		age = rec_age(&recs[i], min_age_ms, now);
		if (age >= 0)
			rc = fold(&a, &recs[i], (uint32_t)age, v[i].cls, v[i].owner);
	}
	if (rc != 0) {
		free(a.g);
		return rc;
	}
	agg_compact(&a);
	filter_loader_groups(&a, 0);
	qsort(a.g, a.n, sizeof(*a.g), group_cmp);
	*out = a.g;
	return (int)a.n;
}

const char *
mpa_heap_class_name(enum mpa_heap_class cls)
{
	switch (cls) {
	case MPA_HEAP_LOST: return "lost";
	case MPA_HEAP_REACHABLE: return "reachable";
	case MPA_HEAP_OWNED: return "owned";
	default: return NULL;
	}
}

/* Snapshots: the aggregate per (kind, stack) at one moment. */

struct snapshot {
	char name[MPA_HEAP_NAME_MAX + 1];
	uint32_t n;
	struct mpa_heap_group *g;   /* sorted by (kind, stack) */
};

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot snaps[MPA_HEAP_SNAPSHOTS_MAX];
static uint32_t nsnaps;

static int
key_cmp(const void *x, const void *y)
{
	const struct mpa_heap_group *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

static int
name_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL || strcmp(name, "now") == 0)
		return 0;
	for (; name[n] != '\0'; n++) {
		char c = name[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return n >= 1 && n <= MPA_HEAP_NAME_MAX;
}

static struct snapshot *
snap_find(const char *name)
{
	for (uint32_t i = 0; i < nsnaps; i++)
		if (strcmp(snaps[i].name, name) == 0)
			return &snaps[i];
	return NULL;
}

int
mpa_heap_snapshot_take(const char *name)
{
	struct agg a;
	int rc;

	if (!name_ok(name))
		return -EINVAL;
	pthread_mutex_lock(&snap_lock);
	if (snap_find(name) != NULL)
		rc = -EEXIST;
	else if (nsnaps == MPA_HEAP_SNAPSHOTS_MAX)
		rc = -ENOSPC;
	else
		rc = aggregate(0, &a);
	if (rc == 0) {
		struct snapshot *s = &snaps[nsnaps++];

		qsort(a.g, a.n, sizeof(*a.g), key_cmp);
		strcpy(s->name, name);
		s->n = a.n;
		s->g = a.g;
	}
	pthread_mutex_unlock(&snap_lock);
	return rc;
}

int
mpa_heap_snapshot_drop(const char *name)
{
	struct snapshot *s;
	int rc = -ENOENT;

	pthread_mutex_lock(&snap_lock);
	s = name != NULL ? snap_find(name) : NULL;
	if (s != NULL) {
		free(s->g);
		memmove(s, s + 1, (size_t)(&snaps[nsnaps] - (s + 1)) * sizeof(*s));
		nsnaps--;
		rc = 0;
	}
	pthread_mutex_unlock(&snap_lock);
	return rc;
}

int
mpa_heap_snapshot_names(const char *names[], int max)
{
	int n;

	pthread_mutex_lock(&snap_lock);
	for (n = 0; n < (int)nsnaps && n < max; n++)
		names[n] = snaps[n].name;
	if (max == 0)
		n = (int)nsnaps;
	pthread_mutex_unlock(&snap_lock);
	return n;
}

const char *
mpa_heap_change_name(const struct mpa_heap_delta *d)
{
	if (d->count_from == 0 && d->bytes_from == 0)
		return "new";
	if (d->count_to == 0 && d->bytes_to == 0)
		return "gone";
	if (d->bytes_delta > 0 || (d->bytes_delta == 0 && d->count_delta > 0))
		return "grown";
	if (d->bytes_delta < 0 || d->count_delta < 0)
		return "shrunk";
	return "same";
}

static int
delta_cmp(const void *x, const void *y)
{
	const struct mpa_heap_delta *a = x, *b = y;

	if (a->bytes_delta != b->bytes_delta)
		return a->bytes_delta > b->bytes_delta ? -1 : 1;
	if (a->count_delta != b->count_delta)
		return a->count_delta > b->count_delta ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

int
mpa_heap_diff(const char *from, const char *to, struct mpa_heap_delta **out)
{
	struct mpa_heap_group *fg, *tg, *now_g = NULL;
	uint32_t fn, tn, i = 0, j = 0, n = 0;
	struct mpa_heap_delta *d;
	struct snapshot *fs, *ts = NULL;
	int rc = 0;

	if (!mpa_heap_active())
		return -ENOTSUP;
	if (from == NULL)
		return -EINVAL;
	pthread_mutex_lock(&snap_lock);
	fs = snap_find(from);
	if (to != NULL && strcmp(to, "now") != 0)
		ts = snap_find(to);
	if (fs == NULL || (to != NULL && strcmp(to, "now") != 0 && ts == NULL)) {
		rc = -ENOENT;
		goto out;
	}
	fg = fs->g;
	fn = fs->n;
	if (ts != NULL) {
		tg = ts->g;
		tn = ts->n;
	} else {
		struct agg a;

		rc = aggregate(0, &a);
		if (rc != 0)
			goto out;
		qsort(a.g, a.n, sizeof(*a.g), key_cmp);
		tg = now_g = a.g;
		tn = a.n;
	}
	d = calloc((size_t)fn + tn + 1, sizeof(*d));
	if (d == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Merge two lists sorted by (kind, stack). */
	while (i < fn || j < tn) {
		int c = i == fn ? 1 : j == tn ? -1 : key_cmp(&fg[i], &tg[j]);
		struct mpa_heap_delta *e = &d[n];

		memset(e, 0, sizeof(*e));
		if (c <= 0) {
			e->kind = fg[i].kind;
			e->stack = fg[i].stack;
			e->bytes_from = fg[i].bytes;
			e->count_from = fg[i].count;
			i++;
		}
		if (c >= 0) {
			e->kind = tg[j].kind;
			e->stack = tg[j].stack;
			e->bytes_to = tg[j].bytes;
			e->count_to = tg[j].count;
			j++;
		}
		e->bytes_delta = (int64_t)e->bytes_to - (int64_t)e->bytes_from;
		e->count_delta = (int64_t)e->count_to - (int64_t)e->count_from;
		if (e->bytes_delta != 0 || e->count_delta != 0)
			n++;
	}
	qsort(d, n, sizeof(*d), delta_cmp);
	*out = d;
	rc = (int)n;
out:
	pthread_mutex_unlock(&snap_lock);
	free(now_g);
	return rc;
}

/*
 * Short strings (rte_malloc types, memzone names), interned once each.
 * Type strings are nearly always literals, so each thread remembers the
 * last few pointers it interned and takes the lock only for a new one.
 */

#define STRINGS_MAX 4096u
#define STRING_LEN 48u       /* "mempool " + a 31-character name */
#define TCACHE 8u

static char strings[STRINGS_MAX][STRING_LEN];
static uint32_t nstrings = 1;   /* id 0 = none */
static uint32_t strings_lock;

static __thread struct {
	const char *p;
	uint16_t id;
} str_cache[TCACHE] __attribute__((tls_model("initial-exec")));

uint16_t
mpa_heap_intern(const char *s, int literal)
{
	uint32_t slot = (uint32_t)((uintptr_t)s >> 3) % TCACHE;
	uint32_t id = 0, n;

	if (s == NULL || *s == '\0')
		return 0;
	if (literal && str_cache[slot].p == s)
		return str_cache[slot].id;
	while (__atomic_exchange_n(&strings_lock, 1, __ATOMIC_ACQUIRE) != 0)
		__builtin_ia32_pause();
	n = nstrings;
	for (uint32_t i = 1; i < n; i++)
		if (strncmp(strings[i], s, STRING_LEN - 1) == 0) {
			id = i;
			break;
		}
	if (id == 0 && n < STRINGS_MAX) {
		size_t len = strnlen(s, STRING_LEN - 1);

		memcpy(strings[n], s, len);
		strings[n][len] = '\0';
		id = n;
		__atomic_store_n(&nstrings, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&strings_lock, 0, __ATOMIC_RELEASE);
	/* A memzone's name lives in a reused slot: cache literals only. */
	if (literal) {
		str_cache[slot].p = s;
		str_cache[slot].id = (uint16_t)id;
	}
	return (uint16_t)id;
}

const char *
mpa_heap_string(uint16_t id)
{
	if (id == 0 || id >= __atomic_load_n(&nstrings, __ATOMIC_ACQUIRE))
		return NULL;
	return strings[id];
}
