/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The heap tracker's table: one 32-byte record per live allocation, in
 * MPA_HEAP_SHARDS open-addressing tables picked by a hash of the address,
 * each behind its own spinlock. Two threads contend only when they touch
 * the same shard at the same moment, and a critical section is a probe
 * and one record copy, so a spinlock beats a mutex (no syscall, ever).
 * A thread's own libc allocations are recorded in its magazine instead
 * (see "Per-thread magazines" below), which its malloc and free change
 * without a lock.
 *
 * Everything here may run inside malloc() or free(): no malloc, no stdio,
 * no lock other than a shard's or a magazine's; memory comes from mmap and is accounted
 * against MPAUDIT_HEAP_MAX_MB. When a table cannot grow, the tracker turns
 * itself off for good (mpa_heap_fail): from then on every call passes
 * straight to the real allocator, because a table that missed one
 * allocation could call a valid free stray.
 *
 * The questions the report asks (groups, snapshots, diffs) copy the
 * records of the shards, one locked at a time, and of the magazines, from
 * a control thread, then fold the copy; they may allocate, never under a
 * lock.
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

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

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
spin_lock(uint32_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(l, __ATOMIC_RELAXED) != 0)
			__builtin_ia32_pause();
}

static inline void
spin_unlock(uint32_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static inline void
shard_lock(struct shard *s)
{
	spin_lock(&s->lock);
}

static inline void
shard_unlock(struct shard *s)
{
	spin_unlock(&s->lock);
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

/* @p adopt: moved from a magazine, where it was counted as an allocation. */
static inline void
count_in(struct shard *s, const struct mpa_heap_rec *r, int adopt)
{
	if (r->scope) {
		s->live_count[r->kind]++;
		s->live_bytes[r->kind] += r->size;
		if (!adopt)
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

/* Record @p r (hash @p h) in shard @p s, whose lock the caller holds. */
static void
shard_put(struct shard *s, const struct mpa_heap_rec *r, uint64_t h, int adopt)
{
	struct mpa_heap_rec *slot, *tomb = NULL;
	uint32_t j;

	if ((s->used + 1) * 4u > (s->mask + 1) * 3u && shard_grow(s) != 0)
		return;
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
	count_in(s, r, adopt);
}

static void
shard_insert(const struct mpa_heap_rec *r)
{
	uint64_t h = hash_ptr(r->ptr);
	struct shard *s = shard_of(h);

	shard_lock(s);
	shard_put(s, r, h, 0);
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

static int
shard_take(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc,
	   int remember, struct mpa_heap_rec *out, struct mpa_heap_miss *miss)
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

/*
 * Per-thread magazines (docs/design.md, "Heap tracking"): the records of
 * a thread's own libc allocations, kept where only that thread writes, so
 * that a thread freeing what it allocated takes no lock and makes no
 * locked instruction.
 *
 * A magazine is MAG_SETS sets of MAG_WAYS ways, picked by the address's
 * hash. Way w of a set holds a live record when key[w] is its address;
 * a way whose key is 0 is free, and if fpc[w] is not 0 it remembers the
 * last free of rec[w].ptr (its call site, the allocation's stack) for
 * double-free reports. A full set moves its records to the shards.
 *
 * Who writes what:
 *  - The owner thread alone fills ways (rec, fpc, then key) and empties
 *    its own records (key = 0), bracketing each change of a set by two
 *    increments of its seq (odd while it writes). These are plain stores.
 *  - Another thread freeing a block found here (a cross-thread free)
 *    takes the magazine's lock and clears the key with a compare-and-swap;
 *    it touches nothing else of the set. Its counts go to the r_*
 *    counters, under the lock.
 *  - Records leave a magazine for the shards when a set is full (not
 *    while a walk runs: the new record then goes to the shard), when its
 *    thread exits (the key destructor) and in a fork child for the
 *    threads that did not survive the fork: under the magazine's lock,
 *    counted in `moves` (in flight and started).
 * Readers (cross-thread frees looking for a record, the report's walks)
 * read a set under its seq, without a lock, and repeat a walk or a search
 * that `moves` says overlapped a move: a record is then seen exactly
 * once, in its magazine or in its shard.
 *
 * A magazine is never unmapped: when its thread exits it is empty and is
 * handed to the next thread that asks for one.
 */

#define MAG_SETS 256u
#define MAG_WAYS 4u
/* Threads holding a magazine at once; more use the shards. */
#define MAGS_MAX 256u
/*
 * Allocations a thread sends straight to the shards once another thread
 * freed a block found in its magazine: a producer whose blocks are freed
 * by a consumer then pays the locked path (as without magazines) rather
 * than the consumer's search of every magazine for each block.
 */
#define MAG_BYPASS_ALLOCS 256u

struct mag_set {
	uint32_t seq;
	uint32_t pad;
	uintptr_t key[MAG_WAYS];
	uintptr_t fpc[MAG_WAYS];
	struct mpa_heap_rec rec[MAG_WAYS];
} __attribute__((aligned(64)));

struct mag {
	/* The owner's: written by it alone, read by the stats. */
	uint64_t live;            /* records, in scope or not */
	uint64_t live_count;      /* in scope (all libc) */
	uint64_t live_bytes;
	uint64_t allocs;
	uint64_t frees;
	uint32_t bypass;          /* allocations still to send to the shards */
	uint32_t hits_seen;
	/* Other threads': under lock. */
	uint32_t lock __attribute__((aligned(64)));
	uint32_t in_use;          /* has a thread; under mags_lock */
	uint32_t hits;            /* cross-thread frees of records found here */
	uint64_t r_live, r_live_count, r_live_bytes, r_frees;
	struct mag_set set[MAG_SETS];
};

#define MAG_NONE ((struct mag *)1)   /* this thread uses the shards */

static __thread struct mag *t_mag __attribute__((tls_model("initial-exec")));
/* Inside a change of the own magazine (a signal handler's allocation
 * then uses the shards). */
static __thread int t_mag_busy __attribute__((tls_model("initial-exec")));

static struct mag *mags[MAGS_MAX];
static uint32_t nmags;
static uint32_t mags_lock;
/*
 * Records moving from a magazine to the shards: moves in flight (low 32
 * bits) and moves ever started (high 32 bits), one atomic add each way.
 * A walk of the report (walkers > 0) makes evictions back off; only a
 * thread's exit (and a fork child) then moves records, and the walk is
 * made again.
 */
static uint64_t moves;
static uint32_t walkers;
static __thread int t_moving __attribute__((tls_model("initial-exec")));

static pthread_once_t mag_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t mag_key;
static int mag_key_ok;

#define BARRIER() __asm__ volatile("" ::: "memory")

static inline struct mag_set *
mag_set_of(struct mag *m, uint64_t h)
{
	return &m->set[(h >> 16) & (MAG_SETS - 1)];
}

static inline void
set_write_begin(struct mag_set *st)
{
	__atomic_store_n(&st->seq, st->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
set_write_end(struct mag_set *st)
{
	__atomic_store_n(&st->seq, st->seq + 1, __ATOMIC_RELEASE);
}

/*
 * A consistent copy of a set. The calling thread's own magazine changes
 * only under it (a signal handler may have interrupted a change: the way
 * being changed is then not the one anyone asks about), so it is read
 * as it is; another's is read again while its owner was writing.
 */
__attribute__((no_sanitize("thread")))
static void
set_read(const struct mag_set *st, struct mag_set *v, int own)
{
	for (;;) {
		uint32_t s1 = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);

		if ((s1 & 1) && !own) {
			__builtin_ia32_pause();
			continue;
		}
		memcpy(v, st, sizeof(*v));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (own || __atomic_load_n(&st->seq, __ATOMIC_RELAXED) == s1)
			return;
	}
}

/*
 * The count of moves started, once none is in flight (a search or a walk
 * made from inside a move of this thread's, by a signal handler, does
 * not wait for it).
 */
static uint32_t
move_wait(void)
{
	uint64_t v;

	while (((v = __atomic_load_n(&moves, __ATOMIC_ACQUIRE)) & UINT32_MAX) != 0 &&
	       !t_moving)
		__builtin_ia32_pause();
	return (uint32_t)(v >> 32);
}

/* A move started since move_wait() returned @p g. */
static int
move_changed(uint32_t g)
{
	return (uint32_t)(__atomic_load_n(&moves, __ATOMIC_ACQUIRE) >> 32) != g;
}

/* @p may_back_off: an eviction, which yields to a walk (-1). */
static int
move_begin(int may_back_off)
{
	__atomic_add_fetch(&moves, (UINT64_C(1) << 32) | 1, __ATOMIC_SEQ_CST);
	if (may_back_off && __atomic_load_n(&walkers, __ATOMIC_SEQ_CST) != 0) {
		__atomic_sub_fetch(&moves, 1, __ATOMIC_RELEASE);
		return -1;
	}
	t_moving = 1;
	return 0;
}

static void
move_end(void)
{
	t_moving = 0;
	__atomic_sub_fetch(&moves, 1, __ATOMIC_RELEASE);
}

static void
walk_begin(void)
{
	__atomic_add_fetch(&walkers, 1, __ATOMIC_SEQ_CST);
}

static void
walk_end(void)
{
	__atomic_sub_fetch(&walkers, 1, __ATOMIC_RELEASE);
}

/*
 * Move the live records of set @p st of @p m to the shards. Caller holds
 * m->lock, is m's thread (or the only thread left, in a fork child) and
 * has begun a move; with @p locked the shard locks are held too.
 */
static void
mag_move_set(struct mag *m, struct mag_set *st, int locked)
{
	if (st->seq & 1)   /* a thread that did not survive fork() */
		st->seq++;
	for (uint32_t w = 0; w < MAG_WAYS; w++) {
		const struct mpa_heap_rec *r = &st->rec[w];
		uint64_t h;
		struct shard *s;

		if (st->key[w] == 0)
			continue;
		h = hash_ptr(r->ptr);
		s = shard_of(h);
		if (!locked)
			shard_lock(s);
		shard_put(s, r, h, 1);
		if (!locked)
			shard_unlock(s);
		set_write_begin(st);
		__atomic_store_n(&st->key[w], 0, __ATOMIC_RELAXED);
		st->fpc[w] = 0;
		set_write_end(st);
		m->live--;
		if (r->scope) {
			m->live_count--;
			m->live_bytes -= r->size;
		}
	}
}

static void
mag_move_all(struct mag *m, int locked)
{
	move_begin(0);
	for (uint32_t i = 0; i < MAG_SETS; i++)
		mag_move_set(m, &m->set[i], locked);
	move_end();
}

/*
 * A full set: its records go to the shards, where long-lived blocks
 * (start-up's, a table's) belong, and leave the set to short-lived ones.
 * @return 0, or -1 while a walk runs (the new record goes to the shard).
 */
static __attribute__((noinline)) int
mag_evict_set(struct mag *m, struct mag_set *st)
{
	int rc = -1;

	spin_lock(&m->lock);
	if (move_begin(1) == 0) {
		mag_move_set(m, st, 0);
		move_end();
		rc = 0;
	}
	spin_unlock(&m->lock);
	return rc;
}

/* Thread exit: hand the records to the shards, the magazine to the next. */
static void
mag_exit(void *arg)
{
	struct mag *m = arg;

	t_mag = MAG_NONE;
	spin_lock(&mags_lock);
	spin_lock(&m->lock);
	mag_move_all(m, 0);
	m->in_use = 0;
	spin_unlock(&m->lock);
	spin_unlock(&mags_lock);
}

static void
mag_key_init(void)
{
	mag_key_ok = pthread_key_create(&mag_key, mag_exit) == 0;
}

/*
 * The calling thread's first tracked libc allocation: a magazine, reused
 * or mapped. Without a key to hand its records over at exit the thread
 * goes without one. Meanwhile (pthread_setspecific() may allocate) and
 * after a failure, this thread uses the shards.
 */
static __attribute__((noinline)) struct mag *
mag_claim(void)
{
	struct mag *m = NULL;
	uint32_t n;

	t_mag = MAG_NONE;
	pthread_once(&mag_key_once, mag_key_init);
	if (!mag_key_ok)
		return NULL;
	spin_lock(&mags_lock);
	n = nmags;
	for (uint32_t i = 0; i < n && m == NULL; i++)
		if (!mags[i]->in_use)
			m = mags[i];
	if (m == NULL && n < MAGS_MAX) {
		spin_unlock(&mags_lock);   /* mmap outside the lock */
		m = table_alloc(sizeof(*m));
		spin_lock(&mags_lock);
		if (m != NULL) {
			n = nmags;
			if (n < MAGS_MAX) {
				mags[n] = m;
				__atomic_store_n(&nmags, n + 1, __ATOMIC_RELEASE);
			} else {
				table_free(m, sizeof(*m));
				m = NULL;
			}
		}
	}
	if (m != NULL)
		m->in_use = 1;
	spin_unlock(&mags_lock);
	if (m == NULL)
		return NULL;
	if (pthread_setspecific(mag_key, m) != 0) {
		spin_lock(&mags_lock);
		m->in_use = 0;
		spin_unlock(&mags_lock);
		return NULL;
	}
	t_mag = m;
	return m;
}

/* @return 0 if @p r went into this thread's magazine, -1 for the shards. */
static inline int
mag_insert(const struct mpa_heap_rec *r)
{
	uintptr_t p = r->ptr;
	struct mag_set *st;
	struct mag *m = t_mag;
	uint32_t w = MAG_WAYS, hits;
	int stale = 0;

	if (r->kind != MPA_HEAP_LIBC || r->memzone || t_mag_busy)
		return -1;
	if (unlikely(m <= MAG_NONE)) {
		if (m == MAG_NONE || (m = mag_claim()) == NULL)
			return -1;
	}
	if (unlikely(m->bypass != 0)) {
		m->bypass--;
		return -1;
	}
	hits = __atomic_load_n(&m->hits, __ATOMIC_RELAXED);
	if (unlikely(hits != m->hits_seen)) {
		m->hits_seen = hits;
		m->bypass = MAG_BYPASS_ALLOCS - 1;
		return -1;
	}
	st = mag_set_of(m, hash_ptr(p));
	/* A free way, the one that remembers p's last free if any. */
	for (uint32_t i = 0; i < MAG_WAYS; i++) {
		uintptr_t k = st->key[i];

		if (k == p) {
			w = i;
			stale = 1;
			break;
		}
		if (k == 0 && (w == MAG_WAYS || st->rec[i].ptr == p))
			w = i;
	}
	t_mag_busy = 1;
	BARRIER();
	if (w == MAG_WAYS) {
		if (mag_evict_set(m, st) != 0) {
			BARRIER();
			t_mag_busy = 0;
			return -1;
		}
		w = 0;
	}
	set_write_begin(st);
	if (stale) {
		/* As shard_put(): memory that came back past our free. */
		const struct mpa_heap_rec *o = &st->rec[w];

		m->live--;
		if (o->scope) {
			m->live_count--;
			m->live_bytes -= o->size;
			m->frees++;
		}
	}
	st->rec[w] = *r;
	st->fpc[w] = 0;
	__atomic_store_n(&st->key[w], p, __ATOMIC_RELAXED);
	set_write_end(st);
	m->live++;
	if (r->scope) {
		m->live_count++;
		m->live_bytes += r->size;
		m->allocs++;
	}
	BARRIER();
	t_mag_busy = 0;
	return 0;
}

/* The owner's free of its own record: no lock. @return 0, or -1. */
static inline int
mag_take_own(struct mag *m, uintptr_t p, uintptr_t pc, int remember,
	     struct mpa_heap_rec *out)
{
	struct mag_set *st = mag_set_of(m, hash_ptr(p));
	uint32_t w;

	for (w = 0; w < MAG_WAYS; w++)
		if (st->key[w] == p)
			break;
	if (w == MAG_WAYS)
		return -1;
	t_mag_busy = 1;
	BARRIER();
	*out = st->rec[w];
	set_write_begin(st);
	__atomic_store_n(&st->key[w], 0, __ATOMIC_RELAXED);
	st->fpc[w] = remember ? pc : 0;
	set_write_end(st);
	m->live--;
	if (out->scope) {
		m->live_count--;
		m->live_bytes -= out->size;
		m->frees++;
	}
	BARRIER();
	t_mag_busy = 0;
	return 0;
}

/* A remembered free of p found in a magazine. */
struct mag_freed {
	uintptr_t pc;
	uint32_t stack;
	uint8_t kind;
};

/*
 * Look for @p in every magazine. A live record of @p kind is taken (0,
 * *out); one of the other kind is left (1, *out). Else -ENOENT, with the
 * remembered frees of p found in this thread's magazine (@p own) and in
 * another's (@p other; pc 0: none).
 */
static int
mags_take(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc, int remember,
	  struct mpa_heap_rec *out, struct mag_freed *own,
	  struct mag_freed *other)
{
	uint32_t n = __atomic_load_n(&nmags, __ATOMIC_ACQUIRE);
	uint64_t h = hash_ptr(p);
	struct mag_set v;

	memset(own, 0, sizeof(*own));
	memset(other, 0, sizeof(*other));
	for (uint32_t i = 0; i < n; i++) {
		struct mag *m = mags[i];
		struct mag_set *st = mag_set_of(m, h);
		uintptr_t want;
		uint32_t w;
retry:
		for (w = 0; w < MAG_WAYS; w++)
			if (__atomic_load_n(&st->key[w], __ATOMIC_ACQUIRE) == p)
				break;
		if (w < MAG_WAYS) {
			spin_lock(&m->lock);
			/* The way's record stays as it is while its key is p. */
			if (__atomic_load_n(&st->key[w], __ATOMIC_ACQUIRE) != p) {
				spin_unlock(&m->lock);
				goto retry;
			}
			*out = st->rec[w];
			if (out->kind != kind) {
				spin_unlock(&m->lock);
				return 1;
			}
			want = p;
			if (!__atomic_compare_exchange_n(&st->key[w], &want,
							 (uintptr_t)0, 0,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED)) {
				spin_unlock(&m->lock);
				goto retry;
			}
			m->r_live++;
			if (out->scope) {
				m->r_live_count++;
				m->r_live_bytes += out->size;
				m->r_frees++;
			}
			m->hits++;
			spin_unlock(&m->lock);
			if (remember) {
				struct shard *s = shard_of(h);

				shard_lock(s);
				remember_free(s, p, kind, pc, out->stack);
				shard_unlock(s);
			}
			return 0;
		}
		set_read(st, &v, m == t_mag);
		for (w = 0; w < MAG_WAYS; w++) {
			struct mag_freed *f = m == t_mag ? own : other;

			if (v.key[w] == 0 && v.rec[w].ptr == p && v.fpc[w] != 0 &&
			    f->pc == 0) {
				f->pc = v.fpc[w];
				f->stack = v.rec[w].stack;
				f->kind = (uint8_t)v.rec[w].kind;
			}
		}
	}
	return -ENOENT;
}

void
mpa_heap_insert_words(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	union mpa_heap_rec_words u = { .w = { w0, w1, w2, w3 } };

	/* No allocator returns the markers; a record of them would be lost. */
	if (w0 <= TOMB)
		return;
	if (mag_insert(&u.r) == 0)
		return;
	shard_insert(&u.r);
}

void
mpa_heap_insert(const struct mpa_heap_rec *r)
{
	const union mpa_heap_rec_words *u = (const void *)r;

	mpa_heap_insert_words(u->w[0], u->w[1], u->w[2], u->w[3]);
}

/*
 * Not in this thread's magazine: the shard, then every magazine (a block
 * another thread allocated), then the shard again if a move may have
 * carried the record past the search.
 */
static __attribute__((noinline)) int
take_slow(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc, int remember,
	  struct mpa_heap_rec *out, struct mpa_heap_miss *miss)
{
	struct mag_freed own, other;
	int rc;

	for (;;) {
		uint32_t g = move_wait();

		rc = shard_take(p, kind, pc, remember, out, miss);
		if (rc == 0 || miss->what == MPA_MISS_FOREIGN || p <= TOMB ||
		    __atomic_load_n(&nmags, __ATOMIC_ACQUIRE) == 0)
			return rc;
		rc = mags_take(p, kind, pc, remember, out, &own, &other);
		if (rc == 0)
			return 0;
		if (rc == 1) {
			memset(miss, 0, sizeof(*miss));
			miss->what = MPA_MISS_FOREIGN;
			miss->found = *out;
			return -ENOENT;
		}
		if (!move_changed(g))
			break;
	}
	/*
	 * The first free: this thread's own magazine remembers its latest
	 * frees, the shard's ring anyone's, then another thread's magazine.
	 */
	if (own.pc == 0 && miss->what != MPA_MISS_DOUBLE)
		own = other;
	if (own.pc != 0) {
		memset(miss, 0, sizeof(*miss));
		miss->what = MPA_MISS_DOUBLE;
		miss->first_pc = own.pc;
		miss->found.stack = own.stack;
		miss->found.kind = own.kind;
	}
	return -ENOENT;
}

int
mpa_heap_take(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc,
	      int remember, struct mpa_heap_rec *out,
	      struct mpa_heap_miss *miss)
{
	struct mag *m = t_mag;

	if (kind == MPA_HEAP_LIBC && m > MAG_NONE && !t_mag_busy &&
	    p > TOMB && mag_take_own(m, p, pc, remember, out) == 0)
		return 0;
	return take_slow(p, kind, pc, remember, out, miss);
}

/*
 * fork(): the child must not inherit a lock held by a thread that does
 * not exist there. Take them all around the fork (mags_lock, then each
 * magazine's, then each shard's: the order everywhere). In the child the
 * magazines of the threads that did not survive give their records to
 * the shards.
 */
static void
fork_prepare(void)
{
	uint32_t n;

	spin_lock(&mags_lock);
	n = nmags;
	for (uint32_t i = 0; i < n; i++)
		spin_lock(&mags[i]->lock);
	for (uint32_t i = 0; i < MPA_HEAP_SHARDS; i++)
		shard_lock(&shards[i]);
}

static void
fork_unlock(void)
{
	for (uint32_t i = 0; i < MPA_HEAP_SHARDS; i++)
		shard_unlock(&shards[i]);
	for (uint32_t i = 0; i < nmags; i++)
		spin_unlock(&mags[i]->lock);
	spin_unlock(&mags_lock);
}

static void
fork_child(void)
{
	walkers = 0;   /* a walk under way in a thread gone */
	for (uint32_t i = 0; i < nmags; i++) {
		struct mag *m = mags[i];

		if (m != t_mag && m->in_use) {
			mag_move_all(m, 1);
			m->in_use = 0;
		}
	}
	fork_unlock();
}

void
mpa_heap_atfork(void)
{
	pthread_atfork(fork_prepare, fork_unlock, fork_child);
}

/*
 * Every live record of every magazine through @p fn, outside every lock
 * (@p fn may allocate). @return fn's first non-zero value, or 0.
 */
static int
mags_walk(int (*fn)(const struct mpa_heap_rec *, void *), void *arg)
{
	uint32_t n = __atomic_load_n(&nmags, __ATOMIC_ACQUIRE);
	struct mag_set v;

	for (uint32_t i = 0; i < n; i++) {
		struct mag *m = mags[i];

		for (uint32_t j = 0; j < MAG_SETS; j++) {
			set_read(&m->set[j], &v, m == t_mag);
			for (uint32_t w = 0; w < MAG_WAYS; w++) {
				int rc;

				if (v.key[w] <= TOMB || v.rec[w].ptr != v.key[w])
					continue;
				rc = fn(&v.rec[w], arg);
				if (rc != 0)
					return rc;
			}
		}
	}
	return 0;
}

/* Control side: walks, groups, snapshots, diffs. */

/* A walk that a move overlapped is made again, at most this many times. */
#define WALK_TRIES 8

static void
stats_sum(struct mpa_heap_stats *st)
{
	uint32_t n = __atomic_load_n(&nmags, __ATOMIC_ACQUIRE);

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
	/* Magazines hold libc records only. */
	for (uint32_t i = 0; i < n; i++) {
		struct mag *m = mags[i];
		const int k = MPA_HEAP_LIBC;

		spin_lock(&m->lock);
		st->live_count[k] += __atomic_load_n(&m->live_count, __ATOMIC_RELAXED) -
				     m->r_live_count;
		st->live_bytes[k] += __atomic_load_n(&m->live_bytes, __ATOMIC_RELAXED) -
				     m->r_live_bytes;
		st->allocs[k] += __atomic_load_n(&m->allocs, __ATOMIC_RELAXED);
		st->frees[k] += __atomic_load_n(&m->frees, __ATOMIC_RELAXED) +
				m->r_frees;
		st->records += __atomic_load_n(&m->live, __ATOMIC_RELAXED) - m->r_live;
		spin_unlock(&m->lock);
	}
}

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
	for (int tries = 0;; tries++) {
		uint32_t g = move_wait();

		memset(st->live_count, 0, sizeof(st->live_count));
		memset(st->live_bytes, 0, sizeof(st->live_bytes));
		memset(st->allocs, 0, sizeof(st->allocs));
		memset(st->frees, 0, sizeof(st->frees));
		st->records = 0;
		stats_sum(st);
		if (!move_changed(g) || tries == WALK_TRIES)
			break;
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

/* A copy of the records, taken for a question of the report. */
struct recvec {
	struct mpa_heap_rec *v;
	uint32_t n, cap;
	int scope_only;          /* in-scope records; else all but internal */
};

static inline int
rec_wanted(const struct recvec *rv, const struct mpa_heap_rec *r)
{
	return r->ptr > TOMB && (rv->scope_only ? r->scope : !r->internal);
}

static int
recvec_grow(struct recvec *rv, uint32_t need)
{
	uint32_t ncap = need * 2 + 1024;
	struct mpa_heap_rec *nv;

	if (need <= rv->cap)
		return 0;
	nv = realloc(rv->v, (size_t)ncap * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	rv->v = nv;
	rv->cap = ncap;
	return 0;
}

/* For mags_walk(): no lock is held, so it may grow the copy. */
static int
recvec_push(const struct mpa_heap_rec *r, void *arg)
{
	struct recvec *rv = arg;

	if (!rec_wanted(rv, r))
		return 0;
	if (recvec_grow(rv, rv->n + 1) != 0)
		return -ENOMEM;
	rv->v[rv->n++] = *r;
	return 0;
}

/*
 * Copy the records (as @p rv says which) of every shard, one locked at a
 * time, then of every magazine; again if a move overlapped the copy.
 * Never allocate under a shard lock: our own allocation is recorded too,
 * perhaps in this shard. Grow, then retry. (free() rv->v on error too.)
 */
static int
copy_walk(struct recvec *rv)
{
	for (int tries = 0;; tries++) {
		uint32_t g = move_wait();
		int rc = 0;

		rv->n = 0;
		for (uint32_t i = 0; i < MPA_HEAP_SHARDS && rc == 0; i++) {
			struct shard *s = &shards[i];

			shard_lock(s);
			while (rv->n + s->live > rv->cap) {
				uint32_t need = rv->n + s->live;

				shard_unlock(s);
				rc = recvec_grow(rv, need);
				shard_lock(s);
				if (rc != 0)
					break;
			}
			for (uint32_t j = 0; rc == 0 && s->mask != 0 && j <= s->mask; j++) {
				const struct mpa_heap_rec *r = &s->slots[j];

				if (rec_wanted(rv, r))
					rv->v[rv->n++] = *r;
			}
			shard_unlock(s);
		}
		if (rc == 0)
			rc = mags_walk(recvec_push, rv);
		if (rc != 0)
			return rc;
		if (!move_changed(g) || tries == WALK_TRIES)
			return 0;
	}
}

/* Evictions wait meanwhile, so that a busy thread cannot make it retry. */
static int
copy_all(struct recvec *rv)
{
	int rc;

	walk_begin();
	rc = copy_walk(rv);
	walk_end();
	return rc;
}

/* Fold every in-scope record at least @p min_age_ms old into @p a. */
static int
collect(struct agg *a, uint32_t min_age_ms, uint32_t now)
{
	struct recvec rv = { .scope_only = 1 };
	int rc = copy_all(&rv);

	for (uint32_t i = 0; rc == 0 && i < rv.n; i++) {
		int64_t age = rec_age(&rv.v[i], min_age_ms, now);

		if (age >= 0)
			rc = fold(a, &rv.v[i], (uint32_t)age,
				  MPA_HEAP_UNCLASSIFIED, NULL);
	}
	free(rv.v);
	return rc;
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
	struct recvec rv = { .scope_only = 0 };
	int rc;

	if (!mpa_heap_active())
		return -ENOTSUP;
	rc = copy_all(&rv);
	if (rc != 0) {
		free(rv.v);
		return rc;
	}
	if (rv.n > 1)
		qsort(rv.v, rv.n, sizeof(*rv.v), rec_addr_cmp);
	*out = rv.v;
	return (int)rv.n;
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
