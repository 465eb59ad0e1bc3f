/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Reachability scan of the heap tracker's records (see reach.h).
 *
 * 1. Copy the records (heap.c), sorted by address, so the scan works on a
 *    stable set while the application keeps allocating.
 * 2. Owners: each live mempool (its header, memory chunks and their
 *    headers, its ring), ring, started ethdev port's queue arrays and
 *    queues, and every memzone mark the records holding them "owned".
 * 3. Mark: every aligned word of the roots that points into a record
 *    (interior pointers count) marks it reachable; owned and reachable
 *    records are then scanned themselves until no new record is found.
 * 4. Lost: whatever is left.
 *
 * All memory is read with process_vm_readv() on ourselves: a block freed
 * and unmapped, or a thread stack gone, while we scan gives a failed read,
 * never a fault in the host application.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_tailq.h>
#include <rte_eal_memconfig.h>

#include "core/guard.h"
#include "core/fault.h"
#include "growth.h"
#include "core/clock.h"
#include "heap.h"
#include "heap_int.h"
#include "core/log.h"
#include "reach.h"

/* ---- thread registry ------------------------------------------------- */

#define THREADS_MAX 4096
#define SLOT_FREE 0
#define SLOT_FILLING 1
#define SLOT_LIVE 2

struct thread_slot {
	int state;
	uintptr_t lo, hi;        /* stack */
	uintptr_t tp;            /* thread pointer: static TLS sits below it */
};

static struct thread_slot threads[THREADS_MAX];

int
mpa_reach_thread_enter(void)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return -1;
	if (pthread_attr_getstack(&attr, &addr, &size) != 0)
		size = 0;
	pthread_attr_destroy(&attr);
	if (size == 0)
		return -1;
	for (int i = 0; i < THREADS_MAX; i++) {
		int s = SLOT_FREE;

		if (!__atomic_compare_exchange_n(&threads[i].state, &s, SLOT_FILLING,
						 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		threads[i].lo = (uintptr_t)addr;
		threads[i].hi = (uintptr_t)addr + size;
		threads[i].tp = (uintptr_t)pthread_self();
		__atomic_store_n(&threads[i].state, SLOT_LIVE, __ATOMIC_RELEASE);
		return i;
	}
	return -1;
}

void
mpa_reach_thread_leave(int slot)
{
	if (slot >= 0 && slot < THREADS_MAX)
		__atomic_store_n(&threads[slot].state, SLOT_FREE, __ATOMIC_RELEASE);
}

/* ---- reading our own memory safely ----------------------------------- */

/* Largest piece read at once: blocks are scanned in pieces this size. */
#define PIECE (64u << 10)

struct scan {
	/* The records, sorted by address, and what we know of each. */
	struct mpa_heap_rec *recs;
	struct mpa_heap_verdict *v;
	uintptr_t *lo;           /* recs[i].ptr, dense for the search */
	uintptr_t *hi;           /* end of the range a pointer may hit */
	uint8_t *flags;
	uint32_t n;
	uintptr_t min, max;      /* of all ranges */
	uint32_t *gray;          /* records to scan */
	uint32_t ngray;
	uint8_t *buf;            /* PIECE bytes */
	int pipe_fd[2];          /* fallback reader, -1 if unused */
	int use_pipe;
	struct mpa_reach_stats st;
};

#define F_QUEUED 1               /* in gray already (or scanned) */
#define F_NOSCAN 2               /* owned, but never scanned (mbuf memory) */

/*
 * Copy [addr, addr + len) into buf; len <= PIECE. @return 0 or -1.
 * process_vm_readv() on our own pid needs no privilege; a seccomp policy
 * may still refuse it, then a pipe does the same job (write() from a bad
 * address fails with EFAULT instead of faulting).
 */
static int
read_mem(struct scan *s, uintptr_t addr, size_t len)
{
	if (!s->use_pipe) {
		struct iovec l = { s->buf, len }, r = { (void *)addr, len };
		ssize_t n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0 || (errno != ENOSYS && errno != EPERM))
			return -1;
		if (pipe2(s->pipe_fd, O_CLOEXEC | O_NONBLOCK) != 0)
			return -1;
		fcntl(s->pipe_fd[0], F_SETPIPE_SZ, (int)PIECE);
		s->use_pipe = 1;
	}
	for (size_t off = 0; off < len;) {
		size_t k = len - off < 4096 ? len - off : 4096;
		ssize_t w = write(s->pipe_fd[1], (const void *)(addr + off), k);

		if (w <= 0)
			return -1;
		if (read(s->pipe_fd[0], s->buf + off, (size_t)w) != w)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* ---- the records ----------------------------------------------------- */

/* Index of the record whose range holds @p p, or -1. */
static int64_t
find(const struct scan *s, uintptr_t p, int whole)
{
	uint32_t a = 0, b = s->n;

	if (p < s->min || p >= s->max)
		return -1;
	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (s->lo[m] <= p)
			a = m + 1;
		else
			b = m;
	}
	if (a == 0)
		return -1;
	a--;
	if (p < (whole ? s->lo[a] + s->recs[a].size : s->hi[a]))
		return a;
	return -1;
}

static void
queue(struct scan *s, uint32_t i)
{
	if (s->flags[i] & F_QUEUED)
		return;
	s->flags[i] |= F_QUEUED;
	if (!(s->flags[i] & F_NOSCAN))
		s->gray[s->ngray++] = i;
}

/* Mark whatever @p words point into; queue it for its own scan. */
static void
mark_words(struct scan *s, const uint8_t *buf, size_t len)
{
	const uintptr_t *w = (const uintptr_t *)(const void *)buf;

	for (size_t k = 0; k < len / sizeof(*w); k++) {
		int64_t i;

		if (w[k] < s->min || w[k] >= s->max)
			continue;
		i = find(s, w[k], 0);
		if (i < 0)
			continue;
		if (s->v[i].cls == MPA_HEAP_LOST)
			s->v[i].cls = MPA_HEAP_REACHABLE;
		queue(s, (uint32_t)i);
	}
}

/* Scan [lo, hi) in pieces; a piece that cannot be read is skipped. */
static void
scan_range(struct scan *s, uintptr_t lo, uintptr_t hi, int root)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	while (lo < hi) {
		size_t len = hi - lo < PIECE ? hi - lo : PIECE;

		len &= ~(size_t)7;
		if (len == 0)
			break;
		/* Roots may hold unmapped holes: then go page by page. */
		if (read_mem(s, lo, len) == 0) {
			mark_words(s, s->buf, len);
			s->st.bytes_read += len;
			if (root)
				s->st.root_bytes += len;
		} else if (root && len > 4096) {
			uintptr_t end = lo + len;

			for (uintptr_t p = lo; p < end;) {
				uintptr_t next = (p | 4095) + 1;

				if (next > end)
					next = end;
				scan_range(s, p, next, 1);
				p = next;
			}
		} else {
			s->st.unreadable++;
		}
		lo += len;
	}
}

/* ---- owners ---------------------------------------------------------- */

/* The record holding @p p becomes owned by @p label unless it is already. */
static void
own(struct scan *s, const void *p, const char *label, int noscan)
{
	int64_t i = find(s, (uintptr_t)p, 1);

	if (p == NULL || i < 0 || s->v[i].cls == MPA_HEAP_OWNED)
		return;
	s->v[i].cls = MPA_HEAP_OWNED;
	s->v[i].owner = mpa_heap_string(mpa_heap_intern(label, 0));
	if (noscan)
		s->flags[i] |= F_NOSCAN;
	queue(s, (uint32_t)i);
}

/*
 * An mbuf pool's objects point only into the pool itself (buf_addr), and
 * its memory is most of what a datapath allocates: not worth scanning.
 * rte_pktmbuf_pool_init() leaves its private area describing objects of
 * exactly the pool's element size.
 */
static int
mbuf_pool(struct rte_mempool *mp)
{
	const struct rte_pktmbuf_pool_private *priv;

	if (mp->private_data_size < sizeof(*priv))
		return 0;
	priv = rte_mempool_get_priv(mp);
	return mp->elt_size == sizeof(struct rte_mbuf) + priv->mbuf_priv_size +
			       priv->mbuf_data_room_size;
}

static void
own_mempool(struct rte_mempool *mp, void *arg)
{
	struct scan *s = arg;
	struct rte_mempool_memhdr *hdr;
	char label[RTE_MEMPOOL_NAMESIZE + 16];
	int noscan = mbuf_pool(mp);

	snprintf(label, sizeof(label), "mempool %s", mp->name);
	own(s, mp, label, 0);
	STAILQ_FOREACH(hdr, &mp->mem_list, next) {
		own(s, hdr, label, 0);
		own(s, hdr->addr, label, noscan);
	}
	own(s, mp->pool_data, label, 0);
}

/*
 * The EAL's named lists (rings, mempools, hashes, LPM tables...): the
 * list heads live in the EAL's shared configuration, outside any module,
 * so their entries are roots. Entries of the ring and mempool lists are
 * owned by their object, the others only reachable.
 */
static void
tailq_roots(struct scan *s)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return;
	rte_dump_tailq(f);
	fclose(f);
	rte_mcfg_tailq_read_lock();
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[RTE_TAILQ_NAMESIZE + 1];
		const char *q = strstr(line, "qname:<");
		struct rte_tailq_head *head;
		struct rte_tailq_entry *te;
		size_t k = 0;

		if (q == NULL)
			continue;
		for (q += 7; *q != '\0' && *q != '>' && k < RTE_TAILQ_NAMESIZE; q++)
			name[k++] = *q;
		name[k] = '\0';
		head = rte_eal_tailq_lookup(name);
		if (head == NULL)
			continue;
		TAILQ_FOREACH(te, &head->tailq_head, next) {
			char label[RTE_RING_NAMESIZE + 16];
			int64_t i = find(s, (uintptr_t)te, 1);

			if (strcmp(name, RTE_TAILQ_RING_NAME) == 0) {
				const struct rte_ring *r = te->data;
				int64_t k = find(s, (uintptr_t)r, 1);

				/* A mempool's ring is the mempool's. */
				if (k >= 0 && s->v[k].owner != NULL)
					snprintf(label, sizeof(label), "%s", s->v[k].owner);
				else
					snprintf(label, sizeof(label), "ring %s", r->name);
				own(s, te, label, 0);
				own(s, r, label, 0);
			} else if (i >= 0) {
				if (s->v[i].cls == MPA_HEAP_LOST)
					s->v[i].cls = MPA_HEAP_REACHABLE;
				queue(s, (uint32_t)i);
			}
		}
	}
	rte_mcfg_tailq_read_unlock();
	free(text);
}

static void
own_tailq_mempools(struct scan *s)
{
	struct rte_tailq_head *head = rte_eal_tailq_lookup("RTE_MEMPOOL");
	struct rte_tailq_entry *te;

	if (head == NULL)
		return;
	rte_mcfg_tailq_read_lock();
	TAILQ_FOREACH(te, &head->tailq_head, next) {
		const struct rte_mempool *mp = te->data;
		char label[RTE_MEMPOOL_NAMESIZE + 16];

		snprintf(label, sizeof(label), "mempool %s", mp->name);
		own(s, te, label, 0);
	}
	rte_mcfg_tailq_read_unlock();
}

/* A started port's queue arrays and queues (ethdev's fast-path table). */
static void
own_ethdev(struct scan *s)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		void **rx = rte_eth_fp_ops[port].rxq.data;
		void **tx = rte_eth_fp_ops[port].txq.data;
		char label[48];

		if (rx == NULL || rx == tx || rte_eth_dev_info_get(port, &info) != 0)
			continue;
		snprintf(label, sizeof(label), "ethdev %u", port);
		own(s, rx, label, 0);
		own(s, tx, label, 0);
		for (uint16_t q = 0; q < info.nb_rx_queues; q++) {
			snprintf(label, sizeof(label), "ethdev %u rxq %u", port, q);
			own(s, rx[q], label, 0);
		}
		for (uint16_t q = 0; q < info.nb_tx_queues; q++) {
			snprintf(label, sizeof(label), "ethdev %u txq %u", port, q);
			own(s, tx[q], label, 0);
		}
	}
}

static void
own_memzones(struct scan *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		const char *name;
		char label[RTE_MEMZONE_NAMESIZE + 16];

		if (!s->recs[i].memzone || s->v[i].cls == MPA_HEAP_OWNED)
			continue;
		name = mpa_heap_string(s->recs[i].type);
		snprintf(label, sizeof(label), "memzone %s", name != NULL ? name : "?");
		own(s, (const void *)s->recs[i].ptr, label, 0);
	}
}

/* ---- roots ----------------------------------------------------------- */

#define TLS_MODS_MAX 1024

struct self_ctx {
	struct scan *s;
	uintptr_t self;          /* an address inside our own module */
	uint32_t ntls;           /* modules with a TLS segment */
	struct tls_mod {
		const char *name;    /* dlpi_name: "" for the executable */
		size_t len;
		intptr_t off;        /* thread pointer - block; 0: not static */
	} tls[TLS_MODS_MAX];
};

static int
module_in(const struct dl_phdr_info *info, uintptr_t p)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && p >= lo && p < lo + ph->p_memsz)
			return 1;
	}
	return 0;
}

/*
 * Writable segments of every module but the auditor's own (its tables
 * point at every record), the dynamic loader's included.
 */
static int
module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self_ctx *c = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_TLS && c->ntls < TLS_MODS_MAX &&
		    info->dlpi_phdr[i].p_memsz != 0) {
			c->tls[c->ntls].name = info->dlpi_name;
			c->tls[c->ntls].len = info->dlpi_phdr[i].p_memsz;
			c->tls[c->ntls++].off = 0;
		}
	if (module_in(info, c->self))
		return 0;
	c->s->st.modules++;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			scan_range(c->s, lo, lo + ph->p_memsz, 1);
	}
	return 0;
}

/* The main thread's stack: the [stack] mapping. */
static int
main_stack(uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int found = 0;

	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		unsigned long a, b;

		if (strstr(line, "[stack]") != NULL &&
		    sscanf(line, "%lx-%lx", &a, &b) == 2) {
			*lo = a;
			*hi = b;
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static __thread uintptr_t app_frame __attribute__((tls_model("initial-exec")));

uintptr_t
mpa_reach_app_enter(uintptr_t frame)
{
	if (app_frame != 0)
		return 0;
	app_frame = frame;
	return frame;
}

void
mpa_reach_app_leave(uintptr_t *token)
{
	if (*token != 0 && app_frame == *token)
		app_frame = 0;
}

/* The main thread's thread pointer, noted before main() (heapwrap.c). */
static uintptr_t main_tp;

void
mpa_reach_main_thread(void)
{
	if (getpid() == gettid())
		__atomic_store_n(&main_tp, (uintptr_t)pthread_self(), __ATOMIC_RELAXED);
}

/*
 * Where each module's static TLS block sits below the thread pointer: the
 * same offset in every thread, so it is measured once, on this thread
 * (dlinfo() answers for the calling thread only). A block that is not
 * within the static area (a module dlopen()ed late) is a malloc()ed
 * record, reached through the thread's DTV like any other block.
 */
#define STATIC_TLS_MAX (8u << 20)

static void
tls_offsets(struct self_ctx *c)
{
	uintptr_t tp = (uintptr_t)pthread_self();

	for (uint32_t i = 0; i < c->ntls; i++) {
		void *h = dlopen(c->tls[i].name[0] != '\0' ? c->tls[i].name : NULL,
				 RTLD_LAZY | RTLD_NOLOAD);
		void *blk = NULL;

		if (h == NULL)
			continue;
		if (dlinfo(h, RTLD_DI_TLS_DATA, &blk) == 0 && blk != NULL &&
		    (uintptr_t)blk < tp && tp - (uintptr_t)blk <= STATIC_TLS_MAX)
			c->tls[i].off = (intptr_t)(tp - (uintptr_t)blk);
		dlclose(h);
	}
}

/* The thread control block above the thread pointer: pthread_getspecific() values. */
#define TCB_LEN 2304u

/*
 * Static TLS of the thread at @p tp, module by module, and its control
 * block. Only these: the rest of the main thread's TLS mapping holds the
 * dynamic loader's leftovers, where stale words made leaks reachable.
 */
static void
tls_roots(struct scan *s, uintptr_t tp, const struct self_ctx *c)
{
	for (uint32_t i = 0; i < c->ntls; i++)
		if (c->tls[i].off != 0)
			scan_range(s, tp - (uintptr_t)c->tls[i].off,
				   tp - (uintptr_t)c->tls[i].off + c->tls[i].len, 1);
	scan_range(s, tp, tp + TCB_LEN, 1);
}

/*
 * Stacks are scanned whole, but the calling thread's (the one holding
 * @p here) only above the application's last frame, if any (reach.h):
 * below lie our locals, copies of every record. Static
 * TLS sits below the thread pointer: inside the stack block for the
 * threads glibc creates, elsewhere for the main thread.
 */
static void
stack_roots(struct scan *s, uintptr_t here, const struct self_ctx *c)
{
	uintptr_t lo, hi, tp;

	for (int i = 0; i < THREADS_MAX; i++) {
		struct thread_slot *t = &threads[i];

		if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != SLOT_LIVE)
			continue;
		lo = t->lo;
		hi = t->hi;
		tp = t->tp;
		if (here >= lo && here < hi) {
			if (app_frame < lo || app_frame >= hi)
				continue;
			lo = app_frame;
		}
		scan_range(s, lo, hi, 1);
		if (tp < t->lo || tp >= t->hi)
			tls_roots(s, tp, c);
		s->st.threads++;
	}
	if (main_stack(&lo, &hi) == 0 &&
	    (here < lo || here >= hi || (app_frame >= lo && app_frame < hi))) {
		if (here >= lo && here < hi)
			lo = app_frame;
		scan_range(s, lo, hi, 1);
		s->st.threads++;
	}
	tp = __atomic_load_n(&main_tp, __ATOMIC_RELAXED);
	if (tp != 0)
		tls_roots(s, tp, c);
}

/* ---- the scan -------------------------------------------------------- */

/*
 * The end of the range a pointer into record @p r may hit. glibc keeps a
 * free chunk's header in the last 8..15 bytes of the block before it, and
 * its bins point at that header: rounding the requested size down to 16
 * keeps those pointers out of the live block before.
 */
static uintptr_t
hit_end(const struct mpa_heap_rec *r)
{
	uint64_t len = r->kind == MPA_HEAP_LIBC ? r->size & ~(uint64_t)15 : r->size;

	return r->ptr + (len > 8 ? len : 8);
}

static int
scan_init(struct scan *s)
{
	int n;

	memset(s, 0, sizeof(*s));
	s->pipe_fd[0] = s->pipe_fd[1] = -1;
	if (mpa_fault(MPA_FAULT_REACH_SCAN))
		return -ENOMEM;
	n = mpa_heap_copy_records(&s->recs);
	if (n < 0)
		return n;
	s->n = (uint32_t)n;
	s->v = calloc(s->n + 1, sizeof(*s->v));
	s->lo = malloc((s->n + 1) * sizeof(*s->lo));
	s->hi = malloc((s->n + 1) * sizeof(*s->hi));
	s->flags = calloc(s->n + 1, 1);
	s->gray = malloc((s->n + 1) * sizeof(*s->gray));
	s->buf = malloc(PIECE);
	if (s->v == NULL || s->lo == NULL || s->hi == NULL || s->flags == NULL ||
	    s->gray == NULL || s->buf == NULL)
		return -ENOMEM;
	s->min = UINTPTR_MAX;
	for (uint32_t i = 0; i < s->n; i++) {
		s->v[i].cls = MPA_HEAP_LOST;
		s->lo[i] = s->recs[i].ptr;
		s->hi[i] = hit_end(&s->recs[i]);
		if (s->lo[i] < s->min)
			s->min = s->lo[i];
		if (s->recs[i].ptr + s->recs[i].size > s->max)
			s->max = s->recs[i].ptr + s->recs[i].size;
		if (s->hi[i] > s->max)
			s->max = s->hi[i];
	}
	return 0;
}

static void
scan_fini(struct scan *s)
{
	free(s->recs);
	free(s->v);
	free(s->lo);
	free(s->hi);
	free(s->flags);
	free(s->gray);
	free(s->buf);
	if (s->pipe_fd[0] >= 0) {
		close(s->pipe_fd[0]);
		close(s->pipe_fd[1]);
	}
}

static int __attribute__((noinline))
scan_run(struct scan *s, uintptr_t here)
{
	struct self_ctx *c;
	uint64_t t0 = mpa_clock_ns();
	int rc = scan_init(s);

	if (rc != 0)
		return rc;
	/* 24 KiB: not on the stack of whichever thread asks for a report. */
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->s = s;
	c->self = (uintptr_t)&scan_run;
	/* Owners first, the most specific first: a label is never replaced. */
	rte_mempool_walk(own_mempool, s);
	own_tailq_mempools(s);
	own_ethdev(s);
	tailq_roots(s);
	own_memzones(s);
	dl_iterate_phdr(module_cb, c);
	tls_offsets(c);
	stack_roots(s, here, c);
	while (s->ngray > 0) {
		uint32_t i = s->gray[--s->ngray];

		scan_range(s, s->recs[i].ptr, s->recs[i].ptr + s->recs[i].size, 0);
	}
	s->st.records = s->n;
	s->st.ns = mpa_clock_ns() - t0;
	free(c);
	return 0;
}

/* ---- cache and API ---------------------------------------------------- */

static pthread_mutex_t reach_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t at_ns;
	uint32_t min_age_ms;
	int n;
	struct mpa_heap_group *g;
	struct mpa_reach_stats st;
} cache;
static int warned;

int
mpa_reach_groups(uint32_t min_age_ms, uint32_t max_stale_ms,
		 struct mpa_heap_group **out, struct mpa_reach_stats *st)
{
	struct scan s;
	int n;

	if (!mpa_heap_active())
		return -ENOTSUP;
	mpa_guard_enter();
	pthread_mutex_lock(&reach_lock);
	if (cache.g == NULL || cache.min_age_ms != min_age_ms ||
	    mpa_clock_ns() - cache.at_ns > (uint64_t)max_stale_ms * 1000000u) {
		n = scan_run(&s, (uintptr_t)__builtin_frame_address(0));
		if (n == 0) {
			struct mpa_heap_group *g = NULL;

			n = mpa_heap_groups_of(s.recs, s.v, s.n, min_age_ms,
					       mpa_heap_now(), &g);
			if (n >= 0) {
				free(cache.g);
				cache.g = g;
				cache.n = n;
				cache.min_age_ms = min_age_ms;
				cache.at_ns = mpa_clock_ns();
				cache.st = s.st;
			}
		}
		scan_fini(&s);
		if (n < 0) {
			/*
			 * No memory for the scan: say so, and list every
			 * group unclassified, each a leak, rather than none.
			 */
			if (!warned) {
				warned = 1;
				MPA_LOG(WARNING, "heap reachability scan failed (%s): heap groups reported unclassified, each a leak",
					strerror(-n));
			}
			n = mpa_heap_groups(min_age_ms, out);
			if (st != NULL)
				memset(st, 0, sizeof(*st));
			goto out;
		}
	}
	n = cache.n;
	*out = malloc(((size_t)n + 1) * sizeof(**out));
	if (*out == NULL)
		n = -ENOMEM;
	else
		memcpy(*out, cache.g, (size_t)n * sizeof(**out));
	/* Growth is a fact of now, not of the cached scan. */
	if (n > 0)
		mpa_growth_mark(*out, n);
	if (st != NULL)
		*st = cache.st;
out:
	pthread_mutex_unlock(&reach_lock);
	mpa_guard_leave();
	return n;
}

int
mpa_reach_is_leak(const struct mpa_heap_group *g)
{
	return g->cls == MPA_HEAP_LOST || g->cls == MPA_HEAP_UNCLASSIFIED ||
	       g->growing;
}

int
mpa_reach_leaks(const struct mpa_heap_group *g, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += mpa_reach_is_leak(&g[i]);
	return k;
}
