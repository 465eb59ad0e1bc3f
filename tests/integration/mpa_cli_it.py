#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Integration tests of the mpaudit command-line client.

Usage: mpa_cli_it.py TEST --cli PATH --fwd PATH --fwd-plain PATH
                      --preload LIB --heapleak PATH

Each test starts a real program (the instrumented mpaudit-fwd with known
leaks, a clean one, the plain one unaudited, heapleak under the preload),
runs the real CLI against it while it runs, and compares what the CLI
prints (--json, tables, exit status) with the program's ground truth and
with the auditor's telemetry. `top` runs inside a private tmux server.
Helpers come from mpa_lib.py. EAL memory arguments come from MPA_EAL_MEM
(default "--no-huge -m 512").
Exit status 0 pass, 1 fail. Standard library only.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpa_lib import (  # noqa: E402
    case_args, eal_mem_desc, prefix_of,
    CLI_TIMEOUT_S, FWD_POOL, FWD_POOL_SIZE, Failed,
    LCORES_IO, LEAK_ENV, cli,
    NULL_PORTS, READY_S, SMALL_LEAK_ARGS, SMALL_LEAK_TOTAL, STUCK_MS,
    STUCK_WAIT_S, TCtx, TELE_LEAK_ARGS, TELE_LEAK_TOTAL, check_exit,
    heapleak_truth, key_str, null_vdevs, read_text, run_case, session,
    socket_path, stop_at_end, tele_group_key, truth_groups, wait_forwarding,
    wait_stuck, wait_text)

# watch in the tests: lines and their interval.
WATCH_LINES = 3
WATCH_INTERVAL = "0.2"
# top in the tests: refresh interval, terminal size, how long to wait for
# a screen.
TOP_INTERVAL = "0.3"
TOP_COLS, TOP_ROWS = 120, 40
SCREEN_WAIT_S = 15
# cli_pools: a forwarder that receives nothing (net_null no-rx), so the
# only mbufs in use are the --app-leak ones: in_use is exact.
NORX_VDEVS = ["--vdev", "net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1"]
APP_LEAK = 8
CLEAN_ENV = {"MPAUDIT_STUCK_MS": "200", "MPAUDIT_SCAN_MS": "50"}


class CliCtx(TCtx):
    def __init__(self, args):
        super().__init__(args)
        self.cli = os.path.abspath(args.cli)
        self.tmux_server = "mpa-cli-it-%d" % os.getpid()
        self.ntmux = 0

    def cleanup(self, keep):
        subprocess.run(["tmux", "-L", self.tmux_server, "kill-server"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        super().cleanup(keep)


def check_rc(c, r, want, err_words=()):
    """Exit status @want; on failures, the stderr must say @err_words."""
    ok = c.eq("%s: exit status (stderr %r)" % (r.what(), r.err), r.rc, want)
    for w in err_words:
        ok &= c.true("%s: stderr %r does not say %r" % (r.what(), r.err, w),
                     w in r.err)
    return ok


# ---- tmux -----------------------------------------------------------------

class Pane:
    """A command in its own session of the test's private tmux server,
    followed by a shell epilogue that records its exit status and the
    terminal modes it left (stty -a)."""

    def __init__(self, ctx, cmd):
        ctx.ntmux += 1
        self.ctx = ctx
        self.name = "s%d" % ctx.ntmux
        self.rc_file = os.path.join(ctx.tmp, "%s.rc" % self.name)
        self.stty_file = os.path.join(ctx.tmp, "%s.stty" % self.name)
        line = "%s; echo $? > %s; stty -a > %s; sleep 120" % (
            " ".join(cmd), self.rc_file, self.stty_file)
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(TOP_COLS),
                  "-y", str(TOP_ROWS), line)

    def tmux(self, *args):
        p = subprocess.run(["tmux", "-f", "/dev/null", "-L",
                            self.ctx.tmux_server] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=CLI_TIMEOUT_S)
        if p.returncode != 0:
            raise Failed("tmux %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_screen(self, regex):
        """The screen once @regex matches it; Failed after SCREEN_WAIT_S."""
        deadline = time.monotonic() + SCREEN_WAIT_S
        while True:
            s = self.screen()
            if re.search(regex, s, re.M) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if not re.search(regex, s, re.M):
            raise Failed("tmux: %r never on the screen:\n%s" % (regex, s))
        return s

    def pid(self):
        """The command's pid: the only child of the pane's shell."""
        shell = int(self.tmux("display-message", "-p", "-t", self.name,
                              "#{pane_pid}").strip())
        path = "/proc/%d/task/%d/children" % (shell, shell)
        kids = read_text(path).split()
        if len(kids) != 1:
            raise Failed("tmux: pane shell %d has children %r" % (shell, kids))
        return int(kids[0])

    def wait_exit(self):
        """(exit status, stty -a) once the command has ended."""
        deadline = time.monotonic() + SCREEN_WAIT_S
        while not (os.path.exists(self.stty_file) and
                   read_text(self.stty_file).strip()):
            if time.monotonic() > deadline:
                raise Failed("tmux: the command never ended:\n%s" %
                             self.screen())
            time.sleep(0.1)
        return int(read_text(self.rc_file)), read_text(self.stty_file)


def check_terminal_restored(c, what, pane, stty):
    """Cooked mode with echo, as the shell had it, and the alternate
    screen left: top's view is gone."""
    modes = stty.split()
    c.true("%s: terminal left without icanon/echo: %r" % (what, stty),
           "icanon" in modes and "echo" in modes)
    s = pane.screen()
    c.true("%s: top's screen still shown after it ended:\n%s" % (what, s),
           "mpaudit top:" not in s)


def top_session(ctx, c, prefix, pool_re, want_rc, stop):
    """Run top in tmux until @pool_re is on its screen, then end it by
    @stop ("q" or a signal number): it ends with @want_rc, the terminal
    restored."""
    pane = Pane(ctx, [ctx.cli, "--file-prefix", prefix, "top", "--interval",
                      TOP_INTERVAL])
    what = "top (%s)" % ("key q" if stop == "q" else "signal %d" % stop)
    s = pane.wait_screen(pool_re)
    c.true("%s: no header with the program and mode:\n%s" % (what, s),
           re.search(r"^mpaudit top: mpaudit-fwd pid \d+, instrumented", s,
                     re.M))
    if stop == "q":
        # A smaller terminal: redrawn to fit, the pools still shown.
        pane.tmux("resize-window", "-t", pane.name, "-x", "80", "-y", "20")
        s = pane.wait_screen(r"\A(?:.*\n){3}\n.*\n" + pool_re[1:])
        c.eq("%s: screen width after the resize" % what,
             max(len(l) for l in s.splitlines()), 80)
        # s cycles the sort column, shown in the third line.
        pane.tmux("send-keys", "-t", pane.name, "s")
        pane.wait_screen(r"pools sorted by free")
        pane.tmux("send-keys", "-t", pane.name, "q")
    else:
        os.kill(pane.pid(), stop)
    rc, stty = pane.wait_exit()
    c.eq("%s: exit status" % what, rc, want_rc)
    check_terminal_restored(c, what, pane, stty)
    return s


# ---- checks ---------------------------------------------------------------

def check_usage_errors(c, ctx, prefix):
    for args, word in [
            (["--file-prefix", prefix, "stuck", "--bogus"], "'--bogus'"),
            (["--file-prefix", prefix, "bogus"], "'bogus'"),
            (["--pid", "abc", "status"], "--pid: 'abc'"),
            (["--file-prefix", prefix, "watch", "--interval", "x"],
             "--interval: 'x'"),
            (["--file-prefix", prefix, "watch", "--count", "0"],
             "--count: '0'"),
            (["--file-prefix", prefix, "pools", "--count", "3"],
             "--count"),
            (["--file-prefix", prefix, "--pid", "1", "status"],
             "one of --file-prefix, --pid, --socket"),
            (["--file-prefix", prefix, "snapshot"], "missing NAME"),
            (["--file-prefix", prefix, "status", "extra"], "'extra'"),
            ([], "no command")]:
        r = cli(ctx, *args)
        if check_rc(c, r, 2, [word, "Usage: mpaudit"]):
            c.eq("%s: stdout" % r.what(), r.out, "")


def check_help(c, ctx):
    r = cli(ctx, "--help")
    check_rc(c, r, 0)
    for cmd in ("list", "status", "pools", "stuck", "sites", "heap",
                "errors", "config", "snapshot", "diff", "dump", "watch",
                "top"):
        c.true("--help does not list %s" % cmd,
               re.search(r"^  %s\s" % cmd, r.out, re.M))
        h = cli(ctx, cmd, "--help")
        if check_rc(c, h, 0):
            c.true("%s --help: %r" % (cmd, h.out[:200]),
                   h.out.startswith("Usage: mpaudit [target] [--json] %s" %
                                    cmd))


def list_entry(c, ctx, prefix, *target):
    r = cli(ctx, "--json", *target, "list")
    if not check_rc(c, r, 0):
        return None
    mine = [e for e in r.json() if e.get("prefix") == prefix]
    if not c.eq("list --json: entries of prefix %s" % prefix, len(mine), 1):
        return None
    return mine[0]


def check_listed(c, ctx, prefix, pid, mode):
    """list shows the process (--json and the table), and --pid selects
    it."""
    e = list_entry(c, ctx, prefix)
    if e is not None:
        c.eq("list --json: %s" % prefix,
             {k: e.get(k) for k in ("state", "pid", "program", "mode")},
             {"state": "live", "pid": pid, "program": "mpaudit-fwd",
              "mode": mode})
    r = cli(ctx, "list")
    if check_rc(c, r, 0):
        c.true("list: no row '%s %d mpaudit-fwd %s':\n%s" %
               (prefix, pid, mode, r.out),
               re.search(r"^%s\s+%d\s+mpaudit-fwd\s+%s\s+/\S+/%s/"
                         r"dpdk_telemetry\.v2$" % (re.escape(prefix), pid,
                                                   re.escape(mode),
                                                   re.escape(prefix)),
                         r.out, re.M))
    e = list_entry(c, ctx, prefix, "--pid", str(pid))
    if e is not None:
        c.eq("list --pid %d: pid" % pid, e.get("pid"), pid)


def stuck_by_holder(groups):
    return sorted((key_str(tele_group_key(g)), g.get("count"))
                  for g in groups)


# ---- tests ----------------------------------------------------------------

def t_cli_fwd(ctx, c):
    """The instrumented forwarder with leaks on 24 ports: stuck (two
    pages, joined) exactly the ground truth, status, pools, errors, list,
    --pid, watch, dump, the heap and unsupported commands refused with
    their reason, usage errors, and top ended by SIGTERM."""
    name = "cli_fwd"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(NULL_PORTS) + \
        ["--", "--duration", "0", "--stats-ms", "0"] + TELE_LEAK_ARGS
    prefix = prefix_of(cmd)
    seen = {}

    def body(t, p, report_path):
        # Leaks stuck: the datapath runs, so the forwarder's own stop
        # handlers are in place for stop_at_end().
        s = wait_stuck(c, t, TELE_LEAK_TOTAL, p.mpa_t0 + STUCK_WAIT_S)
        r = cli(ctx, "--file-prefix", prefix, "--json", "stuck")
        if check_rc(c, r, 3):
            v = r.json()
            seen["groups"] = v.get("groups", [])
            c.eq("stuck --json: stuck, total, groups listed",
                 (v.get("stuck"), v.get("total"), len(seen["groups"])),
                 (TELE_LEAK_TOTAL, s.get("groups"), s.get("groups")))
            c.true("stuck --json: page fields left in the joined list: %r"
                   % sorted(v), not {"page", "pages", "per_page"} & set(v))
        r = cli(ctx, "--file-prefix", prefix, "stuck")
        if check_rc(c, r, 3):
            c.true("stuck: no summary line:\n%s" % r.out, r.out.startswith(
                "%d stuck objects in %d groups (0 ungrouped)" %
                (TELE_LEAK_TOTAL, s.get("groups"))))
            rows = [l for l in r.out.splitlines()
                    if re.match(r"^\s+\d+\s+\d+\s+(rx|tx|ring|app)\s", l)]
            c.eq("stuck: table rows", len(rows), s.get("groups"))
        r = cli(ctx, "--file-prefix", prefix, "--json", "status")
        if check_rc(c, r, 3):
            v = r.json()
            c.eq("status --json: mode, stuck, groups, errors, exit_code",
                 (v.get("mode"), v.get("stuck"), v.get("groups"),
                  v.get("errors"), v.get("exit_code")),
                 ("instrumented", TELE_LEAK_TOTAL, s.get("groups"), 0, 3))
        r = cli(ctx, "--file-prefix", prefix, "status")
        if check_rc(c, r, 3):
            c.true("status: %r" % r.out, re.search(
                r"^stuck: +%d objects in %d groups" %
                (TELE_LEAK_TOTAL, s.get("groups")), r.out, re.M) and
                re.search(r"^verdict: +LEAKS FOUND \(exit 3\)$", r.out,
                          re.M) and
                re.search(r"^scans: +\d+ \(thread; last \d+\.\d{3} ms, "
                          r"mean \d+\.\d{3} ms, max \d+\.\d{3} ms\)$",
                          r.out, re.M))
        r = cli(ctx, "--file-prefix", prefix, "--json", "pools")
        if check_rc(c, r, 3):
            pools = r.json().get("pools")
            c.eq("pools --json: name, size, stuck, destroyed",
                 [(q.get("name"), q.get("size"), q.get("stuck"),
                   q.get("destroyed")) for q in pools or []],
                 [(FWD_POOL, FWD_POOL_SIZE, TELE_LEAK_TOTAL, 0)])
        r = cli(ctx, "--file-prefix", prefix, "--json", "errors")
        if check_rc(c, r, 3):
            v = r.json()
            c.eq("errors --json: recorded, not_listed, errors",
                 (v.get("recorded"), v.get("not_listed"), v.get("errors")),
                 (0, 0, []))
        check_listed(c, ctx, prefix, p.pid, "instrumented")
        r = cli(ctx, "--pid", str(p.pid), "--json", "status")
        if check_rc(c, r, 3):
            c.eq("--pid %d status --json: stuck" % p.pid,
                 r.json().get("stuck"), TELE_LEAK_TOTAL)
        r = cli(ctx, "--file-prefix", prefix, "watch", "--count",
                str(WATCH_LINES), "--interval", WATCH_INTERVAL)
        if check_rc(c, r, 3):
            lines = r.out.splitlines()
            c.true("watch: header %r" % lines[:1],
                   lines[:1] and lines[0].split() ==
                   ["TIME", "SCANS", "IN_USE", "DELTA", "STUCK", "NEW",
                    "ERRORS", "HEAP_LIVE"])
            data = [l.split() for l in lines[1:]]
            c.eq("watch: lines", len(data), WATCH_LINES)
            c.eq("watch: STUCK, ERRORS, HEAP_LIVE of each line",
                 [(d[4], d[6], d[7]) for d in data if len(d) == 8],
                 [(str(TELE_LEAK_TOTAL), "0", "-")] * WATCH_LINES)
            c.eq("watch: DELTA, NEW of the first line",
                 data[0][3:4] + data[0][5:6] if data else None, ["-", "-"])
        r = cli(ctx, "--file-prefix", prefix, "--json", "dump")
        if check_rc(c, r, 0):
            c.eq("dump --json: path", r.json().get("path"), report_path)
        r = cli(ctx, "--file-prefix", prefix, "heap")
        check_rc(c, r, 1, ["heap tracking is not active", "ENOTSUP"])
        r = cli(ctx, "--file-prefix", prefix, "--json", "sites")
        if check_rc(c, r, 3):
            v = r.json()
            c.eq("sites --json: stuck over the holders, listed = holders",
                 (sum(x.get("stuck", 0) for x in v.get("sites", [])),
                  len(v.get("sites", []))),
                 (TELE_LEAK_TOTAL, v.get("holders")))
        r = cli(ctx, "--file-prefix", prefix, "--json", "config")
        if check_rc(c, r, 0):
            c.eq("config --json: stuck_ms, scan_ms, changed",
                 (r.json().get("stuck_ms"), r.json().get("scan_ms"),
                  r.json().get("changed")),
                 (STUCK_MS, int(LEAK_ENV["MPAUDIT_SCAN_MS"]), 0))
        for stuck_ms, changed in ((STUCK_MS + 200, 1), (STUCK_MS, 1),
                                  (STUCK_MS, 0)):
            r = cli(ctx, "--file-prefix", prefix, "--json", "config",
                    "--stuck-ms", str(stuck_ms))
            if check_rc(c, r, 0):
                c.eq("config --stuck-ms %d: stuck_ms, changed" % stuck_ms,
                     (r.json().get("stuck_ms"), r.json().get("changed")),
                     (stuck_ms, changed))
        r = cli(ctx, "--file-prefix", prefix, "config", "--stuck-ms", "0")
        check_rc(c, r, 2, ["from 1 to 86400000", "ERANGE"])
        r = cli(ctx, "--file-prefix", prefix, "pcap", "x")
        check_rc(c, r, 1, ["MPAUDIT_PCAP_DIR", "ENOTSUP"])
        r = cli(ctx, "--file-prefix", prefix, "pcap", "../x")
        check_rc(c, r, 2, ["may not start with '.'"])
        check_usage_errors(c, ctx, prefix)
        top_session(ctx, c, prefix, r"^%s\s+%d\s+\d+\s+\d+\s+%d\s" %
                    (FWD_POOL, FWD_POOL_SIZE, TELE_LEAK_TOTAL), 3,
                    signal.SIGTERM)
        c.true("the forwarder exited during the CLI calls", p.poll() is None)
        stop_at_end(p)

    run = session(ctx, name, cmd, LEAK_ENV, 90, body)
    check_exit(c, run, 3)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth total" % name, sum(truth.values()), TELE_LEAK_TOTAL)
    c.eq("%s: mpaudit --json stuck (holder, count) vs the truth" % name,
         stuck_by_holder(seen.get("groups", [])),
         sorted((key_str(k), n) for k, n in truth.items()))


def t_cli_pools(ctx, c):
    """A forwarder that receives nothing, holding only its --app-leak
    mbufs: pools (JSON and table) and top show their exact in_use; top
    ends on q."""
    name = "cli_pools"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + NORX_VDEVS + \
        ["--", "--duration", "0", "--stats-ms", "0", "--app-leak",
         str(APP_LEAK)]
    prefix = prefix_of(cmd)
    free = FWD_POOL_SIZE - APP_LEAK

    def body(t, p, report_path):
        # The datapath lcore allocates the leak: its stop handlers are set.
        wait_stuck(c, t, APP_LEAK, p.mpa_t0 + STUCK_WAIT_S)
        r = cli(ctx, "--file-prefix", prefix, "--json", "pools")
        if check_rc(c, r, 3):
            v = r.json()
            c.eq("pools --json: the pool",
                 [{k: q.get(k) for k in ("name", "size", "in_use", "free",
                                         "stuck", "driver_held")}
                  for q in v.get("pools", [])],
                 [{"name": FWD_POOL, "size": FWD_POOL_SIZE,
                   "in_use": APP_LEAK, "free": free, "stuck": APP_LEAK,
                   "driver_held": 0}])
            c.eq("pools --json: total", v.get("total"), 1)
        r = cli(ctx, "pools", "--file-prefix", prefix)
        if check_rc(c, r, 3):
            lines = r.out.splitlines()
            c.eq("pools: header", lines[0].split()[:6],
                 ["POOL", "SIZE", "IN_USE", "FREE", "STUCK", "DRIVER_HELD"])
            c.eq("pools: row", [l.split()[:6] for l in lines[1:]],
                 [[FWD_POOL, str(FWD_POOL_SIZE), str(APP_LEAK), str(free),
                   str(APP_LEAK), "0"]])
        s = top_session(ctx, c, prefix, r"^%s\s+%d\s+%d\s+%d\s+%d\s" %
                        (FWD_POOL, FWD_POOL_SIZE, APP_LEAK, free, APP_LEAK),
                        3, "q")
        c.true("top: no stuck group row of %d app mbufs:\n%s" % (APP_LEAK, s),
               re.search(r"^\s+%d\s+app\s+%s\s" % (APP_LEAK, FWD_POOL), s,
                         re.M))
        stop_at_end(p)

    run = session(ctx, name, cmd, LEAK_ENV, 60, body)
    check_exit(c, run, 3)
    truth, _ = truth_groups(run, "mpaudit-fwd")
    c.eq("%s: truth" % name, sorted(truth.values()), [APP_LEAK])


def stale_socket(ctx, base):
    """A telemetry socket nobody listens on, as a killed process leaves
    it: bound, then closed without unlinking."""
    prefix = "mpa-it-cli-stale-%d" % os.getpid()
    ctx.prefixes.append(prefix)
    d = os.path.join(base, prefix)
    os.makedirs(d, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(os.path.join(d, "dpdk_telemetry.v2"))
    s.close()
    return prefix


def t_cli_clean(ctx, c):
    """A clean forwarder: every verdict command exits 0. Beside it, the
    plain forwarder (not audited) and a stale socket: list shows both as
    such, and the commands refuse them with exit 1. A missing prefix or
    process exits 1."""
    name = "cli_clean"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + \
        ["--vdev", "net_null0", "--vdev", "net_null1",
         "--", "--duration", "0", "--stats-ms", "0"]
    plain = [ctx.fwd_plain] + ctx.eal(name + "_plain", LCORES_IO) + \
        ["--vdev", "net_null0", "--vdev", "net_null1",
         "--", "--duration", "0", "--stats-ms", "0"]
    prefix, plain_prefix = prefix_of(cmd), prefix_of(plain)
    runs = {}

    def body(t, p, report_path):
        wait_forwarding(p)
        # A few scans past the threshold: a leak would be stuck by now.
        time.sleep(3 * int(CLEAN_ENV["MPAUDIT_STUCK_MS"]) / 1000.0)
        for sub in ("status", "pools", "stuck", "errors"):
            r = cli(ctx, "--file-prefix", prefix, sub)
            check_rc(c, r, 0)
        r = cli(ctx, "--file-prefix", prefix, "stuck")
        c.true("stuck: %r" % r.out, r.out.startswith(
            "0 stuck objects in 0 groups (0 ungrouped)"))
        r = cli(ctx, "--file-prefix", prefix, "--json", "status")
        if check_rc(c, r, 0):
            c.eq("status --json: stuck, errors, exit_code",
                 tuple(r.json().get(k) for k in ("stuck", "errors",
                                                 "exit_code")), (0, 0, 0))
        r = cli(ctx, "--file-prefix", prefix, "--json", "watch", "--count",
                "2", "--interval", WATCH_INTERVAL)
        if check_rc(c, r, 0):
            lines = [json.loads(l) for l in r.out.splitlines()]
            c.eq("watch --json: stuck, new_stuck, exit_code",
                 [(x.get("stuck"), x.get("new_stuck"), x.get("exit_code"))
                  for x in lines], [(0, None, 0), (0, 0, 0)])
        # The plain forwarder: telemetry, but no /mpaudit/ commands.
        q = ctx._spawn(name + "_plain", plain, {}, None,
                       stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + READY_S
            while socket_path(plain_prefix) is None and q.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.1)
            wait_forwarding(q)
            base = os.path.dirname(os.path.dirname(socket_path(prefix)))
            stale = stale_socket(ctx, base)
            # A process whose /mpaudit/ handlers hang (its auditor's lock
            # held by a stuck thread): DPDK's own thread greets and lists
            # the commands, /mpaudit/summary gets no reply.
            silent_prefix = "mpa-it-cli-silent-%d" % os.getpid()
            ctx.prefixes.append(silent_prefix)
            os.makedirs(os.path.join(base, silent_prefix), exist_ok=True)
            silent = FakeTele(os.path.join(base, silent_prefix,
                                           "dpdk_telemetry.v2"),
                              {"/mpaudit/summary": "SILENT"})
            try:
                # Its row says so and the list goes on (2 s, not 10, per
                # reply: the rows of the others are not held up).
                e = list_entry(c, ctx, silent_prefix)
                if e is not None:
                    c.eq("list --json: the silent process",
                         (e.get("state"), e.get("pid")),
                         ("live", os.getpid()))
                    c.true("list --json: silent mode %r" % e.get("mode"),
                           (e.get("mode") or "").startswith(
                               "/mpaudit/summary: no reply within 2000 ms"))
            finally:
                silent.close()
            check_listed(c, ctx, prefix, p.pid, "instrumented")
            e = list_entry(c, ctx, plain_prefix)
            if e is not None:
                c.eq("list --json: the plain forwarder",
                     (e.get("state"), e.get("pid"), e.get("mode")),
                     ("live", q.pid, "not audited"))
            e = list_entry(c, ctx, stale)
            if e is not None:
                c.eq("list --json: the stale socket",
                     (e.get("state"), e.get("pid"), e.get("mode")),
                     ("stale", None, "stale socket"))
            r = cli(ctx, "list")
            c.true("list: no stale row for %s:\n%s" % (stale, r.out),
                   re.search(r"^%s\s+-\s+-\s+stale socket\s" % stale, r.out,
                             re.M))
            r = cli(ctx, "--file-prefix", plain_prefix, "status")
            check_rc(c, r, 1, ["process %d (mpaudit-fwd-pla" % q.pid,
                               "is not audited"])
            r = cli(ctx, "--pid", str(q.pid), "pools")
            check_rc(c, r, 1, ["is not audited"])
            r = cli(ctx, "--file-prefix", stale, "status")
            check_rc(c, r, 1, ["stale socket", "connection refused"])
        finally:
            if q.poll() is None:
                q.send_signal(signal.SIGINT)
            runs["plain"] = ctx._finish(name + "_plain", plain, q, None, 30)
        r = cli(ctx, "--file-prefix", "mpa-it-cli-nosuch", "status")
        check_rc(c, r, 1, ["no DPDK telemetry socket for file prefix "
                           "'mpa-it-cli-nosuch'"])
        r = cli(ctx, "--pid", str(os.getpid()), "status")
        check_rc(c, r, 1, ["process %d" % os.getpid(),
                           "has no DPDK telemetry socket"])
        r = cli(ctx, "--socket", "/nonexistent/sock", "status")
        check_rc(c, r, 1, ["/nonexistent/sock"])
        check_help(c, ctx)
        stop_at_end(p)

    run = session(ctx, name, cmd, CLEAN_ENV, 60, body)
    check_exit(c, run, 0)
    check_exit(c, runs["plain"], 0)


def t_cli_heap(ctx, c):
    """heapleak (mode signal) under the preload: snapshots taken with the
    CLI between its phases differ, per `mpaudit --json diff`, by exactly
    the set of the phase, with its call site and caller; `heap` lists the
    first set once past the threshold."""
    name = "cli_heap"
    go = os.path.join(ctx.tmp, "go")
    os.makedirs(go, exist_ok=True)
    cmd = [ctx.heapleak] + ctx.eal(name, LCORES_IO) + ["--", "signal", go]
    prefix = prefix_of(cmd)

    def cue(k):
        with open(os.path.join(go, "go%d" % k), "w"):
            pass

    def body(t, p, report_path):
        out = p.mpa_files[0]
        if not wait_text(p, out, "heapleak: ready 1", READY_S):
            raise Failed("heapleak never said ready 1")
        r = cli(ctx, "--file-prefix", prefix, "snapshot", "a")
        if check_rc(c, r, 0):
            c.eq("snapshot a", r.out, "snapshot a taken; kept: a\n")
        t_a = time.monotonic()
        cue(1)
        if not wait_text(p, out, "heapleak: ready 2", READY_S):
            raise Failed("heapleak never said ready 2")
        r = cli(ctx, "--file-prefix", prefix, "--json", "snapshot", "b")
        if check_rc(c, r, 0):
            c.eq("snapshot --json b", r.json(),
                 {"snapshot": "b", "snapshots": ["a", "b"]})
        sig_a = heapleak_truth(read_text(out), "sig_a")
        sig_b = heapleak_truth(read_text(out), "sig_b")
        for frm, to, change in (("a", "b", "new"), ("b", "a", "gone")):
            r = cli(ctx, "--file-prefix", prefix, "--json", "diff", frm, to)
            if check_rc(c, r, 0):
                check_diff(c, "diff %s %s" % (frm, to), r.json(), change,
                           sig_b)
        r = cli(ctx, "--file-prefix", prefix, "diff", "a", "b")
        if check_rc(c, r, 0):
            c.true("diff a b: %r" % r.out, r.out.startswith(
                "from a to b: ") and sig_b["site"] in r.out and
                sig_b["caller"] in r.out)
        r = cli(ctx, "--file-prefix", prefix, "diff", "a", "nosuch")
        check_rc(c, r, 1, ["no snapshot 'nosuch'", "ENOENT"])
        # Set a, allocated before snapshot a, once past the threshold.
        time.sleep(max(0.0, t_a + 2 * STUCK_MS / 1000.0 - time.monotonic()))
        r = cli(ctx, "--file-prefix", prefix, "--json", "heap")
        if check_rc(c, r, 0):
            v = r.json()
            groups = v.get("groups", [])
            mine = [g for g in groups if g.get("stack", [])[:1] ==
                    [sig_a["site"]]]
            c.eq("heap --json: kinds and callers of set sig_a",
                 sorted(set((g.get("kind"), tuple(g.get("stack", [])[1:2]))
                            for g in mine)),
                 [(sig_a["kind"], (sig_a["caller"],))])
            c.eq("heap --json: bytes and count of set sig_a",
                 (sum(g.get("bytes", 0) for g in mine),
                  sum(g.get("count", 0) for g in mine)),
                 (int(sig_a["bytes"]), int(sig_a["count"])))
            c.eq("heap --json: groups listed", len(groups), v.get("total"))
        r = cli(ctx, "--file-prefix", prefix, "heap")
        if check_rc(c, r, 0):
            c.true("heap: no sig_a site in the table:\n%s" % r.out,
                   sig_a["site"] in r.out)
        cue(2)

    run = session(ctx, name, cmd, ctx.penv(LEAK_ENV), 60, body)
    check_exit(c, run, 0)
    c.true("%s: heapleak did not finish" % name, "heapleak: done" in run.out)


def check_diff(c, what, v, change, truth):
    """A joined diff made only of one heapleak set (see mpa_tele_it's
    check_set_change): every change of its kind, with its site and
    caller innermost, together the set's bytes and count."""
    changes = v.get("changes", [])
    appear = change == "new"
    c.eq(what + ": tallies",
         {k: v.get(k) for k in ("total", "new", "gone", "grown", "shrunk",
                                "same", "grown_bytes", "shrunk_bytes")},
         {"total": len(changes), "new": len(changes) if appear else 0,
          "gone": 0 if appear else len(changes), "grown": 0, "shrunk": 0,
          "same": 0, "grown_bytes": int(truth["bytes"]) if appear else 0,
          "shrunk_bytes": 0 if appear else int(truth["bytes"])})
    c.true(what + ": no change", changes)
    for e in changes:
        c.eq(what + ": kind, change, innermost frames",
             (e.get("kind"), e.get("change"), e.get("stack", [])[:2]),
             (truth["kind"], change, [truth["site"], truth["caller"]]))
    side = "to" if appear else "from"
    c.eq(what + ": bytes and count of the set",
         (sum(e.get("bytes_" + side, 0) for e in changes),
          sum(e.get("count_" + side, 0) for e in changes)),
         (int(truth["bytes"]), int(truth["count"])))


# ---- protocol: a scripted telemetry server --------------------------------

class FakeTele:
    """A DPDK telemetry v2 server on a socket of its own, answering from
    @replies: {command with parameters: reply text, or a function of the
    number of times it was asked}; "/" lists the keys' commands. The
    reply "CLOSE" closes the connection, "SILENT" sends nothing (a hung
    handler). Records every command received."""

    def __init__(self, path, replies, greeting=None):
        import threading
        self.replies = replies
        self.asked = []
        self.greeting = greeting if greeting is not None else json.dumps(
            {"version": "DPDK 22.11.11", "pid": os.getpid(),
             "max_output_len": 16384})
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.bind(path)
        self.s.listen(4)
        self.path = path
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def answer(self, cmd):
        key = cmd.split(",", 1)[0]
        if cmd == "/" and "/" not in self.replies:
            names = sorted(set(k.split(",", 1)[0] for k in self.replies))
            return json.dumps({"/": names})
        r = self.replies.get(cmd)
        if callable(r):
            r = r(sum(1 for a in self.asked if a == cmd))
        if r is None:
            return json.dumps({key: None})
        return r if isinstance(r, str) else json.dumps({key: r})

    def serve(self):
        while True:
            try:
                conn, _ = self.s.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.send(self.greeting.encode())
                    while True:
                        cmd = conn.recv(1024).decode()
                        if not cmd:
                            break
                        a = self.answer(cmd)
                        self.asked.append(cmd)
                        if a == "CLOSE":
                            break
                        if a != "SILENT":
                            conn.send(a.encode())
                except OSError:
                    pass

    def close(self):
        self.s.close()


def page_reply(key, entries, per_page, page, scan, extra=None):
    total = len(entries)
    pages = max(1, -(-total // per_page))
    v = {"scan": scan, "total": total, "page": page, "pages": pages,
         "per_page": per_page}
    v.update(extra or {})
    v[key] = {str(r): entries[r] for r in
              range(page * per_page, min(total, (page + 1) * per_page))}
    return v


SITES = [dict({"site": "app.c:%d" % (100 + i), "function": "f%d" % i,
               "state": "rx" if i % 2 else "app", "held": 50 - i,
               "stuck": i % 3, "max_age_ms": 1000 + i},
              **({"port": i % 4, "queue": 0} if i % 2 else {}))
         for i in range(25)]
CONFIG = {"stuck_ms": 500, "scan_ms": 100, "report": "", "report_ms": 0,
          "history_scans": 60, "mode": "instrumented"}
SUMMARY = {"mode": "instrumented", "scans": 7, "stuck": 3, "groups": 1,
           "errors": 0, "exit_code": 3}
POOLS = [{"name": "p%d" % i, "size": 1023, "in_use": i, "free": 1023 - i,
          "stuck": 0, "driver_held": 0} for i in range(45)]


# Pools as the auditor forecasts them (rate_per_s is a decimal string in
# telemetry): "drains" grows 12.5/s and runs dry in 80 s; "steady" has a
# flat trend while its in_use jumps 50 per refresh (a burst): top must show
# the auditor's 0.0 and no exhaustion, not the jump; "wobbles" has a
# floor slope of -1.5/s and of +2.0/s that the auditor does not call
# growing: 0.0 both, not a refill or a drain.
FORECAST_POOLS = [
    {"name": "drains", "size": 4096, "in_use": 3096, "free": 1000,
     "stuck": 0, "driver_held": 0, "history": 40, "rate_per_s": "12.500",
     "growing": 1, "exhaust_s": 80},
    {"name": "steady", "size": 4096, "in_use": 100, "free": 3996,
     "stuck": 0, "driver_held": 0, "history": 40, "rate_per_s": "0.000",
     "growing": 0},
    {"name": "wobbles", "size": 4096, "in_use": 120, "free": 3976,
     "stuck": 0, "driver_held": 0, "history": 40, "rate_per_s": "-1.500",
     "growing": 0},
    {"name": "rises", "size": 4096, "in_use": 130, "free": 3966,
     "stuck": 0, "driver_held": 0, "history": 40, "rate_per_s": "2.000",
     "growing": 0}]


def check_top_forecast(ctx, c):
    """top shows the auditor's drain rate and time to exhaustion, and no
    exhaustion for a pool the auditor does not call growing."""
    path = os.path.join(ctx.tmp, "forecast.sock")

    def pools(k):
        v = [dict(q) for q in FORECAST_POOLS]
        v[1]["in_use"] += 50 * k
        v[1]["free"] -= 50 * k
        return page_reply("pools", v, 40, 0, 10 + k)

    srv = FakeTele(path, {
        "/mpaudit/summary": dict(SUMMARY, stuck=0, groups=0, exit_code=0),
        "/mpaudit/pools,0": pools,
        "/mpaudit/stuck": {"scan": 10, "total": 0, "groups": {}}})
    try:
        pane = Pane(ctx, [ctx.cli, "--socket", path, "top", "--interval",
                          TOP_INTERVAL])
        # A refresh after the first: the burst seen, the forecast kept.
        s = pane.wait_screen(r"^steady\s+4096\s+(?!100\s)\d+\s")
        rows = {l.split()[0]: l.split()[1:] for l in s.splitlines()
                if l.split()[:1] in ([q["name"]] for q in FORECAST_POOLS)}
        c.eq("top: drains, steady, wobbles, rises (DRAIN/S, EXHAUSTED_IN)",
             [rows.get(q["name"], [])[4:] for q in FORECAST_POOLS],
             [["12.5", "1.3", "min"], ["0.0", "-"], ["0.0", "-"],
              ["0.0", "-"]])
        pane.tmux("send-keys", "-t", pane.name, "q")
        rc, stty = pane.wait_exit()
        c.eq("top (forecast): exit status", rc, 0)
    finally:
        srv.close()


def t_cli_protocol(ctx, c):
    """The CLI against a scripted telemetry server: the sites and config
    formats, pages joined and read again when the scan changed, and every
    malformed reply refused with a clear message and exit 1."""
    path = os.path.join(ctx.tmp, "tele.sock")
    sites = {"/mpaudit/sites,%d" % n:
             page_reply("sites", SITES, 20, n, 9, {"held": 925})
             for n in (0, 1)}
    # pools: page 1 is first answered from a later scan, then agrees.
    pools = {"/mpaudit/pools,0": lambda k: page_reply("pools", POOLS, 40, 0,
                                                      5 + k),
             "/mpaudit/pools,1": lambda k: page_reply("pools", POOLS, 40, 1,
                                                      7 if k == 0 else 6)}
    replies = {"/mpaudit/summary": SUMMARY, "/mpaudit/config": CONFIG,
               "/mpaudit/config,stuck_ms=600,scan_ms=50":
               dict(CONFIG, stuck_ms=600, scan_ms=50, changed=2),
               "/mpaudit/config,stuck_ms=0":
               {"error": "stuck_ms 0 out of range", "code": "EINVAL",
                "usage": "/mpaudit/config[,stuck_ms=N][,scan_ms=N]"}}
    replies.update(sites)
    replies.update(pools)
    srv = FakeTele(path, replies)
    try:
        r = cli(ctx, "--socket", path, "--json", "sites")
        if check_rc(c, r, 3):
            v = r.json()
            c.eq("sites --json: joined", (v.get("held"), v.get("total"),
                                          v.get("sites")), (925, 25, SITES))
        r = cli(ctx, "--socket", path, "sites")
        if check_rc(c, r, 3):
            lines = r.out.splitlines()
            c.eq("sites: first line", lines[0],
                 "925 objects held at 25 sites, scan 9")
            c.eq("sites: header", lines[2].split(),
                 ["HELD", "STUCK", "STATE", "PORT", "QUEUE", "RING",
                  "MAX_AGE", "SITE"])
            c.eq("sites: rows 0 and 1", [l.split() for l in lines[3:5]],
                 [["50", "0", "app", "-", "-", "-", "1.0", "s",
                   "app.c:100", "(f0)"],
                  ["49", "1", "rx", "1", "0", "-", "1.0", "s", "app.c:101",
                   "(f1)"]])
            c.eq("sites: rows", len(lines) - 3, len(SITES))
        r = cli(ctx, "--socket", path, "--json", "config")
        if check_rc(c, r, 0):
            c.eq("config --json", r.json(), CONFIG)
        del srv.asked[:]
        r = cli(ctx, "--socket", path, "--json", "config", "--stuck-ms",
                "600", "--scan-ms", "50")
        if check_rc(c, r, 0):
            c.eq("config --stuck-ms 600 --scan-ms 50: changed",
                 r.json().get("changed"), 2)
            c.eq("config: the command sent", srv.asked,
                 ["/mpaudit/config,stuck_ms=600,scan_ms=50"])
        r = cli(ctx, "--socket", path, "--json", "list")
        if check_rc(c, r, 0):
            c.eq("list --socket: the entry",
                 [{k: e.get(k) for k in ("socket", "state", "pid", "mode")}
                  for e in r.json()],
                 [{"socket": path, "state": "live", "pid": os.getpid(),
                   "mode": "instrumented"}])
        r = cli(ctx, "--socket", path, "config")
        if check_rc(c, r, 0):
            c.true("config: %r" % r.out, re.search(r"^stuck_ms: +500$",
                                                   r.out, re.M))
        r = cli(ctx, "--socket", path, "config", "--stuck-ms", "0")
        check_rc(c, r, 2, ["/mpaudit/config: stuck_ms 0 out of range "
                           "(EINVAL)"])
        del srv.asked[:]
        r = cli(ctx, "--socket", path, "--json", "pools")
        if check_rc(c, r, 3):
            v = r.json()
            c.eq("pools --json after a scan change: scan, pools",
                 (v.get("scan"), v.get("pools")), (6, POOLS))
            c.eq("pools: pages asked (read again from page 0)",
                 [a for a in srv.asked if a.startswith("/mpaudit/pools")],
                 ["/mpaudit/pools,0", "/mpaudit/pools,1",
                  "/mpaudit/pools,0", "/mpaudit/pools,1"])
        # Always changing: given up, said.
        replies["/mpaudit/pools,1"] = lambda k: page_reply(
            "pools", POOLS, 40, 1, 1000 + k)
        r = cli(ctx, "--socket", path, "pools")
        check_rc(c, r, 1, ["changed while its pages were read"])
        replies["/mpaudit/pools,1"] = page_reply("pools", POOLS, 40, 1, 5)
        replies["/mpaudit/pools,0"] = page_reply("pools", POOLS, 40, 0, 5)
        for cmd, reply, sub, words in [
                ("/mpaudit/stuck,0", '{"/mpaudit/stuck": {"scan": 1', "stuck",
                 ["not JSON"]),
                ("/mpaudit/stuck,0", {"scan": 1, "groups": {}}, "stuck",
                 ["lacks its page fields"]),
                ("/mpaudit/stuck,0", json.dumps({"/other": {}}), "stuck",
                 ["not keyed by the command"]),
                ("/mpaudit/stuck,0",
                 {"scan": 1, "total": 3, "page": 0, "pages": 1,
                  "per_page": 20, "groups": {"0": {}, "2": {}}}, "stuck",
                 ["entries ranked 0 to 2"]),
                ("/mpaudit/stuck,0", [1, 2], "stuck", ["not an object"]),
                ("/mpaudit/stuck,0", "CLOSE", "stuck",
                 ["closed the connection"]),
                ("/mpaudit/errors,0", None, "errors",
                 ["this mpaudit does not support errors"])]:
            replies[cmd] = reply
            r = cli(ctx, "--socket", path, sub)
            check_rc(c, r, 1, words)
            del replies[cmd]
        replies["/mpaudit/summary"] = {k: v for k, v in SUMMARY.items()
                                       if k != "exit_code"}
        for sub in ("status", "pools", "watch"):
            r = cli(ctx, "--socket", path, sub)
            check_rc(c, r, 1, ["lacks field 'exit_code' (integer)"])
        for cmd, sub, reply, field in [
                ("/mpaudit/dump", ["dump"], {}, "'path' (string)"),
                ("/mpaudit/heap_snapshot,a", ["snapshot", "a"],
                 {"snapshot": "a", "snapshots": "a"}, "'snapshots' (array)"),
                ("/mpaudit/sites,0", ["sites"],
                 page_reply("sites", [{"held": 1}], 20, 0, 1, {"held": 1}),
                 "entry 0: reply lacks field 'state' (string)")]:
            saved = replies.get(cmd)
            replies[cmd] = reply
            r = cli(ctx, "--socket", path, *sub)
            check_rc(c, r, 1, [field])
            replies[cmd] = saved
        # "/" without /mpaudit/ commands: not audited.
        replies["/"] = ["/ethdev/list", "/help"]
        replies["/mpaudit/summary"] = None
        r = cli(ctx, "--socket", path, "status")
        check_rc(c, r, 1, ["process %d" % os.getpid(), "is not audited"])
    finally:
        srv.close()
    check_top_forecast(ctx, c)
    for greeting, words in [("{}", ["max_output_len"]),
                            ("hello", ["not JSON"])]:
        gpath = os.path.join(ctx.tmp, "g%d.sock" % len(greeting))
        g = FakeTele(gpath, {}, greeting)
        try:
            r = cli(ctx, "--socket", gpath, "status")
            check_rc(c, r, 1, words)
        finally:
            g.close()


# ---- metrics and serve ------------------------------------------------------

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "docs")
METRIC_RE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def parse_exposition(c, what, text):
    """{(name, labels): value} of a text exposition, and the families
    announced by # TYPE, checking every sample belongs to one."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            c.true("%s: family %s announced twice" % (what, name),
                   name not in types)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = METRIC_RE.match(line)
        if not c.true("%s: not a sample line: %r" % (what, line), m):
            continue
        c.true("%s: sample %s before its # TYPE" % (what, m.group(1)),
               m.group(1) in types)
        samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return samples, types


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def t_cli_metrics(ctx, c):
    """mpaudit metrics of a forwarder with known leaks: exact samples
    labelled by prefix and pid, accepted by promtool; without a target
    the same process among all; mpaudit serve answers /metrics over HTTP
    with the same, 404 elsewhere, and stops on SIGTERM; the shipped alert
    rules pass promtool and the dashboard queries only metrics that
    exist."""
    name = "cli_metrics"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0"] + SMALL_LEAK_ARGS
    prefix = prefix_of(cmd)
    holders, pids = {}, []

    def body(t, p, report_path):
        wait_stuck(c, t, SMALL_LEAK_TOTAL, p.mpa_t0 + STUCK_WAIT_S)
        wait_forwarding(p)
        pids.append(p.pid)
        lab = '{prefix="%s",pid="%d"}' % (prefix, p.pid)
        plab = '{prefix="%s",pid="%d",pool="%s"}' % (prefix, p.pid, FWD_POOL)
        want = {("mpaudit_up", lab): 1, ("mpaudit_stuck_objects", lab):
                SMALL_LEAK_TOTAL, ("mpaudit_leaks_found", lab): 1,
                ("mpaudit_free_errors_total", lab): 0,
                ("mpaudit_stuck_threshold_seconds", lab): STUCK_MS / 1000,
                ("mpaudit_pool_objects", plab): FWD_POOL_SIZE,
                ("mpaudit_pool_stuck_objects", plab): SMALL_LEAK_TOTAL}
        r = cli(ctx, "--file-prefix", prefix, "metrics")
        if check_rc(c, r, 0):
            got, types = parse_exposition(c, "metrics", r.out)
            c.eq("metrics: samples", {k: got.get(k) for k in want}, want)
            q = (got.get(("mpaudit_pool_in_use_objects", plab)),
                 got.get(("mpaudit_pool_free_objects", plab)))
            c.true("metrics: in use + free != size: %r" % (q,),
                   None not in q and sum(q) == FWD_POOL_SIZE)
            c.eq("metrics: counters end in _total",
                 sorted(n for n, k in types.items() if k == "counter"),
                 ["mpaudit_free_errors_total", "mpaudit_scan_seconds_total",
                  "mpaudit_scans_total"])
            sc = [got.get(("mpaudit_scan_%s_seconds" % k, lab))
                  for k in ("last", "max")] + \
                [got.get(("mpaudit_scan_seconds_total", lab))]
            c.true("metrics: 0 < scan last <= max <= total: %r" % sc,
                   None not in sc and 0 < sc[0] <= sc[1] <= sc[2])
            holders.update({k[1]: v for k, v in got.items()
                            if k[0] == "mpaudit_holder_stuck_objects"})
            pr = subprocess.run(["promtool", "check", "metrics"],
                                input=r.out, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                universal_newlines=True, timeout=60)
            c.eq("promtool check metrics: status (%s)" % pr.stdout.strip(),
                 pr.returncode, 0)
            families = set(types)
        else:
            families = set()
        r = cli(ctx, "metrics")
        if check_rc(c, r, 0):
            got, _ = parse_exposition(c, "metrics (all)", r.out)
            c.eq("metrics (all): this process's stuck objects",
                 got.get(("mpaudit_stuck_objects", lab)), SMALL_LEAK_TOTAL)
        check_rc(c, cli(ctx, "serve", "--listen", "nowhere"), 2,
                 ["bad --listen 'nowhere'"])
        check_rc(c, cli(ctx, "serve", "--listen", "127.0.0.1:70000"), 2,
                 ["bad --listen"])
        check_rc(c, cli(ctx, "serve"), 2, ["bad --listen ''"])
        check_rc(c, cli(ctx, "--listen", "127.0.0.1:1", "metrics"), 2,
                 ["metrics: unknown option --listen"])
        port = free_port()
        srv = subprocess.Popen([ctx.cli, "--file-prefix", prefix, "serve",
                                "--listen", "127.0.0.1:%d" % port],
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE,
                               universal_newlines=True)
        try:
            line = srv.stdout.readline()
            c.eq("serve: first line", line.strip(),
                 "serving /metrics on http://127.0.0.1:%d/metrics" % port)
            st, ctype, text = http_get("http://127.0.0.1:%d/metrics" % port)
            c.eq("GET /metrics: status, type", (st, ctype),
                 (200, "text/plain; version=0.0.4; charset=utf-8"))
            got, _ = parse_exposition(c, "GET /metrics", text)
            c.eq("GET /metrics: samples", {k: got.get(k) for k in want},
                 want)
            st, _, _ = http_get("http://127.0.0.1:%d/other" % port)
            c.eq("GET /other: status", st, 404)
            srv.send_signal(signal.SIGTERM)
            c.eq("serve: exit status after SIGTERM", srv.wait(timeout=10), 0)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
            srv.stdout.close()
            srv.stderr.close()
        pr = subprocess.run(["promtool", "check", "rules",
                             os.path.join(DOCS, "mpaudit-alerts.yml")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=60)
        c.eq("promtool check rules: status (%s)" % pr.stdout.strip(),
             pr.returncode, 0)
        with open(os.path.join(DOCS, "mpaudit-grafana.json")) as f:
            dash = json.load(f)
        used = set()
        for panel in dash.get("panels", []):
            for tg in panel.get("targets", []):
                used.update(re.findall(r"\b(mpaudit_[a-z_]+)\b", tg["expr"]))
        c.true("the dashboard queries metrics that do not exist: %s" %
               sorted(used - families), used and used <= families)
        stop_at_end(p)

    run = session(ctx, name, cmd, LEAK_ENV, 60, body)
    check_exit(c, run, 3)
    # Per holder without the site: the truth's groups, summed alike.
    want = {}
    for k, n in truth_groups(run, "mpaudit-fwd")[0].items():
        pool, state, _, port, queue, ring, _ = k
        lab = '{prefix="%s",pid="%d",pool="%s",state="%s"' % (
            prefix, pids[0] if pids else 0, pool, state)
        if port is not None:
            lab += ',port="%d",queue="%d"' % (port, queue)
        if ring is not None:
            lab += ',ring="%s"' % ring
        want[lab + "}"] = want.get(lab + "}", 0) + n
    c.eq("metrics: mpaudit_holder_stuck_objects", holders, want)


def start_serve(ctx, prefix, port):
    """mpaudit serve of @prefix on 127.0.0.1:@port, once it says so."""
    srv = subprocess.Popen([ctx.cli, "--file-prefix", prefix, "serve",
                            "--listen", "127.0.0.1:%d" % port],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
    return srv, srv.stdout.readline().strip()


def end_proc(p):
    if p.poll() is None:
        p.kill()
    p.wait()
    for f in (p.stdout, p.stderr):
        if f is not None:
            f.close()


# Prometheus: scrape period (the shortest it takes) and how long to wait
# for the first samples of a scrape target.
PROM_SCRAPE = "1s"
PROM_WAIT_S = 60


def prom_query(port, expr):
    """The instant vector of @expr from the Prometheus on @port."""
    st, _, text = http_get("http://127.0.0.1:%d/api/v1/query?%s" % (
        port, urllib.parse.urlencode({"query": expr})))
    if st != 200:
        return None
    v = json.loads(text)
    return v["data"]["result"] if v.get("status") == "success" else None


def t_cli_gone(ctx, c):
    """A real Prometheus server scrapes mpaudit serve and its query API
    returns the exact stuck count of a known leak; a second serve on the
    same port is refused; when the audited process exits, top ends with
    exit 1 and a clear message, its terminal restored, and serve goes on
    answering, without the process, counting the target it lost."""
    name = "cli_gone"
    cmd = [ctx.fwd] + ctx.eal(name, LCORES_IO) + null_vdevs(2) + \
        ["--", "--duration", "0", "--stats-ms", "0"] + SMALL_LEAK_ARGS
    prefix = prefix_of(cmd)
    port, prom_port = free_port(), free_port()
    prom_dir = os.path.join(ctx.tmp, "prometheus")
    os.makedirs(prom_dir, exist_ok=True)
    conf = os.path.join(prom_dir, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global:\n  scrape_interval: %s\n  scrape_timeout: %s\n"
                "scrape_configs:\n  - job_name: mpaudit\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" %
                (PROM_SCRAPE, PROM_SCRAPE, port))
    procs = []

    def body(t, p, report_path):
        wait_stuck(c, t, SMALL_LEAK_TOTAL, p.mpa_t0 + STUCK_WAIT_S)
        wait_forwarding(p)
        srv, line = start_serve(ctx, prefix, port)
        procs.append(srv)
        c.eq("serve: first line", line,
             "serving /metrics on http://127.0.0.1:%d/metrics" % port)
        other, line = start_serve(ctx, prefix, port)
        procs.append(other)
        c.eq("serve on a port in use: exit status, stdout",
             (other.wait(timeout=CLI_TIMEOUT_S), line), (1, ""))
        err = other.stderr.read()
        c.eq("serve on a port in use: stderr", err,
             "mpaudit: cannot listen on 127.0.0.1:%d: Address already "
             "in use\n" % port)
        prom = subprocess.Popen(
            ["prometheus", "--config.file=" + conf,
             "--storage.tsdb.path=" + os.path.join(prom_dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % prom_port],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(prom_dir, "log"), "w"))
        procs.append(prom)
        expr = 'mpaudit_stuck_objects{prefix="%s"}' % prefix
        deadline = time.monotonic() + PROM_WAIT_S
        res = None
        while time.monotonic() < deadline and prom.poll() is None:
            try:
                res = prom_query(prom_port, expr)
            except OSError:
                res = None
            if res:
                break
            time.sleep(0.5)
        if c.true("prometheus: no %s within %d s (status %r); its log:\n%s"
                  % (expr, PROM_WAIT_S, prom.poll(),
                     read_text(os.path.join(prom_dir, "log"))[-2000:]), res):
            c.eq("prometheus: %s" % expr,
                 [(r["metric"].get("job"), r["metric"].get("pid"),
                   r["value"][1]) for r in res],
                 [("mpaudit", str(p.pid), str(SMALL_LEAK_TOTAL))])
        pane = Pane(ctx, [ctx.cli, "--file-prefix", prefix, "top",
                          "--interval", TOP_INTERVAL])
        pane.wait_screen(r"^%s\s+%d\s" % (FWD_POOL, FWD_POOL_SIZE))
        stop_at_end(p)
        p.wait(timeout=60)
        rc, stty = pane.wait_exit()
        s = pane.screen()
        c.eq("top after the process exited: exit status", rc, 1)
        c.true("top after the process exited: no message:\n%s" % s,
               re.search(r"^mpaudit: .*dpdk_telemetry\.v2", s, re.M))
        check_terminal_restored(c, "top after the process exited", pane,
                                stty)
        st, _, text = http_get("http://127.0.0.1:%d/metrics" % port)
        c.eq("GET /metrics after the process exited: status", st, 200)
        got, _ = parse_exposition(c, "GET /metrics after the exit", text)
        c.eq("GET /metrics after the exit: its samples, scrape errors",
             ([k for k in got if 'pid="%d"' % p.pid in k[1]],
              got.get(("mpaudit_scrape_errors", ""))), ([], 1))
        c.eq("serve: still running", srv.poll(), None)
        srv.send_signal(signal.SIGTERM)
        c.eq("serve: exit status after SIGTERM", srv.wait(timeout=10), 0)

    try:
        run = session(ctx, name, cmd, LEAK_ENV, 120, body)
    finally:
        for q in procs:
            end_proc(q)
    check_exit(c, run, 3)


TESTS = {
    "cli_metrics": t_cli_metrics,
    "cli_gone": t_cli_gone,
    "cli_fwd": t_cli_fwd,
    "cli_pools": t_cli_pools,
    "cli_clean": t_cli_clean,
    "cli_heap": t_cli_heap,
    "cli_protocol": t_cli_protocol,
}


def main():
    args = case_args("mpa_cli_it", __doc__, TESTS, exes=(
        ("--cli", "the mpaudit CLI"),
        ("--fwd", "instrumented mpaudit-fwd"),
        ("--fwd-plain", "uninstrumented mpaudit-fwd"),
        ("--heapleak", "heapleak test program")), files=(
        ("--preload", "libmpaudit_preload.so"),))
    if args is None:
        return 1
    if shutil.which("tmux") is None:
        print("mpa_cli_it: tmux not found (./run test installs it)",
              file=sys.stderr)
        return 1
    print("mpa_cli_it: %s, EAL memory: %s" % (args.test, eal_mem_desc()))
    return run_case("mpa_cli_it", args.test, TESTS[args.test], CliCtx(args))


if __name__ == "__main__":
    sys.exit(main())
