/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * mpaudit: the command-line client of a running, audited DPDK
 * application (docs/cli.md). This file parses the command line and
 * dispatches; commands.c, watch.c and top.c do the work, tele.c talks to
 * the process, render.c prints.
 *
 * Options may come before or after the command (`mpaudit --json pools`,
 * `mpaudit pools --json`); each command accepts only its own options
 * besides the common ones, and says which it got wrong.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PROG "mpaudit"
#define RTE_DIM_NAMES(a) (sizeof(a) / sizeof((a)[0]))
/* Largest process id Linux hands out (PID_MAX_LIMIT). */
#define PID_MAX 4194304L
/* Milliseconds the auditor keeps in 32 bits (DPDK 22.11 telemetry). */
#define MS_MAX 2147483647L

enum {
	OPT_PREFIX = 256,
	OPT_PID,
	OPT_SOCKET,
	OPT_JSON,
	OPT_INTERVAL,
	OPT_COUNT,
	OPT_STUCK_MS,
	OPT_SCAN_MS,
	OPT_LISTEN,
	OPT_DURATION,
	OPT_OUT,
	OPT_DUT,
	OPT_DUT_ARGS,
	OPT_ATTACH,
	OPT_GENERATOR,
	OPT_GEN_PREFIX,
	OPT_PKTGEN,
	OPT_TESTPMD,
	OPT_PKTGEN_BIN,
	OPT_WARMUP,
	OPT_TOLERANCE,
	OPT_HISTORY,
};

/* Which command options a command takes. */
#define O_INTERVAL (1u << 0)
#define O_COUNT (1u << 1)
#define O_CONFIG (1u << 2)
#define O_LISTEN (1u << 3)
#define O_SOAK (1u << 4)
#define O_HISTORY (1u << 5)

static const struct option long_opts[] = {
	{ "file-prefix", required_argument, NULL, OPT_PREFIX },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "stuck-ms", required_argument, NULL, OPT_STUCK_MS },
	{ "scan-ms", required_argument, NULL, OPT_SCAN_MS },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "dut", required_argument, NULL, OPT_DUT },
	{ "dut-args", required_argument, NULL, OPT_DUT_ARGS },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "generator", required_argument, NULL, OPT_GENERATOR },
	{ "gen-prefix", required_argument, NULL, OPT_GEN_PREFIX },
	{ "pktgen", no_argument, NULL, OPT_PKTGEN },
	{ "testpmd", no_argument, NULL, OPT_TESTPMD },
	{ "pktgen-bin", required_argument, NULL, OPT_PKTGEN_BIN },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "tolerance", required_argument, NULL, OPT_TOLERANCE },
	{ "history", no_argument, NULL, OPT_HISTORY },
	{ NULL, 0, NULL, 0 },
};

struct cmd {
	const char *name;
	int (*fn)(struct mpa_cli *c);
	const char *args;	/* synopsis after the name */
	const char *brief;
	const char *help;	/* details and options, or NULL */
	int min_args, max_args;
	unsigned int opts;
};

static const struct cmd cmds[] = {
	{ "list", mpa_cmd_list, "", "every DPDK telemetry socket on this "
	  "machine: file prefix, pid, program, mpaudit mode",
	  "Scans the EAL runtime directories (/var/run/dpdk, "
	  "$XDG_RUNTIME_DIR/dpdk,\n/tmp/dpdk). A socket nobody listens on "
	  "is shown as stale; a process\nwithout /mpaudit/ commands as not "
	  "audited. --file-prefix or --pid\nshow only that one.\n", 0, 0, 0 },
	{ "status", mpa_cmd_status, "", "the verdict so far "
	  "(/mpaudit/summary)", NULL, 0, 0, 0 },
	{ "pools", mpa_cmd_pools, "", "audited pools: size, in use, free, "
	  "stuck, driver held, drain rate", NULL, 0, 0, 0 },
	{ "stuck", mpa_cmd_stuck, "[--history]", "stuck objects grouped by "
	  "holder, largest first",
	  "  --history   also how each group's sample objects got there: "
	  "their\n              previous holders, oldest first, with lcore, "
	  "port and\n              queue or ring, site and age (needs "
	  "MPAUDIT_HISTORY=K in the\n              process)\n", 0, 0,
	  O_HISTORY },
	{ "sites", mpa_cmd_sites, "", "objects held now, per call site, "
	  "largest first", NULL, 0, 0, 0 },
	{ "heap", mpa_cmd_heap, "", "outstanding heap allocations older than "
	  "the threshold, per call stack",
	  "Needs heap tracking (LD_PRELOAD=libmpaudit_preload.so).\n",
	  0, 0, 0 },
	{ "errors", mpa_cmd_errors, "", "free errors: double, stray and "
	  "foreign frees", NULL, 0, 0, 0 },
	{ "config", mpa_cmd_config, "[--stuck-ms N] [--scan-ms N]",
	  "show the auditor's settings, or change them",
	  "  --stuck-ms N   age in ms beyond which an object is stuck\n"
	  "  --scan-ms N    scan period in ms\n", 0, 0, O_CONFIG },
	{ "snapshot", mpa_cmd_snapshot, "NAME", "take a named snapshot of "
	  "the heap allocations outstanding now",
	  "NAME: 1 to 31 characters of [A-Za-z0-9_.-]; 'now' is reserved.\n",
	  1, 1, 0 },
	{ "diff", mpa_cmd_diff, "FROM [TO]", "heap changes per call stack "
	  "between two snapshots",
	  "TO defaults to now: the allocations outstanding at this moment.\n",
	  1, 2, 0 },
	{ "dump", mpa_cmd_dump, "", "scan now and write the JSON report to "
	  "the process's MPAUDIT_REPORT", NULL, 0, 0, 0 },
	{ "pcap", mpa_cmd_pcap, "NAME", "write the stuck mbufs' packets to "
	  "NAME.pcap, and whose each is to NAME.json",
	  "The process writes both files into its MPAUDIT_PCAP_DIR (it refuses\n"
	  "without one). NAME: 1 to 31 characters of [A-Za-z0-9_.-], not\n"
	  "starting with '.'. Exit 3 when the capture holds packets.\n",
	  1, 1, 0 },
	{ "metrics", mpa_cmd_metrics, "", "the audited processes in the "
	  "Prometheus text format",
	  "Without a target, every audited process on this machine; each\n"
	  "sample is labelled prefix=\"P\",pid=\"N\". See docs/prometheus.md.\n",
	  0, 0, 0 },
	{ "serve", mpa_cmd_serve, "--listen ADDRESS:PORT", "serve /metrics "
	  "over HTTP for Prometheus",
	  "  --listen A:P   IPv4 address and port, e.g. 127.0.0.1:9464\n"
	  "Each scrape asks every audited process (or the target) anew.\n"
	  "Runs until SIGINT or SIGTERM.\n", 0, 0, O_LISTEN },
	{ "watch", mpa_cmd_watch, "[--interval S] [--count N]",
	  "one line per interval: scans, in use, stuck, errors, heap",
	  "  --interval S   seconds between lines (default 1, at least 0.05)\n"
	  "  --count N      stop after N lines (default: at SIGINT/SIGTERM)\n"
	  "Columns: TIME, SCANS, IN_USE (objects in use in all live pools),\n"
	  "DELTA (IN_USE change since the previous line), STUCK, NEW (stuck\n"
	  "objects added since the previous line, net), ERRORS, HEAP_LIVE\n"
	  "(bytes of tracked heap allocations, - when not tracked).\n",
	  0, 0, O_INTERVAL | O_COUNT },
	{ "top", mpa_cmd_top, "[--interval S]", "full-screen live view: "
	  "pools, largest stuck groups, heap",
	  "  --interval S   seconds between refreshes (default 1)\n"
	  "Keys: q quits, s cycles the pool sort column.\n",
	  0, 0, O_INTERVAL },
	{ "soak", mpa_cmd_soak, "--duration S --out DIR [--dut 'CMD' | "
	  "--attach PREFIX]\n        [--testpmd | --pktgen | --generator "
	  "'CMD'] [options]",
	  "run a device under test against a traffic generator, sample it "
	  "and give a verdict",
	  "Starts the DUT audited (default: mpaudit-fwd, instrumented; any "
	  "other DPDK\ncommand runs under LD_PRELOAD=libmpaudit_preload.so "
	  "unless it links\nlibmpaudit) and a generator linked to it "
	  "(default: dpdk-testpmd txonly\nover memif; --pktgen: Pktgen-DPDK "
	  "over vhost-user/virtio_user), samples\nboth over telemetry every "
	  "--interval, stops both and gives the verdict.\n"
	  "  --duration S      seconds of traffic (required)\n"
	  "  --out DIR         output directory, created if needed (required):"
	  "\n                    samples.csv samples.json report.html "
	  "junit.xml soak.json\n                    report.json (the DUT's "
	  "final report), dut.log, generator.log\n"
	  "  --interval S      seconds between samples (default 1)\n"
	  "  --warmup S        seconds not judged at the start (default 10)\n"
	  "  --tolerance F     in-use growth allowed over the measured time, "
	  "as a\n                    fraction of the pool size (default 0.01)"
	  "\n"
	  "  --dut 'CMD'       the DUT's command line (EAL options it lacks "
	  "are added)\n"
	  "  --dut-args 'ARGS' options appended to the default mpaudit-fwd's"
	  "\n"
	  "  --attach PREFIX   watch a DUT already running with this file "
	  "prefix\n"
	  "  --testpmd         generator: dpdk-testpmd --forward-mode=txonly "
	  "(default)\n"
	  "  --pktgen          generator: Pktgen-DPDK (--pktgen-bin PATH or "
	  "$MPA_SOAK_PKTGEN,\n                    else 'pktgen' in PATH)\n"
	  "  --generator 'CMD' generator: this command line, as given\n"
	  "  --gen-prefix P    read the generator's rate from file prefix P\n"
	  "Command lines may use $SOAK_SOCK (the link socket), "
	  "$SOAK_DUT_PREFIX,\n$SOAK_GEN_PREFIX and $SOAK_EAL_MEM. Progress "
	  "lines go to stderr; --json\nprints the result on stdout. Exit 0 "
	  "pass, 3 fail, 1 the soak could not\nrun or ended early (a process "
	  "died, or SIGINT without findings).\nSee docs/soak.md.\n",
	  0, 0, O_INTERVAL | O_SOAK },
};

#define NB_CMDS (sizeof(cmds) / sizeof(cmds[0]))

void
mpa_cli_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage_main(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [--file-prefix P | --pid N | --socket PATH] [--json] COMMAND [ARGS]\n"
"\n"
"Ask a running DPDK application audited by mpaudit (instrumented, or under\n"
"LD_PRELOAD=libmpaudit_preload.so) over its DPDK telemetry socket.\n"
"\n"
"Target (default: --file-prefix " MPA_TELE_DEFAULT_PREFIX "):\n"
"  --file-prefix P   the application's EAL --file-prefix\n"
"  --pid N           the application whose telemetry socket is process N's\n"
"  --socket PATH     this telemetry socket (" MPA_TELE_SOCKET ")\n"
"Output:\n"
"  --json            one JSON document for scripts instead of tables\n"
"  -h, --help        this text; '" PROG " COMMAND --help' for a command\n"
"\n"
"Commands:\n");
	for (size_t i = 0; i < NB_CMDS; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].brief);
	fprintf(f,
"\n"
"Exit status: 0 clean; 3 the process has stuck objects or free errors\n"
"(status, pools, stuck, errors, watch, top); 2 usage error; 1 failure (no\n"
"such process or socket, not audited, telemetry error).\n");
}

static void
usage_cmd(FILE *f, const struct cmd *cmd)
{
	fprintf(f, "Usage: " PROG " [target] [--json] %s%s%s\n\n%s.\n",
		cmd->name, cmd->args[0] ? " " : "", cmd->args, cmd->brief);
	if (cmd->help != NULL)
		fprintf(f, "\n%s", cmd->help);
	/* soak starts its DUT, or names it with --attach. */
	if (cmd->opts & O_SOAK)
		return;
	fprintf(f, "\nTarget: --file-prefix P (default " MPA_TELE_DEFAULT_PREFIX
		"), --pid N or --socket PATH. '" PROG " --help' for more.\n");
}

/* After a usage error: the synopsis, and where the rest is. */
static void
usage_short(FILE *f, const struct cmd *cmd)
{
	if (cmd != NULL)
		fprintf(f, "Usage: " PROG " [target] [--json] %s%s%s\n"
			"Try '" PROG " %s --help'.\n", cmd->name,
			cmd->args[0] ? " " : "", cmd->args, cmd->name);
	else
		fprintf(f, "Usage: " PROG " [--file-prefix P | --pid N | "
			"--socket PATH] [--json] COMMAND [ARGS]\n"
			"Try '" PROG " --help'.\n");
}

static const struct cmd *
find_cmd(const char *name)
{
	for (size_t i = 0; i < NB_CMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* Digits only, whole string, in [min, max]: strtol alone would take
 * blanks, a sign and "0x". */
static int
parse_long(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	mpa_cli_err("bad number for %s: '%s' (an integer from %ld to %ld)",
		    opt, s, min, max);
	return -1;
}

/* A decimal number in [min, max]. */
static int
parse_double(const char *opt, const char *s, double min, double max,
	     double *out)
{
	char *end;
	double v;

	if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	mpa_cli_err("bad number for %s: '%s' (from %g to %g)", opt, s, min,
		    max);
	return -1;
}

static int
parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) ||
	    v < MPA_CLI_INTERVAL_MIN_S || v > MPA_CLI_INTERVAL_MAX_S)
		goto bad;
	*out = v;
	return 0;
bad:
	mpa_cli_err("bad number for --interval: '%s' (seconds from %g to %g)",
		    s, MPA_CLI_INTERVAL_MIN_S, MPA_CLI_INTERVAL_MAX_S);
	return -1;
}

struct parsed {
	const struct cmd *cmd;
	const char *cmd_name;	/* as typed, possibly unknown */
	unsigned int seen;	/* O_* options given */
	int help;
	int targets;
	int gens;	/* soak generators given */
};

/* One option; returns 0 or -1 (said). */
static int
take_opt(struct mpa_cli *c, struct parsed *p, int opt, const char *arg)
{
	switch (opt) {
	case OPT_PREFIX:
		c->prefix = arg;
		p->targets++;
		return 0;
	case OPT_PID:
		p->targets++;
		return parse_long("--pid", arg, 1, PID_MAX, &c->pid);
	case OPT_SOCKET:
		c->socket = arg;
		p->targets++;
		return 0;
	case OPT_JSON:
		c->json = 1;
		return 0;
	case 'h':
		p->help = 1;
		return 0;
	case OPT_INTERVAL:
		p->seen |= O_INTERVAL;
		return parse_interval(arg, &c->interval);
	case OPT_COUNT:
		p->seen |= O_COUNT;
		return parse_long("--count", arg, 1, LONG_MAX, &c->count);
	case OPT_STUCK_MS:
		p->seen |= O_CONFIG;
		return parse_long("--stuck-ms", arg, 0, MS_MAX, &c->stuck_ms);
	case OPT_SCAN_MS:
		p->seen |= O_CONFIG;
		return parse_long("--scan-ms", arg, 0, MS_MAX, &c->scan_ms);
	case OPT_LISTEN:
		p->seen |= O_LISTEN;
		c->listen = arg;
		return 0;
	case OPT_HISTORY:
		p->seen |= O_HISTORY;
		c->history = 1;
		return 0;
	}
	p->seen |= O_SOAK;
	switch (opt) {
	case OPT_DURATION:
		return parse_double("--duration", arg, 1, MPA_SOAK_DURATION_MAX_S,
				    &c->soak.duration_s);
	case OPT_WARMUP:
		return parse_double("--warmup", arg, 0, MPA_SOAK_DURATION_MAX_S,
				    &c->soak.warmup_s);
	case OPT_TOLERANCE:
		return parse_double("--tolerance", arg, 0, 1,
				    &c->soak.tolerance);
	case OPT_OUT:
		c->soak.out = arg;
		return 0;
	case OPT_DUT:
		c->soak.dut = arg;
		return 0;
	case OPT_DUT_ARGS:
		c->soak.dut_args = arg;
		return 0;
	case OPT_ATTACH:
		c->soak.attach = arg;
		return 0;
	case OPT_GENERATOR:
		c->soak.generator = arg;
		p->gens++;
		return 0;
	case OPT_GEN_PREFIX:
		c->soak.gen_prefix = arg;
		return 0;
	case OPT_PKTGEN:
		c->soak.gen = MPA_SOAK_GEN_PKTGEN;
		p->gens++;
		return 0;
	case OPT_TESTPMD:
		c->soak.gen = MPA_SOAK_GEN_TESTPMD;
		p->gens++;
		return 0;
	case OPT_PKTGEN_BIN:
		c->soak.pktgen_bin = arg;
		return 0;
	}
	return -1;
}

static int
take_word(struct mpa_cli *c, struct parsed *p, char *w)
{
	if (p->cmd_name == NULL) {
		p->cmd_name = w;
		p->cmd = find_cmd(w);
		return 0;
	}
	c->args[c->nargs++] = w;
	return 0;
}

/* The option as typed, for messages. */
static const char *
opt_text(char **argv, int optind_now)
{
	return argv[optind_now - 1];
}

static int
parse(int argc, char **argv, struct mpa_cli *c, struct parsed *p)
{
	int opt;

	opterr = 0;
	/* "-": words come back in order as option 1, so the command and its
	 * arguments may sit anywhere among the options. */
	while ((opt = getopt_long(argc, argv, "-:h", long_opts, NULL)) != -1) {
		if (opt == 1) {
			take_word(c, p, optarg);
		} else if (opt == '?') {
			if (optopt != 0 && optopt < 256)
				mpa_cli_err("unknown option '-%c'", optopt);
			else
				mpa_cli_err("unknown option '%s'",
					    opt_text(argv, optind));
			return -1;
		} else if (opt == ':') {
			mpa_cli_err("option '%s' needs a value",
				    opt_text(argv, optind));
			return -1;
		} else if (take_opt(c, p, opt, optarg) != 0) {
			return -1;
		}
	}
	/* After "--": only words. */
	for (; optind < argc; optind++)
		take_word(c, p, argv[optind]);
	return 0;
}

/* soak: what its options need together; returns 0 or -1 (said). */
static int
validate_soak(struct mpa_cli *c, const struct parsed *p)
{
	struct mpa_soak_opts *o = &c->soak;

	if (c->nargs > 0) {
		mpa_cli_err("soak: unexpected argument '%s'", c->args[0]);
		return -1;
	}
	if (p->targets > 0) {
		mpa_cli_err("soak: no --file-prefix, --pid or --socket: the "
			    "DUT is --attach PREFIX, or started");
		return -1;
	}
	if (o->duration_s <= 0 || o->out == NULL) {
		mpa_cli_err("soak: --duration and --out are required");
		return -1;
	}
	if (p->gens > 1) {
		mpa_cli_err("soak: give one of --testpmd, --pktgen, "
			    "--generator");
		return -1;
	}
	if (o->attach != NULL && (o->dut != NULL || o->dut_args != NULL)) {
		mpa_cli_err("soak: --attach watches a running DUT: no --dut "
			    "or --dut-args");
		return -1;
	}
	if (o->dut != NULL && o->dut_args != NULL) {
		mpa_cli_err("soak: --dut-args is for the default DUT; put "
			    "them in --dut");
		return -1;
	}
	if (o->pktgen_bin != NULL && o->gen != MPA_SOAK_GEN_PKTGEN) {
		mpa_cli_err("soak: --pktgen-bin needs --pktgen");
		return -1;
	}
	if (o->generator != NULL)
		o->gen = MPA_SOAK_GEN_CMD;
	else if (o->attach != NULL && p->gens == 0)
		o->gen = MPA_SOAK_GEN_NONE;
	if (o->attach != NULL && o->gen != MPA_SOAK_GEN_NONE &&
	    o->gen != MPA_SOAK_GEN_CMD) {
		mpa_cli_err("soak: with --attach, the generator is yours: "
			    "--generator 'CMD' or --gen-prefix P");
		return -1;
	}
	if (o->warmup_s >= o->duration_s) {
		mpa_cli_err("soak: --warmup %g leaves nothing of --duration %g "
			    "to judge", o->warmup_s, o->duration_s);
		return -1;
	}
	o->interval_s = c->interval;
	o->json = c->json;
	return 0;
}

/* Checks that need the whole command line; returns 0 or -1 (said). */
static int
validate(struct mpa_cli *c, const struct parsed *p)
{
	const struct cmd *cmd = p->cmd;
	static const char *const names[] = { "--interval", "--count",
		"--stuck-ms or --scan-ms", "--listen", "soak options",
		"--history" };

	if (p->cmd_name == NULL) {
		mpa_cli_err("no command given");
		return -1;
	}
	if (cmd == NULL) {
		mpa_cli_err("unknown command '%s'", p->cmd_name);
		return -1;
	}
	if (p->targets > 1) {
		mpa_cli_err("give one of --file-prefix, --pid, --socket");
		return -1;
	}
	for (unsigned int b = 0; b < RTE_DIM_NAMES(names); b++) {
		if ((p->seen & (1u << b)) && !(cmd->opts & (1u << b))) {
			mpa_cli_err("%s: unknown option %s", cmd->name,
				    names[b]);
			return -1;
		}
	}
	if (cmd->opts & O_SOAK)
		return validate_soak(c, p);
	if (c->nargs < cmd->min_args || c->nargs > cmd->max_args) {
		if (c->nargs > cmd->max_args)
			mpa_cli_err("%s: unexpected argument '%s'", cmd->name,
				    c->args[cmd->max_args]);
		else
			mpa_cli_err("%s: missing %s", cmd->name, cmd->args);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct mpa_cli c = {
		.interval = MPA_CLI_INTERVAL_S,
		.stuck_ms = -1,
		.scan_ms = -1,
		.soak = {
			.warmup_s = MPA_SOAK_WARMUP_S,
			.tolerance = MPA_SOAK_TOLERANCE,
			.gen = MPA_SOAK_GEN_TESTPMD,
		},
	};
	struct parsed p = { 0 };
	int ret;

	c.args = calloc(argc > 0 ? argc : 1, sizeof(*c.args));
	if (c.args == NULL) {
		mpa_cli_err("out of memory");
		return MPA_EXIT_FAIL;
	}
	ret = parse(argc, argv, &c, &p);
	if (p.help && ret == 0) {
		if (p.cmd != NULL)
			usage_cmd(stdout, p.cmd);
		else
			usage_main(stdout);
		free(c.args);
		return MPA_EXIT_CLEAN;
	}
	if (ret != 0 || validate(&c, &p) != 0) {
		usage_short(stderr, p.cmd);
		free(c.args);
		return MPA_EXIT_USAGE;
	}
	ret = p.cmd->fn(&c);
	mpa_tele_close(c.t);
	free(c.args);
	return ret;
}
