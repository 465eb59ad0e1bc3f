#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Instructions per tracked libc malloc+free, by function (callgrind).

    python3 tests/bench/heapir.py [--build build] [--case window|pair]
                                  [--preload SO] [--plain]

Runs heapbench under valgrind's callgrind twice, with 100,000 and 300,000
pairs, and prints the difference divided by 200,000: the instructions one
more pair costs, start-up, warm-up and the exit report cancelled out. An
instruction count does not move with the host's load, which wall-clock
time on our VMs does by tens of percent; it is the figure to compare two
builds of the fast path with (docs/performance.md, "Instructions per
tracked libc pair"). Needs valgrind (not a build dependency:
`apt-get install valgrind`). Not run by meson test.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

LOW, HIGH = 100000, 300000


def callgrind(args, preload, ops, out):
    env = dict(os.environ, MPAUDIT_SUMMARY="0", MPAUDIT_HEAP="all")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
           "--trace-children=yes", "env"]
    if preload:
        cmd.append("LD_PRELOAD=" + preload)
    cmd += [os.path.join(args.build, "tests/bench/heapbench"), "--no-pci",
            "--no-huge", "-m", "256", "--lcores", "0@0",
            "--file-prefix", "heapir%d" % os.getpid(), "--",
            "--kind", "libc", "--threads", "1", "--ops", str(ops),
            "--size", "256", "--reps", "1", "--case", args.case]
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or "heapbench:" not in r.stdout:
        sys.exit("heapir: heapbench under callgrind failed:\n" + r.stdout[-2000:])


def per_function(out):
    """{function [object]: Ir} and the program's total."""
    text = subprocess.run(["callgrind_annotate", "--threshold=100", out],
                          stdout=subprocess.PIPE, text=True,
                          check=True).stdout
    funcs, total = {}, 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in m.group(2):
            total = n
            continue
        name = m.group(2).split(":", 1)[-1]
        funcs[name] = funcs.get(name, 0) + n
    return funcs, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--case", choices=("window", "pair"), default="window")
    ap.add_argument("--preload", help="preload library (default: the build's)")
    ap.add_argument("--plain", action="store_true", help="no preload")
    args = ap.parse_args()
    for tool in ("valgrind", "callgrind_annotate"):
        if shutil.which(tool) is None:
            sys.exit("heapir: %s not found (apt-get install valgrind)" % tool)
    preload = None
    if not args.plain:
        preload = os.path.abspath(args.preload or os.path.join(
            args.build, "audit/libmpaudit_preload.so"))
        if not os.path.exists(preload):
            sys.exit("heapir: no %s (build first)" % preload)
    with tempfile.TemporaryDirectory() as tmp:
        res = []
        for ops in (LOW, HIGH):
            out = os.path.join(tmp, "cg.%d" % ops)
            print("heapir: %s, %d pairs under callgrind ..." % (args.case, ops),
                  file=sys.stderr, flush=True)
            callgrind(args, preload, ops, out)
            res.append(per_function(out))
    (lo, lo_total), (hi, hi_total) = res
    n = HIGH - LOW
    print("%-8s %s" % ("Ir/pair", "function [object]"))
    rows = sorted(((hi.get(k, 0) - lo.get(k, 0)) / n, k) for k in set(lo) | set(hi))
    for ir, name in reversed(rows):
        if ir >= 1.0:
            print("%8.1f %s" % (ir, name))
    print("%8.1f total (%s, %s)" % ((hi_total - lo_total) / n, args.case,
                                    "plain" if args.plain else preload))


if __name__ == "__main__":
    main()
