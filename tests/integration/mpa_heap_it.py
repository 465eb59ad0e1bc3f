#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Integration tests of heap tracking in zero-recompile mode (rte_malloc,
memzones and libc under libmpaudit_preload.so).

Usage: mpa_heap_it.py TEST --preload LIB --heapleak PATH --heapmod PATH

heapleak (tests/integration/heapleak.c) is a plain DPDK program that keeps
a ledger of what it leaks and prints it as ground truth: kind, bytes,
count, rte_malloc type, memzone, socket, lcores, sample addresses and the
exact call site ("function (heapleak.c:LINE)") of every group, every bad
free it commits, and what each snapshot difference must contain. Each test
runs it under LD_PRELOAD=LIB and compares the JSON report (MPAUDIT_REPORT),
the diff files and the dumps with that truth, exactly: the groups whose
innermost frame is in heapleak.c or heapmod.c must be the truth's groups,
no more, no less. Groups outside our sources (DPDK's or libc's own
allocations after rte_eal_init) are printed as notes, not judged.

Helpers (running, checks) come from mpa_lib.py. EAL memory arguments come
from MPA_EAL_MEM (default "--no-huge -m 512").
Exit status 0 pass, 1 fail. Standard library only.
"""

import argparse
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpa_lib import (  # noqa: E402
    case_args, eal_mem_desc,
    Failed, PCtx, check_bad_config_msg, check_exit, read_text,
    run_case, stop_proc, wait_text)

PROG = "heapleak"
KINDS = ("libc", "rte_malloc")
DEFAULT_DEPTH = 16
ENOTSUP = -errno.ENOTSUP

LCORES_ONE = "0@0"
# mt: EAL workers 1 (CPU 1) and 2 (CPU 0, shared with the sleeping main
# lcore), plus MT_PTHREADS plain threads.
LCORES_MT = "0@0,1@1,2@0"
MT_WORKERS = 2
MT_PTHREADS = 2
MT_ITERS = 200000

# A group is ours when its innermost frame is in one of our sources.
OWN_SITE_RE = re.compile(r"\((heapleak|heapmod)\.c:\d+\)$")
# The three frame forms of the contract.
FRAME_RE = re.compile(r"^(\S+ \([^()\s]+:\d+\)|\S+ \([^()\s]+\+0x[0-9a-f]+\)|"
                      r"\S+\+0x[0-9a-f]+)$")

TRUTH_RE = re.compile(
    r"^heapleak: truth (?P<set>\S+) kind=(?P<kind>\S+) bytes=(?P<bytes>\d+) "
    r"count=(?P<count>\d+) type=(?P<type>\S+) memzone=(?P<memzone>\S+) "
    r"socket=(?P<socket>-?\d+) lcores=(?P<lcores>\S+) "
    r"non_eal=(?P<non_eal>\d+) via=(?P<via>\S+) addrs=(?P<addrs>\S+) "
    r"class=(?P<cls>\S+) owner=(?P<owner>\S+) "
    r"caller=(?P<caller>.+?) site=(?P<site>.+)$")
POOL_RE = re.compile(r"^heapleak: truth pool name=(?P<name>\S+) n=(?P<n>\d+) "
                     r"elt_size=(?P<elt>\d+) site=(?P<site>.+)$", re.M)
# Classes of the reachability scan, in report order (leaks first).
CLASSES = ["lost", "reachable", "owned"]
ERROR_RE = re.compile(
    r"^heapleak: truth error type=(?P<type>\S+) heap=(?P<heap>\S+) "
    r"address=(?P<addr>0x[0-9a-f]+) first_site=(?P<first>.+?) "
    r"site=(?P<site>.+)$")
DIFF_RE = re.compile(
    r"^heapleak: truth diff from=(?P<from>\S+) to=(?P<to>\S+) "
    r"kind=(?P<kind>\S+) change=(?P<change>\S+) "
    r"bytes_from=(?P<bf>\d+) bytes_to=(?P<bt>\d+) "
    r"count_from=(?P<cf>\d+) count_to=(?P<ct>\d+) "
    r"caller=(?P<caller>.+?) site=(?P<site>.+)$")
API_RE = re.compile(r"^heapleak: api (\S+)=(\S+)$")

TAIL = 60


def dash(v):
    return None if v == "-" else v


# ---- context ----------------------------------------------------------------

class HCtx(PCtx):
    def __init__(self, args):
        ns = argparse.Namespace(preload=args.preload, fwd_plain=None,
                                dfree=None, testpmd=None)
        super().__init__(ns)
        self.heapleak = args.heapleak
        self.heapleak_instr = args.heapleak_instr
        self.heapmod = os.path.abspath(args.heapmod)

    def hl_cmd(self, name, lcores, mode, prog=None):
        return [prog or self.heapleak] + self.eal(name, lcores) + ["--"] + \
            list(mode)

    def hl_env(self, extra=None, bad="none"):
        """LD_PRELOAD, the MPAUDIT_* of @extra, and which bad frees
        heapleak's mode leaks commits (none unless asked: they crash a
        process whose frees are not checked)."""
        env = self.penv(extra)
        env["HEAPLEAK_BAD_FREES"] = bad
        return env


# ---- parsing ----------------------------------------------------------------

class Truth:
    """One group of heapleak's ledger."""

    def __init__(self, m):
        self.set = m.group("set")
        self.kind = m.group("kind")
        self.bytes = int(m.group("bytes"))
        self.count = int(m.group("count"))
        self.type = dash(m.group("type"))
        self.memzone = dash(m.group("memzone"))
        self.socket = int(m.group("socket"))
        lc = dash(m.group("lcores"))
        self.lcores = sorted(int(x) for x in lc.split(",")) if lc else []
        self.non_eal = int(m.group("non_eal"))
        self.via = dash(m.group("via"))
        self.addrs = [int(a, 16) for a in m.group("addrs").split(",")]
        self.caller = dash(m.group("caller"))
        self.site = m.group("site")
        # "?": heapleak does not promise a class for this group.
        self.cls = m.group("cls")
        # Spaces are "_" on the truth line: "memzone_hl_mz" is "memzone hl_mz".
        own = dash(m.group("owner"))
        self.owner = own.replace("_", " ", 1) if own else None

    def key(self):
        return "kind=%s site=%s caller=%s via=%s" % (
            self.kind, self.site, self.caller, self.via)


def truth_groups(run, sets=None):
    """heapleak's truth groups, those of @sets only if given."""
    res = [Truth(m) for m in (TRUTH_RE.match(l) for l in run.out.splitlines())
           if m]
    if sets is not None:
        res = [t for t in res if t.set in sets]
    return res


def truth_errors(run):
    return [(m.group("type"), m.group("heap"), int(m.group("addr"), 16),
             m.group("site"), dash(m.group("first")))
            for m in (ERROR_RE.match(l) for l in run.out.splitlines()) if m]


def truth_diffs(run, frm, to):
    res = []
    for line in run.out.splitlines():
        m = DIFF_RE.match(line)
        if not m or m.group("from") != frm or m.group("to") != to:
            continue
        bf, bt, cf, ct = (int(m.group(k)) for k in ("bf", "bt", "cf", "ct"))
        res.append({"kind": m.group("kind"), "change": m.group("change"),
                    "bytes_from": bf, "bytes_to": bt, "count_from": cf,
                    "count_to": ct, "bytes_delta": bt - bf,
                    "count_delta": ct - cf, "site": m.group("site"),
                    "caller": dash(m.group("caller"))})
    return res


def api_results(c, run):
    """{name: int} of heapleak's "api" lines; "unavailable" (the preload
    does not export the function) is a failure."""
    res = {}
    for line in run.out.splitlines():
        m = API_RE.match(line)
        if not m:
            continue
        if m.group(2) == "unavailable":
            c.errors.append("%s: mpa_heap_* not available to the program "
                            "(%s): the preload does not export it" %
                            (run.name, m.group(1)))
            res[m.group(1)] = None
        else:
            res[m.group(1)] = int(m.group(2))
    return res


def load_json(path, what):
    if not os.path.exists(path):
        raise Failed("%s: no file %s" % (what, path))
    with open(path) as f:
        try:
            return json.load(f)
        except ValueError as e:
            raise Failed("%s: %s is not JSON: %s" % (what, path, e))


def show_group(g):
    st = g.get("stack") or []
    return "kind=%s bytes=%s count=%s type=%s memzone=%s stack=%s" % (
        g.get("kind"), g.get("bytes"), g.get("count"), g.get("type"),
        g.get("memzone"), st[:4])


def note(what):
    print("mpa_heap_it: note: " + what)


# ---- checks -----------------------------------------------------------------

def check_done(c, run, rc=0):
    check_exit(c, run, rc)
    c.true("%s: no 'heapleak: done' line (the program did not finish)" %
           run.name, re.search(r"^heapleak: done$", run.out, re.M))


def check_malloc_list(c, what, groups, depth, kinds=KINDS, label=""):
    """Form of every group, the order (bytes, largest first); notes for the
    groups outside our sources. Returns our groups."""
    if not c.true("%s: malloc is not a list: %r" % (what, groups),
                  isinstance(groups, list)):
        return []
    own = []
    for g in groups:
        st = g.get("stack")
        ok = c.true("%s: malloc entry without a stack of 1..%d frames: %s" %
                    (what, depth, show_group(g)),
                    isinstance(st, list) and 1 <= len(st) <= depth and
                    all(isinstance(f, str) for f in st))
        if not ok:
            continue
        for f in st:
            c.true("%s: frame %r is none of 'function (file:line)', "
                   "'function (module+0xoff)', 'module+0xoff'" % (what, f),
                   FRAME_RE.match(f))
        c.true("%s: kind %r not in %r: %s" % (what, g.get("kind"), kinds,
                                             show_group(g)),
               g.get("kind") in kinds)
        for k in ("bytes", "count", "max_age_ms", "non_eal"):
            c.true("%s: %s of %s is not an integer" % (what, k, show_group(g)),
                   isinstance(g.get(k), int) and
                   not isinstance(g.get(k), bool))
        c.true("%s: socket of %s is neither an integer nor null (any)" %
               (what, show_group(g)),
               "socket" in g and (g["socket"] is None or
                                  isinstance(g["socket"], int)))
        c.true("%s: count of %s is not > 0" % (what, show_group(g)),
               isinstance(g.get("count"), int) and g["count"] > 0)
        c.true("%s: sample_address %r is not a hex string" %
               (what, g.get("sample_address")),
               isinstance(g.get("sample_address"), str) and
               re.match(r"^0x[0-9a-f]+$", g["sample_address"]))
        c.true("%s: lcores %r is not a list of integers" %
               (what, g.get("lcores")),
               isinstance(g.get("lcores"), list) and
               all(isinstance(x, int) for x in g["lcores"]))
        for k in ("type", "memzone", "owner"):
            c.true("%s: %s %r is neither a string nor null" %
                   (what, k, g.get(k)),
                   k in g and (g[k] is None or isinstance(g[k], str)))
        c.true("%s: class %r of %s is not one of %s" %
               (what, g.get("class"), show_group(g), CLASSES),
               g.get("class") in CLASSES)
        c.eq("%s: leak of %s (lost or growing)" % (what, show_group(g)),
             g.get("leak"), g.get("class") == "lost" or
             g.get("growing") is True)
        c.eq("%s: owner of %s is set exactly when owned" %
             (what, show_group(g)), g.get("owner") is not None,
             g.get("class") == "owned")
        if OWN_SITE_RE.search(st[0]):
            own.append(g)
        else:
            note("%s: %sgroup outside heapleak.c/heapmod.c: %s" %
                 (what, label, show_group(g)))
    order = [(CLASSES.index(g["class"]) if g.get("class") in CLASSES else 9,
              g.get("bytes")) for g in groups]
    if all(isinstance(b, int) for _, b in order):
        c.eq("%s: malloc groups' (class, bytes), in report order (must be "
             "lost, reachable, owned, each largest first)" % what, order,
             sorted(order, key=lambda x: (x[0], -x[1])))
    return own


def check_own_groups(c, what, own, truth, depth, max_age=None, min_age=0):
    """Our groups are exactly @truth: one report group per truth group,
    same kind, bytes, count, frames, type, memzone, socket, lcores,
    non-EAL count, a sample among the group's addresses, nothing else."""
    matched = set()
    for t in truth:
        cands = []
        for i, g in enumerate(own):
            st = g.get("stack") or []
            if g.get("kind") != t.kind or st[0] != t.site:
                continue
            if t.caller is not None and depth >= 2 and \
                    (len(st) < 2 or st[1] != t.caller):
                continue
            if t.via is not None and depth >= 3 and \
                    not any(f.startswith(t.via + " (") for f in st):
                continue
            if t.cls != "?" and g.get("class") != t.cls:
                continue
            cands.append(i)
        if not cands:
            same_site = [show_group(g) for g in own
                         if (g.get("stack") or [""])[0] == t.site]
            c.errors.append("%s: truth group missing from the report: "
                            "bytes=%d count=%d %s%s" %
                            (what, t.bytes, t.count, t.key(),
                             "; report groups at that site: %s" % same_site
                             if same_site else ""))
            continue
        # Without a promised class, one group per class it fell into.
        classes = [own[i].get("class") for i in cands]
        if len(cands) > 1 and (t.cls != "?" or
                               len(set(classes)) != len(classes)):
            c.errors.append("%s: truth group %s split into %d report "
                            "groups: %s" % (what, t.key(), len(cands),
                                            [show_group(own[i])
                                             for i in cands]))
        for i in cands:
            if i in matched:
                c.errors.append("%s: report group %s matches two truth "
                                "groups" % (what, show_group(own[i])))
            matched.add(i)
        g = own[cands[0]]
        c.eq("%s: bytes, count of %s (all its classes)" % (what, t.key()),
             (sum(own[i].get("bytes", 0) for i in cands),
              sum(own[i].get("count", 0) for i in cands)),
             (t.bytes, t.count))
        if t.cls != "?":
            c.eq("%s: class, owner of %s" % (what, t.key()),
                 (g.get("class"), g.get("owner")), (t.cls, t.owner))
        if t.type != "?":
            c.eq("%s: type of %s" % (what, t.key()), g.get("type"), t.type)
        # "Any socket" is -1 in the truth; the report may say null.
        sock = g.get("socket")
        c.eq("%s: memzone, socket of %s" % (what, t.key()),
             (g.get("memzone"), -1 if sock is None else sock),
             (t.memzone, t.socket))
        c.eq("%s: lcores, non_eal of %s" % (what, t.key()),
             (sorted({x for i in cands for x in own[i].get("lcores") or []}),
              sum(own[i].get("non_eal") or 0 for i in cands)),
             (t.lcores, t.non_eal))
        for i in cands:
            try:
                sample = int(own[i].get("sample_address"), 16)
            except (TypeError, ValueError):
                sample = None
            c.true("%s: sample_address %s of %s is not one of its blocks "
                   "%s" % (what, own[i].get("sample_address"), t.key(),
                           ["%#x" % a for a in t.addrs]), sample in t.addrs)
        age = g.get("max_age_ms")
        hi = max_age if max_age is not None else 10 ** 9
        c.true("%s: max_age_ms %r of %s not in [%d, %d]" %
               (what, age, t.key(), min_age, hi),
               isinstance(age, int) and min_age <= age <= hi)
    for i, g in enumerate(own):
        if i not in matched:
            c.errors.append("%s: report group at our site but not in the "
                            "truth (freed, out of scope or misattributed): "
                            "%s" % (what, show_group(g)))


def check_heap_section(c, what, rep, active=True, tracking=None,
                       depth=DEFAULT_DEPTH, snapshots=None, final=True):
    h = rep.get("heap")
    if not c.true("%s: no heap object in the report" % what,
                  isinstance(h, dict)):
        return
    c.eq("%s: heap.active" % what, h.get("active"), active)
    if active:
        c.eq("%s: heap.disabled" % what, h.get("disabled"), None)
        c.eq("%s: heap.depth" % what, h.get("depth"), depth)
    if tracking is not None:
        c.eq("%s: heap.tracking" % what, h.get("tracking"), tracking)
    if snapshots is not None:
        c.eq("%s: heap.snapshots" % what, h.get("snapshots"), snapshots)
    for k in ("stacks", "table_bytes"):
        c.true("%s: heap.%s missing" % (what, k), k in h)
    live = h.get("live")
    for k in ("allocs", "frees"):
        c.true("%s: heap.%s is neither in heap nor in heap.live.KIND" %
               (what, k), heap_total(h, k) is not None)
    if not c.true("%s: heap.live %r is not {libc: {count, bytes}, "
                  "rte_malloc: {count, bytes}}" % (what, live),
                  isinstance(live, dict) and
                  all(isinstance(live.get(k), dict) for k in KINDS)):
        return
    if active:
        cl = (h.get("scan") or {}).get("classes") or {}
        gs = rep.get("malloc") or []
        c.eq("%s: heap.scan.classes (groups, count, bytes) vs the malloc "
             "groups of each class" % what,
             {k: tuple((cl.get(k) or {}).get(f) for f in
                       ("groups", "count", "bytes")) for k in CLASSES},
             {k: (sum(1 for g in gs if g.get("class") == k),
                  sum(g.get("count", 0) for g in gs if g.get("class") == k),
                  sum(g.get("bytes", 0) for g in gs if g.get("class") == k))
              for k in CLASSES})
    # The final report lists every outstanding in-scope block: live must
    # add up to the listed groups plus heap.runtime, the dynamic loader's
    # own blocks (thread TLS), which no group lists.
    if final and active:
        rt = h.get("runtime") or {}
        for k in KINDS:
            gs = [g for g in rep.get("malloc") or [] if g.get("kind") == k]
            r = rt.get(k) or {}
            c.eq("%s: heap.live.%s (count, bytes) vs the sum of the %s "
                 "groups and heap.runtime.%s" % (what, k, k, k),
                 (live[k].get("count"), live[k].get("bytes")),
                 (sum(g.get("count", 0) for g in gs) + r.get("count", 0),
                  sum(g.get("bytes", 0) for g in gs) + r.get("bytes", 0)))


def check_errors(c, what, rep, want):
    errs = rep.get("errors")
    if not c.true("%s: errors is not a list: %r" % (what, errs),
                  isinstance(errs, list)):
        return
    got = []
    for e in errs:
        try:
            addr = int(e.get("address"), 16)
        except (TypeError, ValueError):
            addr = e.get("address")
        got.append((e.get("type"), e.get("pool_or_heap"), addr,
                    e.get("site"), e.get("first_site")))
    c.eq("%s: errors (type, pool_or_heap, address, site, first_site), in "
         "order" % what, got, want)


def check_summary(c, what, rep):
    """exit_code 3 when a leak, error or stuck object is reported, else 0:
    reachable and owned allocations are not leaks."""
    s = rep.get("summary") or {}
    leaks = [g for g in rep.get("malloc") or [] if g.get("leak")]
    bad = bool(leaks) or bool(rep.get("errors")) or bool(rep.get("stuck"))
    c.eq("%s: summary.exit_code (malloc %d leak groups, errors %d)" %
         (what, len(leaks), len(rep.get("errors") or [])),
         s.get("exit_code"), 3 if bad else 0)
    c.eq("%s: summary.malloc_groups, malloc_leaks" % what,
         (s.get("malloc_groups"), s.get("malloc_leaks")),
         (len(rep.get("malloc") or []), len(leaks)))
    c.eq("%s: summary.errors vs the errors listed" % what, s.get("errors"),
         len(rep.get("errors") or []))


def check_final(c, run, truth, errors, depth=DEFAULT_DEPTH, kinds=KINDS,
                tracking=True, snapshots=None):
    """The final report against the truth; returns it."""
    rep = run.report()
    own = check_malloc_list(c, run.name, rep.get("malloc"), depth, kinds)
    check_own_groups(c, run.name, own, truth, depth,
                     max_age=int(run.secs * 1000) + 1000)
    check_errors(c, run.name, rep, errors)
    check_heap_section(c, run.name, rep, tracking=tracking, depth=depth,
                       snapshots=snapshots)
    check_summary(c, run.name, rep)
    if kinds != KINDS:
        live = (rep.get("heap") or {}).get("live") or {}
        for k in KINDS:
            if k not in kinds:
                c.eq("%s: heap.live.%s count of an untracked kind" %
                     (run.name, k), (live.get(k) or {}).get("count"), 0)
    return rep


# ---- mode leaks -------------------------------------------------------------

# heapleak's leak mix: groups per kind, and its two memzones.
LEAK_GROUPS = {"rte_malloc": 10, "libc": 14}
# ... and the classes it promises for them: two memzones are owned, a
# global's chain of two blocks is reachable, the rest (a dropped chain
# too) lost.
LEAK_CLASSES = {"lost": 20, "reachable": 2, "owned": 2}
LEAK_MEMZONES = ["hl_mz_leak", "hl_mz_leak2"]
# Bad frees per HEAPLEAK_BAD_FREES: (type, heap) in program order.
BAD_FREES = {
    "all": [("double_free", "rte_malloc"), ("stray_free", "rte_malloc"),
            ("double_free", "libc"), ("foreign_free", "libc")],
    "rte": [("double_free", "rte_malloc"), ("stray_free", "rte_malloc")],
    "libc": [("double_free", "libc")],
    "none": [],
}


def leaks_run(ctx, c, name, env, bad="all", depth=DEFAULT_DEPTH,
              kinds=KINDS, prog=None):
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["leaks"], prog)
    run = ctx.run(name, cmd, ctx.hl_env(env, bad=bad), timeout=60)
    check_done(c, run)
    truth = truth_groups(run, {"malloc"})
    # The truth itself is what heapleak promises.
    c.eq("%s: truth groups per kind" % name,
         {k: sum(1 for t in truth if t.kind == k) for k in KINDS},
         LEAK_GROUPS)
    c.eq("%s: truth memzones" % name,
         sorted(t.memzone for t in truth if t.memzone), LEAK_MEMZONES)
    c.eq("%s: truth classes" % name,
         {k: sum(1 for t in truth if t.cls == k) for k in CLASSES},
         LEAK_CLASSES)
    for t in truth:
        c.eq("%s: truth lcores, non_eal of %s" % (name, t.key()),
             (t.lcores, t.non_eal), ([0], 0))
        # The kept chain runs global -> libc block -> rte_malloc block:
        # with libc untracked the second is reached through nothing we
        # scan.
        if t.cls == "reachable" and "libc" not in kinds:
            t.cls = "?"
    errs = truth_errors(run)
    c.eq("%s: truth bad frees" % name, [e[:2] for e in errs], BAD_FREES[bad])
    for e in errs:
        c.true("%s: truth error site %r is not in heapleak.c" % (name, e[3]),
               OWN_SITE_RE.search(e[3]))
    rep = check_final(c, run, [t for t in truth if t.kind in kinds], errs,
                      depth=depth, kinds=kinds)
    # The pool's site is 3 frames above the allocations.
    if "rte_malloc" in kinds and depth >= 8:
        check_pool_owned(c, name, run, rep)
    return run


def check_pool_owned(c, what, run, rep):
    """The mempool heapleak keeps: every allocation made by its
    rte_mempool_create() call is owned by it, and its objects' memory is
    among them."""
    m = POOL_RE.search(run.out)
    if not c.true("%s: no truth pool line" % what, m):
        return
    site, label = m.group("site"), "mempool " + m.group("name")
    gs = [g for g in rep.get("malloc") or [] if site in (g.get("stack") or [])]
    c.true("%s: no malloc group allocated through %s" % (what, site), gs)
    c.eq("%s: (class, owner) of the groups allocated through %s" %
         (what, site), sorted({(g.get("class"), g.get("owner")) for g in gs}),
         [("owned", label)])
    c.true("%s: the pool's groups hold %d bytes, less than its %s x %s "
           "objects" % (what, sum(g.get("bytes", 0) for g in gs),
                        m.group("n"), m.group("elt")),
           sum(g.get("bytes", 0) for g in gs) >=
           int(m.group("n")) * int(m.group("elt")))


def t_heap_leaks(ctx, c):
    """Every allocating function, leaked or freed, four bad frees: the
    report's groups at our sites are exactly the leaks, the errors exactly
    the bad frees, with their sites; the program runs to its end."""
    leaks_run(ctx, c, "heap_leaks", {}, bad="all")


def t_heap_instrumented(ctx, c):
    """heapleak built with the override header and libmpaudit.so, run
    under the preload: the same exact groups and errors, from an auditor
    running in instrumented mode."""
    run = leaks_run(ctx, c, "heap_instrumented", {}, bad="all",
                    prog=ctx.heapleak_instr)
    c.eq("heap_instrumented: report mode", run.report().get("mode"),
         "instrumented")
    c.true("heap_instrumented: no line saying the preload runs the "
           "instrumented auditor", "auditing it in instrumented mode" in
           run.err)


def t_heap_depth(ctx, c):
    """MPAUDIT_HEAP_DEPTH: 1 keeps only the call site, 2 also its caller;
    the groups stay the same."""
    for depth in (1, 2):
        leaks_run(ctx, c, "heap_depth-%d" % depth,
                  {"MPAUDIT_HEAP_DEPTH": str(depth)}, bad="all", depth=depth)


def t_heap_kinds(ctx, c):
    """MPAUDIT_HEAP=rte or libc: only that heap is tracked and checked."""
    leaks_run(ctx, c, "heap_kinds-rte", {"MPAUDIT_HEAP": "rte"}, bad="rte",
              kinds=("rte_malloc",))
    leaks_run(ctx, c, "heap_kinds-libc", {"MPAUDIT_HEAP": "libc"},
              bad="libc", kinds=("libc",))


# ---- mode mt ----------------------------------------------------------------

def mt_expected():
    """heapleak's per-thread leaks (MT_LIBC_N etc.), summed per group:
    {(kind, via): (bytes, count)}. Workers are threads 0..W-1."""
    res = {}
    for t in range(MT_WORKERS + MT_PTHREADS):
        via = "mt_lcore_main" if t < MT_WORKERS else "mt_pthread_main"
        for kind, n, size in (("libc", 2 + t, 100 + 4 * t),
                              ("rte_malloc", 1 + t, 2000 + 64 * t)):
            b, k = res.get((kind, via), (0, 0))
            res[(kind, via)] = (b + n * size, k + n)
    return res


def heap_total(h, name):
    """heap.@name (allocs, frees) over both kinds: an integer or
    {kind: integer} in the heap object, or an integer per kind in
    heap.live (the contract names the counters, not their place)."""
    def isint(x):
        return isinstance(x, int) and not isinstance(x, bool)
    v = h.get(name)
    if isint(v):
        return v
    if isinstance(v, dict) and v and all(isint(x) for x in v.values()):
        return sum(v.values())
    live = h.get("live")
    if isinstance(live, dict) and all(
            isinstance(live.get(k), dict) and isint(live[k].get(name))
            for k in KINDS):
        return sum(live[k][name] for k in KINDS)
    return None


def t_heap_mt(ctx, c):
    """EAL workers and plain pthreads churn malloc/free and
    rte_malloc/rte_free concurrently (some blocks freed by another thread)
    and leak known blocks: the four groups exact (lcores, non-EAL counts),
    no false error, nothing of the churn reported."""
    name = "heap_mt"
    cmd = ctx.hl_cmd(name, LCORES_MT,
                     ["mt", str(MT_ITERS), str(MT_PTHREADS)])
    run = ctx.run(name, cmd, ctx.hl_env({}), timeout=110)
    check_done(c, run)
    c.true("%s: no plan line 'workers=%d pthreads=%d iters=%d'" %
           (name, MT_WORKERS, MT_PTHREADS, MT_ITERS),
           "heapleak: mt workers=%d pthreads=%d iters=%d " %
           (MT_WORKERS, MT_PTHREADS, MT_ITERS) in run.out)
    truth = truth_groups(run, {"malloc"})
    c.eq("%s: truth (bytes, count) per (kind, thread kind)" % name,
         {(t.kind, t.via): (t.bytes, t.count) for t in truth}, mt_expected())
    for t in truth:
        want = (list(range(1, MT_WORKERS + 1)), 0) \
            if t.via == "mt_lcore_main" else ([], t.count)
        c.eq("%s: truth lcores, non_eal of %s" % (name, t.key()),
             (t.lcores, t.non_eal), want)
    rep = check_final(c, run, truth, [])
    h = rep.get("heap") or {}
    # Each iteration of each thread allocates once from each heap.
    floor = (MT_WORKERS + MT_PTHREADS) * MT_ITERS * 2
    for k in ("allocs", "frees"):
        n = heap_total(h, k)
        c.true("%s: heap %s %r below the %d the threads made" %
               (name, k, n, floor), n is not None and n >= floor)


# ---- mode snapdiff ----------------------------------------------------------

SD_STUCK_MS = 500   # below heapleak's SD_DUMP_AGE_MS (1500)
SD_SNAPSHOTS = ["a", "b", "abcdefghijklmnopqrstuvwxyz01234"] + \
    ["s-%d.x_" % i for i in range(3, 16)]
SD_API = {
    "snapshot_a": 0, "snapshot_b": 0, "diff_ab": 0, "diff_bnow": 0,
    "snapshot_dup": -errno.EEXIST, "snapshot_now": -errno.EINVAL,
    "snapshot_empty": -errno.EINVAL, "snapshot_space": -errno.EINVAL,
    "snapshot_slash": -errno.EINVAL, "snapshot_long32": -errno.EINVAL,
    "snapshot_long31": 0, "snapshot_fill": 0, "snapshot_full": -errno.ENOSPC,
    "diff_nosuch_from": -errno.ENOENT, "diff_nosuch_to": -errno.ENOENT,
    "track_on": 1, "dump": 0,
}
# What heapleak's snapdiff does, as (change, kind, bytes_delta, count_delta)
# by bytes_delta: a check of the truth lines themselves.
SD_AB = [("new", "rte_malloc", 8192, 4), ("new", "libc", 5120, 10),
         ("grown", "rte_malloc", 384, 3), ("gone", "rte_malloc", -2700, -3),
         ("shrunk", "libc", -3500, -5)]
SD_BNOW = [("new", "libc", 448, 7), ("gone", "rte_malloc", -8192, -4)]


def snap_paths(ctx, name):
    base = os.path.join(ctx.tmp, name)
    return base + "-ab.json", base + "-bnow.json", base + "-dump.json"


def check_diff(c, what, path, frm, to, truth, want_shape):
    """A diff file: from, to, our changes exactly the truth, the whole
    list in bytes_delta order, the total its sum."""
    c.eq("%s: truth changes (change, kind, bytes_delta, count_delta)" % what,
         [(t["change"], t["kind"], t["bytes_delta"], t["count_delta"])
          for t in sorted(truth, key=lambda t: -t["bytes_delta"])],
         want_shape)
    d = load_json(path, what)
    c.eq("%s: from" % what, d.get("from"), frm)
    if to == "now":
        # The contract says "to_or_NULL_for_now": either spelling.
        c.true("%s: to %r is neither 'now' nor null" % (what, d.get("to")),
               d.get("to") in ("now", None))
    else:
        c.eq("%s: to" % what, d.get("to"), to)
    ch = d.get("changes")
    if not c.true("%s: changes is not a list" % what, isinstance(ch, list)):
        return
    deltas = [x.get("bytes_delta") for x in ch]
    if all(isinstance(v, int) for v in deltas):
        c.eq("%s: bytes_delta in list order (largest growth first)" % what,
             deltas, sorted(deltas, reverse=True))
    own = []
    for x in ch:
        st = x.get("stack")
        if not c.true("%s: change without a stack: %r" % (what, x),
                      isinstance(st, list) and st):
            continue
        for k, (a, b) in (("bytes_delta", ("bytes_to", "bytes_from")),
                          ("count_delta", ("count_to", "count_from"))):
            if all(isinstance(x.get(f), int) for f in (k, a, b)):
                c.eq("%s: %s of %s" % (what, k, st[0]), x[k], x[a] - x[b])
        c.true("%s: unchanged entry listed: %r" % (what, x),
               x.get("bytes_delta") != 0 or x.get("count_delta") != 0)
        if OWN_SITE_RE.search(st[0]):
            own.append(x)
        else:
            note("%s: change outside heapleak.c: %s %s bytes_delta=%s "
                 "count_delta=%s stack=%s" % (what, x.get("kind"),
                                              x.get("change"),
                                              x.get("bytes_delta"),
                                              x.get("count_delta"), st[:4]))
    fields = ("kind", "change", "bytes_from", "bytes_to", "count_from",
              "count_to", "bytes_delta", "count_delta")

    def row(x, site, caller):
        return tuple(x.get(f) for f in fields) + (site, caller)

    got = sorted(row(x, x["stack"][0],
                     x["stack"][1] if len(x["stack"]) > 1 else None)
                 for x in own)
    want = sorted(row(t, t["site"], t["caller"]) for t in truth)
    c.eq("%s: our changes (%s, stack[0], stack[1])" % (what, ", ".join(fields)),
         got, want)
    tot = d.get("total") or {}
    if all(isinstance(x.get(k), int) for x in ch
           for k in ("bytes_delta", "count_delta")):
        c.eq("%s: total vs the sum of the changes" % what,
             (tot.get("bytes_delta"), tot.get("count_delta")),
             (sum(x["bytes_delta"] for x in ch),
              sum(x["count_delta"] for x in ch)))


def t_heap_snapdiff(ctx, c):
    """Snapshots and differences: a->b (new, grown, shrunk, gone; the
    unchanged group not listed), b->now, the API's refusals, a dump that
    leaves out the block younger than MPAUDIT_STUCK_MS."""
    name = "heap_snapdiff"
    ab, bnow, dump = snap_paths(ctx, name)
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["snapdiff", ab, bnow, dump])
    run = ctx.run(name, cmd,
                  ctx.hl_env({"MPAUDIT_STUCK_MS": str(SD_STUCK_MS)}),
                  timeout=60)
    check_done(c, run)
    c.eq("%s: API results" % name, api_results(c, run), SD_API)
    check_diff(c, "%s a->b" % name, ab, "a", "b",
               truth_diffs(run, "a", "b"), SD_AB)
    check_diff(c, "%s b->now" % name, bnow, "b", "now",
               truth_diffs(run, "b", "now"), SD_BNOW)
    c.true("%s: a refused diff wrote %s" % (name, dump + ".nosuch"),
           not os.path.exists(dump + ".nosuch"))

    # The dump: every group older than MPAUDIT_STUCK_MS, not the young one.
    sd = truth_groups(run, {"sd"})
    young = truth_groups(run, {"young"})
    c.eq("%s: truth groups at the dump (bytes, count)" % name,
         sorted((t.kind, t.bytes, t.count) for t in sd),
         sorted([("libc", 1800, 6), ("libc", 2100, 3), ("libc", 5120, 10),
                 ("rte_malloc", 640, 5), ("libc", 448, 7)]))
    c.eq("%s: truth young group" % name,
         [(t.kind, t.bytes, t.count) for t in young], [("libc", 96, 1)])
    what = "%s dump" % name
    d = load_json(dump, what)
    own = check_malloc_list(c, what, d.get("malloc"), DEFAULT_DEPTH)
    check_own_groups(c, what, own, sd, DEFAULT_DEPTH,
                     max_age=int(run.secs * 1000) + 1000,
                     min_age=SD_STUCK_MS)
    check_heap_section(c, what, d, tracking=True, snapshots=SD_SNAPSHOTS,
                       final=False)
    c.eq("%s: errors" % what, d.get("errors"), [])

    # Everything freed before the end.
    check_final(c, run, [], [], snapshots=SD_SNAPSHOTS)


# ---- mode grow --------------------------------------------------------------

# Long enough for the warm-up (10 s) and 12 one-second samples.
GROW_SECS = 24
GROW_EVERY_MS = 400


def t_heap_grow(ctx, c):
    """A list the program keeps but only appends to: reachable, yet a leak
    because its stack keeps growing. A set kept from the start and a set
    that is replaced block by block are reachable and not growing. After
    everything is freed, the final report is clean."""
    name = "heap_grow"
    dump = os.path.join(ctx.tmp, name + "-dump.json")
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["grow", str(GROW_SECS), dump])
    run = ctx.run(name, cmd, ctx.hl_env({"MPAUDIT_STUCK_MS": "1000"}),
                  timeout=GROW_SECS + 60)
    check_done(c, run)
    truth = truth_groups(run)
    n = GROW_SECS * 1000 // GROW_EVERY_MS
    c.eq("%s: truth (set, kind, bytes, count, class)" % name,
         sorted((t.set, t.kind, t.bytes, t.count, t.cls) for t in truth),
         [("churn", "libc", 8 * 96, 8, "reachable"),
          ("grow", "libc", 512 * n, n, "reachable"),
          ("steady", "rte_malloc", 4 * 700, 4, "reachable")])
    what = name + " dump"
    d = load_json(dump, what)
    own = check_malloc_list(c, what, d.get("malloc"), DEFAULT_DEPTH)
    # The dump leaves out what is younger than MPAUDIT_STUCK_MS: the
    # newest blocks of the growing list and of the churned set.
    got = {}
    for t in truth:
        gs = [g for g in own if (g.get("stack") or [""])[0] == t.site]
        got[t.set] = sorted((g.get("class"), g.get("growing"), g.get("leak"))
                            for g in gs)
        c.true("%s: %s group holds %r blocks, more than the truth's %d" %
               (what, t.set, [g.get("count") for g in gs], t.count),
               sum(g.get("count", 0) for g in gs) <= t.count)
    c.eq("%s: (class, growing, leak) per set" % what, got,
         {"churn": [("reachable", False, False)],
          "grow": [("reachable", True, True)],
          "steady": [("reachable", False, False)]})
    s = d.get("summary") or {}
    c.eq("%s: summary malloc_leaks, exit_code" % what,
         (s.get("malloc_leaks"), s.get("exit_code")), (1, 3))
    sc = (d.get("heap") or {}).get("scan") or {}
    c.eq("%s: heap.scan.growing_groups" % what, sc.get("growing_groups"), 1)
    c.true("%s: heap.scan.growth_samples %r < 12" %
           (what, sc.get("growth_samples")),
           isinstance(sc.get("growth_samples"), int) and
           sc["growth_samples"] >= 12)
    check_heap_section(c, what, d, tracking=True, final=False)
    check_final(c, run, [], [])


# ---- mode dlclose -----------------------------------------------------------

def t_heap_dlclose(ctx, c):
    """Blocks leaked by a module that is gone by the end are still
    symbolised: "heapmod_leak (heapmod.c:LINE)"."""
    name = "heap_dlclose"
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["dlclose", ctx.heapmod])
    run = ctx.run(name, cmd, ctx.hl_env({}), timeout=60)
    check_done(c, run)
    c.true("%s: the module was not unloaded: the test proves nothing" % name,
           "heapleak: module unloaded=1" in run.out)
    truth = truth_groups(run, {"malloc"})
    c.eq("%s: truth" % name,
         sorted((t.kind, t.bytes, t.count, t.site.split(":")[0])
                for t in truth),
         [("libc", 777, 1, "heapmod_leak (heapmod.c"),
          ("rte_malloc", 1234, 1, "heapmod_leak (heapmod.c")])
    check_final(c, run, truth, [])


# ---- mode signal ------------------------------------------------------------

def auditor_lines(path):
    return sum(1 for l in read_text(path).splitlines()
               if l.startswith("mpaudit:"))


def signal_dump(c, what, p, report, sig, timeout=15):
    """Send @sig to @p, which must write the report to @report and a
    summary to stderr, and keep running. Returns (report or None, seconds
    from the signal to a complete report)."""
    if os.path.exists(report):
        os.unlink(report)
    before = auditor_lines(p.mpa_files[1])
    t0 = time.monotonic()
    os.kill(p.pid, sig)
    rep = None
    while time.monotonic() - t0 < timeout and p.poll() is None:
        if os.path.exists(report):
            try:
                with open(report) as f:
                    rep = json.load(f)
                break
            except ValueError:
                pass   # still being written
        time.sleep(0.05)
    secs = time.monotonic() - t0
    if not c.true("%s: no report at %s within %d s of signal %d (process "
                  "%s)" % (what, report, timeout, sig,
                           "running" if p.poll() is None else
                           "exited with %s" % p.returncode), rep is not None):
        return None, secs
    while auditor_lines(p.mpa_files[1]) == before and \
            time.monotonic() - t0 < timeout:
        time.sleep(0.05)
    c.true("%s: no summary on stderr after signal %d" % (what, sig),
           auditor_lines(p.mpa_files[1]) > before)
    c.true("%s: the process ended after signal %d" % (what, sig),
           p.poll() is None)
    return rep, secs


def own_of(c, what, rep):
    return check_malloc_list(c, what, rep.get("malloc"), DEFAULT_DEPTH)


def signal_run(ctx, c, name, env, steps):
    """Run mode signal; @steps(p, report, d, ready) drives it between
    "ready" lines. Returns the run."""
    d = os.path.join(ctx.tmp, name + "-dir")
    os.makedirs(d)
    report = os.path.join(ctx.tmp, name + ".json")
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["signal", d])
    p = ctx._spawn(name, cmd, ctx.hl_env(env), report,
                   stdin=subprocess.DEVNULL)
    try:
        def ready(k):
            if not wait_text(p, p.mpa_files[0], "heapleak: ready %d" % k, 30):
                raise Failed("%s: no 'heapleak: ready %d' line" % (name, k))
            return time.monotonic()

        def go(k):
            with open(os.path.join(d, "go%d" % k), "w"):
                pass
        steps(p, report, ready, go)
    except BaseException:
        stop_proc(p)
        ctx._finish(name, cmd, p, report, 5)
        raise
    return ctx._finish(name, cmd, p, report, 30)


def t_heap_signal(ctx, c):
    """The dump signal writes the report and the summary while the program
    runs (only blocks older than MPAUDIT_STUCK_MS); the track signal
    toggles tracking. Default signals, then numeric and RTMIN+k ones."""
    stuck_ms = 2000
    name = "heap_signal"
    rtmin = int(signal.SIGRTMIN)
    seen = {}

    def steps(p, report, ready, go):
        t1 = ready(1)
        out = lambda: read_text(p.mpa_files[0])   # noqa: E731
        a = [t for t in truth_from_text(out()) if t.set == "sig_a"]
        # 1. At once: the leak is younger than MPAUDIT_STUCK_MS.
        rep, secs = signal_dump(c, name + " dump 1", p, report, rtmin)
        if rep is not None:
            own = own_of(c, name + " dump 1", rep)
            if time.monotonic() - t1 < stuck_ms / 1000.0 - 0.3:
                check_own_groups(c, name + " dump 1 (young)", own, [],
                                 DEFAULT_DEPTH)
            else:
                note("%s: dump 1 took %.1f s, too slow to check the age "
                     "filter" % (name, time.monotonic() - t1))
            check_heap_section(c, name + " dump 1", rep, tracking=True,
                               final=False)
        # 2. Once it is old enough, exactly the leak.
        time.sleep(max(0, t1 + stuck_ms / 1000.0 + 0.5 - time.monotonic()))
        rep, _ = signal_dump(c, name + " dump 2", p, report, rtmin)
        if rep is not None:
            check_own_groups(c, name + " dump 2",
                             own_of(c, name + " dump 2", rep), a,
                             DEFAULT_DEPTH, min_age=stuck_ms,
                             max_age=int((time.monotonic() - t1) * 1000) +
                             1000)
        # 3. Tracking off: said by the next dump; B is then not tracked.
        os.kill(p.pid, rtmin + 1)
        time.sleep(1)
        rep, _ = signal_dump(c, name + " dump 3", p, report, rtmin)
        if rep is not None:
            check_heap_section(c, name + " dump 3", rep, tracking=False,
                               final=False)
        go(1)
        ready(2)
        # 4. Tracking on again, then C is tracked.
        os.kill(p.pid, rtmin + 1)
        time.sleep(1)
        rep, _ = signal_dump(c, name + " dump 4", p, report, rtmin)
        if rep is not None:
            check_heap_section(c, name + " dump 4", rep, tracking=True,
                               final=False)
        go(2)
        seen["ok"] = True

    run = signal_run(ctx, c, name, {"MPAUDIT_STUCK_MS": str(stuck_ms)},
                     steps)
    check_done(c, run)
    if seen:
        t = truth_groups(run)
        c.eq("%s: truth sets (kind, bytes, count)" % name,
             sorted((x.set, x.kind, x.bytes, x.count) for x in t),
             [("sig_a", "libc", 999, 3), ("sig_b", "rte_malloc", 888, 2),
              ("sig_c", "libc", 555, 1)])
        # B was allocated while tracking was off.
        check_final(c, run, [x for x in t if x.set in ("sig_a", "sig_c")],
                    [])

    # Numeric dump signal, RTMIN+k track signal; the defaults unused.
    name = "heap_signal-custom"
    dump_sig, track_sig = rtmin + 3, rtmin + 4
    seen.clear()

    def steps2(p, report, ready, go):
        t1 = ready(1)
        time.sleep(max(0, t1 + 0.6 - time.monotonic()))
        a = [t for t in truth_from_text(read_text(p.mpa_files[0]))
             if t.set == "sig_a"]
        rep, _ = signal_dump(c, name + " dump", p, report, dump_sig)
        if rep is not None:
            check_own_groups(c, name + " dump", own_of(c, name + " dump",
                                                       rep),
                             a, DEFAULT_DEPTH, min_age=100)
        os.kill(p.pid, track_sig)
        time.sleep(1)
        go(1)
        ready(2)
        go(2)
        seen["ok"] = True

    run = signal_run(ctx, c, name, {"MPAUDIT_STUCK_MS": "100",
                                    "MPAUDIT_DUMP_SIGNAL": str(dump_sig),
                                    "MPAUDIT_TRACK_SIGNAL": "RTMIN+4"},
                     steps2)
    check_done(c, run)
    if seen:
        # Tracking went off before B and stayed off: only A.
        check_final(c, run, truth_groups(run, {"sig_a"}), [],
                    tracking=False)


def truth_from_text(text):
    return [Truth(m) for m in (TRUTH_RE.match(l) for l in text.splitlines())
            if m]


# ---- mode scoped ------------------------------------------------------------

SCOPED_TRUTH = [("in", "libc", 999, 3), ("in", "rte_malloc", 6666, 2),
                ("post", "libc", 2220, 4), ("post", "rte_malloc", 5555, 1),
                ("pre", "libc", 222, 2), ("pre", "rte_malloc", 1111, 1)]


def t_heap_scoped(ctx, c):
    """mpa_heap_track(): with MPAUDIT_HEAP_TRACK=manual only what is
    allocated between track(1) and track(0) is reported; with the default
    (init) also what came before. Blocks freed across the boundaries are
    never reported, nor wrongly flagged."""
    for label, env, sets, api in (
            ("manual", {"MPAUDIT_HEAP_TRACK": "manual"}, {"in"},
             {"track1": 0, "track1_again": 1, "track0": 1,
              "track0_again": 0}),
            ("init", {}, {"pre", "in"},
             {"track1": 1, "track1_again": 1, "track0": 1,
              "track0_again": 0})):
        name = "heap_scoped-" + label
        cmd = ctx.hl_cmd(name, LCORES_ONE, ["scoped"])
        run = ctx.run(name, cmd, ctx.hl_env(env), timeout=60)
        check_done(c, run)
        c.eq("%s: API results" % name, api_results(c, run), api)
        truth = truth_groups(run)
        c.eq("%s: truth (set, kind, bytes, count)" % name,
             sorted((t.set, t.kind, t.bytes, t.count) for t in truth),
             SCOPED_TRUTH)
        check_final(c, run, [t for t in truth if t.set in sets], [],
                    tracking=False)


# ---- bad configuration ------------------------------------------------------

BAD_CONFIG = [
    ("MPAUDIT_HEAP_DEPTH", "0"), ("MPAUDIT_HEAP_DEPTH", "65"),
    ("MPAUDIT_HEAP_DEPTH", "abc"),
    ("MPAUDIT_DUMP_SIGNAL", "9"), ("MPAUDIT_DUMP_SIGNAL", "99"),
    ("MPAUDIT_DUMP_SIGNAL", "RTMIN+99"),
    ("MPAUDIT_TRACK_SIGNAL", "9"), ("MPAUDIT_TRACK_SIGNAL", "99"),
    ("MPAUDIT_TRACK_SIGNAL", "RTMIN+99"),
    ("MPAUDIT_HEAP_MAX_MB", "0"), ("MPAUDIT_HEAP", "foo"),
    ("MPAUDIT_HEAP_TRACK", "sometimes"),
]


def check_api_all(c, run, want):
    api = api_results(c, run)
    c.true("%s: no api lines" % run.name, api)
    c.eq("%s: API results (all %d)" % (run.name, want),
         {k: v for k, v in api.items() if v != want}, {})


def check_no_files(c, run, paths):
    for p in paths:
        c.true("%s: %s was written" % (run.name, p), not os.path.exists(p))


def t_heap_bad_config(ctx, c):
    """Each bad value: one message naming the variable, the whole auditor
    off (the API says -ENOTSUP, nothing written), the program runs on and
    exits as it would."""
    for i, (var, val) in enumerate(BAD_CONFIG):
        name = "heap_bad_config-%d" % i
        paths = snap_paths(ctx, name)
        cmd = ctx.hl_cmd(name, LCORES_ONE, ["snapdiff"] + list(paths))
        run = ctx.run(name, cmd, ctx.hl_env({var: val}), timeout=60)
        check_done(c, run)
        check_bad_config_msg(c, run, var)
        check_api_all(c, run, ENOTSUP)
        check_no_files(c, run, list(paths) + [run.report_path])


# ---- tracker out of memory --------------------------------------------------

CHURN_N = 300000


def t_heap_reach_oom(ctx, c):
    """The reachability scan cannot get memory (MPA_FAULT_INJECT=
    reach_scan): it says so once, and every outstanding group is listed
    unclassified and counted a leak, the truth's bytes and counts exact;
    nothing is silently called clean."""
    name = "heap_reach_oom"
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["leaks"])
    run = ctx.run(name, cmd, ctx.hl_env({"MPA_FAULT_INJECT": "reach_scan"}),
                  timeout=60)
    check_done(c, run)
    line = ("mpaudit: heap reachability scan failed (Cannot allocate "
            "memory): heap groups reported unclassified, each a leak")
    c.eq("%s: log lines '%s'" % (name, line), run.err.count(line), 1)
    rep = run.report()
    gs = rep.get("malloc") or []
    c.eq("%s: (class, owner, leak) of the groups" % name,
         sorted({(g.get("class"), g.get("owner"), g.get("leak")) for g in gs}),
         [(None, None, True)])
    own = [g for g in gs if OWN_SITE_RE.search((g.get("stack") or [""])[0])]
    truth = truth_groups(run, {"malloc"})
    for t in truth:
        t.cls = "?"
    c.eq("%s: our groups (kind, site, bytes, count)" % name,
         sorted((g.get("kind"), g["stack"][0], g.get("bytes"), g.get("count"))
                for g in own),
         sorted((t.kind, t.site, t.bytes, t.count) for t in truth))
    s = rep.get("summary") or {}
    c.eq("%s: summary malloc_leaks, exit_code" % name,
         (s.get("malloc_leaks"), s.get("exit_code")), (len(gs), 3))


def t_heap_oom(ctx, c):
    """MPAUDIT_HEAP_MAX_MB=1 and hundreds of thousands of live blocks: the
    tracker stops itself once, says so, and the program runs to its end
    (the blocks recorded before are freed fine, no false error)."""
    name = "heap_oom"
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["churn", str(CHURN_N)])
    run = ctx.run(name, cmd, ctx.hl_env({"MPAUDIT_HEAP_MAX_MB": "1"}),
                  timeout=80)
    check_done(c, run)
    c.true("%s: no churn line" % name,
           "heapleak: churn allocated=%d " % CHURN_N in run.out)
    lines = [l for l in run.err.splitlines() if "heap tracking disabled" in l]
    c.eq("%s: lines saying 'heap tracking disabled'" % name, len(lines), 1)
    api = api_results(c, run)
    # Tracking worked until the churn outgrew the cap (else the test would
    # not reach the self-disabling path with blocks in flight).
    c.eq("%s: API track_before (tracking on before the churn), track_after "
         "(tracker gone)" % name,
         (api.get("track_before"), api.get("track_after")), (1, ENOTSUP))
    rep = run.report()
    h = rep.get("heap") or {}
    c.eq("%s: heap.active" % name, h.get("active"), False)
    c.true("%s: heap.disabled %r gives no reason" % (name, h.get("disabled")),
           isinstance(h.get("disabled"), str) and h["disabled"])
    c.eq("%s: errors" % name, rep.get("errors"), [])
    own = [g for g in rep.get("malloc") or []
           if OWN_SITE_RE.search((g.get("stack") or [""])[0])]
    c.eq("%s: groups at our sites (everything was freed)" % name,
         [show_group(g) for g in own], [])


# ---- heap tracking off ------------------------------------------------------

def t_heap_off(ctx, c):
    """MPAUDIT_HEAP=off: nothing tracked, nothing reported, the API says
    -ENOTSUP, the pool auditor still writes its report."""
    name = "heap_off-snapdiff"
    paths = snap_paths(ctx, name)
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["snapdiff"] + list(paths))
    run = ctx.run(name, cmd, ctx.hl_env({"MPAUDIT_HEAP": "off"}), timeout=60)
    check_done(c, run)
    check_api_all(c, run, ENOTSUP)
    check_no_files(c, run, paths)
    rep = run.report()
    c.eq("%s: malloc, errors, summary.exit_code" % name,
         (rep.get("malloc"), rep.get("errors"),
          (rep.get("summary") or {}).get("exit_code")), ([], [], 0))
    c.eq("%s: heap.active" % name, (rep.get("heap") or {}).get("active"),
         False)

    # Every allocating function passes through untouched.
    name = "heap_off-leaks"
    cmd = ctx.hl_cmd(name, LCORES_ONE, ["leaks"])
    run = ctx.run(name, cmd, ctx.hl_env({"MPAUDIT_HEAP": "off"}, bad="none"),
                  timeout=60)
    check_done(c, run)
    c.eq("%s: truth groups per kind" % name,
         {k: sum(1 for t in truth_groups(run) if t.kind == k)
          for k in KINDS}, LEAK_GROUPS)
    rep = run.report()
    c.eq("%s: malloc, errors, summary.exit_code" % name,
         (rep.get("malloc"), rep.get("errors"),
          (rep.get("summary") or {}).get("exit_code")), ([], [], 0))


TESTS = {
    "heap_leaks": t_heap_leaks,
    "heap_depth": t_heap_depth,
    "heap_kinds": t_heap_kinds,
    "heap_mt": t_heap_mt,
    "heap_snapdiff": t_heap_snapdiff,
    "heap_grow": t_heap_grow,
    "heap_dlclose": t_heap_dlclose,
    "heap_signal": t_heap_signal,
    "heap_scoped": t_heap_scoped,
    "heap_bad_config": t_heap_bad_config,
    "heap_oom": t_heap_oom,
    "heap_reach_oom": t_heap_reach_oom,
    "heap_off": t_heap_off,
    "heap_instrumented": t_heap_instrumented,
}


def main():
    args = case_args("mpa_heap_it", __doc__, TESTS, exes=(
        ("--heapleak", "heapleak program"),), files=(
        ("--preload", "libmpaudit_preload.so"),
        ("--heapmod", "heapmod module"),
        ("--heapleak-instr", "heapleak built with mpaudit_override.h")))
    if args is None:
        return 1
    print("mpa_heap_it: %s, preload %s, EAL memory: %s" % (
        args.test, args.preload, eal_mem_desc()))
    return run_case("mpa_heap_it", args.test, TESTS[args.test], HCtx(args))


if __name__ == "__main__":
    sys.exit(main())
