# SPDX-License-Identifier: GPL-2.0
"""Clients that do not trust each other: hand-offs between processes,
per-user bounds against other users' sessions, what a client sees of
its own saved sessions."""
import os
import shutil
import subprocess
import tempfile
import threading
import time

from common import (Client, Skip, TPMError, param, vanilla_xfail,
                    world_usable)
from tpm_reset import rm_counter
import tpm2rm

RM_SESSION_HANDLES = tpm2rm.RC_LAYER_RM | 0x905
TCTI = {"TPM2TOOLS_TCTI": "device:/dev/tpmrm0"}
KEY = """set -e
cd "$1"
tpm2_createprimary -Q -C o -G ecc -c key.ctx \
	-a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign'
echo message > msg
"""
PIPELINE = """set -e
cd "$1"
tpm2_startauthsession --hmac-session -S hs.ctx
tpm2_sign -Q -c "$2/key.ctx" -g sha256 -p session:hs.ctx -o s1 "$2/msg"
tpm2_sign -Q -c "$2/key.ctx" -g sha256 -p session:hs.ctx -o s2 "$2/msg"
tpm2_flushcontext hs.ctx
"""


def test_session_handoff_pipelines():
    """24 tpm2-tools pipelines at once, each handing its HMAC session
    from process to process in a file (so between commands each is a
    session saved by a client that closed): all pass, as on vanilla.
    Before, hand-offs beyond rm_max_orphans (16) were ended."""
    if not shutil.which("tpm2_startauthsession"):
        raise Skip("tpm2-tools not installed")
    n = 24
    results = [None] * n
    env = dict(os.environ, **TCTI)
    top = tempfile.mkdtemp()
    subprocess.run(["bash", "-c", KEY, "key", top], env=env, check=True)

    def one(i):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(["bash", "-c", PIPELINE, "pipeline", d, top],
                               capture_output=True, text=True, env=env)
            results[i] = (p.returncode, p.stderr)

    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    shutil.rmtree(top)
    bad = [(i, err) for i, (rc, err) in enumerate(results) if rc]
    for i, err in bad[:4]:
        for line in err.splitlines()[-3:]:
            print("# pipeline %d: %s" % (i, line))
    print("# %d of %d pipelines passed" % (n - len(bad), n))
    assert not bad, "%d of %d pipelines failed" % (len(bad), n)


def as_user(uid, fn):
    """Run fn() in a child process of user uid; return what it returns
    (an int) or raise if it raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            out = "ok %d" % fn()
        except TPMError as e:
            out = "rc %d" % e.rc
        except BaseException as e:  # reported to the parent
            out = "error %r" % e
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out = f.read()
    os.waitpid(pid, 0)
    kind, _, val = out.partition(" ")
    if kind == "ok":
        return int(val)
    if kind == "rc":
        raise TPMError(int(val), 0)
    raise AssertionError(out)


@vanilla_xfail
def test_user_bound_takes_nothing_from_root():
    """A user at rm_user_sessions who asks for one more waits for the
    bound and is refused; it does not get one of root's 20 idle
    sessions (before: after the wait it revoked one of them and held one
    more than its bound)."""
    with param("rm_user_sessions", 4), param("rm_session_wait_ms", 2000), \
            world_usable():
        with Client() as root:
            rs = [root.start_session() for _ in range(20)]
            root.get_random(8)
            revoked = rm_counter("revoked")

            def user():
                with Client() as c:
                    for _ in range(4):
                        c.start_session()
                    c.get_random(8)
                    t0 = time.monotonic()
                    try:
                        c.start_session()
                    except TPMError as e:
                        assert e.rc == RM_SESSION_HANDLES, hex(e.rc)
                        return int((time.monotonic() - t0) * 1000)
                    raise AssertionError("a fifth session for the user")
            waited = as_user(1000, user)
            print("# the user's fifth session: refused after %d ms" % waited)
            assert 1800 < waited < 5000, waited
            assert rm_counter("revoked") == revoked
            key = root.create_primary(tpm2rm.ATTR_SIGN)
            for s in rs:
                root.sign(key, s)


@vanilla_xfail
def test_own_saved_session_is_listed():
    """GetCapability(HANDLES, 0x03000000) lists the sessions the client
    saved itself (before: an empty list right after its ContextSave)."""
    with Client() as c:
        s = c.start_session()
        loaded = c.start_session()
        c.context_save(s.handle)
        saved = c.handles(0x03000000)
        assert saved == [s.handle], [hex(h) for h in saved]
        assert c.handles(tpm2rm.HR_HMAC_SESSION) == [loaded.handle]
