/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The processes of mpaudit soak (soak.h): the DUT and the generator.
 *
 * Each runs in a process group of its own, so that a terminal's Ctrl-C
 * reaches mpaudit alone, which then stops them in order (generator first:
 * a testpmd memif peer that is still transmitting when the other side
 * goes away may crash), and so that a stop reaches a wrapper's children
 * too (script(1) around Pktgen). Each gets its own --file-prefix; their
 * output goes to DIR/dut.log and DIR/generator.log.
 *
 * Command lines given by the user (--dut, --generator) are split like a
 * shell would (wordexp(3), no command substitution), after SOAK_SOCK,
 * SOAK_DUT_PREFIX, SOAK_GEN_PREFIX and SOAK_EAL_MEM are set, so they can
 * name the link and the prefixes. EAL options missing from a --dut
 * command (file prefix, memory, lcores, PCI) are added after its program
 * name; a --generator command is run as given.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>

#include "cli.h"
#include "soak.h"

#ifndef MPA_SOAK_CLI_BUILD_DIR
#define MPA_SOAK_CLI_BUILD_DIR ""
#endif
#ifndef MPA_SOAK_FWD_BUILD
#define MPA_SOAK_FWD_BUILD ""
#endif
#ifndef MPA_SOAK_PRELOAD_BUILD
#define MPA_SOAK_PRELOAD_BUILD ""
#endif
#ifndef MPA_SOAK_FWD_INSTALL
#define MPA_SOAK_FWD_INSTALL "/usr/local/bin/mpaudit-fwd"
#endif
#ifndef MPA_SOAK_PRELOAD_INSTALL
#define MPA_SOAK_PRELOAD_INSTALL "/usr/local/lib/libmpaudit_preload.so"
#endif

#define PRELOAD_NAME "libmpaudit_preload.so"
/* The instrumented build links libmpaudit: its name is in .dynstr. */
#define INSTRUMENTED_MARK "libmpaudit.so"
#define TESTPMD "dpdk-testpmd"
#define PKTGEN "pktgen"
/* DUT: main lcore on CPU 0, forwarding lcore on CPU 1; generator: both
 * on CPU 0 (its main lcore sleeps), so that each datapath has a CPU on
 * a 2-CPU machine. */
#define DUT_LCORES "0@0,1@1"
#define GEN_LCORES "0@0,1@0"
#define TESTPMD_MBUFS "--total-num-mbufs=8192"
#define HUGE_MARGIN_MB 128
#define ARGV_MAX 256
#define POLL_S 0.05
/* The runtime directories EAL may use (tele.c looks in the same). */
static const char *const run_bases[] = { "/var/run/dpdk", "/tmp/dpdk" };

/* ---- small helpers ----------------------------------------------------- */

static void
rig_err(struct mpa_soak *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
}

static void
nap(double secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };

	nanosleep(&ts, NULL);
}

struct argv_b {
	char *v[ARGV_MAX + 1];
	int n;
};

static void
add(struct argv_b *b, const char *w)
{
	if (b->n < ARGV_MAX)
		b->v[b->n++] = strdup(w);
	b->v[b->n] = NULL;
}

static void
add_words(struct argv_b *b, const char *words)
{
	char *copy = strdup(words), *save = NULL, *w;

	for (w = strtok_r(copy, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save))
		add(b, w);
	free(copy);
}

static char **
argv_take(struct argv_b *b)
{
	char **v = calloc((size_t)b->n + 1, sizeof(*v));

	if (v != NULL)
		memcpy(v, b->v, (size_t)b->n * sizeof(*v));
	return v;
}

static void
argv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

static void
cmdline_of(char **argv, char *buf, size_t len)
{
	size_t l = 0;

	buf[0] = '\0';
	for (char **p = argv; *p != NULL && l < len; p++)
		l += (size_t)snprintf(buf + l, len - l, "%s%s",
				      p == argv ? "" : " ", *p);
}

/* Split @cmd like a shell (variables expanded, no command substitution). */
static int
split(struct mpa_soak *s, const char *what, const char *cmd,
      struct argv_b *b)
{
	wordexp_t we;
	int r = wordexp(cmd, &we, WRDE_NOCMD | WRDE_UNDEF);

	if (r != 0 || we.we_wordc == 0) {
		rig_err(s, "%s: cannot split the command line '%s'%s", what, cmd,
			r == WRDE_CMDSUB ? " (no $(...) or `...`)" :
			r == WRDE_BADVAL ? " (undefined variable)" : "");
		if (r == 0)
			wordfree(&we);
		return -1;
	}
	for (size_t i = 0; i < we.we_wordc; i++)
		add(b, we.we_wordv[i]);
	wordfree(&we);
	return 0;
}

static int
has_word(char **v, int n, const char *const *names)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i], "--") == 0)
			return 0;
		for (const char *const *w = names; *w != NULL; w++) {
			size_t l = strlen(*w);

			if (strncmp(v[i], *w, l) == 0 &&
			    (v[i][l] == '\0' || v[i][l] == '='))
				return 1;
		}
	}
	return 0;
}

/* The value of option @name in @v ("--name X" or "--name=X"), or NULL. */
static const char *
word_value(char **v, int n, const char *name)
{
	size_t l = strlen(name);

	for (int i = 0; i < n; i++) {
		if (strcmp(v[i], "--") == 0)
			break;
		if (strcmp(v[i], name) == 0 && i + 1 < n)
			return v[i + 1];
		if (strncmp(v[i], name, l) == 0 && v[i][l] == '=')
			return v[i] + l + 1;
	}
	return NULL;
}

/* ---- where things are -------------------------------------------------- */

static int
is_exec(const char *p)
{
	return p[0] != '\0' && access(p, X_OK) == 0;
}

/* Whether this mpaudit runs from its build tree. */
static int
from_build_tree(void)
{
	char self[PATH_MAX], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0 || MPA_SOAK_CLI_BUILD_DIR[0] == '\0')
		return 0;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	if (realpath(MPA_SOAK_CLI_BUILD_DIR, real) == NULL)
		return 0;
	return strcmp(self, real) == 0;
}

/* mpaudit-fwd: $MPA_SOAK_FWD, the build tree's, or the installed one. */
static const char *
fwd_path(void)
{
	const char *e = getenv("MPA_SOAK_FWD");

	if (e != NULL && e[0] != '\0')
		return e;
	if (from_build_tree() && is_exec(MPA_SOAK_FWD_BUILD))
		return MPA_SOAK_FWD_BUILD;
	return MPA_SOAK_FWD_INSTALL;
}

/* libmpaudit_preload.so: $MPA_SOAK_PRELOAD, build tree, installed. */
static const char *
preload_path(void)
{
	const char *e = getenv("MPA_SOAK_PRELOAD");

	if (e != NULL && e[0] != '\0')
		return e;
	if (from_build_tree() && access(MPA_SOAK_PRELOAD_BUILD, R_OK) == 0)
		return MPA_SOAK_PRELOAD_BUILD;
	return MPA_SOAK_PRELOAD_INSTALL;
}

/* @prog as execvp() would find it, into @out; 0 or -1. */
static int
which(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *d;
	int r = -1;

	if (strchr(prog, '/') != NULL) {
		snprintf(out, len, "%s", prog);
		return is_exec(out) ? 0 : -1;
	}
	copy = strdup(path != NULL ? path : "/usr/bin:/bin");
	for (d = strtok_r(copy, ":", &save); d != NULL && r != 0;
	     d = strtok_r(NULL, ":", &save))
		if (snprintf(out, len, "%s/%s", d, prog) < (int)len &&
		    is_exec(out))
			r = 0;
	free(copy);
	return r;
}

/* Whether file @path contains @mark (an instrumented build names
 * libmpaudit.so among the libraries it needs). */
static int
file_has(const char *path, const char *mark)
{
	size_t ml = strlen(mark), have = 0;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	while (!found && (n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		have += (size_t)n;
		found = memmem(buf, have, mark, ml) != NULL;
		/* Keep the tail: a mark may straddle two reads. */
		if (have > ml) {
			memmove(buf, buf + have - ml + 1, ml - 1);
			have = ml - 1;
		}
	}
	close(fd);
	return found;
}

/* ---- memory ------------------------------------------------------------ */

static long
meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	size_t kl = strlen(key);

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static int
hugetlbfs_mounted(char *dir, size_t len)
{
	char dev[256], mnt[PATH_MAX], type[64];
	FILE *f = fopen("/proc/mounts", "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, mnt,
				type) == 3)
		if (strcmp(type, "hugetlbfs") == 0) {
			snprintf(dir, len, "%s", mnt);
			found = 1;
		}
	fclose(f);
	return found;
}

/*
 * EAL memory of each process: $MPA_SOAK_EAL_MEM as it is; else
 * hugepages (--in-memory: no files left behind) when root, mounted and
 * enough free for both processes; else --no-huge.
 */
static void
choose_mem(struct mpa_soak *s)
{
	const char *e = getenv("MPA_SOAK_EAL_MEM");
	long free_pg = meminfo_kb("HugePages_Free");
	long pg_kb = meminfo_kb("Hugepagesize");
	char dir[PATH_MAX];

	if (e != NULL && e[0] != '\0')
		snprintf(s->mem, sizeof(s->mem), "%s", e);
	else if (geteuid() == 0 && hugetlbfs_mounted(dir, sizeof(dir)) &&
		 free_pg > 0 && pg_kb > 0 && free_pg * pg_kb / 1024 >=
		 2 * MPA_SOAK_MEM_MB + HUGE_MARGIN_MB)
		snprintf(s->mem, sizeof(s->mem), "--in-memory -m %d",
			 MPA_SOAK_MEM_MB);
	else
		snprintf(s->mem, sizeof(s->mem), "--no-huge -m %d",
			 MPA_SOAK_MEM_MB);
}

/* ---- command lines ----------------------------------------------------- */

static int
link_vhost(const struct mpa_soak *s)
{
	return s->o.gen == MPA_SOAK_GEN_PKTGEN;
}

static void
dut_link_vdevs(struct mpa_soak *s, struct argv_b *b)
{
	char dev[4200];

	if (link_vhost(s))
		snprintf(dev, sizeof(dev), "--vdev=net_vhost0,iface=%s",
			 s->sock);
	else
		snprintf(dev, sizeof(dev),
			 "--vdev=net_memif0,role=server,socket=%s", s->sock);
	add(b, dev);
	/* The other port only takes what is forwarded to it. */
	add(b, "--vdev=net_null0,no-rx=1");
}

static const char *const w_mem[] = { "-m", "--socket-mem", "--no-huge",
	"--in-memory", NULL };
static const char *const w_lcores[] = { "-l", "-c", "--lcores", NULL };
static const char *const w_pci[] = { "-a", "-b", "--allow", "--block",
	"--no-pci", NULL };

static int
dut_argv(struct mpa_soak *s, char **env_preload)
{
	struct argv_b b = { .n = 0 }, u = { .n = 0 };
	char path[PATH_MAX];
	const char *prefix;

	*env_preload = NULL;
	if (s->o.dut == NULL) {
		const char *fwd = fwd_path();

		if (!is_exec(fwd)) {
			rig_err(s, "no mpaudit-fwd at %s (set MPA_SOAK_FWD, or "
				"give --dut)", fwd);
			return -1;
		}
		add(&b, fwd);
		add(&b, "--file-prefix");
		add(&b, s->dut_prefix);
		add_words(&b, s->mem);
		add(&b, "--no-pci");
		add(&b, "--lcores");
		add(&b, DUT_LCORES);
		dut_link_vdevs(s, &b);
		add(&b, "--");
		add(&b, "--stats-ms");
		add(&b, "0");
		if (s->o.dut_args != NULL &&
		    split(s, "--dut-args", s->o.dut_args, &u) == 0) {
			for (int i = 0; i < u.n; i++)
				add(&b, u.v[i]);
			argv_free(argv_take(&u));
			for (int i = 0; i < u.n; i++)
				u.v[i] = NULL;
		} else if (s->o.dut_args != NULL) {
			return -1;
		}
		s->dut.argv = argv_take(&b);
		return 0;
	}
	if (split(s, "--dut", s->o.dut, &u) != 0)
		return -1;
	/* The program, then the EAL options it lacks, then the rest. */
	add(&b, u.v[0]);
	prefix = word_value(u.v, u.n, "--file-prefix");
	if (prefix != NULL) {
		snprintf(s->dut_prefix, sizeof(s->dut_prefix), "%s", prefix);
	} else {
		add(&b, "--file-prefix");
		add(&b, s->dut_prefix);
	}
	if (!has_word(u.v, u.n, w_mem))
		add_words(&b, s->mem);
	if (!has_word(u.v, u.n, w_lcores)) {
		add(&b, "--lcores");
		add(&b, DUT_LCORES);
	}
	if (!has_word(u.v, u.n, w_pci))
		add(&b, "--no-pci");
	for (int i = 1; i < u.n; i++)
		add(&b, u.v[i]);
	/* Audited already (instrumented, or preloaded by the user), or
	 * under the preload. */
	if (which(u.v[0], path, sizeof(path)) != 0) {
		rig_err(s, "--dut: no program '%s'", u.v[0]);
		argv_free(argv_take(&u));
		argv_free(argv_take(&b));
		return -1;
	}
	if (!file_has(path, INSTRUMENTED_MARK)) {
		const char *cur = getenv("LD_PRELOAD");

		if (cur == NULL || strstr(cur, PRELOAD_NAME) == NULL) {
			const char *lib = preload_path();

			if (access(lib, R_OK) != 0) {
				rig_err(s, "--dut: %s is not instrumented and "
					"there is no %s at %s (set "
					"MPA_SOAK_PRELOAD)", u.v[0],
					PRELOAD_NAME, lib);
				argv_free(argv_take(&u));
				argv_free(argv_take(&b));
				return -1;
			}
			*env_preload = strdup(lib);
		}
	}
	argv_free(argv_take(&u));
	s->dut.argv = argv_take(&b);
	return 0;
}

/* Single-quote @w for sh -c. */
static void
shell_quote(char *out, size_t len, const char *w)
{
	size_t l = 0;

	if (l + 1 < len)
		out[l++] = '\'';
	for (; *w != '\0' && l + 5 < len; w++) {
		if (*w == '\'') {
			memcpy(out + l, "'\\''", 4);
			l += 4;
		} else {
			out[l++] = *w;
		}
	}
	if (l + 1 < len)
		out[l++] = '\'';
	out[l] = '\0';
}

static int
pktgen_cmd_file(struct mpa_soak *s, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/pktgen.cmd", s->o.out);
	f = fopen(path, "w");
	if (f == NULL) {
		rig_err(s, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	/* 64-byte frames at line rate on port 0. */
	fprintf(f, "set 0 size 64\nset 0 rate 100\nstart 0\n");
	fclose(f);
	return 0;
}

static int
gen_argv(struct mpa_soak *s)
{
	struct argv_b b = { .n = 0 };
	char dev[4200];

	switch (s->o.gen) {
	case MPA_SOAK_GEN_NONE:
		return 0;
	case MPA_SOAK_GEN_CMD: {
		const char *p;

		if (split(s, "--generator", s->o.generator, &b) != 0)
			return -1;
		p = word_value(b.v, b.n, "--file-prefix");
		if (p != NULL && s->o.gen_prefix == NULL)
			snprintf(s->gen_prefix, sizeof(s->gen_prefix), "%s", p);
		else if (s->o.gen_prefix == NULL)
			s->gen_prefix[0] = '\0';
		break;
	}
	case MPA_SOAK_GEN_TESTPMD:
		add(&b, TESTPMD);
		add(&b, "--file-prefix");
		add(&b, s->gen_prefix);
		add_words(&b, s->mem);
		add(&b, "--no-pci");
		add(&b, "--lcores");
		add(&b, GEN_LCORES);
		snprintf(dev, sizeof(dev),
			 "--vdev=net_memif0,role=client,socket=%s", s->sock);
		add(&b, dev);
		add(&b, "--");
		add(&b, "--forward-mode=txonly");
		add(&b, "--auto-start");
		add(&b, TESTPMD_MBUFS);
		break;
	case MPA_SOAK_GEN_PKTGEN: {
		char bin[PATH_MAX], cmdf[PATH_MAX], q[3 * PATH_MAX];
		char inner[16384];
		const char *want = s->o.pktgen_bin;
		size_t l;

		if (want == NULL)
			want = getenv("MPA_SOAK_PKTGEN");
		if (want == NULL || want[0] == '\0')
			want = PKTGEN;
		if (which(want, bin, sizeof(bin)) != 0) {
			rig_err(s, "no Pktgen-DPDK binary '%s' (give "
				"--pktgen-bin PATH or set MPA_SOAK_PKTGEN)",
				want);
			return -1;
		}
		if (pktgen_cmd_file(s, cmdf, sizeof(cmdf)) != 0)
			return -1;
		/*
		 * Pktgen needs a terminal (script gives it a pty); its
		 * virtio_user port needs its memory in file descriptors
		 * that vhost can map. --no-huge gives that on its own (EAL
		 * backs it with one memfd: vhost sees one region), and
		 * keeps Pktgen's ~1.3 GB of pools off the hugepages, which
		 * they would exhaust. --single-file-segments is what
		 * hugepages would need (one file per segment list, else
		 * vhost refuses "Too many memory regions"); with --no-huge
		 * it and --no-shconf change nothing (docs/soak.md).
		 */
		shell_quote(q, sizeof(q), bin);
		l = (size_t)snprintf(inner, sizeof(inner),
			"exec %s --file-prefix %s --no-huge --no-shconf "
			"--single-file-segments -m %d --no-pci --lcores %s ",
			q, s->gen_prefix, MPA_SOAK_PKTGEN_MEM_MB, GEN_LCORES);
		snprintf(dev, sizeof(dev), "--vdev=virtio_user0,path=%s",
			 s->sock);
		shell_quote(q, sizeof(q), dev);
		l += (size_t)snprintf(inner + l, sizeof(inner) - l,
				      "%s -- -P -T -m 1.0 -f ", q);
		shell_quote(q, sizeof(q), cmdf);
		snprintf(inner + l, sizeof(inner) - l, "%s", q);
		add(&b, "script");
		add(&b, "-qfec");
		add(&b, inner);
		add(&b, "/dev/null");
		break;
	}
	}
	s->gen.argv = argv_take(&b);
	return 0;
}

/* ---- processes --------------------------------------------------------- */

static int
spawn(struct mpa_soak *s, struct mpa_soak_proc *p, const char *log_name,
      const char *preload, int dut)
{
	int in[2];
	int logfd;

	snprintf(p->log, sizeof(p->log), "%s/%s", s->o.out, log_name);
	cmdline_of(p->argv, p->cmdline, sizeof(p->cmdline));
	logfd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		rig_err(s, "cannot write %s: %s", p->log, strerror(errno));
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) != 0) {
		close(logfd);
		rig_err(s, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0) {
		rig_err(s, "fork: %s", strerror(errno));
		p->pid = 0;
		close(in[0]);
		close(in[1]);
		close(logfd);
		return -1;
	}
	if (p->pid == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		if (dut) {
			setenv("MPAUDIT_REPORT", s->report_path, 1);
			/* Unless set: scans often enough for the forecast,
			 * and a report rewritten every second, so a DUT that
			 * crashes still leaves its last one. */
			setenv("MPAUDIT_SCAN_MS", MPA_SOAK_DUT_SCAN_MS, 0);
			setenv("MPAUDIT_REPORT_MS", MPA_SOAK_DUT_REPORT_MS, 0);
		}
		if (preload != NULL)
			setenv("LD_PRELOAD", preload, 1);
		execvp(p->argv[0], p->argv);
		dprintf(2, "mpaudit soak: cannot run %s: %s\n", p->argv[0],
			strerror(errno));
		_exit(127);
	}
	/* Both sides, so no race with the child's own call. */
	setpgid(p->pid, p->pid);
	close(in[0]);
	close(logfd);
	p->stdin_fd = in[1];
	return 0;
}

static int
reap(struct mpa_soak *s, struct mpa_soak_proc *p)
{
	int st;

	if (p->pid <= 0 || p->exited)
		return p->exited;
	if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
		p->exited = 1;
		p->status = st;
		p->exit_t_s = mpa_cli_now_s() - s->start_s;
		/* What the leader left in its group (script's child). */
		kill(-p->pid, SIGKILL);
	}
	return p->exited;
}

void
mpa_soak_rig_status(const struct mpa_soak_proc *p, char *buf, size_t len)
{
	if (!p->exited)
		snprintf(buf, len, "still running");
	else if (WIFEXITED(p->status))
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(p->status));
	else if (WIFSIGNALED(p->status))
		snprintf(buf, len, "was killed by signal %d (%s)",
			 WTERMSIG(p->status), strsignal(WTERMSIG(p->status)));
	else
		snprintf(buf, len, "ended (status 0x%x)", p->status);
}

/*
 * An audited DUT is ready once it has created a mempool: its telemetry
 * socket exists from rte_eal_init() on, before the application makes its
 * pools, and a sample taken in between would hold no pool at all.
 */
static int
has_pool(struct mpa_tele *t)
{
	json_t *v, *p;
	size_t i;
	int n = 0;

	if (mpa_tele_pages(t, "/mpaudit/pools", "pools", &v) != 0)
		return 0;
	json_array_foreach(json_object_get(v, "pools"), i, p)
		n += !mpa_cli_int(p, "destroyed", 0);
	json_decref(v);
	return n > 0;
}

/* Wait until @prefix answers on telemetry (audited, with a pool, when
 * @audited). */
static int
wait_ready(struct mpa_soak *s, struct mpa_soak_proc *p, const char *prefix,
	   int audited)
{
	double deadline = mpa_cli_now_s() + MPA_SOAK_READY_S;
	char path[108], err[MPA_TELE_ERR_MAX] = "";

	while (mpa_cli_now_s() < deadline && !mpa_cli_stop) {
		struct mpa_tele *t;

		if (p != NULL && reap(s, p)) {
			char st[128];

			mpa_soak_rig_status(p, st, sizeof(st));
			rig_err(s, "the %s %s while starting (see %s)",
				p->role, st, p->log);
			return -1;
		}
		if (mpa_tele_find_prefix(prefix, path, sizeof(path), err,
					 sizeof(err)) == 0 &&
		    (t = mpa_tele_open(path, NULL, err, sizeof(err))) != NULL) {
			int a = audited ? mpa_tele_audited(t) : 1;
			int pool = a == 1 && (!audited || has_pool(t));

			mpa_tele_close(t);
			if (pool)
				return 0;
			snprintf(err, sizeof(err), a == 1 ?
				 "process is audited but has created no "
				 "mempool" : "process answers but is not "
				 "audited");
		}
		nap(POLL_S);
	}
	if (mpa_cli_stop)
		rig_err(s, "interrupted while the %s was starting",
			p != NULL ? p->role : "DUT");
	else
		rig_err(s, "the %s did not answer on telemetry (file prefix "
			"%s) within %.0f s: %s%s%s", p != NULL ? p->role : "DUT",
			prefix, MPA_SOAK_READY_S, err, p != NULL ? "; see " : "",
			p != NULL ? p->log : "");
	return -1;
}

/* Wait until the vhost-user socket exists (the DUT listens on it). */
static int
wait_sock(struct mpa_soak *s)
{
	double deadline = mpa_cli_now_s() + MPA_SOAK_READY_S;
	struct stat st;

	while (mpa_cli_now_s() < deadline && !mpa_cli_stop) {
		if (stat(s->sock, &st) == 0)
			return 0;
		if (reap(s, &s->dut))
			break;
		nap(POLL_S);
	}
	rig_err(s, "the DUT did not create its vhost-user socket %s (see %s)",
		s->sock, s->dut.log);
	return -1;
}

int
mpa_soak_rig_start(struct mpa_soak *s)
{
	char *preload = NULL;
	long me = (long)getpid();

	s->dut.role = "DUT";
	s->gen.role = "generator";
	s->dut.stdin_fd = s->gen.stdin_fd = -1;
	choose_mem(s);
	snprintf(s->dut_prefix, sizeof(s->dut_prefix), "mpaudit-soak-%ld-dut",
		 me);
	if (s->o.gen_prefix != NULL)
		snprintf(s->gen_prefix, sizeof(s->gen_prefix), "%s",
			 s->o.gen_prefix);
	else
		snprintf(s->gen_prefix, sizeof(s->gen_prefix),
			 "mpaudit-soak-%ld-gen", me);
	snprintf(s->sock, sizeof(s->sock), "/tmp/mpaudit-soak-%ld.sock", me);
	snprintf(s->report_path, sizeof(s->report_path), "%s/report.json",
		 s->o.out);
	setenv("SOAK_SOCK", s->sock, 1);
	setenv("SOAK_DUT_PREFIX", s->dut_prefix, 1);
	setenv("SOAK_GEN_PREFIX", s->gen_prefix, 1);
	setenv("SOAK_EAL_MEM", s->mem, 1);
	if (s->o.attach != NULL) {
		snprintf(s->dut_prefix, sizeof(s->dut_prefix), "%s",
			 s->o.attach);
		if (wait_ready(s, NULL, s->dut_prefix, 1) != 0)
			return -1;
	} else {
		if (dut_argv(s, &preload) != 0)
			return -1;
		unlink(s->report_path);
		if (spawn(s, &s->dut, "dut.log", preload, 1) != 0) {
			free(preload);
			return -1;
		}
		free(preload);
		if (wait_ready(s, &s->dut, s->dut_prefix, 1) != 0 ||
		    (link_vhost(s) && wait_sock(s) != 0))
			goto err;
	}
	if (gen_argv(s) != 0)
		goto err;
	if (s->gen.argv != NULL) {
		if (spawn(s, &s->gen, "generator.log", NULL, 0) != 0)
			goto err;
		if (s->gen_prefix[0] != '\0' &&
		    wait_ready(s, &s->gen, s->gen_prefix, 0) != 0)
			goto err;
	} else if (s->o.gen_prefix != NULL &&
		   wait_ready(s, NULL, s->gen_prefix, 0) != 0) {
		goto err;
	}
	return 0;
err:
	mpa_soak_rig_stop(s);
	return -1;
}

struct mpa_soak_proc *
mpa_soak_rig_poll(struct mpa_soak *s)
{
	if (s->gen.pid > 0 && !s->gen.exited && reap(s, &s->gen))
		return &s->gen;
	if (s->dut.pid > 0 && !s->dut.exited && reap(s, &s->dut))
		return &s->dut;
	return NULL;
}

/* SIGINT to @p's group, SIGKILL after @wait_s; reaped either way. */
static void
stop_one(struct mpa_soak *s, struct mpa_soak_proc *p, double wait_s)
{
	double deadline;

	if (p->stdin_fd >= 0) {
		close(p->stdin_fd);
		p->stdin_fd = -1;
	}
	if (p->pid <= 0 || reap(s, p))
		return;
	kill(-p->pid, SIGINT);
	deadline = mpa_cli_now_s() + wait_s;
	while (!reap(s, p) && mpa_cli_now_s() < deadline)
		nap(POLL_S);
	if (!p->exited) {
		fprintf(stderr, "mpaudit: soak: the %s (pid %ld) did not stop "
			"within %.0f s of SIGINT: killed\n", p->role,
			(long)p->pid, wait_s);
		kill(-p->pid, SIGKILL);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->exited = 1;
		p->exit_t_s = mpa_cli_now_s() - s->start_s;
	}
}

/* Remove @dir and the files in it (an EAL runtime directory is flat). */
static void
remove_flat_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* What EAL left for @prefix: its runtime directories, hugepage files. */
static void
remove_eal_files(const char *prefix)
{
	char dir[PATH_MAX], huge[PATH_MAX], path[PATH_MAX * 2];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	size_t pl = strlen(prefix);
	struct dirent *e;
	DIR *d;

	if (prefix[0] == '\0' || strchr(prefix, '/') != NULL)
		return;
	for (size_t i = 0; i < sizeof(run_bases) / sizeof(run_bases[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", run_bases[i], prefix);
		remove_flat_dir(dir);
	}
	if (xdg != NULL && xdg[0] != '\0' &&
	    snprintf(dir, sizeof(dir), "%s/dpdk/%s", xdg, prefix) <
	    (int)sizeof(dir))
		remove_flat_dir(dir);
	/* Hugepage files are named PREFIXmap_N (eal_filesystem.h). */
	if (!hugetlbfs_mounted(huge, sizeof(huge)) ||
	    (d = opendir(huge)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, pl) == 0 &&
		    strncmp(e->d_name + pl, "map_", 4) == 0) {
			snprintf(path, sizeof(path), "%s/%s", huge, e->d_name);
			unlink(path);
		}
	closedir(d);
}

/*
 * The DUT first. DPDK 22.11's net_memif unmaps the shared rings when the
 * peer goes, while the lcore polling them may be inside a burst: the side
 * still polling when the other disconnects can crash. The DUT is what the
 * soak judges, and it stops its lcores before it closes its ports, so it
 * is never that side; the generator may be, and its end counts for
 * nothing.
 */
void
mpa_soak_rig_stop(struct mpa_soak *s)
{
	stop_one(s, &s->dut, MPA_SOAK_STOP_DUT_S);
	stop_one(s, &s->gen, MPA_SOAK_STOP_GEN_S);
	if (s->gen.pid > 0)
		remove_eal_files(s->gen_prefix);
	if (s->dut.pid > 0)
		remove_eal_files(s->dut_prefix);
	if (s->o.attach == NULL)
		unlink(s->sock);
	argv_free(s->dut.argv);
	argv_free(s->gen.argv);
	s->dut.argv = s->gen.argv = NULL;
}
