/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_STACK_H
#define MPA_STACK_H

/*
 * Call stacks of heap allocations, captured on the allocation path and
 * interned: each distinct stack gets a small id once, and an allocation
 * record keeps only that id.
 *
 * Capture must be cheap and safe inside malloc():
 *  - it never calls malloc (tables come from mmap) and takes no lock that
 *    an allocation path could already hold;
 *  - a per-thread cache keyed by the stack pointer and return address at
 *    the capture point answers repeated call paths without unwinding; an
 *    answer is verified by re-reading the return-address slots the first
 *    unwind found, so a different path never borrows another's stack;
 *  - a miss unwinds with libunwind (DWARF CFI, correct without frame
 *    pointers) and interns the result in a lock-free table.
 *
 * Each frame is kept as (module, offset) as well as its address: the
 * module's path and load address are captured when the stack is first
 * interned, so a module dlclose()d later still symbolises (symbol.c).
 */

#include <stdint.h>

#include "core/config.h"

/** Deepest stack kept, and the default: MPAUDIT_HEAP_DEPTH's bounds. */
#define MPA_STACK_MAX_DEPTH MPA_MAX_HEAP_DEPTH
#define MPA_STACK_DEFAULT_DEPTH MPA_DEFAULT_HEAP_DEPTH

/** Stack id 0: no stack (capture off, failed, or tables full). */
#define MPA_STACK_NONE 0u

/** One frame: a return address (the innermost frame: the call site). */
struct mpa_frame {
	uintptr_t pc;       /**< address as captured */
	uint32_t module;    /**< index for mpa_module_get(), UINT32_MAX if none */
	uintptr_t offset;   /**< pc relative to the module's load bias */
};

/** An interned stack. Immutable once published. */
struct mpa_stack {
	uint32_t id;
	uint32_t depth;               /**< frames kept, <= MPA_STACK_MAX_DEPTH */
	uint64_t hash;
	struct mpa_frame frames[];    /**< innermost first */
};

/** A module (executable or shared object) seen in some stack. */
struct mpa_module {
	const char *path;   /**< absolute path as the loader knew it ("" = main program resolved via /proc/self/exe) */
	uintptr_t bias;     /**< load bias (l_addr) */
};

/**
 * Set the depth kept for stacks captured from now on (1..MPA_STACK_MAX_DEPTH)
 * and the code range to skip: leading frames whose pc lies in the module
 * that contains @p self (the tracker's own code) are dropped, so frame 0
 * is the application's call site. With @p self NULL only the frame of
 * mpa_stack_capture() itself is dropped: frame 0 is its caller's call
 * site. Safe to call before any other function, and from inside malloc.
 * Every call (even with unchanged settings) invalidates the per-thread
 * caches, so captures that follow unwind once more.
 *
 * @return 0, or -EINVAL for a bad depth.
 */
int mpa_stack_setup(unsigned int depth, const void *self);

/**
 * Capture the calling thread's stack and intern it.
 * Never allocates with malloc; may mmap when a table grows.
 *
 * @return the stack id, or MPA_STACK_NONE if it could not be captured or
 *   the tables are full (mpa_stack_full() then returns 1).
 */
uint32_t mpa_stack_capture(void);

/**
 * Intern a stack given as addresses (innermost first), e.g. the single
 * return address remembered for a free. Resolves modules as capture does.
 * At most MPA_STACK_MAX_DEPTH addresses are kept (not the setup depth).
 * An address in no loaded object gets module UINT32_MAX and offset = pc.
 *
 * @return the stack id, or MPA_STACK_NONE.
 */
uint32_t mpa_stack_intern_pcs(const uintptr_t *pcs, unsigned int n);

/** @return the stack with id @p id, or NULL. Lock-free. */
const struct mpa_stack *mpa_stack_get(uint32_t id);

/** @return the module with index @p idx, or NULL. */
const struct mpa_module *mpa_module_get(uint32_t idx);

/** @return 1 once the stack or module tables could not grow. */
int mpa_stack_full(void);

/** Stacks interned so far. */
uint32_t mpa_stack_count(void);

/**
 * The calling thread's capture statistics: answers from its cache and
 * captures that unwound (for tests and benchmarks; either may be NULL).
 * Added with stack.c; not part of the original contract.
 */
void mpa_stack_thread_stats(uint64_t *hits, uint64_t *misses);

#endif /* MPA_STACK_H */
