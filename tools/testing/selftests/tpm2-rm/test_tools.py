# SPDX-License-Identifier: GPL-2.0
"""Real clients: tpm2-tools through the device TCTI on /dev/tpmrm0."""
import os
import shutil
import subprocess
import tempfile
import threading

from common import Skip

here = os.path.dirname(os.path.abspath(__file__))
FLOW = os.path.join(here, "tpm2-tools-flow.sh")


def run_copies(n):
    if not shutil.which("tpm2_createprimary"):
        raise Skip("tpm2-tools not installed")
    results = [None] * n

    def one(i):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(["bash", FLOW, str(i), d],
                               capture_output=True, text=True)
            results[i] = (p.returncode, p.stdout + p.stderr)

    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    bad = [(i, out) for i, (rc, out) in enumerate(results) if rc]
    for i, out in bad:
        for line in out.splitlines()[-6:]:
            print("# copy %d: %s" % (i, line))
    assert not bad, "%d of %d copies failed" % (len(bad), n)


def test_tpm2_tools_three_copies_at_once():
    """Three users at once, each in its own directory."""
    run_copies(3)
