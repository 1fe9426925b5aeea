#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest side of tools/testing/tpm2-rm/measure: fixed workloads, each
bracketed by markers so the host can count what the TPM received.
Prints one line per workload: name and client commands sent."""
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../selftests/tpm2-rm"))
import tpm2rm  # noqa: E402

N = 50


def bracket(name, fn):
    with tpm2rm.Client() as m:
        m.marker()
        sent = fn()
        m.marker()
    print(name, sent, flush=True)


def sign_loop():
    with tpm2rm.Client() as c:
        key = c.create_primary(tpm2rm.ATTR_SIGN)
        s = c.start_session()
        c.sign(key, s)
        with tpm2rm.Client() as m:
            m.marker()
            for _ in range(N):
                c.sign(key, s)
            m.marker()
    return N


def idle_holder():
    with tpm2rm.Client() as c:
        for _ in range(3):
            c.create_primary(tpm2rm.ATTR_SIGN)
        for _ in range(3):
            c.start_session()
        c.get_random(8)
        with tpm2rm.Client() as m:
            m.marker()
            for _ in range(N):
                c.get_random(8)
            m.marker()
    return N


def eight_turns():
    clients = [tpm2rm.Client() for _ in range(8)]
    keys = [c.create_primary(tpm2rm.ATTR_SIGN) for c in clients]
    sess = [c.start_session() for c in clients]
    with tpm2rm.Client() as m:
        m.marker()
        for r in range(N // 8 + 1):
            for c, k, s in zip(clients, keys, sess):
                c.sign(k, s)
        m.marker()
    for c in clients:
        c.close()
    return 8 * (N // 8 + 1)


which = sys.argv[1]
print(which, {"sign": sign_loop, "idle": idle_holder, "turns": eight_turns}[which]())
