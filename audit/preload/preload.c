/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Zero-recompile mode: libmpaudit_preload.so.
 *
 *   LD_PRELOAD=libmpaudit_preload.so any-dpdk-app ...
 *
 * Debian's DPDK libraries are not linked with -Bsymbolic, so the exported
 * functions defined here take the place of DPDK's, also for calls made
 * inside DPDK. Each calls the real function, found with dlsym(RTLD_NEXT),
 * and does the auditor's part around it:
 *
 *   rte_eal_init          then start the auditor (mode "preload"), hook the
 *                         mempool ops (opshook.c), stamp started ports
 *   rte_eal_cleanup       final scan and report first, then the drivers'
 *                         burst functions back
 *   rte_eth_rx_queue_setup then record the queue's descriptors: what its
 *                         driver is expected to hold (driver.c)
 *   rte_eth_dev_start     then wrap the port's rx/tx burst functions in
 *                         rte_eth_fp_ops with stamping ones (DPDK puts
 *                         the driver's back at each start: wrap again)
 *   rte_ring_create(_elem) then watch the ring, so the scanner attributes
 *                         objects sitting in it to it by name
 *   rte_ring_free         stop watching first
 *   rte_pktmbuf_free_bulk stamp the mbufs free first
 *
 * The heap interposers (libc and rte_malloc families, memzones) are in
 * heapwrap.c. In an instrumented application (libmpaudit.so loaded after
 * us) this copy of the auditor runs in instrumented mode: see
 * preload_start().
 *
 * The inline datapath (rx/tx burst, mbuf alloc/free, mempool get/put, ring
 * enqueue/dequeue) cannot be interposed; the burst wrappers and the ops
 * hook see it from around and below.
 *
 * Loaded into a program that never calls rte_eal_init() (a shell, env,
 * timeout in front of the application), nothing here runs: no
 * constructor, no thread, no output. Calls nested in another interposed
 * call (rte_eal_init creating rings, rte_ring_create calling
 * rte_ring_create_elem) are recognised by a per-thread depth counter and
 * passed straight through.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_version.h>

#include "core/guard.h"
#include "mpaudit.h"
#include "mpaudit_stamp.h"
#include "lifecycle.h"
#include "core/log.h"
#include "opshook.h"
#include "core/driver.h"
#include "core/ring.h"
#include "heap/heap.h"
#include "heap/heap_int.h"
#include "interpose.h"

/*
 * A symbol libmpaudit.so exports: found after us (RTLD_NEXT), the
 * application is instrumented.
 */
#define LIBMPAUDIT_MARKER "mpa_eal_init"

#define QWORDS_PER_PORT (RTE_MAX_QUEUES_PER_PORT / 64)

/* Interposed calls in progress on this thread. */
static __thread unsigned int depth __attribute__((tls_model("initial-exec")));
/* The auditor was started here, so rte_eal_cleanup() stops it. */
static int started_here;

/*
 * (port, queue) pairs whose bursts were ever wrapped, for the log line
 * only (a queue is named once per run). Written under wrap_lock.
 */
static pthread_mutex_t wrap_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rx_wrap_done[RTE_MAX_ETHPORTS][QWORDS_PER_PORT];
static uint64_t tx_wrap_done[RTE_MAX_ETHPORTS][QWORDS_PER_PORT];

/*
 * The next definition of each symbol, looked up on first use. Racing
 * threads may both call dlsym(), which is thread-safe and returns the
 * same address, so the pointer needs no more than an atomic store. What
 * dlsym() allocates (its error buffer) is the auditor's, not the
 * application's.
 */
void *
mpa_next_sym(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (likely(p != NULL))
		return p;
	mpa_guard_enter();
	p = dlsym(RTLD_NEXT, name);
	mpa_guard_leave();
	if (p == NULL) {
		fprintf(stderr, "mpaudit: libmpaudit_preload.so: no %s to call after ours: %s\n",
			name, dlerror());
		abort();
	}
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}

/*
 * Datapath. Every started port's rx and tx burst functions are wrapped in
 * rte_eth_fp_ops, which rte_eth_rx_burst()/rte_eth_tx_burst() call
 * through: one indirect call more per burst, where an rx/tx callback
 * costs rte_eth_call_rx_callbacks() and a walk of the callback list. A
 * wrapper has the queue's data pointer, not its number: the port is
 * built into the wrapper (one per port, below), the queue found through a
 * per-thread cache. DPDK puts the driver's functions back at every port
 * start (so the wrappers never stack: rte_eth_dev_start() wraps again)
 * and a dummy at stop; rte_eal_cleanup() puts the driver's back.
 */
struct port_wrap {
	eth_rx_burst_t rx;	/* the driver's, which the wrappers call */
	eth_tx_burst_t tx;
	uint16_t nb_rxq;	/* queues at the last start */
	uint16_t nb_txq;
	uint32_t rx_holder[RTE_MAX_QUEUES_PER_PORT];
	uint32_t tx_holder[RTE_MAX_QUEUES_PER_PORT];
	int32_t txsync[RTE_MAX_QUEUES_PER_PORT];	/* MPA_TXSYNC_TRUST */
};

static struct port_wrap wraps[RTE_MAX_ETHPORTS];

/* Bumped at every wrap, so that queue caches forget queues renumbered. */
static uint32_t wrap_gen = 1;

#define QCACHE_SIZE 64
#define QUEUE_NONE UINT16_MAX

struct qcache_ent {
	const void *qd;
	uint32_t gen;
	uint16_t port;
	uint16_t queue;
};

static __thread struct qcache_ent qcache[2][QCACHE_SIZE]
	__attribute__((tls_model("initial-exec")));

/* Slow path: which queue of @p port has data @p qd (QUEUE_NONE: none). */
static uint16_t __rte_noinline
queue_find(int tx, uint16_t port, const void *qd, struct qcache_ent *e)
{
	const struct rte_ethdev_qdata *q = tx ? &rte_eth_fp_ops[port].txq :
						&rte_eth_fp_ops[port].rxq;
	uint16_t nb = __atomic_load_n(tx ? &wraps[port].nb_txq :
				      &wraps[port].nb_rxq, __ATOMIC_ACQUIRE);

	for (uint16_t i = 0; i < nb && i < RTE_MAX_QUEUES_PER_PORT; i++)
		if (q->data != NULL && q->data[i] == qd) {
			e->qd = qd;
			e->gen = __atomic_load_n(&wrap_gen, __ATOMIC_ACQUIRE);
			e->port = port;
			e->queue = i;
			return i;
		}
	return QUEUE_NONE;
}

static __rte_always_inline uint16_t
queue_of(int tx, uint16_t port, const void *qd)
{
	struct qcache_ent *e = &qcache[tx][((uintptr_t)qd >> 6) & (QCACHE_SIZE - 1)];

	if (likely(e->qd == qd && e->port == port &&
		   e->gen == __atomic_load_n(&wrap_gen, __ATOMIC_RELAXED)))
		return e->queue;
	return queue_find(tx, port, qd, e);
}

static __rte_always_inline uint16_t
rx_wrapped(uint16_t port, void *qd, struct rte_mbuf **pkts, uint16_t n)
{
	struct port_wrap *w = &wraps[port];
	uint16_t nb = w->rx(qd, pkts, n);
	uint16_t q;

	if (likely(nb != 0 && mpa_on) &&
	    likely((q = queue_of(0, port, qd)) != QUEUE_NONE))
		mpa_stamp_burst(pkts, nb,
				mpa_stamp_make(w->rx_holder[q], mpa_cur_lcore(),
					       mpa_clock_ms));
	return nb;
}

/*
 * As mpa_tx_send() in mpaudit_stamp.h, around the driver's function: the
 * stamp written before the driver takes the mbufs, or left out on a queue
 * whose driver was seen to free them at once.
 */
static __rte_always_inline uint16_t
tx_wrapped(uint16_t port, void *qd, struct rte_mbuf **pkts, uint16_t n)
{
	struct port_wrap *w = &wraps[port];
	struct rte_mempool_cache *c = NULL;
	int32_t *txsync;
	uint16_t sent, q;

	if (unlikely(n == 0 || !mpa_on) ||
	    unlikely((q = queue_of(1, port, qd)) == QUEUE_NONE))
		return w->tx(qd, pkts, n);
	txsync = &w->txsync[q];
	if (*txsync >= 0)
		c = rte_mempool_default_cache(pkts[0]->pool, mpa_lcore_id());
	if (likely(*txsync >= MPA_TXSYNC_TRUST && c != NULL)) {
		uint32_t len0 = c->len;
		void *top0 = len0 != 0 ? c->objs[len0 - 1] : NULL;

		sent = w->tx(qd, pkts, n);
		if (sent != 0 && unlikely(!mpa_cache_top_is(c, pkts[sent - 1])))
			mpa_txsync_lost(txsync, c, len0, top0, pkts, sent,
					mpa_stamp_make(w->tx_holder[q],
						       mpa_cur_lcore(),
						       mpa_clock_ms),
					port, q);
		return sent;
	}
	mpa_stamp_burst(pkts, n, mpa_stamp_make(w->tx_holder[q],
						mpa_cur_lcore(), mpa_clock_ms));
	sent = w->tx(qd, pkts, n);
	if (sent != 0 && *txsync >= 0)
		mpa_txsync_learn(txsync, c, pkts, sent);
	return sent;
}

/* One pair of wrappers per port: the port number is built in. */
#define PORT_WRAPPERS(p) \
static uint16_t \
rx_wrap_##p(void *qd, struct rte_mbuf **pkts, uint16_t n) \
{ \
	return rx_wrapped(p, qd, pkts, n); \
} \
static uint16_t \
tx_wrap_##p(void *qd, struct rte_mbuf **pkts, uint16_t n) \
{ \
	return tx_wrapped(p, qd, pkts, n); \
}

#define FOREACH_PORT(X) \
	X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) \
	X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) \
	X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
#define WRAP_PORTS 32

static_assert(RTE_MAX_ETHPORTS <= WRAP_PORTS,
	      "one pair of burst wrappers per port: add ports to FOREACH_PORT");

FOREACH_PORT(PORT_WRAPPERS)

#define RX_WRAP_ENT(p) rx_wrap_##p,
#define TX_WRAP_ENT(p) tx_wrap_##p,
static const eth_rx_burst_t rx_wrap[WRAP_PORTS] = { FOREACH_PORT(RX_WRAP_ENT) };
static const eth_tx_burst_t tx_wrap[WRAP_PORTS] = { FOREACH_PORT(TX_WRAP_ENT) };

/* Count @p queue of @p port as wrapped; @return 1 the first time. */
static int
wrap_first(uint64_t done[RTE_MAX_ETHPORTS][QWORDS_PER_PORT], uint16_t port,
	   uint16_t queue)
{
	uint64_t bit = UINT64_C(1) << (queue & 63);

	if (done[port][queue >> 6] & bit)
		return 0;
	done[port][queue >> 6] |= bit;
	return 1;
}

/*
 * Wrap the bursts of a port that has just started. Holders have no call
 * site (the report shows "site": null), only the port and queue; they
 * are interned here, never on the datapath. TX queues learn again
 * whether their driver frees at once: the port may have been
 * reconfigured.
 */
static void
wrap_port(uint16_t port)
{
	struct rte_eth_fp_ops *fp;
	struct rte_eth_dev_info info;
	struct port_wrap *w;
	unsigned int nrx = 0, ntx = 0;

	if (port >= RTE_MAX_ETHPORTS || rte_eth_dev_info_get(port, &info) != 0)
		return;
	fp = &rte_eth_fp_ops[port];
	w = &wraps[port];
	pthread_mutex_lock(&wrap_lock);
	for (uint16_t q = 0; q < info.nb_rx_queues && q < RTE_MAX_QUEUES_PER_PORT; q++) {
		if (w->rx_holder[q] == 0)
			w->rx_holder[q] = mpa_holder_intern(MPA_ST_RX, NULL,
							    port, q, NULL);
		nrx += wrap_first(rx_wrap_done, port, q);
	}
	for (uint16_t q = 0; q < info.nb_tx_queues && q < RTE_MAX_QUEUES_PER_PORT; q++) {
		if (w->tx_holder[q] == 0)
			w->tx_holder[q] = mpa_holder_intern(MPA_ST_TX, NULL,
							    port, q, NULL);
		__atomic_store_n(&w->txsync[q], 0, __ATOMIC_RELAXED);
		ntx += wrap_first(tx_wrap_done, port, q);
	}
	__atomic_store_n(&w->nb_rxq, RTE_MIN(info.nb_rx_queues, RTE_MAX_QUEUES_PER_PORT),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&w->nb_txq, RTE_MIN(info.nb_tx_queues, RTE_MAX_QUEUES_PER_PORT),
			 __ATOMIC_RELEASE);
	__atomic_add_fetch(&wrap_gen, 1, __ATOMIC_RELEASE);
	/* The driver's functions first, then the wrappers that call them. */
	if (fp->rx_pkt_burst != rx_wrap[port]) {
		__atomic_store_n(&w->rx, fp->rx_pkt_burst, __ATOMIC_RELEASE);
		__atomic_store_n(&fp->rx_pkt_burst, rx_wrap[port], __ATOMIC_RELEASE);
	}
	if (fp->tx_pkt_burst != tx_wrap[port]) {
		__atomic_store_n(&w->tx, fp->tx_pkt_burst, __ATOMIC_RELEASE);
		__atomic_store_n(&fp->tx_pkt_burst, tx_wrap[port], __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&wrap_lock);
	if (nrx + ntx != 0)
		MPA_LOG(INFO, "port %u: rx/tx bursts wrapped on %u rx and %u tx queues",
			port, nrx, ntx);
}

/* Give every port still wrapped its driver's functions back. */
static void
unwrap_ports(void)
{
	pthread_mutex_lock(&wrap_lock);
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		struct rte_eth_fp_ops *fp = &rte_eth_fp_ops[p];

		if (fp->rx_pkt_burst == rx_wrap[p])
			__atomic_store_n(&fp->rx_pkt_burst, wraps[p].rx,
					 __ATOMIC_RELEASE);
		if (fp->tx_pkt_burst == tx_wrap[p])
			__atomic_store_n(&fp->tx_pkt_burst, wraps[p].tx,
					 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&wrap_lock);
}

static void
preload_start(void)
{
	uint16_t port;

	/*
	 * Our own references bind to the DPDK we were built against; an
	 * application built against another DPDK gets that one from
	 * RTLD_NEXT. Two DPDKs in one process share nothing: stay out.
	 */
	if (dlsym(RTLD_NEXT, "rte_version") != (void *)rte_version) {
		fprintf(stderr, "mpaudit: libmpaudit_preload.so is built for %s, not for the application's DPDK; the application runs unaudited\n",
			rte_version());
		mpa_heap_fail("the application's DPDK is another version");
		return;
	}
	/*
	 * An instrumented application (linked with libmpaudit.so) under the
	 * preload: this library exports the whole mpaudit API too, and comes
	 * first, so the application's wrappers and libmpaudit.so's own calls
	 * all reach this copy. It runs the auditor in instrumented mode: the
	 * wrappers stamp rx, tx and rings with call sites, so no burst wrappers and
	 * no ops hook; the heap is tracked as under the preload alone.
	 */
	if (dlsym(RTLD_NEXT, LIBMPAUDIT_MARKER) != NULL) {
		mpa_init_mode(MPA_MODE_INSTRUMENTED);
		if (!mpa_started())
			mpa_heap_fail("the configuration was rejected");
		else
			started_here = 1;
		MPA_LOG(INFO, "the application is built with libmpaudit: auditing it in instrumented mode, with heap tracking from libmpaudit_preload.so");
		return;
	}
	mpa_init_mode(MPA_MODE_PRELOAD);
	if (!mpa_started()) {
		/* mpa_init() said why; the application runs unaudited */
		mpa_heap_fail("the configuration was rejected");
		return;
	}
	started_here = 1;
	/* A secondary process audits no pool: no ops hook, no stamping. */
	if (!mpa_enabled())
		return;
	mpa_opshook_start();
	/* Ports can only start after rte_eal_init(), but look anyway. */
	RTE_ETH_FOREACH_DEV(port)
		wrap_port(port);
}

/* Interposed DPDK functions. */

int
rte_eal_init(int argc, char **argv)
{
	int rc;

	depth++;
	rc = MPA_NEXT(rte_eal_init)(argc, argv);
	depth--;
	if (rc >= 0 && depth == 0) {
		/* What the auditor allocates to start is its own. */
		mpa_guard_enter();
		preload_start();
		mpa_guard_leave();
		mpa_heap_eal_ready();
	}
	return rc;
}

int
rte_eal_cleanup(void)
{
	if (depth == 0 && __atomic_exchange_n(&started_here, 0, __ATOMIC_ACQ_REL)) {
		/* Unhook first: the registry's pools, the hook's too, go. */
		mpa_opshook_stop();
		mpa_fini();
		unwrap_ports();
	}
	return MPA_NEXT(rte_eal_cleanup)();
}

int
rte_eth_dev_start(uint16_t port_id)
{
	int rc;

	depth++;
	rc = MPA_NEXT(rte_eth_dev_start)(port_id);
	depth--;
	if (rc == 0 && depth == 0 && mpa_on) {
		mpa_guard_enter();
		wrap_port(port_id);
		mpa_guard_leave();
	}
	return rc;
}

/* The queue's descriptors are what its driver is expected to keep posted. */
int
rte_eth_rx_queue_setup(uint16_t port_id, uint16_t rx_queue_id,
		       uint16_t nb_rx_desc, unsigned int socket_id,
		       const struct rte_eth_rxconf *rx_conf,
		       struct rte_mempool *mb_pool)
{
	int rc;

	depth++;
	rc = MPA_NEXT(rte_eth_rx_queue_setup)(port_id, rx_queue_id, nb_rx_desc,
					  socket_id, rx_conf, mb_pool);
	depth--;
	if (rc == 0 && depth == 0) {
		mpa_guard_enter();
		mpa_rxq_note(port_id, rx_queue_id, nb_rx_desc, mb_pool);
		mpa_guard_leave();
	}
	return rc;
}

struct rte_ring *
rte_ring_create_elem(const char *name, unsigned int esize, unsigned int count,
		     int socket_id, unsigned int flags)
{
	struct rte_ring *r;

	depth++;
	r = MPA_NEXT(rte_ring_create_elem)(name, esize, count, socket_id, flags);
	depth--;
	if (r != NULL && depth == 0 && mpa_on) {
		mpa_guard_enter();
		mpa_ring_watch(r);
		mpa_guard_leave();
	}
	return r;
}

struct rte_ring *
rte_ring_create(const char *name, unsigned int count, int socket_id,
		unsigned int flags)
{
	struct rte_ring *r;

	depth++;
	r = MPA_NEXT(rte_ring_create)(name, count, socket_id, flags);
	depth--;
	if (r != NULL && depth == 0 && mpa_on) {
		mpa_guard_enter();
		mpa_ring_watch(r);
		mpa_guard_leave();
	}
	return r;
}

void
rte_ring_free(struct rte_ring *r)
{
	/*
	 * Whatever the depth or the auditor's state: a freed ring must never
	 * stay watched (rings exist only after rte_eal_init()).
	 */
	if (r != NULL)
		mpa_ring_unwatch(r);
	MPA_NEXT(rte_ring_free)(r);
}

void
rte_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int count)
{
	if (mpa_on) {
		uint64_t s = mpa_stamp_make(MPA_HOLDER_FREE, mpa_cur_lcore(),
					    mpa_clock_ms);
		uint32_t k = mpa_objhist_k;

		/*
		 * Stamp only: here a free stamp proves nothing (the inline
		 * alloc we cannot see leaves it on every mbuf the application
		 * takes), so checking it would send most frees to the slow
		 * path. The ops hook and the scanner catch double frees.
		 */
		for (unsigned int i = 0; i < count; i++)
			for (struct rte_mbuf *m = mbufs[i]; m != NULL; m = m->next)
				if (rte_mbuf_refcnt_read(m) == 1)
					mpa_stamp_mbuf_k(m, s, k);
	}
	MPA_NEXT(rte_pktmbuf_free_bulk)(mbufs, count);
}
