/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>
#include <pcap/pcap.h>
#include <rte_mbuf.h>

#include "core/pool.h"
#include "core/scan.h"
#include "pcap.h"
#include "query/query.h"
#include "report.h"

/* The segments a chain may have (rte_mbuf nb_segs is 16 bits). */
#define SEGS_MAX UINT16_MAX

/* What one pass over the stuck objects writes, and where. */
struct writer {
	pcap_dumper_t *dump;
	json_t *packets;
	uint8_t *buf;
	struct timeval now;
	struct mpa_pcap_result *res;
	int failed;
};

/* The audited mbuf pool @p m is an object of, or NULL. */
static const struct mpa_pool *
pool_of_mbuf(const void *m)
{
	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++) {
		const struct mpa_pool *p = mpa_pool_slot(i);

		if (p != NULL && p->addrs != NULL && p->is_mbuf &&
		    mpa_locator_find(&p->loc, (uintptr_t)m) >= 0)
			return p;
	}
	return NULL;
}

/*
 * Where a segment's data lies, checked: in the buffer of an audited mbuf
 * (its own, or for an indirect mbuf the one it is attached to), within
 * that buffer's length. @return the data, or NULL (not copied).
 */
static const uint8_t *
segment_data(const struct rte_mbuf *m)
{
	const struct rte_mbuf *owner = m;
	const struct mpa_pool *p;
	uint16_t priv;

	if (m->ol_flags & RTE_MBUF_F_EXTERNAL)
		return NULL;   /* an external buffer: nothing to check it by */
	if (RTE_MBUF_CLONED(m)) {
		owner = NULL;
		for (unsigned int i = 0; i < MPA_POOLS_MAX && owner == NULL; i++) {
			const struct mpa_pool *q = mpa_pool_slot(i);
			uintptr_t o;

			if (q == NULL || q->addrs == NULL || !q->is_mbuf)
				continue;
			o = (uintptr_t)m->buf_addr - sizeof(struct rte_mbuf) -
			    rte_pktmbuf_priv_size(q->mp);
			if (mpa_locator_find(&q->loc, o) >= 0)
				owner = (const struct rte_mbuf *)o;
		}
		if (owner == NULL)
			return NULL;
	}
	p = pool_of_mbuf(owner);
	if (p == NULL)
		return NULL;
	priv = rte_pktmbuf_priv_size(p->mp);
	if ((const uint8_t *)m->buf_addr != (const uint8_t *)owner +
	    sizeof(struct rte_mbuf) + priv ||
	    m->buf_len > rte_pktmbuf_data_room_size(p->mp) ||
	    (uint32_t)m->data_off + m->data_len > m->buf_len)
		return NULL;
	return (const uint8_t *)m->buf_addr + m->data_off;
}

/*
 * Copy a chain into @p buf, following next only to audited mbufs.
 * @return bytes copied; *cut set if anything was left out.
 */
static uint32_t
copy_chain(const struct rte_mbuf *m, uint8_t *buf, uint32_t *segs, int *cut)
{
	uint32_t len = 0;

	*segs = 0;
	*cut = 0;
	while (m != NULL) {
		const uint8_t *data = segment_data(m);
		uint32_t n = m->data_len;

		if (data == NULL) {
			*cut = 1;
			break;
		}
		if (n > MPA_PCAP_SNAPLEN - len) {
			n = MPA_PCAP_SNAPLEN - len;
			*cut = 1;
		}
		memcpy(buf + len, data, n);
		len += n;
		(*segs)++;
		if (*cut || *segs == SEGS_MAX)
			break;
		m = m->next;
		if (m != NULL && pool_of_mbuf(m) == NULL) {
			*cut = 1;
			break;
		}
	}
	return len;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v != NULL ? json_string(v) : json_null());
}

static void
set_int(json_t *o, const char *k, int64_t v, int valid)
{
	json_object_set_new(o, k, valid ? json_integer(v) : json_null());
}

/* The sidecar entry: whose the packet is, as the stuck groups say. */
static json_t *
describe(const struct mpa_stuck_obj *o, const struct rte_mbuf *m,
	 uint32_t len, uint32_t segs, int cut)
{
	struct mpa_query_holder h;
	json_t *e = json_object();
	char addr[24];

	if (e == NULL)
		return NULL;
	mpa_query_holder(&h, o->pool->name, o->key.state, o->key.lcore,
			 o->key.holder);
	mpa_report_holder_json(e, &h);
	set_int(e, "age_ms", o->age_ms, 1);
	snprintf(addr, sizeof(addr), "0x%" PRIxPTR, (uintptr_t)o->obj);
	set_str(e, "address", addr);
	set_int(e, "pkt_len", m->pkt_len, 1);
	set_int(e, "captured", len, 1);
	set_int(e, "segments", segs, 1);
	json_object_set_new(e, "truncated", json_boolean(cut));
	return e;
}

static void
write_one(const struct mpa_stuck_obj *o, void *arg)
{
	struct writer *w = arg;
	const struct rte_mbuf *m = o->obj;
	struct pcap_pkthdr hdr;
	uint32_t len, segs;
	json_t *e;
	int cut;

	if (w->failed)
		return;
	if (!o->pool->is_mbuf) {
		w->res->not_mbufs++;
		return;
	}
	len = copy_chain(m, w->buf, &segs, &cut);
	/* Time stamped when the holding began: age before now. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.ts.tv_sec = w->now.tv_sec - o->age_ms / 1000;
	hdr.ts.tv_usec = w->now.tv_usec - (long)(o->age_ms % 1000) * 1000;
	if (hdr.ts.tv_usec < 0) {
		hdr.ts.tv_usec += 1000000;
		hdr.ts.tv_sec--;
	}
	hdr.caplen = len;
	hdr.len = m->pkt_len > len ? m->pkt_len : len;
	e = describe(o, m, len, segs, cut);
	if (e == NULL || json_array_append_new(w->packets, e) != 0) {
		w->failed = -ENOMEM;
		return;
	}
	pcap_dump((u_char *)w->dump, &hdr, w->buf);
	w->res->packets++;
	w->res->bytes += len;
	w->res->truncated += cut;
}

/* Create @p path, failing if it exists: never through a planted link. */
static FILE *
create(const char *path, int *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0644);
	FILE *f;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	f = fdopen(fd, "wb");
	if (f == NULL) {
		*err = -errno;
		close(fd);
		unlink(path);
	}
	return f;
}

int
mpa_pcap_write_locked(const char *dir, const char *name,
		      struct mpa_pcap_result *res)
{
	struct writer w = { .res = res };
	pcap_t *dead = NULL;
	FILE *pf = NULL, *jf = NULL;
	json_t *root = NULL;
	int rc = 0, made_pcap = 0, made_json = 0;

	memset(res, 0, sizeof(*res));
	if ((size_t)snprintf(res->path, sizeof(res->path), "%s/%s.pcap", dir,
			     name) >= sizeof(res->path) ||
	    (size_t)snprintf(res->sidecar, sizeof(res->sidecar), "%s/%s.json",
			     dir, name) >= sizeof(res->sidecar))
		return -ENAMETOOLONG;
	w.buf = malloc(MPA_PCAP_SNAPLEN);
	w.packets = json_array();
	root = json_object();
	dead = pcap_open_dead(DLT_EN10MB, MPA_PCAP_SNAPLEN);
	if (w.buf == NULL || w.packets == NULL || root == NULL || dead == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	pf = create(res->path, &rc);
	if (pf == NULL)
		goto out;
	made_pcap = 1;
	jf = create(res->sidecar, &rc);
	if (jf == NULL)
		goto out_unlink;
	made_json = 1;
	w.dump = pcap_dump_fopen(dead, pf);
	if (w.dump == NULL) {
		rc = -EIO;
		goto out_unlink;
	}
	pf = NULL;   /* the dumper owns it now */
	gettimeofday(&w.now, NULL);
	mpa_scan_foreach_stuck_locked(write_one, &w);
	if (pcap_dump_flush(w.dump) != 0)
		rc = -EIO;
	pcap_dump_close(w.dump);
	w.dump = NULL;
	if (w.failed != 0 || rc != 0) {
		rc = w.failed != 0 ? w.failed : rc;
		goto out_unlink;
	}
	json_object_set_new(root, "pcap", json_string(res->path));
	json_object_set_new(root, "scan", json_integer((json_int_t)mpa_scan_stats()->scans));
	json_object_set_new(root, "stuck_ms", json_integer(mpa_scan_result()->stuck_ms));
	json_object_set_new(root, "packets", w.packets);
	w.packets = NULL;
	if (json_dumpf(root, jf, JSON_INDENT(2)) != 0 || fputc('\n', jf) == EOF ||
	    fflush(jf) != 0) {
		rc = -EIO;
		goto out_unlink;
	}
	if (fclose(jf) != 0) {
		jf = NULL;
		rc = -EIO;
		goto out_unlink;
	}
	jf = NULL;
	goto out;
out_unlink:
	/* Only what this call created: an existing file is never touched. */
	if (made_pcap)
		unlink(res->path);
	if (made_json)
		unlink(res->sidecar);
	memset(res, 0, sizeof(*res));
out:
	if (w.dump != NULL)
		pcap_dump_close(w.dump);
	if (pf != NULL)
		fclose(pf);
	if (jf != NULL)
		fclose(jf);
	if (dead != NULL)
		pcap_close(dead);
	json_decref(root);
	json_decref(w.packets);
	free(w.buf);
	return rc;
}
