/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPAUDIT_OVERRIDE_H
#define MPAUDIT_OVERRIDE_H

/**
 * @file
 * Instrumented mode. Compile an application with
 *
 *     cc -include mpaudit_override.h ... $(pkg-config --cflags --libs mpaudit)
 *
 * and every call it makes to the functions below goes to a wrapper from
 * mpaudit_stamp.h that calls the real function and stamps the objects with
 * the call site (file:line). No other source change is needed:
 * rte_eal_init() also starts the auditor and rte_eal_cleanup() produces the
 * final report.
 *
 * The DPDK headers are included first, so their own inline code keeps the
 * real functions; the macros only affect code compiled after this header.
 * Taking a function's address (no parentheses) still yields the real one.
 *
 * Define MPAUDIT_DISABLE to compile every wrapper back to the plain call.
 *
 * Not covered: the ring peek and zero-copy APIs (rte_ring_*_start/finish),
 * which expose slots rather than objects; objects moved that way keep
 * their previous stamp.
 */

#include <rte_eal.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ethdev.h>

#ifndef MPAUDIT_DISABLE

#include "mpaudit.h"
#include "mpaudit_stamp.h"

/** Defined when the application is compiled in instrumented mode. */
#define MPAUDIT_INSTRUMENTED 1

#define rte_eal_init(argc, argv) mpa_eal_init((argc), (argv))
#define rte_eal_cleanup() mpa_eal_cleanup()

#define rte_pktmbuf_alloc(mp) mpa_w_pktmbuf_alloc((mp), MPA_SITE())
#define rte_pktmbuf_alloc_bulk(mp, m, n) \
	mpa_w_pktmbuf_alloc_bulk((mp), (m), (n), MPA_SITE())
#define rte_pktmbuf_free(m) mpa_w_pktmbuf_free((m), MPA_SITE())
#define rte_pktmbuf_free_seg(m) mpa_w_pktmbuf_free_seg((m), MPA_SITE())
#define rte_pktmbuf_free_bulk(m, n) \
	mpa_w_pktmbuf_free_bulk((m), (n), MPA_SITE())

#define rte_mempool_get(mp, o) mpa_w_mempool_get((mp), (o), MPA_SITE())
#define rte_mempool_get_bulk(mp, o, n) \
	mpa_w_mempool_get_bulk((mp), (o), (n), MPA_SITE())
#define rte_mempool_generic_get(mp, o, n, c) \
	mpa_w_mempool_generic_get((mp), (o), (n), (c), MPA_SITE())
#define rte_mempool_put(mp, o) mpa_w_mempool_put((mp), (o), MPA_SITE())
#define rte_mempool_put_bulk(mp, o, n) \
	mpa_w_mempool_put_bulk((mp), (o), (n), MPA_SITE())
#define rte_mempool_generic_put(mp, o, n, c) \
	mpa_w_mempool_generic_put((mp), (o), (n), (c), MPA_SITE())

#define rte_eth_rx_queue_setup(p, q, n, s, c, mp) \
	mpa_w_eth_rx_queue_setup((p), (q), (n), (s), (c), (mp))
#define rte_eth_rx_burst(p, q, m, n) \
	mpa_w_eth_rx_burst((p), (q), (m), (n), MPA_SITE())
#define rte_eth_tx_burst(p, q, m, n) \
	mpa_w_eth_tx_burst((p), (q), (m), (n), MPA_SITE())

#define rte_ring_enqueue_bulk(r, o, n, x) mpa_w_rte_ring_enqueue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mp_enqueue_bulk(r, o, n, x) mpa_w_rte_ring_mp_enqueue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_sp_enqueue_bulk(r, o, n, x) mpa_w_rte_ring_sp_enqueue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_enqueue_burst(r, o, n, x) mpa_w_rte_ring_enqueue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mp_enqueue_burst(r, o, n, x) mpa_w_rte_ring_mp_enqueue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_sp_enqueue_burst(r, o, n, x) mpa_w_rte_ring_sp_enqueue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mp_rts_enqueue_bulk(r, o, n, x) mpa_w_rte_ring_mp_rts_enqueue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mp_rts_enqueue_burst(r, o, n, x) mpa_w_rte_ring_mp_rts_enqueue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mp_hts_enqueue_bulk(r, o, n, x) mpa_w_rte_ring_mp_hts_enqueue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mp_hts_enqueue_burst(r, o, n, x) mpa_w_rte_ring_mp_hts_enqueue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_dequeue_bulk(r, o, n, x) mpa_w_rte_ring_dequeue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mc_dequeue_bulk(r, o, n, x) mpa_w_rte_ring_mc_dequeue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_sc_dequeue_bulk(r, o, n, x) mpa_w_rte_ring_sc_dequeue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_dequeue_burst(r, o, n, x) mpa_w_rte_ring_dequeue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mc_dequeue_burst(r, o, n, x) mpa_w_rte_ring_mc_dequeue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_sc_dequeue_burst(r, o, n, x) mpa_w_rte_ring_sc_dequeue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mc_rts_dequeue_bulk(r, o, n, x) mpa_w_rte_ring_mc_rts_dequeue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mc_rts_dequeue_burst(r, o, n, x) mpa_w_rte_ring_mc_rts_dequeue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mc_hts_dequeue_bulk(r, o, n, x) mpa_w_rte_ring_mc_hts_dequeue_bulk((r), (o), (n), (x), MPA_SITE())
#define rte_ring_mc_hts_dequeue_burst(r, o, n, x) mpa_w_rte_ring_mc_hts_dequeue_burst((r), (o), (n), (x), MPA_SITE())
#define rte_ring_enqueue(r, o) mpa_w_rte_ring_enqueue((r), (o), MPA_SITE())
#define rte_ring_mp_enqueue(r, o) mpa_w_rte_ring_mp_enqueue((r), (o), MPA_SITE())
#define rte_ring_sp_enqueue(r, o) mpa_w_rte_ring_sp_enqueue((r), (o), MPA_SITE())
#define rte_ring_dequeue(r, o) mpa_w_rte_ring_dequeue((r), (o), MPA_SITE())
#define rte_ring_mc_dequeue(r, o) mpa_w_rte_ring_mc_dequeue((r), (o), MPA_SITE())
#define rte_ring_sc_dequeue(r, o) mpa_w_rte_ring_sc_dequeue((r), (o), MPA_SITE())
#define rte_ring_enqueue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_enqueue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mp_enqueue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_mp_enqueue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_sp_enqueue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_sp_enqueue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_enqueue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_enqueue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mp_enqueue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_mp_enqueue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_sp_enqueue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_sp_enqueue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mp_rts_enqueue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_mp_rts_enqueue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mp_rts_enqueue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_mp_rts_enqueue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mp_hts_enqueue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_mp_hts_enqueue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mp_hts_enqueue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_mp_hts_enqueue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_dequeue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_dequeue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mc_dequeue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_mc_dequeue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_sc_dequeue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_sc_dequeue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_dequeue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_dequeue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mc_dequeue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_mc_dequeue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_sc_dequeue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_sc_dequeue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mc_rts_dequeue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_mc_rts_dequeue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mc_rts_dequeue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_mc_rts_dequeue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mc_hts_dequeue_bulk_elem(r, o, e, n, x) mpa_w_rte_ring_mc_hts_dequeue_bulk_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_mc_hts_dequeue_burst_elem(r, o, e, n, x) mpa_w_rte_ring_mc_hts_dequeue_burst_elem((r), (o), (e), (n), (x), MPA_SITE())
#define rte_ring_enqueue_elem(r, o, e) mpa_w_rte_ring_enqueue_elem((r), (o), (e), MPA_SITE())
#define rte_ring_mp_enqueue_elem(r, o, e) mpa_w_rte_ring_mp_enqueue_elem((r), (o), (e), MPA_SITE())
#define rte_ring_sp_enqueue_elem(r, o, e) mpa_w_rte_ring_sp_enqueue_elem((r), (o), (e), MPA_SITE())
#define rte_ring_dequeue_elem(r, o, e) mpa_w_rte_ring_dequeue_elem((r), (o), (e), MPA_SITE())
#define rte_ring_mc_dequeue_elem(r, o, e) mpa_w_rte_ring_mc_dequeue_elem((r), (o), (e), MPA_SITE())
#define rte_ring_sc_dequeue_elem(r, o, e) mpa_w_rte_ring_sc_dequeue_elem((r), (o), (e), MPA_SITE())

#endif /* MPAUDIT_DISABLE */

#endif /* MPAUDIT_OVERRIDE_H */
