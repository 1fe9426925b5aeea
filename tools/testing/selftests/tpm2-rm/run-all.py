#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the resource manager's integration tests, KTAP output.

Every function named test_* in a file named test_*.py of this directory
is one test case.  `run-all.py [FILE|FILE::NAME ...]` runs a subset; long
tests live in stress_*.py and run only when named.  A
test marked @vanilla_xfail is expected to fail on the unmodified kernel
(VM_KERNEL=vanilla): it shows what this resource manager adds.
"""
import importlib.util
import os
import sys
import threading
import time
import traceback

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from common import Skip  # noqa: E402


def collect(args):
    files = sorted(f for f in os.listdir(here)
                   if f.startswith("test_") and f.endswith(".py"))
    want = {}
    for a in args:
        f, _, name = a.partition("::")
        want.setdefault(os.path.basename(f), set()).add(name)
    # long tests (stress_*.py) run only when named
    files += sorted(f for f in want if f not in files and
                    os.path.exists(os.path.join(here, f)))
    cases = []
    for f in files:
        if want and f not in want:
            continue
        spec = importlib.util.spec_from_file_location(f[:-3], os.path.join(here, f))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            if want and f in want and "" not in want[f] and name not in want[f]:
                continue
            cases.append((f[:-3], name, getattr(mod, name)))
    return cases


def main():
    # The tests hold sessions in this process and wait for one in it, as
    # separate processes would.  A single-threaded process blocked in
    # write() is answered at once when only it holds what it waits for
    # (it could never release it); a second thread makes this one a
    # process that could.  test_hostile forks a child to test that rule.
    idle = threading.Event()
    threading.Thread(target=idle.wait, daemon=True).start()
    cases = collect(sys.argv[1:])
    vanilla = os.environ.get("VM_KERNEL", "").startswith("vanilla")
    print("KTAP version 1")
    print("1..%d" % len(cases))
    failed = 0
    for i, (mod, name, fn) in enumerate(cases, 1):
        t0 = time.monotonic()
        try:
            fn()
            ok, why = True, ""
        except Skip as e:
            print("ok %d %s.%s # SKIP %s" % (i, mod, name, e))
            continue
        except Exception as e:
            ok, why = False, "%s: %s" % (type(e).__name__, e)
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        xfail = getattr(fn, "vanilla_xfail", False) and vanilla
        dt = time.monotonic() - t0
        if xfail:
            print("%s %d %s.%s # XFAIL on vanilla (%.1fs) %s" %
                  ("ok" if not ok else "not ok", i, mod, name, dt, why))
            continue
        if not ok:
            failed += 1
        print("%s %d %s.%s # %.1fs %s" % ("ok" if ok else "not ok", i, mod, name, dt, why))
        sys.stdout.flush()
    print("# %d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
