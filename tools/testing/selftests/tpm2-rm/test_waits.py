# SPDX-License-Identifier: GPL-2.0
"""Commands waiting for a session: what the waiting file, and everybody
else, can still do meanwhile.

Every test first fills the TPM's sessions, so that one more
StartAuthSession waits (up to rm_session_wait_ms, 4 s here), and checks
that it does wait: on the unmodified kernel it fails at once with
SESSION_HANDLES instead, hence @vanilla_xfail.
"""
import errno
import os
import select
import signal
import struct
import threading
import time

from common import Client, param, vanilla_xfail
from test_sessions import fill_tpm
import tpm2rm

WAIT_MS = 4000
RM_CANCELED = tpm2rm.RC_LAYER_RM | 0x909
# O_NONBLOCK waiters beside another user's async GetRandom: more than
# tpm_dev_wq runs at once on one CPU (256), had each kept its worker
WAITERS = int(os.environ.get("TPM2RM_WAITERS", 300))


def start_session_cmd():
    params = tpm2rm.b2(os.urandom(16)) + tpm2rm.b2(b"") + b"\x00"
    params += struct.pack(">HH", tpm2rm.ALG_NULL, tpm2rm.ALG_SHA256)
    body = struct.pack(">II", tpm2rm.RH_NULL, tpm2rm.RH_NULL) + params
    return struct.pack(">HII", tpm2rm.ST_NO_SESSIONS, 10 + len(body),
                       tpm2rm.CC_START_AUTH_SESSION) + body


def get_random_cmd(n=8):
    return struct.pack(">HIIH", tpm2rm.ST_NO_SESSIONS, 12,
                       tpm2rm.CC_GET_RANDOM, n)


def rc_of(rsp):
    return struct.unpack(">I", rsp[6:10])[0]


def readable(fd, timeout_s):
    """poll() for POLLIN; returns (readable, seconds poll() took)."""
    p = select.poll()
    p.register(fd, select.POLLIN)
    t0 = time.monotonic()
    ev = p.poll(int(timeout_s * 1000))
    return bool(ev and ev[0][1] & select.POLLIN), time.monotonic() - t0


def rm_counter(name):
    """A counter of /sys/class/tpm/tpm0/rm (not on vanilla: None)."""
    try:
        with open("/sys/class/tpm/tpm0/rm/" + name) as f:
            return int(f.read())
    except OSError:
        return None


def timed(fn, *args):
    t0 = time.monotonic()
    ret = fn(*args)
    return ret, time.monotonic() - t0


class Holders:
    """Clients holding every session the TPM has, closed at the end."""

    def __enter__(self):
        # the resource manager learns the TPM's sessions on first use
        with Client() as c:
            c.flush(c.start_session().handle)
        self.clients = []
        fill_tpm(self.clients)
        return self

    def release_one(self):
        c, _ = self.clients.pop()
        c.close()

    def __exit__(self, *a):
        for c, _ in self.clients:
            c.close()


def async_waiter():
    """An O_NONBLOCK file whose StartAuthSession waits for a session."""
    w = Client(flags=os.O_NONBLOCK)
    os.write(w.fd, start_session_cmd())
    return w


def assert_waiting(w, what="StartAuthSession"):
    ok, dt = readable(w.fd, 0.3)
    assert dt < 0.6, "poll() blocked %.2f s" % dt
    if ok:
        rc = rc_of(os.read(w.fd, 4096))
        raise AssertionError("%s answered at once, rc 0x%x (it did not "
                             "wait)" % (what, rc))


@vanilla_xfail
def test_nonblock_close_while_waiting():
    """close() of an O_NONBLOCK file whose StartAuthSession waits
    returns at once, and leaves no trace: its place in the queue goes to
    the next waiter."""
    with param("rm_session_wait_ms", WAIT_MS), Holders() as h:
        waits = rm_counter("waits")
        w = async_waiter()
        time.sleep(0.3)
        _, dt = timed(w.close)
        print("# close() of a waiting O_NONBLOCK file: %.3f s" % dt)
        assert rm_counter("waits") == waits + 1, "it did not wait"
        assert dt < 0.5, "close() took %.2f s" % dt
        # the next waiter is not stuck behind the closed one
        w2 = async_waiter()
        assert_waiting(w2)
        h.release_one()
        ok, dt = readable(w2.fd, 2)
        assert ok, "no session for the next waiter"
        rsp = os.read(w2.fd, 4096)
        assert rc_of(rsp) == 0, hex(rc_of(rsp))
        w2.close()


@vanilla_xfail
def test_nonblock_poll_read_write_while_waiting():
    """While its StartAuthSession waits, an O_NONBLOCK file answers at
    once: poll() not readable, read() EAGAIN, a second write() EBUSY.
    When a holder closes, poll() turns readable and the response is a
    session."""
    with param("rm_session_wait_ms", WAIT_MS), Holders() as h:
        w = async_waiter()
        assert_waiting(w)
        t0 = time.monotonic()
        try:
            os.read(w.fd, 4096)
            raise AssertionError("read() returned while waiting")
        except BlockingIOError:
            pass
        dt = time.monotonic() - t0
        assert dt < 0.5, "read() took %.2f s" % dt
        t0 = time.monotonic()
        try:
            os.write(w.fd, get_random_cmd())
            raise AssertionError("a second write() was accepted")
        except OSError as e:
            assert e.errno == errno.EBUSY, e
        dt = time.monotonic() - t0
        assert dt < 0.5, "write() took %.2f s" % dt
        print("# read() EAGAIN and write() EBUSY while waiting, "
              "%.3f s" % dt)
        assert_waiting(w)
        h.release_one()
        ok, dt = readable(w.fd, 2)
        print("# readable %.3f s after a holder closed" % dt)
        assert ok, "not readable after a holder closed"
        rsp = os.read(w.fd, 4096)
        assert rc_of(rsp) == 0, hex(rc_of(rsp))
        handle = struct.unpack(">I", rsp[10:14])[0]
        assert handle >> 24 == 0x02, hex(handle)
        w.close()


@vanilla_xfail
def test_nonblock_waiters_leave_others_alone():
    """WAITERS O_NONBLOCK files wait for a session (all queued from one
    CPU); another user's async GetRandom on a fresh O_NONBLOCK file
    completes promptly, and so does a blocking one."""
    waiters = []
    cpus = os.sched_getaffinity(0)
    with param("rm_session_wait_ms", WAIT_MS), Holders():
        try:
            os.sched_setaffinity(0, {min(cpus)})
            t0 = time.monotonic()
            for _ in range(WAITERS):
                waiters.append(async_waiter())
            queued = time.monotonic() - t0
            time.sleep(0.3)
            with Client(flags=os.O_NONBLOCK) as o:
                t0 = time.monotonic()
                os.write(o.fd, get_random_cmd())
                ok, _ = readable(o.fd, 8)
                dt = time.monotonic() - t0
                assert ok, "no answer to GetRandom in 8 s"
                assert rc_of(os.read(o.fd, 4096)) == 0
            with Client() as b:
                _, bdt = timed(b.get_random, 8)
            print("# %d O_NONBLOCK waiters (queued in %.2f s): async "
                  "GetRandom %.3f s, blocking %.3f s" %
                  (WAITERS, queued, dt, bdt))
            assert dt < 1.0, "async GetRandom took %.2f s" % dt
            assert bdt < 1.0, "blocking GetRandom took %.2f s" % bdt
            for w in waiters[:5] + waiters[-5:]:
                assert_waiting(w)
        finally:
            os.sched_setaffinity(0, cpus)
            t0 = time.monotonic()
            for w in waiters:
                w.close()
            print("# closing %d waiters: %.2f s" %
                  (len(waiters), time.monotonic() - t0))


@vanilla_xfail
def test_signal_ends_blocking_wait():
    """SIGALRM to a process blocked in StartAuthSession ends the wait
    at once with RM|TPM_RC_CANCELED; the client can start a session
    afterwards (it left the queue)."""
    fired = []

    def on_alarm(signum, frame):
        fired.append(time.monotonic())

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        with param("rm_session_wait_ms", WAIT_MS), Holders() as h:
            with Client() as w:
                signal.setitimer(signal.ITIMER_REAL, 0.5)
                t0 = time.monotonic()
                rsp = w.raw(start_session_cmd())
                done = time.monotonic()
                assert fired, "returned before the signal (no wait)"
                late = done - fired[0]
                print("# signal after %.3f s: answered %.3f s later, "
                      "rc 0x%x" % (fired[0] - t0, late, rc_of(rsp)))
                assert rc_of(rsp) == RM_CANCELED, hex(rc_of(rsp))
                assert late < 0.3, "answered %.2f s after the signal" % late
                # out of the queue: a freed session is this client's
                h.release_one()
                s, dt = timed(w.start_session)
                assert dt < 1.5, "next StartAuthSession took %.2f s" % dt
                w.flush(s.handle)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@vanilla_xfail
def test_waiters_closing_while_woken():
    """Waiters, O_NONBLOCK and blocking, close while holders close and
    wake them: every race of a wake-up with a close() (vm-run fails on
    any KASAN or lockdep report).  A session can be had afterwards."""
    with param("rm_session_wait_ms", WAIT_MS):
        for rnd in range(3):
            with Holders() as h:
                waiters = [async_waiter() for _ in range(40)]
                blocked = []

                def blocking():
                    c = Client()
                    blocked.append(c)
                    try:
                        c.raw(start_session_cmd())
                    except OSError:
                        pass    # closed under it

                threads = [threading.Thread(target=blocking)
                           for _ in range(4)]
                for t in threads:
                    t.start()
                assert_waiting(waiters[0])
                closers = []
                for i, w in enumerate(waiters):
                    if i % 4 == 0 and h.clients:
                        closers.append(threading.Thread(target=h.release_one))
                    closers.append(threading.Thread(target=w.close))
                for t in closers:
                    t.start()
                for t in closers:
                    t.join()
                for t in threads:
                    t.join(WAIT_MS / 1000 + 5)
                    assert not t.is_alive(), "a blocking waiter hangs"
                for c in blocked:
                    c.close()
        with Client() as c:
            s, dt = timed(c.start_session)
            assert dt < 1.0, dt
