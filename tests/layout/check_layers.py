#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 The mpaudit developers
"""Check that audit/'s folders depend on each other one way only.

Usage: check_layers.py AUDIT_DIR

Each folder of audit/ may include the headers of the folders listed for
it below, its own, and the public ones (include/). audit/mpaudit.c wires
the layers together and may include anything. A new folder, or a header
included across a forbidden edge, fails with the file and line. Exit 0
pass, 1 fail. Standard library only.
"""

import os
import re
import sys

# folder -> folders whose headers it may include (besides its own).
ALLOWED = {
    "core": set(),
    "heap": {"core"},
    "query": {"core", "heap"},
    "surface": {"core", "heap", "query"},
    # The preload starts the auditor (lifecycle.h, at audit/'s top).
    "preload": {"core", "heap", "."},
}
PUBLIC = re.compile(r"mpaudit(_[a-z]+)?\.h$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main():
    root = sys.argv[1]
    bad = []
    seen = set()
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        if folder not in ALLOWED:
            bad.append("%s: folder not in the layer table of %s"
                       % (path, os.path.basename(__file__)))
            continue
        seen.add(folder)
        for name in sorted(os.listdir(path)):
            if not name.endswith((".c", ".h")):
                continue
            fpath = os.path.join(path, name)
            with open(fpath) as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m is None or PUBLIC.search(m.group(1)):
                        continue
                    inc = m.group(1)
                    if "/" in inc:
                        dep = inc.split("/")[0]
                    elif os.path.exists(os.path.join(path, inc)):
                        dep = folder
                    else:
                        dep = "."
                    if dep != folder and dep not in ALLOWED[folder]:
                        bad.append('%s:%d: %s includes "%s" (%s may use %s)'
                                   % (fpath, n, folder, inc, folder,
                                      ", ".join(sorted(ALLOWED[folder]))
                                      or "only itself"))
    for folder in sorted(set(ALLOWED) - seen):
        bad.append("%s: no folder %s" % (root, folder))
    for b in bad:
        print(b)
    print("check_layers: %s (%d folders)" % ("FAIL" if bad else "pass",
                                             len(seen)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
