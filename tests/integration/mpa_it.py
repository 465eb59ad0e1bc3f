#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Integration tests of mpaudit: real EAL on virtual devices, exact ground truth.

Usage: mpa_it.py TEST --fwd PATH --objpool PATH

Each test runs instrumented programs (mpaudit-fwd, objpool) and compares the
auditor's JSON report and log lines with the ground truth the programs print
at exit ("truth" lines). EAL memory arguments come from MPA_EAL_MEM (set by
./run; default "--no-huge -m 512"). Exit status 0 pass, 1 fail.
Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# Programs under test start with the default stop-signal actions, whatever
# the runner handed down: nohup ignores SIGHUP, some CI shells ignore
# SIGINT, and exec() keeps an ignored signal ignored, so a test of "killed
# by the default action" would wait in vain. Every test script imports this
# module, so this runs once per script.
for _sig, _dfl in ((signal.SIGHUP, signal.SIG_DFL),
                   (signal.SIGTERM, signal.SIG_DFL),
                   (signal.SIGINT, signal.default_int_handler)):
    if signal.getsignal(_sig) == signal.SIG_IGN:
        signal.signal(_sig, _dfl)

DEFAULT_EAL_MEM = "--no-huge -m 512"
LCORES_IO = "0@0,1@1"
LCORES_PIPELINE = "0@0,1@1,2@0"
# service: lcore 2 (on CPU 0, shared with the mostly sleeping main lcore)
# becomes a service lcore through -S (a list of lcore ids). EAL 22.11's -s
# mask also requires each lcore id to be a detected CPU id, so "-s 0x4"
# fails ("lcore 2 unavailable") on a 2-CPU machine.
LCORES_SERVICE = "0@0,1@1,2@0"
SERVICE_LCORE = 2

FWD_POOL = "mpaudit_fwd_pool"
TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
FWD_POOL_SIZE = 8191          # FWD_DEF_NB_MBUFS
# net_pcap infinite_rx keeps one mbuf per frame of the replayed capture:
# demo.pcap has MKPCAP_NB_FRAMES (apps/mpaudit-fwd/mkpcap.c) frames.
PCAP_REPLAY_MBUFS = 64

# The leak mix of leaks_io, leaks_pipeline and service.
LEAK_ARGS = ["--leak-rx", "1000", "--leak-max", "40", "--ring-keep", "16",
             "--app-leak", "8", "--tx-hold", "24"]
LEAK_EXPECT = {"rx_leak": 40, "ring_keep": 16, "app_leak": 8, "tx_hold": 24}
LEAK_ENV = {"MPAUDIT_STUCK_MS": "500", "MPAUDIT_SCAN_MS": "100"}

# A group is logged when its first objects become stuck; objects of the
# same holder that cross the threshold at a later scan are logged then, as
# "[K newly stuck]". Leaks injected within a few ms may straddle a scan,
# so a group may take two lines; more would mean re-reporting.
MAX_LOG_LINES_PER_GROUP = 2

TAIL_LINES = 40

TRUTH_RE = re.compile(
    r"^(?P<prog>\S+): truth kind=(?P<kind>\S+) count=(?P<count>\d+) "
    r"pool=(?P<pool>\S+) state=(?P<state>\S+) lcore=(?P<lcore>\S+) "
    r"port=(?P<port>\S+) queue=(?P<queue>\S+) ring=(?P<ring>\S+) "
    r"site=(?P<site>\S+)$")
LOG_RE = re.compile(
    r"^mpaudit: pool (?P<pool>\S+): (?P<count>\d+) objects (?P<rest>.*) "
    r"\[(?P<new>\d+) newly stuck\]$")
# report.c state_phrase(), longest first.
STATE_PHRASES = [
    ("held by application code", "app"),
    ("held since RX", "rx"),
    ("handed to TX, not completed", "tx"),
    ("sitting in ring", "ring"),
    ("taken by a driver or uninstrumented code", "pmd"),
    ("held by an unknown holder", "unknown"),
]


class Failed(Exception):
    pass


# ---- running programs -----------------------------------------------------

class Run:
    """One finished program run: exit status, output, report."""

    def __init__(self, name, cmd, rc, out, err, secs, report_path):
        self.name = name
        self.cmd = cmd
        self.rc = rc
        self.out = out
        self.err = err
        self.secs = secs
        self.report_path = report_path
        self._report = None

    def report(self):
        if self._report is None:
            if not self.report_path or not os.path.exists(self.report_path):
                raise Failed("%s: no JSON report at %s" %
                             (self.name, self.report_path))
            with open(self.report_path) as f:
                try:
                    self._report = json.load(f)
                except ValueError as e:
                    raise Failed("%s: report is not JSON: %s" % (self.name, e))
        return self._report

    def tail(self):
        def last(s):
            lines = s.splitlines()
            return "\n".join(lines[-TAIL_LINES:])
        parts = ["---- %s: %s" % (self.name, " ".join(self.cmd)),
                 "---- exit status %s after %.1f s" % (self.rc, self.secs),
                 "---- stdout (last %d lines)" % TAIL_LINES, last(self.out),
                 "---- stderr (last %d lines)" % TAIL_LINES, last(self.err)]
        if self.report_path and os.path.exists(self.report_path):
            with open(self.report_path) as f:
                parts += ["---- report %s" % self.report_path, f.read()]
        return "\n".join(parts)


class Ctx:
    def __init__(self, args):
        self.fwd = args.fwd
        self.objpool = args.objpool
        self.dfree_instr = getattr(args, "dfree_instr", None)
        self.tmp = tempfile.mkdtemp(prefix="mpa-it-")
        self.runs = []
        self.prefixes = []
        self.seq = 0

    def eal(self, name, lcores):
        """EAL arguments: unique file prefix, memory, no PCI, lcores."""
        self.seq += 1
        prefix = "mpa-it-%s-%d-%d" % (name, os.getpid(), self.seq)
        self.prefixes.append(prefix)
        mem = os.environ.get("MPA_EAL_MEM", "").split() or \
            DEFAULT_EAL_MEM.split()
        return ["--file-prefix", prefix] + mem + \
            ["--no-pci", "--lcores", lcores]

    def run(self, name, cmd, env=None, timeout=60, report=True):
        """Run @cmd with only the MPAUDIT_* variables of @env."""
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("MPAUDIT_")}
        full_env.update(env or {})
        report_path = None
        if report:
            report_path = os.path.join(self.tmp, "%s-%d.json" %
                                       (name, len(self.runs)))
            full_env["MPAUDIT_REPORT"] = report_path
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, env=full_env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, errors="replace")
        try:
            out, err = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)
            try:
                out, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            r = Run(name, cmd, "timeout", out, err, time.monotonic() - t0,
                    report_path)
            self.runs.append(r)
            raise Failed("%s: still running after %d s" % (name, timeout))
        r = Run(name, cmd, rc, out, err, time.monotonic() - t0, report_path)
        self.runs.append(r)
        return r

    def cleanup(self, keep):
        """Remove the EAL runtime directories, and the reports unless
        @keep."""
        bases = ["/var/run/dpdk",
                 os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                              "dpdk"),
                 "/tmp/dpdk"]
        for prefix in self.prefixes:
            for b in bases:
                shutil.rmtree(os.path.join(b, prefix), ignore_errors=True)
        if keep:
            print("mpa_it: reports kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---- parsing --------------------------------------------------------------

def dash(v, conv=str):
    return None if v == "-" else conv(v)


def key_of(pool, state, lcore, port, queue, ring, site):
    return (pool, state, lcore, port, queue, ring, site)


def key_str(k):
    return ("pool=%s state=%s lcore=%s port=%s queue=%s ring=%s site=%s" %
            tuple("-" if v is None else v for v in k))


def truth_groups(run, prog):
    """{key: count} and [(kind, key, count)] of @prog's truth lines."""
    groups, kinds = {}, []
    for line in run.out.splitlines():
        m = TRUTH_RE.match(line)
        if not m or m.group("prog") != prog:
            continue
        k = key_of(m.group("pool"), m.group("state"),
                   dash(m.group("lcore"), int), dash(m.group("port"), int),
                   dash(m.group("queue"), int), dash(m.group("ring")),
                   dash(m.group("site")))
        n = int(m.group("count"))
        if k in groups:
            raise Failed("%s: two truth lines for %s" % (run.name, key_str(k)))
        groups[k] = n
        kinds.append((m.group("kind"), k, n))
    return groups, kinds


def report_groups(run):
    """{key: group} of the report's stuck array; keys must be distinct."""
    groups = {}
    for g in run.report().get("stuck", []):
        k = key_of(g.get("pool"), g.get("state"), g.get("lcore"),
                   g.get("port"), g.get("queue"), g.get("ring"), g.get("site"))
        if k in groups:
            raise Failed("%s: report lists holder %s twice" %
                         (run.name, key_str(k)))
        groups[k] = g
    return groups


def log_lines(run):
    """[(key, objects, newly, line)] of the "newly stuck" log lines."""
    res = []
    for line in run.err.splitlines():
        if "newly stuck" not in line:
            continue
        m = LOG_RE.match(line)
        if not m:
            raise Failed("%s: cannot parse log line: %s" % (run.name, line))
        rest = m.group("rest")
        state = None
        for phrase, st in STATE_PHRASES:
            if rest.startswith(phrase):
                state = st
                rest = rest[len(phrase):]
                break
        if state is None:
            raise Failed("%s: unknown state in log line: %s" %
                         (run.name, line))
        ring = port = queue = lcore = site = None
        if state == "ring":
            mr = re.match(r" (\S+)", rest)
            ring = mr.group(1) if mr else None
        mp = re.search(r" on port (\d+) queue (\d+)", rest)
        if mp:
            port, queue = int(mp.group(1)), int(mp.group(2))
        ml = re.search(r" by lcore (\d+)", rest)
        if ml:
            lcore = int(ml.group(1))
        ms = re.search(r", last touched at (\S+) \(", rest)
        if ms:
            site = ms.group(1)
        res.append((key_of(m.group("pool"), state, lcore, port, queue, ring,
                           site), int(m.group("count")), int(m.group("new")),
                    line))
    return res


def pool_entry(run, name):
    for p in run.report().get("pools", []):
        if p.get("name") == name:
            return p
    raise Failed("%s: pool %s missing from the report's pools" %
                 (run.name, name))


# ---- checks ---------------------------------------------------------------

class Checker:
    """Collects every failed expectation of one test."""

    def __init__(self):
        self.errors = []

    def eq(self, what, got, want):
        if got != want:
            self.errors.append("%s: got %r, expected %r" % (what, got, want))
            return False
        return True

    def true(self, what, cond):
        if not cond:
            self.errors.append(what)
        return bool(cond)


def check_exit(c, run, want):
    if isinstance(run.rc, int) and run.rc < 0:
        c.errors.append("%s: killed by signal %d" % (run.name, -run.rc))
        return False
    return c.eq("%s: exit status" % run.name, run.rc, want)


def check_groups_exact(c, run, truth):
    """The report's stuck groups are exactly the truth: same holders, same
    counts, nothing extra, nothing missing."""
    rep = report_groups(run)
    for k, n in sorted(truth.items(), key=str):
        if k not in rep:
            c.errors.append("%s: truth group missing from the report: "
                            "count=%d %s" % (run.name, n, key_str(k)))
        else:
            c.eq("%s: count of %s" % (run.name, key_str(k)),
                 rep[k].get("count"), n)
    for k, g in sorted(rep.items(), key=str):
        if k not in truth:
            c.errors.append("%s: report group not in the truth: count=%s %s" %
                            (run.name, g.get("count"), key_str(k)))
    return rep


def check_ages(c, run, rep, stuck_ms):
    # Nothing can be older than the process.
    upper = int(run.secs * 1000) + 1000
    for k, g in rep.items():
        age = g.get("max_age_ms")
        c.true("%s: max_age_ms %r of %s not in [%d, %d]" %
               (run.name, age, key_str(k), stuck_ms, upper),
               isinstance(age, int) and stuck_ms <= age <= upper)


def check_logged_once(c, run, truth, allowed_pmd=0):
    """Every stuck object is logged exactly once: per group the "[K newly
    stuck]" lines add up to its count, each line's total is the running
    sum (nothing re-reported), at most MAX_LOG_LINES_PER_GROUP lines. No
    line for a holder outside the truth, except the pcap port's replay
    mbufs (state pmd, @allowed_pmd objects) when @allowed_pmd."""
    per = {}
    for k, objs, new, line in log_lines(run):
        per.setdefault(k, []).append((objs, new, line))
    want = dict(truth)
    for k in per:
        if k[1] == "pmd" and allowed_pmd:
            c.eq("%s: pmd holder %s" % (run.name, key_str(k)),
                 (k[0], k[2], k[3], k[4], k[5], k[6]),
                 (FWD_POOL, None, None, None, None, None))
            want[k] = allowed_pmd
    for k, lines in sorted(per.items(), key=str):
        if k not in want:
            c.errors.append("%s: log line for a holder not in the truth: %s" %
                            (run.name, lines[0][2]))
            continue
        total = 0
        for objs, new, line in lines:
            total += new
            c.eq("%s: objects in log line %r (running sum of newly stuck)" %
                 (run.name, line), objs, total)
        c.eq("%s: newly stuck objects logged for %s" % (run.name, key_str(k)),
             total, want[k])
        c.true("%s: %d log lines for %s (at most %d)" %
               (run.name, len(lines), key_str(k), MAX_LOG_LINES_PER_GROUP),
               len(lines) <= MAX_LOG_LINES_PER_GROUP)
    for k, n in sorted(truth.items(), key=str):
        c.true("%s: no log line for stuck group %s" % (run.name, key_str(k)),
               k in per)


def check_truth_kinds(c, run, kinds, expect):
    """The truth itself is what the options asked for."""
    got = {}
    for kind, _, n in kinds:
        got[kind] = got.get(kind, 0) + n
    c.eq("%s: truth counts by kind" % run.name, got, expect)


def check_fwd_selfcheck(c, run, total):
    m = re.search(r"^mpaudit-fwd: pool %s in_use=(\d+) leaked=(\d+)$" %
                  FWD_POOL, run.out, re.M)
    if c.true("%s: no in_use/leaked self-check line" % run.name, m):
        c.eq("%s: app's in_use, leaked" % run.name,
             (int(m.group(1)), int(m.group(2))), (total, total))


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


def check_summary(c, run, stuck, exit_code):
    r = run.report()
    s = r.get("summary", {})
    c.eq("%s: summary stuck, exit_code" % run.name,
         (s.get("stuck"), s.get("exit_code")), (stuck, exit_code))
    c.eq("%s: report errors" % run.name, r.get("errors"), [])


def forwarded(run):
    m = re.search(r"^mpaudit-fwd: forwarded (\d+) packets", run.out, re.M)
    return int(m.group(1)) if m else None


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


def t_leaks_io(ctx, c):
    run, truth = leaks_run(ctx, c, "leaks_io", LCORES_IO)
    for k in truth:
        c.eq("%s: lcore of %s (the forwarding lcore)" % (run.name, key_str(k)),
             k[2], 1)


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


# dfree (tests/integration/dfree.c) in mode "cache": three mbufs of a pool
# with the usual cache freed twice, each a truth line.
DFREE_CACHE_TRUTH_RE = re.compile(
    r"^dfree: truth kind=double_free pool=(\S+) address=(0x[0-9a-f]+) "
    r"lcore=(\d+) site=(.+?) first_site=(.+)$", re.M)
DFREE_RESULT_RE = re.compile(r"^dfree: allocated=(\d+) distinct=(\d+) "
                             r"duplicates=(\d+) avail_after=(\d+)$", re.M)
DFREE_CACHE_NB = 1023
DFREE_CACHE_VICTIMS = 3


def dfree_cache_check(c, run, kept):
    """The report's errors are exactly the truth's double frees. @kept
    (instrumented mode): each with its site, first site and lcore, and the
    pool never handed an object out twice. Otherwise (found by the
    scanner): no sites, the lcore of the cache holding the copy, and the
    duplicates the program then got from the pool."""
    truth = DFREE_CACHE_TRUTH_RE.findall(run.out)
    res = DFREE_RESULT_RE.search(run.out)
    c.eq("%s: truth double frees" % run.name, len(truth), DFREE_CACHE_VICTIMS)
    c.true("%s: no result line" % run.name, res)
    dups = 0 if kept else DFREE_CACHE_VICTIMS
    if res:
        c.eq("%s: allocated, distinct, duplicates, avail_after" % run.name,
             tuple(int(x) for x in res.groups()),
             (DFREE_CACHE_NB + dups, DFREE_CACHE_NB, dups, DFREE_CACHE_NB))
    rep = run.report()
    got = []
    for e in rep.get("errors") or []:
        try:
            addr = int(e.get("address"), 16)
        except (TypeError, ValueError):
            addr = e.get("address")
        got.append((e.get("type"), e.get("pool_or_heap"), addr,
                    e.get("site"), e.get("first_site"), e.get("lcore")))
    want = [("double_free", pool, int(addr, 16), site if kept else None,
             first if kept else None, int(lc))
            for pool, addr, lc, site, first in truth]
    c.eq("%s: errors (type, pool, address, site, first_site, lcore)" %
         run.name, sorted(got, key=str), sorted(want, key=str))
    s = rep.get("summary") or {}
    c.eq("%s: summary errors, stuck, exit_code" % run.name,
         (s.get("errors"), s.get("stuck"), s.get("exit_code")),
         (DFREE_CACHE_VICTIMS, 0, 3))


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
    ("pcap_missing", {}, ["--pcap", "/nonexistent.pcap"],
     ["--pcap", "/nonexistent.pcap"], True),
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
    "clean_run": t_clean_run,
    "clean_default": t_clean_default,
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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--fwd", required=True, help="instrumented mpaudit-fwd")
    ap.add_argument("--objpool", required=True, help="objpool test program")
    ap.add_argument("--dfree-instr", required=True,
                    help="dfree built with the override header")
    args = ap.parse_args()
    for exe in (args.fwd, args.objpool, args.dfree_instr):
        if not os.access(exe, os.X_OK):
            print("mpa_it: %s is not an executable" % exe, file=sys.stderr)
            return 1

    print("mpa_it: %s, EAL memory: %s" % (args.test, " ".join(
        os.environ.get("MPA_EAL_MEM", "").split() or
        DEFAULT_EAL_MEM.split())))
    return run_case("mpa_it", args.test, TESTS[args.test], Ctx(args))


def run_case(prog, name, test, ctx):
    """Run one case, print its verdict (and on failure every failed check
    and the runs' output), clean up. Returns the exit status."""
    c = Checker()
    failed = True
    try:
        try:
            test(ctx, c)
        except Failed as e:
            c.errors.append(str(e))
        failed = bool(c.errors)
        if failed:
            print("%s: %s FAILED" % (prog, name))
            for e in c.errors:
                print("  - " + e)
            for r in ctx.runs:
                print(r.tail())
        else:
            print("%s: %s passed (%s)" % (prog, name, ", ".join(
                "%s %.1f s" % (r.name, r.secs) for r in ctx.runs)))
        sys.stdout.flush()
    finally:
        # Also on an unexpected exception: no EAL runtime directory left.
        ctx.cleanup(keep=failed or os.environ.get("MPA_IT_KEEP") == "1")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
