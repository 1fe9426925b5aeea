# SPDX-License-Identifier: GPL-2.0
"""100 tpm2-tools pipelines at once, each handing an HMAC session from
process to process in a file (test_hostile runs 48): each completes or
fails with a documented resource-manager code, none hangs.  Prints the
counts; `make stress` runs it on this kernel and on vanilla."""
import collections
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from common import Skip, vanilla_xfail
from test_hostile import KEY, PIPELINE, TCTI
from tpm_reset import rm_counter

PIPELINES = 100
HANG_S = 600


@vanilla_xfail
def test_hundred_pipelines():
    if not shutil.which("tpm2_startauthsession"):
        raise Skip("tpm2-tools not installed")
    env = dict(os.environ, **TCTI)
    top = tempfile.mkdtemp()
    subprocess.run(["bash", "-c", KEY, "key", top], env=env, check=True)
    results = [None] * PIPELINES

    def one(i):
        with tempfile.TemporaryDirectory() as d:
            try:
                p = subprocess.run(["bash", "-c", PIPELINE, "pipeline", d,
                                    top], capture_output=True, text=True,
                                   env=env, timeout=HANG_S)
                results[i] = (p.returncode, p.stderr)
            except subprocess.TimeoutExpired:
                results[i] = ("hang", "")

    before = {k: rm_counter(k) for k in ("revoked", "reclaimed", "waits")}
    t0 = time.monotonic()
    th = [threading.Thread(target=one, args=(i,)) for i in range(PIPELINES)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    took = time.monotonic() - t0
    shutil.rmtree(top)
    outcome = collections.Counter()
    for rc, err in results:
        if rc == 0:
            outcome["passed"] += 1
        elif rc == "hang":
            outcome["hung"] += 1
        else:
            codes = re.findall(r"0x[0-9a-fA-F]{3,}", err)
            outcome["failed " + (hex(int(codes[-1], 16)) if codes
                                 else "?")] += 1
    shown = 0
    for rc, err in results:
        if rc and shown < 3:
            shown += 1
            for line in err.splitlines()[-2:]:
                print("# failed: %s" % line)
    if before["waits"] is not None:
        print("# " + ", ".join("%s %d" % (k, rm_counter(k) - v)
                               for k, v in before.items()))
    print("# %d pipelines in %.0f s: %s" %
          (PIPELINES, took, ", ".join("%s %d" % kv for kv in
                                      sorted(outcome.items()))))
    assert not outcome["hung"], outcome
    undocumented = [k for k in outcome if k.startswith("failed") and
                    not k.startswith("failed 0xb0")]
    assert not undocumented, outcome
