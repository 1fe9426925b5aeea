# SPDX-License-Identifier: GPL-2.0
"""Kernel callers beside a busy /dev/tpmrm0: trusted keys created and
loaded again, and the TPM hwrng (both use the kernel's HMAC sessions),
while clients keep every object and session slot of the TPM taken."""
import os
import shutil
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

    th = [threading.Thread(target=busy, args=(i,)) for i in range(6)]
    for t in th:
        t.start()
    env = dict(os.environ, TPM2TOOLS_TCTI="device:/dev/tpmrm0")
    tools = ["tpm2_createprimary -Q -C o -G ecc -c /tmp/srk.ctx",
             "tpm2_evictcontrol -Q -C o -c /tmp/srk.ctx 0x81000101"]
    for t in tools:
        subprocess.run(t.split(), env=env, check=True)
    try:
        with open("/sys/class/misc/hw_random/rng_current") as f:
            hwrng = f.read().startswith("tpm")
    except OSError:
        hwrng = False
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
        stop.set()
        for t in th:
            t.join()
        subprocess.run("tpm2_evictcontrol -Q -C o -c 0x81000101".split(),
                       env=env)
    print("# 8 trusted keys sealed and loaded again, %s, beside %d client "
          "signatures" % ("8 hwrng reads" if hwrng else "no TPM hwrng here",
                          signs[0]))
    assert not errors, errors[:3]
