/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_PCAP_H
#define MPA_PCAP_H

/*
 * The contents of the stuck mbufs, as a capture: NAME.pcap (libpcap,
 * Ethernet, whole multi-segment chains, up to 65535 bytes a packet) and
 * NAME.json beside it, which says for packet i (0-based, in file order)
 * whose it is: pool, state, lcore, port, queue, ring, site, age. Both go
 * to MPAUDIT_PCAP_DIR only; the name is checked by the caller.
 *
 * Reading an mbuf someone else holds is reading memory the auditor does
 * not own: every segment is checked to be an object of an audited mbuf
 * pool and its data to lie inside that object's buffer before a byte is
 * copied, so a corrupt chain gives a packet marked "truncated", never a
 * fault. The copy is taken under the registry lock, right after a scan.
 */

#include <stdint.h>

/** Largest packet written; longer chains are cut (and marked). */
#define MPA_PCAP_SNAPLEN 65535u

struct mpa_pcap_result {
	uint32_t packets;       /**< written */
	uint64_t bytes;         /**< packet bytes written */
	uint32_t truncated;     /**< packets cut or with unreadable segments */
	uint32_t not_mbufs;     /**< stuck objects of pools that hold no mbufs */
	char path[4200];        /**< the capture */
	char sidecar[4200];     /**< the JSON beside it */
};

/**
 * Write the stuck mbufs of the latest scan; caller holds the registry
 * lock and the allocation guard.
 * @return 0, or a negative errno (-EEXIST: a file of that name exists;
 *   nothing is left behind on failure).
 */
int mpa_pcap_write_locked(const char *dir, const char *name,
			  struct mpa_pcap_result *res);

#endif /* MPA_PCAP_H */
