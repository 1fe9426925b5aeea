# SPDX-License-Identifier: GPL-2.0
"""A vTPM proxy chip (what a container gets its TPM from) beside the
machine's TPM: each chip has a resource manager of its own, and what
happens on one (sessions run out, a client waits, the TPM behind it
goes away) is not seen on the other.

The kernel's own tpm2 selftests and the rest of these tests run against
such a chip too, in make check (tools/testing/tpm2-rm/vtpm-guest.sh).
"""
import threading
import time

from common import Client, Skip, TPMError, param, vtpm_chip
import tpm2rm

RM_SESSION_HANDLES = tpm2rm.RC_LAYER_RM | 0x905


def counter(n, name):
    try:
        with open("/sys/class/tpm/tpm%d/rm/%s" % (n, name)) as f:
            return int(f.read())
    except OSError:
        raise Skip("no resource manager counters (vanilla)")


def counters(n):
    return {k: counter(n, k) for k in
            ("commands", "sessions", "waits", "wait_failed", "clients")}


def test_two_chips_two_resource_managers():
    """All of the vTPM's sessions held and a client waiting there: on
    the machine's TPM a new client gets a session and a GetRandom at
    once, and neither chip's books move for the other's commands."""
    with vtpm_chip() as n:
        dev = "/dev/tpmrm%d" % n
        holders = []
        try:
            with param("rm_session_wait_ms", 3000):
                before0 = counters(0)
                with Client(dev) as c:
                    c.get_random(8)     # max_sessions is 0 until then
                for _ in range(counter(n, "max_sessions")):
                    c = Client(dev)
                    c.start_session()
                    c.get_random(8)
                    holders.append(c)
                waited = {}

                def waiter():
                    with Client(dev) as w:
                        t0 = time.monotonic()
                        try:
                            w.start_session()
                            waited["rc"] = 0
                        except TPMError as e:
                            waited["rc"] = e.rc
                        waited["s"] = time.monotonic() - t0
                t = threading.Thread(target=waiter)
                t.start()
                time.sleep(0.5)
                assert "rc" not in waited, ("nobody waits on tpm%d" % n, waited)

                t0 = time.monotonic()
                with Client() as c:
                    c.start_session()
                    c.get_random(8)
                    during0 = counters(0)
                took = time.monotonic() - t0
                t.join()
                after0 = counters(0)
            print("# tpm0 beside a full tpm%d: session + GetRandom in "
                  "%.0f ms; the tpm%d waiter got %#x after %.1f s" %
                  (n, took * 1000, n, waited["rc"], waited["s"]))
            assert took < 1.0, took
            assert waited["rc"] == RM_SESSION_HANDLES, hex(waited["rc"])
            assert waited["s"] > 2.5, waited["s"]
            # tpm0 saw its own two commands and nothing of tpm1's
            assert after0["commands"] - before0["commands"] == 2, \
                (before0, after0)
            assert during0["sessions"] == before0["sessions"] + 1, \
                (before0, during0)
            assert after0["waits"] == before0["waits"], (before0, after0)
            assert after0["wait_failed"] == before0["wait_failed"]
            assert counter(n, "waits") == 1
            assert counter(n, "wait_failed") == 1
            assert counter(n, "sessions") == len(holders)
        finally:
            for c in holders:
                c.close()
        assert counter(n, "clients") == 0
        assert counter(n, "sessions") == 0


def test_vtpm_goes_away_under_its_clients():
    """swtpm ends while clients of its chip hold a key and a session:
    each later command fails (no hang), close() works, the chip goes
    away, and the machine's TPM serves on; the kernel stays silent."""
    with vtpm_chip() as n:
        dev = "/dev/tpmrm%d" % n
        c = Client(dev)
        key = c.create_primary(tpm2rm.ATTR_SIGN)
        s = c.start_session()
        c.sign(key, s)
    # swtpm stopped: the chip is unregistered under its open client
    t0 = time.monotonic()
    try:
        c.get_random(8)
        failed = False
    except (OSError, TPMError):
        failed = True
    took = time.monotonic() - t0
    c.close()
    assert failed, "a command to a chip that is gone succeeded"
    assert took < 5, took
    with Client() as c0:
        c0.get_random(8)
