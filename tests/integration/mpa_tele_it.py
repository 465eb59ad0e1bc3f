#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Integration tests of the /mpaudit/ telemetry commands.

Usage: mpa_tele_it.py TEST --fwd PATH --fwd-plain PATH --preload LIB
                        --heapleak PATH

Each test starts a program (the instrumented mpaudit-fwd, or the plain
one or heapleak under LD_PRELOAD=LIB), talks to its DPDK telemetry socket
while it runs, and compares the replies with the ground truth the program
prints and with the auditor's final JSON report, which the telemetry
traffic (bad requests included) must leave unchanged. Helpers (the
telemetry client among them) come from mpa_lib.py. EAL memory arguments
come from MPA_EAL_MEM (set by ./run; default "--no-huge -m 512"). Exit
status 0 pass, 1 fail.
Standard library only.
"""

import argparse
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpa_lib import (  # noqa: E402
    DEFAULT_EAL_MEM, FWD_POOL, FWD_POOL_SIZE, Failed, LCORES_IO,
    LCORES_PIPELINE, LEAK_ENV, NULL_PORTS, PRELOAD_LEAK_ARGS, READY_S,
    SMALL_LEAK_ARGS, SMALL_LEAK_TOTAL, STUCK_MS, STUCK_WAIT_S, TCtx,
    TELE_LEAK_ARGS, TELE_LEAK_TOTAL, check_exit, check_fwd_selfcheck,
    check_groups_exact, check_summary, heapleak_truth, key_of, key_str,
    log_lines, null_vdevs, preload_truth, read_text, report_groups, run_case,
    session, stop_at_end,
    tele_group_key, truth_groups, wait_forwarding, wait_stuck, wait_text)

# The commands of audit/surface/telemetry.c, and what its pages hold.
COMMANDS = ["/mpaudit/summary", "/mpaudit/pools", "/mpaudit/stuck",
            "/mpaudit/errors", "/mpaudit/heap", "/mpaudit/heap_track",
            "/mpaudit/heap_snapshot", "/mpaudit/heap_diff",
            "/mpaudit/heap_drop", "/mpaudit/dump", "/mpaudit/config",
            "/mpaudit/sites", "/mpaudit/history", "/mpaudit/pcap"]
POOLS_PER_PAGE = 32
STUCK_PER_PAGE = 20
ERRORS_PER_PAGE = 20
SITES_PER_PAGE = 20
HISTORY_PER_PAGE = 240
HEAP_PER_PAGE = 8
HEAP_GROUPS_PER_PAGE = 7   # groups carry class and owner too
HEAP_FRAMES = 6
SNAPSHOTS_MAX = 16
# DPDK 22.11's reply buffer, announced in the greeting.
MAX_OUTPUT_LEN = 16384

# What PRELOAD_LEAK_ARGS (mpa_lib.py) leaves stuck.
PRELOAD_LEAK_TOTAL = 40 + 16 + 24


# ---- checks ---------------------------------------------------------------

def check_greeting(c, t):
    c.eq("greeting max_output_len", t.greeting.get("max_output_len"),
         MAX_OUTPUT_LEN)


def check_sizes(c, t):
    for cmd, n in t.sizes:
        c.true("%s: reply of %d bytes exceeds %d" % (cmd, n, MAX_OUTPUT_LEN),
               n <= MAX_OUTPUT_LEN)


def check_listed(c, t):
    """Every command listed by "/" exactly once (DPDK 22.11 would list a
    name registered twice twice), each with its help."""
    cmds = t.ask("/")
    if not c.true("/: not a list: %r" % (cmds,), isinstance(cmds, list)):
        return
    c.eq("/mpaudit/ commands listed by /",
         sorted(x for x in cmds if x.startswith("/mpaudit/")),
         sorted(COMMANDS))
    for cmd in COMMANDS:
        h = t.ask("/help," + cmd)
        text = h.get(cmd) if isinstance(h, dict) else None
        c.true("/help,%s: no help text: %r" % (cmd, h),
               isinstance(text, str) and "arameters" in text and
               len(text) > 20)


def check_error(c, t, cmd, code, words=()):
    """A clear error reply: {"error", "code", "usage"}."""
    v = t.ask(cmd)
    if not c.true("%s: not an error reply: %r" % (cmd, v),
                  isinstance(v, dict) and "error" in v):
        return None
    c.eq("%s: error reply fields" % cmd, sorted(v), ["code", "error", "usage"])
    c.eq("%s: code (error %r)" % (cmd, v.get("error")), v.get("code"), code)
    c.true("%s: usage %r is not the command's" % (cmd, v.get("usage")),
           str(v.get("usage")).startswith(cmd.split(",", 1)[0]))
    for w in words:
        c.true("%s: error %r does not say %r" % (cmd, v.get("error"), w),
               w in str(v.get("error")))
    return v


def walk_pages(c, t, cmd, page_cmd, list_key, per_page):
    """Every entry of a paginated command, in rank order, checking the page
    fields of each page and that one past the last is refused. Returns
    (entries, reply of page 0)."""
    v0 = t.ask(cmd)
    if not c.true("%s: no %r in %r" % (cmd, list_key, v0),
                  isinstance(v0, dict) and list_key in v0):
        return [], v0
    total, pages = v0.get("total"), v0.get("pages")
    c.eq("%s: per_page" % cmd, v0.get("per_page"), per_page)
    c.eq("%s: page" % cmd, v0.get("page"), 0)
    want_pages = max(1, math.ceil(total / per_page)) \
        if isinstance(total, int) else None
    if not c.eq("%s: pages for total %r" % (cmd, total), pages, want_pages):
        return [], v0
    c.eq("%s: page 0 asked by number" % cmd,
         sorted(t.ask(page_cmd(0)).get(list_key, {})), sorted(v0[list_key]))
    items = {}
    for pg in range(pages):
        v = v0 if pg == 0 else t.ask(page_cmd(pg))
        c.eq("%s: total, page, pages of page %d" % (cmd, pg),
             (v.get("total"), v.get("page"), v.get("pages")),
             (total, pg, pages))
        ranks = sorted(int(k) for k in v.get(list_key, {}))
        c.eq("%s: ranks of page %d" % (cmd, pg), ranks,
             list(range(pg * per_page, min(total, (pg + 1) * per_page))))
        items.update(v.get(list_key, {}))
    check_error(c, t, page_cmd(pages), "ERANGE", ["out of range"])
    return [items[k] for k in sorted(items, key=int)], v0


# Requests every command must refuse, whatever the auditor's state:
# (command, code, words of the error).
BAD_PARAMS = [
    ("/mpaudit/summary,1", "EINVAL", ["unexpected parameter"]),
    ("/mpaudit/dump,now", "EINVAL", ["unexpected parameter"]),
    ("/mpaudit/stuck,x", "EINVAL", ["not a number", "'x'"]),
    ("/mpaudit/stuck,-1", "EINVAL", ["not a number"]),
    ("/mpaudit/stuck,1.0", "EINVAL", ["not a number"]),
    ("/mpaudit/stuck, 1", "EINVAL", ["not a number"]),
    ("/mpaudit/stuck,99999999999", "ERANGE", ["out of range"]),
    ("/mpaudit/stuck,0,1", "EINVAL", ["unexpected parameter '1'"]),
    ("/mpaudit/stuck,,1", "EINVAL", ["empty parameter"]),
    ("/mpaudit/stuck,7" + "7" * 300, "E2BIG", ["longer than"]),
    ("/mpaudit/pools,1x", "EINVAL", ["not a number"]),
    ("/mpaudit/pools,1", "ERANGE", ["out of range", "1 page"]),
    ("/mpaudit/errors,1", "ERANGE", ["out of range"]),
    ("/mpaudit/errors,a", "EINVAL", ["not a number"]),
    ("/mpaudit/heap,z", "EINVAL", ["not a number"]),
    ("/mpaudit/heap_track", "EINVAL", ["missing parameter"]),
    ("/mpaudit/heap_track,maybe", "EINVAL", ["'maybe'", "on or off"]),
    ("/mpaudit/heap_track,ON", "EINVAL", ["on or off"]),
    ("/mpaudit/heap_track,on,off", "EINVAL", ["unexpected parameter"]),
    ("/mpaudit/heap_snapshot", "EINVAL", ["missing parameter"]),
    ("/mpaudit/heap_snapshot,now", "EINVAL", ["reserved"]),
    ("/mpaudit/heap_snapshot,bad name", "EINVAL", ["bad snapshot name"]),
    ("/mpaudit/heap_snapshot,a/b", "EINVAL", ["bad snapshot name"]),
    ("/mpaudit/heap_snapshot," + "n" * 32, "EINVAL", ["bad snapshot name"]),
    ("/mpaudit/heap_snapshot,a,b", "EINVAL", ["unexpected parameter"]),
    ("/mpaudit/heap_diff", "EINVAL", ["missing parameter"]),
    ("/mpaudit/heap_diff,a,now,0,1", "EINVAL", ["unexpected parameter"]),
    ("/mpaudit/heap_diff,a,now,x", "EINVAL", ["not a number"]),
    ("/mpaudit/heap_diff,a,b c", "EINVAL", ["bad snapshot name"]),
    ("/mpaudit/heap_drop", "EINVAL", ["missing parameter"]),
    ("/mpaudit/config,stuck_ms", "EINVAL", ["'stuck_ms' is not NAME=VALUE"]),
    ("/mpaudit/config,stuck_ms=0", "ERANGE", ["from 1 to 86400000"]),
    ("/mpaudit/config,stuck_ms=1x", "EINVAL", ["'1x'", "expected an integer"]),
    ("/mpaudit/config,stuck_ms=-5", "EINVAL", ["expected an integer"]),
    ("/mpaudit/config,scan_ms=3600001", "ERANGE", ["from 0 to 3600000"]),
    ("/mpaudit/config,stuck_ms=99999999999", "ERANGE", ["from 1 to"]),
    ("/mpaudit/config,stuck_ms=5,stuck_ms=6", "EINVAL", ["given twice"]),
    ("/mpaudit/config,verbose=1", "EINVAL", ["unknown setting 'verbose'"]),
    ("/mpaudit/config,stuck_ms=5,scan_ms=5,x=1", "EINVAL",
     ["unexpected parameter"]),
    ("/mpaudit/sites,x", "EINVAL", ["not a number"]),
    ("/mpaudit/sites,99999", "ERANGE", ["out of range"]),
    ("/mpaudit/sites,0,0", "EINVAL", ["unexpected parameter"]),
    ("/mpaudit/history", "EINVAL", ["missing parameter"]),
    ("/mpaudit/history,no_such_pool", "ENOENT",
     ["no audited pool 'no_such_pool'"]),
    ("/mpaudit/history,a,0,0", "EINVAL", ["unexpected parameter"]),
    ("/mpaudit/heap_drop,now", "EINVAL", ["reserved"]),
]

# Heap commands with valid parameters where heap tracking is off.
HEAP_VALID = ["/mpaudit/heap", "/mpaudit/heap,0", "/mpaudit/heap_track,on",
              "/mpaudit/heap_track,off", "/mpaudit/heap_snapshot,a",
              "/mpaudit/heap_diff,a", "/mpaudit/heap_diff,a,now,0",
              "/mpaudit/heap_drop,a"]


def check_bad_params(c, t):
    for cmd, code, words in BAD_PARAMS:
        check_error(c, t, cmd, code, words)


def check_heap_off(c, t):
    for cmd in HEAP_VALID:
        check_error(c, t, cmd, "ENOTSUP", ["heap tracking is not active"])
    h = t.ask("/mpaudit/summary").get("heap", {})
    c.eq("summary heap active, tracking", (h.get("active"),
                                           h.get("tracking")), (0, 0))
    c.true("summary heap: no reason given: %r" % h,
           isinstance(h.get("disabled"), str) and h["disabled"])


def check_dump(c, t, report_path, stuck):
    v = t.ask("/mpaudit/dump")
    if not c.true("/mpaudit/dump: %r" % (v,),
                  isinstance(v, dict) and "path" in v):
        return None
    c.eq("/mpaudit/dump path", v.get("path"), report_path)
    try:
        with open(report_path) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        c.errors.append("/mpaudit/dump: report %s: %s" % (report_path, e))
        return None
    c.eq("/mpaudit/dump: report summary.stuck",
         r.get("summary", {}).get("stuck"), stuck)
    return r


def set_config(c, t, params, want_changed):
    """/mpaudit/config,PARAMS: the reply holds the new values and counts
    what changed."""
    v = t.ask("/mpaudit/config," + params)
    if not c.true("/mpaudit/config,%s: %r" % (params, v),
                  isinstance(v, dict) and "error" not in v):
        return {}
    for kv in params.split(","):
        k, val = kv.split("=")
        c.eq("/mpaudit/config,%s: %s" % (params, k), v.get(k), int(val))
    c.eq("/mpaudit/config,%s: changed" % params, v.get("changed"),
         want_changed)
    return v


def site_key(g):
    return (g.get("state"), g.get("port"), g.get("queue"), g.get("ring"),
            g.get("site"))


def check_sites(c, t, scan_ms):
    """/mpaudit/sites against /mpaudit/stuck of the same scan: periodic
    scans are paused (/mpaudit/config,scan_ms=0) while both are read, so
    every page comes from one scan. Each holder's stuck count is the sum
    of its stuck groups over lcores and pools (driver holdings aside: only
    their excess over the RX descriptors is stuck, not whose)."""
    set_config(c, t, "scan_ms=0", 1)
    scans = t.ask("/mpaudit/summary").get("scans")
    groups, _ = walk_pages(c, t, "/mpaudit/stuck",
                           lambda n: "/mpaudit/stuck,%d" % n, "groups",
                           STUCK_PER_PAGE)
    sites, v0 = walk_pages(c, t, "/mpaudit/sites",
                           lambda n: "/mpaudit/sites,%d" % n, "sites",
                           SITES_PER_PAGE)
    c.eq("/mpaudit/sites: scan while scans are paused",
         (v0.get("scan"), t.ask("/mpaudit/stuck").get("scan")),
         (scans, scans))
    set_config(c, t, "scan_ms=%d" % scan_ms, 1)
    want = {}
    for g in groups:
        if g.get("state") != "pmd":
            k = site_key(g)
            want[k] = want.get(k, 0) + g.get("count", 0)
    got = {}
    for row in sites:
        k = site_key(row)
        c.true("/mpaudit/sites: holder listed twice: %r" % (k,),
               k not in got)
        got[k] = row.get("stuck")
        c.true("/mpaudit/sites: %r holds fewer than it has stuck" % row,
               row.get("held", 0) >= row.get("stuck", 0) > -1)
    c.eq("/mpaudit/sites: stuck per holder vs the stuck groups",
         sorted((str(k), n) for k, n in got.items()
                if n and k[0] != "pmd"),
         sorted((str(k), n) for k, n in want.items()))
    c.eq("/mpaudit/sites: ranked by held",
         [r.get("held") for r in sites],
         sorted((r.get("held") for r in sites), reverse=True))
    c.eq("/mpaudit/sites: counted, unlisted, holders",
         (v0.get("counted"), v0.get("unlisted"), v0.get("holders")),
         (1, 0, len(sites)))
    c.eq("/mpaudit/sites: held is the rows' sum", v0.get("held"),
         sum(r.get("held", 0) for r in sites))
    return sites


# ---- tests ----------------------------------------------------------------

def check_scanner(c, t, s0):
    """The summary's scanner cost: consistent, and each scan since @s0
    walked exactly the forwarder's one pool."""
    sc0 = s0.get("scanner", {})
    deadline = time.monotonic() + STUCK_WAIT_S
    s1 = t.ask("/mpaudit/summary")
    while s1.get("scans", 0) < s0.get("scans", 0) + 2 and \
            time.monotonic() < deadline:
        time.sleep(0.1)
        s1 = t.ask("/mpaudit/summary")
    sc1 = s1.get("scanner", {})
    c.eq("summary scanner: fields", sorted(sc1), sorted(
        ["mode", "scans", "service_scans", "objects", "total_ns", "max_ns",
         "last_ns"]))
    c.eq("summary scanner: mode, scans", (sc1.get("mode"), sc1.get("scans")),
         ("thread", s1.get("scans")))
    n = sc1.get("scans", 0) - sc0.get("scans", 0)
    c.true("summary scanner: %d scans in the wait" % n, n >= 2)
    c.eq("summary scanner: objects walked per scan since",
         sc1.get("objects", 0) - sc0.get("objects", 0), n * FWD_POOL_SIZE)
    c.true("summary scanner: 0 < last_ns <= max_ns <= total_ns: %r" % sc1,
           0 < sc1.get("last_ns", 0) <= sc1.get("max_ns", 0) <=
           sc1.get("total_ns", 0))
    c.true("summary scanner: total_ns grew: %r -> %r" % (sc0, sc1),
           sc1.get("total_ns", 0) > sc0.get("total_ns", 0))


def t_tele_fwd(ctx, c):
    """The instrumented forwarder: summary, pools, stuck (two pages) and
    errors exactly as the ground truth and the final report say; every bad
    request refused clearly; the heap commands say tracking is off; the
    dump written; nothing of it changes the run's verdict."""
    name = "tele_fwd"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(NULL_PORTS) + \
        ["--", "--duration", "0", "--stats-ms", "0"] + TELE_LEAK_ARGS
    seen = {}

    def body(t, p, report_path):
        check_greeting(c, t)
        check_listed(c, t)
        s = wait_stuck(c, t, TELE_LEAK_TOTAL, p.mpa_t0 + STUCK_WAIT_S)
        c.eq("summary", {k: s.get(k) for k in (
            "tool", "mode", "enabled", "stuck_ms", "pools", "errors",
            "errors_listed", "exit_code", "ungrouped")},
            {"tool": "mpaudit", "mode": "instrumented", "enabled": 1,
             "stuck_ms": STUCK_MS, "pools": 1, "errors": 0,
             "errors_listed": 0, "exit_code": 3, "ungrouped": 0})
        check_scanner(c, t, s)
        groups, v0 = walk_pages(c, t, "/mpaudit/stuck",
                                lambda n: "/mpaudit/stuck,%d" % n,
                                "groups", STUCK_PER_PAGE)
        c.eq("/mpaudit/stuck: total is summary.groups", v0.get("total"),
             s.get("groups"))
        c.true("/mpaudit/stuck: %r groups fit one page: the test needs "
               "two" % v0.get("total"), v0.get("pages", 0) >= 2)
        c.eq("/mpaudit/stuck: stuck", v0.get("stuck"), TELE_LEAK_TOTAL)
        for g in groups:
            k = tele_group_key(g)
            c.true("/mpaudit/stuck: holder listed twice: %s" % key_str(k),
                   k not in seen)
            seen[k] = g
            age = g.get("max_age_ms")
            c.true("/mpaudit/stuck: max_age_ms %r of %s below the "
                   "threshold" % (age, key_str(k)),
                   isinstance(age, int) and age >= STUCK_MS)
        c.eq("/mpaudit/stuck: sum of counts",
             sum(g.get("count", 0) for g in groups), TELE_LEAK_TOTAL)
        pools, _ = walk_pages(c, t, "/mpaudit/pools",
                              lambda n: "/mpaudit/pools,%d" % n,
                              "pools", POOLS_PER_PAGE)
        if c.eq("/mpaudit/pools: names", [q.get("name") for q in pools],
                [FWD_POOL]):
            q = pools[0]
            c.eq("/mpaudit/pools: size, stuck, destroyed",
                 (q.get("size"), q.get("stuck"), q.get("destroyed")),
                 (FWD_POOL_SIZE, TELE_LEAK_TOTAL, 0))
            c.true("/mpaudit/pools: in_use + free != size: %r" % q,
                   q.get("in_use", 0) + q.get("free", 0) == FWD_POOL_SIZE and
                   q.get("in_use", 0) >= TELE_LEAK_TOTAL)
        errs, e0 = walk_pages(c, t, "/mpaudit/errors",
                              lambda n: "/mpaudit/errors,%d" % n,
                              "errors", ERRORS_PER_PAGE)
        c.eq("/mpaudit/errors: entries, recorded, not_listed",
             (errs, e0.get("recorded"), e0.get("not_listed")), ([], 0, 0))
        sites = check_sites(c, t, int(LEAK_ENV["MPAUDIT_SCAN_MS"]))
        c.true("/mpaudit/sites: every row has its call site (instrumented)",
               all("site" in r and "function" in r for r in sites))
        check_bad_params(c, t)
        check_heap_off(c, t)
        check_error(c, t, "/mpaudit/pcap,x", "ENOTSUP", ["MPAUDIT_PCAP_DIR"])
        r = check_dump(c, t, report_path, TELE_LEAK_TOTAL)
        if r is not None:
            c.eq("/mpaudit/dump: report stuck groups",
                 len(r.get("stuck", [])), len(groups))
        # Still running, still the same verdict.
        s2 = t.ask("/mpaudit/summary")
        c.eq("summary stuck, groups, exit_code after the requests",
             (s2.get("stuck"), s2.get("groups"), s2.get("exit_code")),
             (TELE_LEAK_TOTAL, s.get("groups"), 3))
        c.true("the forwarder exited during the telemetry requests",
               p.poll() is None)
        check_sizes(c, t)
        stop_at_end(p)

    run = session(ctx, name, cmd, LEAK_ENV, 60, body)
    check_exit(c, run, 3)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth total" % name, sum(truth.values()), TELE_LEAK_TOTAL)
    check_fwd_selfcheck(c, run, TELE_LEAK_TOTAL)
    check_groups_exact(c, run, truth)
    check_summary(c, run, TELE_LEAK_TOTAL, 3)
    # What telemetry said while the program ran is the ground truth.
    c.eq("%s: telemetry stuck groups (holder: count) vs the truth" % name,
         sorted((key_str(k), g.get("count")) for k, g in seen.items()),
         sorted((key_str(k), n) for k, n in truth.items()))


def check_heap_groups(c, t, min_age):
    """/mpaudit/heap, every page: the fields of each group, its clipped
    stack, and the totals."""
    # The telemetry thread serving this client was created when it
    # connected, with a few libc allocations (its TLS): let them pass the
    # threshold before the pages are read, so the pages agree.
    time.sleep(max(0.0, t.t0 + 2 * min_age / 1000.0 - time.monotonic()))
    groups, v0 = walk_pages(c, t, "/mpaudit/heap",
                            lambda n: "/mpaudit/heap,%d" % n,
                            "groups", HEAP_GROUPS_PER_PAGE)
    c.eq("/mpaudit/heap: active, tracking, min_age_ms",
         (v0.get("active"), v0.get("tracking"), v0.get("min_age_ms")),
         (1, 1, min_age))
    for kind in ("libc", "rte_malloc"):
        k = v0.get(kind, {})
        c.true("/mpaudit/heap: %s counters %r" % (kind, k),
               all(isinstance(k.get(f), int) for f in
                   ("live_count", "live_bytes", "allocs", "frees")))
    for i, g in enumerate(groups):
        what = "/mpaudit/heap: group %d %r" % (i, g)
        c.true(what + ": kind", g.get("kind") in ("libc", "rte_malloc"))
        c.true(what + ": bytes, count",
               g.get("bytes", 0) > 0 and g.get("count", 0) > 0)
        c.true(what + ": max_age_ms below min_age_ms",
               g.get("max_age_ms", -1) >= min_age)
        st = g.get("stack")
        c.true(what + ": stack not a list of strings",
               isinstance(st, list) and all(isinstance(x, str) for x in st))
        if isinstance(st, list):
            c.true(what + ": more than %d frames" % HEAP_FRAMES,
                   len(st) <= HEAP_FRAMES)
            c.eq(what + ": frames shown", len(st),
                 min(g.get("frames", -1), HEAP_FRAMES))
    # Totals over every page, when nothing changed between the pages.
    c.eq("/mpaudit/heap: total_count", sum(g.get("count", 0) for g in groups),
         v0.get("total_count"))
    c.eq("/mpaudit/heap: total_bytes", sum(g.get("bytes", 0) for g in groups),
         v0.get("total_bytes"))
    return groups, v0


def check_snapshots(c, t):
    """Snapshots: take, refuse a duplicate, diff, refuse unknown names,
    fill up, drop."""
    v = t.ask("/mpaudit/heap_snapshot,base")
    c.eq("/mpaudit/heap_snapshot,base", v,
         {"snapshot": "base", "snapshots": ["base"]})
    check_error(c, t, "/mpaudit/heap_snapshot,base", "EEXIST", ["'base'"])
    changes, d0 = walk_pages(c, t, "/mpaudit/heap_diff,base",
                             lambda n: "/mpaudit/heap_diff,base,now,%d" % n,
                             "changes", HEAP_PER_PAGE)
    c.eq("/mpaudit/heap_diff,base: from, to", (d0.get("from"), d0.get("to")),
         ("base", "now"))
    c.eq("/mpaudit/heap_diff,base: change tallies add up to total",
         sum(d0.get(k, 0) for k in ("new", "gone", "grown", "shrunk", "same")),
         d0.get("total"))
    for e in changes:
        c.true("/mpaudit/heap_diff: change %r" % e,
               e.get("change") in ("new", "gone", "grown", "shrunk", "same")
               and e.get("kind") in ("libc", "rte_malloc") and
               len(e.get("stack", [])) <= HEAP_FRAMES)
    # A snapshot has no difference with itself: exact.
    v = t.ask("/mpaudit/heap_diff,base,base")
    c.eq("/mpaudit/heap_diff,base,base: total, changes, tallies",
         (v.get("total"), v.get("changes"), v.get("grown_bytes"),
          v.get("shrunk_bytes")), (0, {}, 0, 0))
    check_error(c, t, "/mpaudit/heap_diff,base,nosuch", "ENOENT", ["'nosuch'"])
    check_error(c, t, "/mpaudit/heap_diff,nosuch", "ENOENT", ["'nosuch'"])
    check_error(c, t, "/mpaudit/heap_diff,nosuch,base", "ENOENT", ["'nosuch'"])
    check_error(c, t, "/mpaudit/heap_drop,nosuch", "ENOENT", ["'nosuch'"])
    names = ["base"]
    for i in range(1, SNAPSHOTS_MAX):
        n = "s%d" % i
        v = t.ask("/mpaudit/heap_snapshot," + n)
        names.append(n)
        if not c.eq("/mpaudit/heap_snapshot,%s: snapshots" % n,
                    v.get("snapshots"), names):
            break
    check_error(c, t, "/mpaudit/heap_snapshot,one_too_many", "ENOSPC",
                ["%d snapshots" % SNAPSHOTS_MAX])
    for n in list(names):
        names.remove(n)
        c.eq("/mpaudit/heap_drop,%s" % n, t.ask("/mpaudit/heap_drop," + n),
             {"dropped": n, "snapshots": names})
    check_error(c, t, "/mpaudit/heap_drop,base", "ENOENT", ["'base'"])


def check_track(c, t):
    """Scoped tracking: the previous and the new state, in the summary too."""
    steps = [("off", "on", "off", 0), ("off", "off", "off", 0),
             ("on", "off", "on", 1), ("on", "on", "on", 1)]
    for arg, prev, now, tracking in steps:
        cmd = "/mpaudit/heap_track," + arg
        c.eq(cmd, t.ask(cmd), {"previous": prev, "tracking": now})
        c.eq("%s: summary heap.tracking" % cmd,
             t.ask("/mpaudit/summary").get("heap", {}).get("tracking"),
             tracking)


# The commands asked again and again by check_no_leak(): every reply
# shape, and error replies after containers were taken.
LEAK_ROUNDS = 40
LEAK_CMDS = ["/mpaudit/summary", "/mpaudit/pools", "/mpaudit/stuck",
             "/mpaudit/errors", "/mpaudit/heap", "/mpaudit/heap_diff,nosuch",
             "/mpaudit/stuck,99", "/mpaudit/heap,x", "/mpaudit/heap_drop,x"]


def check_no_leak(c, t):
    """DPDK frees the containers of a reply after sending it. The heap
    tracker's record count (internal records included) must not grow with
    the requests: a container leaked per request would add LEAK_ROUNDS."""
    before = t.ask("/mpaudit/heap").get("records")
    for _ in range(LEAK_ROUNDS):
        for cmd in LEAK_CMDS:
            t.ask(cmd)
    after = t.ask("/mpaudit/heap").get("records")
    c.true("heap records %r -> %r after %d rounds of requests: the replies "
           "leak" % (before, after, LEAK_ROUNDS),
           isinstance(before, int) and isinstance(after, int) and
           after - before < LEAK_ROUNDS // 2)


def preload_fwd_cmd(ctx, name):
    return [ctx.fwd_plain] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0"] + \
        PRELOAD_LEAK_ARGS


def t_tele_preload(ctx, c):
    """Zero-recompile mode with heap tracking: the heap commands on a plain
    program under LD_PRELOAD, and the mempool audit beside them."""
    name = "tele_preload"
    cmd = preload_fwd_cmd(ctx, name)

    def body(t, p, report_path):
        check_greeting(c, t)
        check_listed(c, t)
        s = wait_stuck(c, t, PRELOAD_LEAK_TOTAL, p.mpa_t0 + STUCK_WAIT_S)
        h = s.get("heap", {})
        c.eq("summary mode, heap active, tracking",
             (s.get("mode"), h.get("active"), h.get("tracking")),
             ("preload", 1, 1))
        for kind in ("libc", "rte_malloc"):
            k = h.get(kind, {})
            c.true("summary heap %s: %r" % (kind, k),
                   isinstance(k.get("live_count"), int) and
                   isinstance(k.get("live_bytes"), int))
        sites = check_sites(c, t, int(LEAK_ENV["MPAUDIT_SCAN_MS"]))
        c.true("/mpaudit/sites: a call site in zero-recompile mode: %r" %
               sites, not any("site" in r for r in sites))
        check_heap_groups(c, t, STUCK_MS)
        check_track(c, t)
        check_snapshots(c, t)
        check_bad_params(c, t)
        check_no_leak(c, t)
        r = check_dump(c, t, report_path, PRELOAD_LEAK_TOTAL)
        if r is not None:
            c.true("/mpaudit/dump: report has no malloc array",
                   isinstance(r.get("malloc"), list))
        c.true("the forwarder exited during the telemetry requests",
               p.poll() is None)
        check_sizes(c, t)
        stop_at_end(p)

    run = session(ctx, name, cmd, ctx.penv(LEAK_ENV), 60, body)
    # The preload never changes the exit status; the verdict is the report's.
    check_exit(c, run, 0)
    truth, _ = preload_truth(run, "mpaudit-fwd")
    c.eq("%s: truth total" % name, sum(truth.values()), PRELOAD_LEAK_TOTAL)
    check_groups_exact(c, run, truth)
    c.eq("%s: report summary.stuck" % name,
         run.report().get("summary", {}).get("stuck"), PRELOAD_LEAK_TOTAL)


def t_tele_heap_off(ctx, c):
    """MPAUDIT_HEAP=off under the preload: every heap command says heap
    tracking is not active, the others work."""
    name = "tele_heap_off"
    cmd = preload_fwd_cmd(ctx, name)

    def body(t, p, report_path):
        check_listed(c, t)
        s = t.ask("/mpaudit/summary")
        c.eq("summary mode", s.get("mode"), "preload")
        check_heap_off(c, t)
        check_bad_params(c, t)
        check_sizes(c, t)
        wait_forwarding(p)
        stop_at_end(p)

    env = dict(LEAK_ENV, MPAUDIT_HEAP="off")
    run = session(ctx, name, cmd, ctx.penv(env), 60, body)
    check_exit(c, run, 0)
    c.true("%s: no report" % name, os.path.exists(run.report_path))


def t_tele_both(ctx, c):
    """An instrumented program under the preload too: two copies of the
    auditor's code in one process, one set of commands."""
    name = "tele_both"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0", "--app-leak", "8"]

    def body(t, p, report_path):
        check_listed(c, t)
        s = wait_stuck(c, t, 8, p.mpa_t0 + STUCK_WAIT_S)
        c.eq("summary mode", s.get("mode"), "instrumented")
        check_sizes(c, t)
        stop_at_end(p)

    run = session(ctx, name, cmd, ctx.penv(LEAK_ENV), 60, body)
    check_exit(c, run, 3)
    check_summary(c, run, 8, 3)


def check_set_change(c, what, v, change, truth, appear):
    """A difference made only of one heapleak set: every entry has the
    set's kind, the given change and the set's call site and caller as
    innermost frames, and together they add up to the set. (A set may
    take several entries: the compiler may unroll its loop, giving each
    copy of the call a return address, hence a stack, of its own.)"""
    n_bytes, n_count = int(truth["bytes"]), int(truth["count"])
    changes = list(v.get("changes", {}).values())
    c.eq(what + ": total, change tallies, grown/shrunk bytes",
         {k: v.get(k) for k in ("total", "new", "gone", "grown", "shrunk",
                                "same", "grown_bytes", "shrunk_bytes",
                                "pages")},
         {"total": len(changes), "new": len(changes) if change == "new"
          else 0, "gone": len(changes) if change == "gone" else 0,
          "grown": 0, "shrunk": 0, "same": 0,
          "grown_bytes": n_bytes if appear else 0,
          "shrunk_bytes": 0 if appear else n_bytes, "pages": 1})
    c.true(what + ": no change", changes)
    for e in changes:
        c.eq(what + ": kind, change, innermost frames (the allocating "
             "call, its caller)",
             (e.get("kind"), e.get("change"), e.get("stack", [])[:2]),
             (truth["kind"], change, [truth["site"], truth["caller"]]))
        c.eq(what + ": deltas are to - from",
             (e.get("bytes_delta"), e.get("count_delta")),
             (e.get("bytes_to", 0) - e.get("bytes_from", 0),
              e.get("count_to", 0) - e.get("count_from", 0)))
    side = "bytes_to" if appear else "bytes_from"
    cside = "count_to" if appear else "count_from"
    c.eq(what + ": bytes and count of the set",
         (sum(e.get(side, 0) for e in changes),
          sum(e.get(cside, 0) for e in changes)), (n_bytes, n_count))


def t_tele_heap_diff(ctx, c):
    """heapleak (mode signal) under the preload leaks one set of
    allocations per phase, on cue: snapshots taken over telemetry between
    the phases differ by exactly the set of the phase, with its call site
    and caller; the heap listing shows the first set once past the
    threshold."""
    name = "tele_heap_diff"
    go = os.path.join(ctx.tmp, "go")
    os.makedirs(go, exist_ok=True)
    cmd = [ctx.heapleak] + ctx.eal(name, LCORES_IO) + ["--", "signal", go]

    def cue(p, k):
        with open(os.path.join(go, "go%d" % k), "w"):
            pass

    def body(t, p, report_path):
        out = p.mpa_files[0]
        if not wait_text(p, out, "heapleak: ready 1", READY_S):
            raise Failed("heapleak never said ready 1")
        c.eq("/mpaudit/heap_snapshot,a", t.ask("/mpaudit/heap_snapshot,a"),
             {"snapshot": "a", "snapshots": ["a"]})
        t_a = time.monotonic()
        cue(p, 1)
        if not wait_text(p, out, "heapleak: ready 2", READY_S):
            raise Failed("heapleak never said ready 2")
        c.eq("/mpaudit/heap_snapshot,b", t.ask("/mpaudit/heap_snapshot,b"),
             {"snapshot": "b", "snapshots": ["a", "b"]})
        sig_a = heapleak_truth(read_text(out), "sig_a")
        sig_b = heapleak_truth(read_text(out), "sig_b")
        check_set_change(c, "/mpaudit/heap_diff,a,b",
                         t.ask("/mpaudit/heap_diff,a,b"), "new", sig_b, True)
        check_set_change(c, "/mpaudit/heap_diff,b,a",
                         t.ask("/mpaudit/heap_diff,b,a"), "gone", sig_b,
                         False)
        # Set a, allocated before snapshot a, once past the threshold.
        time.sleep(max(0.0, t_a + 2 * STUCK_MS / 1000.0 - time.monotonic()))
        groups, _ = walk_pages(c, t, "/mpaudit/heap",
                               lambda n: "/mpaudit/heap,%d" % n,
                               "groups", HEAP_GROUPS_PER_PAGE)
        mine = [g for g in groups if g.get("stack", [])[:1] ==
                [sig_a["site"]]]
        c.eq("/mpaudit/heap: groups of set sig_a (kinds, callers)",
             sorted(set((g.get("kind"), tuple(g.get("stack", [])[1:2]))
                        for g in mine)),
             [(sig_a["kind"], (sig_a["caller"],))])
        c.eq("/mpaudit/heap: bytes and count of set sig_a",
             (sum(g.get("bytes", 0) for g in mine),
              sum(g.get("count", 0) for g in mine)),
             (int(sig_a["bytes"]), int(sig_a["count"])))
        check_sizes(c, t)
        cue(p, 2)

    run = session(ctx, name, cmd, ctx.penv(LEAK_ENV), 60, body)
    check_exit(c, run, 0)
    c.true("%s: heapleak did not finish" % name, "heapleak: done" in run.out)


# ---- drain forecasts -------------------------------------------------------

# tele_forecast: an RX leak of known rate. 200 mbufs/s rises the in-use
# floor by about 2,000 objects in the 10 s judged, far above the datapath's
# swing (a few bursts of 32), within the default pool of 8,191.
FORECAST_RATE = 200
# report.c MPA_LOG_REPEAT_MS: a holder's log lines are this far apart.
LOG_REPEAT_S = 10
FORECAST_TOLERANCE = 0.10
FORECAST_ENV = {"MPAUDIT_STUCK_MS": "500", "MPAUDIT_SCAN_MS": "200"}
# Samples before the rate is compared: 10 s of scans every 200 ms.
FORECAST_SAMPLES = 50
FORECAST_SECS = 30


def pool_row(c, t, what):
    pools, _ = walk_pages(c, t, "/mpaudit/pools",
                          lambda n: "/mpaudit/pools,%d" % n, "pools",
                          POOLS_PER_PAGE)
    rows = [q for q in pools if q.get("name") == FWD_POOL]
    if not pools:
        return {}   # before the first scan
    if len(rows) != 1:
        raise Failed("%s: /mpaudit/pools lists %r" % (what, pools))
    return rows[0]


def check_steady_log(c, run, secs):
    """A holder leaking at every scan is logged at its first stuck objects,
    then at most every LOG_REPEAT_S, and the rest at the stop: each of the
    report's stuck objects in exactly one line."""
    rep = report_groups(run)
    per = {}
    for k, objs, new, line in log_lines(run):
        per.setdefault(k, []).append((objs, new, line))
    c.eq("%s: holders logged" % run.name, sorted(per, key=str),
         sorted(rep, key=str))
    for k, lines in sorted(per.items(), key=str):
        total = 0
        for objs, new, line in lines:
            total += new
            c.eq("%s: objects in log line %r (running sum)" %
                 (run.name, line), objs, total)
        c.eq("%s: objects logged for %s" % (run.name, key_str(k)), total,
             rep.get(k, {}).get("count"))
        c.true("%s: %d log lines for %s in %.0f s (at most one per %d s, "
               "the first and the stop's)" % (run.name, len(lines),
                                               key_str(k), secs, LOG_REPEAT_S),
               2 <= len(lines) <= 2 + int(secs / LOG_REPEAT_S))


def t_tele_forecast(ctx, c):
    """mpaudit-fwd leaking FORECAST_RATE mbufs/s on RX: /mpaudit/pools and
    the final report give that rate within 10 %, a drain, and the time to
    exhaustion that the free objects and the rate imply."""
    name = "tele_forecast"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0",
         "--leak-rate", str(FORECAST_RATE), "--leak-max", "100000"]
    seen = {}

    def body(t, p, report_path):
        deadline = time.monotonic() + FORECAST_SECS - 5
        while True:
            q = pool_row(c, t, name)
            if q.get("history", 0) >= FORECAST_SAMPLES:
                break
            if time.monotonic() > deadline:
                raise Failed("%s: history %r after %d s" % (
                    name, q.get("history"), FORECAST_SECS - 5))
            time.sleep(0.2)
        seen["row"] = q
        rate = float(q.get("rate_per_s", "nan"))
        print("%s: %s samples, rate %s/s (injected %d), exhaust_s %s, "
              "free %s" % (name, q.get("history"), q.get("rate_per_s"),
                           FORECAST_RATE, q.get("exhaust_s"), q.get("free")))
        c.true("%s: rate_per_s %r not within %d %% of %d" % (
            name, q.get("rate_per_s"), FORECAST_TOLERANCE * 100,
            FORECAST_RATE),
            abs(rate - FORECAST_RATE) <= FORECAST_TOLERANCE * FORECAST_RATE)
        c.eq("%s: growing" % name, q.get("growing"), 1)
        want = q.get("free", 0) / rate if rate > 0 else -1
        c.true("%s: exhaust_s %r, free %r at %r/s gives %.0f" % (
            name, q.get("exhaust_s"), q.get("free"), rate, want),
            isinstance(q.get("exhaust_s"), int) and
            abs(q["exhaust_s"] - want) <= 0.05 * want + 1)
        p.send_signal(signal.SIGINT)   # mpaudit-fwd stops cleanly

    t0 = time.monotonic()
    run = session(ctx, name, cmd, FORECAST_ENV, FORECAST_SECS + 20, body)
    check_steady_log(c, run, time.monotonic() - t0)
    r = run.report()
    if c.true("%s: a report" % name, r is not None):
        pools = [q for q in r.get("pools", []) if q.get("name") == FWD_POOL]
        if c.eq("%s: report pools" % name, len(pools), 1):
            q = pools[0]
            rate = q.get("rate_per_s")
            c.true("%s: report rate_per_s %r not within %d %% of %d" % (
                name, rate, FORECAST_TOLERANCE * 100, FORECAST_RATE),
                isinstance(rate, float) and abs(rate - FORECAST_RATE) <=
                FORECAST_TOLERANCE * FORECAST_RATE)
            c.eq("%s: report growing" % name, q.get("growing"), True)
            c.true("%s: report exhaust_s %r" % (name, q.get("exhaust_s")),
                   isinstance(q.get("exhaust_s"), float) and
                   q["exhaust_s"] > 0)


# tele_forecast_clean: the pipeline (RX lcore -> ring fwd_pipe of 4096 ->
# TX lcore sharing CPU 0 with the main lcore) swings in-use by thousands
# as the ring fills and drains; it leaks nothing and must never be
# forecast to run dry. Watched for CLEAN_SECS, then stopped.
CLEAN_SECS = 16


def t_tele_forecast_clean(ctx, c):
    """A clean, fluctuating pipeline: every /mpaudit/pools reply over the
    run and the final report judge no drain."""
    name = "tele_forecast_clean"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_PIPELINE) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0",
         "--pipeline"]
    seen = {"judged": 0, "min": None, "max": None}

    def body(t, p, report_path):
        while time.monotonic() < p.mpa_t0 + CLEAN_SECS:
            q = pool_row(c, t, name)
            if "growing" in q:
                seen["judged"] += 1
                c.true("%s: drain forecast for a clean run: %r" % (name, q),
                       q.get("growing") == 0 and "exhaust_s" not in q)
            u = q.get("in_use", 0)
            seen["min"] = u if seen["min"] is None else min(seen["min"], u)
            seen["max"] = u if seen["max"] is None else max(seen["max"], u)
            time.sleep(0.25)
        wait_forwarding(p)
        stop_at_end(p)

    run = session(ctx, name, cmd, FORECAST_ENV, CLEAN_SECS + 20, body)
    c.true("%s: judged %d times" % (name, seen["judged"]),
           seen["judged"] >= 20)
    print("%s: in use swung between %s and %s" % (name, seen["min"],
                                                 seen["max"]))
    check_exit(c, run, 0)
    r = run.report()
    if c.true("%s: a report" % name, r is not None):
        for q in r.get("pools", []):
            c.eq("%s: report growing of %s" % (name, q.get("name")),
                 (q.get("growing"), q.get("exhaust_s")), (False, None))


# ---- run-time configuration and history -----------------------------------

CONFIG_SECS = 15
CONFIG_ENV = {"MPAUDIT_STUCK_MS": "600000", "MPAUDIT_SCAN_MS": "100",
              "MPAUDIT_PCAP_DIR": "/nonexistent/mpaudit-pcap"}


def wait_scans(c, t, what, more_than, deadline):
    n = t.ask("/mpaudit/summary").get("scans", 0)
    while n <= more_than and time.monotonic() < deadline:
        time.sleep(0.05)
        n = t.ask("/mpaudit/summary").get("scans", 0)
    c.true("%s: scans stayed at %d" % (what, n), n > more_than)
    return n


def t_tele_config(ctx, c):
    """/mpaudit/config: read what the environment set; refuse bad values
    and keep the old ones; lower the stuck threshold at run time, so the
    leaks held under a 10-minute threshold are reported exactly; stop and
    restart the periodic scans; the final report uses the new threshold."""
    name = "tele_config"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0"] + \
        SMALL_LEAK_ARGS

    def body(t, p, report_path):
        v = t.ask("/mpaudit/config")
        c.eq("/mpaudit/config", {k: v.get(k) for k in (
            "mode", "enabled", "stuck_ms", "scan_ms", "report", "report_ms",
            "history_scans", "changed")},
            {"mode": "instrumented", "enabled": 1, "stuck_ms": 600000,
             "scan_ms": 100, "report": report_path, "report_ms": 10000,
             "history_scans": 3600, "changed": 0})
        deadline = p.mpa_t0 + READY_S
        wait_scans(c, t, "start", 10, deadline)
        s = t.ask("/mpaudit/summary")
        c.eq("summary stuck, stuck_ms under a 10-minute threshold",
             (s.get("stuck"), s.get("stuck_ms")), (0, 600000))
        check_bad_params(c, t)
        v = t.ask("/mpaudit/config")
        c.eq("/mpaudit/config after the refused requests",
             (v.get("stuck_ms"), v.get("scan_ms")), (600000, 100))
        check_error(c, t, "/mpaudit/pcap,x", "ENOENT",
                    ["/nonexistent/mpaudit-pcap/x.pcap"])
        set_config(c, t, "stuck_ms=%d" % STUCK_MS, 1)
        c.eq("summary stuck_ms", t.ask("/mpaudit/summary").get("stuck_ms"),
             STUCK_MS)
        wait_stuck(c, t, SMALL_LEAK_TOTAL, time.monotonic() + STUCK_WAIT_S)
        set_config(c, t, "stuck_ms=%d" % STUCK_MS, 0)
        set_config(c, t, "scan_ms=0", 1)
        n = t.ask("/mpaudit/summary").get("scans")
        time.sleep(1.0)
        c.eq("scans while periodic scans are off",
             t.ask("/mpaudit/summary").get("scans"), n)
        set_config(c, t, "stuck_ms=%d,scan_ms=50" % STUCK_MS, 1)
        wait_scans(c, t, "scan_ms=50", n + 5, time.monotonic() + 5)
        check_sizes(c, t)
        stop_at_end(p)

    run = session(ctx, name, cmd, CONFIG_ENV, CONFIG_SECS + 30, body)
    check_exit(c, run, 3)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth total" % name, sum(truth.values()), SMALL_LEAK_TOTAL)
    check_groups_exact(c, run, truth)
    check_summary(c, run, SMALL_LEAK_TOTAL, 3)
    r = run.report() or {}
    c.eq("%s: report config" % name,
         (r.get("config", {}).get("stuck_ms"),
          r.get("config", {}).get("scan_ms")), (STUCK_MS, 50))
    for want in ("stuck threshold 600000 -> %d ms, scan period 100 -> 100 ms"
                 % STUCK_MS, "scan period 100 -> 0 ms",
                 "scan period 0 -> 50 ms"):
        c.true("%s: log says %r" % (name, want), want in run.err)


# tele_history: a history ring of HIST_SCANS samples, filled in a few
# seconds by scans every 20 ms, so it has wrapped and takes two pages.
HIST_SCANS = 250
HIST_ENV = {"MPAUDIT_STUCK_MS": "500", "MPAUDIT_SCAN_MS": "20",
            "MPAUDIT_HISTORY_SCANS": str(HIST_SCANS)}
HIST_SECS = 20


def t_tele_history(ctx, c):
    """/mpaudit/history of the forwarder's pool: a full ring of exactly
    MPAUDIT_HISTORY_SCANS samples over two pages, oldest first, each
    consistent (in use + free = size), the newest equal to what
    /mpaudit/pools says of the same scan, and bad requests refused."""
    name = "tele_history"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0"] + \
        SMALL_LEAK_ARGS

    def body(t, p, report_path):
        deadline = p.mpa_t0 + HIST_SECS - 5
        wait_stuck(c, t, SMALL_LEAK_TOTAL, deadline)
        q = pool_row(c, t, name)
        while q.get("history", 0) < HIST_SCANS and \
                time.monotonic() < deadline:
            time.sleep(0.1)
            q = pool_row(c, t, name)
        wait_scans(c, t, "full ring", t.ask("/mpaudit/summary")["scans"] + 20,
                   deadline)   # wrapped well past the first HIST_SCANS
        set_config(c, t, "scan_ms=0", 1)
        q = pool_row(c, t, name)
        c.eq("/mpaudit/pools: history of a full ring", q.get("history"),
             HIST_SCANS)
        pages = [t.ask("/mpaudit/history,%s" % FWD_POOL),
                 t.ask("/mpaudit/history,%s,1" % FWD_POOL)]
        cols = ("age_ms", "in_use", "stuck", "driver_held", "free")
        for i, v in enumerate(pages):
            c.eq("/mpaudit/history page %d fields" % i,
                 {k: v.get(k) for k in ("pool", "size", "history", "total",
                                        "page", "pages", "per_page")},
                 {"pool": FWD_POOL, "size": FWD_POOL_SIZE,
                  "history": HIST_SCANS, "total": HIST_SCANS, "page": i,
                  "pages": 2, "per_page": HISTORY_PER_PAGE})
            c.eq("/mpaudit/history page %d column lengths" % i,
                 [len(v.get(k, [])) for k in cols],
                 [HISTORY_PER_PAGE if i == 0 else
                  HIST_SCANS - HISTORY_PER_PAGE] * len(cols))
        h = {k: pages[0].get(k, []) + pages[1].get(k, []) for k in cols}
        c.eq("/mpaudit/history: scan of both pages and of pools",
             [v.get("scan") for v in pages],
             [t.ask("/mpaudit/pools").get("scan")] * 2)
        c.eq("/mpaudit/history: age_ms of the newest, of the oldest",
             (h["age_ms"][-1:], h["age_ms"][:1]),
             ([0], [pages[0].get("span_ms")]))
        c.eq("/mpaudit/history: age_ms never increases",
             h["age_ms"], sorted(h["age_ms"], reverse=True))
        c.true("/mpaudit/history: samples of in_use + free != size",
               all(u + f == FWD_POOL_SIZE for u, f in
                   zip(h["in_use"], h["free"])))
        c.eq("/mpaudit/history: the newest sample vs /mpaudit/pools",
             (h["in_use"][-1], h["free"][-1], h["stuck"][-1],
              h["driver_held"][-1]),
             (q.get("in_use"), q.get("free"), q.get("stuck"),
              q.get("driver_held")))
        c.eq("/mpaudit/history: stuck of the newest", h["stuck"][-1],
             SMALL_LEAK_TOTAL)
        # The span of HIST_SCANS scans 20 ms apart: at least 249 * 20 ms.
        c.true("/mpaudit/history: span_ms %r for %d scans every 20 ms" % (
            pages[0].get("span_ms"), HIST_SCANS),
            pages[0].get("span_ms", 0) >= (HIST_SCANS - 1) * 20)
        check_error(c, t, "/mpaudit/history,%s,2" % FWD_POOL, "ERANGE",
                    ["page 2 out of range: 2 pages"])
        check_error(c, t, "/mpaudit/history,%s,x" % FWD_POOL, "EINVAL",
                    ["not a number"])
        check_error(c, t, "/mpaudit/history," + "p" * 40, "ENOENT",
                    ["no audited pool"])
        set_config(c, t, "scan_ms=20", 1)
        check_sizes(c, t)
        stop_at_end(p)

    run = session(ctx, name, cmd, HIST_ENV, HIST_SECS + 30, body)
    check_exit(c, run, 3)


# ---- pcap of the stuck mbufs ------------------------------------------------

# tele_pcap: two net_pcap ports replaying demo.pcap (every received mbuf
# holds a frame of it, byte for byte) and the usual leaks.
PCAP_SECS = 12


def read_pcap(path):
    """[(caplen, origlen, bytes)] of a classic pcap file (microseconds,
    either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == 0xa1b2c3d4 else ">"
    if struct.unpack(end + "I", data[:4])[0] != 0xa1b2c3d4:
        raise Failed("%s: not a pcap file (magic %#x)" % (path, magic))
    link = struct.unpack(end + "I", data[20:24])[0]
    if link != 1:
        raise Failed("%s: link type %d, not Ethernet" % (path, link))
    out, off = [], 24
    while off < len(data):
        _, _, caplen, origlen = struct.unpack(end + "IIII",
                                              data[off:off + 16])
        out.append((caplen, origlen, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return out


def t_tele_pcap(ctx, c):
    """/mpaudit/pcap,NAME: the capture holds exactly the stuck mbufs, one
    packet each, whose the sidecar says exactly as the truth; received
    ones byte for byte frames of the replayed capture; tshark reads it;
    bad names, an existing name and a missing directory refused, the
    files already there untouched."""
    name = "tele_pcap"
    demo = os.path.join(os.path.dirname(ctx.fwd), "demo.pcap")
    frames = set(f[2] for f in read_pcap(demo))
    pdir = os.path.join(ctx.tmp, "pcap")
    os.mkdir(pdir)
    vdevs = ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % demo,
             "--vdev", "net_pcap1,rx_pcap=%s,infinite_rx=1" % demo]
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + vdevs + \
        ["--", "--duration", "0", "--stats-ms", "0"] + \
        SMALL_LEAK_ARGS
    env = dict(LEAK_ENV, MPAUDIT_PCAP_DIR=pdir)
    seen = {}

    def body(t, p, report_path):
        wait_stuck(c, t, SMALL_LEAK_TOTAL, p.mpa_t0 + STUCK_WAIT_S)
        for bad in ("../x", "..", ".hidden", "a/b", "/tmp/x", "a..b"):
            check_error(c, t, "/mpaudit/pcap," + bad, "EINVAL",
                        ["bad capture name"])
        check_error(c, t, "/mpaudit/pcap", "EINVAL", ["missing parameter"])
        v = t.ask("/mpaudit/pcap,leak1")
        if not c.true("/mpaudit/pcap,leak1: %r" % (v,),
                      isinstance(v, dict) and "path" in v):
            return
        seen["reply"] = v
        c.eq("/mpaudit/pcap,leak1: files", (v.get("path"), v.get("sidecar")),
             (os.path.join(pdir, "leak1.pcap"),
              os.path.join(pdir, "leak1.json")))
        c.eq("/mpaudit/pcap,leak1: packets, truncated, not_mbufs",
             (v.get("packets"), v.get("truncated"), v.get("not_mbufs")),
             (SMALL_LEAK_TOTAL, 0, 0))
        before = [os.stat(os.path.join(pdir, f)).st_mtime_ns
                  for f in ("leak1.pcap", "leak1.json")]
        check_error(c, t, "/mpaudit/pcap,leak1", "EEXIST", ["leak1.pcap"])
        c.eq("an existing capture is left as it was",
             [os.stat(os.path.join(pdir, f)).st_mtime_ns
              for f in ("leak1.pcap", "leak1.json")], before)
        check_sizes(c, t)
        stop_at_end(p)

    run = session(ctx, name, cmd, env, PCAP_SECS + 30, body)
    check_exit(c, run, 3)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth total" % name, sum(truth.values()), SMALL_LEAK_TOTAL)
    check_groups_exact(c, run, truth)
    if "reply" not in seen:
        return
    pkts = read_pcap(os.path.join(pdir, "leak1.pcap"))
    with open(os.path.join(pdir, "leak1.json")) as f:
        side = json.load(f)
    c.eq("%s: packets in the capture, in the sidecar" % name,
         (len(pkts), len(side.get("packets", []))),
         (SMALL_LEAK_TOTAL, SMALL_LEAK_TOTAL))
    groups = {}
    for (caplen, origlen, data), e in zip(pkts, side.get("packets", [])):
        k = key_of(e.get("pool"), e.get("state"), e.get("lcore"),
                   e.get("port"), e.get("queue"), e.get("ring"),
                   e.get("site"))
        groups[k] = groups.get(k, 0) + 1
        c.eq("%s: packet of %s: lengths vs the sidecar" % (name, key_str(k)),
             (caplen, origlen), (e.get("captured"), e.get("pkt_len")))
        if e.get("state") == "app":
            # Allocated and never filled: an empty packet.
            c.eq("%s: app packet length" % name, caplen, 0)
        else:
            c.true("%s: a %s packet of %d bytes is no frame of %s" % (
                name, e.get("state"), caplen, demo), data in frames)
    c.eq("%s: the capture's packets by holder vs the truth" % name,
         sorted((key_str(k), n) for k, n in groups.items()),
         sorted((key_str(k), n) for k, n in truth.items()))
    try:
        out = subprocess.run(["tshark", "-r", os.path.join(pdir,
                                                         "leak1.pcap")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=60)
    except FileNotFoundError:
        c.errors.append("%s: tshark is not installed (./run test installs "
                        "it)" % name)
        return
    c.eq("%s: tshark -r: status" % name, out.returncode, 0)
    c.eq("%s: tshark -r: packets" % name,
         len([x for x in out.stdout.splitlines() if x.strip()]),
         SMALL_LEAK_TOTAL)


# tele_pcap_chain: frames longer than an mbuf's data room (2048), which
# net_pcap receives as chains of two segments; the first CHAIN_LEAK are
# leaked (--leak-rx 1: every packet until --leak-max).
CHAIN_FRAMES = 64
CHAIN_LEN = 3000
CHAIN_LEAK = 10


def write_chain_pcap(path):
    """CHAIN_FRAMES distinct Ethernet frames of CHAIN_LEN + i bytes."""
    frames = []
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(CHAIN_FRAMES):
            n = CHAIN_LEN + i
            fr = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0]) + \
                bytes((i * 7 + j) & 0xff for j in range(n - 14))
            f.write(struct.pack("<IIII", 1767225600, i, n, n))
            f.write(fr)
            frames.append(fr)
    return frames


def t_tele_pcap_chain(ctx, c):
    """Leaked multi-segment mbufs are written whole: each packet the
    frame it was received from, byte for byte, from both segments."""
    name = "tele_pcap_chain"
    src = os.path.join(ctx.tmp, "chain.pcap")
    frames = write_chain_pcap(src)
    pdir = os.path.join(ctx.tmp, "pcap-chain")
    os.mkdir(pdir)
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + \
        ["--vdev", "net_pcap0,rx_pcap=%s" % src, "--vdev", "net_null0",
         "--", "--duration", "0", "--stats-ms", "0", "--leak-rx", "1",
         "--leak-max", str(CHAIN_LEAK)]
    env = dict(LEAK_ENV, MPAUDIT_PCAP_DIR=pdir)
    seen = {}

    def body(t, p, report_path):
        deadline = p.mpa_t0 + STUCK_WAIT_S
        v = t.ask("/mpaudit/stuck")
        while time.monotonic() < deadline and not any(
                g.get("state") == "rx" and g.get("count") == 2 * CHAIN_LEAK
                for g in v.get("groups", {}).values()):
            time.sleep(0.1)
            v = t.ask("/mpaudit/stuck")
        seen["reply"] = t.ask("/mpaudit/pcap,chain")
        stop_at_end(p)

    run = session(ctx, name, cmd, env, 40, body)
    check_exit(c, run, 3)
    # Both segments of each leaked chain are the RX holder's, though the
    # driver took the second from the pool itself: no pmd group.
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth" % name, sorted(truth.values()), [CHAIN_LEAK])
    c.eq("%s: stuck groups (state, port, count)" % name,
         sorted((g.get("state"), g.get("port"), g.get("count"))
                for g in run.report().get("stuck", [])),
         [("rx", 0, 2 * CHAIN_LEAK)])
    v = seen.get("reply", {})
    c.eq("%s: /mpaudit/pcap packets, truncated" % name,
         (v.get("packets"), v.get("truncated")), (CHAIN_LEAK, 0))
    if "path" not in v:
        return
    pkts = read_pcap(v["path"])
    with open(v["sidecar"]) as f:
        side = json.load(f).get("packets", [])
    c.eq("%s: packets' states, ports, segments" % name,
         sorted((e.get("state"), e.get("port"), e.get("segments"))
                for e in side), [("rx", 0, 2)] * CHAIN_LEAK)
    c.eq("%s: the packets are the first %d frames, whole" % (
        name, CHAIN_LEAK), sorted(x[2] for x in pkts),
        sorted(frames[:CHAIN_LEAK]))


TESTS = {
    "tele_fwd": t_tele_fwd,
    "tele_heap_diff": t_tele_heap_diff,
    "tele_preload": t_tele_preload,
    "tele_heap_off": t_tele_heap_off,
    "tele_both": t_tele_both,
    "tele_forecast": t_tele_forecast,
    "tele_forecast_clean": t_tele_forecast_clean,
    "tele_config": t_tele_config,
    "tele_history": t_tele_history,
    "tele_pcap": t_tele_pcap,
    "tele_pcap_chain": t_tele_pcap_chain,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--fwd", required=True, help="instrumented mpaudit-fwd")
    ap.add_argument("--fwd-plain", required=True,
                    help="uninstrumented mpaudit-fwd")
    ap.add_argument("--preload", required=True, help="libmpaudit_preload.so")
    ap.add_argument("--heapleak", required=True, help="heapleak test program")
    args = ap.parse_args()
    for exe in (args.fwd, args.fwd_plain, args.heapleak):
        if not os.access(exe, os.X_OK):
            print("mpa_tele_it: %s is not an executable" % exe,
                  file=sys.stderr)
            return 1
    if not os.path.isfile(args.preload):
        print("mpa_tele_it: %s does not exist" % args.preload,
              file=sys.stderr)
        return 1
    print("mpa_tele_it: %s, EAL memory: %s" % (args.test, " ".join(
        os.environ.get("MPA_EAL_MEM", "").split() or
        DEFAULT_EAL_MEM.split())))
    return run_case("mpa_tele_it", args.test, TESTS[args.test], TCtx(args))


if __name__ == "__main__":
    sys.exit(main())
