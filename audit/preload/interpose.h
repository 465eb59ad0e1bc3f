/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_INTERPOSE_H
#define MPA_INTERPOSE_H

/*
 * libmpaudit_preload.so only: the next definition of a DPDK function it
 * interposes (preload.c, heapwrap.c). libc's allocator is looked up
 * apart, in heapwrap.c, because dlsym() itself may allocate then.
 */

/**
 * The next definition of @p name (dlsym(RTLD_NEXT)), cached in @p slot.
 * Aborts if there is none: only a program that calls it gets here, and
 * it cannot go on without it.
 */
void *mpa_next_sym(void **slot, const char *name);

/** The next definition of @p fn, typed as @p fn. */
#define MPA_NEXT(fn) ({ \
	static void *next_##fn; \
	(__typeof__(&fn))mpa_next_sym(&next_##fn, #fn); })

#endif /* MPA_INTERPOSE_H */
