# SPDX-License-Identifier: GPL-2.0
"""Who holds what: /sys/kernel/debug/tpm0/rm/clients and tpm2-rm-top.

Clients of this process and of a child of another user hold objects,
a sequence and sessions in each state (resident, saved by the resource
manager, saved by the client, revoked, handed off); the file must show
each of them, and only to root."""
import ctypes
import os
import subprocess
import sys
import threading
import time

from common import Client, Skip, param, world_usable
import tpm2rm

VIEW = "/sys/kernel/debug/tpm0/rm/clients"
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "../../../tpm/tpm2-rm-top.py")
USER = 1000
CHILD_COMM = b"rm view\\kid"          # escaped: rm\040view\134kid
CHILD_COMM_RAW = "rm\\040view\\134kid"


def view():
    """Parse the file: {"client": {id: fields}, "context": [fields],
    "handoff": [fields], "raw": text}; columns by the header's names."""
    if not os.path.exists(VIEW):
        raise Skip("no %s on this kernel" % VIEW)
    with open(VIEW) as f:
        text = f.read()
    cols, out = {}, {"client": {}, "context": [], "handoff": [], "raw": text}
    for line in text.splitlines():
        words = line.split(" ")
        if words[0] == "#":
            cols[words[1]] = words[2:]
            continue
        assert words[0] in cols, "record before its header: %r" % line
        assert len(words) == len(cols[words[0]]) + 1, "columns: %r" % line
        rec = dict(zip(cols[words[0]], words[1:]))
        if words[0] == "client":
            assert rec["ID"] not in out["client"], "client twice: %r" % line
            out["client"][rec["ID"]] = rec
        else:
            out[words[0]].append(rec)
    assert list(cols) == ["client", "context", "handoff"], cols
    return out


def client_of(v, pid, uid):
    return [c for c in v["client"].values()
            if c["PID"] == str(pid) and c["UID"] == str(uid)]


def contexts_of(v, cid):
    return {int(x["HANDLE"], 16): x for x in v["context"] if x["CLIENT"] == cid}


def state(ctxs, handle):
    return ctxs[handle]["STATE"]


class Child:
    """A process of user USER named CHILD_COMM holding a key and a
    session it saved, until told to close; reports its pid, handles
    and the saved context."""

    def __init__(self):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(r1)
            os.close(w2)
            try:
                ctypes.CDLL(None).prctl(15, CHILD_COMM, 0, 0, 0)
                os.setresgid(USER, USER, USER)
                os.setresuid(USER, USER, USER)
                with Client() as c:
                    key = c.create_primary(tpm2rm.ATTR_SIGN)
                    s = c.start_session()
                    c.get_random(8)
                    blob = c.context_save(s.handle)
                    os.write(w1, ("ok %d %d %d %s\n" % (
                        c.commands, key, s.handle, blob.hex())).encode())
                    os.read(r2, 1)
                os.write(w1, b"closed\n")
            except BaseException as e:  # reported to the parent
                os.write(w1, ("error %r\n" % e).encode())
            os._exit(0)
        os.close(w1)
        os.close(r2)
        self.out = os.fdopen(r1)
        self.go = w2
        words = self.out.readline().split()
        if not words or words[0] != "ok":
            self.wait()
            raise AssertionError("child: %s" % " ".join(words))
        self.commands, self.key, self.session = map(int, words[1:4])
        self.blob = bytes.fromhex(words[4])

    def close(self):
        os.write(self.go, b"x")
        line = self.out.readline().strip()
        assert line == "closed", line

    def wait(self):
        os.close(self.go)
        self.out.close()
        os.waitpid(self.pid, 0)


def read_as_user(path):
    """Errno of open() by USER, 0 if it could open the file."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(USER, USER, USER)
            os.setresuid(USER, USER, USER)
            with open(path) as f:
                f.read()
            os._exit(0)
        except OSError as e:
            os._exit(e.errno or 255)
        except BaseException:
            os._exit(255)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_view_root_only():
    """The file is root's alone: mode 0400, and a user cannot open it."""
    view()
    assert os.stat(VIEW).st_mode & 0o777 == 0o400, oct(os.stat(VIEW).st_mode)
    err = read_as_user(VIEW)
    assert err == 13, "open by uid %d: errno %d" % (USER, err)


def test_view_shows_each_client_and_context():
    """Two clients here and one of another user in a child: each client
    line (pid, uid, name, commands), each context with its handle and
    state, a closed client's hand-off; tpm2-rm-top lists them."""
    view()
    with open("/proc/self/comm") as f:
        comm = f.read().strip()
    with world_usable(), Client() as a, Client() as b:
        # four keys in three object slots: the first is saved by the RM
        keys = [a.create_primary(tpm2rm.ATTR_SIGN) for _ in range(4)]
        seq = a.hash_sequence()
        # four sessions in three session slots: the first is saved
        sessions = [a.start_session() for _ in range(4)]
        for s in sessions[1:]:
            a.sign(keys[3], s)
        mine = a.start_session()
        a.get_random(8)
        a.context_save(mine.handle)
        b.get_random(8)
        child = Child()
        try:
            v = view()
            ca = client_of(v, os.getpid(), 0)
            assert len(ca) == 2, ca
            ca, cb = sorted(ca, key=lambda c: int(c["ID"]))
            assert ca["COMM"] == comm and cb["COMM"] == comm, (ca, comm)
            assert (ca["OBJECTS"], ca["SEQUENCES"], ca["SESSIONS"]) == \
                ("4", "1", "5"), ca
            assert ca["COMMANDS"] == str(a.commands), (ca, a.commands)
            assert int(ca["TPM_COMMANDS"]) > a.commands, ca
            assert (ca["WAIT"], ca["WAIT_MS"]) == ("-", "-"), ca
            ctxs = contexts_of(v, ca["ID"])
            want = {k: "object" for k in keys}
            want[seq] = "sequence"
            want.update({s.handle: "session" for s in sessions + [mine]})
            assert {h: c["KIND"] for h, c in ctxs.items()} == want, ctxs
            # evicted and not used since: saved by the resource manager
            assert state(ctxs, keys[0]) == "rm-saved", ctxs[keys[0]]
            assert state(ctxs, sessions[0].handle) == "rm-saved"
            assert state(ctxs, mine.handle) == "client-saved"
            # the kernel's own commands may evict more in the meantime
            for h in keys[1:] + [seq] + [s.handle for s in sessions[1:]]:
                assert state(ctxs, h) in ("resident", "rm-saved"), ctxs[h]
            for c in ctxs.values():
                assert (c["TPM_HANDLE"] != "-") == (c["STATE"] == "resident")
                assert (c["AGE_MS"] != "-") == (c["KIND"] == "session")
            assert "resident" in [c["STATE"] for c in ctxs.values()]
            # one GetRandom: one command, one TPM command
            assert (cb["COMMANDS"], cb["TPM_COMMANDS"]) == ("1", "1"), cb
            assert not contexts_of(v, cb["ID"]), v["context"]

            cc = client_of(v, child.pid, USER)
            assert len(cc) == 1, v["client"]
            cc = cc[0]
            assert cc["COMM"] == CHILD_COMM_RAW, cc
            assert cc["COMMANDS"] == str(child.commands), cc
            assert (cc["OBJECTS"], cc["SESSIONS"]) == ("1", "1"), cc
            ctxs = contexts_of(v, cc["ID"])
            assert set(ctxs) == {child.key, child.session}, ctxs
            assert state(ctxs, child.session) == "client-saved"
            assert int(cc["ID"]) > int(cb["ID"]) > int(ca["ID"])

            top = subprocess.run([sys.executable, TOP, "--once"],
                                 capture_output=True, text=True, timeout=60)
            assert top.returncode == 0, top.stderr
            for line in top.stdout.splitlines():
                print("# top: " + line)
            rows = {tuple(line.split()[:3]) for line in top.stdout.splitlines()}
            for c in (ca, cb, cc):
                assert (c["ID"], c["PID"], c["UID"]) in rows, c
            assert [line for line in top.stdout.splitlines()
                    if line.split()[:1] == ["total"]], top.stdout

            child.close()
            v = view()
            assert not client_of(v, child.pid, USER), v["client"]
            assert not contexts_of(v, cc["ID"])
            h = [x for x in v["handoff"] if int(x["HANDLE"], 16) == child.session]
            assert len(h) == 1, v["handoff"]
            assert h[0]["UID"] == str(USER) and int(h[0]["AGE_MS"]) < 60000, h
            # root takes the hand-off over and ends it
            assert a.context_load(child.blob) == child.session
            a.flush(child.session)
            v = view()
            assert child.session not in [int(x["HANDLE"], 16)
                                         for x in v["handoff"]]
        finally:
            child.wait()
    v = view()
    assert not client_of(v, os.getpid(), 0), v["client"]


def client_sessions():
    with open("/sys/class/tpm/tpm0/rm/max_sessions") as f:
        return int(f.read())


def test_view_shows_waiting_and_revoked():
    """With every session held, a third client's StartAuthSession shows
    in the "new" queue with a growing wait; once it gets a session by
    revocation, the session it took shows as revoked at its owner."""
    view()
    with param("rm_session_wait_ms", 1500), param("rm_client_sessions", 40):
        with Client() as a, Client() as b, Client() as c:
            total = client_sessions()
            sa = [a.start_session() for _ in range(40)]
            a.get_random(8)
            sb = [b.start_session() for _ in range(total - 40)]
            b.get_random(8)
            ka = a.create_primary(tpm2rm.ATTR_SIGN)
            for s in sa[1:]:
                a.sign(ka, s)
            got = []
            t = threading.Thread(target=lambda: got.append(c.start_session()))
            t.start()
            time.sleep(0.5)
            v = view()
            mine = client_of(v, os.getpid(), 0)
            waiting = [x for x in mine if x["WAIT"] != "-"]
            t.join()
            assert len(waiting) == 1, mine
            assert waiting[0]["WAIT"] == "new" and waiting[0]["SESSIONS"] == "0"
            assert 300 <= int(waiting[0]["WAIT_MS"]) < 1500, waiting[0]
            print("# waiting: %s" % " ".join("%s=%s" % kv for kv in
                                               waiting[0].items()))
            assert got, "no session for the waiter"
            v = view()
            ids = sorted(client_of(v, os.getpid(), 0), key=lambda x: int(x["ID"]))
            va, vb, vc = ids
            ctxs = contexts_of(v, va["ID"])
            revoked = [h for h, x in ctxs.items() if x["STATE"] == "revoked"]
            assert revoked == [sa[0].handle], [hex(h) for h in revoked]
            assert va["SESSIONS"] == "39" and vb["SESSIONS"] == str(len(sb))
            assert vc["SESSIONS"] == "1" and vc["WAIT"] == "-", vc
            assert state(contexts_of(v, vc["ID"]), got[0].handle) in \
                ("resident", "rm-saved")
