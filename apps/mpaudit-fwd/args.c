/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "args.h"

#ifndef MPA_FWD_PCAP_BUILD
#define MPA_FWD_PCAP_BUILD ""
#endif
#ifndef MPA_FWD_PCAP_INSTALL
#define MPA_FWD_PCAP_INSTALL "/usr/local/share/mpaudit/demo.pcap"
#endif

#define FWD_MAX_DURATION_S (365u * 24 * 3600)
#define FWD_MAX_PERIOD_MS (3600u * 1000)
#define FWD_MAX_NB_MBUFS (1u << 24)
/* The memif socket path ends up in sockaddr_un.sun_path. */
#define FWD_MEMIF_PATH_MAX 107
/* rte_mempool_create() refuses a cache whose flush threshold exceeds n. */
#define FWD_CACHE_FLUSH_NUM 3
#define FWD_CACHE_FLUSH_DEN 2

enum {
	OPT_DURATION = 256,
	OPT_PORTS,
	OPT_STATS_MS,
	OPT_BURST,
	OPT_NB_MBUFS,
	OPT_MBUF_CACHE,
	OPT_PIPELINE,
	OPT_MACSWAP,
	OPT_PCAP,
	OPT_MEMIF,
	OPT_LEAK_RX,
	OPT_LEAK_MAX,
	OPT_LEAK_RATE,
	OPT_RING_KEEP,
	OPT_APP_LEAK,
	OPT_TX_HOLD,
	OPT_WORKER_LEAK,
	OPT_CHURN_POOL,
	OPT_AB_MS,
};

static const struct option fwd_long_opts[] = {
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "ports", required_argument, NULL, OPT_PORTS },
	{ "stats-ms", required_argument, NULL, OPT_STATS_MS },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "nb-mbufs", required_argument, NULL, OPT_NB_MBUFS },
	{ "mbuf-cache", required_argument, NULL, OPT_MBUF_CACHE },
	{ "pipeline", no_argument, NULL, OPT_PIPELINE },
	{ "macswap", no_argument, NULL, OPT_MACSWAP },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "memif", required_argument, NULL, OPT_MEMIF },
	{ "leak-rx", required_argument, NULL, OPT_LEAK_RX },
	{ "leak-max", required_argument, NULL, OPT_LEAK_MAX },
	{ "leak-rate", required_argument, NULL, OPT_LEAK_RATE },
	{ "ring-keep", required_argument, NULL, OPT_RING_KEEP },
	{ "app-leak", required_argument, NULL, OPT_APP_LEAK },
	{ "tx-hold", required_argument, NULL, OPT_TX_HOLD },
	{ "worker-leak", required_argument, NULL, OPT_WORKER_LEAK },
	{ "churn-pool", required_argument, NULL, OPT_CHURN_POOL },
	{ "ab-ms", required_argument, NULL, OPT_AB_MS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
fwd_usage(FILE *f, const char *prog)
{
	fprintf(f,
"Usage: %s [EAL options] -- [options]\n"
"\n"
"l2fwd-style io forwarder (ports paired 0<->1, 2<->3; a single port\n"
"forwards to itself) with leak injection knobs, the demo and soak target\n"
"of mpaudit. Without --vdev/-a in the EAL options it adds\n"
"  --vdev=net_pcap0,rx_pcap=<demo.pcap>,infinite_rx=1 --vdev=net_null0\n"
"\n"
"Options:\n"
"  --duration SEC      stop after SEC seconds (0: at SIGINT/SIGTERM; default 0)\n"
"  --ports N           forward the first N ports, N even or 1 (default: all)\n"
"  --stats-ms MS       progress line every MS ms, 0 = off (default %u)\n"
"  --burst N           RX/TX burst size, 1..%u (default %u)\n"
"  --nb-mbufs N        mbufs in pool mpaudit_fwd_pool (default %u)\n"
"  --mbuf-cache N      per-lcore mempool cache (default %u)\n"
"  --pipeline          RX lcore -> ring fwd_pipe (4096) -> TX lcore (needs 3\n"
"                      lcores)\n"
"  --macswap           swap the source and destination MAC of every packet\n"
"                      before it is sent (reads and writes its Ethernet\n"
"                      header, as l2fwd does); with --pipeline on the TX lcore\n"
"  --pcap FILE         capture for the default net_pcap port\n"
"  --memif ROLE:PATH   default devices use net_memif0 (ROLE server|client,\n"
"                      socket PATH) instead of the pcap port\n"
"Leak injection (exact ground truth printed at exit as 'truth' lines):\n"
"  --leak-rx N         every Nth received mbuf is neither sent nor freed\n"
"  --leak-rate R       R received mbufs per second are neither sent nor\n"
"                      freed (instead of every Nth; a drain of known rate)\n"
"  --leak-max M        ... at most M of them (default %u)\n"
"  --ring-keep K       first K received mbufs parked in ring fwd_keep\n"
"  --app-leak K        K mbufs allocated at start and forgotten\n"
"  --tx-hold K         K mbufs sent to port mpa_txhold, never drained\n"
"  --worker-leak K     with --pipeline: the TX lcore forgets the first K\n"
"                      mbufs it takes from fwd_pipe (at most %u)\n"
"  --churn-pool MS     create and free pool fwd_churn every MS ms\n"
"Benchmark (instrumented build):\n"
"  --ab-ms MS          switch the stamps off and on every MS ms (%u..%u) and\n"
"                      print the rates of both kinds of phase, and the share\n"
"                      of received packets each dropped ('ab' line)\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 clean, 1 failure, 2 usage error, 3 (instrumented build)\n"
"the audit found leaks.\n",
		prog, FWD_DEF_STATS_MS, FWD_MAX_BURST, FWD_DEF_BURST,
		FWD_DEF_NB_MBUFS, FWD_DEF_MBUF_CACHE, FWD_DEF_LEAK_MAX,
		FWD_WORKER_LEAK_MAX, FWD_AB_MIN_MS, FWD_AB_MAX_MS);
}

static void
fwd_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, FWD_PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Strict unsigned parse: digits only (strtoul alone would accept leading
 * blanks, a sign, and wrap "-1" to ULONG_MAX), whole string, in range.
 */
static int
fwd_parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max,
	      uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	fwd_err("invalid value '%s' for --%s (expected an integer in %u..%u)",
		s, opt, min, max);
	return -1;
}

static char *
fwd_own(struct fwd_eal_args *eal, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return NULL;
	s = malloc((size_t)len + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	va_end(ap);
	eal->owned[eal->nb_owned++] = s;
	return s;
}

/* Does an EAL argument add a device? Then we add none of ours. */
static int
fwd_is_dev_arg(const char *a)
{
	return strncmp(a, "--vdev", strlen("--vdev")) == 0 ||
	       strncmp(a, "--allow", strlen("--allow")) == 0 ||
	       strncmp(a, "-a", strlen("-a")) == 0;
}

/*
 * Check a capture before EAL sees it: net_pcap would fail deep inside
 * rte_eal_init() with a message that does not name our option.
 * Returns 0 or an errno-like value; @p why gets a description.
 */
static int
fwd_check_pcap(const char *path, const char **why)
{
	static const uint32_t magics[] = {
		0xa1b2c3d4, 0xd4c3b2a1,	/* pcap, microseconds */
		0xa1b23c4d, 0x4d3cb2a1,	/* pcap, nanoseconds */
		0x0a0d0d0a,		/* pcapng section header */
	};
	uint32_t magic;
	struct stat st;
	unsigned int i;
	ssize_t n;
	int fd;

	/* ',' would split the devargs string that carries the path. */
	if (strchr(path, ',') != NULL) {
		*why = "path contains ','";
		return EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*why = strerror(errno);
		return errno;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return EINVAL;
	}
	n = read(fd, &magic, sizeof(magic));
	close(fd);
	if (n == (ssize_t)sizeof(magic))
		for (i = 0; i < RTE_DIM(magics); i++)
			if (magic == magics[i])
				return 0;
	*why = "not a pcap capture";
	return EINVAL;
}

static int
fwd_parse_memif(const char *arg, struct fwd_opts *o)
{
	const char *colon = strchr(arg, ':');
	size_t rlen;

	if (colon == NULL)
		goto bad;
	rlen = (size_t)(colon - arg);
	if (!((rlen == strlen("server") && strncmp(arg, "server", rlen) == 0) ||
	      (rlen == strlen("client") && strncmp(arg, "client", rlen) == 0)))
		goto bad;
	memcpy(o->memif_role, arg, rlen);
	o->memif_role[rlen] = '\0';
	o->memif_path = colon + 1;
	if (o->memif_path[0] == '\0' || strchr(o->memif_path, ',') != NULL ||
	    strlen(o->memif_path) > FWD_MEMIF_PATH_MAX)
		goto bad;
	return 0;
bad:
	fwd_err("invalid value '%s' for --memif (expected server:PATH or "
		"client:PATH, PATH without ',' and at most %d characters)",
		arg, FWD_MEMIF_PATH_MAX);
	return -1;
}

static int
fwd_parse_app(int argc, char **argv, struct fwd_opts *o)
{
	uint32_t v;
	int c;

	/* Our own messages name the option; getopt's would not be one line. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", fwd_long_opts, NULL)) != -1) {
		const char *name = NULL;
		const struct option *lo;

		for (lo = fwd_long_opts; lo->name != NULL; lo++)
			if (lo->val == c)
				name = lo->name;

		switch (c) {
		case 'h':
			fwd_usage(stdout, argv[0]);
			return FWD_EXIT_CLEAN;
		case OPT_DURATION:
			if (fwd_parse_u32(name, optarg, 0, FWD_MAX_DURATION_S,
					  &o->duration_s) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_PORTS:
			if (fwd_parse_u32(name, optarg, 1, RTE_MAX_ETHPORTS,
					  &o->nb_ports) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_STATS_MS:
			if (fwd_parse_u32(name, optarg, 0, FWD_MAX_PERIOD_MS,
					  &o->stats_ms) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_BURST:
			if (fwd_parse_u32(name, optarg, 1, FWD_MAX_BURST,
					  &o->burst) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_NB_MBUFS:
			if (fwd_parse_u32(name, optarg, 1, FWD_MAX_NB_MBUFS,
					  &o->nb_mbufs) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_MBUF_CACHE:
			if (fwd_parse_u32(name, optarg, 0,
					  RTE_MEMPOOL_CACHE_MAX_SIZE,
					  &o->mbuf_cache) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_PIPELINE:
			o->pipeline = 1;
			break;
		case OPT_MACSWAP:
			o->macswap = 1;
			break;
		case OPT_PCAP:
			o->pcap = optarg;
			break;
		case OPT_MEMIF:
			if (fwd_parse_memif(optarg, o) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_LEAK_RX:
			if (fwd_parse_u32(name, optarg, 1, UINT32_MAX,
					  &o->leak_rx) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_LEAK_RATE:
			if (fwd_parse_u32(name, optarg, 1, FWD_MAX_LEAK_RATE,
					  &o->leak_rate) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_LEAK_MAX:
			if (fwd_parse_u32(name, optarg, 0, UINT32_MAX,
					  &o->leak_max) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_RING_KEEP:
		case OPT_APP_LEAK:
		case OPT_TX_HOLD:
			/* Bounded by the pool below, once --nb-mbufs is known. */
			if (fwd_parse_u32(name, optarg, 1, FWD_MAX_NB_MBUFS,
					  &v) != 0)
				return FWD_EXIT_USAGE;
			if (c == OPT_RING_KEEP)
				o->ring_keep = v;
			else if (c == OPT_APP_LEAK)
				o->app_leak = v;
			else
				o->tx_hold = v;
			break;
		case OPT_WORKER_LEAK:
			/* Each is printed with its address: a few. */
			if (fwd_parse_u32(name, optarg, 1, FWD_WORKER_LEAK_MAX,
					  &o->worker_leak) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_CHURN_POOL:
			if (fwd_parse_u32(name, optarg, 1, FWD_MAX_PERIOD_MS,
					  &o->churn_ms) != 0)
				return FWD_EXIT_USAGE;
			break;
		case OPT_AB_MS:
			if (fwd_parse_u32(name, optarg, FWD_AB_MIN_MS,
					  FWD_AB_MAX_MS, &o->ab_ms) != 0)
				return FWD_EXIT_USAGE;
			break;
		case ':':
			fwd_err("option '%s' needs a value", argv[optind - 1]);
			return FWD_EXIT_USAGE;
		default:
			/* getopt_long() also lands here on ambiguous prefixes. */
			if (optopt != 0 && optopt < OPT_DURATION)
				fwd_err("unknown option '-%c' (see --help)", optopt);
			else if (optopt >= OPT_DURATION)
				fwd_err("option '%s' takes no value",
					argv[optind - 1]);
			else
				fwd_err("unknown option '%s' (see --help)",
					argv[optind - 1]);
			return FWD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fwd_err("unexpected argument '%s' (see --help)", argv[optind]);
		return FWD_EXIT_USAGE;
	}
	return FWD_ARGS_OK;
}

/* Cross-option checks, once every value is known. */
static int
fwd_validate(const struct fwd_opts *o)
{
	if ((uint64_t)o->mbuf_cache * FWD_CACHE_FLUSH_NUM / FWD_CACHE_FLUSH_DEN >
	    o->nb_mbufs) {
		fwd_err("invalid value '%u' for --mbuf-cache (at most 2/3 of "
			"--nb-mbufs %u)", o->mbuf_cache, o->nb_mbufs);
		return -1;
	}
	if (o->leak_rx != 0 && o->leak_rate != 0) {
		fwd_err("--leak-rx and --leak-rate are two ways to leak on RX: "
			"give one");
		return -1;
	}
	if (o->ring_keep > o->nb_mbufs) {
		fwd_err("invalid value '%u' for --ring-keep (more than "
			"--nb-mbufs %u)", o->ring_keep, o->nb_mbufs);
		return -1;
	}
	if (o->app_leak > o->nb_mbufs) {
		fwd_err("invalid value '%u' for --app-leak (more than "
			"--nb-mbufs %u)", o->app_leak, o->nb_mbufs);
		return -1;
	}
	if (o->tx_hold > o->nb_mbufs) {
		fwd_err("invalid value '%u' for --tx-hold (more than "
			"--nb-mbufs %u)", o->tx_hold, o->nb_mbufs);
		return -1;
	}
	if (o->worker_leak != 0 && !o->pipeline) {
		fwd_err("--worker-leak needs --pipeline (the TX lcore leaks)");
		return -1;
	}
	if (o->pcap != NULL && o->memif_role[0] != '\0') {
		fwd_err("--pcap and --memif both replace the pcap port; "
			"give one of them");
		return -1;
	}
	return 0;
}

/* Pick the capture of the default pcap port; error names the file. */
static int
fwd_resolve_pcap(struct fwd_opts *o)
{
	const char *why;

	if (o->pcap != NULL) {
		if (fwd_check_pcap(o->pcap, &why) != 0) {
			fwd_err("cannot use capture '%s' (--pcap): %s",
				o->pcap, why);
			return -1;
		}
		return 0;
	}
	/* A build tree's own capture wins, so uninstalled runs work. */
	if (MPA_FWD_PCAP_BUILD[0] != '\0' &&
	    fwd_check_pcap(MPA_FWD_PCAP_BUILD, &why) == 0) {
		o->pcap = MPA_FWD_PCAP_BUILD;
		return 0;
	}
	if (fwd_check_pcap(MPA_FWD_PCAP_INSTALL, &why) != 0) {
		fwd_err("cannot use demo capture '%s': %s (build it with "
			"ninja, or give --pcap FILE)", MPA_FWD_PCAP_INSTALL, why);
		return -1;
	}
	o->pcap = MPA_FWD_PCAP_INSTALL;
	return 0;
}

int
fwd_args_parse(int argc, char **argv, struct fwd_opts *o,
	       struct fwd_eal_args *eal)
{
	char *app_argv[argc + 1];
	int eal_argc = argc;
	int app_argc = 1;
	int rc;
	int i;

	memset(o, 0, sizeof(*o));
	o->stats_ms = FWD_DEF_STATS_MS;
	o->burst = FWD_DEF_BURST;
	o->nb_mbufs = FWD_DEF_NB_MBUFS;
	o->mbuf_cache = FWD_DEF_MBUF_CACHE;
	o->leak_max = FWD_DEF_LEAK_MAX;
	memset(eal, 0, sizeof(*eal));

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			eal_argc = i;
			break;
		}
	}
	/* getopt_long() permutes its vector: give it a copy of our part. */
	app_argv[0] = argv[0];
	for (i = eal_argc + 1; i < argc; i++)
		app_argv[app_argc++] = argv[i];
	app_argv[app_argc] = NULL;

	rc = fwd_parse_app(app_argc, app_argv, o);
	if (rc != FWD_ARGS_OK)
		return rc;
	if (fwd_validate(o) != 0)
		return FWD_EXIT_USAGE;

	o->default_devs = 1;
	for (i = 1; i < eal_argc; i++)
		if (fwd_is_dev_arg(argv[i]))
			o->default_devs = 0;
	if (!o->default_devs && (o->pcap != NULL || o->memif_role[0] != '\0')) {
		fwd_err("--pcap and --memif only apply to the default devices; "
			"drop --vdev/-a from the EAL arguments");
		return FWD_EXIT_USAGE;
	}
	if (o->default_devs && o->memif_role[0] == '\0' &&
	    fwd_resolve_pcap(o) != 0)
		return FWD_EXIT_USAGE;

	/* The EAL part as given, plus at most two devices and a NULL. */
	eal->argv = calloc((size_t)eal_argc + 3, sizeof(*eal->argv));
	eal->owned = calloc(2, sizeof(*eal->owned));
	if (eal->argv == NULL || eal->owned == NULL)
		goto nomem;
	for (i = 0; i < eal_argc; i++)
		eal->argv[eal->argc++] = argv[i];
	if (o->default_devs) {
		char *dev;

		if (o->memif_role[0] != '\0')
			dev = fwd_own(eal, "--vdev=net_memif0,role=%s,socket=%s",
				      o->memif_role, o->memif_path);
		else
			/*
			 * No tx_pcap: in 22.11 net_pcap then installs
			 * eth_tx_drop, which counts and frees every packet,
			 * so this port transmits like a sink, as net_null
			 * does. A tx_pcap dumper would only cost a write
			 * per packet.
			 */
			dev = fwd_own(eal,
				      "--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1",
				      o->pcap);
		if (dev == NULL)
			goto nomem;
		eal->argv[eal->argc++] = dev;
		dev = fwd_own(eal, "--vdev=net_null0");
		if (dev == NULL)
			goto nomem;
		eal->argv[eal->argc++] = dev;
	}
	eal->argv[eal->argc] = NULL;
	return FWD_ARGS_OK;
nomem:
	fwd_err("out of memory while building the EAL arguments");
	fwd_args_free(eal);
	return FWD_EXIT_FAILED;
}

void
fwd_args_free(struct fwd_eal_args *eal)
{
	int i;

	if (eal == NULL)
		return;
	for (i = 0; i < eal->nb_owned; i++)
		free(eal->owned[i]);
	free(eal->owned);
	free(eal->argv);
	memset(eal, 0, sizeof(*eal));
}
