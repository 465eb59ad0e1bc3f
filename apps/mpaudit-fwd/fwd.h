/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_FWD_H
#define MPA_FWD_H

/*
 * State shared by the control lcore (main.c) and the datapath lcores
 * (datapath.c).
 *
 * Notes on sharing: there are no locks. Every field is written either
 * before the workers are launched or after they are joined
 * (rte_eal_mp_wait_lcore() orders memory), except:
 *  - quit: written by the control lcore, polled by the workers;
 *  - fwd_stats: each block written by one worker only, read by the control
 *    lcore for progress lines; both sides use relaxed atomics on 64-bit
 *    words, which cost a plain load/store on x86-64 and arm64.
 * The knob state and the ground truth belong to the RX lcore while it
 * runs and are read by the control lcore only after the join; the
 * --worker-leak state and its truth (worker_*) belong to the TX lcore.
 */

#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "args.h"

#define FWD_POOL_NAME "mpaudit_fwd_pool"
#define FWD_PIPE_RING "fwd_pipe"
#define FWD_KEEP_RING "fwd_keep"
#define FWD_HOLD_NAME "mpa_txhold"	/* rte_eth_from_rings() name */
#define FWD_HOLD_TX_RING "fwd_hold_tx"
#define FWD_HOLD_RX_RING "fwd_hold_rx"
#define FWD_PORT_NONE UINT16_MAX

/* Worker roles, also the index of their stats block. */
enum fwd_role {
	FWD_ROLE_RX,	/* forwards everything, or RX half of --pipeline */
	FWD_ROLE_TX,	/* TX half of --pipeline */
	FWD_ROLE_COUNT
};

struct fwd_stats {
	uint64_t rx;	/* packets returned by rx_burst */
	uint64_t tx;	/* packets accepted by tx_burst on forwarding ports */
	uint64_t drop;	/* packets freed because tx or fwd_pipe refused them */
	uint64_t tsc_start;	/* first and last loop of this worker */
	uint64_t tsc_end;
} __rte_cache_aligned;

/* Per-packet knobs still running on the RX lcore. */
struct fwd_knobs {
	uint32_t leak_every;	/* --leak-rx, 0 = off */
	uint32_t leak_left;	/* leaks still allowed (--leak-max) */
	uint32_t since_leak;	/* mbufs received since the last leak */
	uint64_t leak_period;	/* --leak-rate: TSC cycles between leaks */
	uint64_t leak_next;	/* ... TSC of the next leak */
	uint32_t keep_left;	/* mbufs fwd_keep still takes */
	uint32_t hold_left;	/* mbufs the hold port still takes */
	int active;		/* any of the above still at work */
};

/*
 * Exact ground truth of the injected leaks. Lines are those of the DPDK
 * calls that last touched the objects, which is what mpaudit reports as
 * their site.
 */
struct fwd_truth {
	unsigned int lcore;	/* RX lcore: every knob runs there */
	uint32_t rx_leak[RTE_MAX_ETHPORTS];	/* per port, queue 0 */
	int rx_line;
	uint32_t ring_keep;
	int ring_keep_line;
	uint32_t app_leak;
	int app_leak_line;
	uint32_t tx_hold;
	int tx_hold_line;
	/* --pipeline: where the RX lcore received and enqueued to fwd_pipe. */
	int pipe_rx_line;
	int pipe_enq_line;
	/* --worker-leak, written by the TX lcore. */
	unsigned int worker_lcore;
	uint32_t worker_leak;
	int worker_line;
	uintptr_t worker_addr[FWD_WORKER_LEAK_MAX];
	uint16_t worker_port[FWD_WORKER_LEAK_MAX];	/* m->port: received on */
};

struct fwd_ctx {
	const struct fwd_opts *opts;
	struct rte_mempool *pool;
	uint16_t burst;
	uint16_t nb_ports;
	uint16_t ports[RTE_MAX_ETHPORTS];	/* forwarding ports, in order */
	uint16_t dst[RTE_MAX_ETHPORTS];		/* by port id: paired port */
	uint16_t dst_idx[RTE_MAX_ETHPORTS];	/* by port id: index of dst */
	struct rte_ring *pipe;			/* --pipeline */
	struct rte_ring *keep;			/* --ring-keep */
	uint16_t hold_port;			/* --tx-hold, or FWD_PORT_NONE */
	unsigned int lcore[FWD_ROLE_COUNT];
	uint32_t worker_left;			/* --worker-leak still to take */
	volatile int quit;

	struct fwd_stats stats[FWD_ROLE_COUNT];
	struct fwd_knobs knobs;
	struct fwd_truth truth;
};

/*
 * --macswap: swap the source and destination MAC of each packet, as
 * testpmd's macswap engine does (l2fwd rewrites both too). The headers
 * are fetched for the whole burst first, so their misses overlap.
 */
static inline void
fwd_macswap(struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_ether_addr tmp;
	struct rte_ether_hdr *eh;
	uint16_t i;

	for (i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		eh = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
		rte_ether_addr_copy(&eh->dst_addr, &tmp);
		rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
		rte_ether_addr_copy(&tmp, &eh->src_addr);
	}
}

/* lcore entry points, for rte_eal_remote_launch(); arg is the fwd_ctx. */
int fwd_main_io(void *arg);
int fwd_main_rx(void *arg);
int fwd_main_tx(void *arg);

/* Arm the knobs from the options; call before launching the workers. */
void fwd_knobs_init(struct fwd_ctx *c);

/* Number of mbufs the knobs leaked, all kinds together. */
uint64_t fwd_truth_total(const struct fwd_ctx *c);

/* Print the ground truth lines of the knobs given. */
void fwd_truth_print(const struct fwd_ctx *c, FILE *f);

#endif /* MPA_FWD_H */
