/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Stack capture and interning. Everything here may run inside malloc() of
 * any thread, so: tables come from mmap and are never freed, the shared
 * tables are lock-free, the cache is per thread, and no libc function that
 * allocates is called. The only locks taken are the loader's (through
 * libunwind and dl_iterate_phdr(), on a cache miss) and libunwind's own;
 * neither is held by a thread that waits for us.
 */

#define _GNU_SOURCE
#define UNW_LOCAL_ONLY

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libunwind.h>

#include "stack.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() __asm__ volatile("" ::: "memory")
#endif

/*
 * The cache needs the caller's frame address and the stack layout of
 * x86_64 (return address at CFA - 8). Elsewhere every capture unwinds.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#define STACK_CACHE 1
#else
#define STACK_CACHE 0
#endif

/* Shared tables: fixed maxima, reserved lazily (MAP_NORESERVE). */
#define STACKS_MAX (1u << 20)
#define HASH_SLOTS (2u * STACKS_MAX)          /* load factor <= 1/2 */
#define ARENA_CHUNK (4u << 20)
#define ARENA_CHUNKS 1024u                    /* 4 GiB of records */
#define MODULES_MAX 4096u
#define PATHS_BYTES (1u << 20)

/*
 * A hash slot is (high 32 bits of the stack's hash) << 32 | id; 0 is empty.
 * BUSY marks a slot claimed by an inserter that has not published the id
 * yet: the window is a few stores, so a reader of the same tag spins.
 */
#define SLOT_TAG(h) ((h) & 0xffffffff00000000ull)
#define SLOT_BUSY 0xffffffffu
/* Give up (the stack is then not recorded) rather than hang, should the
 * owner never publish: a fork() that caught another thread in the window
 * leaves the child's slot BUSY for good. */
#define BUSY_SPINS (1u << 20)

/* Frames of the tracker itself skipped at most (mpa_stack_setup's self). */
#define SKIP_MAX 32u

static uint64_t *hash_tab;                /* [HASH_SLOTS] */
static struct mpa_stack **stack_tab;      /* [STACKS_MAX + 1], by id */
static uint32_t stack_next;               /* ids handed out */
static char *arena[ARENA_CHUNKS];
static uint64_t arena_used;

struct module_ent {
	struct mpa_module pub;
	uint8_t is_main;
	uint8_t ready;   /* set (release) once pub is filled */
};
static struct module_ent *module_tab;     /* [MODULES_MAX] */
static uint32_t module_next;
static char *path_tab;                    /* [PATHS_BYTES] */
static uint32_t path_used;

static int tables_full;

/*
 * Configuration. mpa_stack_setup() writes it and then bumps the
 * generation; captures read the generation first, so a cache entry is
 * never stored under a generation newer than the settings it was made
 * with.
 */
static unsigned int cfg_depth = MPA_STACK_DEFAULT_DEPTH;
static uintptr_t cfg_self_lo, cfg_self_hi;
static uint32_t cfg_gen = 1;

static __thread int stack_busy __attribute__((tls_model("initial-exec")));
static __thread uint64_t tc_hits __attribute__((tls_model("initial-exec")));
static __thread uint64_t tc_misses __attribute__((tls_model("initial-exec")));

static void
set_full(void)
{
	__atomic_store_n(&tables_full, 1, __ATOMIC_RELAXED);
}

/* Reserve @p len bytes for *@p slot once; the loser of a race unmaps. */
static void *
map_once(void **slot, size_t len)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	void *expect = NULL;

	if (likely(p != NULL))
		return p;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (!__atomic_compare_exchange_n(slot, &expect, p, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		munmap(p, len);
		return expect;
	}
	return p;
}

/* Records are bump-allocated; one that would straddle chunks is retried. */
static void *
arena_alloc(size_t len)
{
	len = (len + 15) & ~(size_t)15;
	for (;;) {
		uint64_t off = __atomic_fetch_add(&arena_used, len,
						  __ATOMIC_RELAXED);
		uint64_t ci = off / ARENA_CHUNK, co = off % ARENA_CHUNK;
		char *c;

		if (ci >= ARENA_CHUNKS)
			return NULL;
		if (co + len > ARENA_CHUNK)
			continue;
		c = map_once((void **)&arena[ci], ARENA_CHUNK);
		if (c == NULL)
			return NULL;
		return c + co;
	}
}

/* ---- modules ------------------------------------------------------------ */

/*
 * Path of the main program, whose link map name is "", written into @p buf
 * (PATH_MAX bytes of the path table: no PATH_MAX buffer on a stack that
 * may be a small thread's, inside malloc). Read when its module is first
 * interned; /proc may be missing, then AT_EXECFN (as given to execve,
 * maybe relative) is the best there is.
 */
static void
exe_path(char *buf)
{
	ssize_t n = readlink("/proc/self/exe", buf, PATH_MAX - 1);
	const char *fn;

	if (n > 0) {
		buf[n] = '\0';
		return;
	}
	fn = (const char *)getauxval(AT_EXECFN);
	buf[0] = '\0';
	if (fn != NULL)
		strncat(buf, fn, PATH_MAX - 1);
}

/*
 * Index of the module (path, bias), added if new. Two threads adding the
 * same module at once may both add it: the copies are equivalent, and a
 * lock here would be one more lock inside malloc.
 */
static uint32_t
module_intern(const char *name, uintptr_t bias, int is_main)
{
	struct module_ent *m = map_once((void **)&module_tab,
					MODULES_MAX * sizeof(*m));
	char *paths = map_once((void **)&path_tab, PATHS_BYTES);
	uint32_t n, idx, off;
	size_t len;

	if (m == NULL || paths == NULL)
		goto full;
	n = __atomic_load_n(&module_next, __ATOMIC_ACQUIRE);
	if (n > MODULES_MAX)
		n = MODULES_MAX;
	for (uint32_t i = 0; i < n; i++) {
		if (!__atomic_load_n(&m[i].ready, __ATOMIC_ACQUIRE))
			continue;
		if (m[i].pub.bias == bias && m[i].is_main == is_main &&
		    (is_main || strcmp(m[i].pub.path, name) == 0))
			return i;
	}
	len = is_main ? PATH_MAX : strlen(name) + 1;
	off = __atomic_fetch_add(&path_used, (uint32_t)len, __ATOMIC_RELAXED);
	if (len > PATHS_BYTES || off > PATHS_BYTES - len)
		goto full;
	if (is_main)
		exe_path(paths + off);
	else
		memcpy(paths + off, name, len);
	idx = __atomic_fetch_add(&module_next, 1, __ATOMIC_ACQ_REL);
	if (idx >= MODULES_MAX)
		goto full;
	m[idx].pub.path = paths + off;
	m[idx].pub.bias = bias;
	m[idx].is_main = (uint8_t)is_main;
	__atomic_store_n(&m[idx].ready, 1, __ATOMIC_RELEASE);
	return idx;
full:
	set_full();
	return UINT32_MAX;
}

const struct mpa_module *
mpa_module_get(uint32_t idx)
{
	struct module_ent *m = __atomic_load_n(&module_tab, __ATOMIC_ACQUIRE);

	if (m == NULL || idx >= MODULES_MAX ||
	    idx >= __atomic_load_n(&module_next, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&m[idx].ready, __ATOMIC_ACQUIRE))
		return NULL;
	return &m[idx].pub;
}

struct resolve_ctx {
	struct mpa_frame *f;
	unsigned int n;
	uint64_t todo;   /* bit per frame not yet resolved */
};

/*
 * One pass over the loaded objects resolves all frames of a stack. A
 * return address may equal the end of its segment (call as the last
 * instruction), hence the closed interval.
 */
static int
resolve_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct resolve_ctx *ctx = arg;
	uint32_t mod = UINT32_MAX;
	int have_mod = 0;

	for (unsigned int i = 0; i < ctx->n; i++) {
		uintptr_t pc = ctx->f[i].pc;
		int hit = 0;

		if (!(ctx->todo & (1ull << i)))
			continue;
		for (int k = 0; k < info->dlpi_phnum && !hit; k++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
			uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

			hit = ph->p_type == PT_LOAD && pc >= lo &&
			      pc <= lo + ph->p_memsz;
		}
		if (!hit)
			continue;
		if (!have_mod) {
			const char *name = info->dlpi_name ? info->dlpi_name : "";
			int is_main = name[0] == '\0' &&
				      (uintptr_t)info->dlpi_phdr ==
				      getauxval(AT_PHDR);

			mod = module_intern(name, info->dlpi_addr, is_main);
			have_mod = 1;
		}
		ctx->f[i].module = mod;
		ctx->f[i].offset = pc - info->dlpi_addr;
		ctx->todo &= ~(1ull << i);
	}
	return ctx->todo == 0;
}

/* ---- interning ---------------------------------------------------------- */

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t
hash_pcs(const uintptr_t *pcs, unsigned int n)
{
	uint64_t h = mix64(n + 0x9e3779b97f4a7c15ull);

	for (unsigned int i = 0; i < n; i++)
		h = mix64(h ^ pcs[i]) + i;
	return h;
}

static int
same_stack(const struct mpa_stack *s, uint64_t h, const uintptr_t *pcs,
	   unsigned int n)
{
	if (s->hash != h || s->depth != n)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		if (s->frames[i].pc != pcs[i])
			return 0;
	return 1;
}

/* A record not yet published: frames and modules filled, no id. */
static struct mpa_stack *
record_new(const uintptr_t *pcs, unsigned int n, uint64_t h)
{
	struct mpa_stack *s = arena_alloc(sizeof(*s) + n * sizeof(s->frames[0]));
	struct resolve_ctx ctx;

	if (s == NULL)
		return NULL;
	s->depth = n;
	s->hash = h;
	for (unsigned int i = 0; i < n; i++) {
		s->frames[i].pc = pcs[i];
		s->frames[i].module = UINT32_MAX;
		s->frames[i].offset = pcs[i];
	}
	ctx.f = s->frames;
	ctx.n = n;
	ctx.todo = n >= 64 ? ~0ull : (1ull << n) - 1;
	dl_iterate_phdr(resolve_cb, &ctx);
	return s;
}

/*
 * Find or add the stack. The record of a new stack is built (modules
 * resolved, which takes the loader's lock) before a slot is claimed, so
 * that the BUSY window never spans a call that can block.
 */
static uint32_t
intern(const uintptr_t *pcs, unsigned int n)
{
	uint64_t *ht = map_once((void **)&hash_tab, HASH_SLOTS * sizeof(*ht));
	struct mpa_stack **tab = map_once((void **)&stack_tab,
					  (STACKS_MAX + 1) * sizeof(*tab));
	uint64_t h = hash_pcs(pcs, n), tag = SLOT_TAG(h);
	uint32_t i = (uint32_t)h & (HASH_SLOTS - 1), probes = 0, spins = 0;
	struct mpa_stack *rec = NULL;

	if (ht == NULL || tab == NULL)
		goto full;
	while (probes < HASH_SLOTS) {
		uint64_t v = __atomic_load_n(&ht[i], __ATOMIC_ACQUIRE);
		uint32_t id;

		if (v == 0) {
			if (rec == NULL) {
				rec = record_new(pcs, n, h);
				if (rec == NULL)
					goto full;
			}
			if (__atomic_load_n(&stack_next, __ATOMIC_RELAXED) >=
			    STACKS_MAX)
				goto full;
			if (!__atomic_compare_exchange_n(&ht[i], &v,
							 tag | SLOT_BUSY, 0,
							 __ATOMIC_ACQUIRE,
							 __ATOMIC_RELAXED))
				continue;   /* look at the winner's slot again */
			id = __atomic_add_fetch(&stack_next, 1,
						__ATOMIC_RELAXED);
			if (id > STACKS_MAX) {
				__atomic_store_n(&ht[i], 0, __ATOMIC_RELEASE);
				goto full;
			}
			rec->id = id;
			__atomic_store_n(&tab[id], rec, __ATOMIC_RELEASE);
			__atomic_store_n(&ht[i], tag | id, __ATOMIC_RELEASE);
			return id;
		}
		if (SLOT_TAG(v) == tag) {
			id = (uint32_t)v;
			if (id == SLOT_BUSY) {
				if (++spins == BUSY_SPINS)
					return MPA_STACK_NONE;
				cpu_relax();
				continue;
			}
			if (same_stack(__atomic_load_n(&tab[id],
						       __ATOMIC_ACQUIRE),
				       h, pcs, n))
				return id;
		}
		i = (i + 1) & (HASH_SLOTS - 1);
		probes++;
	}
full:
	set_full();
	return MPA_STACK_NONE;
}

const struct mpa_stack *
mpa_stack_get(uint32_t id)
{
	struct mpa_stack **tab = __atomic_load_n(&stack_tab, __ATOMIC_ACQUIRE);

	if (id == MPA_STACK_NONE || id > STACKS_MAX || tab == NULL)
		return NULL;
	return __atomic_load_n(&tab[id], __ATOMIC_ACQUIRE);
}

uint32_t
mpa_stack_count(void)
{
	uint32_t n = __atomic_load_n(&stack_next, __ATOMIC_ACQUIRE);

	return n > STACKS_MAX ? STACKS_MAX : n;
}

int
mpa_stack_full(void)
{
	return __atomic_load_n(&tables_full, __ATOMIC_RELAXED);
}

uint32_t
mpa_stack_intern_pcs(const uintptr_t *pcs, unsigned int n)
{
	uint32_t id;

	if (pcs == NULL || n == 0 || stack_busy)
		return MPA_STACK_NONE;
	if (n > MPA_STACK_MAX_DEPTH)
		n = MPA_STACK_MAX_DEPTH;
	stack_busy = 1;
	id = intern(pcs, n);
	stack_busy = 0;
	return id;
}

/* ---- setup -------------------------------------------------------------- */

struct self_ctx {
	uintptr_t addr, lo, hi;
};

/* The span of all loadable segments of the object containing addr. */
static int
self_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self_ctx *ctx = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int hit = 0;

	for (int k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
		if (ctx->addr >= a && ctx->addr < a + ph->p_memsz)
			hit = 1;
	}
	if (!hit)
		return 0;
	ctx->lo = lo;
	ctx->hi = hi;
	return 1;
}

int
mpa_stack_setup(unsigned int depth, const void *self)
{
	struct self_ctx ctx = { .addr = (uintptr_t)self };
	uint32_t gen;

	if (depth < 1 || depth > MPA_STACK_MAX_DEPTH)
		return -EINVAL;
	if (self != NULL)
		dl_iterate_phdr(self_cb, &ctx);
	__atomic_store_n(&cfg_depth, depth, __ATOMIC_RELAXED);
	__atomic_store_n(&cfg_self_lo, ctx.lo, __ATOMIC_RELAXED);
	__atomic_store_n(&cfg_self_hi, ctx.hi, __ATOMIC_RELAXED);
	/* Every cached answer is stale now; 0 is never a valid generation. */
	gen = __atomic_add_fetch(&cfg_gen, 1, __ATOMIC_RELEASE);
	if (gen == 0)
		__atomic_add_fetch(&cfg_gen, 1, __ATOMIC_RELEASE);
	return 0;
}

/* ---- per-thread cache --------------------------------------------------- */

/*
 * An entry answers a capture whose caller had stack pointer @c cfa (the
 * CFA of mpa_stack_capture()) and return address @c ra, provided every
 * recorded slot still holds its value. The slots are the stack words the
 * first unwind read to find the return addresses beyond the caller, and
 * the saved frame pointers of frames whose CFA was computed from the frame
 * pointer: the unwind is a function of the registers at the capture point
 * and of the memory it read, and those are the words it read that can
 * differ between two paths with the same (cfa, ra). When a frame's CFA
 * came from the frame pointer the caller still held, @c rbp is compared
 * too (chk_rbp).
 */
struct tc_slot {
	uintptr_t addr;
	uintptr_t val;
};

struct tc_entry {
	uintptr_t cfa;
	uintptr_t ra;
	uintptr_t rbp;
	uint32_t gen;        /* 0: invalid */
	uint32_t id;
	uint16_t nslot;
	uint8_t chk_rbp;
	struct tc_slot slot[];
};

#define TC_SETS 64u
#define TC_WAYS 4u

struct tcache {
	size_t size;         /* of the mapping */
	uint32_t cap;        /* slots per entry */
	uint32_t stride;     /* bytes per entry */
	uint8_t rr[TC_SETS]; /* next way to replace */
	char entries[] __attribute__((aligned(64)));
};

/* Thread exited and released its cache: capture without one. */
#define TC_DEAD ((struct tcache *)1)

static __thread struct tcache *tc_self __attribute__((tls_model("initial-exec")));
/*
 * The entry of this thread's last hit or fill, tried before the set: a
 * thread mostly repeats its last path, and the ways of a set often share
 * one key (an allocation wrapper called from several places at one
 * depth), a wrong way being found wrong only after its slots up to the
 * first differing one were read. An entry checks itself (key, generation,
 * slots), so one refilled since still answers right; NULL whenever the
 * cache is unmapped.
 */
static __thread const struct tc_entry *tc_last __attribute__((tls_model("initial-exec")));

static pthread_once_t tc_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t tc_key;
static int tc_key_ok;

/*
 * Runs at thread exit. Destructors of other keys may still allocate
 * afterwards; TC_DEAD makes their captures unwind rather than map a new
 * cache that nothing would release. The key's value only says "release";
 * the cache is tc_self (the key may still hold a mapping replaced by a
 * larger one if pthread_setspecific() failed then).
 */
static void
tc_release(void *p)
{
	struct tcache *tc = tc_self;

	(void)p;
	tc_self = TC_DEAD;
	tc_last = NULL;
	if (tc != NULL && tc != TC_DEAD)
		munmap(tc, tc->size);
}

static void
tc_key_init(void)
{
	tc_key_ok = pthread_key_create(&tc_key, tc_release) == 0;
}

/* Slots an entry needs: a return address per frame walked (kept and
 * skipped) and at most as many saved frame pointers. */
static uint32_t
tc_cap_for(unsigned int depth)
{
	return 2 * (depth + 8);
}

static struct tc_entry *
tc_entry(struct tcache *tc, uint32_t set, uint32_t way)
{
	return (struct tc_entry *)(tc->entries +
				   (size_t)(set * TC_WAYS + way) * tc->stride);
}

static uint32_t
tc_set(uintptr_t cfa, uintptr_t ra)
{
	uint64_t h = ((uint64_t)cfa ^ ((uint64_t)ra << 17) ^ (ra >> 7)) *
		     0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 58);   /* log2(TC_SETS) bits */
}

/*
 * The calling thread's cache, made (or remade larger, after the depth was
 * raised) on a miss. pthread_setspecific() may allocate; stack_busy is set
 * by then, so that allocation is not captured.
 */
static struct tcache *
tc_get(unsigned int depth)
{
	struct tcache *tc = tc_self, *old = NULL;
	uint32_t cap = tc_cap_for(depth), stride;
	size_t size;
	void *p;

	if (tc == TC_DEAD)
		return NULL;
	if (tc != NULL) {
		if (tc->cap >= cap)
			return tc;
		old = tc;
	}
	stride = (uint32_t)((sizeof(struct tc_entry) +
			     cap * sizeof(struct tc_slot) + 63) & ~(size_t)63);
	size = sizeof(struct tcache) + (size_t)TC_SETS * TC_WAYS * stride;
	size = (size + 4095) & ~(size_t)4095;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return old;   /* keep the smaller one; deep stacks just miss */
	tc = p;
	tc->size = size;
	tc->cap = cap;
	tc->stride = stride;
	pthread_once(&tc_key_once, tc_key_init);
	if (tc_key_ok)
		pthread_setspecific(tc_key, tc);
	tc_self = tc;
	tc_last = NULL;
	if (old != NULL)
		munmap(old, old->size);
	return tc;
}

/*
 * Compare the recorded slots with the stack as it is now. The slots lie
 * between the caller's frame and the outermost frame recorded, all live
 * frames of this thread's stack (an entry never spans a signal frame).
 */
__attribute__((no_sanitize_address))
static inline int
tc_verify(const struct tc_entry *e)
{
	/*
	 * Stop at the first slot that differs: past it, a slot may lie
	 * beyond the stack the thread now runs on (a coroutine's stack
	 * reused at the same address, say), so the rest are not read.
	 */
	for (uint32_t i = 0; i < e->nslot; i++)
		if (*(const volatile uintptr_t *)e->slot[i].addr !=
		    e->slot[i].val)
			return 0;
	return 1;
}

__attribute__((unused))
static int
tc_add(struct tc_entry *e, uint32_t cap, uintptr_t addr, uintptr_t val)
{
	if (e->nslot >= cap ||
	    *(const volatile uintptr_t *)addr != val)
		return 0;
	e->slot[e->nslot].addr = addr;
	e->slot[e->nslot].val = val;
	e->nslot++;
	return 1;
}

/* ---- capture ------------------------------------------------------------ */

/*
 * Which misses fill the cache. Filling needs unw_step(), which in
 * libunwind 1.6 makes two sigprocmask() calls per frame: about 37 us for
 * 16 frames in our VMs (docs/performance.md). unw_backtrace() gives the
 * same addresses in about 110 ns but not the slots a cache entry needs. So
 * the first FILL_WARMUP misses of a thread fill the cache (the paths a
 * program repeats show up early), and later only one miss in FILL_EVERY:
 * a thread cycling through more paths than the cache holds then pays
 * mostly the fast unwind, and new hot paths still get in.
 */
#define FILL_WARMUP 1024u
#define FILL_EVERY 32u

static __thread uint32_t tc_fills __attribute__((tls_model("initial-exec")));
static __thread uint32_t tc_skips __attribute__((tls_model("initial-exec")));

static int
fill_worth_it(void)
{
	if (tc_fills < FILL_WARMUP || ++tc_skips >= FILL_EVERY) {
		tc_skips = 0;
		tc_fills++;
		return 1;
	}
	return 0;
}

/*
 * The fast miss: unw_backtrace() from here, frames up to the caller's
 * return address dropped, the tracker's own leading frames skipped.
 */
__attribute__((noinline))
static uint32_t
capture_fast(uintptr_t ra)
{
	unsigned int depth = __atomic_load_n(&cfg_depth, __ATOMIC_RELAXED);
	uintptr_t lo = __atomic_load_n(&cfg_self_lo, __ATOMIC_RELAXED);
	uintptr_t hi = __atomic_load_n(&cfg_self_hi, __ATOMIC_RELAXED);
	void *buf[MPA_STACK_MAX_DEPTH + SKIP_MAX + 4];
	uintptr_t pcs[MPA_STACK_MAX_DEPTH];
	unsigned int n = 0, skipped = 0;
	int got, i, skipping = lo < hi;   /* never reset: see capture_miss() */
	uint32_t id = MPA_STACK_NONE;

	stack_busy = 1;
	tc_misses++;
	got = unw_backtrace(buf, (int)(depth + SKIP_MAX + 4));
	for (i = 0; i < got && i < 4; i++)
		if ((uintptr_t)buf[i] == ra)
			break;
	for (; i < got && i < 4 + (int)(depth + SKIP_MAX) && n < depth; i++) {
		uintptr_t ip = (uintptr_t)buf[i];

		if (skipping && ip >= lo && ip <= hi && skipped < SKIP_MAX) {
			skipped++;
			continue;
		}
		pcs[n++] = ip;
	}
	if (n > 0)
		id = intern(pcs, n);
	stack_busy = 0;
	return id;
}

/*
 * The slow path: unwind, intern, and fill a cache entry on the way.
 * noinline so that the frames between unw_getcontext() and the caller of
 * mpa_stack_capture() are exactly this function and mpa_stack_capture().
 */
__attribute__((noinline))
static uint32_t
capture_miss(uintptr_t cfa, uintptr_t ra, uintptr_t rbp, uint32_t gen)
{
	unsigned int depth = __atomic_load_n(&cfg_depth, __ATOMIC_RELAXED);
	uintptr_t lo = __atomic_load_n(&cfg_self_lo, __ATOMIC_RELAXED);
	uintptr_t hi = __atomic_load_n(&cfg_self_hi, __ATOMIC_RELAXED);
	uintptr_t pcs[MPA_STACK_MAX_DEPTH];
	unsigned int n = 0, skipped = 0;
	int skipping = lo < hi;
	struct tc_entry *e = NULL;
	struct tcache *tc = NULL;
	uint32_t id = MPA_STACK_NONE, set = 0;
	unw_context_t uc;
	unw_cursor_t cur;
	unw_word_t ip, sp;

	stack_busy = 1;
	tc_misses++;
	if (STACK_CACHE)
		tc = tc_get(depth);
	if (tc != NULL) {
		/* Prefer a stale way, else replace round robin. */
		uint32_t w;

		set = tc_set(cfa, ra);
		for (w = 0; w < TC_WAYS; w++)
			if (tc_entry(tc, set, w)->gen != gen)
				break;
		if (w == TC_WAYS)
			w = tc->rr[set]++ % TC_WAYS;
		e = tc_entry(tc, set, w);
		e->gen = 0;
		e->nslot = 0;
		e->chk_rbp = 0;
	}

	if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0)
		goto out;
#if STACK_CACHE
	/* Step out of this function and mpa_stack_capture(). */
	for (int k = 0;; k++) {
		if (k == 4 || unw_step(&cur) <= 0 ||
		    unw_get_reg(&cur, UNW_REG_SP, &sp) < 0)
			goto out;
		if (sp >= cfa)
			break;
	}
	if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || sp != cfa || ip != ra)
		e = NULL;   /* not the frame we keyed on: do not cache */
#else
	/* Up to the caller's frame, whether or not mpa_stack_capture() kept
	 * a frame of its own (it may have jumped here). */
	for (int k = 0;; k++) {
		if (k == 4 || unw_step(&cur) <= 0 ||
		    unw_get_reg(&cur, UNW_REG_IP, &ip) < 0)
			goto out;
		if (ip == ra)
			break;
	}
	(void)sp;
#endif

	for (;;) {
#if STACK_CACHE
		unw_word_t f_rbp = 0;
		unw_save_loc_t rbp_loc;
#endif

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		/*
		 * The tracker's frames are dropped wherever they are: leading
		 * (the capture itself) and in the middle, where an interposer
		 * passed the call on (rte_eth_rx_queue_setup -> ours -> DPDK's),
		 * which the application never wrote.
		 */
		if (skipping && ip >= lo && ip <= hi && skipped < SKIP_MAX) {
			skipped++;
		} else {
			pcs[n++] = ip;
			if (n == depth)
				break;
		}
#if STACK_CACHE
		/* A signal frame's return address is not at CFA - 8, and the
		 * frames beyond it are on another stack, maybe. */
		if (e != NULL && (unw_is_signal_frame(&cur) > 0 ||
				  unw_get_reg(&cur, UNW_X86_64_RBP, &f_rbp) < 0 ||
				  unw_get_save_loc(&cur, UNW_X86_64_RBP,
						   &rbp_loc) < 0))
			e = NULL;
#endif
		if (unw_step(&cur) <= 0)
			break;
#if STACK_CACHE
		if (e != NULL) {
			unw_save_loc_t ip_loc;
			unw_word_t nip;

			if (unw_get_reg(&cur, UNW_REG_SP, &sp) < 0 ||
			    unw_get_reg(&cur, UNW_REG_IP, &nip) < 0 ||
			    unw_get_save_loc(&cur, UNW_X86_64_RIP, &ip_loc) < 0 ||
			    ip_loc.type != UNW_SLT_MEMORY ||
			    ip_loc.u.addr < cfa ||
			    !tc_add(e, tc->cap, ip_loc.u.addr, nip)) {
				e = NULL;
				continue;
			}
			/*
			 * The CFA came from the frame pointer: its value must
			 * match too. Saved in a frame beyond the caller: a
			 * slot; still in the register at the capture point
			 * (or saved by us): compare the live value.
			 */
			if (sp != f_rbp + 16)
				continue;
			if (rbp_loc.type == UNW_SLT_MEMORY &&
			    rbp_loc.u.addr >= cfa) {
				if (!tc_add(e, tc->cap, rbp_loc.u.addr, f_rbp))
					e = NULL;
			} else if (f_rbp == rbp) {
				e->chk_rbp = 1;
			} else {
				e = NULL;
			}
		}
#endif
	}
	if (n > 0)
		id = intern(pcs, n);
	if (e != NULL && id != MPA_STACK_NONE) {
		e->cfa = cfa;
		e->ra = ra;
		e->rbp = rbp;
		e->id = id;
		e->gen = gen;
		tc_last = e;
	}
out:
	stack_busy = 0;
	return id;
}

static inline int
tc_match(const struct tc_entry *e, uintptr_t cfa, uintptr_t ra, uintptr_t rbp,
	 uint32_t gen)
{
	return e->cfa == cfa && e->ra == ra && e->gen == gen &&
	       (!e->chk_rbp || e->rbp == rbp) && tc_verify(e);
}

/*
 * The set of (cfa, ra), when @p tried (the last hit's entry) did not
 * answer. Out of line: the common capture repeats the last path and
 * should not pay for this loop's registers.
 */
static __attribute__((noinline)) const struct tc_entry *
tc_probe(struct tcache *tc, const struct tc_entry *tried, uintptr_t cfa,
	 uintptr_t ra, uintptr_t rbp, uint32_t gen)
{
	uint32_t set = tc_set(cfa, ra);

	for (uint32_t w = 0; w < TC_WAYS; w++) {
		const struct tc_entry *e = tc_entry(tc, set, w);

		if (e != tried && tc_match(e, cfa, ra, rbp, gen)) {
			tc_last = e;
			return e;
		}
	}
	return NULL;
}

/*
 * noinline and with a frame pointer (forced by __builtin_frame_address):
 * fp[0] is the caller's frame pointer, fp[1] the return address, fp + 2
 * the caller's stack pointer before the call.
 */
__attribute__((noinline))
uint32_t
mpa_stack_capture(void)
{
	uint32_t gen = __atomic_load_n(&cfg_gen, __ATOMIC_ACQUIRE);

	if (unlikely(stack_busy))
		return MPA_STACK_NONE;   /* a signal handler inside a capture */
#if STACK_CACHE
	const uintptr_t *fp = __builtin_frame_address(0);
	uintptr_t cfa = (uintptr_t)(fp + 2);
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);
	uintptr_t rbp = fp[0];
	struct tcache *tc = tc_self;

	if (likely((uintptr_t)tc > (uintptr_t)TC_DEAD)) {
		const struct tc_entry *e = tc_last;

		if ((e != NULL && tc_match(e, cfa, ra, rbp, gen)) ||
		    (e = tc_probe(tc, e, cfa, ra, rbp, gen)) != NULL) {
			tc_hits++;
			return e->id;
		}
	}
	if (!fill_worth_it())
		return capture_fast(ra);
	return capture_miss(cfa, ra, rbp, gen);
#else
	return capture_miss(0, (uintptr_t)__builtin_return_address(0), 0, gen);
#endif
}

void
mpa_stack_thread_stats(uint64_t *hits, uint64_t *misses)
{
	if (hits != NULL)
		*hits = tc_hits;
	if (misses != NULL)
		*misses = tc_misses;
}
