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
 *   rte_eal_cleanup       final scan and report first
 *   rte_eth_rx_queue_setup then record the queue's descriptors: what its
 *                         driver is expected to hold (driver.c)
 *   rte_eth_dev_start     then add the rx/tx stamping callbacks, once per
 *                         (port, queue) for the life of the process: DPDK
 *                         keeps them across stop/start and port reuse
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
 * enqueue/dequeue) cannot be interposed; the rx/tx callbacks and the ops
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
 * (port, queue) pairs that carry our callback. Written under cb_lock only;
 * never cleared, because DPDK never removes a callback on port stop, close
 * or release.
 */
static pthread_mutex_t cb_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rx_cb_done[RTE_MAX_ETHPORTS][QWORDS_PER_PORT];
static uint64_t tx_cb_done[RTE_MAX_ETHPORTS][QWORDS_PER_PORT];

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
 * Datapath: one store per mbuf; the holder was interned at registration.
 * The rx and tx callbacks differ only in DPDK's signature for them.
 */
static __rte_always_inline void
stamp_burst(struct rte_mbuf *pkts[], uint16_t nb, void *holder)
{
	if (likely(nb != 0 && mpa_on))
		mpa_stamp_burst(pkts, nb,
				mpa_stamp_make((uint32_t)(uintptr_t)holder,
					       mpa_cur_lcore(), mpa_clock_ms));
}

static uint16_t
rx_stamp(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb,
	 uint16_t max, void *holder)
{
	stamp_burst(pkts, nb, holder);
	return nb;
}

/* Runs inside rte_eth_tx_burst(), before the driver takes the mbufs. */
static uint16_t
tx_stamp(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb,
	 void *holder)
{
	stamp_burst(pkts, nb, holder);
	return nb;
}

/*
 * Add one callback unless this (port, queue) has one. Holders have no call
 * site (the report shows "site": null), only the port and queue. Caller
 * holds cb_lock. @return 1 if added.
 */
static int
add_callback(uint16_t port, uint16_t queue, int rx)
{
	uint64_t *done = rx ? rx_cb_done[port] : tx_cb_done[port];
	uint64_t bit = UINT64_C(1) << (queue & 63);
	void *holder;
	const struct rte_eth_rxtx_callback *cb;

	if (done[queue >> 6] & bit)
		return 0;
	holder = (void *)(uintptr_t)mpa_holder_intern(rx ? MPA_ST_RX : MPA_ST_TX,
						      NULL, port, queue, NULL);
	cb = rx ? rte_eth_add_rx_callback(port, queue, rx_stamp, holder) :
		  rte_eth_add_tx_callback(port, queue, tx_stamp, holder);
	if (cb == NULL) {
		/* Hairpin queues refuse callbacks; they carry no mbufs. */
		MPA_LOG(DEBUG, "port %u %s queue %u not stamped: %s", port,
			rx ? "rx" : "tx", queue, rte_strerror(rte_errno));
		return 0;
	}
	done[queue >> 6] |= bit;
	return 1;
}

/* Stamp every configured queue of a port; queues already done are skipped. */
static void
add_port_callbacks(uint16_t port)
{
	struct rte_eth_dev_info info;
	unsigned int nrx = 0, ntx = 0;

	if (port >= RTE_MAX_ETHPORTS || rte_eth_dev_info_get(port, &info) != 0)
		return;
	pthread_mutex_lock(&cb_lock);
	for (uint16_t q = 0; q < info.nb_rx_queues && q < RTE_MAX_QUEUES_PER_PORT; q++)
		nrx += add_callback(port, q, 1);
	for (uint16_t q = 0; q < info.nb_tx_queues && q < RTE_MAX_QUEUES_PER_PORT; q++)
		ntx += add_callback(port, q, 0);
	pthread_mutex_unlock(&cb_lock);
	if (nrx + ntx != 0)
		MPA_LOG(INFO, "port %u: rx/tx callbacks added on %u rx and %u tx queues",
			port, nrx, ntx);
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
	 * wrappers stamp rx, tx and rings with call sites, so no callbacks and
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
		add_port_callbacks(port);
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
		mpa_fini();
		mpa_opshook_stop();
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
		add_port_callbacks(port_id);
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

		/*
		 * Stamp only: here a free stamp proves nothing (the inline
		 * alloc we cannot see leaves it on every mbuf the application
		 * takes), so checking it would send most frees to the slow
		 * path. The ops hook and the scanner catch double frees.
		 */
		for (unsigned int i = 0; i < count; i++)
			for (struct rte_mbuf *m = mbufs[i]; m != NULL; m = m->next)
				if (rte_mbuf_refcnt_read(m) == 1)
					mpa_stamp_obj(m->pool, m, s);
	}
	MPA_NEXT(rte_pktmbuf_free_bulk)(mbufs, count);
}
