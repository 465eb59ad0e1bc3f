#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Per-object history (MPAUDIT_HISTORY): exact previous holders, real EAL.

Usage: mpa_objhist_it.py TEST --fwd PATH --fwd-plain PATH --preload PATH
                              --cli PATH --objpool PATH

objhist_pipeline runs the instrumented mpaudit-fwd as a pipeline (RX
lcore -> ring fwd_pipe -> worker lcore) whose worker forgets the first
mbufs it dequeues (--worker-leak), with MPAUDIT_HISTORY=3, and checks the
previous holders of every sample object of the stuck group against the
program's ground truth ("truth prev" lines: the rx_burst's port, queue,
lcore and line, fwd_pipe's enqueue line and lcore) in the JSON report, the
exit summary, /mpaudit/stuck,history and `mpaudit stuck --history`. The
other cases: K limits what is kept (objhist_k), history off gives no
history fields (objhist_off), bad values are refused (objhist_bad), DPDK's
object header stays intact and side-table pools keep none (objhist_objpool),
and the zero-recompile mode keeps history too (objhist_preload). Helpers
come from mpa_lib.py. Exit status 0 pass, 1 fail. Standard library only.
"""

import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpa_lib import (  # noqa: E402
    case_args, eal_mem_desc, prefix_of,
    FWD_POOL, LCORES_IO, LCORES_PIPELINE, STUCK_WAIT_S,
    TCtx, check_bad_config_msg, cli, check_exit, check_fwd_selfcheck,
    check_groups_exact, check_summary, key_str, null_vdevs, pool_entry,
    prev_key, report_groups, run_case, session, stop_at_end, tele_group_key,
    tele_prev, truth_groups, truth_prev, wait_stuck)

# The pipeline's lcores (mpa_lib's LCORES_PIPELINE): RX 1, worker 2.
RX_LCORE = 1
WORKER_LCORE = 2
WORKER_LEAK = 6
STUCK_MS = 500
ENV = {"MPAUDIT_STUCK_MS": str(STUCK_MS), "MPAUDIT_SCAN_MS": "100"}
# The telemetry sessions run the pipeline until their requests are done
# (--duration 0, then SIGINT): a fixed duration would race them.
SESSION_S = 40
# The pool is new when the worker takes its first mbufs: before their
# rx_burst they were free since the pool's attach (no lcore, no site).
FRESH = ("free", None, None, None, None, None)


def pipeline_cmd(ctx, name, secs, extra=()):
    return [ctx.fwd] + ctx.eal(name, LCORES_PIPELINE) + null_vdevs(2) + \
        ["--", "--duration", str(secs), "--stats-ms", "0", "--pipeline",
         "--worker-leak", str(WORKER_LEAK)] + list(extra)


def ask_history(ctx, c, t, p, cmd, seen, extra=None):
    """A telemetry session's body: once the worker's leak is stuck, ask
    for the stuck groups with history, the config, @extra ({key:
    command}) and the CLI's `stuck --history` (table and JSON) into
    @seen, then stop the pipeline."""
    prefix = prefix_of(cmd)
    wait_stuck(c, t, WORKER_LEAK, time.monotonic() + STUCK_WAIT_S)
    for key, what in (extra or {}).items():
        seen[key] = t.ask(what)
    seen["tele"] = t.ask("/mpaudit/stuck,history")
    seen["config"] = t.ask("/mpaudit/config")
    seen["cli"] = cli(ctx, "--file-prefix", prefix, "stuck", "--history")
    seen["cli_json"] = cli(ctx, "--file-prefix", prefix, "--json", "stuck",
                           "--history")
    stop_at_end(p)


def worker_group(c, run):
    """The report's one stuck group, the worker's, checked exactly against
    the truth; returns it and the truth's previous holders per address."""
    check_exit(c, run, 3)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth groups" % run.name,
         sorted((k[1], k[2], n) for k, n in truth.items()),
         [("app", WORKER_LCORE, WORKER_LEAK)])
    check_groups_exact(c, run, truth)
    check_fwd_selfcheck(c, run, WORKER_LEAK)
    check_summary(c, run, WORKER_LEAK, 3)
    prev = truth_prev(run, "mpaudit-fwd")
    c.eq("%s: truth prev objects" % run.name, len(prev), WORKER_LEAK)
    for addr, hs in sorted(prev.items()):
        c.eq("%s: truth prev of 0x%x: states, lcores" % (run.name, addr),
             [(h[0], h[1]) for h in hs],
             [("ring", RX_LCORE), ("rx", RX_LCORE)])
    groups = list(report_groups(run).values())
    return (groups[0] if len(groups) == 1 else {}), prev


def expected(prev, addr, k):
    """What the auditor must say of object @addr with MPAUDIT_HISTORY=@k:
    the program's truth, then the pool's attach, at most k."""
    return (prev.get(addr, []) + [FRESH])[:k]


def check_report_history(c, run, g, prev, k):
    """Every sample of group @g: its previous holders exactly, ages
    growing back in time, from the stuck threshold to the run's length."""
    samples = g.get("samples") or []
    hist = g.get("sample_history")
    c.eq("%s: samples" % run.name, len(samples), 4)
    if not c.true("%s: no sample_history in %s" % (run.name, g),
                  isinstance(hist, list)):
        return
    c.eq("%s: sample_history addresses" % run.name,
         [h.get("address") for h in hist], samples)
    upper = int(run.secs * 1000) + 1000
    for h in hist:
        addr = int(h.get("address", "0"), 16)
        c.true("%s: sample 0x%x is not one the worker leaked" %
               (run.name, addr), addr in prev)
        got = h.get("previous") or []
        c.eq("%s: previous holders of 0x%x" % (run.name, addr),
             [prev_key(p) for p in got], expected(prev, addr, k))
        ages = [p.get("age_ms") for p in got]
        c.true("%s: ages of 0x%x %r not growing within [%d, %d]" %
               (run.name, addr, ages, STUCK_MS, upper),
               all(isinstance(a, int) and STUCK_MS <= a <= upper
                   for a in ages) and ages == sorted(ages))
        # The report names each site's function, as for the groups.
        c.eq("%s: functions of 0x%x" % (run.name, addr),
             [p.get("function") for p in got],
             ["fwd_main_rx", "fwd_main_rx", None][:len(got)])
    pool = pool_entry(run, FWD_POOL)
    c.eq("%s: pool stamp_history" % run.name, pool.get("stamp_history"), k)
    c.eq("%s: config.history" % run.name,
         run.report().get("config", {}).get("history"), k)


def words(h):
    """A holder as the summary and the CLI say it."""
    state, lcore, port, queue, ring, site = h
    w = state
    if ring is not None:
        w += " " + ring
    if port is not None:
        w += " port %d queue %d" % (port, queue)
    if lcore is not None:
        w += " lcore %d" % lcore
    if site is not None:
        w += " at " + site
    return w


def path_re(addr, prev, g, k):
    """The line of a sample's path, oldest first, ages left open."""
    parts = [re.escape(words(h)) + r" \([0-9.]+ (?:ms|s)\)"
             for h in reversed(expected(prev, addr, k))]
    last = re.escape(words((g.get("state"), g.get("lcore"), None, None,
                            None, g.get("site"))))
    return re.compile(r"^\s+0x%x: %s$" % (addr, " -> ".join(parts + [last])),
                      re.M)


def t_objhist_pipeline(ctx, c):
    name = "objhist_pipeline"
    k = 3
    cmd = pipeline_cmd(ctx, name, 0)
    seen = {}

    def body(t, p, report_path):
        ask_history(ctx, c, t, p, cmd, seen, {
            "plain": "/mpaudit/stuck", "tele0": "/mpaudit/stuck,0,history"})

    run = session(ctx, name, cmd, dict(ENV, MPAUDIT_HISTORY=str(k)),
                  SESSION_S, body)
    g, prev = worker_group(c, run)
    check_report_history(c, run, g, prev, k)
    samples = [int(a, 16) for a in g.get("samples") or []]

    # The exit summary: each sample's path, ending with its holder.
    c.true("%s: no history block in the summary" % name,
           "HOW THE SAMPLES GOT THERE (MPAUDIT_HISTORY=3" in run.err)
    for a in samples:
        c.true("%s: summary lacks the path of 0x%x" % (name, a),
               path_re(a, prev, g, k).search(run.err))

    # Telemetry: without the parameter, as before; with it, exactly.
    plain = seen.get("plain") or {}
    c.true("%s: /mpaudit/stuck says history" % name,
           "history" not in plain and
           all("history" not in e for e in
               (plain.get("groups") or {}).values()))
    for key in ("tele", "tele0"):
        v = seen.get(key) or {}
        c.eq("%s: %s history, total, pages" % (name, key),
             (v.get("history"), v.get("total"), v.get("pages"),
              v.get("per_page")), (k, 1, 1, 2))
        tg = (v.get("groups") or {}).get("0", {})
        c.eq("%s: %s group" % (name, key), tele_group_key(tg),
             (FWD_POOL, "app", WORKER_LCORE, None, None, None, g.get("site")))
        th = tg.get("history") or {}
        c.eq("%s: %s samples" % (name, key), len(th), 4)
        for rank, e in sorted(th.items()):
            a = int(e.get("address", "0"), 16)
            keys, ages = tele_prev(e)
            c.true("%s: %s sample %s 0x%x not leaked" % (name, key, rank, a),
                   a in prev)
            c.eq("%s: %s previous holders of 0x%x" % (name, key, a), keys,
                 expected(prev, a, k))
            c.true("%s: %s ages of 0x%x: %r" % (name, key, a, ages),
                   all(isinstance(x, int) and x >= STUCK_MS for x in ages)
                   and ages == sorted(ages))
    c.eq("%s: /mpaudit/config history" % name,
         (seen.get("config") or {}).get("history"), k)

    # The CLI, as a table with paths and as the report's JSON shape.
    r = seen.get("cli")
    if c.true("%s: mpaudit stuck --history did not run" % name, r):
        c.eq("%s: mpaudit stuck --history exit (stderr %r)" % (name, r.err),
             r.rc, 3)
        c.true("%s: CLI says no history header: %r" % (name, r.out),
               "how the samples got there (MPAUDIT_HISTORY=3)" in r.out)
        for a in samples:
            c.true("%s: CLI lacks the path of 0x%x:\n%s" % (name, a, r.out),
                   path_re(a, prev, g, k).search(r.out))
    r = seen.get("cli_json")
    if c.true("%s: mpaudit --json stuck --history did not run" % name, r):
        try:
            v = json.loads(r.out)
        except ValueError:
            v = {}
        c.eq("%s: CLI JSON history" % name, v.get("history"), k)
        groups = v.get("groups") or [{}]
        got = {h.get("address"): [prev_key(p) for p in h.get("previous", [])]
               for h in groups[0].get("sample_history", [])}
        c.eq("%s: CLI JSON sample_history" % name, got,
             {"0x%x" % a: expected(prev, a, k) for a in samples})


def t_objhist_k(ctx, c):
    """K bounds what is kept: 2 keeps the ring and the rx queue; 4 finds
    the three there are (the pad's fourth word was never written)."""
    for k in (2, 4):
        name = "objhist_k%d" % k
        run = ctx.run(name, pipeline_cmd(ctx, name, 3),
                      dict(ENV, MPAUDIT_HISTORY=str(k)), timeout=60)
        g, prev = worker_group(c, run)
        check_report_history(c, run, g, prev, k)


def no_history_report(c, run):
    r = run.report()
    c.eq("%s: config.history" % run.name, r.get("config", {}).get("history"),
         0)
    for p in r.get("pools", []):
        c.true("%s: pool %s has stamp_history" % (run.name, p.get("name")),
               "stamp_history" not in p)
    for g in r.get("stuck", []):
        c.true("%s: group %s has sample_history" % (run.name, g.get("state")),
               "sample_history" not in g)
    c.true("%s: summary has a history block" % run.name,
           "HOW THE SAMPLES" not in run.err)


def t_objhist_off(ctx, c):
    """Unset and 0: not a history field anywhere, the summary and the
    CLI say there is none, the groups are what they were."""
    name = "objhist_off"
    cmd = pipeline_cmd(ctx, name, 0)
    seen = {}

    def body(t, p, report_path):
        ask_history(ctx, c, t, p, cmd, seen)

    run = session(ctx, name, cmd, ENV, SESSION_S, body)
    worker_group(c, run)
    no_history_report(c, run)
    v = seen.get("tele") or {}
    c.eq("%s: /mpaudit/stuck,history history, total" % name,
         (v.get("history"), v.get("total")), (0, 1))
    c.true("%s: groups with history: %r" % (name, v),
           all("history" not in e for e in (v.get("groups") or {}).values()))
    c.eq("%s: /mpaudit/config history" % name,
         (seen.get("config") or {}).get("history"), 0)
    r = seen.get("cli")
    if c.true("%s: CLI did not run" % name, r):
        c.eq("%s: CLI exit" % name, r.rc, 3)
        c.true("%s: CLI does not say there is no history: %r" %
               (name, r.out), "no history: the process keeps none" in
               r.out)
    r = seen.get("cli_json")
    if c.true("%s: CLI JSON did not run" % name, r):
        c.true("%s: CLI JSON has sample_history: %r" % (name, r.out),
               '"history": 0' in r.out and
               "sample_history" not in r.out)

    name = "objhist_zero"
    run = ctx.run(name, pipeline_cmd(ctx, name, 3),
                  dict(ENV, MPAUDIT_HISTORY="0"), timeout=60)
    worker_group(c, run)
    no_history_report(c, run)


def t_objhist_bad(ctx, c):
    """Refused, named with its bound; a generic application runs on,
    unaudited (mpaudit-fwd's own refusal is in bad_input)."""
    for label, val in (("5", "5"), ("x", "x"), ("neg", "-1"),
                       ("space", "4 "), ("empty", "")):
        name = "objhist_bad-" + label
        cmd = [ctx.objpool] + ctx.eal(name, LCORES_IO) + \
            ["--", "--sleep-ms", "100"]
        run = ctx.run(name, cmd, dict(ENV, MPAUDIT_HISTORY=val), timeout=60,
                      report=False)
        check_exit(c, run, 0)
        check_bad_config_msg(c, run, "MPAUDIT_HISTORY")
        want = "invalid MPAUDIT_HISTORY='%s': expected an integer from 0 " \
            "to 4" % val
        c.true("%s: no line says %r" % (name, want), want in run.err)
        c.true("%s: the auditor ran" % name, "objpool: audited=0" in run.out)


OBJPOOL_PREV_RE = re.compile(
    r"^objpool: truth prev kind=ring_plain n=1 state=app lcore=(\d+) "
    r"site=(\S+)$", re.M)


def t_objhist_objpool(ctx, c):
    """MPAUDIT_HISTORY=4 on plain mempool objects: DPDK's object headers
    (checked whole by objpool) and the objects stay intact; the pool
    without header room keeps no history; the ring's objects were the
    application's before; a pool freed with objects out keeps the
    history read at its last scan."""
    name = "objhist_objpool"
    cmd = [ctx.objpool] + ctx.eal(name, LCORES_IO) + \
        ["--", "--sleep-ms", "1500"]
    run = ctx.run(name, cmd, {"MPAUDIT_STUCK_MS": "300",
                              "MPAUDIT_SCAN_MS": "50",
                              "MPAUDIT_HISTORY": "4"}, timeout=60)
    check_exit(c, run, 3)
    c.true("%s: objects or headers were modified" % name,
           "CORRUPTED" not in run.out)
    pats = re.findall(r"^objpool: pattern pool=(\S+) objects=(\d+) "
                      r"corrupted=(\d+)$", run.out, re.M)
    c.eq("%s: pattern and header checks" % name, sorted(pats),
         [("it_nocache", "511", "0"), ("it_plain", "1023", "0")])
    truth, _ = truth_groups(run, "objpool")
    rep = check_groups_exact(c, run, truth)
    m = OBJPOOL_PREV_RE.search(run.out)
    ring_prev = ("app", int(m.group(1)), None, None, None, m.group(2)) \
        if c.true("%s: no truth prev line" % name, m) else None
    fresh = [FRESH]
    want = {"it_plain app": fresh, "it_nocache app": [],
            "it_plain ring": [ring_prev] + fresh, "it_freed app": fresh}
    for k, g in rep.items():
        what = "%s %s" % (k[0], k[1])
        hist = g.get("sample_history") or []
        c.eq("%s: samples of %s with a history" % (name, key_str(k)),
             len(hist), len(g.get("samples") or []))
        for h in hist:
            c.eq("%s: previous holders of %s in %s" % (name, h.get("address"),
                                                       what),
                 [prev_key(p) for p in h.get("previous", [])], want.get(what))
    for pname, k in (("it_plain", 4), ("it_nocache", 0), ("it_freed", 4)):
        c.eq("%s: pool %s stamp_history" % (name, pname),
             pool_entry(run, pname).get("stamp_history"), k)


def t_objhist_preload(ctx, c):
    """Zero-recompile mode: the burst wrappers and the ops hook keep
    history too; holders have no site there. Leaked on RX, an mbuf's
    previous holders are its earlier lives: rx or tx of the forwarding
    lcore, or free."""
    name = "objhist_preload"
    k = 2
    cmd = [ctx.fwd_plain] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "3", "--stats-ms", "0", "--leak-rx", "1000",
         "--leak-max", "40"]
    run = ctx.run(name, cmd, ctx.penv(dict(ENV, MPAUDIT_HISTORY=str(k))),
                  timeout=60)
    check_exit(c, run, 0)
    r = run.report()
    c.eq("%s: mode, config.history" % name,
         (r.get("mode"), r.get("config", {}).get("history")), ("preload", k))
    c.eq("%s: pool stamp_history" % name,
         pool_entry(run, FWD_POOL).get("stamp_history"), k)
    known = 0
    for g in r.get("stuck", []):
        c.eq("%s: group state" % name, g.get("state"), "rx")
        for h in g.get("sample_history") or []:
            prev = [prev_key(p) for p in h.get("previous", [])]
            known += len(prev)
            c.true("%s: more than %d previous holders: %r" % (name, k, prev),
                   len(prev) <= k)
            for p in prev:
                # free: at the pool's attach, or by rte_pktmbuf_free_bulk.
                ok = (p[0] == "free" and p[1] in (None, 1) and
                      p[2:] == (None,) * 4) or \
                    (p[0] in ("rx", "tx") and p[1] == 1 and
                     p[2] in (0, 1) and p[3] == 0 and
                     p[4] is None and p[5] is None)
                c.true("%s: previous holder %r of %s" %
                       (name, p, h.get("address")), ok)
    c.true("%s: no previous holder known at all" % name, known > 0)


TESTS = {
    "objhist_pipeline": t_objhist_pipeline,
    "objhist_k": t_objhist_k,
    "objhist_off": t_objhist_off,
    "objhist_bad": t_objhist_bad,
    "objhist_objpool": t_objhist_objpool,
    "objhist_preload": t_objhist_preload,
}


def main():
    args = case_args("mpa_objhist_it", __doc__, TESTS, exes=(
        ("--fwd", "instrumented mpaudit-fwd"),
        ("--fwd-plain", "uninstrumented mpaudit-fwd"),
        ("--cli", "the mpaudit CLI"),
        ("--objpool", "objpool test program")), files=(
        ("--preload", "libmpaudit_preload.so"),))
    if args is None:
        return 1
    ctx = TCtx(argparse.Namespace(preload=args.preload,
                                  fwd_plain=args.fwd_plain, fwd=args.fwd,
                                  heapleak=None))
    ctx.cli = args.cli
    ctx.objpool = args.objpool
    print("mpa_objhist_it: %s, EAL memory: %s" % (args.test, eal_mem_desc()))
    return run_case("mpa_objhist_it", args.test, TESTS[args.test], ctx)


if __name__ == "__main__":
    sys.exit(main())
