/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Build-time generator of demo.pcap, the capture that mpaudit-fwd replays
 * on its default net_pcap port. The frames are synthesised rather than
 * shipped as a binary file, so the repository stays text-only and the
 * content is documented by this code.
 *
 * Output: MKPCAP_NB_FRAMES Ethernet/IPv4/UDP frames, every one distinct
 * (its own UDP source port, IP id and destination address), with lengths
 * spread evenly from MKPCAP_MIN_LEN to MKPCAP_MAX_LEN bytes. Timestamps are
 * fixed, so two builds produce byte-identical files.
 *
 * Usage: mkpcap OUTPUT
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#define MKPCAP_NB_FRAMES 64
#define MKPCAP_MIN_LEN 64	/* bytes, Ethernet frame without FCS */
#define MKPCAP_MAX_LEN 512
#define MKPCAP_SNAPLEN 65535
/* 2026-01-01T00:00:00Z: any fixed value keeps the output reproducible. */
#define MKPCAP_EPOCH_S 1767225600
#define MKPCAP_GAP_US 10	/* spacing between frame timestamps */

#define ETH_HDR_LEN 14
#define IP4_HDR_LEN 20
#define UDP_HDR_LEN 8
#define ETH_TYPE_IPV4 0x0800
#define IP_PROTO_UDP 17
#define IP_TTL_DEFAULT 64
#define UDP_PORT_DISCARD 9	/* RFC 863: nobody will answer it */
#define UDP_SPORT_BASE 1024

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* RFC 1071 checksum of the IPv4 header (even length). */
static uint16_t
ip4_cksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i += 2)
		sum += (uint32_t)(hdr[i] << 8 | hdr[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Build frame @p i of @p len bytes into @p f. */
static void
build_frame(uint8_t *f, unsigned int i, unsigned int len)
{
	/* Locally administered unicast MACs: never a real vendor's. */
	static const uint8_t dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	static const uint8_t src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	uint8_t *ip = f + ETH_HDR_LEN;
	uint8_t *udp = ip + IP4_HDR_LEN;
	unsigned int j;

	memset(f, 0, len);
	memcpy(f, dst_mac, sizeof(dst_mac));
	memcpy(f + 6, src_mac, sizeof(src_mac));
	put16(f + 12, ETH_TYPE_IPV4);

	ip[0] = 0x45;	/* version 4, 5 words of header */
	put16(ip + 2, (uint16_t)(len - ETH_HDR_LEN));
	put16(ip + 4, (uint16_t)i);	/* id */
	ip[8] = IP_TTL_DEFAULT;
	ip[9] = IP_PROTO_UDP;
	put32(ip + 12, 0xc0000201);	/* 192.0.2.1, TEST-NET-1 (RFC 5737) */
	put32(ip + 16, 0xc6336400 | i);	/* 198.51.100.i, TEST-NET-2 */
	put16(ip + 10, ip4_cksum(ip, IP4_HDR_LEN));

	put16(udp, (uint16_t)(UDP_SPORT_BASE + i));
	put16(udp + 2, UDP_PORT_DISCARD);
	put16(udp + 4, (uint16_t)(len - ETH_HDR_LEN - IP4_HDR_LEN));
	/* UDP checksum 0: optional over IPv4, and nothing verifies it. */

	/* A payload pattern tied to the frame index, to tell frames apart. */
	for (j = ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN; j < len; j++)
		f[j] = (uint8_t)(i + j);
}

int
main(int argc, char **argv)
{
	uint8_t frame[MKPCAP_MAX_LEN];
	struct pcap_pkthdr hdr;
	pcap_dumper_t *dumper;
	pcap_t *dead;
	unsigned int i;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTPUT\n", argv[0]);
		return 2;
	}

	dead = pcap_open_dead(DLT_EN10MB, MKPCAP_SNAPLEN);
	if (dead == NULL) {
		fprintf(stderr, "mkpcap: pcap_open_dead failed\n");
		return 1;
	}
	dumper = pcap_dump_open(dead, argv[1]);
	if (dumper == NULL) {
		fprintf(stderr, "mkpcap: cannot create %s: %s\n", argv[1],
			pcap_geterr(dead));
		goto out;
	}

	for (i = 0; i < MKPCAP_NB_FRAMES; i++) {
		unsigned int len = MKPCAP_MIN_LEN +
			i * (MKPCAP_MAX_LEN - MKPCAP_MIN_LEN) /
			(MKPCAP_NB_FRAMES - 1);
		unsigned long us = (unsigned long)i * MKPCAP_GAP_US;

		build_frame(frame, i, len);
		memset(&hdr, 0, sizeof(hdr));
		hdr.ts.tv_sec = MKPCAP_EPOCH_S + us / 1000000;
		hdr.ts.tv_usec = us % 1000000;
		hdr.caplen = len;
		hdr.len = len;
		pcap_dump((u_char *)dumper, &hdr, frame);
	}

	/* pcap_dump() reports nothing: write errors only show up here. */
	if (pcap_dump_flush(dumper) != 0) {
		fprintf(stderr, "mkpcap: cannot write %s: %s\n", argv[1],
			strerror(errno));
		pcap_dump_close(dumper);
		goto out;
	}
	pcap_dump_close(dumper);
	rc = 0;
out:
	pcap_close(dead);
	return rc;
}
