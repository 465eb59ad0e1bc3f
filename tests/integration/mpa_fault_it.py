#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Fault tests of mpaudit (issue 8, section 5): real EAL on virtual devices.

Usage: mpa_fault_it.py TEST --fwd PATH --objpool PATH --forkapp PATH
                        --secapp PATH --ringchurn PATH

  fork                 an instrumented program forks children that exit
                       through exit(): no child scans the parent's pools or
                       writes the parent's report; the parent's report is
                       exactly its own leak
  pool_table           the auditor's tables for the pool cannot be
                       allocated (MPA_FAULT_INJECT): one log line, the pool
                       is not audited, the application forwards and exits 0
  holder_table         the holder table is full from the start: the exact
                       leak is still reported, by pool, state and lcore
  ring_churn           200 rings created, watched, scanned every
                       millisecond and freed (more than the auditor
                       watches at once): no crash, no full watch table,
                       the exact leak left in the last ring
  secondary            a DPDK secondary process (secapp) uses the pool of
                       a primary mpaudit-fwd: it says the primary audits
                       the pools, and neither reports anything stuck (needs
                       hugepages: multi-process memory cannot be --no-huge)
  telemetry_lifecycle  the /mpaudit/ commands are asked without pause from
                       before the application starts until after it has
                       exited: it starts, forwards, stops and reports as
                       without the queries, and every reply is well formed

Helpers come from mpa_lib.py. Exit status 0 pass, 1 fail.
"""

import glob
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from mpa_lib import (  # noqa: E402
    case_args, eal_mem_desc,
    Ctx, DEFAULT_EAL_MEM, FWD_POOL, Failed, LCORES_IO, LEAK_ARGS, LEAK_ENV,
    LEAK_EXPECT, Run, Skipped, Tele, check_exit, check_groups_exact,
    check_summary, forwarded, key_of, pool_entry, run_case, socket_path,
    truth_groups)

FORK_POOL = "fork_pool"
FORK_POOL_SIZE = 1023
FORK_KEEP = 9
FORK_CHILDREN = 3

# telemetry_lifecycle: the commands asked in turn, and the least number
# of replies that shows the queries really overlapped the run.
LIFECYCLE_CMDS = ["/mpaudit/summary", "/mpaudit/pools", "/mpaudit/stuck",
                  "/mpaudit/errors", "/mpaudit/heap", "/mpaudit/pools,0"]
LIFECYCLE_MIN_REPLIES = 20
LIFECYCLE_SECS = 3


# secondary: hugepage memory of each process (no --in-memory: a
# secondary maps the primary's files); skipped (SKIP) without hugepages.
SEC_MEM = ["-m", "256"]
SEC_TAKE = 16


class FCtx(Ctx):
    def __init__(self, args):
        super().__init__(args)
        self.forkapp = args.forkapp
        self.secapp = args.secapp
        self.ringchurn = args.ringchurn

    def cleanup(self, keep):
        super().cleanup(keep)
        for prefix in self.prefixes:
            for f in glob.glob("/dev/hugepages/%s*" % prefix):
                os.unlink(f)


def t_fork(ctx, c):
    env = {"MPAUDIT_STUCK_MS": "300", "MPAUDIT_SCAN_MS": "100"}
    cmd = [ctx.forkapp] + ctx.eal("fork", LCORES_IO)
    run = ctx.run("forkapp", cmd, env, timeout=60)
    check_exit(c, run, 3)
    c.true("forkapp: children left no report and exited 0 (%s)" %
           run.out.strip().splitlines()[:1],
           "children %d exited, no report from them: yes" % FORK_CHILDREN
           in run.out)
    # One final summary: the parent's. A child's would be a second one.
    c.eq("forkapp: summaries printed", run.err.count("mpaudit: report"), 1)
    truth, _ = truth_groups(run, "forkapp")
    c.eq("forkapp: truth", sorted(truth.values()), [FORK_KEEP])
    check_groups_exact(c, run, truth)
    check_summary(c, run, FORK_KEEP, 3)
    p = pool_entry(run, FORK_POOL)
    if p is not None:
        c.eq("forkapp: pool size, in use", (p.get("size"), p.get("in_use")),
             (FORK_POOL_SIZE, FORK_KEEP))


def fault_run(ctx, name, table):
    """mpaudit-fwd with the leak mix and MPA_FAULT_INJECT=@table."""
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + \
        ["--", "--duration", "3", "--stats-ms", "0"] + LEAK_ARGS
    env = dict(LEAK_ENV, MPA_FAULT_INJECT=table)
    return ctx.run(name, cmd, env, timeout=60)


def t_pool_table(ctx, c):
    run = fault_run(ctx, "pool_table", "pool_table")
    check_exit(c, run, 0)
    line = ("mpaudit: cannot attach pool %s: Cannot allocate memory; the "
            "pool is not audited" % FWD_POOL)
    c.eq("pool_table: log lines '%s'" % line, run.err.count(line), 1)
    c.true("pool_table: forwarded packets", (forwarded(run) or 0) > 0)
    c.eq("pool_table: pools in the report",
         [p.get("name") for p in run.report().get("pools", [])], [])
    check_summary(c, run, 0, 0)


def t_holder_table(ctx, c):
    run = fault_run(ctx, "holder_table", "holder_table")
    check_exit(c, run, 3)
    c.eq("holder_table: 'holder table full' lines",
         run.err.count("holder table full"), 1)
    # The truth, by what a holder without an entry still tells.
    truth, _ = truth_groups(run, "mpaudit-fwd")
    by_state = {}
    for k, n in truth.items():
        pool, state, lcore = k[0], k[1], k[2]
        kk = key_of(pool, state, lcore, None, None, None, None)
        by_state[kk] = by_state.get(kk, 0) + n
    total = sum(truth.values())
    c.eq("holder_table: leaked in all", total, sum(LEAK_EXPECT.values()))
    check_groups_exact(c, run, by_state)
    check_summary(c, run, total, 3)


def t_history_sites(ctx, c):
    """No memory for a pool's history nor for the count per holder: one
    line each, the audit itself exact, the pool without a forecast."""
    run = fault_run(ctx, "history_sites", "history,sites")
    check_exit(c, run, 3)
    for line in ("mpaudit: pool %s: no memory for 3600 scans of history; no "
                 "drain forecast for it" % FWD_POOL,
                 "mpaudit: no memory to count held objects per holder; no "
                 "sites ranking"):
        c.eq("history_sites: log lines '%s'" % line, run.err.count(line), 1)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("history_sites: leaked in all", sum(truth.values()),
         sum(LEAK_EXPECT.values()))
    check_groups_exact(c, run, truth)
    check_summary(c, run, sum(truth.values()), 3)
    p = pool_entry(run, FWD_POOL)
    if p is not None:
        c.eq("history_sites: pool history, rate, growing",
             (p.get("history"), p.get("rate_per_s"), p.get("growing")),
             (0, None, False))


def t_ring_churn(ctx, c):
    env = {"MPAUDIT_STUCK_MS": "500", "MPAUDIT_SCAN_MS": "1"}
    run = ctx.run("ringchurn", [ctx.ringchurn] + ctx.eal("ringchurn", "0@0"),
                  env, timeout=60)
    check_exit(c, run, 3)
    c.true("ringchurn: 200 distinct rings", "200 rings created and freed, "
           "0 at the first one's address" in run.out)
    c.eq("ringchurn: 'cannot watch ring' lines",
         run.err.count("cannot watch ring"), 0)
    truth, _ = truth_groups(run, "ringchurn")
    c.eq("ringchurn: truth", sorted(truth.values()), [5])
    check_groups_exact(c, run, truth)
    check_summary(c, run, 5, 3)


def hugepages_free_mb():
    vals = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            vals[k] = int(v.split()[0])
    return vals.get("HugePages_Free", 0) * vals.get("Hugepagesize", 0) // 1024


def t_secondary(ctx, c):
    need = 2 * int(SEC_MEM[1])
    if "--no-huge" in os.environ.get("MPA_EAL_MEM", DEFAULT_EAL_MEM) or \
            hugepages_free_mb() < need or \
            not os.path.ismount("/dev/hugepages"):
        raise Skipped("no %d MB of free hugepages in /dev/hugepages" % need)
    ctx.seq += 1
    prefix = "mpa-it-sec-%d-%d" % (os.getpid(), ctx.seq)
    ctx.prefixes.append(prefix)
    eal = ["--file-prefix", prefix, "--no-pci"] + SEC_MEM
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MPAUDIT_")}
    env.update({"MPAUDIT_STUCK_MS": "1000", "MPAUDIT_SCAN_MS": "50"})
    prim_report = os.path.join(ctx.tmp, "primary.json")
    prim_cmd = [ctx.fwd] + eal + ["--lcores", LCORES_IO, "--vdev",
                                  "net_null0", "--vdev", "net_null1",
                                  "--", "--duration", "0", "--stats-ms", "0"]
    t0 = time.monotonic()
    p = subprocess.Popen(prim_cmd, env=dict(env, MPAUDIT_REPORT=prim_report),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True,
                         errors="replace")
    try:
        # The primary is ready for a secondary once its telemetry answers.
        deadline = time.monotonic() + 20
        while socket_path(prefix) is None and time.monotonic() < deadline \
                and p.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)
        sec = ctx.run("secapp", [ctx.secapp] + eal +
                      ["--proc-type=secondary", "--lcores", "2@0", "--",
                       FWD_POOL],
                      {"MPAUDIT_STUCK_MS": "1000", "MPAUDIT_SCAN_MS": "50"},
                      timeout=60)
        # Scans of the primary after the secondary gave its mbufs back.
        time.sleep(1.5)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
    prim = Run("primary", prim_cmd, p.returncode, out, err,
               time.monotonic() - t0, prim_report)
    ctx.runs.append(prim)
    check_exit(c, sec, 0)
    c.true("secapp: took and returned its mbufs",
           "took and returned %d mbufs of %s" % (SEC_TAKE, FWD_POOL)
           in sec.out)
    c.eq("secapp: 'secondary process' notes", sec.err.count(
        "mpaudit: secondary process: the mempools are audited by the "
        "primary process"), 1)
    c.eq("secapp: pools in its report",
         [x.get("name") for x in sec.report().get("pools", [])], [])
    check_summary(c, sec, 0, 0)
    check_exit(c, prim, 0)
    c.eq("primary: newly stuck log lines", prim.err.count("newly stuck"), 0)
    check_summary(c, prim, 0, 0)
    pe = pool_entry(prim, FWD_POOL)
    c.eq("primary: %s stuck" % FWD_POOL, pe.get("stuck"), 0)


def hammer(prefix, stop, stats):
    """Ask the commands in turn over fresh and kept connections until
    @stop is set; count replies, and record any that is not well formed.
    Connection errors are expected before start and after exit."""
    i = 0
    while not stop.is_set():
        path = socket_path(prefix)
        if path is None:
            time.sleep(0.002)
            continue
        try:
            t = Tele(path)
        except (OSError, ValueError):
            stats["refused"] += 1
            time.sleep(0.002)
            continue
        try:
            for _ in range(50):
                if stop.is_set():
                    break
                cmd = LIFECYCLE_CMDS[i % len(LIFECYCLE_CMDS)]
                i += 1
                v = t.ask(cmd)
                # Before the auditor registers, DPDK answers null.
                if v is None:
                    stats["null"] += 1
                elif isinstance(v, dict):
                    stats["replies"] += 1
                else:
                    stats["bad"].append((cmd, repr(v)[:200]))
        except Failed:
            stats["closed"] += 1
        except (OSError, socket.timeout):
            stats["closed"] += 1
        finally:
            t.close()


def t_telemetry_lifecycle(ctx, c):
    eal = ctx.eal("tele-life", LCORES_IO)
    prefix = eal[1]
    env = {"MPAUDIT_STUCK_MS": "500", "MPAUDIT_SCAN_MS": "50"}
    stats = {"replies": 0, "null": 0, "refused": 0, "closed": 0, "bad": []}
    stop = threading.Event()
    th = threading.Thread(target=hammer, args=(prefix, stop, stats))
    # The client is asking (and failing to connect) before the process
    # exists, so it catches the socket's first moments.
    th.start()
    try:
        cmd = [ctx.fwd] + eal + ["--vdev", "net_null0", "--vdev",
                                 "net_null1", "--", "--duration",
                                 str(LIFECYCLE_SECS), "--stats-ms", "0"]
        run = ctx.run("fwd", cmd, env, timeout=60)
    finally:
        # Keep asking a little after the exit: the socket is gone by then.
        time.sleep(0.2)
        stop.set()
        th.join(30)
    check_exit(c, run, 0)
    check_summary(c, run, 0, 0)
    c.true("fwd: pool %s in the report" % FWD_POOL,
           pool_entry(run, FWD_POOL) is not None)
    c.eq("telemetry: malformed replies", stats["bad"], [])
    c.true("telemetry: at least %d replies during the run (%r)" %
           (LIFECYCLE_MIN_REPLIES, stats),
           stats["replies"] >= LIFECYCLE_MIN_REPLIES)
    c.true("telemetry: the client thread finished", not th.is_alive())


TESTS = {
    "fork": t_fork,
    "pool_table": t_pool_table,
    "holder_table": t_holder_table,
    "history_sites": t_history_sites,
    "secondary": t_secondary,
    "ring_churn": t_ring_churn,
    "telemetry_lifecycle": t_telemetry_lifecycle,
}


def main():
    args = case_args("mpa_fault_it", __doc__, TESTS, exes=(
        ("--fwd", "instrumented mpaudit-fwd"),
        ("--objpool", "objpool test program"),
        ("--forkapp", "forkapp test program"),
        ("--secapp", "secapp test program"),
        ("--ringchurn", "ringchurn test program")), optional=(
        ("--dfree-instr", "unused here (shared options)", None),))
    if args is None:
        return 1
    print("mpa_fault_it: %s, EAL memory: %s" % (args.test, eal_mem_desc()))
    return run_case("mpa_fault_it", args.test, TESTS[args.test], FCtx(args))


if __name__ == "__main__":
    sys.exit(main())
