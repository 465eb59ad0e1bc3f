/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_HEAP_INT_H
#define MPA_HEAP_INT_H

/*
 * Between the heap table (heap.c) and the interposers (heapwrap.c). Every
 * function here may run inside malloc() or free(): none allocates.
 */

#include <stdint.h>

#include "core/guard.h"
#include "heap.h"

/* mpa_heap_state: whether the table is kept at all. */
#define MPA_HEAP_OFF 0      /* MPAUDIT_HEAP=off, bad configuration, not started */
#define MPA_HEAP_ON 1       /* every allocation recorded, frees checked */
#define MPA_HEAP_FAILED 2   /* ran out of memory: off for good */

/* Read on every interposed call; written rarely. */
extern int mpa_heap_state;
/* Tracking on (in scope): new allocations get a stack and are reported. */
extern int mpa_heap_scope;


/** One live allocation: 32 bytes. */
struct mpa_heap_rec {
	uintptr_t ptr;             /* 0 empty, 1 tombstone */
	uint64_t size : 48;
	uint64_t kind : 1;         /* enum mpa_heap_kind */
	uint64_t scope : 1;        /* allocated while tracking: reported */
	uint64_t internal : 1;     /* the tracker's own */
	uint64_t memzone : 1;      /* a memzone; type is then its name */
	uint64_t lcore : 8;        /* EAL lcore, 255 for other threads */
	uint32_t stack;
	uint32_t time_ms;          /* mpa_heap_now() at allocation */
	uint32_t tid;
	uint16_t type;             /* mpa_heap_string() id, 0 = none */
	int16_t socket;
};

/*
 * A record built as four 8-byte words, the layout GCC and Clang give the
 * bit-fields above on x86-64 (the first member in the low bits;
 * test_heap.c checks it against the fields). Built field by field, the
 * compiler stores the bit-fields' word in pieces, and the table's 8- or
 * 16-byte loads of the fresh record then wait for those stores to reach
 * the cache instead of being forwarded from them.
 */
union mpa_heap_rec_words {
	struct mpa_heap_rec r;
	uint64_t w[4];
};

static inline void
mpa_heap_rec_build(union mpa_heap_rec_words *u, uintptr_t ptr, uint64_t size,
		   unsigned int kind, unsigned int scope, unsigned int internal,
		   unsigned int memzone, unsigned int lcore, uint32_t stack,
		   uint32_t time_ms, uint32_t tid, uint16_t type, int16_t socket)
{
	u->w[0] = ptr;
	u->w[1] = (size & ((UINT64_C(1) << 48) - 1)) |
		  (uint64_t)(kind & 1) << 48 | (uint64_t)(scope & 1) << 49 |
		  (uint64_t)(internal & 1) << 50 | (uint64_t)(memzone & 1) << 51 |
		  (uint64_t)(lcore & 0xff) << 52;
	u->w[2] = stack | (uint64_t)time_ms << 32;
	u->w[3] = tid | (uint64_t)type << 32 | (uint64_t)(uint16_t)socket << 48;
}

/** Why a free found no record of its own heap. */
enum mpa_heap_miss_what {
	MPA_MISS_STRAY = 1,        /* never allocated (or freed long ago) */
	MPA_MISS_DOUBLE,           /* freed recently: first_pc freed it */
	MPA_MISS_FOREIGN,          /* the other heap's, or a memzone's */
};

struct mpa_heap_miss {
	enum mpa_heap_miss_what what;
	struct mpa_heap_rec found; /* FOREIGN: the record; DOUBLE: stack/kind */
	uintptr_t first_pc;        /* DOUBLE: the first free's call site */
};

/** Record an allocation (replaces a stale record for the same address). */
void mpa_heap_insert(const struct mpa_heap_rec *r);

/**
 * Remove the record of @p p if it is a @p kind allocation (not a
 * memzone). With @p remember, note the free (at @p pc) for double-free
 * reports.
 *
 * @return 0 with the record in @p out, or -ENOENT with @p miss filled.
 */
int mpa_heap_take(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc,
		  int remember, struct mpa_heap_rec *out,
		  struct mpa_heap_miss *miss);

/**
 * mpa_heap_insert() of the record mpa_heap_rec_build() made: its words
 * in registers, so the record is stored once, where it is kept.
 */
void mpa_heap_insert_words(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3);

/** Note a free done after mpa_heap_take(remember = 0), e.g. a moving realloc. */
void mpa_heap_forget_freed(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc,
			   uint32_t alloc_stack);

/** Remove the memzone record at @p addr. @return 0 or -ENOENT. */
int mpa_heap_take_memzone(uintptr_t addr, struct mpa_heap_rec *out);

/** Keep the table consistent across fork(); once, at start. */
void mpa_heap_atfork(void);

/** Turn the tracker off for good, with the reason (a literal). */
void mpa_heap_fail(const char *why);

/** Depth for the report, the cap on the tables' memory, MPAUDIT_HEAP_TRACK. */
void mpa_heap_configure(uint32_t depth, uint64_t max_mb, int manual);

/**
 * Intern a short string (type, memzone name): id, 0 if none or full.
 * @p literal: @p s never changes (a string literal), so a per-thread cache
 * keyed by its address may answer.
 */
uint16_t mpa_heap_intern(const char *s, int literal);

/** The string of id @p id, or NULL. */
const char *mpa_heap_string(uint16_t id);

/** ms clock for records: the auditor's tick, or the clock if it is not running. */
uint32_t mpa_heap_now(void);

/** Snapshot under a checked name (mpa_heap_snapshot() adds the state check). */
int mpa_heap_snapshot_take(const char *name);

#endif /* MPA_HEAP_INT_H */
