# SPDX-License-Identifier: GPL-2.0
"""A small raw TPM 2.0 client for the resource manager's tests.

It speaks the TPM command format directly to /dev/tpmrm0 (or /dev/tpm0),
so every test knows exactly how many client commands it sent.  Keys are
ECC P-256 (fast on swtpm); sessions are unbound, unsalted HMAC sessions
with SHA-256, whose HMAC key is the empty session key plus the object's
empty authValue.
"""
import hashlib
import hmac
import os
import struct

ST_NO_SESSIONS = 0x8001
ST_SESSIONS = 0x8002
RH_OWNER = 0x40000001
RH_NULL = 0x40000007
RS_PW = 0x40000009

CC_EVICT_CONTROL = 0x120
CC_CREATE_PRIMARY = 0x131
CC_CREATE = 0x153
CC_LOAD = 0x157
CC_SIGN = 0x15D
CC_CONTEXT_LOAD = 0x161
CC_CONTEXT_SAVE = 0x162
CC_FLUSH_CONTEXT = 0x165
CC_READ_PUBLIC = 0x173
CC_START_AUTH_SESSION = 0x176
CC_GET_CAPABILITY = 0x17A
CC_GET_RANDOM = 0x17B
CC_HASH_SEQUENCE_START = 0x186
CC_SEQUENCE_UPDATE = 0x15C
CC_SEQUENCE_COMPLETE = 0x13E

CAP_HANDLES = 1
CAP_TPM_PROPERTIES = 6
HR_TRANSIENT = 0x80000000
HR_HMAC_SESSION = 0x02000000
HR_POLICY_SESSION = 0x03000000

RC_LAYER_RM = 11 << 16
ALG_SHA256 = 0x000B
ALG_NULL = 0x0010

# objectAttributes
_BASE = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 10)
ATTR_STORAGE = _BASE | (1 << 16) | (1 << 17)
ATTR_SIGN = _BASE | (1 << 18)


class TPMError(Exception):
    def __init__(self, rc, cc):
        super().__init__("TPM command 0x%x failed: rc 0x%x" % (cc, rc))
        self.rc = rc
        self.cc = cc


def b2(data):
    return struct.pack(">H", len(data)) + data


def ecc_public(attrs):
    if attrs & (1 << 16):
        sym = struct.pack(">HHH", 0x0006, 128, 0x0043)  # AES-128-CFB
        scheme = struct.pack(">H", ALG_NULL)
    else:
        sym = struct.pack(">H", ALG_NULL)
        scheme = struct.pack(">HH", 0x0018, ALG_SHA256)  # ECDSA
    pub = struct.pack(">HHI", 0x0023, ALG_SHA256, attrs) + b2(b"")
    pub += sym + scheme + struct.pack(">HH", 0x0003, ALG_NULL)
    pub += b2(b"") + b2(b"")
    return b2(pub)


class Reader:
    def __init__(self, data, off=0):
        self.d, self.o = data, off

    def u8(self):
        self.o += 1
        return self.d[self.o - 1]

    def u16(self):
        self.o += 2
        return struct.unpack(">H", self.d[self.o - 2:self.o])[0]

    def u32(self):
        self.o += 4
        return struct.unpack(">I", self.d[self.o - 4:self.o])[0]

    def b2(self):
        n = self.u16()
        self.o += n
        return self.d[self.o - n:self.o]


class Session:
    def __init__(self, handle, nonce_tpm):
        self.handle = handle
        self.nonce_tpm = nonce_tpm


class Client:
    def __init__(self, path="/dev/tpmrm0", flags=0):
        self.fd = os.open(path, os.O_RDWR | flags)
        self.commands = 0

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def raw(self, cmd):
        """Send a command, return the whole response (any rc)."""
        self.commands += 1
        os.write(self.fd, cmd)
        return os.read(self.fd, 4096)

    def send(self, cc, handles=(), params=b"", auth=None, tag=None):
        """auth: None, or a list of (session or None for password)."""
        body = b"".join(struct.pack(">I", h) for h in handles)
        if auth is None:
            tag = tag or ST_NO_SESSIONS
            cmd_body = body + params
        else:
            tag = tag or ST_SESSIONS
            area = b""
            for s in auth:
                if s is None:
                    area += struct.pack(">I", RS_PW) + b2(b"") + b"\x01" + b2(b"")
                else:
                    area += self._hmac_auth(s, cc, handles, params)
            cmd_body = body + struct.pack(">I", len(area)) + area + params
        cmd = struct.pack(">HII", tag, 10 + len(cmd_body), cc) + cmd_body
        rsp = self.raw(cmd)
        tag, size, rc = struct.unpack(">HII", rsp[:10])
        if rc:
            raise TPMError(rc, cc)
        if auth is not None:
            self._update_nonces(rsp, auth, cc)
        return rsp

    # Names: the tests use only objects created here, whose name they
    # remember, and handles whose name is the handle itself.
    names = {}

    def _name(self, h):
        return self.names.get((self.fd, h), struct.pack(">I", h))

    def _hmac_auth(self, s, cc, handles, params):
        nonce = os.urandom(16)
        attrs = 1
        cp = hashlib.sha256(struct.pack(">I", cc) +
                            b"".join(self._name(h) for h in handles) +
                            params).digest()
        mac = hmac.new(b"", cp + nonce + s.nonce_tpm + bytes([attrs]),
                       hashlib.sha256).digest()
        return struct.pack(">I", s.handle) + b2(nonce) + bytes([attrs]) + b2(mac)

    def _update_nonces(self, rsp, auth, cc):
        tag = struct.unpack(">H", rsp[:2])[0]
        if tag != ST_SESSIONS:
            return
        r = Reader(rsp, 10)
        if cc in RHANDLE:
            r.u32()
        n = r.u32()
        r.o += n
        for s in auth:
            nonce = r.b2()
            r.u8()
            r.b2()
            if s is not None:
                s.nonce_tpm = nonce

    # -- commands --
    def marker(self):
        """A GetRandom of an unusual size that brackets a workload in
        swtpm's log (tools/testing/tpm2-rm/tpmlog)."""
        self.send(CC_GET_RANDOM, params=struct.pack(">H", 0x7A1))

    def get_random(self, n=16):
        rsp = self.send(CC_GET_RANDOM, params=struct.pack(">H", n))
        return Reader(rsp, 10).b2()

    def create_primary(self, attrs=ATTR_STORAGE):
        params = b2(b2(b"") + b2(b"")) + ecc_public(attrs) + b2(b"")
        params += struct.pack(">I", 0)
        rsp = self.send(CC_CREATE_PRIMARY, [RH_OWNER], params, auth=[None])
        r = Reader(rsp, 10)
        h = r.u32()
        r.u32()
        r.b2()
        r.b2()
        r.b2()
        r.u16()
        r.u32()
        r.b2()
        self.names[(self.fd, h)] = r.b2()
        return h

    def create(self, parent, attrs=ATTR_SIGN):
        params = b2(b2(b"") + b2(b"")) + ecc_public(attrs) + b2(b"")
        params += struct.pack(">I", 0)
        rsp = self.send(CC_CREATE, [parent], params, auth=[None])
        r = Reader(rsp, 10)
        r.u32()
        priv = r.b2()
        pub = r.b2()
        return priv, pub

    def load(self, parent, priv, pub):
        rsp = self.send(CC_LOAD, [parent], b2(priv) + b2(pub), auth=[None])
        r = Reader(rsp, 10)
        h = r.u32()
        r.u32()
        self.names[(self.fd, h)] = r.b2()
        return h

    def start_session(self, policy=False):
        nonce = os.urandom(16)
        params = b2(nonce) + b2(b"") + bytes([1 if policy else 0])
        params += struct.pack(">HH", ALG_NULL, ALG_SHA256)
        rsp = self.send(CC_START_AUTH_SESSION, [RH_NULL, RH_NULL], params)
        r = Reader(rsp, 10)
        h = r.u32()
        return Session(h, r.b2())

    def sign(self, key, session=None, digest=None):
        digest = digest or hashlib.sha256(os.urandom(8)).digest()
        params = b2(digest) + struct.pack(">H", ALG_NULL)
        params += struct.pack(">HI", 0x8024, RH_NULL) + b2(b"")
        return self.send(CC_SIGN, [key], params, auth=[session])

    def flush(self, handle):
        self.send(CC_FLUSH_CONTEXT, params=struct.pack(">I", handle))

    def context_save(self, handle):
        rsp = self.send(CC_CONTEXT_SAVE, [handle])
        return rsp[10:]

    def context_load(self, blob):
        rsp = self.send(CC_CONTEXT_LOAD, params=blob)
        return Reader(rsp, 10).u32()

    def hash_sequence(self):
        rsp = self.send(CC_HASH_SEQUENCE_START,
                        params=b2(b"") + struct.pack(">H", ALG_SHA256))
        return Reader(rsp, 10).u32()

    def get_cap(self, cap, prop, count=256):
        rsp = self.send(CC_GET_CAPABILITY,
                        params=struct.pack(">III", cap, prop, count))
        r = Reader(rsp, 10)
        more = r.u8()
        r.u32()
        n = r.u32()
        if cap == CAP_HANDLES:
            return [r.u32() for _ in range(n)], more
        return [(r.u32(), r.u32()) for _ in range(n)], more

    def handles(self, prop):
        return self.get_cap(CAP_HANDLES, prop)[0]

    def property(self, prop):
        vals, _ = self.get_cap(CAP_TPM_PROPERTIES, prop, 1)
        return vals[0][1] if vals and vals[0][0] == prop else None


RHANDLE = {CC_CREATE_PRIMARY, CC_LOAD, CC_CONTEXT_LOAD, CC_START_AUTH_SESSION,
           CC_HASH_SEQUENCE_START, 0x15B, 0x167, 0x191}
