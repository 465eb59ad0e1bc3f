/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_HEAP_H
#define MPA_HEAP_H

/*
 * Heap tracking: one record per live allocation of the rte_malloc heap
 * (rte_malloc family and memzones) and of libc, kept in a table sharded by
 * address with one small lock per shard (no global lock on the allocation
 * path), except a thread's own libc allocations, kept in a per-thread
 * magazine that the thread changes without a lock (heap.c). Records come
 * from mmap, never from malloc.
 *
 * Every allocation is recorded from the first one in the process, so a
 * free can always be checked: a pointer not in the table was never
 * allocated (stray free), was freed already (double free: a small ring per
 * shard remembers recent frees and where they happened), or belongs to the
 * other heap (foreign free). Such frees are reported and not passed on.
 *
 * Only allocations made while tracking is on ("in scope", by default from
 * the end of rte_eal_init()) carry a stack and are reported; the tracker's
 * own allocations are marked internal and never reported.
 *
 * The interposers are in heapwrap.c; this module keeps the table and
 * answers the report, snapshot and diff questions.
 */

#include <stdint.h>
#include <stddef.h>

enum mpa_heap_kind {
	MPA_HEAP_LIBC = 0,
	MPA_HEAP_RTE = 1,   /* rte_malloc family and memzones */
	MPA_HEAP_KINDS
};

/** Report name of a kind: "libc" or "rte_malloc". */
const char *mpa_heap_kind_name(enum mpa_heap_kind kind);

/**
 * What holds an outstanding allocation, as the reachability scan
 * (reach.c) found it. Only MPA_HEAP_LOST is a leak, the best class first.
 */
enum mpa_heap_class {
	MPA_HEAP_UNCLASSIFIED = 0, /**< not scanned (snapshots, diffs) */
	MPA_HEAP_LOST,             /**< no pointer to it anywhere we look */
	MPA_HEAP_REACHABLE,        /**< a pointer found from a root */
	MPA_HEAP_OWNED,            /**< memory of a live DPDK object */
	MPA_HEAP_CLASSES
};

/** Report name of a class: "lost", "reachable", "owned" (NULL if none). */
const char *mpa_heap_class_name(enum mpa_heap_class cls);

/** Outstanding in-scope allocations sharing one (kind, stack[, class]). */
struct mpa_heap_group {
	enum mpa_heap_kind kind;
	uint32_t stack;          /**< stack id (stack.h), MPA_STACK_NONE if none */
	enum mpa_heap_class cls; /**< MPA_HEAP_UNCLASSIFIED unless classified */
	const char *owner;       /**< OWNED: the DPDK object of the sample */
	int growing;             /**< the stack's bytes keep growing (reach.c) */
	uint64_t bytes;
	uint64_t count;
	uint32_t max_age_ms;
	uintptr_t sample;        /**< address of the oldest allocation */
	const char *type;        /**< rte_malloc type string of the sample, or NULL */
	const char *memzone;     /**< memzone name of the sample, or NULL */
	int socket;              /**< requested socket of the sample, -1 = any */
	uint64_t lcores;         /**< bit per EAL lcore < 64 that allocated */
	uint32_t non_eal;        /**< allocations made by non-EAL threads */
};

struct mpa_heap_stats {
	int active;              /**< tracker recording (not disabled) */
	int tracking;            /**< in scope now */
	const char *disabled;    /**< why the tracker stopped, or NULL */
	uint32_t depth;
	uint64_t live_count[MPA_HEAP_KINDS];   /**< in-scope, outstanding */
	uint64_t live_bytes[MPA_HEAP_KINDS];
	uint64_t allocs[MPA_HEAP_KINDS];       /**< in-scope allocations seen */
	uint64_t frees[MPA_HEAP_KINDS];
	uint64_t records;        /**< all records, internal and out of scope too */
	uint32_t stacks;         /**< distinct stacks interned */
	uint64_t table_bytes;    /**< the tracker's own memory */
	uint32_t snapshots;
};

/** Counters and state; walks every shard (control plane). */
void mpa_heap_stats(struct mpa_heap_stats *st);

/** @return 1 if the tracker records (not off, not failed): one load. */
int mpa_heap_active(void);

/** @return 1 if allocations made now are in scope (reported). */
int mpa_heap_tracking(void);

/**
 * Outstanding in-scope allocations at least @p min_age_ms old, grouped by
 * (kind, stack), sorted by bytes then count, largest first.
 *
 * @param out
 *   Set to an array (free() it) of the groups.
 * @return number of groups, or negative errno (-ENOTSUP: not active).
 */
int mpa_heap_groups(uint32_t min_age_ms, struct mpa_heap_group **out);

/**
 * In-scope allocations left out of every group because they are the
 * dynamic loader's (stacks through ld.so: thread TLS blocks, link maps).
 * live_count = the groups' counts + these. @return 0 or -ENOTSUP.
 */
int mpa_heap_runtime(uint64_t count[MPA_HEAP_KINDS], uint64_t bytes[MPA_HEAP_KINDS]);

/** One (kind, stack) of a snapshot difference. */
struct mpa_heap_delta {
	enum mpa_heap_kind kind;
	uint32_t stack;
	uint64_t bytes_from, bytes_to;
	uint64_t count_from, count_to;
	int64_t bytes_delta, count_delta;
};

/** "new", "grown", "shrunk", "gone" or "same". */
const char *mpa_heap_change_name(const struct mpa_heap_delta *d);

/**
 * Differences between snapshots @p from and @p to (NULL or "now": the
 * outstanding set now), every (kind, stack) whose bytes or count changed,
 * sorted by bytes_delta, largest growth first.
 *
 * @param out
 *   Set to an array (free() it).
 * @return number of entries, -ENOENT if a snapshot is unknown, -ENOTSUP.
 */
int mpa_heap_diff(const char *from, const char *to, struct mpa_heap_delta **out);

/*
 * For the reachability scan (reach.c): a copy of the records, then the
 * groups of that copy once each record has its class.
 */
struct mpa_heap_rec;

/**
 * Copy every live record that is not the tracker's own, in or out of
 * scope, sorted by address. @return how many (free() *out), or negative
 * errno.
 */
int mpa_heap_copy_records(struct mpa_heap_rec **out);

/** Class of one copied record, and its owner's label (or NULL). */
struct mpa_heap_verdict {
	uint8_t cls;             /**< enum mpa_heap_class */
	const char *owner;
};

/**
 * The groups of @p n copied records, split by class as @p v says (one
 * verdict per record), at least @p min_age_ms old at @p now: like
 * mpa_heap_groups(), leaks (lost) first.
 */
int mpa_heap_groups_of(const struct mpa_heap_rec *recs,
		       const struct mpa_heap_verdict *v, uint32_t n,
		       uint32_t min_age_ms, uint32_t now,
		       struct mpa_heap_group **out);

/** Snapshot names, oldest first; @return how many (<= @p max). */
int mpa_heap_snapshot_names(const char *names[], int max);

/** Drop a snapshot. @return 0 or -ENOENT. */
int mpa_heap_snapshot_drop(const char *name);

/*
 * Used by the report and by mpaudit.c.
 */

/** Called at the end of rte_eal_init(): apply MPAUDIT_HEAP_TRACK=init. */
void mpa_heap_eal_ready(void);

/** Log, once, why the tracker turned itself off (control thread). */
void mpa_heap_poll(void);

#endif /* MPA_HEAP_H */
