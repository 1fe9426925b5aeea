# SPDX-License-Identifier: GPL-2.0
"""Real clients: tpm2-pytss (ESAPI) and the tpm2-openssl provider."""
import os
import shutil
import subprocess
import tempfile

from common import Skip, vanilla_xfail

here = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"


@vanilla_xfail
def test_pytss_esapi():
    """Parameter encryption, six loaded keys in one ESYS context, eight
    ESYS contexts at once, through the device TCTI."""
    if subprocess.run([SYSTEM_PYTHON, "-c", "import tpm2_pytss"],
                      capture_output=True).returncode:
        raise Skip("python3-tpm2-pytss not installed")
    p = subprocess.run([SYSTEM_PYTHON, os.path.join(here, "pytss-flow.py")],
                       capture_output=True, text=True)
    for line in (p.stdout + p.stderr).splitlines()[-8:]:
        print("# " + line.lstrip("# "))
    assert p.returncode == 0


def openssl_processes(n):
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/ossl-modules/tpm2.so") \
            or not shutil.which("openssl"):
        raise Skip("tpm2-openssl not installed")
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run(["bash", os.path.join(here, "openssl-flow.sh"),
                            str(n), d], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        print(line)
    assert p.returncode == 0


def test_openssl_16_processes():
    """A TPM-backed key of the tpm2-openssl provider, 16 processes
    signing with it at once."""
    openssl_processes(16)
