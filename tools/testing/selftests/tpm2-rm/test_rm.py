# SPDX-License-Identifier: GPL-2.0
"""What this resource manager adds over the one it replaces."""
import os
import struct

from common import Client, TPMError, run_clients, vanilla_xfail
import tpm2rm

RM = tpm2rm.RC_LAYER_RM


@vanilla_xfail
def test_sixteen_objects_eight_sessions():
    with Client() as c:
        parent = c.create_primary()
        priv, pub = c.create(parent)
        keys = [c.load(parent, priv, pub) for _ in range(16)]
        sessions = [c.start_session() for _ in range(8)]
        for i, k in enumerate(keys):
            c.sign(k, sessions[i % 8])
        for i, k in enumerate(keys):
            c.sign(k, sessions[(i + 3) % 8])
        assert len(c.handles(tpm2rm.HR_TRANSIENT)) == 17
        assert len(c.handles(tpm2rm.HR_HMAC_SESSION)) == 8


def test_thirty_two_clients():
    def work(i, bar):
        with Client() as c:
            key = c.create_primary(tpm2rm.ATTR_SIGN)
            s = c.start_session()
            bar.wait()
            for _ in range(3):
                c.sign(key, s)
    errs = run_clients(32, work)
    assert errs == [None] * 32, [e for e in errs if e]


@vanilla_xfail
def test_foreign_session_refused():
    with Client() as a, Client() as b:
        s = a.start_session()
        kb = b.create_primary(tpm2rm.ATTR_SIGN)
        try:
            b.sign(kb, s)
            raise AssertionError("b used a's session")
        except TPMError as e:
            assert e.rc == RM | 0x98B, hex(e.rc)
        try:
            b.flush(s.handle)
            raise AssertionError("b flushed a's session")
        except TPMError as e:
            assert e.rc == RM | 0x1CB, hex(e.rc)
        try:
            b.context_save(s.handle)
            raise AssertionError("b saved a's session")
        except TPMError as e:
            assert e.rc == RM | 0x18B, hex(e.rc)
        assert b.handles(tpm2rm.HR_HMAC_SESSION) == []
        assert b.handles(tpm2rm.HR_POLICY_SESSION) == []
        ka = a.create_primary(tpm2rm.ATTR_SIGN)
        a.sign(ka, s)


def test_foreign_object_refused():
    with Client() as a, Client() as b:
        a.create_primary()
        k2 = a.create_primary()
        b.create_primary()
        for fn in (lambda: b.sign(k2), lambda: b.flush(k2),
                   lambda: b.context_save(k2)):
            try:
                fn()
                raise AssertionError("b reached a's object")
            except OSError as e:
                assert e.errno == 22


@vanilla_xfail
def test_malformed_commands_get_rm_codes():
    with Client() as c:
        # auth area larger than the command
        cmd = struct.pack(">HIII", 0x8002, 18, 0x17B, 0xFFFF)
        rsp = c.raw(cmd + b"\0" * 4)
        rc = struct.unpack(">I", rsp[6:10])[0]
        assert rc == RM | 0x144, hex(rc)
        # bad tag
        rsp = c.raw(struct.pack(">HIIH", 0x1234, 12, 0x17B, 8))
        rc = struct.unpack(">I", rsp[6:10])[0]
        assert rc == RM | 0x01E, hex(rc)
        assert len(c.get_random(8)) == 8


def test_session_handoff_between_files():
    with Client() as a:
        s = a.start_session()
        blob = a.context_save(s.handle)
    with Client() as b:
        h = b.context_load(blob)
        assert h == s.handle
        key = b.create_primary(tpm2rm.ATTR_SIGN)
        b.sign(key, s)


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def test_thousands_of_idle_files():
    """4000 open files cost little, and a client beside them works."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 5000), max(hard, 5000)))
    before = meminfo("MemAvailable")
    fds = []
    try:
        for _ in range(4000):
            fds.append(os.open("/dev/tpmrm0", os.O_RDWR))
        kib = (before - meminfo("MemAvailable")) / len(fds)
        print("# %d idle files: about %.1f KiB each" % (len(fds), kib))
        with Client() as c:
            c.sign(c.create_primary(tpm2rm.ATTR_SIGN), c.start_session())
    finally:
        for fd in fds:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
