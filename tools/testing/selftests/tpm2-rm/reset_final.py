# SPDX-License-Identifier: GPL-2.0
"""The TPM goes away behind the resource manager's back; run last, by
name, in a guest of its own (vm-run --host-actions): after the first
test the kernel's HMAC session code may take the chip out of service,
after the second there is no TPM.

test_reset_tells_clients: a _TPM_Init from the host, then Startup(CLEAR)
through /dev/tpm0 (a TPM Reset: every context is gone).  Clients holding
objects and sessions get documented codes, never a hang or a wrong
object; a new client works at once; closing leaves nothing in the TPM.

test_swtpm_killed: swtpm is killed while clients sign in a loop.  Every
client gets an error (not a hang), the kernel stays silent (vm-run fails
on any report), and closing every file frees everything."""
import errno
import threading
import time

from common import Client, TPMError, vanilla_xfail
import tpm2rm
from tpm_reset import (CC_STARTUP, KEYS, NOT_STARTED, RM, SU_CLEAR,
                       host_action, left_in_tpm, outcome, power_cycle,
                       raw_tpm, rm_counter)

LOST = tuple("rc %#x" % (RM | c) for c in (0x910, 0x911, 0x918, 0x919))


@vanilla_xfail
def test_reset_tells_clients():
    a, b = Client(), Client()
    try:
        keys = [a.create_primary(tpm2rm.ATTR_SIGN) for _ in range(KEYS)]
        sessions = [a.start_session() for _ in range(2)]
        for k in keys:
            a.sign(k, sessions[0])
        bkey = b.create_primary(tpm2rm.ATTR_SIGN)
        b.sign(bkey)
        before = rm_counter("tpm_resets")
        power_cycle()
        # until the Startup: the TPM's answer, or the RM's for a load
        try:
            early = {outcome(a.sign, k) for k in keys}
        finally:
            assert raw_tpm(CC_STARTUP, SU_CLEAR) == 0

        def new_work():
            with Client() as c:
                k = c.create_primary(tpm2rm.ATTR_SIGN)
                c.sign(k, c.start_session())
        new = outcome(new_work)
        # old work is told, handle by handle
        codes = {outcome(a.sign, k, s) for k in keys
                 for s in sessions + [None]}
        codes.add(outcome(b.sign, bkey))
        print("# TPM Reset: before the Startup %s; after it the old clients "
              "got %s, a new client %s" % (sorted(early), sorted(codes), new))
        assert early <= set(NOT_STARTED), early
        assert new == "ok"
        assert codes <= set(LOST), codes
        if before is not None:
            assert rm_counter("tpm_resets") == before + 1
        for h in keys + [s.handle for s in sessions]:
            a.flush(h)
    finally:
        a.close()
        b.close()
    assert rm_counter("sessions") in (0, None)
    left = left_in_tpm()
    assert not left, ["%#x" % h for h in left]


def test_swtpm_killed():
    stop = threading.Event()
    outcome = {}
    clients = [Client() for _ in range(6)]

    def work(i):
        c = clients[i]
        try:
            keys = [c.create_primary(tpm2rm.ATTR_SIGN) for _ in range(2)]
            s = c.start_session()
            while not stop.is_set():
                for k in keys:
                    c.sign(k, s)
            outcome[i] = "no error"
        except TPMError as e:
            outcome[i] = "rc %#x" % e.rc
        except OSError as e:
            outcome[i] = errno.errorcode.get(e.errno, str(e.errno))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(2)
    reply = host_action("tpm-kill")
    assert reply == "ok", reply
    t0 = time.monotonic()
    for t in threads:
        t.join(max(0, t0 + 60 - time.monotonic()))
    took = time.monotonic() - t0
    hung = [i for i, t in enumerate(threads) if t.is_alive()]
    stop.set()
    for t in threads:
        t.join()
    assert not hung, "clients %s still running 60 s after the kill" % hung
    for c in clients:
        c.close()
    assert "no error" not in outcome.values(), outcome
    # a new client is refused cleanly too
    try:
        with Client() as c:
            c.get_random(8)
        new = "worked"
    except TPMError as e:
        new = "rc %#x" % e.rc
    except OSError as e:
        new = errno.errorcode.get(e.errno, str(e.errno))
    assert new != "worked"
    assert rm_counter("clients") in (0, None)
    assert rm_counter("sessions") in (0, None)
    assert rm_counter("resident_objects") in (0, None)
    print("# swtpm killed: 6 clients got %s within %.1fs; a new client "
          "got %s; all freed" % (sorted(set(outcome.values())), took, new))
