/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * mpaudit-fwd: the demo and soak datapath of mpaudit.
 *
 * The main lcore is the control lcore: it sets everything up, launches the
 * datapath (datapath.c) on the first one or two worker lcores, then times
 * the run, prints progress and churns a scratch mempool until the duration
 * ends or a signal arrives. Shutdown frees every mbuf the application
 * still legitimately holds, but not the injected leaks, which is what the
 * auditor must then find: the ground truth lines tell a test exactly what.
 *
 * The same sources build mpaudit-fwd (with -include mpaudit_override.h,
 * so every mbuf, mempool, ring and burst call stamps objects) and
 * mpaudit-fwd-plain (no auditor, the benchmark baseline).
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <rte_service.h>

#ifdef MPAUDIT_INSTRUMENTED
#include <mpaudit.h>
#endif

#include "args.h"
#include "fwd.h"

#define FWD_RX_DESC 1024
#define FWD_TX_DESC 1024
/*
 * fwd_pipe slots: deep enough that the mbufs in flight between the two
 * lcores (up to 4095, three lines each: header, mbuf, Ethernet header
 * with --macswap) do not fit in a core's L2, as in a real pipeline, and
 * far below the default pool.
 */
#define FWD_PIPE_SIZE 4096
/* The hold port's RX ring is never polled; it only has to exist. */
#define FWD_HOLD_RX_SIZE 64
/* Longest control-lcore sleep, so a signal taken by another thread is
 * noticed quickly. */
#define FWD_CONTROL_TICK_MS 100

#define FWD_CHURN_POOL "fwd_churn"
#define FWD_CHURN_NB_OBJS 1023
#define FWD_CHURN_OBJ_SIZE 256
#define FWD_CHURN_NB_GET 8

#define FWD_NS_PER_MS UINT64_C(1000000)
#define FWD_NS_PER_S UINT64_C(1000000000)

/* Large (per-port tables): static rather than on the main stack. */
static struct fwd_ctx fwd_ctx;
static volatile sig_atomic_t fwd_signalled;

static void
fwd_on_signal(int sig)
{
	RTE_SET_USED(sig);
	fwd_signalled = 1;
}

static int
fwd_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fwd_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGTERM, &sa, NULL) != 0) {
		fprintf(stderr, FWD_PROG ": cannot install signal handlers: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static uint64_t
fwd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * FWD_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void
fwd_sleep_until(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / FWD_NS_PER_S),
		.tv_nsec = (long)(ns % FWD_NS_PER_S),
	};

	/* EINTR is fine: the caller rechecks the signal flag and the time. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* First one (io) or two (--pipeline) worker lcores; the main one controls. */
static int
fwd_pick_lcores(struct fwd_ctx *c)
{
	const int pipeline = c->opts->pipeline;
	unsigned int rx, tx = RTE_MAX_LCORE;

	rx = rte_get_next_lcore(-1, 1, 0);
	if (pipeline && rx < RTE_MAX_LCORE)
		tx = rte_get_next_lcore(rx, 1, 0);
	if (rx >= RTE_MAX_LCORE || (pipeline && tx >= RTE_MAX_LCORE)) {
		fprintf(stderr, FWD_PROG ": %s needs %d lcores (control, %s), "
			"EAL gave %u; e.g. --lcores %s\n",
			pipeline ? "--pipeline" : "io forwarding",
			pipeline ? 3 : 2,
			pipeline ? "rx, tx" : "forwarding",
			rte_lcore_count(),
			pipeline ? "0@0,1@1,2@0" : "0@0,1@1");
		return -1;
	}
	c->lcore[FWD_ROLE_RX] = rx;
	c->lcore[FWD_ROLE_TX] = tx;
	return 0;
}

/* Take the first N ports and pair them 0<->1, 2<->3 (or 0->0). */
static int
fwd_pick_ports(struct fwd_ctx *c)
{
	const uint32_t avail = rte_eth_dev_count_avail();
	const uint32_t n = c->opts->nb_ports != 0 ? c->opts->nb_ports : avail;
	uint16_t pid, i = 0;

	if (n == 0 || n > avail || (n != 1 && n % 2 != 0)) {
		fprintf(stderr, FWD_PROG ": port count %u does not fit: %u "
			"port(s) available, forwarding needs 1 or an even "
			"number%s\n", n, avail,
			c->opts->nb_ports != 0 ? "" : " (choose with --ports)");
		return -1;
	}
	for (pid = 0; pid < RTE_MAX_ETHPORTS; pid++) {
		c->dst[pid] = FWD_PORT_NONE;
		c->dst_idx[pid] = FWD_PORT_NONE;
	}
	RTE_ETH_FOREACH_DEV(pid) {
		if (i == n)
			break;
		c->ports[i++] = pid;
	}
	c->nb_ports = (uint16_t)n;
	for (i = 0; i < n; i++) {
		uint16_t peer = n == 1 ? i : (uint16_t)(i ^ 1);

		c->dst[c->ports[i]] = c->ports[peer];
		c->dst_idx[c->ports[i]] = peer;
	}
	return 0;
}

/* One RX and one TX queue, default configuration, started. */
static int
fwd_port_start(uint16_t port, struct rte_mempool *pool, int promisc)
{
	struct rte_eth_conf conf;
	uint16_t nb_rxd = FWD_RX_DESC;
	uint16_t nb_txd = FWD_TX_DESC;
	int socket = rte_eth_dev_socket_id(port);
	const char *what;
	int rc;

	memset(&conf, 0, sizeof(conf));
	what = "configure";
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc != 0)
		goto err;
	what = "adjust descriptors of";
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0)
		goto err;
	what = "set up the RX queue of";
	rc = rte_eth_rx_queue_setup(port, 0, nb_rxd, socket, NULL, pool);
	if (rc != 0)
		goto err;
	what = "set up the TX queue of";
	rc = rte_eth_tx_queue_setup(port, 0, nb_txd, socket, NULL);
	if (rc != 0)
		goto err;
	what = "start";
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		goto err;
	/* l2fwd-style: forward whatever arrives; some PMDs cannot, fine. */
	if (promisc)
		rte_eth_promiscuous_enable(port);
	return 0;
err:
	fprintf(stderr, FWD_PROG ": cannot %s port %u: %s\n", what, port,
		rte_strerror(-rc));
	return -1;
}

/* Stop and close the forwarding ports; safe on ports never started. */
static void
fwd_ports_close(struct fwd_ctx *c)
{
	uint16_t i;
	int rc;

	for (i = 0; i < c->nb_ports; i++) {
		rc = rte_eth_dev_stop(c->ports[i]);
		if (rc != 0)
			fprintf(stderr, FWD_PROG ": cannot stop port %u: %s\n",
				c->ports[i], rte_strerror(-rc));
		rc = rte_eth_dev_close(c->ports[i]);
		if (rc != 0)
			fprintf(stderr, FWD_PROG ": cannot close port %u: %s\n",
				c->ports[i], rte_strerror(-rc));
	}
}

/*
 * --tx-hold: a ring port whose TX ring holds exactly K mbufs and is never
 * drained, so whatever it accepts stays "handed to tx_burst" forever, as
 * with a NIC whose TX completions stopped.
 */
static int
fwd_hold_port_create(struct fwd_ctx *c)
{
	const int socket = (int)rte_socket_id();
	struct rte_ring *rx, *tx;
	int port;

	tx = rte_ring_create(FWD_HOLD_TX_RING, c->opts->tx_hold, socket,
			     RING_F_EXACT_SZ | RING_F_SP_ENQ | RING_F_SC_DEQ);
	rx = rte_ring_create(FWD_HOLD_RX_RING, FWD_HOLD_RX_SIZE, socket,
			     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (tx == NULL || rx == NULL) {
		fprintf(stderr, FWD_PROG ": cannot create the rings of port "
			FWD_HOLD_NAME ": %s\n", rte_strerror(rte_errno));
		return -1;
	}
	port = rte_eth_from_rings(FWD_HOLD_NAME, &rx, 1, &tx, 1,
				  (unsigned int)socket);
	if (port < 0) {
		fprintf(stderr, FWD_PROG ": cannot create port " FWD_HOLD_NAME
			": %s\n", rte_strerror(rte_errno));
		return -1;
	}
	c->hold_port = (uint16_t)port;
	return fwd_port_start(c->hold_port, c->pool, 0);
}

static int
fwd_setup(struct fwd_ctx *c)
{
	const struct fwd_opts *o = c->opts;
	const int socket = (int)rte_socket_id();
	uint16_t i;

	c->pool = rte_pktmbuf_pool_create(FWD_POOL_NAME, o->nb_mbufs,
					  o->mbuf_cache, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (c->pool == NULL) {
		fprintf(stderr, FWD_PROG ": cannot create mbuf pool "
			FWD_POOL_NAME " (%u mbufs, cache %u): %s\n",
			o->nb_mbufs, o->mbuf_cache, rte_strerror(rte_errno));
		return -1;
	}
	for (i = 0; i < c->nb_ports; i++)
		if (fwd_port_start(c->ports[i], c->pool, 1) != 0)
			return -1;

	if (o->pipeline) {
		c->pipe = rte_ring_create(FWD_PIPE_RING, FWD_PIPE_SIZE, socket,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (c->pipe == NULL) {
			fprintf(stderr, FWD_PROG ": cannot create ring "
				FWD_PIPE_RING ": %s\n", rte_strerror(rte_errno));
			return -1;
		}
	}
	if (o->ring_keep != 0) {
		c->keep = rte_ring_create(FWD_KEEP_RING, o->ring_keep, socket,
					  RING_F_EXACT_SZ);
		if (c->keep == NULL) {
			fprintf(stderr, FWD_PROG ": cannot create ring "
				FWD_KEEP_RING ": %s\n", rte_strerror(rte_errno));
			return -1;
		}
	}
	if (o->tx_hold != 0 && fwd_hold_port_create(c) != 0)
		return -1;
	fwd_knobs_init(c);
	return 0;
}

static void
fwd_print_plan(const struct fwd_ctx *c)
{
	uint16_t i;

	printf(FWD_PROG ": pool " FWD_POOL_NAME " %u mbufs cache %u, burst %u, "
	       "ports", c->opts->nb_mbufs, c->opts->mbuf_cache, c->burst);
	for (i = 0; i < c->nb_ports; i++)
		if (c->dst[c->ports[i]] >= c->ports[i])
			printf(" %u<->%u", c->ports[i], c->dst[c->ports[i]]);
	if (c->opts->pipeline)
		printf(", rx lcore %u -> " FWD_PIPE_RING " -> tx lcore %u",
		       c->lcore[FWD_ROLE_RX], c->lcore[FWD_ROLE_TX]);
	else
		printf(", forwarding lcore %u", c->lcore[FWD_ROLE_RX]);
	if (c->opts->macswap)
		printf(", macswap");
	if (c->hold_port != FWD_PORT_NONE)
		printf(", hold port %u (" FWD_HOLD_NAME ")", c->hold_port);
	printf("\n");
	fflush(stdout);
}

/*
 * --churn-pool: a whole non-mbuf pool lifecycle. The auditor must follow
 * the pool's creation and destruction and never report it.
 */
static int
fwd_churn_once(void)
{
	void *objs[FWD_CHURN_NB_GET];
	struct rte_mempool *mp;
	unsigned int n;

	mp = rte_mempool_create(FWD_CHURN_POOL, FWD_CHURN_NB_OBJS,
				FWD_CHURN_OBJ_SIZE, 0, 0, NULL, NULL, NULL,
				NULL, (int)rte_socket_id(), 0);
	if (mp == NULL)
		return -rte_errno;
	for (n = 0; n < FWD_CHURN_NB_GET; n++)
		if (rte_mempool_get(mp, &objs[n]) != 0)
			break;
	while (n > 0)
		rte_mempool_put(mp, objs[--n]);
	rte_mempool_free(mp);
	return 0;
}

static void
fwd_stats_sum(const struct fwd_ctx *c, uint64_t *rx, uint64_t *tx,
	      uint64_t *drop)
{
	unsigned int r;

	*rx = *tx = *drop = 0;
	for (r = 0; r < FWD_ROLE_COUNT; r++) {
		*rx += __atomic_load_n(&c->stats[r].rx, __ATOMIC_RELAXED);
		*tx += __atomic_load_n(&c->stats[r].tx, __ATOMIC_RELAXED);
		*drop += __atomic_load_n(&c->stats[r].drop, __ATOMIC_RELAXED);
	}
}

/*
 * --ab-ms: the instrumented forwarder measuring its own stamps. Every
 * period the stamps are switched off or on (mpa_on) and the packets sent
 * in the phase that ended are counted for its kind. Both kinds then see
 * the same moments of the host: on a shared VM whose speed drifts by tens
 * of percent within a minute, alternate runs of two processes cannot
 * resolve a cost of a few percent (docs/performance.md). An off phase
 * still tests mpa_on in each wrapper, so it runs a branch per call slower
 * than the plain build. The first two phases warm up and are not counted.
 */
#define FWD_AB_WARMUP 2u
#define FWD_AB_PAIRS_MAX 4096u

struct fwd_ab {
	uint64_t period_ns;
	uint64_t next_ns;	/* end of the running phase; UINT64_MAX: off */
	uint64_t start_ns;	/* of the running phase */
	uint64_t start_tx;
	uint64_t start_rx;
	uint64_t start_drop;
	unsigned int phase;	/* phases ended */
	int on;			/* the running phase stamps */
	uint64_t pkts[2];	/* counted phases: [0] off, [1] on */
	uint64_t ns[2];
	/*
	 * Received and dropped in the counted phases: where RX outruns
	 * the rest (the pipeline's ring full), the drops say which side
	 * limits each kind of phase.
	 */
	uint64_t rx[2];
	uint64_t drop[2];
	double off_rate;	/* the last counted off phase, for its pair */
	uint32_t nb_pairs;	/* off phase then on phase, in order */
	double pair[FWD_AB_PAIRS_MAX];
};

#ifdef MPAUDIT_INSTRUMENTED
static int
fwd_ab_start(struct fwd_ab *ab, const struct fwd_ctx *c, uint64_t now)
{
	if (!mpa_on) {
		fprintf(stderr, FWD_PROG ": --ab-ms: the auditor is not "
			"running; no phases\n");
		return -1;
	}
	ab->period_ns = (uint64_t)c->opts->ab_ms * FWD_NS_PER_MS;
	ab->next_ns = now + ab->period_ns;
	ab->start_ns = now;
	fwd_stats_sum(c, &ab->start_rx, &ab->start_tx, &ab->start_drop);
	ab->on = 1;
	return 0;
}

/* End the running phase at @p now and start the other kind. */
static void
fwd_ab_flip(struct fwd_ab *ab, const struct fwd_ctx *c, uint64_t now)
{
	uint64_t rx, tx, drop, ns = now - ab->start_ns;

	fwd_stats_sum(c, &rx, &tx, &drop);
	if (ab->on && !mpa_on) {
		/* Something else cleared mpa_on (the auditor stopping): leave it. */
		fprintf(stderr, FWD_PROG ": --ab-ms: the auditor stopped "
			"stamping; phases end\n");
		ab->next_ns = UINT64_MAX;
		return;
	}
	if (ab->phase >= FWD_AB_WARMUP && ns != 0) {
		double rate = (double)(tx - ab->start_tx) / (double)ns;

		ab->pkts[ab->on] += tx - ab->start_tx;
		ab->ns[ab->on] += ns;
		ab->rx[ab->on] += rx - ab->start_rx;
		ab->drop[ab->on] += drop - ab->start_drop;
		if (!ab->on)
			ab->off_rate = rate;
		else if (ab->off_rate > 0 && ab->nb_pairs < FWD_AB_PAIRS_MAX)
			ab->pair[ab->nb_pairs++] = rate / ab->off_rate;
	}
	ab->phase++;
	ab->on = !ab->on;
	mpa_on = ab->on;
	ab->start_ns = now;
	ab->start_tx = tx;
	ab->start_rx = rx;
	ab->start_drop = drop;
	ab->next_ns += ab->period_ns;
	if (ab->next_ns <= now)
		ab->next_ns = now + ab->period_ns;
}

static int
fwd_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
fwd_ab_mpps(uint64_t pkts, uint64_t ns)
{
	return ns != 0 ? (double)pkts * 1e3 / (double)ns : 0.0;
}

/* Dropped packets as a share of those received. */
static double
fwd_ab_share(uint64_t drop, uint64_t rx)
{
	return rx != 0 ? (double)drop / (double)rx : 0.0;
}

/* Stamps back on for the report at exit, and the 'ab' line. */
static void
fwd_ab_end(struct fwd_ab *ab)
{
	double on, off, med = 0.0;

	if (ab->next_ns != UINT64_MAX)
		mpa_on = 1;
	on = fwd_ab_mpps(ab->pkts[1], ab->ns[1]);
	off = fwd_ab_mpps(ab->pkts[0], ab->ns[0]);
	if (ab->nb_pairs != 0) {
		qsort(ab->pair, ab->nb_pairs, sizeof(ab->pair[0]),
		      fwd_cmp_double);
		med = ab->nb_pairs % 2 ? ab->pair[ab->nb_pairs / 2] :
		      (ab->pair[ab->nb_pairs / 2 - 1] +
		       ab->pair[ab->nb_pairs / 2]) / 2;
	}
	printf(FWD_PROG ": ab phases=%u pairs=%u on=%.2f Mpps off=%.2f Mpps "
	       "ratio=%.4f pair_median=%.4f rx_on=%.2f rx_off=%.2f "
	       "drop_on=%.4f drop_off=%.4f\n", ab->phase, ab->nb_pairs, on,
	       off, off > 0 ? on / off : 0.0, med,
	       fwd_ab_mpps(ab->rx[1], ab->ns[1]),
	       fwd_ab_mpps(ab->rx[0], ab->ns[0]),
	       fwd_ab_share(ab->drop[1], ab->rx[1]),
	       fwd_ab_share(ab->drop[0], ab->rx[0]));
}
#else
static int
fwd_ab_start(struct fwd_ab *ab, const struct fwd_ctx *c, uint64_t now)
{
	fprintf(stderr, FWD_PROG ": --ab-ms needs the instrumented build "
		"(mpaudit-fwd); no phases\n");
	return -1;
}

static void
fwd_ab_flip(struct fwd_ab *ab, const struct fwd_ctx *c, uint64_t now)
{
}

static void
fwd_ab_end(struct fwd_ab *ab)
{
}
#endif

/* Time, stats and churn until the duration ends or a signal arrives. */
static void
fwd_control(struct fwd_ctx *c, uint64_t *nb_churn)
{
	const struct fwd_opts *o = c->opts;
	const uint64_t start = fwd_now_ns();
	const uint64_t stats_ns = o->stats_ms * FWD_NS_PER_MS;
	const uint64_t churn_ns = o->churn_ms * FWD_NS_PER_MS;
	const uint64_t end = o->duration_s != 0 ?
		start + o->duration_s * FWD_NS_PER_S : UINT64_MAX;
	uint64_t next_stats = stats_ns != 0 ? start + stats_ns : UINT64_MAX;
	uint64_t next_churn = churn_ns != 0 ? start + churn_ns : UINT64_MAX;
	uint64_t last_tx = 0, last_ns = start;
	uint64_t now, wake, rx, tx, drop;
	int churn_err_said = 0;
	struct fwd_ab *ab = NULL;
	int rc;

	if (o->ab_ms != 0) {
		ab = calloc(1, sizeof(*ab));
		if (ab == NULL)
			fprintf(stderr, FWD_PROG ": --ab-ms: out of memory; "
				"no phases\n");
		else if (fwd_ab_start(ab, c, start) != 0) {
			free(ab);
			ab = NULL;
		}
	}
	while (!fwd_signalled) {
		now = fwd_now_ns();
		if (now >= end)
			break;
		if (ab != NULL && now >= ab->next_ns)
			fwd_ab_flip(ab, c, now);
		if (now >= next_stats) {
			fwd_stats_sum(c, &rx, &tx, &drop);
			printf(FWD_PROG ": stats t=%.3fs rx=%" PRIu64 " tx=%"
			       PRIu64 " drop=%" PRIu64 " rate=%.2f Mpps\n",
			       (double)(now - start) / FWD_NS_PER_S, rx, tx, drop,
			       now > last_ns ? (double)(tx - last_tx) * 1e3 /
			       (double)(now - last_ns) : 0.0);
			fflush(stdout);
			last_tx = tx;
			last_ns = now;
			/* After a stall, resume the period; do not burst. */
			next_stats += stats_ns;
			if (next_stats <= now)
				next_stats = now + stats_ns;
		}
		if (now >= next_churn) {
			rc = fwd_churn_once();
			if (rc == 0) {
				(*nb_churn)++;
			} else if (!churn_err_said) {
				fprintf(stderr, FWD_PROG ": cannot create pool "
					FWD_CHURN_POOL ": %s (will retry)\n",
					rte_strerror(-rc));
				churn_err_said = 1;
			}
			next_churn += churn_ns;
			if (next_churn <= now)
				next_churn = now + churn_ns;
		}
		wake = RTE_MIN(end, now + FWD_CONTROL_TICK_MS * FWD_NS_PER_MS);
		wake = RTE_MIN(wake, RTE_MIN(next_stats, next_churn));
		if (ab != NULL)
			wake = RTE_MIN(wake, ab->next_ns);
		fwd_sleep_until(wake);
	}
	if (ab != NULL)
		fwd_ab_end(ab);
	free(ab);
}

/* Forwarded packets over the time the datapath lcores ran. */
static void
fwd_print_result(const struct fwd_ctx *c)
{
	uint64_t rx, tx, drop, t0 = UINT64_MAX, t1 = 0;
	double secs = 0.0;
	unsigned int r;

	fwd_stats_sum(c, &rx, &tx, &drop);
	for (r = 0; r < FWD_ROLE_COUNT; r++) {
		if (c->stats[r].tsc_end == 0)
			continue;
		t0 = RTE_MIN(t0, c->stats[r].tsc_start);
		t1 = RTE_MAX(t1, c->stats[r].tsc_end);
	}
	if (t1 > t0)
		secs = (double)(t1 - t0) / (double)rte_get_tsc_hz();
	printf(FWD_PROG ": forwarded %" PRIu64 " packets in %.3f s "
	       "(%.2f Mpps)\n", tx, secs, secs > 0 ? tx / secs / 1e6 : 0.0);
}

/* Free the packets left between the RX and TX lcores. */
static void
fwd_pipe_drain(struct fwd_ctx *c)
{
	struct rte_mbuf *pkts[FWD_MAX_BURST];
	unsigned int n;

	if (c->pipe == NULL)
		return;
	while ((n = rte_ring_sc_dequeue_burst(c->pipe, (void **)pkts,
					      RTE_DIM(pkts), NULL)) != 0)
		rte_pktmbuf_free_bulk(pkts, n);
	rte_ring_free(c->pipe);
	c->pipe = NULL;
}

static int
fwd_run(struct fwd_ctx *c)
{
	uint64_t nb_churn = 0;
	int rc;

	if (fwd_signals_install() != 0)
		return -1;
	fwd_print_plan(c);
	if (c->opts->pipeline) {
		rc = rte_eal_remote_launch(fwd_main_tx, c, c->lcore[FWD_ROLE_TX]);
		if (rc == 0)
			rc = rte_eal_remote_launch(fwd_main_rx, c,
						   c->lcore[FWD_ROLE_RX]);
	} else {
		rc = rte_eal_remote_launch(fwd_main_io, c,
					   c->lcore[FWD_ROLE_RX]);
	}
	if (rc == 0)
		fwd_control(c, &nb_churn);
	else
		fprintf(stderr, FWD_PROG ": cannot launch the datapath: %s\n",
			rte_strerror(-rc));

	c->quit = 1;
	rte_eal_mp_wait_lcore();

	fwd_pipe_drain(c);
	fwd_ports_close(c);
	fwd_truth_print(c, stdout);
	/*
	 * Self-check of the ground truth: with the forwarding ports closed
	 * (their PMDs released what they held) and fwd_pipe drained, only
	 * the injected leaks are still out of the pool.
	 */
	printf(FWD_PROG ": pool " FWD_POOL_NAME " in_use=%u leaked=%" PRIu64
	       "\n", rte_mempool_in_use_count(c->pool), fwd_truth_total(c));
	if (c->opts->churn_ms != 0)
		printf(FWD_PROG ": churned pool " FWD_CHURN_POOL " %" PRIu64
		       " times\n", nb_churn);
	fwd_print_result(c);
	fflush(stdout);
	return rc == 0 ? 0 : -1;
}

#ifdef MPAUDIT_INSTRUMENTED
/*
 * A generic application keeps running unaudited on a bad MPAUDIT_*
 * value; the demo forwarder exists to audit, so for it that is a usage
 * error, reported before EAL starts.
 */
static int
fwd_audit_check_env(void)
{
	struct mpa_config cfg;
	char err[256];

	if (mpa_config_from_env(&cfg, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, FWD_PROG ": %s\n", err);
	return -1;
}

/*
 * With service lcores (EAL -s/-S), scan from the first one through the
 * auditor's DPDK service instead of its control thread.
 */
static void
fwd_audit_map_service(void)
{
	uint32_t lcores[RTE_MAX_LCORE], id;
	int n = rte_service_lcore_list(lcores, RTE_DIM(lcores));

	if (n <= 0 || rte_service_get_by_name("mpaudit_scan", &id) != 0)
		return;
	if (rte_service_map_lcore_set(id, lcores[0], 1) != 0) {
		fprintf(stderr, FWD_PROG ": cannot map the scan service to lcore %u\n",
			lcores[0]);
		return;
	}
	rte_service_lcore_start(lcores[0]);
	printf(FWD_PROG ": audit scans run as a service on lcore %u\n",
	       lcores[0]);
}
#endif

int
main(int argc, char **argv)
{
	struct fwd_ctx *c = &fwd_ctx;
	struct fwd_eal_args eal;
	struct fwd_opts opts;
	int rc;

	rc = fwd_args_parse(argc, argv, &opts, &eal);
	if (rc != FWD_ARGS_OK)
		return rc;
#ifdef MPAUDIT_INSTRUMENTED
	if (fwd_audit_check_env() != 0) {
		fwd_args_free(&eal);
		return FWD_EXIT_USAGE;
	}
#endif

	if (rte_eal_init(eal.argc, eal.argv) < 0) {
		/* EAL has said what; bad EAL arguments are usage errors. */
		rc = rte_errno == EINVAL ? FWD_EXIT_USAGE : FWD_EXIT_FAILED;
		fprintf(stderr, FWD_PROG ": cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		fwd_args_free(&eal);
		return rc;
	}

#ifdef MPAUDIT_INSTRUMENTED
	fwd_audit_map_service();
#endif
	c->opts = &opts;
	c->burst = (uint16_t)opts.burst;
	c->hold_port = FWD_PORT_NONE;
	if (fwd_pick_lcores(c) != 0 || fwd_pick_ports(c) != 0) {
		rc = FWD_EXIT_USAGE;
		goto out;
	}
	if (fwd_setup(c) != 0) {
		fwd_ports_close(c);
		rc = FWD_EXIT_FAILED;
		goto out;
	}
	if (fwd_run(c) != 0) {
		rc = FWD_EXIT_FAILED;
		goto out;
	}
	rc = FWD_EXIT_CLEAN;
#ifdef MPAUDIT_INSTRUMENTED
	/* The audit verdict is the exit status: 0 clean, 3 found, 1 failed. */
	rc = mpa_fini();
#endif
out:
	rte_eal_cleanup();
	fwd_args_free(&eal);
	return rc;
}
