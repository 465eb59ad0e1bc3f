/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <string.h>

#include <rte_spinlock.h>
#include <rte_string_fns.h>

#include "holder.h"
#include "fault.h"
#include "log.h"
#include "ring.h"

/*
 * Interning runs on a per-thread cache miss only (once per call site and
 * port/queue or ring per thread), so one spinlock is enough; it is never
 * held across anything but this table.
 */
static rte_spinlock_t holder_lock = RTE_SPINLOCK_INITIALIZER;
static struct mpa_holder_ent holders[MPA_HOLDERS_MAX];
static uint32_t holder_n; /* published count, read with acquire */
static int holder_full_logged;

/* Open-addressing index over holders[], keyed by the tuple's hash. */
#define HOLDER_HASH_SIZE (2 * MPA_HOLDERS_MAX)
static uint32_t holder_hash[HOLDER_HASH_SIZE];

__thread struct mpa_hcache_ent mpa_hcache[MPA_HCACHE_SIZE]
	__attribute__((tls_model("initial-exec")));

static uint64_t
tuple_hash(uint8_t state, const struct mpa_site *site, uint16_t port,
	   uint16_t queue, const struct rte_ring *ring)
{
	uint64_t h = (uint64_t)(uintptr_t)site * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)state << 48 | (uint64_t)port << 16 | queue) *
	     0xc2b2ae3d27d4eb4full;
	h ^= (uint64_t)(uintptr_t)ring * 0x165667b19e3779f9ull;
	return h ^ (h >> 29);
}

static void
init_bare_states(void)
{
	for (uint32_t st = 1; st < MPA_ST_COUNT; st++) {
		holders[st].state = (uint8_t)st;
		holders[st].port = UINT16_MAX;
		holders[st].queue = UINT16_MAX;
	}
	__atomic_store_n(&holder_n, MPA_ST_COUNT, __ATOMIC_RELEASE);
}

/* Bare states are valid ids before anything is interned. */
RTE_INIT(mpa_holder_init)
{
	rte_spinlock_lock(&holder_lock);
	if (holder_n == 0)
		init_bare_states();
	rte_spinlock_unlock(&holder_lock);
}

uint32_t
mpa_holder_intern(uint8_t state, const struct mpa_site *site, uint16_t port,
		  uint16_t queue, const struct rte_ring *ring)
{
	uint32_t slot, id;

	if (state == MPA_ST_NONE || state >= MPA_ST_COUNT)
		state = MPA_ST_UNKNOWN;
	rte_spinlock_lock(&holder_lock);
	if (holder_n == 0)
		init_bare_states();
	slot = (uint32_t)tuple_hash(state, site, port, queue, ring) %
	       HOLDER_HASH_SIZE;
	for (;;) {
		const struct mpa_holder_ent *e;

		id = holder_hash[slot];
		if (id == 0)
			break;
		e = &holders[id];
		if (e->state == state && e->site == site && e->port == port &&
		    e->queue == queue && e->ring == ring)
			goto out;
		slot = (slot + 1) % HOLDER_HASH_SIZE;
	}
	if (holder_n >= MPA_HOLDERS_MAX || mpa_fault(MPA_FAULT_HOLDER_TABLE)) {
		if (!holder_full_logged) {
			holder_full_logged = 1;
			MPA_LOG(WARNING, "holder table full (%u entries): new call sites are reported by state only",
				MPA_HOLDERS_MAX);
		}
		id = state;
		goto out;
	}
	id = holder_n;
	holders[id].site = site;
	holders[id].ring = ring;
	if (ring != NULL)
		rte_strscpy(holders[id].ring_name, ring->name,
			    sizeof(holders[id].ring_name));
	holders[id].port = port;
	holders[id].queue = queue;
	holders[id].state = state;
	holder_hash[slot] = id;
	__atomic_store_n(&holder_n, id + 1, __ATOMIC_RELEASE);
out:
	rte_spinlock_unlock(&holder_lock);
	if (state == MPA_ST_FREE)
		id |= MPA_HOLDER_FREE_FLAG;
	/* A ring seen by an enqueue wrapper is watched from now on. */
	if (state == MPA_ST_RING && ring != NULL)
		mpa_ring_watch(ring);
	return id;
}

const struct mpa_holder_ent *
mpa_holder_get(uint32_t id)
{
	id &= ~MPA_HOLDER_FREE_FLAG;
	if (id == 0 || id >= __atomic_load_n(&holder_n, __ATOMIC_ACQUIRE))
		return NULL;
	return &holders[id];
}

uint8_t
mpa_holder_state(uint32_t id)
{
	const struct mpa_holder_ent *e;

	if (id == 0)
		return MPA_ST_NONE;
	e = mpa_holder_get(id);
	return e != NULL ? e->state : MPA_ST_UNKNOWN;
}

uint32_t
mpa_holder_count(void)
{
	return __atomic_load_n(&holder_n, __ATOMIC_ACQUIRE);
}

const char *
mpa_site_file(const char *file)
{
	if (file == NULL)
		return "?";
	for (;;) {
		if (strncmp(file, "./", 2) == 0)
			file += 2;
		else if (strncmp(file, "../", 3) == 0)
			file += 3;
		else
			return file;
	}
}
