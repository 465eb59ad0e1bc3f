#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Integration tests of the zero-recompile mode (libmpaudit_preload.so).

Usage: mpa_preload_it.py TEST --preload LIB --fwd-plain PATH --dfree PATH
                         [--testpmd PATH]

Every test runs an unmodified DPDK program (Debian's dpdk-testpmd, the
uninstrumented mpaudit-fwd-plain, the plain dfree helper) or a non-DPDK one
with LD_PRELOAD=LIB, and compares the auditor's JSON report and log lines
with a known ground truth: truth lines printed by the program, or a run
that must be clean. Helpers (running, parsing, checks) come from
mpa_lib.py. EAL memory arguments come from MPA_EAL_MEM (set by ./run;
default "--no-huge -m 512"). Exit status 0 pass, 1 fail.
Standard library only.
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpa_lib import (  # noqa: E402
    case_args, eal_mem_desc,
    CLEAN_ENV, FWD_POOL, FWD_POOL_SIZE, Failed, LCORES_IO,
    LEAK_ENV, LOG_DEBUG, PCtx, PRELOAD_LEAK_ARGS, TESTPMD_MBUFS, TESTPMD_POOL,
    check_ages, check_bad_config_msg, check_exit, check_fwd_selfcheck,
    check_groups_exact, check_logged_once, check_truth_kinds,
    dfree_cache_check, feed_steps, key_of, key_str, newly_stuck_lines,
    pool_entry, preload_truth, run_case, stop_proc, truth_groups, wait_text)

MODE = "preload"

# testpmd: Debian's, unless --testpmd names another (its pool and devices:
# TESTPMD_MBUFS, TESTPMD_POOL and NULL_VDEVS in mpa_lib.py).
TESTPMD = "/usr/bin/dpdk-testpmd"
# A sanity floor for io forwarding between two net_null ports (38-47 Mpps
# plain, PLATFORM-FACTS.md): far below anything a working run reaches,
# far above a datapath that the preload stalled.
MIN_IO_MPPS = 1.0

# What PRELOAD_LEAK_ARGS (mpa_lib.py) injects.
PRELOAD_LEAK_EXPECT = {"rx_leak": 40, "ring_keep": 16, "tx_hold": 24}
FWD_HOLD_NAME = "mpa_txhold"

# preload_memif: testpmd txonly (server) -> mpaudit-fwd-plain (client).
MEMIF_LEAK_ARGS = ["--leak-rx", "500", "--leak-max", "25"]
MEMIF_LEAKS = 25
# The generator's forwarding lcore shares CPU 0 with both main lcores
# (which sleep); the DUT forwards on CPU 1.
LCORES_GEN = "0@0,1@0"

DFREE_POOL = "dfree_pool"
DFREE_NB = 255

# Burst wrapping lines of the preload library (audit/preload/preload.c), one
# per port whenever queues are wrapped for the first time in the run, with
# the number of such queues:
#   mpaudit: port 0: rx/tx bursts wrapped on 1 rx and 1 tx queues
CB_RE = re.compile(r"^mpaudit: port (\d+): rx/tx bursts wrapped on (\d+) rx "
                   r"and (\d+) tx queues$")
POOL_ATTACH_RE = re.compile(r"^mpaudit: auditing pool (\S+): (\d+) objects")

STAT_RE = re.compile(
    r"Forward statistics for port (\d+)\s+-+\s*\n"
    r"\s*RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+)\s+RX-total:\s*(\d+)\s*\n"
    r"\s*TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)\s+TX-total:\s*(\d+)")
ACC_RE = re.compile(
    r"Accumulated forward statistics for all ports\+*\s*\n"
    r"\s*RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+)\s+RX-total:\s*(\d+)\s*\n"
    r"\s*TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)\s+TX-total:\s*(\d+)")


# ---- parsing --------------------------------------------------------------

def testpmd_stats(run):
    """[(ports, acc)] per testpmd 'stop' (or exit) in output order: ports is
    {port: (rx, rx_dropped, tx, tx_dropped)}, acc the same four for all
    ports."""
    res = []
    cur = {}
    events = sorted(
        [(m.start(), "port", m) for m in STAT_RE.finditer(run.out)] +
        [(m.start(), "acc", m) for m in ACC_RE.finditer(run.out)],
        key=lambda e: e[0])
    for _, kind, m in events:
        if kind == "port":
            cur[int(m.group(1))] = (int(m.group(2)), int(m.group(3)),
                                    int(m.group(5)), int(m.group(6)))
        else:
            acc = (int(m.group(1)), int(m.group(2)), int(m.group(4)),
                   int(m.group(5)))
            res.append((cur, acc))
            cur = {}
    return res


def check_io_session(c, run, i, ports, acc, secs=None):
    """io forwarding between net_null ports 0 and 1: what one port
    receives the other sends, and net_null refuses nothing, so TX equals
    RX exactly once forwarding has stopped (no packet in flight)."""
    what = "%s: forwarding session %d" % (run.name, i)
    if not c.eq("%s: ports with statistics" % what, sorted(ports), [0, 1]):
        return
    for p, peer in ((0, 1), (1, 0)):
        c.eq("%s: port %d RX-packets vs port %d TX-packets + TX-dropped" %
             (what, p, peer), ports[p][0], ports[peer][2] + ports[peer][3])
        c.eq("%s: port %d RX-dropped, TX-dropped" % (what, p),
             (ports[p][1], ports[p][3]), (0, 0))
    c.eq("%s: accumulated TX-packets (== RX-packets)" % what, acc[2], acc[0])
    c.eq("%s: accumulated RX-dropped, TX-dropped" % what,
         (acc[1], acc[3]), (0, 0))
    if secs is not None:
        mpps = acc[0] / secs / 1e6
        c.true("%s: %.2f Mpps RX over %.0f s, expected >= %.1f" %
               (what, mpps, secs, MIN_IO_MPPS), mpps >= MIN_IO_MPPS)


def attached_pools(run):
    """{pool: objects} from the debug lines of pool attach."""
    res = {}
    for line in run.err.splitlines():
        m = POOL_ATTACH_RE.match(line)
        if m:
            res[m.group(1)] = int(m.group(2))
    return res


def callback_lines(run):
    """{(port, 'rx'|'tx'): queues that got a callback}, summed over every
    callback line of the run."""
    res = {}
    for line in run.err.splitlines():
        m = CB_RE.match(line)
        if m:
            port = int(m.group(1))
            for d, n in (("rx", m.group(2)), ("tx", m.group(3))):
                res[(port, d)] = res.get((port, d), 0) + int(n)
    return res


# ethdev's complaint when asked about an RX queue that was never set up
# (rte_eth_rx_queue_info_get): an application that does not ask never
# prints it, so in a preloaded run it is the auditor's doing.
ETHDEV_NOISE = "has not been setup"


def check_no_noise(c, run):
    """The preload must not change what the application prints."""
    lines = [l for l in run.err.splitlines() if ETHDEV_NOISE in l]
    c.true("%s: %d ethdev error lines %r caused by the auditor, e.g. %r" %
           (run.name, len(lines), ETHDEV_NOISE, lines[:1]), not lines)


# ---- checks ---------------------------------------------------------------

def check_mode(c, run):
    c.eq("%s: report mode" % run.name, run.report().get("mode"), MODE)


def check_clean_report(c, run, min_scans):
    """Nothing stuck at any time, no free error, the scanner ran."""
    check_no_noise(c, run)
    r = run.report()
    check_mode(c, run)
    c.eq("%s: report stuck" % run.name, r.get("stuck"), [])
    c.eq("%s: report errors" % run.name, r.get("errors"), [])
    s = r.get("summary", {})
    # Heap tracking is on by default: what the program never freed by exit
    # (testpmd keeps its port tables) is a heap leak, and only that may
    # make the verdict 3 here. No free error: every free was accounted for.
    heap_leaks = len(r.get("malloc", []))
    c.eq("%s: summary stuck, errors, malloc_groups, exit_code" % run.name,
         (s.get("stuck"), s.get("errors"), s.get("malloc_groups"),
          s.get("exit_code")),
         (0, 0, heap_leaks, 3 if heap_leaks else 0))
    for p in r.get("pools", []):
        c.eq("%s: pool %s stuck" % (run.name, p.get("name")),
             p.get("stuck"), 0)
    c.eq("%s: 'newly stuck' log lines" % run.name, newly_stuck_lines(run), [])
    scans = r.get("scanner", {}).get("scans")
    c.true("%s: scanner.scans %r < %d" % (run.name, scans, min_scans),
           isinstance(scans, int) and scans >= min_scans)


def check_pool_audited(c, run, name, size):
    """The preload found the pool (debug line of pool attach)."""
    pools = attached_pools(run)
    c.eq("%s: objects of audited pool %s (from the log, %s)" %
         (run.name, name, LOG_DEBUG), pools.get(name), size)


def check_testpmd_pool(c, run):
    """testpmd frees its pool before rte_eal_cleanup(): the report keeps
    the pool's last scan, all objects back, marked destroyed."""
    pools = run.report().get("pools", [])
    c.eq("%s: pools in the report" % run.name,
         [p.get("name") for p in pools], [TESTPMD_POOL])
    p = pool_entry(run, TESTPMD_POOL)
    c.eq("%s: pool %s size, in_use, free, stuck, destroyed" %
         (run.name, TESTPMD_POOL),
         (p.get("size"), p.get("in_use"), p.get("free"), p.get("stuck"),
          p.get("destroyed")),
         (TESTPMD_MBUFS, 0, TESTPMD_MBUFS, 0, True))


def check_leak_report(c, run, truth, total, stuck_ms):
    check_no_noise(c, run)
    r = run.report()
    check_mode(c, run)
    rep = check_groups_exact(c, run, truth)
    check_ages(c, run, rep, stuck_ms)
    p = pool_entry(run, FWD_POOL)
    c.eq("%s: pool %s size, in_use, free, stuck" % (run.name, FWD_POOL),
         (p.get("size"), p.get("in_use"), p.get("free"), p.get("stuck")),
         (FWD_POOL_SIZE, total, FWD_POOL_SIZE - total, total))
    for q in r.get("pools", []):
        if q.get("name") != FWD_POOL:
            c.eq("%s: stuck in pool %s" % (run.name, q.get("name")),
                 q.get("stuck"), 0)
    s = r.get("summary", {})
    c.eq("%s: summary stuck, errors, exit_code" % run.name,
         (s.get("stuck"), s.get("errors"), s.get("exit_code")), (total, 0, 3))
    c.eq("%s: report errors" % run.name, r.get("errors"), [])
    # Each truth group logged once, nothing else: the driver's RX holdings
    # (net_pcap's replay mbufs, within its RX descriptors) are expected.
    check_logged_once(c, run, truth, allowed_pmd=0)


def check_silent_clean_exit(c, run, want_rc=0):
    check_exit(c, run, want_rc)
    c.eq("%s: stdout" % run.name, run.out, "")
    c.eq("%s: stderr" % run.name, run.err, "")


# ---- tests ----------------------------------------------------------------

def testpmd_io(ctx, c, name, secs, app_extra=()):
    """testpmd io forwarding between two net_null ports for @secs s,
    non-interactive: it starts forwarding, prints "Press enter to exit"
    and reads stdin; the newline makes it stop forwarding (statistics),
    close the ports, free its pools and call rte_eal_cleanup()."""
    cmd = ctx.testpmd_cmd(name, eal_extra=[LOG_DEBUG],
                          app=["--forward-mode=io"] + list(app_extra))
    run = ctx.run_fed(name, cmd, [secs, "\n"], ctx.penv(CLEAN_ENV),
                      timeout=secs + 60)
    check_exit(c, run, 0)
    c.true("%s: testpmd did not say Bye" % name, "Bye..." in run.out)
    sessions = testpmd_stats(run)
    if c.eq("%s: forwarding sessions" % name, len(sessions), 1):
        check_io_session(c, run, 0, sessions[0][0], sessions[0][1], secs)
    c.eq("%s: queues given a callback, per (port, direction)" % name,
         callback_lines(run),
         {(p, d): 1 for p in (0, 1) for d in ("rx", "tx")})
    check_pool_audited(c, run, TESTPMD_POOL, TESTPMD_MBUFS)
    check_testpmd_pool(c, run)
    # 100 ms scans: half of them is plenty even on a loaded machine.
    check_clean_report(c, run, int(secs * 1000 / 100 / 2))
    return run


def t_preload_testpmd_io(ctx, c):
    testpmd_io(ctx, c, "preload_testpmd_io", 30)


def t_preload_testpmd_nocache(ctx, c):
    testpmd_io(ctx, c, "preload_testpmd_nocache", 10, ["--mbcache=0"])


def t_preload_testpmd_anon(ctx, c):
    testpmd_io(ctx, c, "preload_testpmd_anon", 10, ["--mp-alloc=anon"])


# --cmdline-file: restart cycles with (almost) no traffic in between.
RESTART_FILE_CYCLES = 3
# Then through stdin, with forwarding running between restarts.
RESTART_STDIN_CYCLES = 2
RESTART_FWD_S = 2


def t_preload_port_restart(ctx, c):
    """Port stop/start, from --cmdline-file and from the interactive
    prompt, must not stack callbacks: every (port, queue) gets exactly one
    rx and one tx callback over the whole run."""
    name = "preload_port_restart"
    cmdfile = os.path.join(ctx.tmp, "restart.cmd")
    cycle = ["stop", "port stop all", "port start all", "start"]
    with open(cmdfile, "w") as f:
        f.write("\n".join(["start"] + cycle * RESTART_FILE_CYCLES) + "\n")
    feed = [RESTART_FWD_S]
    for _ in range(RESTART_STDIN_CYCLES):
        feed += ["\n".join(cycle) + "\n", RESTART_FWD_S]
    feed += ["stop\n", "quit\n"]
    cmd = ctx.testpmd_cmd(name, eal_extra=[LOG_DEBUG],
                          app=["-i", "--forward-mode=io",
                               "--cmdline-file=" + cmdfile])
    run = ctx.run_fed(name, cmd, feed, ctx.penv(CLEAN_ENV), timeout=90)
    check_exit(c, run, 0)
    c.true("%s: testpmd did not say Bye" % name, "Bye..." in run.out)
    nstart = 1 + RESTART_FILE_CYCLES + RESTART_STDIN_CYCLES
    c.eq("%s: 'Please stop forwarding first' refusals" % name,
         run.out.count("Please stop forwarding first"), 0)
    sessions = testpmd_stats(run)
    if c.eq("%s: forwarding sessions" % name, len(sessions), nstart):
        for i, (ports, acc) in enumerate(sessions):
            timed = i >= nstart - RESTART_STDIN_CYCLES - 1
            check_io_session(c, run, i, ports, acc,
                             RESTART_FWD_S if timed else None)
    # testpmd configures one rx and one tx queue per port: one callback
    # each over the whole run, however often the ports restart.
    c.eq("%s: queues given a callback, per (port, direction), summed over "
         "the run's callback log lines" % name, callback_lines(run),
         {(p, d): 1 for p in (0, 1) for d in ("rx", "tx")})
    check_pool_audited(c, run, TESTPMD_POOL, TESTPMD_MBUFS)
    check_testpmd_pool(c, run)
    check_clean_report(c, run, 20)


def t_preload_leaky(ctx, c):
    """The uninstrumented forwarder: every truth group, exactly, by state,
    lcore, port, queue and ring; the driver's holdings not reported."""
    name = "preload_leaky"
    cmd = [ctx.fwd_plain] + ctx.eal(name, LCORES_IO) + \
        ["--", "--duration", "4", "--stats-ms", "0"] + PRELOAD_LEAK_ARGS
    run = ctx.run(name, cmd, ctx.penv(LEAK_ENV), timeout=60)
    # The program keeps its own exit status (the preload never changes
    # it); the verdict, 3, is summary.exit_code in the report.
    check_exit(c, run, 0)
    truth, kinds = preload_truth(run, "mpaudit-fwd")
    check_truth_kinds(c, run, kinds, PRELOAD_LEAK_EXPECT)
    m = re.search(r"ports 0<->1, forwarding lcore 1, hold port (\d+) \(%s\)" %
                  FWD_HOLD_NAME, run.out)
    hold = int(m.group(1)) if m else None
    c.true("%s: no plan line with the hold port" % name, m)
    for kind, k, n in kinds:
        pool, state, lcore, port, queue, ring, _ = k
        c.eq("%s: pool, lcore of %s" % (name, kind), (pool, lcore),
             (FWD_POOL, 1))
        if kind == "rx_leak":
            c.eq("%s: truth %s" % (name, key_str(k)),
                 (state, queue, ring), ("rx", 0, None))
            c.true("%s: rx_leak port %r" % (name, port), port in (0, 1))
        elif kind == "ring_keep":
            c.eq("%s: truth %s" % (name, key_str(k)),
                 (state, port, queue, ring), ("ring", None, None, "fwd_keep"))
        elif kind == "tx_hold":
            c.eq("%s: truth %s" % (name, key_str(k)),
                 (state, port, queue, ring), ("tx", hold, 0, None))
    total = sum(truth.values())
    check_fwd_selfcheck(c, run, total)
    check_leak_report(c, run, truth, total, int(LEAK_ENV["MPAUDIT_STUCK_MS"]))


def t_preload_memif(ctx, c):
    """Two processes over net_memif: testpmd txonly (server, plain) feeds
    mpaudit-fwd-plain (client, preloaded), which leaks MEMIF_LEAKS received
    mbufs. --ports 1 forwards only the first port, net_memif0 (the default
    devices are net_memif0 then net_null0, probed in that order), back to
    itself: the generator never receives, so the DUT's TX soon finds the
    memif ring full, which a net_null port would never do: that is how the
    test knows that port 0 is the memif.

    The generator stops transmitting before the DUT disconnects: a plain
    22.11 testpmd memif server that is still transmitting when its client
    goes away sometimes crashes (SIGSEGV, seen here without any preload)."""
    name = "preload_memif"
    sock = os.path.join(ctx.tmp, "memif.sock")
    gen_cmd = ctx.testpmd_cmd(
        name + "-gen", lcores=LCORES_GEN,
        vdevs=["--vdev", "net_memif0,role=server,socket=" + sock],
        app=["-i", "--auto-start", "--forward-mode=txonly"])
    gen = ctx._spawn(name + "-gen", gen_cmd, {}, None,
                     stdin=subprocess.PIPE)
    dut = None
    try:
        # net_memif's socket is abstract by default (no file to wait for):
        # the server listens once testpmd has started its port, before its
        # prompt (written unbuffered by the cmdline library).
        if not wait_text(gen, gen.mpa_files[0], "testpmd> ", 30):
            stop_proc(gen)
            ctx._finish(name + "-gen", gen_cmd, gen, None, 5)
            raise Failed("%s: the generator did not start" % name)
        cmd = [ctx.fwd_plain] + ctx.eal(name, LCORES_IO) + \
            ["--log-level=pmd.net.memif:info", "--",
             "--memif", "client:" + sock, "--ports", "1",
             "--duration", "4", "--stats-ms", "1000"] + MEMIF_LEAK_ARGS
        report_path = os.path.join(ctx.tmp, "%s.json" % name)
        dut = ctx._spawn(name, cmd, ctx.penv(LEAK_ENV), report_path,
                         stdin=subprocess.DEVNULL)
        # One second of traffic (the leaks take 12,500 packets), then
        # quiet until the DUT ends.
        wait_text(dut, dut.mpa_files[0], "mpaudit-fwd: stats t=", 30)
        feed_steps(gen, ["stop\n"], time.monotonic() + 5, close=False)
        run = ctx._finish(name, cmd, dut, report_path, 60)
        dut = None
        feed_steps(gen, ["quit\n"], time.monotonic() + 5)
        grun = ctx._finish(name + "-gen", gen_cmd, gen, None, 30)
    finally:
        if dut is not None:
            stop_proc(dut)
        stop_proc(gen)
    check_exit(c, grun, 0)
    # The program keeps its own exit status (the preload never changes
    # it); the verdict, 3, is summary.exit_code in the report.
    check_exit(c, run, 0)
    c.true("%s: DUT did not connect to the memif server" % name,
           "Connected" in run.err)
    c.true("%s: no plan line 'ports 0<->0'" % name,
           "ports 0<->0, forwarding lcore 1" in run.out)
    m = re.findall(r"^mpaudit-fwd: stats t=\S+ rx=(\d+) tx=(\d+) ", run.out,
                   re.M)
    if c.true("%s: no stats line" % name, m):
        rx, tx = int(m[-1][0]), int(m[-1][1])
        c.true("%s: rx=%d: the generator delivered nothing" % (name, rx),
               rx > 10 * MEMIF_LEAKS * 500)
        c.true("%s: tx=%d of rx=%d: port 0 sends like a net_null port, not "
               "a memif nobody drains" % (name, tx, rx), tx * 2 < rx)
    truth, kinds = preload_truth(run, "mpaudit-fwd")
    c.eq("%s: truth" % name, sorted(truth.items(), key=str),
         [(key_of(FWD_POOL, "rx", 1, 0, 0, None, None), MEMIF_LEAKS)])
    check_fwd_selfcheck(c, run, MEMIF_LEAKS)
    check_leak_report(c, run, truth, MEMIF_LEAKS,
                      int(LEAK_ENV["MPAUDIT_STUCK_MS"]))


def t_preload_non_dpdk(ctx, c):
    """Non-DPDK programs, also the wrappers that sit in front of a DPDK
    app: no output, exit status untouched, and no report: a report
    written by `timeout` when it exits would overwrite the one of the
    application it ran."""
    env = ctx.penv(dict(CLEAN_ENV))
    cases = [("true", ["/bin/true"], 0),
             ("env_true", ["env", "true"], 0),
             ("timeout_true", ["timeout", "5", "true"], 0),
             ("sh_exit7", ["/bin/sh", "-c", "exit 7"], 7)]
    for label, cmd, rc in cases:
        run = ctx.run("preload_non_dpdk-" + label, cmd, env, timeout=20)
        check_silent_clean_exit(c, run, rc)
        c.true("%s: a report was written to %s" % (run.name, run.report_path),
               not os.path.exists(run.report_path))


def t_preload_bad_config(ctx, c):
    """A bad MPAUDIT_* value: the message names the variable and says
    auditing is off; the application runs as without the preload (same
    exit status, forwarding intact, nothing reported)."""
    for label, var, val in (("stuck_abc", "MPAUDIT_STUCK_MS", "abc"),
                            ("scan_negative", "MPAUDIT_SCAN_MS", "-1")):
        name = "preload_bad_config-testpmd-" + label
        cmd = ctx.testpmd_cmd(name, app=["--forward-mode=io"])
        run = ctx.run_fed(name, cmd, [2, "\n"], ctx.penv({var: val}),
                          timeout=60, report=False)
        check_exit(c, run, 0)
        c.true("%s: testpmd did not say Bye" % name, "Bye..." in run.out)
        sessions = testpmd_stats(run)
        if c.eq("%s: forwarding sessions" % name, len(sessions), 1):
            check_io_session(c, run, 0, sessions[0][0], sessions[0][1], 2)
        check_bad_config_msg(c, run, var)

    # The leaky forwarder: unaudited, it leaks the same, and the auditor
    # says nothing but its message (a working preload logs its start, its
    # callbacks and a summary of the leaks).
    name = "preload_bad_config-fwd"
    cmd = [ctx.fwd_plain] + ctx.eal(name, LCORES_IO) + \
        ["--", "--duration", "1", "--stats-ms", "0"] + PRELOAD_LEAK_ARGS
    run = ctx.run(name, cmd, ctx.penv({"MPAUDIT_STUCK_MS": "abc",
                                       "MPAUDIT_SCAN_MS": "50"}),
                  timeout=60, report=False)
    check_exit(c, run, 0)
    _, kinds = truth_groups(run, "mpaudit-fwd")
    check_truth_kinds(c, run, kinds, PRELOAD_LEAK_EXPECT)
    check_bad_config_msg(c, run, "MPAUDIT_STUCK_MS")


DFREE_TRUTH_RE = re.compile(r"^dfree: truth kind=double_free pool=(\S+) "
                            r"address=(0x[0-9a-f]+)(?: |$)", re.M)
DFREE_RES_RE = re.compile(r"^dfree: allocated=(\d+) distinct=(\d+) "
                          r"duplicates=(\d+) avail_after=(\d+)$", re.M)


def dfree_result(c, run):
    t = DFREE_TRUTH_RE.search(run.out)
    r = DFREE_RES_RE.search(run.out)
    c.true("%s: no truth line" % run.name, t)
    c.true("%s: no result line" % run.name, r)
    return (t.group(1), int(t.group(2), 16)) if t else None, \
        tuple(int(x) for x in r.groups()) if r else None


def t_preload_double_free_cache(ctx, c):
    """Zero-recompile mode, a pool with the usual per-lcore cache: the
    inline free cannot be checked, so three mbufs freed twice sit in lcore
    0's cache twice. The scanner finds each (seen twice in two scans),
    reports it with the lcore of the cache, no site; the program then gets
    the duplicates from the pool: found, not prevented."""
    name = "preload_double_free_cache"
    run = ctx.run(name, [ctx.dfree] + ctx.eal(name, "0@0") +
                  ["--", "cache", "3000"],
                  ctx.penv({"MPAUDIT_SCAN_MS": "200"}), timeout=60)
    check_exit(c, run, 1)
    dfree_cache_check(c, run, kept=False)
    c.eq("%s: double_free log lines" % name,
         sum(1 for l in run.err.splitlines()
             if "double_free of" in l and "in lcore 0's cache" in l),
         3)


def t_preload_double_free(ctx, c):
    """One mbuf freed twice into a pool without cache: reported once, and
    kept out of the pool, so the pool never hands it out twice."""
    # Without the preload the bug shows: the test can fail.
    name = "preload_double_free-plain"
    run = ctx.run(name, [ctx.dfree] + ctx.eal(name, "0@0"), {},
                  timeout=60, report=False)
    check_exit(c, run, 1)
    _, res = dfree_result(c, run)
    if res:
        c.true("%s: plain DPDK handed out no object twice: %r (the test "
               "proves nothing)" % (name, res), res[2] >= 1)

    name = "preload_double_free"
    run = ctx.run(name, [ctx.dfree] + ctx.eal(name, "0@0"),
                  ctx.penv(), timeout=60)
    # The program keeps its own exit status (the preload never changes
    # it); the verdict, 3, is summary.exit_code in the report.
    check_exit(c, run, 0)
    check_no_noise(c, run)
    truth, res = dfree_result(c, run)
    c.eq("%s: allocated, distinct, duplicates, avail_after" % name, res,
         (DFREE_NB, DFREE_NB, 0, DFREE_NB))
    r = run.report()
    check_mode(c, run)
    errs = r.get("errors")
    if truth and c.true("%s: report errors %r: expected exactly one" %
                        (name, errs), isinstance(errs, list) and
                        len(errs) == 1):
        e = errs[0]
        addr = e.get("address")
        try:
            addr = int(addr, 16)
        except (TypeError, ValueError):
            pass
        c.eq("%s: error type, pool_or_heap, address" % name,
             (e.get("type"), e.get("pool_or_heap"), addr),
             ("double_free", truth[0], truth[1]))
    c.eq("%s: report stuck" % name, r.get("stuck"), [])
    s = r.get("summary", {})
    c.eq("%s: summary stuck, errors, exit_code" % name,
         (s.get("stuck"), s.get("errors"), s.get("exit_code")), (0, 1, 3))
    p = pool_entry(run, DFREE_POOL)
    c.eq("%s: pool %s size, in_use, stuck" % (name, DFREE_POOL),
         (p.get("size"), p.get("in_use"), p.get("stuck")), (DFREE_NB, 0, 0))
    if truth:
        # errors.c: "mpaudit: double_free of 0x... in POOL; ..."
        lines = [l for l in run.err.splitlines()
                 if l.lower().startswith("mpaudit: double_free of %#x " %
                                         truth[1])]
        c.eq("%s: log lines reporting the double free" % name,
             len(lines), 1)


TESTS = {
    "preload_testpmd_io": t_preload_testpmd_io,
    "preload_testpmd_nocache": t_preload_testpmd_nocache,
    "preload_testpmd_anon": t_preload_testpmd_anon,
    "preload_port_restart": t_preload_port_restart,
    "preload_leaky": t_preload_leaky,
    "preload_memif": t_preload_memif,
    "preload_non_dpdk": t_preload_non_dpdk,
    "preload_bad_config": t_preload_bad_config,
    "preload_double_free": t_preload_double_free,
    "preload_double_free_cache": t_preload_double_free_cache,
}


def main():
    args = case_args("mpa_preload_it", __doc__, TESTS, exes=(
        ("--fwd-plain", "uninstrumented mpaudit-fwd"),
        ("--dfree", "dfree test program")), files=(
        ("--preload", "libmpaudit_preload.so"),), optional=(
        ("--testpmd", "dpdk-testpmd", TESTPMD),))
    if args is None:
        return 1
    if not os.access(args.testpmd, os.X_OK):
        print("mpa_preload_it: %s is not an executable" % args.testpmd,
              file=sys.stderr)
        return 1
    print("mpa_preload_it: %s, preload %s, EAL memory: %s" % (
        args.test, args.preload, eal_mem_desc()))
    return run_case("mpa_preload_it", args.test, TESTS[args.test],
                    PCtx(args))


if __name__ == "__main__":
    sys.exit(main())
