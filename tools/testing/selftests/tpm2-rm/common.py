# SPDX-License-Identifier: GPL-2.0
"""Helpers shared by the integration tests."""
import threading

from tpm2rm import Client, TPMError  # noqa: F401


def vanilla_xfail(fn):
    """The unmodified kernel is known to fail this test."""
    fn.vanilla_xfail = True
    return fn


def run_clients(n, work, barrier=True):
    """Run work(i, barrier) in n threads, each with its own client;
    return the list of exceptions (None where the client succeeded)."""
    results = [None] * n
    bar = threading.Barrier(n) if barrier else None

    def one(i):
        try:
            work(i, bar)
        except Exception as e:  # reported by the caller
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
