/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <string.h>

#include <rte_spinlock.h>

#include "driver.h"

/* Most RX queues per port whose configuration is remembered. */
#define MPA_RXQ_MAX 64

struct rxq_conf {
	const struct rte_mempool *mp;
	uint16_t nb_desc;
};

static rte_spinlock_t conf_lock = RTE_SPINLOCK_INITIALIZER;
static struct rxq_conf conf[RTE_MAX_ETHPORTS][MPA_RXQ_MAX];

void
mpa_rxq_note(uint16_t port, uint16_t queue, uint16_t nb_desc,
	     const struct rte_mempool *mp)
{
	if (port >= RTE_MAX_ETHPORTS || queue >= MPA_RXQ_MAX)
		return;
	rte_spinlock_lock(&conf_lock);
	conf[port][queue].mp = mp;
	conf[port][queue].nb_desc = nb_desc;
	rte_spinlock_unlock(&conf_lock);
}

void
mpa_rxq_forget(void)
{
	rte_spinlock_lock(&conf_lock);
	memset(conf, 0, sizeof(conf));
	rte_spinlock_unlock(&conf_lock);
}

/*
 * Only a started port's set-up queues hold mbufs. ethdev has no public
 * query for that, and rte_eth_rx_queue_info_get() logs an error for a
 * queue that is not set up, so ask the fast-path table the inline
 * rte_eth_rx_burst() uses. While a port is started, its entry points at
 * the port's own RX and TX queue arrays; stopped, both point at one shared
 * dummy array (of NULLs in 22.11.0, of dummy queues in later 22.11
 * releases), so "RX array != TX array" tells a started port either way.
 */
static int
rxq_live(uint16_t port, uint16_t q)
{
	void **rx = __atomic_load_n(&rte_eth_fp_ops[port].rxq.data,
				    __ATOMIC_ACQUIRE);
	void **tx = __atomic_load_n(&rte_eth_fp_ops[port].txq.data,
				    __ATOMIC_ACQUIRE);

	return rx != NULL && rx != tx && q < RTE_MAX_QUEUES_PER_PORT &&
	       rx[q] != NULL;
}

/* The driver's own answer first; else what the application configured. */
static int
rxq_info(uint16_t port, uint16_t q, const struct rte_mempool **mp,
	 uint32_t *desc)
{
	struct rte_eth_rxq_info qi;
	int ok = 0;

	if (!rxq_live(port, q))
		return 0;
	if (rte_eth_rx_queue_info_get(port, q, &qi) == 0 && qi.mp != NULL &&
	    qi.nb_desc != 0) {
		*mp = qi.mp;
		*desc = qi.nb_desc;
		return 1;
	}
	if (port >= RTE_MAX_ETHPORTS || q >= MPA_RXQ_MAX)
		return 0;
	rte_spinlock_lock(&conf_lock);
	if (conf[port][q].mp != NULL) {
		*mp = conf[port][q].mp;
		*desc = conf[port][q].nb_desc;
		ok = 1;
	}
	rte_spinlock_unlock(&conf_lock);
	return ok;
}

uint32_t
mpa_driver_expectations(struct mpa_drv_expect *e, uint32_t max)
{
	uint32_t n = 0;
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(port, &info) != 0)
			continue;
		for (uint16_t q = 0; q < info.nb_rx_queues; q++) {
			const struct rte_mempool *mp;
			uint32_t desc, i;

			if (!rxq_info(port, q, &mp, &desc))
				continue;
			for (i = 0; i < n && e[i].mp != mp; i++)
				;
			if (i == n) {
				if (n == max)
					continue;
				memset(&e[i], 0, sizeof(e[i]));
				e[i].mp = mp;
				e[i].port = port;
				e[i].queue = q;
				n++;
			}
			e[i].desc += desc;
			e[i].nqueues++;
		}
	}
	return n;
}
