#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""mpaudit benchmarks, run by `./run bench`.

Measures, side by side in one run and with alternating run order so that
drift in the machine hits both variants alike:

  a. forwarding, in Mpps, one table: mpaudit-fwd-plain vs mpaudit-fwd
     (instrumented) on two net_null ports as a zero-work io forwarder
     (section fwd), as a MAC-swap forwarder (macswap) and as a pipeline
     RX lcore -> ring of 4096 -> TX lcore (pipeline); unmodified
     dpdk-testpmd plain vs LD_PRELOAD=libmpaudit_preload.so in io
     (testpmd) and macswap (testpmd_macswap) forwarding;
  b. the scanner at 16384 and 262144 mbufs: cost per object and per scan
     (from the JSON report's `scanner` object) and the forwarding ratio with
     the scanner on (MPAUDIT_SCAN_MS=1000) vs off (MPAUDIT_SCAN_MS=0);
  e. the mbuf free path: freebench plain vs built with the override header
     (stamps and the double-free check), ns per mbuf allocated and freed;
  h. per-object history: the forwarder (io and pipeline rows of a.) plain,
     audited, and audited with MPAUDIT_HISTORY=4 (section history);
  i. interleaved: the mpaudit-fwd rows of a. measured inside one process,
     `mpaudit-fwd --ab-ms 100` switching its stamps off and on every
     100 ms (section ab), so both variants share every moment of the host;
  d. heap tracking: heapbench (tests/bench/heapbench.c), ns per
     allocation + free pair, plain vs under the preload with MPAUDIT_HEAP=all
     (default stack depth, and depth 1 single-threaded), for rte_malloc and
     libc malloc, one and two concurrently allocating lcores;

each with the EAL memory arguments chosen by ./run (MPA_EAL_MEM, hugepages
if available) and with --no-huge. Medians of BENCH_RUNS runs (default 5) of
BENCH_SECS seconds (default 5); section d runs a fixed number of pairs
instead (BENCH_HEAP_OPS overrides it). Benchmarks print numbers; they never
fail on timing. A run that fails is reported with its stderr tail and
skipped.

The table is printed and written to build/bench-results.txt.
`bench.py --only heap` (or a comma list of the SECTIONS below)
runs only those sections and appends its table to that file instead of
replacing it. `bench.py --self-test` checks the parsing without running
DPDK.
"""

import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("MPA_BUILD_DIR", os.path.join(ROOT, "build"))
FWD = os.environ.get("BENCH_FWD",
                     os.path.join(BUILD, "apps", "mpaudit-fwd", "mpaudit-fwd"))
FWD_PLAIN = os.environ.get("BENCH_FWD_PLAIN", FWD + "-plain")
RESULTS = os.path.join(BUILD, "bench-results.txt")
PRELOAD = os.environ.get("BENCH_PRELOAD",
                         os.path.join(BUILD, "audit", "libmpaudit_preload.so"))
# Set, the "plain" testpmd runs preload this library instead of none:
# two builds of the preload side by side (docs/performance.md).
PRELOAD_PLAIN = os.environ.get("BENCH_PRELOAD_PLAIN", "")
HEAPBENCH = os.environ.get("BENCH_HEAPBENCH",
                           os.path.join(BUILD, "tests", "bench", "heapbench"))
FREEBENCH = os.path.join(BUILD, "tests", "bench", "freebench")
FREEBENCH_AUDITED = FREEBENCH + "-audited"
FREEBENCH_RE = re.compile(r"^freebench: case=(\S+) ns_per_mbuf=([0-9.]+) "
                          r"min_ns=([0-9.]+)$", re.M)
FREE_CASES = ("bulk", "single")
TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
# testpmd's total over all ports, printed when it stops forwarding.
TESTPMD_TOTAL_RE = re.compile(
    r"Accumulated forward statistics for all ports\+*\s*\n"
    r"\s*RX-packets:\s*(\d+).*\n\s*TX-packets:\s*(\d+)")

DEFAULT_RUNS = 5
DEFAULT_SECS = 5
DEFAULT_MBUFS = (16384, 262144)
NOHUGE_EAL_MEM = "--no-huge -m 512"
# Without hugepages a 2304-byte mbuf takes a 4096-byte stride; the rest of
# the EAL and the app fit in the extra. 262144 mbufs -> -m 1400.
NOHUGE_STRIDE_BYTES = 4096
NOHUGE_EXTRA_MB = 376
# Start-up (EAL init, pool population) and exit (final scan, report) time
# allowed beyond the run's duration before it is declared hung.
RUN_TIMEOUT_EXTRA_S = 120
STDERR_TAIL_LINES = 15
SCAN_PERIOD_NS = 1e9    # the 1 s scan period the CPU share refers to

LCORES_2 = "0@0,1@1"
# The pipeline's three lcores on two CPUs: the main lcore (which sleeps
# but for a progress check every 100 ms) and the auditor's control thread
# share CPU 0 with the RX lcore; the TX lcore (the worker) has CPU 1 to
# itself. RX and worker then run truly in parallel, and every mbuf line
# crosses from one core to the other, as in a real pipeline.
LCORES_PIPELINE = "0@0,1@0,2@1"
# Pipeline pool: fwd_pipe holds up to 4095 mbufs, each lcore cache up to
# 1.5 x 256 and each lcore a burst; 16383 leaves the pool's ring over
# 11000 so RX never starves, and an mbuf cycles through all of them
# (the pool's ring is FIFO), so it comes back to a core after some
# 16000 others: 16000 x 3 lines (header with the stamp, the mbuf's two)
# is 3 MiB, beyond the 1 MiB L2 of a core here. What sits in fwd_pipe
# alone (4095 x 3 lines, 768 KiB) was last written by the other core.
PIPELINE_MBUFS = 16383
EAL_DEVS = ["--no-pci", "--vdev", "net_null0", "--vdev", "net_null1"]
EAL_COMMON = EAL_DEVS[:1] + ["--lcores", LCORES_2] + EAL_DEVS[1:]
FWD_RE = re.compile(r"mpaudit-fwd: forwarded (\d+) packets in ([0-9.]+) s "
                    r"\(([0-9.]+) Mpps\)")
SCANNER_FIELDS = ("scans", "objects", "total_ns", "max_ns", "last_ns")

# Section a: (section, row label, binary ("fwd" or "testpmd"), app
# arguments, lcores, nb_mbufs for the no-huge memory size, target ratio).
WORKLOADS = (
    ("fwd", "io", "fwd", (), LCORES_2, None, 0.97),
    ("macswap", "macswap", "fwd", ("--macswap",), LCORES_2, None, 0.99),
    ("pipeline", "pipeline", "fwd",
     ("--pipeline", "--nb-mbufs", str(PIPELINE_MBUFS)), LCORES_PIPELINE,
     PIPELINE_MBUFS, 0.99),
    ("testpmd", "testpmd io", "testpmd", ("--forward-mode=io",), LCORES_2,
     None, 0.97),
    ("testpmd_macswap", "testpmd macswap", "testpmd",
     ("--forward-mode=macswap",), LCORES_2, None, 0.97),
)
FWD_SECTIONS = tuple(w[0] for w in WORKLOADS)

SECTIONS = FWD_SECTIONS + ("ab", "scanner", "history", "heap", "free")

# Section i: phase length of mpaudit-fwd --ab-ms, and its result line.
AB_MS = 100
AB_RE = re.compile(r"mpaudit-fwd: ab phases=(\d+) pairs=(\d+) "
                   r"on=([0-9.]+) Mpps off=([0-9.]+) Mpps "
                   r"ratio=([0-9.]+) pair_median=([0-9.]+)"
                   r"(?: rx_on=[0-9.]+ rx_off=[0-9.]+ "
                   r"drop_on=([0-9.]+) drop_off=([0-9.]+))?")

# Section h: the stamps that fit in the header pad, all of them; on the
# zero-work io forwarder (one stamp per packet) and the pipeline (three:
# rx, ring enqueue and dequeue, the tx left out on net_null).
HISTORY_K = 4
HISTORY_WORKLOADS = ("fwd", "pipeline")

# Section d. Pairs per thread and timed loop: ~10-50 ms untracked, long
# enough for the clock. heapbench repeats each loop HEAP_REPS times and
# prints the median, so that a preemption on this shared machine does not
# decide a run; a run (EAL init included) still takes under a second or
# so, and the section about a minute.
HEAP_KINDS = ("rte", "libc")
HEAP_THREADS = (1, 2)
HEAP_OPS = {"rte": 100000, "libc": 1000000}
HEAP_REPS = 5
HEAP_CASES = ("window", "pair")
HEAP_SIZE = 256
HEAP_DEFAULT_DEPTH = 16      # MPAUDIT_HEAP_DEPTH unset
# tracked ns / plain ns, per kind (issue 11: libc <= 3x, rte_malloc <= 2x)
HEAP_TARGET_RATIO = {"rte": 2.0, "libc": 3.0}
HEAP_EAL = ["--no-pci", "--lcores", "0@0,1@1"]
HEAPBENCH_RE = re.compile(r"^heapbench: (.*)$", re.M)

_prefix_seq = 0


def eal_runtime_dir(prefix):
    """Where the EAL keeps its runtime files for --file-prefix prefix."""
    if os.geteuid() == 0:
        base = "/var/run"
    else:
        base = os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


def parse_mpps(text):
    """Mpps from the app's `forwarded P packets in S s (X Mpps)` line.

    The rate is recomputed from packets and seconds when both are usable
    (more digits than the printed Mpps); None if the line is absent.
    """
    m = None
    for m in FWD_RE.finditer(text):
        pass
    if m is None:
        return None
    pkts, secs, mpps = int(m.group(1)), float(m.group(2)), float(m.group(3))
    if secs > 0:
        return pkts / secs / 1e6
    return mpps


def parse_scanner(path):
    """The report's `scanner` object with integer fields, or raise ValueError."""
    with open(path) as f:
        report = json.load(f)
    sc = report.get("scanner") if isinstance(report, dict) else None
    if not isinstance(sc, dict):
        raise ValueError("no 'scanner' object in %s" % path)
    out = {}
    for k in SCANNER_FIELDS:
        v = sc.get(k)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError("scanner.%s is %r in %s" % (k, v, path))
        out[k] = v
    return out


def eal_mem_for(mem, nb_mbufs=None):
    """EAL memory arguments (list) for a run with nb_mbufs mbufs.

    With --no-huge, -m is raised to fit the pool at a 4 KiB stride.
    """
    args = shlex.split(mem)
    if "--no-huge" not in args or not nb_mbufs:
        return args
    need = nb_mbufs * NOHUGE_STRIDE_BYTES // (1 << 20) + NOHUGE_EXTRA_MB
    if "-m" in args:
        i = args.index("-m")
        if i + 1 < len(args) and args[i + 1].isdigit():
            if int(args[i + 1]) < need:
                args[i + 1] = str(need)
            return args
        del args[i:i + 2]
    return args + ["-m", str(need)]


def median(xs):
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(v, spec, width):
    return (spec % v if v is not None else "n/a").rjust(width)


def fmt_ns(ns, width):
    if ns is None:
        return "n/a".rjust(width)
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= div:
            return ("%.1f %s" % (ns / div, unit)).rjust(width)
    return ("%.0f ns" % ns).rjust(width)


def env_int(name, default):
    v = os.environ.get(name, "")
    if v == "":
        return default
    if not v.isdigit() or int(v) < 1:
        sys.exit("bench: %s must be a positive integer, not %r" % (name, v))
    return int(v)


def env_mbufs():
    v = os.environ.get("BENCH_MBUFS", "")
    if v == "":
        return DEFAULT_MBUFS
    try:
        sizes = tuple(int(x) for x in v.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        sys.exit("bench: BENCH_MBUFS must be a list like 16384,262144, "
                 "not %r" % v)
    return sizes


class Runner:
    """Runs the forwarder and reports failures without stopping."""

    def __init__(self, secs):
        self.secs = secs
        self.failures = 0
        self.notes = []

    def run(self, what, binary, mem, env_extra=None, app_extra=(),
            ok_status=(0,), report=None, lcores=LCORES_2):
        """One forwarder run; returns (Mpps, scanner dict or None) or None."""
        global _prefix_seq
        _prefix_seq += 1
        prefix = "mpa-bench-%d-%d" % (os.getpid(), _prefix_seq)
        cmd = ([binary] + EAL_DEVS[:1] + ["--lcores", lcores] +
               EAL_DEVS[1:] + mem + ["--file-prefix", prefix] +
               ["--", "--duration", str(self.secs), "--stats-ms", "0"] +
               list(app_extra))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("MPAUDIT_")}
        env.update(env_extra or {})
        if report:
            env["MPAUDIT_REPORT"] = report
            if os.path.exists(report):
                os.unlink(report)
        try:
            p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=self.secs + RUN_TIMEOUT_EXTRA_S,
                               universal_newlines=True, errors="replace")
        except subprocess.TimeoutExpired as e:
            err = e.stderr or ""
            if isinstance(err, bytes):
                err = err.decode(errors="replace")
            return self.fail(what, cmd, "timed out", err)
        except OSError as e:
            return self.fail(what, cmd, str(e), "")
        finally:
            shutil.rmtree(eal_runtime_dir(prefix), ignore_errors=True)

        if p.returncode not in ok_status:
            return self.fail(what, cmd, "exit status %d" % p.returncode,
                             p.stderr, p.stdout)
        if p.returncode != 0:
            note = "%s: exit status %d (audit found something)" % (
                what.split(" run ")[0], p.returncode)
            if note not in self.notes:
                self.notes.append(note)
        self.last_out = p.stdout
        mpps = parse_mpps(p.stdout + "\n" + p.stderr)
        if mpps is None:
            return self.fail(what, cmd, "no 'forwarded ... Mpps' line",
                             p.stderr, p.stdout)
        scanner = None
        if report:
            try:
                scanner = parse_scanner(report)
            except (OSError, ValueError) as e:
                return self.fail(what, cmd, "report: %s" % e, p.stderr)
        return mpps, scanner

    def fail(self, what, cmd, why, stderr, stdout=""):
        self.failures += 1
        print("  %s FAILED: %s" % (what, why), flush=True)
        print("    command: %s" % " ".join(shlex.quote(c) for c in cmd))
        tail = (stderr or stdout or "").rstrip().splitlines()
        for line in tail[-STDERR_TAIL_LINES:]:
            print("    | " + line)
        sys.stdout.flush()
        return None


def run_testpmd(r, what, mem, preload, mode=("--forward-mode=io",)):
    """Unmodified testpmd forwarding (io unless @mode) between two net_null
    ports for r.secs seconds (it forwards from start-up, -a, until its stdin
    closes). Returns Mpps (TX packets of all ports / seconds) or None."""
    global _prefix_seq
    _prefix_seq += 1
    prefix = "mpa-bench-%d-%d" % (os.getpid(), _prefix_seq)
    app = list(mode) + ["-a", "--stats-period", "0"]
    if "--no-huge" in mem:
        app.append("--total-num-mbufs=16384")
    cmd = [TESTPMD] + EAL_COMMON + mem + ["--file-prefix", prefix, "--"] + app
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MPAUDIT_")}
    lib = PRELOAD if preload else PRELOAD_PLAIN
    if lib:
        env.update({"LD_PRELOAD": lib, "MPAUDIT_SUMMARY": "0"})
    try:
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, errors="replace")
        time.sleep(r.secs)
        out, _ = p.communicate(input="\n", timeout=RUN_TIMEOUT_EXTRA_S)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        return r.fail(what, cmd, "timed out", out)
    except OSError as e:
        return r.fail(what, cmd, str(e), "")
    finally:
        shutil.rmtree(eal_runtime_dir(prefix), ignore_errors=True)
    m = TESTPMD_TOTAL_RE.search(out)
    if p.returncode != 0 or m is None:
        return r.fail(what, cmd, "exit status %d, no accumulated statistics"
                      % p.returncode, out)
    return int(m.group(2)) / r.secs / 1e6


def bench_testpmd(r, label, mem, runs, wl):
    """(plain Mpps list, preloaded Mpps list) for unmodified testpmd."""
    args = shlex.split(mem)
    row = wl[1]

    def variant(name, preload):
        def fn(i):
            mpps = run_testpmd(r, "[%s] %s %s run %d" % (label, row, name,
                                                        i + 1),
                               args, preload, wl[3])
            if mpps is not None:
                progress(label, row + " " + name, i, runs, mpps)
            return mpps
        return fn

    res = alternate(runs, [("plain", variant("plain", False)),
                           ("preload", variant("preload", True))])
    return res["plain"], res["preload"]


def alternate(runs, variants):
    """Run each variant `runs` times, alternating the order (AB BA AB ...).

    variants: list of (name, fn) where fn(i) returns a result or None.
    Returns {name: [results]} with failed runs left out.
    """
    out = {name: [] for name, _ in variants}
    for i in range(runs):
        order = variants if i % 2 == 0 else list(reversed(variants))
        for name, fn in order:
            r = fn(i)
            if r is not None:
                out[name].append(r)
    return out


def progress(label, what, i, runs, mpps):
    print("  [%s] %s run %d/%d: %.2f Mpps" % (label, what, i + 1, runs, mpps),
          flush=True)


def bench_forwarding(r, label, mem, runs, wl=WORKLOADS[0]):
    """(plain Mpps list, audited Mpps list) of an mpaudit-fwd workload."""
    _, row, _, app, lcores, nb_mbufs, _ = wl
    args = eal_mem_for(mem, nb_mbufs)

    def plain(i):
        res = r.run("[%s] %s plain run %d" % (label, row, i + 1), FWD_PLAIN,
                    args, app_extra=app, lcores=lcores)
        if res:
            progress(label, row + " plain", i, runs, res[0])
            return res[0]
        return None

    def audited(i):
        res = r.run("[%s] %s audited run %d" % (label, row, i + 1), FWD,
                    args, env_extra={"MPAUDIT_SUMMARY": "0"},
                    ok_status=(0, 3), app_extra=app, lcores=lcores)
        if res:
            progress(label, row + " audited", i, runs, res[0])
            return res[0]
        return None

    res = alternate(runs, [("plain", plain), ("audited", audited)])
    return res["plain"], res["audited"]


def bench_history(r, label, mem, runs, wl):
    """{plain, audited, history: [Mpps]} of an mpaudit-fwd workload:
    plain, instrumented, instrumented with MPAUDIT_HISTORY=HISTORY_K."""
    _, row, _, app, lcores, nb_mbufs, _ = wl
    args = eal_mem_for(mem, nb_mbufs)

    def variant(name, binary, env):
        def fn(i):
            res = r.run("[%s] %s %s run %d" % (label, row, name, i + 1),
                        binary, args, env_extra=env, ok_status=(0, 3),
                        app_extra=app, lcores=lcores)
            if res:
                progress(label, row + " " + name, i, runs, res[0])
                return res[0]
            return None
        return fn

    return alternate(runs, [
        ("plain", variant("plain", FWD_PLAIN, None)),
        ("audited", variant("audited", FWD, {"MPAUDIT_SUMMARY": "0"})),
        ("history", variant("history K=%d" % HISTORY_K, FWD,
                            {"MPAUDIT_SUMMARY": "0",
                             "MPAUDIT_HISTORY": str(HISTORY_K)}))])


def parse_ab(text):
    """{phases, pairs, on, off, ratio, pair_median, drop_on, drop_off}
    from mpaudit-fwd's `ab` line (the drops: shares of the packets
    received in each kind of phase, None from a build without them), or
    None."""
    m = AB_RE.search(text or "")
    if m is None:
        return None
    drops = [None if g is None else float(g) for g in m.group(7, 8)]
    return {"phases": int(m.group(1)), "pairs": int(m.group(2)),
            "on": float(m.group(3)), "off": float(m.group(4)),
            "ratio": float(m.group(5)), "pair_median": float(m.group(6)),
            "drop_on": drops[0], "drop_off": drops[1]}


def bench_ab(r, label, mem, runs, wl):
    """parse_ab() dicts of `runs` interleaved runs of an mpaudit-fwd
    workload (failed runs and runs without pairs left out)."""
    _, row, _, app, lcores, nb_mbufs, _ = wl
    args = eal_mem_for(mem, nb_mbufs)
    out = []
    for i in range(runs):
        what = "[%s] %s interleaved run %d" % (label, row, i + 1)
        res = r.run(what, FWD, args, env_extra={"MPAUDIT_SUMMARY": "0"},
                    ok_status=(0, 3), app_extra=tuple(app) + (
                        "--ab-ms", str(AB_MS)), lcores=lcores)
        if not res:
            continue
        ab = parse_ab(r.last_out)
        if ab is None or ab["pairs"] == 0:
            r.fail(what, [FWD], "no 'ab' line with pairs", "", r.last_out)
            continue
        print("  [%s] %s interleaved run %d/%d: on %.2f, off %.2f Mpps, "
              "pair median %.4f, dropped on %s, off %s" % (
                  label, row, i + 1, runs, ab["on"], ab["off"],
                  ab["pair_median"], fmt(ab["drop_on"], "%.3f"),
                  fmt(ab["drop_off"], "%.3f")), flush=True)
        out.append(ab)
    return out


def ab_row(wl, label, res):
    """A row of section i: medians of the runs' rates and pair medians,
    their spread, the target."""
    meds = [x["pair_median"] for x in res]
    r = median(meds)
    verdict = "?" if r is None else ("ok" if r >= wl[6] else "under")
    spread = "%.3f-%.3f" % (min(meds), max(meds)) if meds else "-"
    drops = ""
    if res and all(x.get("drop_on") is not None for x in res):
        drops = ", dropped %.3f on, %.3f off" % (
            median([x["drop_on"] for x in res]),
            median([x["drop_off"] for x in res]))
    return "  %-10s %-10s %9s %9s %7s %13s %5.2f %-5s (n=%d, %s pairs%s)" % (
        wl[1], label, fmt(median([x["on"] for x in res]), "%.2f", 9),
        fmt(median([x["off"] for x in res]), "%.2f", 9), fmt(r, "%.3f", 7),
        spread, wl[6], verdict, len(res),
        "/".join(str(x["pairs"]) for x in res) or "0", drops)


def history_row(wl, label, res):
    """A row of section h: medians and the three ratios."""
    p, a, h = (median(res[k]) for k in ("plain", "audited", "history"))
    return "  %-10s %-10s %9s %9s %9s %8s %8s %9s  (n=%d/%d/%d)" % (
        wl[1], label, fmt(p, "%.2f", 9), fmt(a, "%.2f", 9),
        fmt(h, "%.2f", 9), fmt(ratio(a, p), "%.3f", 8),
        fmt(ratio(h, p), "%.3f", 8), fmt(ratio(h, a), "%.3f", 9),
        len(res["plain"]), len(res["audited"]), len(res["history"]))


def bench_scanner(r, label, mem, runs, nb_mbufs, tmpdir):
    """Scanner-on results (Mpps, scanner) and scanner-off Mpps lists."""
    args = eal_mem_for(mem, nb_mbufs)
    app = ["--nb-mbufs", str(nb_mbufs)]
    report = os.path.join(tmpdir, "scan-%s-%d.json" % (label, nb_mbufs))

    def on(i):
        res = r.run("[%s] %d mbufs scanner on run %d" % (label, nb_mbufs,
                                                          i + 1),
                    FWD, args, app_extra=app, ok_status=(0, 3), report=report,
                    env_extra={"MPAUDIT_SUMMARY": "0",
                               "MPAUDIT_SCAN_MS": "1000"})
        if res:
            progress(label, "%d mbufs scanner on" % nb_mbufs, i, runs, res[0])
        return res

    def off(i):
        res = r.run("[%s] %d mbufs scanner off run %d" % (label, nb_mbufs,
                                                           i + 1),
                    FWD, args, app_extra=app, ok_status=(0, 3),
                    env_extra={"MPAUDIT_SUMMARY": "0",
                               "MPAUDIT_SCAN_MS": "0"})
        if res:
            progress(label, "%d mbufs scanner off" % nb_mbufs, i, runs,
                     res[0])
            return res[0]
        return None

    res = alternate(runs, [("on", on), ("off", off)])
    return res["on"], res["off"]


def scanner_row(label, nb_mbufs, on, off):
    """One table row from the scanner-on (Mpps, scanner) and off Mpps."""
    per_obj, mean_scan, max_scan = [], [], None
    for _, sc in on:
        if sc["objects"]:
            per_obj.append(sc["total_ns"] / sc["objects"])
        if sc["scans"]:
            mean_scan.append(sc["total_ns"] / sc["scans"])
        max_scan = max(max_scan or 0, sc["max_ns"])
    mean = median(mean_scan)
    cpu = mean / SCAN_PERIOD_NS * 100 if mean is not None else None
    mpps_on = median([m for m, _ in on])
    mpps_off = median(off)
    return ("  %-10s %7d %8s %10s %10s %8s %9s %9s %7s  (n=%d/%d)" % (
        label, nb_mbufs, fmt(median(per_obj), "%.2f", 8),
        fmt_ns(mean, 10), fmt_ns(max_scan, 10),
        fmt(cpu, "%.3f%%", 8), fmt(mpps_off, "%.2f", 9),
        fmt(mpps_on, "%.2f", 9), fmt(ratio(mpps_on, mpps_off), "%.3f", 7),
        len(on), len(off)))


def forwarding_row(label, plain, audited):
    return "  %-10s %9s %9s %7s  (n=%d/%d)" % (
        label, fmt(median(plain), "%.2f", 9), fmt(median(audited), "%.2f", 9),
        fmt(ratio(median(audited), median(plain)), "%.3f", 7),
        len(plain), len(audited))


def workload_row(wl, label, plain, audited):
    """A row of the forwarding table: workload, memory, medians, ratio
    against the workload's target, good runs."""
    r = ratio(median(audited), median(plain))
    verdict = "?" if r is None else ("ok" if r >= wl[6] else "under")
    return "  %-16s %-10s %9s %9s %7s %5.2f %-5s (n=%d/%d)" % (
        wl[1], label, fmt(median(plain), "%.2f", 9),
        fmt(median(audited), "%.2f", 9), fmt(r, "%.3f", 7), wl[6], verdict,
        len(plain), len(audited))


def parse_heapbench(text):
    """{case: (ns per pair, fastest loop's ns per pair)} from heapbench's
    `heapbench: k=v ...` lines; the fastest defaults to the median."""
    out = {}
    for m in HEAPBENCH_RE.finditer(text):
        kv = dict(f.split("=", 1) for f in m.group(1).split() if "=" in f)
        try:
            ns = float(kv.get("ns_per_pair", ""))
            best = float(kv.get("min_ns", ns))
        except ValueError:
            continue
        if "case" in kv and ns >= 0 and best >= 0:
            out[kv["case"]] = (ns, best)
    return out


def heap_status(output, report, kind=None, min_allocs=0, depth=None):
    """What the preload said about heap tracking in one run, as a phrase,
    or None if it tracked (and, where the report says, saw at least
    min_allocs in-scope allocations of kind "rte" or "libc", and kept
    stacks of the given depth).

    From its stderr (a configuration it rejected disables it all) and its
    JSON report's `heap` object when there is one; never raises, because
    the benchmark must print its numbers whatever the preload's state.
    """
    for line in output.splitlines():
        if line.startswith("mpaudit:") and ("disabled" in line or
                                            "unaudited" in line):
            return "preload inactive (%s)" % line[len("mpaudit:"):].strip()
    try:
        with open(report) as f:
            rep = json.load(f)
    except (OSError, ValueError):
        return "preload wrote no report: heap tracking state unknown"
    heap = rep.get("heap") if isinstance(rep, dict) else None
    if not isinstance(heap, dict):
        return "no 'heap' object in the preload's report: heap tracking " \
            "not in this preload (tracked = preload without heap tracking)"
    if heap.get("active") is False:
        why = heap.get("disabled")
        return "heap tracking inactive" + (" (%s)" % why if why else "")
    if heap.get("active") is not True:
        return "heap tracking state not in the report ('heap.active' " \
            "missing)"
    if heap.get("tracking") is False:
        return "heap tracking active but not in scope ('heap.tracking' " \
            "false)"
    got = heap.get("depth")
    if depth is not None and isinstance(got, int) and got != depth:
        return "heap tracking at depth %d, not the %d asked for" % (got,
                                                                      depth)
    live = heap.get("live")
    name = {"rte": "rte_malloc", "libc": "libc"}.get(kind)
    if isinstance(live, dict) and isinstance(live.get(name), dict):
        n = live[name].get("allocs")
        if isinstance(n, int) and n < min_allocs:
            return "heap tracking active but saw %d %s allocations of the " \
                "%d or more made" % (n, name, min_allocs)
    return None


def run_prog(r, what, cmd, env, prefix):
    """Run a benchmark program of EAL file prefix @prefix; its completed
    process, or None (a failure recorded in @r) if it timed out or could
    not start. The EAL runtime directory is removed either way."""
    try:
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=RUN_TIMEOUT_EXTRA_S,
                              universal_newlines=True, errors="replace")
    except subprocess.TimeoutExpired as e:
        err = e.stderr or ""
        if isinstance(err, bytes):
            err = err.decode(errors="replace")
        return r.fail(what, cmd, "timed out", err)
    except OSError as e:
        return r.fail(what, cmd, str(e), "")
    finally:
        shutil.rmtree(eal_runtime_dir(prefix), ignore_errors=True)


def run_heapbench(r, what, mem, kind, threads, ops, env_extra=None,
                  report=None, confirmed=None):
    """One heapbench run; returns parse_heapbench()'s dict or None.

    env_extra None: plain (no LD_PRELOAD). With report, the preload writes
    its JSON report there and its heap tracking state becomes a note;
    confirmed (a list) then gets whether heap tracking was seen on.
    """
    global _prefix_seq
    _prefix_seq += 1
    prefix = "mpa-bench-%d-%d" % (os.getpid(), _prefix_seq)
    cmd = ([HEAPBENCH] + HEAP_EAL + mem + ["--file-prefix", prefix, "--",
           "--kind", kind, "--threads", str(threads), "--ops", str(ops),
           "--size", str(HEAP_SIZE), "--reps", str(HEAP_REPS)])
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MPAUDIT_") and k != "LD_PRELOAD"}
    if env_extra is not None:
        env.update({"LD_PRELOAD": PRELOAD, "MPAUDIT_SUMMARY": "0"})
        env.update(env_extra)
        if report:
            env["MPAUDIT_REPORT"] = report
            if os.path.exists(report):
                os.unlink(report)
    p = run_prog(r, what, cmd, env, prefix)
    if p is None:
        return None
    if p.returncode not in (0, 3):
        return r.fail(what, cmd, "exit status %d" % p.returncode,
                      p.stderr, p.stdout)
    if p.returncode != 0:
        note = "%s: exit status %d (audit found something)" % (
            what.split(" run ")[0], p.returncode)
        if note not in r.notes:
            r.notes.append(note)
    res = parse_heapbench(p.stdout)
    if any(c not in res for c in HEAP_CASES):
        return r.fail(what, cmd, "no 'heapbench: ... ns_per_pair=' line "
                      "for every case", p.stderr, p.stdout)
    if env_extra is not None and report:
        # At least the timed loops' pairs, every thread and case.
        st = heap_status(p.stderr, report, kind,
                         threads * len(HEAP_CASES) * HEAP_REPS * ops,
                         int(env_extra.get("MPAUDIT_HEAP_DEPTH",
                                           HEAP_DEFAULT_DEPTH)))
        if confirmed is not None:
            confirmed.append(st is None)
        if st:
            # One note per memory mode and state, not per kind and variant.
            note = "%s heap tracked runs: %s" % (what.split("]")[0] + "]", st)
            if note not in r.notes:
                r.notes.append(note)
    return res


def heap_variants(threads):
    """[(name, depth shown in the table, preload env or None for plain)]."""
    v = [("plain", None, None),
         ("tracked", HEAP_DEFAULT_DEPTH, {"MPAUDIT_HEAP": "all"})]
    # The cheapest stack, single-threaded only: what capture itself costs.
    if threads == 1:
        v.append(("depth1", 1, {"MPAUDIT_HEAP": "all",
                                "MPAUDIT_HEAP_DEPTH": "1"}))
    return v


def bench_heap(r, label, mem, runs, kind, threads, ops, tmpdir):
    """({variant: [parse_heapbench() dicts]}, {variants whose heap tracking
    was not confirmed}) for one kind and thread count."""
    args = eal_mem_for(mem)
    confirmed = {}
    report = os.path.join(tmpdir, "heap-%s-%s-%d.json" % (label, kind,
                                                           threads))

    def variant(name, env_extra):
        def fn(i):
            what = "[%s] heap %s x%d %s run %d" % (label, kind, threads,
                                                   name, i + 1)
            # The first round asks for the report, to learn (and note)
            # whether heap tracking was on; later rounds skip writing it.
            res = run_heapbench(r, what, args, kind, threads, ops,
                                env_extra=env_extra,
                                report=report if i == 0 else None,
                                confirmed=confirmed.setdefault(name, []))
            if res:
                print("  [%s] heap %s x%d %s run %d/%d: %s" % (
                    label, kind, threads, name, i + 1, runs,
                    ", ".join("%s %.1f ns (fastest %.1f)" % (c, res[c][0],
                                                             res[c][1])
                              for c in HEAP_CASES)), flush=True)
            return res
        return fn

    res = alternate(runs, [(name, variant(name, env))
                           for name, _, env in heap_variants(threads)])
    # A failed first run leaves a variant unconfirmed too.
    return res, {name for name, v in confirmed.items() if not any(v)}


def heap_rows(label, kind, threads, res, unconfirmed=()):
    """Table rows (one per case and tracked variant) of bench_heap()."""
    rows = []
    for case in HEAP_CASES:
        plain = median([x[case][0] for x in res["plain"]])
        plain_best = median([x[case][1] for x in res["plain"]])
        for name, depth, env in heap_variants(threads):
            if env is None:
                continue
            tracked = median([x[case][0] for x in res[name]])
            best = median([x[case][1] for x in res[name]])
            rt = ratio(tracked, plain)
            verdict = "" if rt is None else "?" if name in unconfirmed \
                else "ok" if rt <= HEAP_TARGET_RATIO[kind] else "over"
            rows.append("  %-10s %-4s %3d %-6s %5d %8s %8s %7s %7s %-4s  "
                        "(n=%d/%d)" % (
                            label, kind, threads, case, depth,
                            fmt(plain, "%.1f", 8), fmt(tracked, "%.1f", 8),
                            fmt(rt, "%.2f", 7),
                            fmt(ratio(best, plain_best), "%.2f", 7), verdict,
                            len(res["plain"]), len(res[name])))
    return rows


def heap_header():
    return [
        "d. heap tracking (ns per %d-byte alloc+free pair per thread, "
        "heapbench): plain vs LD_PRELOAD=libmpaudit_preload.so "
        "MPAUDIT_HEAP=all; n = good runs plain/tracked" % HEAP_SIZE,
        "   window = 64 blocks live, pair = free right after alloc; "
        "depth = MPAUDIT_HEAP_DEPTH (%d: default); a run's figure is the "
        "median of its %d timed loops;" % (HEAP_DEFAULT_DEPTH, HEAP_REPS),
        "   fastest = ratio of the runs' fastest loops (what a process "
        "sharing the CPU cannot inflate); tgt: ratio <= %.0f (rte), %.0f "
        "(libc) ok, else over; "
        "? = heap tracking not confirmed (see notes)" % (
            HEAP_TARGET_RATIO["rte"], HEAP_TARGET_RATIO["libc"]),
        "  %-10s %-4s %3s %-6s %5s %8s %8s %7s %7s %s" % (
            "memory", "kind", "thr", "case", "depth", "plain", "tracked",
            "ratio", "fastest", "tgt"),
    ]


def heap_ops():
    """Pairs per thread and case, per kind (BENCH_HEAP_OPS: both)."""
    n = env_int("BENCH_HEAP_OPS", 0)
    return {k: n or HEAP_OPS[k] for k in HEAP_KINDS}


def parse_freebench(text):
    """{case: ns per mbuf (median loop)} from freebench's lines."""
    return {m.group(1): float(m.group(2)) for m in FREEBENCH_RE.finditer(text)}


def run_freebench(r, what, binary, mem):
    global _prefix_seq
    _prefix_seq += 1
    prefix = "mpa-bench-%d-%d" % (os.getpid(), _prefix_seq)
    cmd = [binary] + HEAP_EAL + mem + ["--file-prefix", prefix]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MPAUDIT_") and k != "LD_PRELOAD"}
    env["MPAUDIT_SUMMARY"] = "0"
    p = run_prog(r, what, cmd, env, prefix)
    if p is None:
        return None
    res = parse_freebench(p.stdout)
    if p.returncode != 0 or any(c not in res for c in FREE_CASES):
        return r.fail(what, cmd, "exit status %d or no 'freebench: case=' "
                      "line per case" % p.returncode, p.stderr, p.stdout)
    return res


def bench_free(r, label, mem, runs):
    """Plain vs audited freebench, alternating; {variant: [results]}."""
    mem = shlex.split(mem)

    def variant(name, binary):
        def fn(i):
            res = run_freebench(r, "free [%s] %s run %d" % (label, name, i + 1),
                                binary, mem)
            print("bench: free [%s] %s run %d/%d: %s" % (
                label, name, i + 1, runs, res if res else "failed"),
                flush=True)
            return res
        return fn

    return alternate(runs, [("plain", variant("plain", FREEBENCH)),
                            ("audited", variant("audited", FREEBENCH_AUDITED))])


def free_rows(label, res):
    rows = []
    for case in FREE_CASES:
        pl = [x[case] for x in res["plain"]]
        au = [x[case] for x in res["audited"]]
        p, a = median(pl), median(au)
        rows.append("  %-10s %-7s %9s %9s %7s  n=%d/%d" % (
            label, case, fmt(p, "%.2f", 9), fmt(a, "%.2f", 9),
            fmt(ratio(a, p), "%.2f", 7), len(pl), len(au)))
    return rows


def memory_modes():
    """[(label, EAL memory args)]: ./run's choice, then --no-huge."""
    chosen = os.environ.get("MPA_EAL_MEM", "").strip()
    if chosen and "--no-huge" not in shlex.split(chosen):
        return [("hugepages", chosen), ("no-huge", NOHUGE_EAL_MEM)]
    return [("no-huge", chosen or NOHUGE_EAL_MEM)]


def dpdk_version():
    try:
        return subprocess.run(["pkg-config", "--modversion", "libdpdk"],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL,
                              universal_newlines=True).stdout.strip() or "?"
    except OSError:
        return "?"


def parse_sections(argv):
    """Sections selected by `--only a,b` (all without it), or exit."""
    if not argv:
        return list(SECTIONS), False
    if len(argv) == 2 and argv[0] == "--only":
        names = [x for x in argv[1].split(",") if x]
        if names and all(x in SECTIONS for x in names):
            return [x for x in SECTIONS if x in names], True
    sys.exit("usage: %s [--self-test | --only SECTION[,SECTION...]]\n"
             "sections: %s" % (sys.argv[0], ", ".join(SECTIONS)))


def main(argv):
    sections, only = parse_sections(argv)
    runs = env_int("BENCH_RUNS", DEFAULT_RUNS)
    secs = env_int("BENCH_SECS", DEFAULT_SECS)
    sizes = env_mbufs()
    modes = memory_modes()
    ops = heap_ops()
    fwd_secs = [x for x in sections if x not in ("heap", "free")]

    need = []
    if any(w[2] == "fwd" and w[0] in sections for w in WORKLOADS) or \
            "scanner" in sections or "history" in sections or \
            "ab" in sections:
        need += [FWD_PLAIN, FWD]
    if "heap" in sections:
        need += [HEAPBENCH]
    if "free" in sections:
        need += [FREEBENCH, FREEBENCH_AUDITED]
    for b in need:
        if not os.access(b, os.X_OK):
            print("bench: %s is not built" % b, file=sys.stderr)
            return 1
    heap_preload = "heap" in sections and os.path.exists(PRELOAD)
    if "heap" in sections and not heap_preload:
        print("bench: %s is not built: heap section skipped" % PRELOAD,
              file=sys.stderr)

    have_testpmd = os.access(TESTPMD, os.X_OK) and os.path.exists(PRELOAD)
    workloads = [w for w in WORKLOADS if w[0] in sections and
                 (w[2] == "fwd" or have_testpmd)]
    per_mode = 2 * len(workloads)
    if "scanner" in sections:
        per_mode += 2 * len(sizes)
    if "history" in sections:
        per_mode += 3 * len(HISTORY_WORKLOADS)
    ab_workloads = [w for w in WORKLOADS if w[2] == "fwd"]
    if "ab" in sections:
        per_mode += len(ab_workloads)
    n_runs = len(modes) * runs * per_mode
    # heapbench runs take about a second each (EAL init included).
    n_heap = (len(modes) * runs * sum(len(heap_variants(t))
                                      for t in HEAP_THREADS) *
              len(HEAP_KINDS) if heap_preload else 0)
    print("bench: %d runs of %d s and %d heapbench runs (about %d min); "
          "memory: %s" % (
              n_runs, secs, n_heap, (n_runs * (secs + 3) + n_heap + 59) // 60,
              "; ".join("%s = %s" % m for m in modes)), flush=True)
    if len(modes) == 1:
        print("bench: hugepages not in use, only --no-huge is measured")

    r = Runner(secs)
    fwd_rows, scan_rows, heap_rows_, free_rows_ = {}, [], [], []
    hist_rows, ab_rows = [], []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mpa-bench-") as tmpdir:
        for mi, (label, mem) in enumerate(modes):
            for wi, wl in enumerate(workloads):
                if wl[2] == "fwd":
                    plain, audited = bench_forwarding(r, label, mem, runs, wl)
                else:
                    plain, audited = bench_testpmd(r, label, mem, runs, wl)
                fwd_rows[(wi, mi)] = workload_row(wl, label, plain, audited)
            if "ab" in sections:
                for wl in ab_workloads:
                    ab_rows.append(ab_row(wl, label, bench_ab(
                        r, label, mem, runs, wl)))
            if "scanner" in sections:
                for nb in sizes:
                    on, off = bench_scanner(r, label, mem, runs, nb, tmpdir)
                    scan_rows.append(scanner_row(label, nb, on, off))
            if "history" in sections:
                for wl in WORKLOADS:
                    if wl[0] in HISTORY_WORKLOADS:
                        hist_rows.append(history_row(wl, label, bench_history(
                            r, label, mem, runs, wl)))
            if "free" in sections:
                free_rows_ += free_rows(label, bench_free(r, label, mem, runs))
            if heap_preload:
                for kind in HEAP_KINDS:
                    for threads in HEAP_THREADS:
                        res, unc = bench_heap(r, label, mem, runs, kind,
                                              threads, ops[kind], tmpdir)
                        heap_rows_ += heap_rows(label, kind, threads, res,
                                                unc)

    lines = []
    if fwd_secs:
        lines.append(
            "mpaudit benchmarks: medians of %d alternating runs x %d s; "
            "DPDK %s, %d CPUs, 2x net_null, --lcores 0@0,1@1 (pipeline "
            "excepted)" % (
                runs, secs, dpdk_version(), os.cpu_count() or 0))
    else:
        lines.append(
            "mpaudit benchmarks: medians of %d alternating runs; DPDK %s, "
            "%d CPUs, --lcores 0@0,1@1" % (
                runs, dpdk_version(), os.cpu_count() or 0))
    if only:
        lines[-1] += "; only " + ",".join(sections) + " (%s)" % (
            time.strftime("%Y-%m-%d %H:%M:%S"))
    mem_line = "memory: " + "; ".join("%s = %s" % m for m in modes)
    if "scanner" in sections:
        mem_line += " (--no-huge runs with 262144 mbufs use -m %s)" % (
            eal_mem_for(NOHUGE_EAL_MEM, 262144)[-1])
    lines.append(mem_line)
    if workloads:
        lines += [
            "",
            "a. forwarding (Mpps, 2x net_null): plain vs audited; mpaudit-fwd "
            "rows: mpaudit-fwd-plain vs mpaudit-fwd (instrumented), default "
            "MPAUDIT_SCAN_MS/STUCK_MS; testpmd rows: unmodified dpdk-testpmd "
            "(Mpps = TX packets / run time) vs LD_PRELOAD="
            "libmpaudit_preload.so; pipeline: --lcores %s, %d mbufs, ring "
            "of 4096; n = good runs plain/audited" % (LCORES_PIPELINE,
                                                     PIPELINE_MBUFS),
            "  %-16s %-10s %9s %9s %7s %5s" % ("workload", "memory", "plain",
                                               "audited", "ratio", "tgt"),
        ] + [fwd_rows[k] for k in sorted(fwd_rows)]
    if "ab" in sections:
        lines += [
            "",
            "i. interleaved (Mpps, 2x net_null, lcores as in a.): one "
            "mpaudit-fwd --ab-ms %d per run, stamps off and on by turns "
            "every %d ms; ratio = median over runs of each run's median "
            "on/off ratio of adjacent phases (off phases still test mpa_on "
            "per call); spread = lowest-highest run; n = good runs" % (
                AB_MS, AB_MS),
            "  %-10s %-10s %9s %9s %7s %13s %5s" % (
                "workload", "memory", "on", "off", "ratio", "spread", "tgt"),
        ] + ab_rows
    if "scanner" in sections:
        lines += [
            "",
            "b. scanner (MPAUDIT_SCAN_MS=1000 on vs 0 off); CPU = mean scan "
            "/ 1 s; n = good runs on/off",
            "  %-10s %7s %8s %10s %10s %8s %9s %9s %7s" % (
                "memory", "mbufs", "ns/obj", "mean scan", "max scan", "CPU",
                "Mpps off", "Mpps on", "ratio"),
        ] + scan_rows
    if "history" in sections:
        lines += [
            "",
            "h. per-object history (Mpps, 2x net_null): mpaudit-fwd-plain vs "
            "mpaudit-fwd vs mpaudit-fwd with MPAUDIT_HISTORY=%d; pipeline "
            "as in a.; n = good runs plain/audited/history" % HISTORY_K,
            "  %-10s %-10s %9s %9s %9s %8s %8s %9s" % (
                "workload", "memory", "plain", "audited", "history",
                "aud/pl", "hist/pl", "hist/aud"),
        ] + hist_rows
    if heap_preload:
        lines += [""] + heap_header() + heap_rows_ + [
            "  pairs per thread and timed loop: %s" % ", ".join(
                "%s %d" % (k, ops[k]) for k in HEAP_KINDS)]
    if "free" in sections:
        lines += [
            "",
            "e. mbuf alloc + free, pool with a 256 cache (ns per mbuf, median "
            "of 7 loops): freebench plain vs freebench-audited (the wrappers "
            "stamp, and check for a double free); n = good runs",
            "  %-10s %-7s %9s %9s %7s" % ("memory", "case", "plain", "audited",
                                          "ratio"),
        ] + free_rows_
    if r.notes or r.failures:
        lines.append("")
    for note in r.notes:
        lines.append("note: " + note)
    if r.failures:
        lines.append("note: %d runs failed (see above); n= counts the runs "
                     "that succeeded" % r.failures)
    lines.append("(%.0f s)" % (time.monotonic() - t0))

    text = "\n".join(lines) + "\n"
    print()
    print(text, end="")
    # A partial run adds to the file rather than replacing a full table.
    try:
        with open(RESULTS, "a" if only else "w") as f:
            if only and f.tell() > 0:
                f.write("\n")
            f.write(text)
        print("bench: results %s %s" % ("appended to" if only else
                                        "written to",
                                        os.path.relpath(RESULTS)))
    except OSError as e:
        print("bench: cannot write %s: %s" % (RESULTS, e), file=sys.stderr)
    return 0


def self_test():
    """Check the parsing and argument helpers without DPDK."""
    line = "mpaudit-fwd: forwarded 215000000 packets in 5.000 s (43.00 Mpps)"
    assert abs(parse_mpps("noise\n" + line + "\nmore\n") - 43.0) < 1e-9
    assert parse_mpps("mpaudit-fwd: forwarded 0 packets in 0.000 s "
                      "(0.00 Mpps)") == 0.0
    assert parse_mpps("no such line") is None
    assert eal_mem_for("--in-memory", 262144) == ["--in-memory"]
    assert eal_mem_for("--no-huge -m 512") == ["--no-huge", "-m", "512"]
    assert eal_mem_for("--no-huge -m 512", 16384) == \
        ["--no-huge", "-m", "512"]
    assert eal_mem_for("--no-huge -m 512", 262144) == \
        ["--no-huge", "-m", "1400"]
    assert eal_mem_for("--no-huge -m 2048", 262144) == \
        ["--no-huge", "-m", "2048"]
    assert eal_mem_for("--no-huge", 262144) == ["--no-huge", "-m", "1400"]
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "r.json")
        with open(p, "w") as f:
            json.dump({"pools": [], "scanner": {
                "scans": 6, "objects": 98304, "total_ns": 1966080,
                "max_ns": 400000, "last_ns": 300000}}, f)
        sc = parse_scanner(p)
        assert sc["objects"] == 98304 and sc["scans"] == 6
        row = scanner_row("no-huge", 16384,
                          [(40.0, sc), (42.0, sc), (41.0, sc)],
                          [42.0, 43.0, 44.0])
        assert " 20.00 " in row and "327.7 us" in row and "0.033%" in row
        assert "41.00" in row and "43.00" in row and "0.953" in row, row
        with open(p, "w") as f:
            json.dump({"scanner": {"scans": 1.5}}, f)
        try:
            parse_scanner(p)
            raise AssertionError("float accepted")
        except ValueError:
            pass
        # Section d: heapbench lines, the preload's heap state, the rows.
        out = ("EAL: noise\n"
               "heapbench: kind=libc threads=2 case=window size=256 "
               "ops=1000 reps=5 ns_per_pair=12.50 min_ns=11.00\n"
               "heapbench: kind=libc threads=2 case=pair size=256 "
               "ops=1000 ns_per_pair=10\n")
        assert parse_heapbench(out) == {"window": (12.5, 11.0),
                                        "pair": (10.0, 10.0)}
        assert parse_heapbench("heapbench: case=pair ns_per_pair=x") == {}
        # Section i: the ab line and a row.
        ab = parse_ab("x\nmpaudit-fwd: ab phases=49 pairs=23 on=135.28 "
                      "Mpps off=144.12 Mpps ratio=0.9387 "
                      "pair_median=0.9386\n")
        assert ab == {"phases": 49, "pairs": 23, "on": 135.28,
                      "off": 144.12, "ratio": 0.9387,
                      "pair_median": 0.9386, "drop_on": None,
                      "drop_off": None}, ab
        ab2 = parse_ab("mpaudit-fwd: ab phases=49 pairs=23 on=32.50 Mpps "
                       "off=63.30 Mpps ratio=0.5134 pair_median=0.5040 "
                       "rx_on=64.10 rx_off=63.90 drop_on=0.4930 "
                       "drop_off=0.0100\n")
        assert (ab2["drop_on"], ab2["drop_off"]) == (0.493, 0.01), ab2
        row = ab_row(WORKLOADS[0], "hugepages", [ab2, ab2])
        assert row.endswith("(n=2, 23/23 pairs, dropped 0.493 on, "
                            "0.010 off)"), row
        assert parse_ab("mpaudit-fwd: forwarded 1 packets") is None
        row = ab_row(WORKLOADS[0], "hugepages", [
            dict(ab, pair_median=0.92), dict(ab, pair_median=0.95),
            dict(ab, pair_median=0.93)])
        assert row.split()[:5] == ["io", "hugepages", "135.28", "144.12",
                                   "0.930"], row
        assert "0.920-0.950" in row and "under" in row and \
            "(n=3, 23/23/23 pairs)" in row, row
        assert heap_status("mpaudit: unknown variable MPAUDIT_HEAP; "
                           "auditing disabled, the application runs "
                           "unaudited\n", p).startswith("preload inactive")
        assert heap_status("", os.path.join(d, "none.json")).startswith(
            "preload wrote no report")
        live = {"libc": {"allocs": 5000}, "rte_malloc": {"allocs": 10}}
        for heap, want in (({"active": True}, None),
                           ({"active": True, "tracking": True,
                             "live": live}, None),
                           ({"active": True, "tracking": False},
                            "heap tracking active but not in scope"),
                           ({"active": False, "disabled": "out of memory"},
                            "heap tracking inactive (out of memory)"),
                           (None, "no 'heap' object")):
            with open(p, "w") as f:
                json.dump({"mode": "preload", "heap": heap}, f)
            got = heap_status("", p, "libc", 4000)
            assert got == want or (want and got.startswith(want)), got
        with open(p, "w") as f:
            json.dump({"heap": {"active": True, "live": live}}, f)
        assert heap_status("", p, "libc", 4000, 1) is None
        with open(p, "w") as f:
            json.dump({"heap": {"active": True, "depth": 16}}, f)
        assert heap_status("", p, "libc", 0, 1) == \
            "heap tracking at depth 16, not the 1 asked for"
        with open(p, "w") as f:
            json.dump({"heap": {"active": True, "live": live}}, f)
        assert heap_status("", p, "rte", 4000) == \
            "heap tracking active but saw 10 rte_malloc allocations of " \
            "the 4000 or more made"
        res = {"plain": [{"window": (10.0, 9.0), "pair": (8.0, 8.0)},
                         {"window": (12.0, 11.0), "pair": (9.0, 8.0)}],
               "tracked": [{"window": (25.0, 15.0), "pair": (16.0, 12.0)}],
               "depth1": []}
        rows = heap_rows("no-huge", "libc", 1, res)
        assert len(rows) == 4, rows
        assert " 11.0 " in rows[0] and " 25.0 " in rows[0], rows[0]
        assert " 2.27    1.50 ok" in rows[0], rows[0]
        assert "(n=2/1)" in rows[0], rows[0]
        assert " 8.5 " in rows[2] and " 1.88    1.50 ok" in rows[2], rows[2]
        assert "n/a" in rows[1] and "(n=2/0)" in rows[1], rows[1]
        assert len(heap_rows("no-huge", "rte", 2, res)) == 2
        rows2 = heap_rows("no-huge", "libc", 1, res, {"tracked"})
        assert " 2.27    1.50 ?" in rows2[0], rows2[0]
    assert parse_sections([]) == (list(SECTIONS), False)
    assert parse_sections(["--only", "heap,fwd"]) == (["fwd", "heap"], True)
    assert parse_sections(["--only", "pipeline,testpmd_macswap"]) == \
        (["pipeline", "testpmd_macswap"], True)
    row = workload_row(WORKLOADS[2], "hugepages", [22.0, 22.0], [21.0, 21.5])
    assert "pipeline" in row and " 0.966 " in row and "under" in row, row
    row = workload_row(WORKLOADS[0], "no-huge", [40.0], [39.0])
    assert " 0.975 " in row and " ok " in row, row
    assert " ? " in workload_row(WORKLOADS[3], "no-huge", [], [])
    row = history_row(WORKLOADS[0], "hugepages", {
        "plain": [100.0, 102.0], "audited": [96.0], "history": [90.0, 91.0]})
    assert " 101.00 " in row and " 0.950 " in row and " 0.896 " in row, row
    assert " 0.943 " in row and "(n=2/1/2)" in row, row
    assert "n/a" in history_row(WORKLOADS[2], "no-huge", {
        "plain": [], "audited": [], "history": []})
    assert parse_sections(["--only", "history"]) == (["history"], True)
    print(row)
    print("\n".join(heap_header() + rows))
    print(forwarding_row("hugepages", [43.0, 44.0, 45.0], [41.0, 42.0]))
    print(forwarding_row("no-huge", [], []))
    print("bench: self-test passed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(main(sys.argv[1:]))
