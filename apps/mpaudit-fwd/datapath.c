/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The forwarding lcores and the leak injection knobs.
 *
 * io forwarding: packets go from rx_burst to tx_burst of the paired port
 * without their data being read or written, so a benchmark of this loop
 * measures the cost of moving mbufs and nothing else (--macswap: fwd.h).
 *
 * The knobs run on the RX lcore, right after rx_burst, only until each has
 * done its work; from then on the loop is the plain forwarder again. Each
 * DPDK call that leaves a leaked object behind sits on the same line as a
 * `const int x_line = __LINE__;`, which is the line mpaudit records for
 * it (its wrappers expand __LINE__ at the call), so the ground truth
 * printed at exit names exactly the site mpaudit must report. Keep each of
 * those calls on one line.
 */

#include <inttypes.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "fwd.h"

/* Per-destination bursts of the TX lcore; only that lcore touches them. */
static struct rte_mbuf *fwd_tx_out[RTE_MAX_ETHPORTS][FWD_MAX_BURST];
static uint16_t fwd_tx_nb_out[RTE_MAX_ETHPORTS];

static inline void
fwd_stats_publish(struct fwd_stats *st, uint64_t rx, uint64_t tx,
		  uint64_t drop)
{
	__atomic_store_n(&st->rx, rx, __ATOMIC_RELAXED);
	__atomic_store_n(&st->tx, tx, __ATOMIC_RELAXED);
	__atomic_store_n(&st->drop, drop, __ATOMIC_RELAXED);
}

/* Free what a tx_burst or an enqueue refused; return how many. */
static inline uint16_t
fwd_free_rest(struct rte_mbuf **pkts, uint16_t done, uint16_t n)
{
	if (unlikely(done < n))
		rte_pktmbuf_free_bulk(pkts + done, n - done);
	return n - done;
}

void
fwd_knobs_init(struct fwd_ctx *c)
{
	const struct fwd_opts *o = c->opts;
	struct fwd_knobs *k = &c->knobs;

	memset(k, 0, sizeof(*k));
	memset(&c->truth, 0, sizeof(c->truth));
	if (o->leak_rx != 0) {
		k->leak_every = o->leak_rx;
		k->leak_left = o->leak_max;
	} else if (o->leak_rate != 0) {
		k->leak_period = rte_get_tsc_hz() / o->leak_rate;
		if (k->leak_period == 0)
			k->leak_period = 1;
		k->leak_next = rte_get_tsc_cycles() + k->leak_period;
		k->leak_left = o->leak_max;
	}
	c->worker_left = c->pipe != NULL ? o->worker_leak : 0;
	k->keep_left = c->keep != NULL ? o->ring_keep : 0;
	k->hold_left = c->hold_port != FWD_PORT_NONE ? o->tx_hold : 0;
	k->active = k->leak_left != 0 || k->keep_left != 0 ||
		    k->hold_left != 0;
}

/* --app-leak: allocate mbufs and keep no pointer to them. */
static void
fwd_app_leak(struct fwd_ctx *c)
{
	struct fwd_truth *t = &c->truth;
	uint32_t i;

	for (i = 0; i < c->opts->app_leak; i++) {
		const int alloc_line = __LINE__; struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);

		t->app_leak_line = alloc_line;
		if (m == NULL)
			break;
		t->app_leak++;
	}
}

/* Start of the RX (or only) worker: the knobs' lcore, and the app leak. */
static void
fwd_rx_start(struct fwd_ctx *c)
{
	c->truth.lcore = rte_lcore_id();
	if (c->opts->app_leak != 0)
		fwd_app_leak(c);
}

/*
 * Apply the per-packet knobs to @p nb packets just received on @p port by
 * the rx_burst at @p rx_line. Packets a knob takes are removed from
 * @p pkts; the rest are compacted at its start and their count returned.
 * Order: a packet due to leak leaks, else fwd_keep takes it while it has
 * room, else the hold port while it takes more, else it is forwarded.
 */
static uint16_t
fwd_knobs_apply(struct fwd_ctx *c, uint16_t port, struct rte_mbuf **pkts,
		uint16_t nb, int rx_line, uint64_t *drop)
{
	struct rte_mbuf *hold[FWD_MAX_BURST];
	struct fwd_knobs *k = &c->knobs;
	struct fwd_truth *t = &c->truth;
	uint16_t nb_fwd = 0;
	uint16_t nb_hold = 0;
	uint16_t i;

	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];

		if (k->leak_left != 0 && k->leak_period != 0 &&
		    rte_get_tsc_cycles() >= k->leak_next) {
			/*
			 * A leak per period of the TSC, counted from the last
			 * one due, so the rate holds on average whatever the
			 * traffic's bursts.
			 */
			k->leak_next += k->leak_period;
			k->leak_left--;
			t->rx_leak[port]++;
			t->rx_line = rx_line;
			continue;
		}
		if (k->leak_left != 0 && k->leak_every != 0 &&
		    ++k->since_leak == k->leak_every) {
			/* Dropped on the floor: rx_burst stays its last owner. */
			k->since_leak = 0;
			k->leak_left--;
			t->rx_leak[port]++;
			t->rx_line = rx_line;
			continue;
		}
		if (k->keep_left != 0) {
			const int keep_line = __LINE__; int rc = rte_ring_enqueue(c->keep, m);

			t->ring_keep_line = keep_line;
			if (rc == 0) {
				k->keep_left--;
				t->ring_keep++;
				continue;
			}
			/* fwd_keep holds exactly K: a refusal means no room. */
			k->keep_left = 0;
		}
		if (nb_hold < k->hold_left) {
			hold[nb_hold++] = m;
			continue;
		}
		pkts[nb_fwd++] = m;
	}

	if (nb_hold != 0) {
		const int hold_line = __LINE__; uint16_t sent = rte_eth_tx_burst(c->hold_port, 0, hold, nb_hold);

		t->tx_hold_line = hold_line;
		t->tx_hold += sent;
		k->hold_left -= sent;
		if (unlikely(sent < nb_hold)) {
			/*
			 * The hold ring is sized for exactly K and never
			 * drained, so a port that refuses now always will.
			 */
			*drop += fwd_free_rest(hold, sent, nb_hold);
			k->hold_left = 0;
		}
	}

	k->active = k->leak_left != 0 || k->keep_left != 0 ||
		    k->hold_left != 0;
	return nb_fwd;
}

int
fwd_main_io(void *arg)
{
	struct fwd_ctx *c = arg;
	struct fwd_stats *st = &c->stats[FWD_ROLE_RX];
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	const uint16_t burst = c->burst;
	uint64_t rx = 0, tx = 0, drop = 0;
	int knobs, macswap;
	uint16_t i;

	fwd_rx_start(c);
	knobs = c->knobs.active; macswap = c->opts->macswap;
	st->tsc_start = rte_rdtsc();
	while (!c->quit) {
		for (i = 0; i < c->nb_ports; i++) {
			const uint16_t port = c->ports[i];
			uint16_t sent;

			const int rx_line = __LINE__; uint16_t nb = rte_eth_rx_burst(port, 0, pkts, burst);

			if (nb == 0)
				continue;
			rx += nb;
			if (unlikely(knobs)) {
				nb = fwd_knobs_apply(c, port, pkts, nb, rx_line,
						     &drop);
				knobs = c->knobs.active;
			}
			if (macswap)
				fwd_macswap(pkts, nb);
			sent = rte_eth_tx_burst(c->dst[port], 0, pkts, nb);
			tx += sent;
			drop += fwd_free_rest(pkts, sent, nb);
		}
		fwd_stats_publish(st, rx, tx, drop);
	}
	st->tsc_end = rte_rdtsc();
	return 0;
}

int
fwd_main_rx(void *arg)
{
	struct fwd_ctx *c = arg;
	struct fwd_stats *st = &c->stats[FWD_ROLE_RX];
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	const uint16_t burst = c->burst;
	uint64_t rx = 0, drop = 0;
	int knobs, rx_seen = 0, enq_seen = 0;
	uint16_t i;

	fwd_rx_start(c);
	knobs = c->knobs.active;
	st->tsc_start = rte_rdtsc();
	while (!c->quit) {
		for (i = 0; i < c->nb_ports; i++) {
			const uint16_t port = c->ports[i];
			unsigned int enq;

			const int rx_line = __LINE__; uint16_t nb = rte_eth_rx_burst(port, 0, pkts, burst);

			if (nb == 0)
				continue;
			rx += nb;
			rx_seen = rx_line;
			if (unlikely(knobs)) {
				nb = fwd_knobs_apply(c, port, pkts, nb, rx_line,
						     &drop);
				knobs = c->knobs.active;
				if (nb == 0)
					continue;
			}
			const int enq_line = __LINE__; enq = rte_ring_sp_enqueue_burst(c->pipe, (void * const *)pkts, nb, NULL);

			enq_seen = enq_line;
			drop += fwd_free_rest(pkts, (uint16_t)enq, nb);
		}
		fwd_stats_publish(st, rx, 0, drop);
	}
	st->tsc_end = rte_rdtsc();
	/* Constants: the previous holders of what the worker leaks. */
	c->truth.pipe_rx_line = rx_seen;
	c->truth.pipe_enq_line = enq_seen;
	return 0;
}

/*
 * --worker-leak: the TX lcore forgets the first mbufs it takes from
 * fwd_pipe. Their last holder is that dequeue (application code on the
 * TX lcore), the ring before it, the RX queue before that: a known path
 * for mpaudit's per-object history. The rest of @p pkts is compacted;
 * returns how many are left to send.
 */
static uint16_t
fwd_worker_leak(struct fwd_ctx *c, struct rte_mbuf **pkts, uint16_t n,
		int deq_line)
{
	struct fwd_truth *t = &c->truth;
	uint16_t take = n < c->worker_left ? n : (uint16_t)c->worker_left;
	uint16_t i;

	t->worker_lcore = rte_lcore_id();
	t->worker_line = deq_line;
	for (i = 0; i < take; i++) {
		t->worker_addr[t->worker_leak] = (uintptr_t)pkts[i];
		t->worker_port[t->worker_leak] = pkts[i]->port;
		t->worker_leak++;
	}
	c->worker_left -= take;
	memmove(pkts, pkts + take, (n - take) * sizeof(*pkts));
	return n - take;
}

int
fwd_main_tx(void *arg)
{
	struct fwd_ctx *c = arg;
	struct fwd_stats *st = &c->stats[FWD_ROLE_TX];
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	const uint16_t burst = c->burst;
	const int macswap = c->opts->macswap;
	uint64_t tx = 0, drop = 0;
	uint16_t i, d, n, sent;

	st->tsc_start = rte_rdtsc();
	while (!c->quit) {
		const int deq_line = __LINE__; n = (uint16_t)rte_ring_sc_dequeue_burst(c->pipe, (void **)pkts, burst, NULL);

		if (unlikely(c->worker_left != 0) && n != 0)
			n = fwd_worker_leak(c, pkts, n, deq_line);
		if (n == 0)
			continue;
		/* The ring gave pointers only: fetch the headers for m->port. */
		for (i = 0; i < n; i++)
			rte_prefetch0(pkts[i]);
		if (macswap)
			fwd_macswap(pkts, n);
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];

			d = m->port < RTE_MAX_ETHPORTS ?
				c->dst_idx[m->port] : FWD_PORT_NONE;
			if (unlikely(d == FWD_PORT_NONE)) {
				/* Not from a forwarding port: nowhere to go. */
				rte_pktmbuf_free(m);
				drop++;
				continue;
			}
			fwd_tx_out[d][fwd_tx_nb_out[d]++] = m;
		}
		for (d = 0; d < c->nb_ports; d++) {
			if (fwd_tx_nb_out[d] == 0)
				continue;
			sent = rte_eth_tx_burst(c->ports[d], 0, fwd_tx_out[d],
						fwd_tx_nb_out[d]);
			tx += sent;
			drop += fwd_free_rest(fwd_tx_out[d], sent,
					      fwd_tx_nb_out[d]);
			fwd_tx_nb_out[d] = 0;
		}
		fwd_stats_publish(st, 0, tx, drop);
	}
	st->tsc_end = rte_rdtsc();
	return 0;
}

/*
 * Print "FILE:LINE", or "-" for a call that never ran. FILE is __FILE__
 * without its leading "./" and "../" components (meson compiles from the
 * build directory, so __FILE__ is "../apps/..."): mpaudit reports sites
 * in that project-relative form, and truth and report must compare equal.
 */
static void
fwd_site_print(FILE *f, int line)
{
	const char *file = __FILE__;

	for (;;) {
		if (strncmp(file, "./", 2) == 0)
			file += 2;
		else if (strncmp(file, "../", 3) == 0)
			file += 3;
		else
			break;
	}
	if (line != 0)
		fprintf(f, "site=%s:%d\n", file, line);
	else
		fprintf(f, "site=-\n");
}

/*
 * --worker-leak: the group, then each leaked mbuf's previous holders as
 * the program knows them, most recent first ("truth prev" lines, n=1 the
 * holder before the dequeue): fwd_pipe's enqueue on the RX lcore, and
 * the RX queue it came from.
 */
static void
fwd_worker_truth_print(const struct fwd_ctx *c, FILE *f)
{
	const struct fwd_truth *t = &c->truth;

	fprintf(f, FWD_PROG ": truth kind=worker_leak count=%u "
		"pool=" FWD_POOL_NAME " state=app lcore=%u port=- queue=- "
		"ring=- ", t->worker_leak, t->worker_lcore);
	fwd_site_print(f, t->worker_line);
	for (uint32_t i = 0; i < t->worker_leak; i++) {
		fprintf(f, FWD_PROG ": truth prev addr=0x%" PRIxPTR " n=1 "
			"state=ring lcore=%u port=- queue=- ring=" FWD_PIPE_RING
			" ", t->worker_addr[i], t->lcore);
		fwd_site_print(f, t->pipe_enq_line);
		fprintf(f, FWD_PROG ": truth prev addr=0x%" PRIxPTR " n=2 "
			"state=rx lcore=%u port=%u queue=0 ring=- ",
			t->worker_addr[i], t->lcore, t->worker_port[i]);
		fwd_site_print(f, t->pipe_rx_line);
	}
}

uint64_t
fwd_truth_total(const struct fwd_ctx *c)
{
	const struct fwd_truth *t = &c->truth;
	uint64_t n = (uint64_t)t->ring_keep + t->app_leak + t->tx_hold +
		     t->worker_leak;
	uint16_t i;

	for (i = 0; i < c->nb_ports; i++)
		n += t->rx_leak[c->ports[i]];
	return n;
}

void
fwd_truth_print(const struct fwd_ctx *c, FILE *f)
{
	const struct fwd_opts *o = c->opts;
	const struct fwd_truth *t = &c->truth;
	uint16_t i;

	/* One line per port/queue that leaked: mpaudit groups by both. */
	if (o->leak_rx != 0 || o->leak_rate != 0) {
		for (i = 0; i < c->nb_ports; i++) {
			uint16_t port = c->ports[i];

			if (t->rx_leak[port] == 0)
				continue;
			fprintf(f, FWD_PROG ": truth kind=rx_leak count=%u "
				"pool=" FWD_POOL_NAME " state=rx lcore=%u "
				"port=%u queue=0 ring=- ",
				t->rx_leak[port], t->lcore, port);
			fwd_site_print(f, t->rx_line);
		}
	}
	if (o->ring_keep != 0) {
		fprintf(f, FWD_PROG ": truth kind=ring_keep count=%u "
			"pool=" FWD_POOL_NAME " state=ring lcore=%u port=- "
			"queue=- ring=" FWD_KEEP_RING " ",
			t->ring_keep, t->lcore);
		fwd_site_print(f, t->ring_keep_line);
	}
	if (o->app_leak != 0) {
		fprintf(f, FWD_PROG ": truth kind=app_leak count=%u "
			"pool=" FWD_POOL_NAME " state=app lcore=%u port=- "
			"queue=- ring=- ", t->app_leak, t->lcore);
		fwd_site_print(f, t->app_leak_line);
	}
	if (o->worker_leak != 0)
		fwd_worker_truth_print(c, f);
	if (o->tx_hold != 0) {
		fprintf(f, FWD_PROG ": truth kind=tx_hold count=%u "
			"pool=" FWD_POOL_NAME " state=tx lcore=%u port=%u "
			"queue=0 ring=- ", t->tx_hold, t->lcore, c->hold_port);
		fwd_site_print(f, t->tx_hold_line);
	}
}
