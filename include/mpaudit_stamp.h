/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPAUDIT_STAMP_H
#define MPAUDIT_STAMP_H

/**
 * @file
 * The stamp: mpaudit's per-object record of the last lifecycle event, and
 * the inline wrappers that write it on the fast path.
 *
 * Encoding (one 64-bit word, written with one plain store per object):
 *
 *   63            40 39     32 31                    0
 *   +---------------+---------+----------------------+
 *   |  holder id    |  lcore  |  coarse time (ms)    |
 *   +---------------+---------+----------------------+
 *
 * - holder id: index into the holder table, which interns the tuple
 *   (state, port, queue, ring, call site). 0 means "never stamped". The
 *   tuple is resolved once per call site (or per call site and port/queue
 *   or ring), never per object, so the per-object cost is the store alone.
 * - lcore: rte_lcore_id() of the stamping thread, MPA_LCORE_NONE for a
 *   non-EAL thread.
 * - time: mpa_clock_ms, published every MPA_CLOCK_TICK_MS by the scanner
 *   thread; reading it is one load per call, no rdtsc per object. Ages are
 *   computed as signed 32-bit differences, so wrap-around (49 days) is
 *   harmless.
 *
 * Where the stamp lives, decided once per pool (mpa_mp_stamp_off()):
 * - mbufs of an mbuf pool: in an 8-byte mbuf dynamic field registered by
 *   the auditor (mpa_mbuf_stamp_off), on the mbuf's second cache line,
 *   which rte_pktmbuf_reset() writes and every free reads anyway, so the
 *   stamp adds no line to a packet's life (docs/design.md, "Where the
 *   stamp lives"). Without room for the field, or with MPAUDIT_HISTORY,
 *   mbufs are stamped as other objects are;
 * - other objects: in the 40 spare bytes of the mempool object header,
 *   MPA_STAMP_BACK bytes before the object. DPDK pads the header of every
 *   cache-aligned pool to 64 bytes while struct rte_mempool_objhdr uses
 *   24, so the word never touches the application's object. Pools created
 *   with RTE_MEMPOOL_F_NO_CACHE_ALIGN have no padding: their stamps go to
 *   a side table (mpa_stamp_side(), slower, never inline).
 *
 * Opt-in history (MPAUDIT_HISTORY=K, mpa_objhist_k): the pad has room for
 * MPA_OBJHIST_MAX more words between the stamp and the object header.
 * While K > 0, a stamp that names a new holder first shifts the stamp it
 * replaces into them, most recent first:
 *
 *   obj-64  obj-56  obj-48  obj-40  obj-32  obj-24         obj
 *   +-------+-------+-------+-------+-------+--------------+
 *   | stamp | prev1 | prev2 | prev3 | prev4 | objhdr (24)  | object
 *   +-------+-------+-------+-------+-------+--------------+
 *
 * With K = 0 (the default) the words are never touched and every store
 * path costs one more predicted branch per call at most. Side-table pools
 * keep no history.
 *
 * Thread safety: the wrappers may be called from any thread; they take no
 * lock and make no system call. The only shared writes are the stamps of
 * objects the caller owns at that moment.
 */

#include <stdint.h>

#include <rte_common.h>
#include <rte_branch_prediction.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ethdev.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Distance from the object back to its stamp, inside the header pad. */
#define MPA_STAMP_BACK 64
/** mpa_mp_stamp_off() of a pool whose stamps are in the side table. */
#define MPA_STAMP_OFF_SIDE INT32_MIN
/** Period at which the coarse clock is republished. */
#define MPA_CLOCK_TICK_MS 10
/** lcore field value for threads that are not EAL lcores. */
#define MPA_LCORE_NONE 0xffu

#define MPA_STAMP_TIME_BITS 32
#define MPA_STAMP_LCORE_SHIFT 32
#define MPA_STAMP_HOLDER_SHIFT 40
/** Largest holder id the stamp can carry. */
#define MPA_HOLDER_MAX ((1u << 24) - 1)
/*
 * Holder ids of the free state carry this bit, so a stamp says "free" in
 * its top bit: the free wrappers test it on the line they are about to
 * write, without a table lookup.
 */
#define MPA_HOLDER_FREE_FLAG (1u << 23)
#define MPA_STAMP_FREE_BIT ((uint64_t)MPA_HOLDER_FREE_FLAG << MPA_STAMP_HOLDER_SHIFT)
/** The bare free holder (no site). */
#define MPA_HOLDER_FREE (MPA_ST_FREE | MPA_HOLDER_FREE_FLAG)

static_assert(sizeof(struct rte_mempool_objhdr) + sizeof(uint64_t) <=
	      MPA_STAMP_BACK, "mempool object header leaves no room for a stamp");

/**
 * History words that fit in the pad after the stamp, before DPDK's object
 * header: 4 with DPDK's 24-byte header, 3 when RTE_LIBRTE_MEMPOOL_DEBUG
 * adds its cookie. The most MPAUDIT_HISTORY accepts.
 */
#define MPA_OBJHIST_MAX ((MPA_STAMP_BACK - sizeof(uint64_t) - \
			  sizeof(struct rte_mempool_objhdr)) / sizeof(uint64_t))

/** Object states, as seen in stamps and reports. */
enum mpa_state {
	MPA_ST_NONE = 0, /**< never stamped */
	MPA_ST_FREE,     /**< returned to its pool by instrumented code */
	MPA_ST_APP,      /**< allocated or dequeued by application code */
	MPA_ST_RX,       /**< delivered by rte_eth_rx_burst */
	MPA_ST_TX,       /**< handed to rte_eth_tx_burst */
	MPA_ST_RING,     /**< enqueued to an application rte_ring */
	MPA_ST_PMD,      /**< taken from the pool by code that stamps nothing */
	MPA_ST_UNKNOWN,  /**< held, holder not known */
	MPA_ST_COUNT
};

/**
 * A call site. Instrumented mode declares one static, constant-initialised
 * descriptor per call site (MPA_SITE()), so recording file:line costs
 * nothing at run time. @c holder caches the site's interned holder for
 * events without a port, queue or ring.
 */
struct mpa_site {
	const char *file;
	const char *func;
	uint32_t line;
	uint32_t holder; /**< cached holder id; 0 until first use */
};

/** A static descriptor for the current source line. */
#define MPA_SITE() (__extension__({ \
	static struct mpa_site mpa_site_ = { __FILE__, __func__, __LINE__, 0 }; \
	&mpa_site_; }))

/** Nonzero while the auditor runs; checked once per call. */
extern volatile int mpa_on;
/**
 * Number of live pools whose mbufs, if they hold mbufs, are not stamped at
 * mpa_mbuf_stamp_off: pools without header room (RTE_MEMPOOL_F_NO_CACHE_ALIGN)
 * while mbufs are stamped in the header pad, pools that could hold mbufs
 * but are not recognised as mbuf pools while mbufs are stamped in their
 * dynamic field (mpa_pool_fast_mbuf_excluded()). Pools are counted from
 * the mempool READY event, before any of their objects can be handed
 * out, so while this is 0 a burst of mbufs can be stamped without looking
 * at their pools.
 */
extern volatile uint32_t mpa_nohdr_pools;
/**
 * Offset from an mbuf to its stamp: the auditor's dynamic field, or
 * -MPA_STAMP_BACK (the header pad) when there is none. Set before the
 * first stamp and not changed while the auditor runs.
 */
extern int32_t mpa_mbuf_stamp_off;
/** Coarse clock in milliseconds, published by the scanner thread. */
extern volatile uint32_t mpa_clock_ms;
/**
 * Previous stamps kept per object (MPAUDIT_HISTORY), 0 (the default): none.
 * Set before the auditor starts stamping and not changed while it runs.
 */
extern volatile uint32_t mpa_objhist_k;

/**
 * Intern (state, site, port, queue, ring) and return its holder id.
 * Slow path: called on a per-thread cache miss. Never fails: when the
 * holder table is full the id of a per-state overflow holder is returned.
 */
uint32_t mpa_holder_intern(uint8_t state, const struct mpa_site *site,
			   uint16_t port, uint16_t queue,
			   const struct rte_ring *ring);

/** Size of the per-thread holder cache (entries, power of two). */
#define MPA_HCACHE_SIZE 64

struct mpa_hcache_ent {
	const struct mpa_site *site;
	uint64_t key;
	uint32_t holder;
	int32_t txsync;	/**< TX entries: see MPA_TXSYNC_TRUST */
};

/*
 * TX stamp elision. A queue whose driver frees every packet before its
 * tx_burst returns (net_null, net_pcap's drop, copying drivers) hands the
 * mbufs straight back to this lcore's cache: the tx stamp then describes
 * a holding that never lasts, and is left out. A queue earns that by
 * MPA_TXSYNC_TRUST bursts in a row found freed whole and in order at the
 * top of the cache; a burst whose last packet is not there (the driver
 * kept it: hardware, net_ring) makes it MPA_TXSYNC_NEVER for good, and
 * its packets are stamped after the call (mpa_txsync_lost()). The count
 * lives in the per-thread holder entry (instrumented mode) or in the
 * queue's state (zero-recompile mode). docs/design.md, "TX queues that
 * free at once".
 */
/** Bursts verified freed before a TX queue's stamp is left out. */
#define MPA_TXSYNC_TRUST 64
/** The queue's driver was seen keeping a packet: always stamp. */
#define MPA_TXSYNC_NEVER (-1)

extern __thread struct mpa_hcache_ent mpa_hcache[MPA_HCACHE_SIZE]
	__attribute__((tls_model("initial-exec")));

/**
 * A TX burst was stamped and sent (learning): count it toward
 * MPA_TXSYNC_TRUST in @p *txsync if the @p sent packets are the top of
 * this lcore's cache @p c, in order; set MPA_TXSYNC_NEVER if the last one
 * is not there (or there is no cache); leave it as it is if a cache flush
 * hides the answer.
 */
void mpa_txsync_learn(int32_t *txsync, const struct rte_mempool_cache *c,
		      struct rte_mbuf * const *pkts, uint16_t sent);

/**
 * A trusted TX queue kept the last packet of a burst it accepted, sent
 * unstamped: set MPA_TXSYNC_NEVER and stamp @p stamp, after the fact, on
 * the packets of the burst the driver still holds. That is safe only if
 * no packet freed by the call can have left the cache @p c (whose length
 * was @p len0 and top object @p top0 before the call): otherwise the
 * packets keep their previous stamp and the event is logged.
 */
void mpa_txsync_lost(int32_t *txsync, const struct rte_mempool_cache *c,
		     uint32_t len0, const void *top0,
		     struct rte_mbuf * const *pkts, uint16_t sent,
		     uint64_t stamp, uint16_t port, uint16_t queue);

/** Is @p m the object on top of cache @p c (the last one put)? */
static inline int
mpa_cache_top_is(const struct rte_mempool_cache *c, const void *m)
{
	return c->len != 0 && c->objs[c->len - 1] == m;
}

/** Stamp an object of a pool without header room (side table). */
void mpa_stamp_side(struct rte_mempool *mp, void *obj, uint64_t stamp);

/**
 * Stamp the objects of a ring operation. Ring slots may hold anything, so
 * each pointer is checked to be the start of an object of an audited pool
 * before its header is written; other values are left alone.
 */
void mpa_ring_stamp(const struct rte_ring *r, void * const *objs,
		    unsigned int n, unsigned int esize, uint8_t state,
		    const struct mpa_site *site);

/**
 * Slow path of the free wrappers: @p obj of @p mp is being freed at
 * @p site but its stamp @p old already says free. A stamp is only a
 * suspicion (code that takes objects without stamping: PMD refill, a
 * library's own allocations), so the object is looked for in this lcore's
 * cache @p cache (NULL: the default one) and in the pool's ring.
 * @return 1 if found there: a double free, reported; the caller must not
 * pass the object on. 0: free it as usual.
 */
int mpa_free_twice(struct rte_mempool *mp, void *obj, uint64_t old,
		   struct rte_mempool_cache *cache, const struct mpa_site *site);

/** Free @p mbufs[from..n) one by one, the double frees left out. */
void mpa_free_bulk_checked(struct rte_mbuf **mbufs, unsigned int n,
			   unsigned int from, uint64_t stamp,
			   const struct mpa_site *site);

/** Put @p objs[from..n) back one by one, the double frees left out. */
void mpa_put_bulk_checked(struct rte_mempool *mp, void * const *objs,
			  unsigned int n, unsigned int from,
			  struct rte_mempool_cache *cache, uint64_t stamp,
			  const struct mpa_site *site);

/** Compose a stamp value. */
static inline uint64_t
mpa_stamp_make(uint32_t holder, unsigned int lcore, uint32_t now_ms)
{
	return ((uint64_t)holder << MPA_STAMP_HOLDER_SHIFT) |
	       ((uint64_t)(lcore & 0xffu) << MPA_STAMP_LCORE_SHIFT) | now_ms;
}

/** Holder id of a stamp. */
static inline uint32_t
mpa_stamp_holder(uint64_t s)
{
	return (uint32_t)(s >> MPA_STAMP_HOLDER_SHIFT);
}

/** lcore of a stamp (MPA_LCORE_NONE for non-EAL threads). */
static inline unsigned int
mpa_stamp_lcore(uint64_t s)
{
	return (unsigned int)(s >> MPA_STAMP_LCORE_SHIFT) & 0xffu;
}

/** Time of a stamp, in mpa_clock_ms units. */
static inline uint32_t
mpa_stamp_time(uint64_t s)
{
	return (uint32_t)s;
}

/** Signed age in ms of time @p then at time @p now (wrap-safe). */
static inline int32_t
mpa_age_ms(uint32_t now, uint32_t then)
{
	return (int32_t)(now - then);
}

/*
 * The calling thread's lcore id, as rte_lcore_id(). In the application
 * that is one load from its TLS. Inside a shared object, libmpaudit
 * itself, the same read is a call to __tls_get_addr() each time (EAL's
 * variable belongs to another object), a few ns per burst; the library is
 * built with MPA_LCORE_CACHED and reads the variable through its address,
 * looked up once per thread (audit/core/lcore.c).
 */
#ifdef MPA_LCORE_CACHED
extern __thread unsigned int *mpa_t_lcore_addr
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
unsigned int *mpa_lcore_addr_slow(void) __attribute__((visibility("hidden")));

static inline unsigned int
mpa_lcore_id(void)
{
	unsigned int *a = mpa_t_lcore_addr;

	if (unlikely(a == NULL))
		a = mpa_lcore_addr_slow();
	return *a;
}
#else
static inline unsigned int
mpa_lcore_id(void)
{
	return rte_lcore_id();
}
#endif

/** Current lcore as stored in a stamp. */
static inline unsigned int
mpa_cur_lcore(void)
{
	unsigned int l = mpa_lcore_id();

	return l < MPA_LCORE_NONE ? l : MPA_LCORE_NONE;
}

/** Address of the header stamp of @p obj (pool must have header room). */
static inline uint64_t *
mpa_stamp_slot(void *obj)
{
	return (uint64_t *)(void *)((char *)obj - MPA_STAMP_BACK);
}

/** Address of the stamp @p off bytes from @p obj (not MPA_STAMP_OFF_SIDE). */
static inline uint64_t *
mpa_stamp_at(void *obj, int32_t off)
{
	return (uint64_t *)(void *)((char *)obj + off);
}

/**
 * 1 if @p mp is an mbuf pool: rte_pktmbuf_pool_init() set its private
 * data, and its element size is what rte_pktmbuf_pool_create() (or the
 * pinned external buffer variant) makes of it. A stamp is written inside
 * an object only if this said it is an mbuf: a false "yes" would corrupt
 * the application's data. rte_pktmbuf_pool_create() sets the private
 * data before it populates the pool, but a program that builds its pool
 * by hand may set it after (testpmd's --mp-alloc=anon does), so the
 * answer can change once: it is asked once per pool, at its attach, and
 * kept (mpa_stamp_off_of()).
 */
static inline int
mpa_mp_is_mbuf(const struct rte_mempool *mp)
{
	const struct rte_pktmbuf_pool_private *pp;
	uint32_t fixed;

	if (mp->private_data_size < sizeof(*pp) ||
	    mp->elt_size < sizeof(struct rte_mbuf))
		return 0;
	pp = (const struct rte_pktmbuf_pool_private *)
		rte_mempool_get_priv((struct rte_mempool *)(uintptr_t)mp);
	fixed = sizeof(struct rte_mbuf) + pp->mbuf_priv_size;
	if (pp->flags & RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF)
		return mp->elt_size ==
		       fixed + sizeof(struct rte_mbuf_ext_shared_info);
	return mp->elt_size == fixed + pp->mbuf_data_room_size;
}

/**
 * Where the stamps of pool @p mp's objects are: an offset from the object
 * (the dynamic field for a pool recognised as an mbuf pool when it was
 * attached, else -MPA_STAMP_BACK), or MPA_STAMP_OFF_SIDE. The scanner and
 * every writer use this one answer. Out of line: a lookup of the audited
 * pool, for the paths that are not a burst of mbufs.
 */
int32_t mpa_stamp_off_of(const struct rte_mempool *mp);

/** Where pool @p mp's stamps are if not in a field: the pad or the side. */
static inline int32_t
mpa_mp_pad_off(const struct rte_mempool *mp)
{
	return mp->header_size >= MPA_STAMP_BACK ? -MPA_STAMP_BACK :
						   MPA_STAMP_OFF_SIDE;
}

static inline int32_t
mpa_mp_stamp_off(const struct rte_mempool *mp)
{
	if (mpa_mbuf_stamp_off < 0)
		return mpa_mp_pad_off(mp);
	return mpa_stamp_off_of(mp);
}

/**
 * Stamp offset of mbuf @p m: mpa_mbuf_stamp_off unless a pool that could
 * hold mbufs stamps elsewhere (mpa_nohdr_pools), then its pool's.
 */
static inline int32_t
mpa_mbuf_off(const struct rte_mbuf *m)
{
	if (likely(mpa_nohdr_pools == 0))
		return mpa_mbuf_stamp_off;
	return mpa_mp_stamp_off(m->pool);
}

/**
 * Write @p stamp at @p slot, keeping history: the stamp it replaces is
 * shifted into the history words behind it first (the oldest falls off),
 * unless it names the same holder on the same lcore (an rx stamp after an
 * rx stamp when the tx in between was left out, say), or both say free
 * (a free wrapper, then the pool's ops hook when the cache is flushed):
 * that is the same holding seen again, not a new holder. All
 * MPA_OBJHIST_MAX words shift whatever K: they are on the line being
 * written, a fixed-size move needs no loop, and the scanner decodes only
 * K of them.
 */
static inline void
mpa_objhist_store(uint64_t *slot, uint64_t stamp)
{
	uint64_t old = slot[0];

	if ((old >> MPA_STAMP_LCORE_SHIFT) != (stamp >> MPA_STAMP_LCORE_SHIFT) &&
	    !(old & stamp & MPA_STAMP_FREE_BIT)) {
		for (unsigned int i = MPA_OBJHIST_MAX; i > 1; i--)
			slot[i] = slot[i - 1];
		slot[1] = old;
	}
	slot[0] = stamp;
}

/*
 * Write a stamp at @p slot, with history if @p k. History is kept only in
 * the header pad: with MPAUDIT_HISTORY there is no stamp dynamic field
 * (mpa_mbuf_stamp_off), so every slot written with k != 0 is a header's.
 */
static inline void
mpa_stamp_slot_write(uint64_t *slot, uint64_t stamp, uint32_t k)
{
	if (unlikely(k != 0))
		mpa_objhist_store(slot, stamp);
	else
		*slot = stamp;
}

/** Write a stamp @p off from @p obj of @p mp (MPA_STAMP_OFF_SIDE: side). */
static inline void
mpa_stamp_obj_off(struct rte_mempool *mp, void *obj, int32_t off,
		  uint64_t stamp, uint32_t k)
{
	if (likely(off != MPA_STAMP_OFF_SIDE))
		mpa_stamp_slot_write(mpa_stamp_at(obj, off), stamp, k);
	else
		mpa_stamp_side(mp, obj, stamp);
}

/** mpa_stamp_obj() with mpa_objhist_k read once by the caller's loop. */
static inline void
mpa_stamp_obj_k(struct rte_mempool *mp, void *obj, uint64_t stamp, uint32_t k)
{
	mpa_stamp_obj_off(mp, obj, mpa_mp_stamp_off(mp), stamp, k);
}

/** Stamp mbuf @p m, with history if @p k. */
static inline void
mpa_stamp_mbuf_k(struct rte_mbuf *m, uint64_t stamp, uint32_t k)
{
	mpa_stamp_obj_off(m->pool, m, mpa_mbuf_off(m), stamp, k);
}

/** Write the stamp of one object of pool @p mp. */
static inline void
mpa_stamp_obj(struct rte_mempool *mp, void *obj, uint64_t stamp)
{
	mpa_stamp_obj_k(mp, obj, stamp, mpa_objhist_k);
}

/**
 * Stamp @p obj freed with @p stamp, unless its stamp already says free and
 * it is found free (mpa_free_twice()). One load of the line the store
 * writes; the test is almost never taken. @return 1: a double free, do
 * not pass the object on.
 */
static inline int
mpa_stamp_free_off(struct rte_mempool *mp, void *obj, int32_t off,
		   uint64_t stamp, struct rte_mempool_cache *cache,
		   const struct mpa_site *site, uint32_t k)
{
	if (likely(off != MPA_STAMP_OFF_SIDE)) {
		uint64_t *slot = mpa_stamp_at(obj, off);

		if (unlikely(*slot & MPA_STAMP_FREE_BIT) &&
		    mpa_free_twice(mp, obj, *slot, cache, site))
			return 1;
		mpa_stamp_slot_write(slot, stamp, k);
	} else {
		mpa_stamp_side(mp, obj, stamp);
	}
	return 0;
}

/** mpa_stamp_free_off() at the stamp of pool @p mp's objects. */
static inline int
mpa_stamp_free_k(struct rte_mempool *mp, void *obj, uint64_t stamp,
		 struct rte_mempool_cache *cache, const struct mpa_site *site,
		 uint32_t k)
{
	return mpa_stamp_free_off(mp, obj, mpa_mp_stamp_off(mp), stamp, cache,
				  site, k);
}

/** mpa_stamp_free_k() with the history setting in force. */
static inline int
mpa_stamp_free(struct rte_mempool *mp, void *obj, uint64_t stamp,
	       struct rte_mempool_cache *cache, const struct mpa_site *site)
{
	return mpa_stamp_free_k(mp, obj, stamp, cache, site, mpa_objhist_k);
}

/**
 * Per-thread holder cache entry for an event at @p site with argument
 * @p key (port/queue, ring pointer, or 0), filled on a miss.
 */
static inline struct mpa_hcache_ent *
mpa_holder_ent(uint8_t state, const struct mpa_site *site, uint16_t port,
	       uint16_t queue, const struct rte_ring *ring)
{
	uint64_t key = ((uint64_t)state << 56) ^ ((uint64_t)port << 16) ^
		       queue ^ (uint64_t)(uintptr_t)ring;
	uintptr_t h = ((uintptr_t)site >> 4) ^ (uintptr_t)(key * 0x9e3779b97f4a7c15ull >> 40);
	struct mpa_hcache_ent *e = &mpa_hcache[h & (MPA_HCACHE_SIZE - 1)];

	if (likely(e->site == site && e->key == key))
		return e;
	e->holder = mpa_holder_intern(state, site, port, queue, ring);
	e->key = key;
	e->site = site;
	e->txsync = 0;
	return e;
}

/** Holder id for an event at @p site, through the per-thread cache. */
static inline uint32_t
mpa_holder(uint8_t state, const struct mpa_site *site, uint16_t port,
	   uint16_t queue, const struct rte_ring *ring)
{
	return mpa_holder_ent(state, site, port, queue, ring)->holder;
}

/** Holder id of a site for an event without port, queue or ring. */
static inline uint32_t
mpa_site_holder(uint8_t state, struct mpa_site *site)
{
	uint32_t h = __atomic_load_n(&site->holder, __ATOMIC_RELAXED);

	if (unlikely(h == 0)) {
		h = mpa_holder_intern(state, site, UINT16_MAX, UINT16_MAX, NULL);
		__atomic_store_n(&site->holder, h, __ATOMIC_RELAXED);
	}
	return h;
}

/**
 * Stamp a burst of mbufs (head segments). The common case is one load and
 * one store per mbuf.
 */
static inline void
mpa_stamp_burst(struct rte_mbuf * const *pkts, uint16_t n, uint64_t stamp)
{
	uint32_t nohdr = mpa_nohdr_pools, k = mpa_objhist_k;

	/*
	 * History is checked once per burst: without it, the loop is one
	 * store per mbuf. With it, mpa_mbuf_stamp_off is the header pad's.
	 */
	if (likely((nohdr | k) == 0)) {
		const int32_t off = mpa_mbuf_stamp_off;

		for (uint16_t i = 0; i < n; i++)
			*mpa_stamp_at(pkts[i], off) = stamp;
	} else if (nohdr == 0) {
		for (uint16_t i = 0; i < n; i++)
			mpa_objhist_store(mpa_stamp_slot(pkts[i]), stamp);
	} else {
		struct rte_mempool *mp = NULL;
		int32_t off = 0;

		for (uint16_t i = 0; i < n; i++) {
			if (pkts[i]->pool != mp) {
				mp = pkts[i]->pool;
				off = mpa_mp_stamp_off(mp);
			}
			mpa_stamp_obj_off(mp, pkts[i], off, stamp, k);
		}
	}
}

/** Stamp an mbuf chain segment by segment. */
static inline void
mpa_stamp_chain(struct rte_mbuf *m, uint64_t stamp)
{
	for (; m != NULL; m = m->next)
		mpa_stamp_mbuf_k(m, stamp, mpa_objhist_k);
}

/*
 * Wrappers. Each calls the real DPDK function and stamps. Stamps that hand
 * an object away (free, tx, enqueue) are written BEFORE the call, because
 * the object may be reused by another lcore the moment the call returns;
 * stamps that take an object (alloc, rx, dequeue) are written after.
 */

static inline struct rte_mbuf *
mpa_w_pktmbuf_alloc(struct rte_mempool *mp, struct mpa_site *site)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m != NULL && mpa_on)
		mpa_stamp_mbuf_k(m, mpa_stamp_make(mpa_site_holder(MPA_ST_APP, site),
						   mpa_cur_lcore(), mpa_clock_ms),
				 mpa_objhist_k);
	return m;
}

static inline int
mpa_w_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs,
			 unsigned int n, struct mpa_site *site)
{
	int rc = rte_pktmbuf_alloc_bulk(mp, mbufs, n);

	if (rc == 0 && mpa_on) {
		uint64_t s = mpa_stamp_make(mpa_site_holder(MPA_ST_APP, site),
					    mpa_cur_lcore(), mpa_clock_ms);
		uint32_t k = mpa_objhist_k;

		for (unsigned int i = 0; i < n; i++)
			mpa_stamp_mbuf_k(mbufs[i], s, k);
	}
	return rc;
}

/*
 * Only the last reference returns a segment to its pool. A freed mbuf is
 * a single segment with refcnt 1, so a double free is caught on the head.
 * @p k: mpa_objhist_k, read once per call by the caller.
 * @return 1: @p m is a double free, do not free it.
 */
static inline int
mpa_stamp_free_chain(struct rte_mbuf *m, uint64_t s, const struct mpa_site *site,
		     uint32_t k)
{
	if (rte_mbuf_refcnt_read(m) == 1 &&
	    mpa_stamp_free_off(m->pool, m, mpa_mbuf_off(m), s, NULL, site, k))
		return 1;
	for (m = m->next; m != NULL; m = m->next)
		if (rte_mbuf_refcnt_read(m) == 1)
			mpa_stamp_mbuf_k(m, s, k);
	return 0;
}

static inline void
mpa_w_pktmbuf_free(struct rte_mbuf *m, struct mpa_site *site)
{
	if (m != NULL && mpa_on &&
	    mpa_stamp_free_chain(m, mpa_stamp_make(mpa_site_holder(MPA_ST_FREE, site),
						   mpa_cur_lcore(), mpa_clock_ms), site,
				 mpa_objhist_k))
		return;
	rte_pktmbuf_free(m);
}

static inline void
mpa_w_pktmbuf_free_seg(struct rte_mbuf *m, struct mpa_site *site)
{
	if (m != NULL && mpa_on && rte_mbuf_refcnt_read(m) == 1 &&
	    mpa_stamp_free_off(m->pool, m, mpa_mbuf_off(m),
			       mpa_stamp_make(mpa_site_holder(MPA_ST_FREE, site),
					      mpa_cur_lcore(), mpa_clock_ms),
			       NULL, site, mpa_objhist_k))
		return;
	rte_pktmbuf_free_seg(m);
}

static inline void
mpa_w_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int n,
			struct mpa_site *site)
{
	if (mpa_on) {
		uint64_t s = mpa_stamp_make(mpa_site_holder(MPA_ST_FREE, site),
					    mpa_cur_lcore(), mpa_clock_ms);
		uint32_t k = mpa_objhist_k;

		for (unsigned int i = 0; i < n; i++)
			if (mbufs[i] != NULL &&
			    unlikely(mpa_stamp_free_chain(mbufs[i], s, site, k))) {
				/* mbufs[i] stays out; the rest one by one. */
				rte_pktmbuf_free_bulk(mbufs, i);
				mpa_free_bulk_checked(mbufs, n, i + 1, s, site);
				return;
			}
	}
	rte_pktmbuf_free_bulk(mbufs, n);
}

static inline void
mpa_stamp_objs(struct rte_mempool *mp, void * const *objs, unsigned int n,
	       uint8_t state, struct mpa_site *site)
{
	uint64_t s = mpa_stamp_make(mpa_site_holder(state, site),
				    mpa_cur_lcore(), mpa_clock_ms);
	uint32_t k = mpa_objhist_k;
	int32_t off = mpa_mp_stamp_off(mp);

	for (unsigned int i = 0; i < n; i++)
		mpa_stamp_obj_off(mp, objs[i], off, s, k);
}

static inline int
mpa_w_mempool_generic_get(struct rte_mempool *mp, void **objs, unsigned int n,
			  struct rte_mempool_cache *cache, struct mpa_site *site)
{
	int rc = rte_mempool_generic_get(mp, objs, n, cache);

	if (rc == 0 && mpa_on)
		mpa_stamp_objs(mp, objs, n, MPA_ST_APP, site);
	return rc;
}

static inline int
mpa_w_mempool_get_bulk(struct rte_mempool *mp, void **objs, unsigned int n,
		       struct mpa_site *site)
{
	int rc = rte_mempool_get_bulk(mp, objs, n);

	if (rc == 0 && mpa_on)
		mpa_stamp_objs(mp, objs, n, MPA_ST_APP, site);
	return rc;
}

static inline int
mpa_w_mempool_get(struct rte_mempool *mp, void **obj, struct mpa_site *site)
{
	return mpa_w_mempool_get_bulk(mp, obj, 1, site);
}

static inline void
mpa_w_mempool_generic_put(struct rte_mempool *mp, void * const *objs,
			  unsigned int n, struct rte_mempool_cache *cache,
			  struct mpa_site *site)
{
	if (mpa_on) {
		uint64_t s = mpa_stamp_make(mpa_site_holder(MPA_ST_FREE, site),
					    mpa_cur_lcore(), mpa_clock_ms);
		uint32_t k = mpa_objhist_k;
		int32_t off = mpa_mp_stamp_off(mp);

		for (unsigned int i = 0; i < n; i++)
			if (unlikely(mpa_stamp_free_off(mp, objs[i], off, s, cache,
							site, k))) {
				rte_mempool_generic_put(mp, objs, i, cache);
				mpa_put_bulk_checked(mp, objs, n, i + 1, cache, s, site);
				return;
			}
	}
	rte_mempool_generic_put(mp, objs, n, cache);
}

static inline void
mpa_w_mempool_put_bulk(struct rte_mempool *mp, void * const *objs,
		       unsigned int n, struct mpa_site *site)
{
	mpa_w_mempool_generic_put(mp, objs, n,
				  rte_mempool_default_cache(mp, mpa_lcore_id()),
				  site);
}

static inline void
mpa_w_mempool_put(struct rte_mempool *mp, void *obj, struct mpa_site *site)
{
	mpa_w_mempool_put_bulk(mp, &obj, 1, site);
}

static inline uint16_t
mpa_w_eth_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		   uint16_t n, struct mpa_site *site)
{
	uint16_t nb = rte_eth_rx_burst(port, queue, pkts, n);

	if (nb != 0 && mpa_on) {
		mpa_stamp_burst(pkts, nb,
				mpa_stamp_make(mpa_holder(MPA_ST_RX, site, port, queue, NULL),
					       mpa_cur_lcore(), mpa_clock_ms));
	}
	return nb;
}

/*
 * tx_burst through a queue's TX stamp elision (MPA_TXSYNC_TRUST): a
 * trusted queue sends unstamped and checks that the last packet sent came
 * back to this lcore's cache; any other stamps first (only the head
 * segment: the chain travels as one) and, while learning, checks the
 * whole burst after the call.
 */
static __rte_always_inline uint16_t
mpa_tx_send(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
	    uint16_t n, int32_t *txsync, uint32_t holder)
{
	struct rte_mempool_cache *c = NULL;
	uint16_t sent;

	if (*txsync >= 0)
		c = rte_mempool_default_cache(pkts[0]->pool, mpa_lcore_id());
	if (likely(*txsync >= MPA_TXSYNC_TRUST && c != NULL)) {
		uint32_t len0 = c->len;
		void *top0 = len0 != 0 ? c->objs[len0 - 1] : NULL;

		sent = rte_eth_tx_burst(port, queue, pkts, n);
		if (sent != 0 && unlikely(!mpa_cache_top_is(c, pkts[sent - 1])))
			mpa_txsync_lost(txsync, c, len0, top0, pkts, sent,
					mpa_stamp_make(holder, mpa_cur_lcore(),
						       mpa_clock_ms),
					port, queue);
		return sent;
	}
	mpa_stamp_burst(pkts, n, mpa_stamp_make(holder, mpa_cur_lcore(),
						mpa_clock_ms));
	sent = rte_eth_tx_burst(port, queue, pkts, n);
	if (sent != 0 && *txsync >= 0)
		mpa_txsync_learn(txsync, c, pkts, sent);
	return sent;
}

static inline uint16_t
mpa_w_eth_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		   uint16_t n, struct mpa_site *site)
{
	struct mpa_hcache_ent *e;
	uint16_t sent;

	if (n == 0 || !mpa_on)
		return rte_eth_tx_burst(port, queue, pkts, n);

	e = mpa_holder_ent(MPA_ST_TX, site, port, queue, NULL);
	sent = mpa_tx_send(port, queue, pkts, n, &e->txsync, e->holder);
	if (unlikely(sent < n)) /* refused packets stay with the caller */
		mpa_stamp_burst(pkts + sent, n - sent,
				mpa_stamp_make(mpa_site_holder(MPA_ST_APP, site),
					       mpa_cur_lcore(), mpa_clock_ms));
	return sent;
}

/*
 * Ring wrappers. Enqueue stamps before the call and restamps what the ring
 * refused; dequeue stamps what it got.
 */
#define MPA_RING_ENQ(name) \
static inline unsigned int \
mpa_w_##name(struct rte_ring *r, void * const *objs, unsigned int n, \
	     unsigned int *free_space, struct mpa_site *site) \
{ \
	unsigned int done; \
	if (!mpa_on) \
		return name(r, objs, n, free_space); \
	mpa_ring_stamp(r, objs, n, sizeof(void *), MPA_ST_RING, site); \
	done = name(r, objs, n, free_space); \
	if (unlikely(done < n)) \
		mpa_ring_stamp(r, objs + done, n - done, sizeof(void *), \
			       MPA_ST_APP, site); \
	return done; \
}

#define MPA_RING_DEQ(name) \
static inline unsigned int \
mpa_w_##name(struct rte_ring *r, void **objs, unsigned int n, \
	     unsigned int *avail, struct mpa_site *site) \
{ \
	unsigned int done = name(r, objs, n, avail); \
	if (done != 0 && mpa_on) \
		mpa_ring_stamp(r, objs, done, sizeof(void *), MPA_ST_APP, site); \
	return done; \
}

#define MPA_RING_ENQ1(name) \
static inline int \
mpa_w_##name(struct rte_ring *r, void *obj, struct mpa_site *site) \
{ \
	int rc; \
	if (!mpa_on) \
		return name(r, obj); \
	mpa_ring_stamp(r, &obj, 1, sizeof(void *), MPA_ST_RING, site); \
	rc = name(r, obj); \
	if (unlikely(rc != 0)) \
		mpa_ring_stamp(r, &obj, 1, sizeof(void *), MPA_ST_APP, site); \
	return rc; \
}

#define MPA_RING_DEQ1(name) \
static inline int \
mpa_w_##name(struct rte_ring *r, void **obj, struct mpa_site *site) \
{ \
	int rc = name(r, obj); \
	if (rc == 0 && mpa_on) \
		mpa_ring_stamp(r, obj, 1, sizeof(void *), MPA_ST_APP, site); \
	return rc; \
}

#define MPA_RING_ENQ_ELEM(name) \
static inline unsigned int \
mpa_w_##name(struct rte_ring *r, const void *objs, unsigned int esize, \
	     unsigned int n, unsigned int *free_space, struct mpa_site *site) \
{ \
	unsigned int done; \
	if (!mpa_on || esize != sizeof(void *)) \
		return name(r, objs, esize, n, free_space); \
	mpa_ring_stamp(r, (void * const *)objs, n, esize, MPA_ST_RING, site); \
	done = name(r, objs, esize, n, free_space); \
	if (unlikely(done < n)) \
		mpa_ring_stamp(r, (void * const *)objs + done, n - done, esize, \
			       MPA_ST_APP, site); \
	return done; \
}

#define MPA_RING_DEQ_ELEM(name) \
static inline unsigned int \
mpa_w_##name(struct rte_ring *r, void *objs, unsigned int esize, \
	     unsigned int n, unsigned int *avail, struct mpa_site *site) \
{ \
	unsigned int done = name(r, objs, esize, n, avail); \
	if (done != 0 && mpa_on && esize == sizeof(void *)) \
		mpa_ring_stamp(r, (void * const *)objs, done, esize, MPA_ST_APP, site); \
	return done; \
}

#define MPA_RING_ENQ1_ELEM(name) \
static inline int \
mpa_w_##name(struct rte_ring *r, void *obj, unsigned int esize, \
	     struct mpa_site *site) \
{ \
	int rc; \
	if (!mpa_on || esize != sizeof(void *)) \
		return name(r, obj, esize); \
	mpa_ring_stamp(r, (void * const *)obj, 1, esize, MPA_ST_RING, site); \
	rc = name(r, obj, esize); \
	if (unlikely(rc != 0)) \
		mpa_ring_stamp(r, (void * const *)obj, 1, esize, MPA_ST_APP, site); \
	return rc; \
}

#define MPA_RING_DEQ1_ELEM(name) \
static inline int \
mpa_w_##name(struct rte_ring *r, void *obj, unsigned int esize, \
	     struct mpa_site *site) \
{ \
	int rc = name(r, obj, esize); \
	if (rc == 0 && mpa_on && esize == sizeof(void *)) \
		mpa_ring_stamp(r, (void * const *)obj, 1, esize, MPA_ST_APP, site); \
	return rc; \
}

MPA_RING_ENQ(rte_ring_enqueue_bulk)
MPA_RING_ENQ(rte_ring_mp_enqueue_bulk)
MPA_RING_ENQ(rte_ring_sp_enqueue_bulk)
MPA_RING_ENQ(rte_ring_enqueue_burst)
MPA_RING_ENQ(rte_ring_mp_enqueue_burst)
MPA_RING_ENQ(rte_ring_sp_enqueue_burst)
MPA_RING_ENQ(rte_ring_mp_rts_enqueue_bulk)
MPA_RING_ENQ(rte_ring_mp_rts_enqueue_burst)
MPA_RING_ENQ(rte_ring_mp_hts_enqueue_bulk)
MPA_RING_ENQ(rte_ring_mp_hts_enqueue_burst)
MPA_RING_DEQ(rte_ring_dequeue_bulk)
MPA_RING_DEQ(rte_ring_mc_dequeue_bulk)
MPA_RING_DEQ(rte_ring_sc_dequeue_bulk)
MPA_RING_DEQ(rte_ring_dequeue_burst)
MPA_RING_DEQ(rte_ring_mc_dequeue_burst)
MPA_RING_DEQ(rte_ring_sc_dequeue_burst)
MPA_RING_DEQ(rte_ring_mc_rts_dequeue_bulk)
MPA_RING_DEQ(rte_ring_mc_rts_dequeue_burst)
MPA_RING_DEQ(rte_ring_mc_hts_dequeue_bulk)
MPA_RING_DEQ(rte_ring_mc_hts_dequeue_burst)
MPA_RING_ENQ1(rte_ring_enqueue)
MPA_RING_ENQ1(rte_ring_mp_enqueue)
MPA_RING_ENQ1(rte_ring_sp_enqueue)
MPA_RING_DEQ1(rte_ring_dequeue)
MPA_RING_DEQ1(rte_ring_mc_dequeue)
MPA_RING_DEQ1(rte_ring_sc_dequeue)
MPA_RING_ENQ_ELEM(rte_ring_enqueue_bulk_elem)
MPA_RING_ENQ_ELEM(rte_ring_mp_enqueue_bulk_elem)
MPA_RING_ENQ_ELEM(rte_ring_sp_enqueue_bulk_elem)
MPA_RING_ENQ_ELEM(rte_ring_enqueue_burst_elem)
MPA_RING_ENQ_ELEM(rte_ring_mp_enqueue_burst_elem)
MPA_RING_ENQ_ELEM(rte_ring_sp_enqueue_burst_elem)
MPA_RING_ENQ_ELEM(rte_ring_mp_rts_enqueue_bulk_elem)
MPA_RING_ENQ_ELEM(rte_ring_mp_rts_enqueue_burst_elem)
MPA_RING_ENQ_ELEM(rte_ring_mp_hts_enqueue_bulk_elem)
MPA_RING_ENQ_ELEM(rte_ring_mp_hts_enqueue_burst_elem)
MPA_RING_DEQ_ELEM(rte_ring_dequeue_bulk_elem)
MPA_RING_DEQ_ELEM(rte_ring_mc_dequeue_bulk_elem)
MPA_RING_DEQ_ELEM(rte_ring_sc_dequeue_bulk_elem)
MPA_RING_DEQ_ELEM(rte_ring_dequeue_burst_elem)
MPA_RING_DEQ_ELEM(rte_ring_mc_dequeue_burst_elem)
MPA_RING_DEQ_ELEM(rte_ring_sc_dequeue_burst_elem)
MPA_RING_DEQ_ELEM(rte_ring_mc_rts_dequeue_bulk_elem)
MPA_RING_DEQ_ELEM(rte_ring_mc_rts_dequeue_burst_elem)
MPA_RING_DEQ_ELEM(rte_ring_mc_hts_dequeue_bulk_elem)
MPA_RING_DEQ_ELEM(rte_ring_mc_hts_dequeue_burst_elem)
MPA_RING_ENQ1_ELEM(rte_ring_enqueue_elem)
MPA_RING_ENQ1_ELEM(rte_ring_mp_enqueue_elem)
MPA_RING_ENQ1_ELEM(rte_ring_sp_enqueue_elem)
MPA_RING_DEQ1_ELEM(rte_ring_dequeue_elem)
MPA_RING_DEQ1_ELEM(rte_ring_mc_dequeue_elem)
MPA_RING_DEQ1_ELEM(rte_ring_sc_dequeue_elem)

/** Record an RX queue's configuration: its driver's expected holdings. */
void mpa_rxq_note(uint16_t port, uint16_t queue, uint16_t nb_desc,
		  const struct rte_mempool *mp);

static inline int
mpa_w_eth_rx_queue_setup(uint16_t port, uint16_t queue, uint16_t nb_desc,
			 unsigned int socket,
			 const struct rte_eth_rxconf *conf,
			 struct rte_mempool *mp)
{
	int rc = rte_eth_rx_queue_setup(port, queue, nb_desc, socket, conf, mp);

	if (rc == 0)
		mpa_rxq_note(port, queue, nb_desc, mp);
	return rc;
}

/** rte_eal_init() followed by mpa_init(). */
int mpa_eal_init(int argc, char **argv);
/** mpa_fini() followed by rte_eal_cleanup(). */
int mpa_eal_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif /* MPAUDIT_STAMP_H */
