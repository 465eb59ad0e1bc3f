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
