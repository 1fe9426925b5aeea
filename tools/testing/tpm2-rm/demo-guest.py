#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest side of `make run`: several clients share /dev/tpmrm0 at once."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../selftests/tpm2-rm"))
import tpm2rm  # noqa: E402

CLIENTS, SIGNS = 6, 20
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "../../tpm/tpm2-rm-top.py")
report = [None] * CLIENTS
# all clients done signing, still open: tpm2-rm-top shows them, then
# they close
held = threading.Barrier(CLIENTS + 1, timeout=300)


def client(i, bar):
    done, err = 0, None
    with tpm2rm.Client() as c:
        try:
            parent = c.create_primary()
            priv, pub = c.create(parent)
            keys = [c.load(parent, priv, pub) for _ in range(2)]
            sessions = [c.start_session() for _ in range(2)]
            bar.wait()
            t0 = time.monotonic()
            for n in range(SIGNS):
                c.sign(keys[n % 2], sessions[n % 2])
                done += 1
            dt = time.monotonic() - t0
        except tpm2rm.TPMError as e:
            err, dt = "rc 0x%x" % e.rc, 0
        report[i] = (c.commands, done, dt, err)
        held.wait()
        held.wait()


with tpm2rm.Client() as m:
    m.marker()
    bar = threading.Barrier(CLIENTS)
    threads = [threading.Thread(target=client, args=(i, bar)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    held.wait()
    top = None
    if os.path.exists("/sys/kernel/debug/tpm0/rm/clients"):
        top = subprocess.run([sys.executable, TOP, "--once"],
                             capture_output=True, text=True)
    held.wait()
    for t in threads:
        t.join()
    m.marker()

print("%d clients, each: primary + child key loaded twice + 2 HMAC sessions, "
      "then %d signatures alternating keys and sessions" % (CLIENTS, SIGNS))
total = 0
for i, (cmds, done, dt, err) in enumerate(report):
    total += cmds
    print("  client %d: %3d commands sent, %2d/%d signatures, %s" %
          (i, cmds, done, SIGNS, err or "%.0f signatures/s" % (done / dt if dt else 0)))
print("client commands in all: %d" % total)

if top:
    print()
    print("tools/tpm/tpm2-rm-top.py --once, before the clients closed:")
    print((top.stdout + top.stderr).rstrip("\n"))
