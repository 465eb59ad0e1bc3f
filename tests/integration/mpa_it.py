#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Integration tests of mpaudit: real EAL on virtual devices, exact ground truth.

Usage: mpa_it.py TEST --fwd PATH --objpool PATH

Each test runs instrumented programs (mpaudit-fwd, objpool) and compares the
auditor's JSON report and log lines with the ground truth the programs print
at exit ("truth" lines). Helpers (running, parsing, checks) come from
mpa_lib.py. EAL memory arguments come from MPA_EAL_MEM (set by ./run;
default "--no-huge -m 512"). Exit status 0 pass, 1 fail.
Standard library only.
"""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpa_lib import (  # noqa: E402
    case_args, eal_hugepages, eal_mem_desc,
    Ctx, DFREE_CACHE_VICTIMS, FWD_POOL, FWD_POOL_SIZE,
    LCORES_IO, LCORES_PIPELINE, LEAK_ARGS, LEAK_ENV, LEAK_EXPECT, check_ages,
    check_exit, check_fwd_selfcheck, check_groups_exact, check_logged_once,
    check_summary, check_truth_kinds, dfree_cache_check, forwarded, key_str,
    pool_entry, run_case, truth_groups)

# service: lcore 2 (on CPU 0, shared with the mostly sleeping main lcore)
# becomes a service lcore through -S (a list of lcore ids). EAL 22.11's -s
# mask also requires each lcore id to be a detected CPU id, so "-s 0x4"
# fails ("lcore 2 unavailable") on a 2-CPU machine.
LCORES_SERVICE = "0@0,1@1,2@0"
SERVICE_LCORE = 2

TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
# net_pcap infinite_rx keeps one mbuf per frame of the replayed capture:
# demo.pcap has MKPCAP_NB_FRAMES (apps/mpaudit-fwd/mkpcap.c) frames.
PCAP_REPLAY_MBUFS = 64


# ---- checks ---------------------------------------------------------------

def check_fwd_pool(c, run, total):
    """The forwarder's pool is the one live pool (destroyed pools, like
    --churn-pool's, are checked by their tests)."""
    pools = run.report().get("pools", [])
    c.eq("%s: live pools in the report" % run.name,
         [p.get("name") for p in pools if not p.get("destroyed")], [FWD_POOL])
    p = pool_entry(run, FWD_POOL)
    c.eq("%s: pool %s size, in_use, free, stuck" % (run.name, FWD_POOL),
         (p.get("size"), p.get("in_use"), p.get("free"), p.get("stuck")),
         (FWD_POOL_SIZE, total, FWD_POOL_SIZE - total, total))


# ---- tests ----------------------------------------------------------------

def leaks_run(ctx, c, name, lcores, extra_eal=(), extra_app=(), env=None):
    """The fixed leak mix, checked exactly. Returns the run."""
    cmd = [ctx.fwd] + ctx.eal(name, lcores) + list(extra_eal) + \
        ["--", "--duration", "3", "--stats-ms", "0"] + LEAK_ARGS + \
        list(extra_app)
    env = dict(LEAK_ENV, **(env or {}))
    run = ctx.run(name, cmd, env, timeout=60)
    stuck_ms = int(LEAK_ENV["MPAUDIT_STUCK_MS"])
    check_exit(c, run, 3)
    truth, kinds = truth_groups(run, "mpaudit-fwd")
    check_truth_kinds(c, run, kinds, LEAK_EXPECT)
    total = sum(truth.values())
    check_fwd_selfcheck(c, run, total)
    rep = check_groups_exact(c, run, truth)
    check_ages(c, run, rep, stuck_ms)
    check_fwd_pool(c, run, total)
    check_summary(c, run, total, 3)
    check_logged_once(c, run, truth, allowed_pmd=PCAP_REPLAY_MBUFS)
    return run, truth


def check_stamp_where(c, run, where):
    """The forwarder's mbuf pool keeps its stamps @where (report field);
    "dynfield" means the header pad without hugepages, where the auditor
    never uses the field."""
    if where == "dynfield" and not eal_hugepages():
        where = "header"
    p = pool_entry(run, FWD_POOL)
    if c.true("%s: no pool %s in the report" % (run.name, FWD_POOL), p):
        c.eq("%s: pool %s stamp" % (run.name, FWD_POOL), p.get("stamp"),
             where)


def t_leaks_io(ctx, c):
    run, truth = leaks_run(ctx, c, "leaks_io", LCORES_IO)
    for k in truth:
        c.eq("%s: lcore of %s (the forwarding lcore)" % (run.name, key_str(k)),
             k[2], 1)
    check_stamp_where(c, run, "dynfield")


def t_leaks_header(ctx, c):
    """No room for the stamp's mbuf dynamic field (MPA_FAULT_INJECT): one
    log line, the mbufs are stamped in their header pad, and the leak mix
    is found as exactly as with the field. Without hugepages the field is
    never asked for: no line, the same pad."""
    run, truth = leaks_run(ctx, c, "leaks_header", LCORES_IO,
                           env={"MPA_FAULT_INJECT": "dynfield"})
    line = ("mpaudit: no room for an mbuf dynamic field (no room left in "
            "the mbuf): mbufs are stamped in their header pad")
    c.eq("%s: log lines '%s'" % (run.name, line), run.err.count(line),
         1 if eal_hugepages() else 0)
    check_stamp_where(c, run, "header")


def t_leaks_pipeline(ctx, c):
    run, truth = leaks_run(ctx, c, "leaks_pipeline", LCORES_PIPELINE,
                           extra_app=["--pipeline"])
    m = re.search(r"rx lcore (\d+) -> fwd_pipe -> tx lcore (\d+)", run.out)
    if c.true("%s: no pipeline plan line" % run.name, m):
        c.eq("%s: rx, tx lcores" % run.name,
             (int(m.group(1)), int(m.group(2))), (1, 2))
    # Every knob, the rx leaks and ring_keep included, runs on the RX lcore.
    for k in truth:
        c.eq("%s: lcore of %s (the RX lcore)" % (run.name, key_str(k)),
             k[2], 1)
    check_stamp_where(c, run, "dynfield")


def t_final_scan_only(ctx, c):
    """MPAUDIT_SCAN_MS=0: no periodic scan, the final one finds it all."""
    run, truth = leaks_run(ctx, c, "final_scan_only", LCORES_IO,
                           env={"MPAUDIT_SCAN_MS": "0"})
    sc = run.report().get("scanner", {})
    # The final report confirms each holding with a second scan.
    c.eq("%s: scanner.scans" % run.name, sc.get("scans"), 2)


def t_driver_holdings(ctx, c):
    """A driver that keeps its RX ring posted (virtio_user, against a vhost
    backend) holds up to its configured descriptors: expected, never
    reported, while a real leak next to it still is, exactly."""
    sock = os.path.join(ctx.tmp, "vhost.sock")
    backend_cmd = [TESTPMD] + ctx.eal("driver_holdings_vhost", LCORES_IO) + \
        ["--single-file-segments",
         "--vdev", "net_vhost0,iface=%s,queues=1" % sock, "--",
         "--forward-mode=rxonly", "--stats-period", "0", "-a",
         "--total-num-mbufs=8192"]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MPAUDIT_")}
    backend = subprocess.Popen(backend_cmd, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT,
                               universal_newlines=True, errors="replace")
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(sock) and time.monotonic() < deadline and \
                backend.poll() is None:
            time.sleep(0.1)
        if not c.true("driver_holdings: vhost backend socket %s never "
                      "appeared" % sock, os.path.exists(sock)):
            return
        cmd = [ctx.fwd] + ctx.eal("driver_holdings", LCORES_IO) + \
            ["--single-file-segments",
             "--vdev", "virtio_user0,path=%s,queues=1" % sock,
             "--vdev", "net_null0", "--",
             "--duration", "3", "--stats-ms", "0",
             "--leak-rx", "1000", "--leak-max", "10"]
        run = ctx.run("driver_holdings", cmd, LEAK_ENV, timeout=60)
    finally:
        # testpmd -a without a terminal waits for a line on stdin to quit.
        try:
            out, _ = backend.communicate(input="\n", timeout=20)
        except subprocess.TimeoutExpired:
            backend.kill()
            out, _ = backend.communicate()
    check_exit(c, run, 3)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    check_groups_exact(c, run, truth)
    c.eq("%s: rx leaks injected on the net_null port" % run.name,
         sorted((k[0], k[1], k[3], v) for k, v in truth.items()),
         [(FWD_POOL, "rx", 1, 10)])
    c.true("%s: driver holdings reported as stuck: %r" % (
        run.name, [l for l in run.err.splitlines() if "driver" in l]),
        "taken by a driver" not in run.err)
    m = re.search(r"RX-packets: (\d+)", out)
    c.true("%s: the vhost backend received nothing, so the virtio link "
           "was never up" % run.name, m and int(m.group(1)) > 0)


def t_override_disabled(ctx, c):
    """-include mpaudit_override.h with MPAUDIT_DISABLE: the plain calls,
    no auditor (the binary links without libmpaudit), same behaviour."""
    exe = ctx.fwd + "-disabled"
    undefined = subprocess.run(["nm", "-u", exe], stdout=subprocess.PIPE,
                               universal_newlines=True).stdout
    c.eq("override_disabled: mpaudit symbols referenced",
         [l for l in undefined.split() if l.startswith("mpa_")], [])
    cmd = [exe] + ctx.eal("override_disabled", LCORES_IO) + \
        ["--", "--duration", "1", "--stats-ms", "0", "--app-leak", "8"]
    run = ctx.run("override_disabled", cmd, LEAK_ENV, timeout=60,
                  report=False)
    check_exit(c, run, 0)
    c.eq("%s: auditor output" % run.name,
         [l for l in run.err.splitlines() if l.startswith("mpaudit:")], [])
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: the app still runs its leak knob" % run.name,
         sorted(truth.values()), [8])


def t_service(ctx, c):
    run, truth = leaks_run(ctx, c, "service", LCORES_SERVICE,
                           extra_eal=["-S", str(SERVICE_LCORE)])
    sc = run.report().get("scanner", {})
    c.eq("%s: scanner.mode" % run.name, sc.get("mode"), "service")
    c.true("%s: scanner.service_scans %r is not > 0" %
           (run.name, sc.get("service_scans")),
           isinstance(sc.get("service_scans"), int) and
           sc["service_scans"] > 0)
    c.true("%s: no line saying the scan service runs on lcore %d" %
           (run.name, SERVICE_LCORE),
           re.search(r"service on lcore %d\b" % SERVICE_LCORE, run.out))


def clean_checks(c, run, min_scans, allowed_pmd):
    check_exit(c, run, 0)
    r = run.report()
    c.eq("%s: report stuck" % run.name, r.get("stuck"), [])
    p = pool_entry(run, FWD_POOL)
    c.eq("%s: pool in_use, stuck" % run.name,
         (p.get("in_use"), p.get("stuck")), (0, 0))
    check_summary(c, run, 0, 0)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth lines" % run.name, truth, {})
    check_logged_once(c, run, {}, allowed_pmd=allowed_pmd)
    scans = r.get("scanner", {}).get("scans")
    c.true("%s: scanner.scans %r < %d" % (run.name, scans, min_scans),
           isinstance(scans, int) and scans >= min_scans)
    n = forwarded(run)
    c.true("%s: forwarded %r packets" % (run.name, n), n and n > 0)


def t_clean_run(ctx, c):
    name = "clean_run"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + \
        ["--vdev", "net_null0", "--vdev", "net_null1",
         "--", "--duration", "10", "--stats-ms", "0"]
    run = ctx.run(name, cmd, {"MPAUDIT_STUCK_MS": "200",
                              "MPAUDIT_SCAN_MS": "50"}, timeout=60)
    clean_checks(c, run, 100, allowed_pmd=0)
    c.true("%s: 'newly stuck' in stderr" % name, "newly stuck" not in run.err)


def t_ab_phases(ctx, c):
    """--ab-ms (the bench's interleaved section): the stamps go off and on
    by turns, both kinds of phase are counted, and the stamps are on again
    for the stop: the run ends clean, as clean_run. Phases are at least a
    third of the 30 the duration allows, so a loaded machine cannot fail
    it; the threshold is ten phases, so a stamp left stale by an off phase
    is never stuck."""
    name = "ab_phases"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + \
        ["--vdev", "net_null0", "--vdev", "net_null1",
         "--", "--duration", "3", "--stats-ms", "0", "--ab-ms", "100"]
    run = ctx.run(name, cmd, {"MPAUDIT_STUCK_MS": "1000",
                              "MPAUDIT_SCAN_MS": "50"}, timeout=60)
    clean_checks(c, run, 20, allowed_pmd=0)
    m = re.search(r"^mpaudit-fwd: ab phases=(\d+) pairs=(\d+) "
                  r"on=([0-9.]+) Mpps off=([0-9.]+) Mpps ratio=([0-9.]+) "
                  r"pair_median=([0-9.]+) rx_on=([0-9.]+) rx_off=([0-9.]+) "
                  r"drop_on=([0-9.]+) drop_off=([0-9.]+)$", run.out, re.M)
    if not c.true("%s: no 'ab' line in stdout" % name, m):
        return
    phases, pairs = int(m.group(1)), int(m.group(2))
    c.true("%s: %d phases, %d pairs" % (name, phases, pairs),
           phases >= 10 and pairs >= 4 and 2 * pairs <= phases)
    on, off = float(m.group(3)), float(m.group(4))
    c.true("%s: on %s and off %s Mpps" % (name, m.group(3), m.group(4)),
           on > 0 and off > 0)
    # net_null takes every packet: nothing dropped, all received sent.
    c.eq("%s: drop_on, drop_off" % name, (m.group(9), m.group(10)),
         ("0.0000", "0.0000"))
    c.true("%s: rx_on %s = on, rx_off %s = off" % (name, m.group(7),
                                                   m.group(8)),
           abs(float(m.group(7)) - on) <= 0.01 and
           abs(float(m.group(8)) - off) <= 0.01)


def t_clean_default(ctx, c):
    name = "clean_default"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + \
        ["--", "--duration", "10", "--stats-ms", "0"]
    run = ctx.run(name, cmd, {"MPAUDIT_STUCK_MS": "200",
                              "MPAUDIT_SCAN_MS": "50"}, timeout=60)
    # Only the pcap port's replay mbufs may be logged, as driver holdings.
    clean_checks(c, run, 100, allowed_pmd=PCAP_REPLAY_MBUFS)


def t_churn(ctx, c):
    name = "churn"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + \
        ["--", "--duration", "5", "--stats-ms", "0", "--churn-pool", "20",
         "--leak-rx", "500", "--leak-max", "10"]
    run = ctx.run(name, cmd, LEAK_ENV, timeout=60)
    check_exit(c, run, 3)
    truth, kinds = truth_groups(run, "mpaudit-fwd")
    check_truth_kinds(c, run, kinds, {"rx_leak": 10})
    total = sum(truth.values())
    check_fwd_selfcheck(c, run, total)
    rep = check_groups_exact(c, run, truth)
    check_ages(c, run, rep, int(LEAK_ENV["MPAUDIT_STUCK_MS"]))
    check_fwd_pool(c, run, total)
    check_summary(c, run, total, 3)
    check_logged_once(c, run, truth, allowed_pmd=PCAP_REPLAY_MBUFS)
    m = re.search(r"churned pool fwd_churn (\d+) times", run.out)
    # 5 s / 20 ms = 250 at best; a loaded machine may do fewer.
    c.true("%s: pool fwd_churn churned %s times (want >= 50)" %
           (name, m.group(1) if m else None), m and int(m.group(1)) >= 50)
    # The churned pool appears once, as the destroyed pool it is, and clean:
    # its last scan before each destruction replaced the previous one.
    r = run.report()
    churn = [p for p in r.get("pools", []) if p.get("name") == "fwd_churn"]
    c.eq("%s: fwd_churn rows in pools[]" % name,
         [(p.get("destroyed"), p.get("in_use"), p.get("stuck"))
          for p in churn], [(True, 0, 0)])
    c.eq("%s: stuck groups of fwd_churn" % name,
         [g for g in r.get("stuck", []) if g.get("pool") == "fwd_churn"], [])
    # Logged only if it were destroyed with stuck objects.
    for line in run.err.splitlines():
        c.true("%s: log line about fwd_churn: %s" % (name, line),
               not line.startswith("mpaudit: pool fwd_churn"))


def t_double_free_cache(ctx, c):
    """Instrumented mode, a pool with the usual per-lcore cache: three
    mbufs freed twice are reported at the second free's site, with the
    first free's, and kept out: the pool never hands an object out twice.
    A clean run of the same program reports nothing."""
    name = "double_free_cache"
    cmd = [ctx.dfree_instr] + ctx.eal(name, "0@0") + ["--", "cache"]
    run = ctx.run(name, cmd, {}, timeout=60)
    # The program's own verdict: no object handed out twice.
    check_exit(c, run, 0)
    dfree_cache_check(c, run, kept=True)
    c.eq("%s: double_free log lines" % name,
         sum(1 for l in run.err.splitlines()
             if "double_free of" in l and "kept out of the pool" in l),
         DFREE_CACHE_VICTIMS)


def t_objpool(ctx, c):
    name = "objpool"
    cmd = [ctx.objpool] + ctx.eal(name, LCORES_IO) + \
        ["--", "--sleep-ms", "1500"]
    env = {"MPAUDIT_STUCK_MS": "300", "MPAUDIT_SCAN_MS": "50"}
    run = ctx.run(name, cmd, env, timeout=60)
    check_exit(c, run, 3)
    c.true("%s: objects were modified" % name, "CORRUPTED" not in run.out)
    pats = re.findall(r"^objpool: pattern pool=(\S+) objects=(\d+) "
                      r"corrupted=(\d+)$", run.out, re.M)
    c.eq("%s: pattern checks" % name, sorted(pats),
         [("it_nocache", "511", "0"), ("it_plain", "1023", "0")])
    c.true("%s: the auditor did not run" % name,
           "objpool: audited=1" in run.out)
    truth, kinds = truth_groups(run, "objpool")
    c.eq("%s: truth groups" % name,
         sorted((k[0], k[1], k[5], n) for k, n in truth.items()),
         [("it_freed", "app", None, 4), ("it_nocache", "app", None, 5),
          ("it_plain", "app", None, 7), ("it_plain", "ring", "it_ring", 3)])
    for k in truth:
        c.eq("%s: lcore of %s" % (name, key_str(k)), k[2], 0)
        c.true("%s: site %s is not objpool.c:LINE" % (name, k[6]),
               k[6] and re.match(r"^tests/integration/objpool\.c:\d+$", k[6]))
    rep = check_groups_exact(c, run, truth)
    check_ages(c, run, rep, int(env["MPAUDIT_STUCK_MS"]))
    for k, g in rep.items():
        c.true("%s: function of %s is %r" % (name, key_str(k),
                                              g.get("function")),
               g.get("function") == "main")
    pools = run.report().get("pools", [])
    c.eq("%s: pools in the report" % name,
         sorted((p.get("name"), p.get("destroyed")) for p in pools),
         [("it_freed", True), ("it_nocache", False), ("it_plain", False)])
    # it_freed was freed with 4 objects out: its last scan, kept.
    for pname, size, held, stamp in (("it_plain", 1023, 10, "header"),
                                     ("it_nocache", 511, 5, "side"),
                                     ("it_freed", 255, 4, "header")):
        p = pool_entry(run, pname)
        c.eq("%s: pool %s size, in_use, free, stuck, stamp" % (name, pname),
             (p.get("size"), p.get("in_use"), p.get("free"), p.get("stuck"),
              p.get("stamp")),
             (size, held, size - held, held, stamp))
    m = re.search(r"^objpool: in_use it_plain=(\d+) it_nocache=(\d+)$",
                  run.out, re.M)
    if c.true("%s: no in_use line" % name, m):
        c.eq("%s: in_use seen by the program" % name,
             (int(m.group(1)), int(m.group(2))), (10, 5))
    check_summary(c, run, 19, 3)
    check_logged_once(c, run, truth)


# (label, MPAUDIT_* env, app args, words the one error line must contain,
#  whether the error must come before EAL starts)
BAD_FWD = [
    ("stuck_abc", {"MPAUDIT_STUCK_MS": "abc"}, [],
     ["MPAUDIT_STUCK_MS", "abc"], True),
    ("stuck_zero", {"MPAUDIT_STUCK_MS": "0"}, [], ["MPAUDIT_STUCK_MS"], True),
    ("scan_negative", {"MPAUDIT_SCAN_MS": "-1"}, [],
     ["MPAUDIT_SCAN_MS", "-1"], True),
    ("unknown_var", {"MPAUDIT_FOO": "1"}, [], ["MPAUDIT_FOO"], True),
    # Said at start, not after the run when the report cannot be written.
    ("report_unwritable", {"MPAUDIT_REPORT": "/nonexistent/dir/r.json"}, [],
     ["MPAUDIT_REPORT", "/nonexistent/dir"], True),
    ("duration_x", {}, ["--duration", "x"], ["--duration", "'x'"], True),
    ("bogus", {}, ["--bogus"], ["--bogus"], True),
    ("history_5", {"MPAUDIT_HISTORY": "5"}, [],
     ["MPAUDIT_HISTORY", "'5'", "0 to 4"], True),
    ("history_x", {"MPAUDIT_HISTORY": "x"}, [],
     ["MPAUDIT_HISTORY", "'x'", "0 to 4"], True),
    ("worker_leak_io", {}, ["--worker-leak", "4"],
     ["--worker-leak", "--pipeline"], True),
    ("pcap_missing", {}, ["--pcap", "/nonexistent.pcap"],
     ["--pcap", "/nonexistent.pcap"], True),
    ("ab_ms_5", {}, ["--ab-ms", "5"], ["--ab-ms", "'5'"], True),
    ("ab_ms_x", {}, ["--ab-ms", "x"], ["--ab-ms", "'x'"], True),
    # Ports are known only once EAL has probed the devices.
    ("ports_3", {}, ["--ports", "3"], ["port count 3"], False),
]


def t_bad_input(ctx, c):
    for label, env, app, words, pre_eal in BAD_FWD:
        name = "bad_input-" + label
        # Valid otherwise: without the bad part this would run and exit 0.
        base = ["--duration", "1", "--stats-ms", "0"]
        cmd = [ctx.fwd] + ctx.eal("bad_input", LCORES_IO) + ["--"] + \
            base + app
        run = ctx.run(name, cmd, env, timeout=60, report=False)
        if not check_exit(c, run, 2):
            continue
        errs = [l for l in run.err.splitlines()
                if l.startswith("mpaudit-fwd:")]
        if not c.eq("%s: number of mpaudit-fwd error lines" % name,
                    len(errs), 1):
            continue
        for w in words:
            c.true("%s: error line %r does not name %r" % (name, errs[0], w),
                   w in errs[0])
        if pre_eal:
            c.eq("%s: stderr (must be the one line, before EAL starts)" %
                 name, run.err.strip(), errs[0])

    # A generic instrumented application runs on, unaudited.
    name = "bad_input-objpool_stuck_abc"
    cmd = [ctx.objpool] + ctx.eal("bad_input", LCORES_IO) + \
        ["--", "--sleep-ms", "100"]
    run = ctx.run(name, cmd, {"MPAUDIT_STUCK_MS": "abc"}, timeout=60,
                  report=False)
    check_exit(c, run, 0)
    lines = [l for l in run.err.splitlines() if "MPAUDIT_STUCK_MS" in l]
    c.true("%s: no stderr line names MPAUDIT_STUCK_MS" % name, lines)
    c.true("%s: the line naming MPAUDIT_STUCK_MS does not say auditing is "
           "disabled: %r" % (name, lines),
           any("disabled" in l for l in lines))
    c.true("%s: the auditor ran" % name, "objpool: audited=0" in run.out)
    c.true("%s: objects were modified" % name, "CORRUPTED" not in run.out)
    c.true("%s: pattern check lines missing" % name,
           len(re.findall(r"^objpool: pattern .* corrupted=0$", run.out,
                          re.M)) == 2)
    c.true("%s: 'newly stuck' in stderr" % name, "newly stuck" not in run.err)


TESTS = {
    "leaks_io": t_leaks_io,
    "leaks_pipeline": t_leaks_pipeline,
    "leaks_header": t_leaks_header,
    "clean_run": t_clean_run,
    "clean_default": t_clean_default,
    "ab_phases": t_ab_phases,
    "churn": t_churn,
    "objpool": t_objpool,
    "double_free_cache": t_double_free_cache,
    "bad_input": t_bad_input,
    "service": t_service,
    "final_scan_only": t_final_scan_only,
    "driver_holdings": t_driver_holdings,
    "override_disabled": t_override_disabled,
}


def main():
    args = case_args("mpa_it", __doc__, TESTS, exes=(
        ("--fwd", "instrumented mpaudit-fwd"),
        ("--objpool", "objpool test program"),
        ("--dfree-instr", "dfree built with the override header")))
    if args is None:
        return 1
    print("mpa_it: %s, EAL memory: %s" % (args.test, eal_mem_desc()))
    return run_case("mpa_it", args.test, TESTS[args.test], Ctx(args))


if __name__ == "__main__":
    sys.exit(main())
