#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""OVS-DPDK under the preload (issue 8): Debian's ovs-vswitchd-dpdk with
two net_null ports on hugepages, in a private run directory, forwarding
for OVS_SECS seconds, then stopped the three usual ways. Each stop must
leave a parseable report of its stop path, with the pool OVS created and
nothing stuck, and heap memory owned by OVS's DPDK objects or reachable
from its data: no false alarm. A stop by signal or kill -9 leaves exit
code 0. ovs-appctl exit closes the ports first, and the report must then
show exactly the dummy packets DPDK 22.11's net_null leaks on close.

Usage: mpa_ovs_it.py TEST --preload PATH

  ovs_sigterm   kill (SIGTERM), what systemctl stop and ovs-ctl stop send:
                OVS runs its fatal-signal hooks and re-raises the signal
  ovs_appctl    ovs-appctl exit: OVS exits by itself
  ovs_kill9     kill -9: the periodic rewrite (MPAUDIT_REPORT_MS) is left

Skipped (exit 77) without hugepages (MPA_EAL_MEM with --no-huge) or
without the openvswitch-switch-dpdk package. Exit 0 pass, 1 fail.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from mpa_lib import Checker, Failed, Run, SKIP  # noqa: E402

VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
TOOLS = ["ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovs-appctl"]
OVS_SECS = 15
OVS_ENV = {"MPAUDIT_STUCK_MS": "2000", "MPAUDIT_SCAN_MS": "500"}
KILL9_REPORT_MS = 2000
# pmd-stats-show: "packets received: N"
RX_RE = re.compile(r"packets received: (\d+)")


class Ovs:
    """One OVS instance: its database server, vswitchd and files, all in
    a private directory."""

    def __init__(self, name, preload, env):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="mpa-ovs-%s-" % name)
        self.prefix = "mpa-ovs-%s-%d" % (name, os.getpid())
        self.report = os.path.join(self.dir, "report.json")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("MPAUDIT_") and k != "LD_PRELOAD"}
        for k in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
            self.env[k] = self.dir
        self.preload = preload
        self.audit_env = dict(env, MPAUDIT_REPORT=self.report)
        self.db = "unix:" + os.path.join(self.dir, "db.sock")
        self.ctl = os.path.join(self.dir, "vswitchd.ctl")
        self.vs = None
        self.dbpid = None
        self.t0 = None

    def sh(self, *cmd, timeout=60):
        p = subprocess.run(list(cmd), env=self.env, timeout=timeout,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           universal_newlines=True)
        if p.returncode != 0:
            raise Failed("%s: %s failed (%d): %s" % (
                self.name, " ".join(cmd), p.returncode, p.stderr.strip()))
        return p.stdout

    def vsctl(self, *args):
        return self.sh("ovs-vsctl", "--db=" + self.db, "--timeout=60", *args)

    def start(self):
        d = self.dir
        self.sh("ovsdb-tool", "create", os.path.join(d, "conf.db"), SCHEMA)
        self.sh("ovsdb-server", os.path.join(d, "conf.db"),
                "--remote=punix:" + os.path.join(d, "db.sock"),
                "--pidfile=" + os.path.join(d, "ovsdb-server.pid"),
                "--detach", "--log-file=" + os.path.join(d, "ovsdb.log"))
        with open(os.path.join(d, "ovsdb-server.pid")) as f:
            self.dbpid = int(f.read().strip())
        self.vsctl("--no-wait", "init")
        # lcore 0 for OVS's own threads, the PMD thread on CPU 1.
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:dpdk-init=true",
                   "other_config:dpdk-socket-mem=512",
                   "other_config:dpdk-extra=--no-pci --file-prefix=%s" %
                   self.prefix,
                   "other_config:dpdk-lcore-mask=0x1",
                   "other_config:pmd-cpu-mask=0x2")
        env = dict(self.env, LD_PRELOAD=self.preload, **self.audit_env)
        self.out = open(os.path.join(d, "vswitchd.out"), "w")
        self.err = open(os.path.join(d, "vswitchd.err"), "w")
        self.t0 = time.monotonic()
        self.vs = subprocess.Popen(
            [VSWITCHD, self.db, "--pidfile=" + os.path.join(d, "vs.pid"),
             "--log-file=" + os.path.join(d, "vswitchd.log"),
             "--unixctl=" + self.ctl],
            env=env, stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=self.err)
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0",
                   "datapath_type=netdev")
        for i in (0, 1):
            self.vsctl("add-port", "br0", "p%d" % i, "--", "set",
                       "Interface", "p%d" % i, "type=dpdk",
                       "options:dpdk-devargs=net_null%d" % i)

    def pmd_rx(self):
        out = self.sh("ovs-appctl", "-t", self.ctl,
                      "dpif-netdev/pmd-stats-show")
        return sum(int(n) for n in RX_RE.findall(out))

    def wait(self, timeout=60):
        try:
            rc = self.vs.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.vs.kill()
            self.vs.wait()
            rc = "timeout"
        return rc

    def run_record(self, rc):
        self.out.close()
        self.err.close()
        log = ""
        for f in ("vswitchd.err", "vswitchd.log"):
            with open(os.path.join(self.dir, f), errors="replace") as fh:
                log += fh.read()
        return Run(self.name, [VSWITCHD], rc, "", log,
                   time.monotonic() - self.t0, self.report)

    def cleanup(self, keep):
        if self.vs is not None and self.vs.poll() is None:
            self.vs.kill()
            self.vs.wait()
        if self.dbpid:
            try:
                os.kill(self.dbpid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for b in ("/var/run/dpdk", "/tmp/dpdk"):
            shutil.rmtree(os.path.join(b, self.prefix), ignore_errors=True)
        for f in os.listdir("/dev/hugepages") if os.path.isdir(
                "/dev/hugepages") else []:
            if f.startswith(self.prefix):
                try:
                    os.unlink(os.path.join("/dev/hugepages", f))
                except OSError:
                    pass
        if keep:
            print("mpa_ovs_it: files kept in %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# What OVS really leaks when it exits: it closes its ports, and in DPDK
# 22.11 rte_eth_dev_close() frees net_null's private data without calling
# the queue release functions that free each queue's dummy packet (64 B,
# rte_zmalloc'd in the queue set-up): 2 ports x 1 RX queue, 2 ports x 2 TX
# queues (OVS asks for one per PMD thread plus one for the others).
NULL_CLOSE_LEAKS = {"rte_eth_rx_queue_setup": (2 * 64, 2),
                    "rte_eth_tx_queue_setup": (4 * 64, 4)}


def check_report(c, run, stop, sig, rx):
    r = run.report()
    s = r.get("summary", {})
    c.eq("%s: summary stop, signal" % run.name,
         (s.get("stop"), s.get("signal")), (stop, sig))
    c.true("%s: OVS forwarded (%d packets received by its PMD)" %
           (run.name, rx), rx > 0)
    c.eq("%s: summary stuck, errors" % run.name,
         (s.get("stuck"), s.get("errors")), (0, 0))
    c.eq("%s: stuck groups" % run.name, r.get("stuck"), [])
    pools = [p for p in r.get("pools", []) if p.get("name", "").startswith(
        "ovs")]
    c.eq("%s: OVS's pools in the report" % run.name, len(pools), 1)
    for p in pools:
        c.true("%s: pool %s has objects" % (run.name, p.get("name")),
               p.get("size", 0) > 0)
        c.eq("%s: pool %s stuck" % (run.name, p.get("name")),
             p.get("stuck"), 0)
    c.eq("%s: mode" % run.name, r.get("mode"), "preload")
    # A clean service keeps its memory to the end: owned by its pools,
    # rings and ports, or reachable from its globals; none of it lost.
    leaks = [g for g in r.get("malloc", []) if g.get("leak")]
    want = NULL_CLOSE_LEAKS if stop == "exit" else {}
    got = {}
    for g in leaks:
        st = g.get("stack") or []
        setup = st[1].split(" ")[0] if len(st) > 1 and \
            st[0].startswith("librte_net_null.so") else tuple(st[:3])
        b, n = got.get(setup, (0, 0))
        got[setup] = (b + g.get("bytes", 0), n + g.get("count", 0))
    c.eq("%s: leaks (bytes, count) by queue set-up call" % run.name, got, want)
    c.eq("%s: summary malloc_leaks, exit_code" % run.name,
         (s.get("malloc_leaks"), s.get("exit_code")),
         (len(leaks), 3 if want else 0))
    cl = (r.get("heap", {}).get("scan") or {}).get("classes") or {}
    for k in ("owned", "reachable"):
        c.true("%s: heap.scan.classes.%s lists nothing: %r" % (run.name, k, cl),
               (cl.get(k) or {}).get("bytes", 0) > 0)
    owners = {g.get("owner") for g in r.get("malloc", [])
              if g.get("class") == "owned"}
    want = {"mempool " + p.get("name", "") for p in pools}
    c.eq("%s: owners missing from the owned groups (owners: %r)" %
         (run.name, sorted(o for o in owners if o)),
         sorted(want - owners), [])
    # Ports still started (a stop by signal) own their queues. Both
    # ports' RX queues come from one stack: the group names its sample's.
    if stop != "exit":
        c.true("%s: no group owned by an RX queue: %r" % (run.name, owners),
               any(re.match(r"^ethdev [01] rxq 0$", o or "") for o in owners))
    print("mpa_ovs_it: %s: heap classes %s, scan %s ms" % (
        run.name, {k: (v.get("groups"), v.get("count"), v.get("bytes"))
                   for k, v in cl.items()},
        (r.get("heap", {}).get("scan") or {}).get("scan_ms")))


def ovs_case(args, c, name, how):
    env = dict(OVS_ENV)
    if how == "kill9":
        env["MPAUDIT_REPORT_MS"] = str(KILL9_REPORT_MS)
    o = Ovs(name, args.preload, env)
    failed = True
    try:
        o.start()
        time.sleep(OVS_SECS)
        rx = o.pmd_rx()
        if how == "sigterm":
            o.vs.send_signal(signal.SIGTERM)
        elif how == "appctl":
            o.sh("ovs-appctl", "-t", o.ctl, "exit")
        else:
            o.vs.send_signal(signal.SIGKILL)
        run = o.run_record(o.wait())
        want_rc = {"sigterm": -signal.SIGTERM, "appctl": 0,
                   "kill9": -signal.SIGKILL}[how]
        c.eq("%s: vswitchd exit status" % name, run.rc, want_rc)
        if how == "sigterm":
            c.eq("%s: signal report lines" % name, run.err.count(
                "mpaudit: SIGTERM: report written to %s" % o.report), 1)
            check_report(c, run, "signal SIGTERM", "SIGTERM", rx)
        elif how == "appctl":
            check_report(c, run, "exit", None, rx)
        else:
            check_report(c, run, "periodic", None, rx)
        failed = bool(c.errors)
    except Failed as e:
        c.errors.append(str(e))
    finally:
        o.cleanup(keep=failed)
    return o


TESTS = {"ovs_sigterm": "sigterm", "ovs_appctl": "appctl",
         "ovs_kill9": "kill9"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--preload", required=True, help="libmpaudit_preload.so")
    args = ap.parse_args()
    args.preload = os.path.abspath(args.preload)
    if "--no-huge" in os.environ.get("MPA_EAL_MEM", "--no-huge"):
        print("mpa_ovs_it: %s skipped: OVS-DPDK runs on hugepages "
              "(MPA_EAL_MEM=%r)" % (args.test, os.environ.get("MPA_EAL_MEM")))
        return SKIP
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not os.access(VSWITCHD, os.X_OK) or missing:
        print("mpa_ovs_it: %s skipped: openvswitch-switch-dpdk is not "
              "installed" % args.test)
        return SKIP
    c = Checker()
    ovs_case(args, c, args.test, TESTS[args.test])
    if c.errors:
        print("mpa_ovs_it: %s FAILED" % args.test)
        for e in c.errors:
            print("  - " + e)
        return 1
    print("mpa_ovs_it: %s passed" % args.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
