# SPDX-License-Identifier: GPL-2.0
"""Kernel callers beside a busy /dev/tpmrm0: trusted keys created and
loaded again, the TPM hwrng, and IMA extending PCR 10 (all use the
kernel's HMAC sessions), while clients keep every object and session slot
of the TPM taken."""
import contextlib
import hashlib
import os
import shutil
import struct
import subprocess
import threading

from common import Client, Skip, TPMError
import tpm2rm


def keyctl(*args, data=None):
    p = subprocess.run(["keyctl"] + list(args), input=data,
                       capture_output=True, text=True)
    if p.returncode:
        raise AssertionError("keyctl %s: %s" % (" ".join(args), p.stderr))
    return p.stdout.strip()


def test_trusted_keys_and_hwrng_under_load():
    if not shutil.which("keyctl") or not shutil.which("tpm2_evictcontrol"):
        raise Skip("keyutils or tpm2-tools not installed")
    env = dict(os.environ, TPM2TOOLS_TCTI="device:/dev/tpmrm0")
    try:
        with open("/sys/class/misc/hw_random/rng_current") as f:
            hwrng = f.read().startswith("tpm")
    except OSError:
        hwrng = False
    with busy_clients() as (errors, signs):
        tools = ["tpm2_createprimary -Q -C o -G ecc -c /tmp/srk.ctx",
                 "tpm2_evictcontrol -Q -C o -c /tmp/srk.ctx 0x81000101"]
        for t in tools:
            subprocess.run(t.split(), env=env, check=True)
        try:
            ring = keyctl("newring", "tpm2rm", "@u")
            for i in range(8):
                kid = keyctl("add", "trusted", "kmk%d" % i,
                             "new 32 keyhandle=0x81000101", ring)
                blob = keyctl("pipe", kid)
                kid2 = keyctl("add", "trusted", "kmk%d-again" % i,
                              "load %s keyhandle=0x81000101" % blob, ring)
                keyctl("pipe", kid2)
                if hwrng:
                    fd = os.open("/dev/hwrng", os.O_RDONLY)
                    try:
                        assert len(os.read(fd, 32)) > 0
                    finally:
                        os.close(fd)
            keyctl("unlink", ring, "@u")
        finally:
            subprocess.run("tpm2_evictcontrol -Q -C o -c 0x81000101".split(),
                           env=env)
    print("# 8 trusted keys sealed and loaded again, %s, beside %d client "
          "signatures" % ("8 hwrng reads" if hwrng else "no TPM hwrng here",
                          signs[0]))
    assert not errors, errors[:3]


@contextlib.contextmanager
def busy_clients(n=6):
    """n clients, each signing with 3 keys and 3 sessions in a loop;
    yields the list of their errors and a one-element count of signs."""
    stop = threading.Event()
    errors, signs = [], [0]

    def busy(i):
        try:
            with Client() as c:
                keys = [c.create_primary(tpm2rm.ATTR_SIGN) for _ in range(3)]
                ss = [c.start_session() for _ in range(3)]
                while not stop.is_set():
                    for k, s in zip(keys, ss):
                        c.sign(k, s)
                        signs[0] += 1
        except (TPMError, OSError) as e:
            errors.append("client %d: %s" % (i, e))

    th = [threading.Thread(target=busy, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    try:
        yield errors, signs
    finally:
        stop.set()
        for t in th:
            t.join()


IMA = "/sys/kernel/security/ima"
IMA_OWNER = 4242
TMPFS_MAGIC = 0x01021994


def ima_replay():
    """PCR 10 of each hash in hashlib, replayed from IMA's binary
    measurement list (template ima-ng: the digest of a bank is its hash
    over the template data; a violation extends all ones)."""
    with open(IMA + "/binary_runtime_measurements", "rb") as f:
        data = f.read()
    pcrs, off, n = {}, 0, 0
    while off < len(data):
        pcr, = struct.unpack_from("<I", data, off)
        sha1 = data[off + 4:off + 24]
        nlen, = struct.unpack_from("<I", data, off + 24)
        off += 28 + nlen
        dlen, = struct.unpack_from("<I", data, off)
        tdata = data[off + 4:off + 4 + dlen]
        off += 4 + dlen
        if pcr != 10:
            continue
        n += 1
        violation = sha1 == bytes(20)
        assert violation or hashlib.sha1(tdata).digest() == sha1
        for alg in ("sha1", "sha256", "sha384", "sha512"):
            size = hashlib.new(alg).digest_size
            d = b"\xff" * size if violation else hashlib.new(alg, tdata).digest()
            pcrs[alg] = hashlib.new(alg, pcrs.get(alg, bytes(size)) + d).digest()
    return pcrs, n


def test_ima_under_load():
    if not os.path.isdir("/sys/kernel/security/integrity") and \
       not os.path.isdir(IMA):
        subprocess.run(["mount", "-t", "securityfs", "securityfs",
                        "/sys/kernel/security"], check=False)
    if not os.path.isdir(IMA):
        raise Skip("no IMA in this kernel")
    # measure what this test reads, and nothing else
    with open(IMA + "/policy", "w") as f:
        f.write("measure func=FILE_CHECK mask=MAY_READ fsmagic=0x%x "
                "fowner=%d\n" % (TMPFS_MAGIC, IMA_OWNER))
    d = "/tmp/ima-%d" % os.getpid()
    os.makedirs(d)
    want = {}
    with busy_clients() as (errors, signs):
        for i in range(24):
            path = os.path.join(d, "f%d" % i)
            body = os.urandom(64 + i)
            with open(path, "wb") as f:
                f.write(body)
            os.chown(path, IMA_OWNER, IMA_OWNER)
            with open(path, "rb") as f:
                assert f.read() == body
            want[path] = hashlib.sha256(body).hexdigest()
    with open(IMA + "/ascii_runtime_measurements") as f:
        seen = {}
        for line in f:
            fields = line.split()
            if len(fields) >= 5:
                seen[fields[4]] = fields[3]
    for path, digest in want.items():
        assert seen.get(path) == "sha256:" + digest, (path, seen.get(path))
    replay, n = ima_replay()
    banks = []
    for alg, value in sorted(replay.items()):
        try:
            with open("/sys/class/tpm/tpm0/pcr-%s/10" % alg) as f:
                pcr = bytes.fromhex(f.read().strip())
        except OSError:
            continue
        assert pcr == value, "PCR 10 (%s) does not replay" % alg
        banks.append(alg)
    assert banks, "no PCR bank to compare"
    log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    assert "Error Communicating to TPM" not in log
    assert not errors, errors[:3]
    print("# IMA: 24 files measured beside %d client signatures; PCR 10 "
          "replays from %d measurements (%s)" % (signs[0], n, ", ".join(banks)))
