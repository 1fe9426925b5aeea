# SPDX-License-Identifier: GPL-2.0
"""Helpers shared by the integration tests."""
import contextlib
import os
import threading
import time

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


@contextlib.contextmanager
def world_usable(path="/dev/tpmrm0"):
    """Let any user open PATH for the duration (tests of other uids)."""
    mode = os.stat(path).st_mode & 0o777
    os.chmod(path, 0o666)
    try:
        yield
    finally:
        os.chmod(path, mode)


_host_lock = threading.Lock()


def host_action(name, timeout=60):
    """Ask the host to act on the TPM while the guest runs and return
    its reply, "ok" or "error: ...".  NAME: "tpm-init" power-cycles the
    TPM (_TPM_Init; it then answers TPM_RC_INITIALIZE until a
    TPM2_Startup), "tpm-kill" kills swtpm.  Skip when vm-run was not
    given --host-actions."""
    ctl = os.environ.get("VM_CTL")
    if not ctl or not os.path.exists(os.path.join(ctl, "host-actions")):
        raise Skip("host actions need vm-run --host-actions")
    request = os.path.join(ctl, "host-request")
    reply = os.path.join(ctl, "host-reply")
    with _host_lock:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(reply)
        tmp = "%s.%d" % (request, os.getpid())
        with open(tmp, "w") as f:
            f.write(name + "\n")
        os.rename(tmp, request)
        deadline = time.monotonic() + timeout
        while not os.path.exists(reply):
            if time.monotonic() > deadline:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(request)
                raise Skip("no reply from the host to " + name)
            time.sleep(0.05)
        with open(reply) as f:
            text = f.read().strip()
        os.unlink(reply)
    return text


@contextlib.contextmanager
def vtpm_chip():
    """A second TPM: swtpm behind a vTPM proxy chip (/dev/vtpmx), with a
    resource manager of its own on /dev/tpmrmN.  Yields N; on leaving,
    swtpm is stopped and the chip goes away.  Skip without the driver
    or swtpm."""
    import re
    import shutil
    import subprocess
    import tempfile
    if not os.path.exists("/dev/vtpmx"):
        raise Skip("no /dev/vtpmx (CONFIG_TCG_VTPM_PROXY)")
    if not shutil.which("swtpm"):
        raise Skip("swtpm not installed")
    state = tempfile.mkdtemp(prefix="vtpm-")
    p = subprocess.Popen(["swtpm", "chardev", "--vtpm-proxy", "--tpm2",
                          "--tpmstate", "dir=" + state,
                          "--seccomp", "action=none"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        line = p.stdout.readline()
        m = re.search(r"/dev/tpm(\d+)", line)
        if not m:
            raise RuntimeError("swtpm --vtpm-proxy: %r" % line)
        n = int(m.group(1))
        deadline = time.monotonic() + 30
        # the chip's device nodes appear once the kernel's Startup and
        # its HMAC session setup went through; /dev/tpmrmN last
        while not (os.path.exists("/sys/class/tpm/tpm%d/rm/commands" % n)
                   and os.path.exists("/dev/tpmrm%d" % n)):
            if time.monotonic() > deadline:
                raise RuntimeError("no /dev/tpmrm%d after 30 s" % n)
            time.sleep(0.05)
        yield n
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()
        shutil.rmtree(state, ignore_errors=True)
