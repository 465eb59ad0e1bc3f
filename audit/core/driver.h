/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_DRIVER_H
#define MPA_DRIVER_H

/*
 * What drivers are expected to hold: every RX queue keeps up to its
 * descriptor count of mbufs from its pool posted. The scanner asks ethdev
 * (rte_eth_rx_queue_info_get); drivers that cannot say (virtio, among
 * others) are covered by what the application configured, recorded when
 * rte_eth_rx_queue_setup() is called through our wrapper (instrumented
 * mode) or interposed (zero-recompile mode).
 */

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

/** Expected holdings of one pool. */
struct mpa_drv_expect {
	const struct rte_mempool *mp;
	uint32_t desc;      /**< RX descriptors fed by the pool */
	uint32_t nqueues;   /**< RX queues fed by the pool */
	uint16_t port;      /**< the queue, when the pool feeds exactly one */
	uint16_t queue;
};

/** Record an RX queue configuration. Callable from any thread. */
void mpa_rxq_note(uint16_t port, uint16_t queue, uint16_t nb_desc,
		  const struct rte_mempool *mp);

/**
 * Fill @p e (capacity @p max) with the expected holdings per pool, from
 * every port's RX queues. @return the number of entries.
 */
uint32_t mpa_driver_expectations(struct mpa_drv_expect *e, uint32_t max);

/** Forget the recorded configurations (auditor shutdown). */
void mpa_rxq_forget(void);

#endif /* MPA_DRIVER_H */
