#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Integration tests of mpaudit soak: real rigs on virtual devices.

Usage: mpa_soak_it.py TEST --cli PATH --fwd PATH [--pktgen-tarball PATH
                        --pktgen-dir DIR]

Each test runs the real `mpaudit soak` with its real DUT (the
instrumented mpaudit-fwd) and generator (Debian's dpdk-testpmd, or
Pktgen-DPDK built once from the vendor tarball into the build tree), and
checks its exit status, the exact contents of its output files against
the DUT's ground truth ("truth" lines), that report.html renders in
headless Chromium with its plot, and that nothing is left behind. Waits
are on conditions (a progress line, a process), never on sleeps. EAL
memory comes from MPA_EAL_MEM (set by ./run; default "--no-huge -m
512"). Exit status 0 pass, 1 fail, 77 skipped.
"""

import argparse
import csv
import fcntl
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpa_lib import (  # noqa: E402
    DEFAULT_EAL_MEM, FWD_POOL, FWD_POOL_SIZE, Failed, TRUTH_RE, run_case)

SKIP = 77
# The soaks: seconds, sampled every second from 0 to the end inclusive.
SOAK_S = 30
WARMUP_S = 10
SAMPLES = SOAK_S + 1
# soak_leak: the injected drain, and how close the forecast must be.
LEAK_RATE = 100
LEAK_ARGS = "--leak-rate %d --leak-max 100000" % LEAK_RATE
RATE_TOLERANCE = 0.10
# mpaudit-fwd's default stuck threshold: a leak is stuck this long after.
FWD_STUCK_MS = 5000
# A soak may take its duration plus start and stop (Pktgen's pools take
# a few seconds, a DUT that stops writes its report).
SOAK_SLACK_S = 90
# soak_kill_gen and soak_sigint: the progress line to wait for.
EARLY_T_S = 5
# soak_hangup: how long it must survive writing to a closed stderr.
PIPE_CLOSED_S = 3
CSV_HEADER = ["time_s", "pool", "size", "in_use", "stuck", "driver_held",
              "rate_per_s", "gen_mpps", "dut_mpps", "heap_libc_bytes",
              "heap_rte_malloc_bytes"]
OUT_FILES = ["samples.csv", "samples.json", "report.html", "junit.xml",
             "soak.json", "dut.log", "generator.log"]
PROGRESS_RE = re.compile(r"^soak: +([0-9.]+)/\d+ s  gen (\S+) Mpps  "
                         r"dut (\S+) Mpps  in use (\d+)  stuck (\d+)  "
                         r"errors (\d+)  heap (\S+)$")
# report.html: the first pool's line and the stuck marks (soakhtml.c).
POOL_RGB = (0x1f, 0x77, 0xb4)
STUCK_RGB = (0xd6, 0x27, 0x28)
MIN_LINE_PIXELS = 400
MIN_MARK_PIXELS = 40
SHOT_W, SHOT_H = 1000, 1400
PKTGEN_BUILD_TIMEOUT_S = 600
PKTGEN_BIN = os.path.join("build", "app", "pktgen")
# The separately started rig of soak_attach: DUT forwarding on CPU 1,
# generator on CPU 0 (as the soak's own rig).
LCORES_DUT = "0@0,1@1"
LCORES_GEN = "0@0,1@0"


class SCtx:
    def __init__(self, args):
        self.cli = os.path.abspath(args.cli)
        self.fwd = os.path.abspath(args.fwd)
        self.tarball = args.pktgen_tarball
        self.pktgen_dir = args.pktgen_dir
        self.tmp = tempfile.mkdtemp(prefix="mpa-soak-it-")
        self.runs = []
        self.procs = []
        self.prefixes = []

    def mem(self):
        return os.environ.get("MPA_EAL_MEM", "").split() or \
            DEFAULT_EAL_MEM.split()

    def env(self):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("MPAUDIT_")}
        e["MPA_SOAK_EAL_MEM"] = " ".join(self.mem())
        e["MPA_SOAK_FWD"] = self.fwd
        return e

    def cleanup(self, keep):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for prefix in self.prefixes:
            shutil.rmtree(os.path.join("/var/run/dpdk", prefix),
                          ignore_errors=True)
        if keep:
            print("mpa_soak_it: outputs kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Soak:
    """One `mpaudit soak` run, started in the background."""

    def __init__(self, ctx, name, args, pipe_stderr=False):
        """@pipe_stderr: stderr is a pipe the test reads (pipe_lines())
        and may close, as `2>&1 | tee` whose tee goes."""
        self.name = name
        self.out = os.path.join(ctx.tmp, name)
        self.cmd = [ctx.cli, "soak", "--out", self.out] + args
        self.errf = open(os.path.join(ctx.tmp, name + ".stderr"), "w+")
        self.outf = open(os.path.join(ctx.tmp, name + ".stdout"), "w+")
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(self.cmd, env=ctx.env(),
                                  stdin=subprocess.DEVNULL,
                                  stdout=self.outf,
                                  stderr=subprocess.PIPE if pipe_stderr
                                  else self.errf,
                                  universal_newlines=pipe_stderr)
        ctx.procs.append(self.p)
        ctx.runs.append(self)
        self.rc = None

    @property
    def secs(self):
        return time.monotonic() - self.t0

    def stderr(self):
        self.errf.flush()
        with open(self.errf.name) as f:
            return f.read()

    def stdout(self):
        self.outf.flush()
        with open(self.outf.name) as f:
            return f.read()

    def wait(self, timeout):
        try:
            self.rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
            raise Failed("%s: soak still running after %d s" %
                         (self.name, timeout))
        return self.rc

    def pipe_until(self, t_s):
        """Copy the piped stderr to the .stderr file until a progress
        line at @t_s or later with traffic on both sides, or EOF."""
        for line in self.p.stderr:
            self.errf.write(line)
            m = PROGRESS_RE.match(line.rstrip("\n"))
            if m and float(m.group(1)) >= t_s and m.group(2) != "-" and \
                    float(m.group(2)) > 0 and float(m.group(3)) > 0:
                return
        raise Failed("%s: no progress line at %s s with traffic before "
                     "stderr closed (exit %s)" % (self.name, t_s,
                                                  self.p.poll()))

    def progress(self):
        return [PROGRESS_RE.match(line) for line in self.stderr().splitlines()
                if PROGRESS_RE.match(line)]

    def wait_progress(self, t_s, timeout):
        """Wait for a progress line at @t_s or later with traffic on both
        sides."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.p.poll() is None:
            for m in self.progress():
                if float(m.group(1)) >= t_s and m.group(2) != "-" and \
                        float(m.group(2)) > 0 and float(m.group(3)) > 0:
                    return
            time.sleep(0.05)
        raise Failed("%s: no progress line at %s s with traffic within "
                     "%d s (exit %s)" % (self.name, t_s, timeout,
                                         self.p.poll()))

    def result(self):
        return load_json(os.path.join(self.out, "soak.json"))

    def tail(self):
        return "\n".join(["---- %s: %s" % (self.name, " ".join(self.cmd)),
                          "---- exit status %s after %.1f s" %
                          (self.rc, time.monotonic() - self.t0),
                          "---- stderr", self.stderr()[-6000:]] +
                         ["---- %s\n%s" % (f, read(os.path.join(self.out, f))
                                           [-3000:])
                          for f in ("dut.log", "generator.log")])


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Failed("%s: %s" % (path, e))


# ---- checks ---------------------------------------------------------------

def check_files(c, s, files):
    for f in files:
        c.true("%s: no %s" % (s.name, f),
               os.path.isfile(os.path.join(s.out, f)))


def check_csv(c, s, nb_samples):
    """samples.csv: the exact header, one row per sample (one pool)."""
    with open(os.path.join(s.out, "samples.csv"), newline="") as f:
        rows = list(csv.reader(f))
    c.eq("%s: samples.csv header" % s.name, rows[0] if rows else None,
         CSV_HEADER)
    rows = rows[1:]
    c.eq("%s: samples.csv rows" % s.name, len(rows), nb_samples)
    c.eq("%s: samples.csv pools" % s.name, sorted({r[1] for r in rows}),
         [FWD_POOL])
    c.eq("%s: samples.csv sizes" % s.name, sorted({r[2] for r in rows}),
         [str(FWD_POOL_SIZE)])
    times = [float(r[0]) for r in rows]
    c.true("%s: samples.csv times not increasing: %r" % (s.name, times),
           times == sorted(times))
    # instrumented mpaudit-fwd: no heap tracking, so no heap columns.
    c.eq("%s: samples.csv heap columns" % s.name,
         sorted({(r[9], r[10]) for r in rows}), [("", "")])
    return rows


def check_samples_json(c, s, nb_samples, status):
    j = load_json(os.path.join(s.out, "samples.json"))
    c.eq("%s: samples.json interval_s" % s.name, j.get("interval_s"), 1.0)
    c.eq("%s: samples.json warmup_s" % s.name, j.get("warmup_s"),
         float(WARMUP_S))
    c.eq("%s: samples.json status" % s.name, j.get("status"), status)
    sm = j.get("samples", [])
    c.eq("%s: samples.json samples" % s.name, len(sm), nb_samples)
    keys = ["dut_mpps", "errors", "gen_mpps", "heap", "in_use", "pools",
            "stuck", "t_s"]
    c.eq("%s: samples.json sample keys" % s.name,
         sorted({tuple(sorted(x)) for x in sm}), [tuple(keys)])
    c.eq("%s: samples.json pools" % s.name,
         sorted({tuple((p["name"], p["size"]) for p in x["pools"])
                 for x in sm}), [((FWD_POOL, FWD_POOL_SIZE),)])
    c.eq("%s: samples.json heap" % s.name, sorted({str(x["heap"])
                                                    for x in sm}), ["None"])
    c.eq("%s: samples.json in_use is not the pools' sum" % s.name,
         [x["t_s"] for x in sm
          if x["in_use"] != sum(p["in_use"] for p in x["pools"])], [])
    # The first sample has no rate yet; later ones carry traffic.
    if sm:
        c.eq("%s: first sample's gen_mpps" % s.name, sm[0]["gen_mpps"], None)
        moving = [x for x in sm[1:] if (x["gen_mpps"] or 0) > 0 and
                  (x["dut_mpps"] or 0) > 0]
        c.true("%s: no sample with traffic on both sides" % s.name, moving)
    return sm


def check_junit(c, s, failures, errors, failed_names):
    root = ET.parse(os.path.join(s.out, "junit.xml")).getroot()
    c.eq("%s: junit root" % s.name, root.tag, "testsuites")
    suites = root.findall("testsuite")
    c.eq("%s: junit suites" % s.name, len(suites), 1)
    if not suites:
        return
    ts = suites[0]
    names = ["soak run", "pool %s in-use trend" % FWD_POOL,
             "no stuck objects", "no free errors", "no heap growth"]
    cases = ts.findall("testcase")
    c.eq("%s: junit test cases" % s.name, [t.get("name") for t in cases],
         names)
    for k, v in (("tests", len(names)), ("failures", failures),
                 ("errors", errors)):
        c.eq("%s: junit testsuite %s" % (s.name, k), ts.get(k), str(v))
        c.eq("%s: junit testsuites %s" % (s.name, k), root.get(k), str(v))
    bad = {}
    for t in cases:
        for kind in ("failure", "error"):
            e = t.find(kind)
            if e is not None:
                bad[t.get("name")] = kind
                c.true("%s: junit %s of %r has no message" %
                       (s.name, kind, t.get("name")), e.get("message"))
    c.eq("%s: junit failed cases" % s.name, bad, failed_names)


def png_pixels(path):
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes): width,
    height, and rows of (r, g, b)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failed("%s: not a PNG" % path)
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or lace:
                raise Failed("%s: PNG depth %d type %d interlace %d not "
                             "decoded here" % (path, depth, ctype, lace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows, i = [], 0
    for _ in range(h):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            cc = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 0xff
            elif ft == 2:
                line[x] = (line[x] + b) & 0xff
            elif ft == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 0xff
            elif ft == 4:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else cc
                line[x] = (line[x] + pr) & 0xff
        rows.append(line)
        prev = line
    return w, h, rows, bpp


def colour_counts(rows, bpp, colours):
    counts = dict.fromkeys(colours, 0)
    white = 0
    for line in rows:
        for x in range(0, len(line), bpp):
            px = (line[x], line[x + 1], line[x + 2])
            if px in counts:
                counts[px] += 1
            elif px == (255, 255, 255):
                white += 1
    return counts, white


def check_html(c, ctx, s, want_stuck_marks, verdict):
    """report.html: self-contained, and Chromium renders the plot."""
    html = read(os.path.join(s.out, "report.html"))
    c.true("%s: report.html verdict is not %r" % (s.name, verdict),
           'id="verdict">%s<' % verdict in html)
    c.true("%s: report.html refers to other files" % s.name,
           not re.search(r"<(script|link|img)\b|\bsrc=|url\(", html))
    c.eq("%s: report.html plotted pools" % s.name,
         html.count('<polyline class="pool"'), 1)
    c.eq("%s: report.html stuck marks" % s.name,
         html.count('<g class="stuck">') > 0, want_stuck_marks)
    # The mean rates are soak.json's (printed to 2 decimals there).
    r = s.result()
    m = re.search(r"generator ([0-9.]+) Mpps, DUT ([0-9.]+) Mpps \(after "
                  r"the warm-up\)", html)
    c.true("%s: report.html mean rates %s are not soak.json's %s, %s" %
           (s.name, m and m.groups(), r.get("gen_mpps_mean"),
            r.get("dut_mpps_mean")),
           m and all(abs(float(m.group(i + 1)) - (r.get(k) or -1)) <= 0.006
                     for i, k in enumerate(("gen_mpps_mean",
                                            "dut_mpps_mean"))))
    chromium = shutil.which("chromium")
    if not c.true("%s: no chromium (./run test installs it)" % s.name,
                  chromium):
        return
    shot = os.path.join(s.out, "report.png")
    prof = os.path.join(ctx.tmp, "chromium-profile")
    p = subprocess.run([chromium, "--headless", "--no-sandbox",
                        "--disable-gpu", "--hide-scrollbars",
                        "--user-data-dir=" + prof,
                        "--window-size=%d,%d" % (SHOT_W, SHOT_H),
                        "--screenshot=" + shot,
                        "file://" + os.path.join(s.out, "report.html")],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True,
                       timeout=120)
    if not c.true("%s: chromium made no screenshot (exit %d): %s" %
                  (s.name, p.returncode, p.stdout[-500:]),
                  os.path.isfile(shot)):
        return
    w, h, rows, bpp = png_pixels(shot)
    c.eq("%s: screenshot size" % s.name, (w, h), (SHOT_W, SHOT_H))
    counts, white = colour_counts(rows, bpp, [POOL_RGB, STUCK_RGB])
    c.true("%s: screenshot is blank (%d of %d pixels white)" %
           (s.name, white, w * h), white < w * h * 0.98)
    c.true("%s: screenshot has %d pixels of the pool's line colour, "
           "expected at least %d" % (s.name, counts[POOL_RGB],
                                     MIN_LINE_PIXELS),
           counts[POOL_RGB] >= MIN_LINE_PIXELS)
    if want_stuck_marks:
        c.true("%s: screenshot has %d pixels of the stuck marks' colour, "
               "expected at least %d" % (s.name, counts[STUCK_RGB],
                                         MIN_MARK_PIXELS),
               counts[STUCK_RGB] >= MIN_MARK_PIXELS)


def leftovers(prefixes, sock):
    """What a soak must not leave: runtime directories, hugepage files,
    the link socket, processes."""
    left = []
    for pr in prefixes:
        for base in ("/var/run/dpdk", "/tmp/dpdk"):
            if os.path.exists(os.path.join(base, pr)):
                left.append(os.path.join(base, pr))
        if os.path.isdir("/dev/hugepages"):
            left += ["/dev/hugepages/" + f for f in
                     os.listdir("/dev/hugepages") if f.startswith(pr)]
    if sock and os.path.exists(sock):
        left.append(sock)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        cmd = read("/proc/%s/cmdline" % pid).replace("\0", " ")
        if any("--file-prefix " + pr in cmd for pr in prefixes):
            left.append("process %s: %s" % (pid, cmd[:120]))
    return left


def check_nothing_left(c, s, started=True):
    r = s.result()
    prefixes = [x["prefix"] for x in (r["dut"], r["generator"])
                if x.get("command")]
    sock = "/tmp/mpaudit-soak-%d.sock" % s.p.pid
    if started:
        c.eq("%s: prefixes of the started processes" % s.name,
             len(prefixes), 2)
    c.eq("%s: left behind" % s.name, leftovers(prefixes, sock), [])


def truth_of(text):
    out = []
    for line in text.splitlines():
        m = TRUTH_RE.match(line)
        if m:
            out.append(m.groupdict())
    return out


def dash_int(v):
    return None if v == "-" else int(v)


def check_holder(c, s, r, truth, min_first_s=FWD_STUCK_MS / 1000.0):
    """The one holder named, exactly as the DUT's ground truth says."""
    c.eq("%s: truth lines" % s.name, [t["kind"] for t in truth],
         ["rx_leak"])
    hs = r.get("holders", [])
    c.eq("%s: holders" % s.name, len(hs), 1)
    if not truth or not hs:
        return
    t, h = truth[0], hs[0]
    c.eq("%s: holder" % s.name,
         (h["pool"], h["state"], h["lcore"], h["port"], h["queue"],
          h["ring"], h["site"]),
         (t["pool"], t["state"], dash_int(t["lcore"]), dash_int(t["port"]),
          dash_int(t["queue"]), None, t["site"]))
    # Leaked from the start, stuck once older than the threshold (when
    # the soak started the DUT).
    c.true("%s: holder first seen at %s s, not within %s..%s s" %
           (s.name, h["first_seen_s"], min_first_s, SOAK_S),
           min_first_s <= h["first_seen_s"] <= SOAK_S)
    line = "soak: holder %d stuck in %s: state rx lcore %s port %s " \
        "queue %s at %s" % (h["count"], t["pool"], t["lcore"], t["port"],
                            t["queue"], t["site"])
    c.true("%s: stderr does not name the holder (%r)" % (s.name, line),
           line in s.stderr())


def check_rate(c, s, r):
    p = r["pools"][0] if r.get("pools") else {}
    rate = p.get("rate_per_s")
    c.true("%s: forecast %r objects/s, injected %d (within %d%%)" %
           (s.name, rate, LEAK_RATE, RATE_TOLERANCE * 100),
           rate is not None and
           abs(rate - LEAK_RATE) <= RATE_TOLERANCE * LEAK_RATE)
    c.eq("%s: pool verdict failed" % s.name, p.get("failed"), True)


def check_result(c, s, verdict, status, exit_code, failed):
    r = s.result()
    c.eq("%s: verdict" % s.name, r.get("verdict"), verdict)
    c.eq("%s: status" % s.name, r.get("status"), status)
    c.eq("%s: exit_code" % s.name, r.get("exit_code"), exit_code)
    c.eq("%s: failed checks" % s.name, r.get("failed"), failed)
    return r


def soak_args(*extra):
    return ["--duration", str(SOAK_S), "--warmup", str(WARMUP_S)] + \
        list(extra)


NO_FAIL = {"trend": False, "stuck": False, "errors": False, "heap": False}
LEAK_FAIL = {"trend": True, "stuck": True, "errors": False, "heap": False}


def check_clean_soak(ctx, c, s):
    rc = s.wait(SOAK_S + SOAK_SLACK_S)
    c.eq("%s: exit status (stderr %r)" % (s.name, s.stderr()[-800:]), rc, 0)
    check_files(c, s, OUT_FILES + ["report.json"])
    r = check_result(c, s, "pass", "completed", 0, NO_FAIL)
    c.eq("%s: samples" % s.name, r.get("samples"), SAMPLES)
    c.eq("%s: holders" % s.name, r.get("holders"), [])
    c.eq("%s: reasons" % s.name, r.get("reasons"), [])
    c.eq("%s: final report exit_code" % s.name,
         load_json(os.path.join(s.out, "report.json"))["summary"]
         ["exit_code"], 0)
    check_csv(c, s, SAMPLES)
    check_samples_json(c, s, SAMPLES, "completed")
    check_junit(c, s, 0, 0, {})
    c.eq("%s: progress lines" % s.name, len(s.progress()), SAMPLES)
    c.true("%s: no 'soak: pass (exit 0)' line" % s.name,
           "soak: pass (exit 0) after " in s.stderr())
    check_nothing_left(c, s)
    return r


# ---- tests ----------------------------------------------------------------

def t_soak_testpmd(ctx, c):
    """The default rig: mpaudit-fwd (clean) fed by testpmd txonly over
    memif passes, and its report.html renders with the plot."""
    s = Soak(ctx, "soak_testpmd", soak_args())
    r = check_clean_soak(ctx, c, s)
    c.true("%s: generator is not testpmd: %s" % (s.name, r["generator"]),
           (r["generator"].get("command") or "").startswith("dpdk-testpmd "))
    check_html(c, ctx, s, False, "pass")


def pktgen_bin(ctx):
    """Build Pktgen-DPDK once into the build tree; None when there is no
    tarball (skip)."""
    if not ctx.tarball or not os.path.isfile(ctx.tarball):
        return None
    os.makedirs(ctx.pktgen_dir, exist_ok=True)
    with open(os.path.join(ctx.pktgen_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        names = subprocess.run(["tar", "-tJf", ctx.tarball],
                               stdout=subprocess.PIPE, check=True,
                               universal_newlines=True).stdout.split()
        src = os.path.join(ctx.pktgen_dir, names[0].split("/")[0])
        exe = os.path.join(src, PKTGEN_BIN)
        if os.access(exe, os.X_OK):
            return exe
        print("mpa_soak_it: building Pktgen-DPDK from %s in %s" %
              (ctx.tarball, src))
        sys.stdout.flush()
        shutil.rmtree(src, ignore_errors=True)
        steps = [["tar", "-xJf", ctx.tarball, "-C", ctx.pktgen_dir],
                 ["meson", "setup", "build"], ["ninja", "-C", "build"]]
        log = os.path.join(ctx.pktgen_dir, "build.log")
        with open(log, "w") as lf:
            for i, st in enumerate(steps):
                p = subprocess.run(st, cwd=ctx.pktgen_dir if i == 0 else src,
                                   stdout=lf, stderr=subprocess.STDOUT,
                                   timeout=PKTGEN_BUILD_TIMEOUT_S)
                if p.returncode != 0:
                    raise Failed("building Pktgen-DPDK: %s failed (exit %d); "
                                 "log: %s" % (" ".join(st), p.returncode,
                                              log))
        if not os.access(exe, os.X_OK):
            raise Failed("building Pktgen-DPDK left no %s" % exe)
        return exe


def t_soak_pktgen(ctx, c):
    """mpaudit-fwd (clean) fed by Pktgen-DPDK over vhost-user/virtio_user
    passes."""
    exe = pktgen_bin(ctx)
    if exe is None:
        print("mpa_soak_it: SKIP soak_pktgen: no Pktgen-DPDK source tarball "
              "at %s (the vendor tarball, see the issue)" % ctx.tarball)
        raise SystemExit(SKIP)
    s = Soak(ctx, "soak_pktgen", soak_args("--pktgen", "--pktgen-bin", exe))
    r = check_clean_soak(ctx, c, s)
    c.true("%s: generator is not Pktgen: %s" % (s.name, r["generator"]),
           exe in (r["generator"].get("command") or ""))
    c.true("%s: DUT is not on net_vhost" % s.name,
           "net_vhost0,iface=" in (r["dut"].get("command") or ""))
    check_files(c, s, ["pktgen.cmd"])


def check_leak_soak(ctx, c, s, status="completed"):
    r = check_result(c, s, "fail", status, 3, LEAK_FAIL)
    check_rate(c, s, r)
    return r


def t_soak_leak(ctx, c):
    """A DUT leaking LEAK_RATE mbufs/s fails, names the leak site as the
    DUT's ground truth says, and forecasts the rate within 10%."""
    s = Soak(ctx, "soak_leak", soak_args("--dut-args", LEAK_ARGS, "--json"))
    rc = s.wait(SOAK_S + SOAK_SLACK_S)
    c.eq("%s: exit status (stderr %r)" % (s.name, s.stderr()[-800:]), rc, 3)
    check_files(c, s, OUT_FILES + ["report.json"])
    r = check_leak_soak(ctx, c, s)
    try:
        c.eq("%s: --json output is soak.json" % s.name,
             json.loads(s.stdout()), r)
    except ValueError as e:
        c.errors.append("%s: --json output is not JSON: %s" % (s.name, e))
    c.eq("%s: samples" % s.name, r.get("samples"), SAMPLES)
    truth = truth_of(read(os.path.join(s.out, "dut.log")))
    check_holder(c, s, r, truth)
    rep = load_json(os.path.join(s.out, "report.json"))
    c.eq("%s: final report exit_code" % s.name, rep["summary"]["exit_code"],
         3)
    rows = check_csv(c, s, SAMPLES)
    if rows:
        c.true("%s: in use did not grow: %s -> %s" %
               (s.name, rows[0][3], rows[-1][3]),
               int(rows[-1][3]) - int(rows[0][3]) >=
               LEAK_RATE * (SOAK_S - FWD_STUCK_MS / 1000.0))
    check_samples_json(c, s, SAMPLES, "completed")
    check_junit(c, s, 2, 0, {"pool %s in-use trend" % FWD_POOL: "failure",
                             "no stuck objects": "failure"})
    check_nothing_left(c, s)
    check_html(c, ctx, s, True, "fail")


def t_soak_attach(ctx, c):
    """--attach to a DUT started separately (leaking as in soak_leak),
    with a separately started testpmd named by --gen-prefix: the same
    verdict, and the DUT keeps running."""
    name = "soak_attach"
    dut_prefix = "mpa-soak-it-%d-dut" % os.getpid()
    gen_prefix = "mpa-soak-it-%d-gen" % os.getpid()
    ctx.prefixes += [dut_prefix, gen_prefix]
    sock = os.path.join(ctx.tmp, "attach.sock")
    report = os.path.join(ctx.tmp, "attach-report.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MPAUDIT_")}
    env.update({"MPAUDIT_REPORT": report, "MPAUDIT_SCAN_MS": "250"})
    dut_log = open(os.path.join(ctx.tmp, "attach-dut.log"), "w+")
    gen_log = open(os.path.join(ctx.tmp, "attach-gen.log"), "w+")
    dut = subprocess.Popen(
        [ctx.fwd, "--file-prefix", dut_prefix] + ctx.mem() +
        ["--no-pci", "--lcores", LCORES_DUT,
         "--vdev", "net_memif0,role=server,socket=" + sock,
         "--vdev", "net_null0,no-rx=1", "--", "--stats-ms", "0"] +
        LEAK_ARGS.split(), env=env, stdin=subprocess.DEVNULL,
        stdout=dut_log, stderr=subprocess.STDOUT)
    ctx.procs.append(dut)
    tele = os.path.join("/var/run/dpdk", dut_prefix, "dpdk_telemetry.v2")
    deadline = time.monotonic() + 60
    while not os.path.exists(tele) and dut.poll() is None and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    gen = subprocess.Popen(
        ["dpdk-testpmd", "--file-prefix", gen_prefix] + ctx.mem() +
        ["--no-pci", "--lcores", LCORES_GEN,
         "--vdev", "net_memif0,role=client,socket=" + sock, "--",
         "--forward-mode=txonly", "--auto-start",
         "--total-num-mbufs=8192"], stdin=subprocess.PIPE,
        stdout=gen_log, stderr=subprocess.STDOUT)
    ctx.procs.append(gen)
    s = Soak(ctx, name, soak_args("--attach", dut_prefix, "--gen-prefix",
                                  gen_prefix))
    rc = s.wait(SOAK_S + SOAK_SLACK_S)
    c.true("%s: the DUT did not keep running" % name, dut.poll() is None)
    # The DUT first, as the soak's own rig: net_memif may crash the side
    # still polling when its peer disconnects (docs/soak.md, "Stop").
    dut.send_signal(signal.SIGINT)
    dut_rc = dut.wait(60)
    gen.send_signal(signal.SIGINT)
    gen.wait(30)
    c.eq("%s: exit status (stderr %r)" % (name, s.stderr()[-800:]), rc, 3)
    c.eq("%s: DUT exit status" % name, dut_rc, 3)
    check_files(c, s, ["samples.csv", "samples.json", "report.html",
                       "junit.xml", "soak.json", "report.json"])
    r = check_leak_soak(ctx, c, s)
    c.eq("%s: samples" % name, r.get("samples"), SAMPLES)
    c.eq("%s: DUT of the result" % name, r["dut"],
         {"prefix": dut_prefix, "command": None, "log": None, "exit": None})
    dut_log.flush()
    check_holder(c, s, r, truth_of(read(dut_log.name)), 0)
    mpps = [x["gen_mpps"] for x in
            load_json(os.path.join(s.out, "samples.json"))["samples"]]
    c.true("%s: the generator's rate was not read: %r" % (name, mpps[:5]),
           any((v or 0) > 0 for v in mpps))
    c.eq("%s: the copied report's exit_code" % name,
         load_json(os.path.join(s.out, "report.json"))["summary"]
         ["exit_code"], 3)
    check_junit(c, s, 2, 0, {"pool %s in-use trend" % FWD_POOL: "failure",
                             "no stuck objects": "failure"})


def generator_pid(s):
    """The pid of the soak's generator (its --file-prefix)."""
    want = "--file-prefix mpaudit-soak-%d-gen " % s.p.pid
    for pid in os.listdir("/proc"):
        if pid.isdigit() and \
                want in read("/proc/%s/cmdline" % pid).replace("\0", " ") \
                and read("/proc/%s/comm" % pid).startswith("dpdk-testpmd"):
            return int(pid)
    raise Failed("%s: no generator process with %r" % (s.name, want))


def t_soak_kill_gen(ctx, c):
    """The generator killed mid-run: a clear error (exit 1), a partial
    report, nothing left behind, and no hang."""
    s = Soak(ctx, "soak_kill_gen", ["--duration", "600", "--warmup",
                                    str(WARMUP_S)])
    s.wait_progress(EARLY_T_S, 120)
    gpid = generator_pid(s)
    os.kill(gpid, signal.SIGKILL)
    c.eq("%s: exit status" % s.name, s.wait(SOAK_SLACK_S), 1)
    err = s.stderr()
    want = "mpaudit: soak: the generator (pid %d) was killed by signal 9 " \
        "(Killed) after " % gpid
    c.true("%s: stderr does not say %r: %r" % (s.name, want, err[-600:]),
           want in err)
    check_files(c, s, OUT_FILES)
    r = check_result(c, s, "error", "generator_died", 1, NO_FAIL)
    c.true("%s: error %r" % (s.name, r.get("error")),
           (r.get("error") or "").startswith(want[len("mpaudit: soak: "):]))
    n = r.get("samples", 0)
    c.true("%s: %d samples: not partial" % (s.name, n),
           EARLY_T_S + 1 <= n < 600)
    check_csv(c, s, n)
    check_samples_json(c, s, n, "generator_died")
    check_junit(c, s, 0, 1, {"soak run": "error"})
    html = read(os.path.join(s.out, "report.html"))
    c.true("%s: report.html does not say the error" % s.name,
           'id="error">the generator (pid %d) was killed' % gpid in html)
    check_nothing_left(c, s)


def check_interrupted(c, s, min_samples):
    """A soak stopped by a signal mid-run: exit 1, every file, the run
    marked interrupted with at least @min_samples samples kept, a clean
    DUT that exited 0."""
    c.eq("%s: exit status" % s.name, s.wait(SOAK_SLACK_S), 1)
    check_files(c, s, OUT_FILES + ["report.json"])
    r = check_result(c, s, "interrupted", "interrupted", 1, NO_FAIL)
    c.true("%s: error %r" % (s.name, r.get("error")),
           (r.get("error") or "").startswith("interrupted after "))
    n = r.get("samples", 0)
    c.true("%s: %d samples" % (s.name, n), min_samples <= n < 600)
    check_csv(c, s, n)
    check_samples_json(c, s, n, "interrupted")
    check_junit(c, s, 0, 1, {"soak run": "error"})
    c.eq("%s: DUT exit" % s.name, r["dut"].get("exit_status"), 0)


def t_soak_sigint(ctx, c):
    """SIGINT mid-run: both processes stopped, the samples kept, the
    report marked interrupted (exit 1: a clean DUT, but no verdict)."""
    s = Soak(ctx, "soak_sigint", ["--duration", "600", "--warmup",
                                  str(WARMUP_S)])
    s.wait_progress(EARLY_T_S, 120)
    s.p.send_signal(signal.SIGINT)
    check_interrupted(c, s, EARLY_T_S + 1)
    c.eq("%s: final report exit_code" % s.name,
         load_json(os.path.join(s.out, "report.json"))["summary"]
         ["exit_code"], 0)
    html = read(os.path.join(s.out, "report.html"))
    c.true("%s: report.html is not marked interrupted" % s.name,
           'id="verdict">interrupted<' in html)
    check_nothing_left(c, s)


def t_soak_hangup(ctx, c):
    """The terminal goes mid-run (`mpaudit soak ... 2>&1 | tee log` over
    ssh): the reader of stderr dies, then SIGHUP. Both processes run in
    process groups of their own, out of the hangup's reach, so the soak
    must stop them itself: exit 1, the run marked interrupted, the
    samples kept, nothing left behind."""
    s = Soak(ctx, "soak_hangup", ["--duration", "600", "--warmup",
                                  str(WARMUP_S)], pipe_stderr=True)
    s.pipe_until(EARLY_T_S)
    s.p.stderr.close()
    # Progress lines (one per second) now go to a closed pipe: none may
    # kill it.
    deadline = time.monotonic() + PIPE_CLOSED_S
    while time.monotonic() < deadline and s.p.poll() is None:
        time.sleep(0.05)
    c.eq("%s: exit status with stderr closed" % s.name, s.p.poll(), None)
    s.p.send_signal(signal.SIGHUP)
    check_interrupted(c, s, EARLY_T_S + PIPE_CLOSED_S)
    check_nothing_left(c, s)


TESTS = {
    "soak_testpmd": t_soak_testpmd,
    "soak_pktgen": t_soak_pktgen,
    "soak_leak": t_soak_leak,
    "soak_attach": t_soak_attach,
    "soak_kill_gen": t_soak_kill_gen,
    "soak_sigint": t_soak_sigint,
    "soak_hangup": t_soak_hangup,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("--cli", required=True, help="mpaudit")
    ap.add_argument("--fwd", required=True, help="instrumented mpaudit-fwd")
    ap.add_argument("--pktgen-tarball", help="Pktgen-DPDK source tarball")
    ap.add_argument("--pktgen-dir", help="where to build Pktgen-DPDK")
    args = ap.parse_args()
    args.pktgen_tarball = os.environ.get("MPA_PKTGEN_TARBALL") or \
        args.pktgen_tarball
    for exe in (args.cli, args.fwd):
        if not os.access(exe, os.X_OK):
            print("mpa_soak_it: %s is not an executable" % exe,
                  file=sys.stderr)
            return 1
    print("mpa_soak_it: %s, EAL memory: %s" % (args.test, " ".join(
        os.environ.get("MPA_EAL_MEM", "").split() or
        DEFAULT_EAL_MEM.split())))
    return run_case("mpa_soak_it", args.test, TESTS[args.test], SCtx(args))


if __name__ == "__main__":
    sys.exit(main())
