#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Stop-path tests of mpaudit (issue 8, section 1): a report from every way
a DPDK application stops. Real EAL on virtual devices.

Usage: mpa_stop_it.py TEST --preload PATH --fwd-plain PATH --dfree PATH
                       [--testpmd PATH] --stopapp PATH

  stop_own_handler   stopapp with its own SIGTERM/SIGINT handler: the
                     handler is called exactly once per signal sent, an
                     ignored SIGHUP stays ignored, the stop signal's report
                     is written, then the application's own exit writes the
                     final one ("exit" after the signal) with the exact leak
  stop_default       stopapp without handlers, killed by the default action
                     of SIGTERM, SIGINT and SIGHUP in turn: each leaves the
                     report of its signal with the exact leak
  stop_kill9         stopapp killed with SIGKILL: the periodic rewrite
                     (MPAUDIT_REPORT_MS) left the last report, which every
                     read during the run found whole
  stop_exit_worker   a worker lcore calls exit(0): the final report
  stop_testpmd_int   testpmd under the preload, forwarding, stopped by
  stop_testpmd_term  SIGINT / SIGTERM: its handler runs (it says Bye), the
                     signal's report and then the exit report, nothing
                     stuck, its pool listed

Helpers come from mpa_lib.py. Exit 0 pass, 1 fail.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from mpa_lib import (  # noqa: E402
    CLEAN_ENV, Failed, LOG_DEBUG, PCtx, TESTPMD_POOL, check_exit,
    check_groups_exact, pool_entry, read_text, run_case, stop_proc,
    truth_groups)

PROG = "stopapp"
STOP_POOL = "stop_pool"
STOP_POOL_SIZE = 1023
STOP_KEEP = 7
STOP_ENV = {"MPAUDIT_STUCK_MS": "300", "MPAUDIT_SCAN_MS": "50"}
LCORES = "0@0,1@1"
SIG_NAMES = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT",
             signal.SIGHUP: "SIGHUP"}
# kill -9: the report rewrite period, and how long the run goes on
# after "ready" (several periods, while the report is read again and again).
KILL9_REPORT_MS = 200
KILL9_SECS = 1.5
TESTPMD_SECS = 4


class SCtx(PCtx):
    def __init__(self, args):
        super().__init__(args)
        self.stopapp = args.stopapp

    def start(self, name, cmd, env):
        """Start @cmd (output to files); returns (process, report path)."""
        report_path = os.path.join(self.tmp, "%s-%d.json" %
                                   (name, len(self.runs)))
        return self._spawn(name, cmd, env, report_path,
                           stdin=None), report_path

    def wait_for(self, p, text, timeout=30, stream=0):
        """Wait until @p's stdout (@stream 0, or stderr: 1) holds @text;
        Failed if it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in read_text(p.mpa_files[stream]):
                return
            if p.poll() is not None:
                break
            time.sleep(0.02)
        stop_proc(p)
        raise Failed("%s: no '%s' on %s" % (p.args[0], text.strip(),
                                            ("stdout", "stderr")[stream]))

    def finish(self, name, cmd, p, report_path, timeout=30):
        return self._finish(name, cmd, p, report_path, timeout)

    def stopapp_cmd(self, name, app):
        return [self.stopapp] + self.eal(name, LCORES) + ["--"] + list(app)


def stopapp_truth(run):
    truth, _ = truth_groups(run, PROG)
    if sum(truth.values()) != STOP_KEEP:
        raise Failed("%s: truth lines say %d mbufs, not %d" %
                     (run.name, sum(truth.values()), STOP_KEEP))
    return truth


def check_stop(c, run, stop, sig):
    """The report names its stop path and the signal before it."""
    s = run.report().get("summary", {})
    c.eq("%s: summary stop, signal" % run.name,
         (s.get("stop"), s.get("signal")), (stop, sig))
    return s


def check_leak(c, run):
    """Exactly stopapp's leak, in its pool, exit code 3 in the summary."""
    check_groups_exact(c, run, stopapp_truth(run))
    p = pool_entry(run, STOP_POOL)
    c.eq("%s: pool %s size, in_use, stuck" % (run.name, STOP_POOL),
         (p.get("size"), p.get("in_use"), p.get("stuck")),
         (STOP_POOL_SIZE, STOP_KEEP, STOP_KEEP))
    s = run.report().get("summary", {})
    c.eq("%s: summary stuck, errors, exit_code" % run.name,
         (s.get("stuck"), s.get("errors"), s.get("exit_code")),
         (STOP_KEEP, 0, 3))


def t_stop_own_handler(ctx, c):
    name = "own_handler"
    cmd = ctx.stopapp_cmd(name, ["--handler", "own", "--ignore-hup"])
    p, rp = ctx.start(name, cmd, STOP_ENV)
    ctx.wait_for(p, "%s: ready\n" % PROG)
    # Ignored: nothing happens, no report.
    p.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    c.true("%s: still running after an ignored SIGHUP" % name,
           p.poll() is None)
    c.true("%s: no report after an ignored SIGHUP" % name,
           not os.path.exists(rp))
    p.send_signal(signal.SIGTERM)
    run = ctx.finish(name, cmd, p, rp)
    check_exit(c, run, 3)
    c.eq("%s: handler calls" % name,
         [ln for ln in run.out.splitlines() if "handler calls" in ln],
         ["%s: handler calls 1" % PROG])
    c.eq("%s: signal report lines" % name,
         run.err.count("mpaudit: SIGTERM: report written to %s\n" % rp), 1)
    check_stop(c, run, "exit", "SIGTERM")
    c.eq("%s: summary line" % name,
         [ln for ln in run.err.splitlines()
          if ln.startswith("mpaudit: report (")],
         ["mpaudit: report (exit, after SIGTERM) after %d scans, "
          "threshold 300 ms" % run.report()["scanner"]["scans"]])
    check_leak(c, run)


def t_stop_default(ctx, c):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        name = "default_%s" % SIG_NAMES[sig].lower()
        cmd = ctx.stopapp_cmd(name, ["--handler", "none"])
        p, rp = ctx.start(name, cmd, STOP_ENV)
        ctx.wait_for(p, "%s: ready\n" % PROG)
        p.send_signal(sig)
        run = ctx.finish(name, cmd, p, rp)
        c.eq("%s: killed by %s" % (name, SIG_NAMES[sig]), run.rc, -sig)
        c.eq("%s: signal report lines" % name, run.err.count(
            "mpaudit: %s: report written to %s\n" % (SIG_NAMES[sig], rp)), 1)
        check_stop(c, run, "signal " + SIG_NAMES[sig], SIG_NAMES[sig])
        check_leak(c, run)
        c.true("%s: no temporary file left" % name,
               not os.path.exists(rp + ".tmp"))


def t_stop_kill9(ctx, c):
    name = "kill9"
    cmd = ctx.stopapp_cmd(name, ["--handler", "none"])
    env = dict(STOP_ENV, MPAUDIT_REPORT_MS=str(KILL9_REPORT_MS))
    p, rp = ctx.start(name, cmd, env)
    ctx.wait_for(p, "%s: ready\n" % PROG)
    # Readers never see a half-written report: read it as fast as we can
    # while it is being rewritten.
    reads, bad, end = 0, [], time.monotonic() + KILL9_SECS
    while time.monotonic() < end:
        try:
            with open(rp) as f:
                text = f.read()
        except FileNotFoundError:
            continue
        reads += 1
        try:
            json.loads(text)
        except ValueError as e:
            bad.append("%d bytes: %s" % (len(text), e))
    p.send_signal(signal.SIGKILL)
    run = ctx.finish(name, cmd, p, rp)
    c.eq("%s: killed by SIGKILL" % name, run.rc, -signal.SIGKILL)
    c.true("%s: the report was read during the run (%d reads)" %
           (name, reads), reads >= 10)
    c.eq("%s: unparseable reads" % name, bad, [])
    check_stop(c, run, "periodic", None)
    check_leak(c, run)


def t_stop_exit_worker(ctx, c):
    name = "exit_worker"
    cmd = ctx.stopapp_cmd(name, ["--handler", "none", "--exit-worker"])
    p, rp = ctx.start(name, cmd, STOP_ENV)
    run = ctx.finish(name, cmd, p, rp)
    check_exit(c, run, 0)
    c.true("%s: the worker called exit" % name,
           "%s: worker lcore 1 calls exit(0)" % PROG in run.out)
    check_stop(c, run, "exit", None)
    check_leak(c, run)


def testpmd_stop(ctx, c, sig):
    name = "testpmd_%s" % SIG_NAMES[sig].lower()
    cmd = ctx.testpmd_cmd(name, eal_extra=[LOG_DEBUG],
                          app=["--forward-mode=io"])
    report_path = os.path.join(ctx.tmp, "%s.json" % name)
    # stdin a pipe kept open: testpmd forwards until the signal.
    p = ctx._spawn(name, cmd, ctx.penv(CLEAN_ENV), report_path,
                   stdin=subprocess.PIPE)
    try:
        # testpmd's stdout is a file, block-buffered: wait for the
        # auditor's line (stderr) of the last port started.
        ctx.wait_for(p, "mpaudit: port 1: rx/tx bursts wrapped", timeout=60,
                     stream=1)
        time.sleep(TESTPMD_SECS)
        p.send_signal(sig)
    except BaseException:
        stop_proc(p)
        raise
    run = ctx.finish(name, cmd, p, report_path, timeout=60)
    check_exit(c, run, 0)
    # Its handler ran: stdin is still open, so only the signal's flag
    # makes testpmd stop forwarding, print its statistics and say Bye.
    c.true("%s: testpmd printed its statistics" % name,
           "Accumulated forward statistics for all ports" in run.out)
    c.true("%s: testpmd said Bye" % name, "Bye..." in run.out)
    c.eq("%s: signal report lines" % name, run.err.count(
        "mpaudit: %s: report written to %s\n" % (SIG_NAMES[sig],
                                                 report_path)), 1)
    s = check_stop(c, run, "exit", SIG_NAMES[sig])
    c.eq("%s: summary stuck, errors" % name,
         (s.get("stuck"), s.get("errors")), (0, 0))
    c.eq("%s: pools" % name,
         [x.get("name") for x in run.report().get("pools", [])],
         [TESTPMD_POOL])
    c.eq("%s: stuck in %s" % (name, TESTPMD_POOL),
         pool_entry(run, TESTPMD_POOL).get("stuck"), 0)


def t_stop_testpmd_int(ctx, c):
    testpmd_stop(ctx, c, signal.SIGINT)


def t_stop_testpmd_term(ctx, c):
    testpmd_stop(ctx, c, signal.SIGTERM)


TESTS = {
    "stop_own_handler": t_stop_own_handler,
    "stop_default": t_stop_default,
    "stop_kill9": t_stop_kill9,
    "stop_exit_worker": t_stop_exit_worker,
    "stop_testpmd_int": t_stop_testpmd_int,
    "stop_testpmd_term": t_stop_testpmd_term,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--preload", required=True, help="libmpaudit_preload.so")
    ap.add_argument("--fwd-plain", required=True,
                    help="mpaudit-fwd built without mpaudit")
    ap.add_argument("--dfree", required=True, help="dfree test program")
    ap.add_argument("--testpmd", default="/usr/bin/dpdk-testpmd",
                    help="dpdk-testpmd")
    ap.add_argument("--stopapp", required=True, help="stopapp test program")
    args = ap.parse_args()
    if not os.access(args.stopapp, os.X_OK):
        print("mpa_stop_it: %s is not an executable" % args.stopapp,
              file=sys.stderr)
        return 1
    return run_case("mpa_stop_it", args.test, TESTS[args.test], SCtx(args))


if __name__ == "__main__":
    sys.exit(main())
