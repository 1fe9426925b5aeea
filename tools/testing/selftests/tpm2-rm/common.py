# SPDX-License-Identifier: GPL-2.0
"""Helpers shared by the integration tests."""
import contextlib
import os
import threading

from tpm2rm import Client, TPMError  # noqa: F401


class Skip(Exception):
    """Raised by a test that cannot run on this kernel."""


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


@contextlib.contextmanager
def param(name, value):
    """Set a module parameter of the TPM core for the duration; nothing
    on a kernel that does not have it (vanilla)."""
    path = "/sys/module/tpm/parameters/" + name
    if not os.path.exists(path):
        yield
        return
    with open(path) as f:
        old = f.read().strip()
    with open(path, "w") as f:
        f.write(str(value))
    try:
        yield
    finally:
        with open(path, "w") as f:
            f.write(old)
