# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Shared helpers of the integration tests: everything more than one
test script (mpa_*_it.py) uses, in one module, so that no script imports
another one's internals.

  - the harness: a finished run (Run), the context that runs programs
    with a unique EAL file prefix (Ctx), the collected expectations
    (Checker, Failed) and one case's verdict and clean-up (run_case);
  - the programs' constants: mpaudit-fwd's pool, lcores and leak mixes,
    testpmd's pool, the dfree cache case;
  - the ground truth: parsing the programs' truth lines, the report's
    stuck groups and the "newly stuck" log lines, and the checks of one
    against the other;
  - the preload helpers: PCtx (LD_PRELOAD from the test's environment
    only, output to files, a fed stdin), stopping a process, reading and
    waiting for its output;
  - the telemetry helpers: the DPDK telemetry v2 client (Tele), a session
    against a running program, TCtx.

Importing it resets the stop signals to their default actions (see
below), once in every test script. Not a test itself. Standard library
only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
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

# ---- the programs' constants ----------------------------------------------

# meson's exit status for a skipped test.
SKIP = 77

DEFAULT_EAL_MEM = "--no-huge -m 512"
LCORES_IO = "0@0,1@1"
LCORES_PIPELINE = "0@0,1@1,2@0"

FWD_POOL = "mpaudit_fwd_pool"
FWD_POOL_SIZE = 8191          # FWD_DEF_NB_MBUFS

# The leak mix of leaks_io, leaks_pipeline and service.
LEAK_ARGS = ["--leak-rx", "1000", "--leak-max", "40", "--ring-keep", "16",
             "--app-leak", "8", "--tx-hold", "24"]
LEAK_EXPECT = {"rx_leak": 40, "ring_keep": 16, "app_leak": 8, "tx_hold": 24}
LEAK_ENV = {"MPAUDIT_STUCK_MS": "500", "MPAUDIT_SCAN_MS": "100"}
# LEAK_ENV's stuck threshold, in ms.
STUCK_MS = int(LEAK_ENV["MPAUDIT_STUCK_MS"])

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
# A previous holder of one leaked object, as the program knows it
# (mpaudit-fwd --worker-leak): n=1 is the holder just before the last.
TRUTH_PREV_RE = re.compile(
    r"^(?P<prog>\S+): truth prev addr=(?P<addr>0x[0-9a-f]+) n=(?P<n>\d+) "
    r"state=(?P<state>\S+) lcore=(?P<lcore>\S+) port=(?P<port>\S+) "
    r"queue=(?P<queue>\S+) ring=(?P<ring>\S+) site=(?P<site>\S+)$")
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

# dfree (tests/integration/dfree.c) in mode "cache": three mbufs of a pool
# with the usual cache freed twice, each a truth line.
DFREE_CACHE_TRUTH_RE = re.compile(
    r"^dfree: truth kind=double_free pool=(\S+) address=(0x[0-9a-f]+) "
    r"lcore=(\d+) site=(.+?) first_site=(.+)$", re.M)
DFREE_RESULT_RE = re.compile(r"^dfree: allocated=(\d+) distinct=(\d+) "
                             r"duplicates=(\d+) avail_after=(\d+)$", re.M)
DFREE_CACHE_NB = 1023
DFREE_CACHE_VICTIMS = 3

# testpmd (under the preload): one pool of this many mbufs fits in
# no-huge memory.
TESTPMD_MBUFS = 16384
TESTPMD_POOL = "mb_pool_0"
NULL_VDEVS = ["--vdev", "net_null0", "--vdev", "net_null1"]
# Debug level of our log type: pool attach and callback lines.
LOG_DEBUG = "--log-level=mpaudit:debug"

# Clean runs under the preload (mpa_cli_it.py has faster ones of its own).
CLEAN_ENV = {"MPAUDIT_STUCK_MS": "500", "MPAUDIT_SCAN_MS": "100"}

# The leak mix of preload_leaky and tele_preload: no --app-leak, since in
# this mode an mbuf taken by inline application code from the lcore cache
# carries no stamp.
PRELOAD_LEAK_ARGS = ["--leak-rx", "1000", "--leak-max", "40",
                     "--ring-keep", "16", "--tx-hold", "24"]

# tele_fwd and cli_fwd: enough RX ports that the stuck groups take two
# pages (STUCK_PER_PAGE in mpa_tele_it.py): one rx group per port that
# leaked, plus ring_keep, app_leak and tx_hold. --leak-rx 1000 over 24
# ports forwarding tens of Mpps reaches --leak-max within milliseconds,
# spread over every port.
NULL_PORTS = 24
TELE_LEAK_ARGS = ["--leak-rx", "1000", "--leak-max", "200",
                  "--ring-keep", "16", "--app-leak", "8", "--tx-hold", "24"]
TELE_LEAK_TOTAL = 200 + 16 + 8 + 24

# tele_config, tele_history, cli_metrics and cli_gone: two ports and the
# usual leaks.
SMALL_LEAK_ARGS = ["--leak-rx", "1000", "--leak-max", "40", "--ring-keep",
                   "16", "--app-leak", "8", "--tx-hold", "24"]
SMALL_LEAK_TOTAL = 40 + 16 + 8 + 24

# How long a program may take to start answering, and to reach its
# injected leaks (EAL start with 24 ports included).
READY_S = 20
STUCK_WAIT_S = 15
# A reply larger than this would be a DPDK bug; read with room to see it.
RECV_MAX = 1 << 20

# heapleak's ground truth of one set of allocations (mode signal): the
# allocating call ("site") and its caller, as "function (file.c:line)".
HEAPLEAK_TRUTH_RE = re.compile(
    r"^heapleak: truth (?P<set>\S+) kind=(?P<kind>\S+) bytes=(?P<bytes>\d+) "
    r"count=(?P<count>\d+) .* caller=(?P<caller>.+) site=(?P<site>.+)$")


class Failed(Exception):
    pass


class Skipped(Exception):
    """The case cannot run here (e.g. no hugepages): run_case() says why
    and returns SKIP."""


# ---- harness: running programs and cases ----------------------------------

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


def prefix_of(cmd):
    """The EAL --file-prefix of command line @cmd."""
    return cmd[cmd.index("--file-prefix") + 1]


def case_args(prog, doc, tests, exes=(), files=(), optional=()):
    """The command line of a test script: the case (one of @tests), then
    one required option per program it runs, (flag, help) pairs: @exes
    must be executables, @files must exist; @optional are (flag, help,
    default). Returns the argparse namespace, or None after saying on
    stderr which program is missing."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("test", choices=sorted(tests))
    for flag, hlp in tuple(exes) + tuple(files):
        ap.add_argument(flag, required=True, help=hlp)
    for flag, hlp, default in optional:
        ap.add_argument(flag, default=default, help=hlp)
    args = ap.parse_args()

    def value(flag):
        return getattr(args, flag[2:].replace("-", "_"))

    for flag, _ in files:
        if not os.path.isfile(value(flag)):
            print("%s: %s does not exist" % (prog, value(flag)),
                  file=sys.stderr)
            return None
    for flag, _ in exes:
        if not os.access(value(flag), os.X_OK):
            print("%s: %s is not an executable" % (prog, value(flag)),
                  file=sys.stderr)
            return None
    return args


def eal_mem_desc():
    """The EAL memory arguments the cases run with, for their first line."""
    return " ".join(os.environ.get("MPA_EAL_MEM", "").split() or
                    DEFAULT_EAL_MEM.split())


def eal_hugepages():
    """True if the cases' EAL runs on hugepages (no --no-huge)."""
    return "--no-huge" not in eal_mem_desc().split()


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
        except Skipped as e:
            print("%s: %s skipped: %s" % (prog, name, e))
            failed = False
            return SKIP
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


# ---- running programs under the preload -----------------------------------

class PCtx(Ctx):
    def __init__(self, args):
        ns = argparse.Namespace(fwd=args.fwd_plain, objpool=None)
        super().__init__(ns)
        self.preload = os.path.abspath(args.preload)
        self.fwd_plain = args.fwd_plain
        self.dfree = args.dfree
        self.testpmd = args.testpmd
        self.nspawn = 0

    def penv(self, extra=None, preload=True):
        """Environment additions: LD_PRELOAD and @extra (MPAUDIT_*)."""
        env = dict(extra or {})
        if preload:
            env["LD_PRELOAD"] = self.preload
        return env

    def full_env(self, env, report_path):
        full = {k: v for k, v in os.environ.items()
                if not k.startswith("MPAUDIT_") and k != "LD_PRELOAD"}
        full.update(env or {})
        if report_path:
            full["MPAUDIT_REPORT"] = report_path
        return full

    def run(self, name, cmd, env=None, timeout=60, report=True):
        """As Ctx.run, but LD_PRELOAD comes only from @env."""
        report_path = None
        if report:
            report_path = os.path.join(self.tmp, "%s-%d.json" %
                                       (name, len(self.runs)))
        return self._finish(name, cmd, self._spawn(
            name, cmd, env, report_path, stdin=subprocess.DEVNULL),
            report_path, timeout)

    def _spawn(self, name, cmd, env, report_path, stdin):
        """Start @cmd, output to files (testpmd can write a lot)."""
        self.nspawn += 1
        seq = self.nspawn
        outp = os.path.join(self.tmp, "%s-%d.out" % (name, seq))
        errp = os.path.join(self.tmp, "%s-%d.err" % (name, seq))
        fo, fe = open(outp, "w"), open(errp, "w")
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(cmd, env=self.full_env(env, report_path),
                                 stdin=stdin, stdout=fo, stderr=fe,
                                 universal_newlines=True)
        finally:
            fo.close()
            fe.close()
        p.mpa_files = (outp, errp)
        p.mpa_t0 = t0
        return p

    def _finish(self, name, cmd, p, report_path, timeout):
        """Wait for @p at most @timeout s (then SIGTERM, SIGKILL); record
        the run; raise Failed on timeout."""
        timed_out = False
        try:
            p.wait(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_proc(p)
        if p.stdin:
            try:
                p.stdin.close()
            except OSError:
                pass
        out, err = (read_text(f) for f in p.mpa_files)
        r = Run(name, cmd, "timeout" if timed_out else p.returncode, out,
                err, time.monotonic() - p.mpa_t0, report_path)
        self.runs.append(r)
        if timed_out:
            raise Failed("%s: still running after %d s" % (name, timeout))
        return r

    def run_fed(self, name, cmd, feed, env=None, timeout=60, report=True):
        """Run @cmd with a pipe as stdin: @feed is a list of steps, a number
        (sleep that many seconds) or a string (written to stdin). stdin is
        closed after the last step."""
        report_path = None
        if report:
            report_path = os.path.join(self.tmp, "%s-%d.json" %
                                       (name, len(self.runs)))
        p = self._spawn(name, cmd, env, report_path, stdin=subprocess.PIPE)
        deadline = p.mpa_t0 + timeout
        try:
            feed_steps(p, feed, deadline)
        except BaseException:
            stop_proc(p)
            raise
        return self._finish(name, cmd, p, report_path,
                            deadline - time.monotonic())

    def testpmd_cmd(self, name, lcores=LCORES_IO, vdevs=NULL_VDEVS,
                    eal_extra=(), app=()):
        return [self.testpmd] + self.eal(name, lcores) + list(vdevs) + \
            list(eal_extra) + ["--"] + \
            ["--total-num-mbufs=%d" % TESTPMD_MBUFS] + list(app)


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def stop_proc(p):
    """SIGTERM, then SIGKILL: never leave a DPDK process behind."""
    if p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def feed_steps(p, feed, deadline, close=True):
    """Play @feed (see PCtx.run_fed) into @p's stdin; then close it unless
    not @close."""
    for step in feed:
        if p.poll() is not None:
            return  # died early: the checks will say why
        if isinstance(step, (int, float)):
            end = min(time.monotonic() + step, deadline)
            while time.monotonic() < end and p.poll() is None:
                time.sleep(min(0.1, max(end - time.monotonic(), 0)))
        else:
            try:
                p.stdin.write(step)
                p.stdin.flush()
            except (OSError, ValueError):
                return
    if close:
        try:
            p.stdin.close()
        except (OSError, ValueError):
            pass


def wait_text(proc, path, text, timeout):
    """Wait until @text is in the file @path, while @proc lives."""
    deadline = time.monotonic() + timeout
    while text not in read_text(path) and proc.poll() is None and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    return text in read_text(path)


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


def truth_prev(run, prog):
    """{address (int): [holder, ...]} of @prog's "truth prev" lines, most
    recent first; a holder is prev_key()'s tuple."""
    res = {}
    for line in run.out.splitlines():
        m = TRUTH_PREV_RE.match(line)
        if not m or m.group("prog") != prog:
            continue
        lst = res.setdefault(int(m.group("addr"), 16), [])
        if int(m.group("n")) != len(lst) + 1:
            raise Failed("%s: truth prev lines out of order: %s" %
                         (run.name, line))
        lst.append((m.group("state"), dash(m.group("lcore"), int),
                    dash(m.group("port"), int), dash(m.group("queue"), int),
                    dash(m.group("ring")), dash(m.group("site"))))
    return res


def prev_key(h):
    """(state, lcore, port, queue, ring, site) of a previous holder in the
    report's sample_history (or the CLI's)."""
    return (h.get("state"), h.get("lcore"), h.get("port"), h.get("queue"),
            h.get("ring"), h.get("site"))


def tele_prev(sample):
    """The previous holders of a telemetry sample (/mpaudit/stuck,history:
    flat hN_* fields), as prev_key() tuples, and their ages."""
    keys, ages = [], []
    for n in range(1, int(sample.get("previous", 0)) + 1):
        f = "h%d_" % n
        keys.append((sample.get(f + "state"), sample.get(f + "lcore"),
                     sample.get(f + "port"), sample.get(f + "queue"),
                     sample.get(f + "ring"), sample.get(f + "site")))
        ages.append(sample.get(f + "age_ms"))
    return keys, ages


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


def preload_truth(run, prog):
    """Truth groups with site None: in this mode there are no call
    sites."""
    truth, kinds = truth_groups(run, prog)
    return ({k[:6] + (None,): n for k, n in truth.items()},
            [(kind, k[:6] + (None,), n) for kind, k, n in kinds])


def newly_stuck_lines(run):
    return [l for l in run.err.splitlines() if "newly stuck" in l]


def heapleak_truth(out, name):
    for line in out.splitlines():
        m = HEAPLEAK_TRUTH_RE.match(line)
        if m and m.group("set") == name:
            return m.groupdict()
    raise Failed("heapleak: no truth line for set %s" % name)


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


# One CLI call may take this long (a few telemetry round trips).
CLI_TIMEOUT_S = 30


class Cli:
    """One finished CLI call."""

    def __init__(self, args, rc, out, err):
        self.args, self.rc, self.out, self.err = args, rc, out, err

    def what(self):
        return "mpaudit %s" % " ".join(self.args)

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise Failed("%s: output is not JSON (%s): %r" %
                         (self.what(), e, self.out[:300]))


def cli(ctx, *args):
    """Run the mpaudit CLI (ctx.cli) with @args; a Cli."""
    p = subprocess.run([ctx.cli] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=CLI_TIMEOUT_S)
    return Cli(list(args), p.returncode, p.stdout, p.stderr)


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


def check_summary(c, run, stuck, exit_code):
    r = run.report()
    s = r.get("summary", {})
    c.eq("%s: summary stuck, exit_code" % run.name,
         (s.get("stuck"), s.get("exit_code")), (stuck, exit_code))
    c.eq("%s: report errors" % run.name, r.get("errors"), [])


def forwarded(run):
    m = re.search(r"^mpaudit-fwd: forwarded (\d+) packets", run.out, re.M)
    return int(m.group(1)) if m else None


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


def check_bad_config_msg(c, run, var):
    """One message naming @var that says auditing is disabled, and not a
    word more from the auditor (no callbacks, no scans, no summary)."""
    lines = [l for l in run.err.splitlines()
             if var in l and not l.startswith("EAL")]
    if c.true("%s: no stderr line names %s" % (run.name, var), lines):
        c.true("%s: the line naming %s does not say auditing is disabled: "
               "%r" % (run.name, var, lines),
               any("disabled" in l for l in lines))
    c.eq("%s: the auditor's stderr lines (only the message naming %s)" %
         (run.name, var),
         [l for l in run.err.splitlines() if l.startswith("mpaudit:")],
         [l for l in lines if l.startswith("mpaudit:")] or ["<one line>"])
    c.eq("%s: 'newly stuck' log lines" % run.name, newly_stuck_lines(run), [])


# ---- telemetry: the client, sessions --------------------------------------

def null_vdevs(n):
    res = []
    for i in range(n):
        res += ["--vdev", "net_null%d" % i]
    return res


def socket_path(prefix):
    """Where EAL puts the socket: its runtime directory, which depends on
    the user (root: /var/run/dpdk) and exists with --in-memory too."""
    bases = ["/var/run/dpdk",
             os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk"),
             "/tmp/dpdk"]
    for b in bases:
        p = os.path.join(b, prefix, "dpdk_telemetry.v2")
        if os.path.exists(p):
            return p
    return None


class Tele:
    """One client of a DPDK telemetry v2 socket: SOCK_SEQPACKET, a JSON
    greeting first, then one JSON reply per command, keyed by the
    command (without its parameters)."""

    def __init__(self, path):
        self.path = path
        self.sizes = []
        self.t0 = time.monotonic()
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(10)
        try:
            self.s.connect(path)
            self.greeting = json.loads(self.s.recv(RECV_MAX).decode())
        except (OSError, ValueError):
            self.s.close()
            raise

    def close(self):
        self.s.close()

    def ask(self, cmd):
        try:
            self.s.send(cmd.encode())
            raw = self.s.recv(RECV_MAX)
        except OSError as e:
            raise Failed("telemetry %s: %s (did the application die?)" %
                         (cmd, e))
        if not raw:
            raise Failed("telemetry %s: connection closed (did the "
                         "application die?)" % cmd)
        self.sizes.append((cmd, len(raw)))
        try:
            obj = json.loads(raw.decode())
        except ValueError as e:
            raise Failed("telemetry %s: reply is not JSON (%s): %r" %
                         (cmd, e, raw[:300]))
        key = cmd.split(",", 1)[0]
        if not isinstance(obj, dict) or list(obj) != [key]:
            raise Failed("telemetry %s: reply not keyed by %s: %r" %
                         (cmd, key, raw[:300]))
        return obj[key]


def connect(p, prefix, deadline):
    """Connect once the auditor's commands answer: the socket exists from
    rte_eal_init(), the commands only once the auditor has started."""
    last = "no socket"
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise Failed("%s: exited with status %s before its telemetry "
                         "answered (%s)" % (prefix, p.returncode, last))
        path = socket_path(prefix)
        if path is not None:
            try:
                t = Tele(path)
            except (OSError, ValueError) as e:
                last = "connect %s: %s" % (path, e)
            else:
                v = t.ask("/mpaudit/summary")
                if isinstance(v, dict):
                    return t
                last = "/mpaudit/summary answered %r" % (v,)
                t.close()
        time.sleep(0.1)
    raise Failed("%s: telemetry not answering after %d s (%s)" %
                 (prefix, READY_S, last))


def stop_at_end(p):
    """A forwarder that runs until a signal (--duration 0): end it once
    the test's requests are done, however long they took; it prints its
    ground truth on the way out. A fixed --duration would race the
    requests on a loaded machine."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)


# A worker lcore that has used this many clock ticks of CPU is forwarding.
FORWARDING_TICKS = 10


def wait_forwarding(p):
    """Wait until @p's worker lcore (EAL thread rte-worker-N) burns CPU:
    it was launched, so the forwarder's own SIGINT/SIGTERM handlers, set
    just before, are in place and stop_at_end() ends it cleanly. (An idle
    worker blocks, using none.)"""
    deadline = time.monotonic() + READY_S
    while p.poll() is None and time.monotonic() < deadline:
        ticks = 0
        try:
            for tid in os.listdir("/proc/%d/task" % p.pid):
                base = "/proc/%d/task/%s/" % (p.pid, tid)
                if read_text(base + "comm").startswith("rte-worker"):
                    f = read_text(base + "stat").rsplit(")", 1)[1].split()
                    ticks += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
        if ticks >= FORWARDING_TICKS:
            return
        time.sleep(0.05)
    raise Failed("pid %d: no worker lcore forwarding after %d s" %
                 (p.pid, READY_S))


def session(ctx, name, cmd, env, timeout, body):
    """Start @cmd, run body(t, p, report_path) against its telemetry, then
    wait for its exit. Returns the Run (also recorded on failure, for the
    output tails)."""
    report_path = os.path.join(ctx.tmp, "%s-%d.json" % (name, len(ctx.runs)))
    prefix = prefix_of(cmd)
    p = ctx._spawn(name, cmd, env, report_path, stdin=subprocess.DEVNULL)
    t = None
    try:
        t = connect(p, prefix, p.mpa_t0 + READY_S)
        body(t, p, report_path)
    except BaseException:
        stop_proc(p)
        ctx._finish(name, cmd, p, report_path, 10)
        raise
    finally:
        if t is not None:
            t.close()
    return ctx._finish(name, cmd, p, report_path,
                       p.mpa_t0 + timeout - time.monotonic())


def tele_group_key(g):
    return key_of(g.get("pool"), g.get("state"), g.get("lcore"),
                  g.get("port"), g.get("queue"), g.get("ring"), g.get("site"))


def wait_stuck(c, t, want, deadline):
    """Poll /mpaudit/summary until @want objects are stuck; return the
    last summary."""
    s = t.ask("/mpaudit/summary")
    while s.get("stuck") != want and time.monotonic() < deadline:
        time.sleep(0.1)
        s = t.ask("/mpaudit/summary")
    c.eq("summary stuck (the injected leaks, once past the threshold)",
         s.get("stuck"), want)
    return s


class TCtx(PCtx):
    def __init__(self, args):
        super().__init__(argparse.Namespace(
            preload=args.preload, fwd_plain=args.fwd_plain, dfree=None,
            testpmd=None))
        self.fwd = args.fwd
        self.heapleak = args.heapleak
