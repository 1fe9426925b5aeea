# SPDX-License-Identifier: GPL-2.0
"""A structure-aware fuzzer for /dev/tpmrm0.

Several clients at once send valid command streams (CreatePrimary,
Create/Load, StartAuthSession, Sign, ContextSave/ContextLoad,
FlushContext, GetCapability, hash sequences, GetRandom) and mutations of
them (flipped bytes, cut buffers, lying sizes, handles of other clients,
random handles), close and reopen at random, use non-blocking mode and
read partially.  After every step:
  - write() either takes the command or fails with a documented errno
    (EINVAL, E2BIG, EBUSY), and every response is well formed;
  - GetCapability lists a client only handles the TPM gave to it;
and after all clients closed, the TPM holds no transient object and no
session (checked on /dev/tpm0).  run(seconds, seed) returns figures.
"""
import errno
import os
import random
import select
import struct
import threading
import time

import tpm2rm
from tpm2rm import Client, TPMError

ALLOWED_ERRNOS = {errno.EINVAL, errno.E2BIG, errno.EBUSY}


class Violation(Exception):
    pass


class FuzzClient:
    def __init__(self, rnd, pool, stats):
        self.rnd, self.pool, self.stats = rnd, pool, stats
        self.open()

    def open(self):
        flags = os.O_NONBLOCK if self.rnd.random() < 0.2 else 0
        self.c = Client(flags=flags)
        self.c.raw = self.lib_raw
        self.nonblock = bool(flags)
        self.objects, self.sessions, self.blobs = [], [], []
        self.mine = set()

    def close(self):
        self.c.close()

    # -- sending, with the invariants --
    def raw(self, cmd, partial=False):
        cc = struct.unpack(">I", cmd[6:10])[0] if len(cmd) >= 10 else 0
        self.stats["ccs"].add(cc)
        self.stats["commands"] += 1
        try:
            os.write(self.c.fd, cmd)
        except OSError as e:
            if e.errno not in ALLOWED_ERRNOS:
                raise Violation("write of cc 0x%x: errno %d" % (cc, e.errno))
            self.stats["errnos"][e.errno] = self.stats["errnos"].get(e.errno, 0) + 1
            return None
        if self.nonblock:
            select.select([self.c.fd], [], [], 120)
        try:
            # non-blocking: the errno of the command comes with the read
            if partial:
                os.read(self.c.fd, self.rnd.randint(1, 12))
                return None
            rsp = os.read(self.c.fd, 4096)
        except OSError as e:
            if e.errno not in ALLOWED_ERRNOS or not self.nonblock:
                raise Violation("read after cc 0x%x: errno %d" % (cc, e.errno))
            self.stats["errnos"][e.errno] = self.stats["errnos"].get(e.errno, 0) + 1
            return None
        if len(rsp) < 10 or struct.unpack(">I", rsp[2:6])[0] != len(rsp) or \
           struct.unpack(">H", rsp[:2])[0] not in (0x8001, 0x8002, 0x00C4):
            raise Violation("malformed response to 0x%x: %s" % (cc, rsp[:16].hex()))
        return rsp

    def send(self, cmd):
        """A valid command through the client library (names, HMACs);
        a write that failed comes back as a TPM error."""
        return cmd()

    def lib_raw(self, b):
        return self.raw(b) or struct.pack(">HII", 0x8001, 10, 1)

    # -- actions --
    def act(self):
        r = self.rnd.random()
        try:
            if r < 0.08:
                h = self.send(lambda: self.c.create_primary(tpm2rm.ATTR_SIGN))
                self.objects.append(h)
                self.mine.add(h)
            elif r < 0.16:
                s = self.send(lambda: self.c.start_session(
                    policy=self.rnd.random() < 0.3))
                self.sessions.append(s)
                self.mine.add(s.handle)
            elif r < 0.30 and self.objects:
                s = self.rnd.choice(self.sessions) if self.sessions and \
                    self.rnd.random() < 0.7 else None
                self.send(lambda: self.c.sign(self.rnd.choice(self.objects), s))
            elif r < 0.36 and (self.objects or self.sessions):
                h = self.rnd.choice(self.objects + [s.handle for s in self.sessions])
                blob = self.send(lambda: self.c.context_save(h))
                self.blobs.append(blob)
                self.pool_add(blob)
            elif r < 0.42 and self.blobs:
                h = self.send(lambda: self.c.context_load(self.rnd.choice(self.blobs)))
                self.mine.add(h)
                if h >> 24 == 0x80:
                    self.objects.append(h)
            elif r < 0.50 and (self.objects or self.sessions):
                h = self.rnd.choice(self.objects + [s.handle for s in self.sessions])
                self.send(lambda: self.c.flush(h))
                self.forget(h)
            elif r < 0.58:
                self.check_listing()
            elif r < 0.62:
                h = self.send(lambda: self.c.hash_sequence())
                self.objects.append(h)
                self.mine.add(h)
            elif r < 0.66:
                self.send(lambda: self.c.get_random(self.rnd.randint(0, 64)))
            elif r < 0.90:
                self.mutant()
            elif r < 0.93:
                self.raw(self.some_command(), partial=True)
            elif r < 0.96:
                self.foreign()
            else:
                self.close()
                self.stats["reopens"] += 1
                self.open()
        except TPMError:
            pass

    def forget(self, h):
        self.objects = [o for o in self.objects if o != h]
        self.sessions = [s for s in self.sessions if s.handle != h]

    def pool_add(self, blob):
        with self.pool["lock"]:
            self.pool["blobs"].append(blob)
            del self.pool["blobs"][:-50]

    def some_command(self):
        cmds = [struct.pack(">HIIH", 0x8001, 12, 0x17B, 8),
                struct.pack(">HIIIII", 0x8001, 22, 0x17A, 1, 0x80000000, 20)]
        for h in self.objects[:1]:
            cmds.append(struct.pack(">HIII", 0x8001, 14, 0x162, h))
        return self.rnd.choice(cmds)

    def mutant(self):
        cmd = bytearray(self.some_command())
        rnd = self.rnd
        k = rnd.randint(0, 4)
        if k == 0:
            for _ in range(rnd.randint(1, 4)):
                cmd[rnd.randrange(len(cmd))] = rnd.randrange(256)
        elif k == 1:
            cmd = cmd[:rnd.randrange(len(cmd) + 1)]
        elif k == 2:
            cmd[2:6] = struct.pack(">I", rnd.choice([0, 9, 10, 4096, 5000,
                                                      0xFFFFFFFF, len(cmd) + 1]))
        elif k == 3:
            cmd += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64)))
            cmd[0:2] = struct.pack(">H", 0x8002)
            cmd[2:6] = struct.pack(">I", len(cmd))
        else:
            cmd = bytearray(rnd.randrange(256) for _ in range(rnd.randint(0, 80)))
        if len(cmd) > 4096 or rnd.random() < 0.02:
            cmd += bytes(4100)
        self.raw(bytes(cmd))

    def foreign(self):
        """Name a handle of another client, or a random one."""
        rnd = self.rnd
        with self.pool["lock"]:
            others = list(self.pool["handles"] - self.mine)
            blobs = list(self.pool["blobs"])
        h = rnd.choice(others) if others and rnd.random() < 0.7 else \
            rnd.choice([0x80000000, 0x02000000, 0x03000000]) + rnd.randrange(64)
        which = rnd.randrange(4)
        if which == 0:
            cmd = struct.pack(">HIII", 0x8001, 14, 0x165, h)
        elif which == 1:
            cmd = struct.pack(">HIII", 0x8001, 14, 0x162, h)
        elif which == 2 and self.objects:
            cmd = struct.pack(">HIIII", 0x8002, 27, 0x15D, self.objects[0], 9)
            cmd += struct.pack(">IHBH", h, 0, 1, 0)
        elif blobs:
            blob = rnd.choice(blobs)
            cmd = struct.pack(">HII", 0x8001, 10 + len(blob), 0x161) + blob
            which = 3
        else:
            return
        rsp = self.raw(cmd)
        if not rsp or struct.unpack(">I", rsp[6:10])[0]:
            return
        if which >= 3:
            # a context someone saved: loading it is a legitimate hand-off
            self.mine.add(struct.unpack(">I", rsp[10:14])[0])
        elif which != 1 and not self.holds(h):
            raise Violation("client used foreign handle 0x%x (cc 0x%x; "
                            "it holds %s)" % (h, struct.unpack(">I", cmd[6:10])[0],
                                              sorted(hex(x) for x in self.mine)))

    def holds(self, h):
        """The client holds h; a session by its index, whatever the
        handle's type, as the TPM knows it."""
        if h in self.mine:
            return True
        return h >> 24 in (2, 3) and any(
            m >> 24 in (2, 3) and m & 0xFFFFFF == h & 0xFFFFFF
            for m in self.mine)

    def check_listing(self):
        for prop in (0x80000000, 0x02000000, 0x03000000):
            handles = self.send(lambda: self.c.handles(prop))
            if handles is None:
                continue
            for h in handles:
                if not self.holds(h):
                    raise Violation("listed 0x%x it was never given" % h)

    def publish(self):
        with self.pool["lock"]:
            self.pool["handles"] |= self.mine


def tpm_is_empty():
    """What the resource manager put in the TPM is gone."""
    with Client("/dev/tpm0") as raw:
        left = []
        for prop in (0x80000000, 0x02000000, 0x03000000):
            left += raw.handles(prop)
    return left


def run(seconds, seed, clients=6):
    stats = {"commands": 0, "ccs": set(), "errnos": {}, "reopens": 0,
             "violations": []}
    pool = {"lock": threading.Lock(), "handles": set(), "blobs": []}
    deadline = time.monotonic() + seconds

    def worker(i):
        rnd = random.Random(seed * 1000 + i)
        fc = FuzzClient(rnd, pool, stats)
        try:
            while time.monotonic() < deadline:
                fc.act()
                fc.publish()
        except Violation as e:
            stats["violations"].append(str(e))
        except Exception as e:  # a bug of the fuzzer, or of the kernel
            stats["violations"].append("%s: %s" % (type(e).__name__, e))
        finally:
            fc.close()

    th = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    stats["left_in_tpm"] = tpm_is_empty()
    stats["ccs"] = len(stats["ccs"])
    return stats
