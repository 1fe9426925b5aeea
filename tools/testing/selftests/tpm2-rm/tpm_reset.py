# SPDX-License-Identifier: GPL-2.0
"""Helpers for the tests that reset or kill the TPM behind the resource
manager's back (vm-run --host-actions)."""
import errno
import os
import struct

from common import host_action
from tpm2rm import (HR_HMAC_SESSION, HR_POLICY_SESSION, HR_TRANSIENT, Client,
                    TPMError)

CC_STARTUP = 0x144
CC_SHUTDOWN = 0x145
SU_CLEAR = 0
SU_STATE = 1
RC_INITIALIZE = 0x100
RM = 11 << 16
# what a command may get while the TPM waits for its Startup
NOT_STARTED = ("rc 0x100", "rc 0xb0100")
# the previous resource manager holds 3 objects per client; let it show
# what it does about a reset rather than about a 4th key
KEYS = 3 if os.environ.get("VM_KERNEL", "").startswith("vanilla") else 4


def outcome(fn, *args):
    """What a client sees: "ok", "rc 0x..." or an errno name."""
    try:
        fn(*args)
        return "ok"
    except TPMError as e:
        return "rc %#x" % e.rc
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def raw_tpm(cc, su):
    """Send Startup or Shutdown through /dev/tpm0; return the rc."""
    fd = os.open("/dev/tpm0", os.O_RDWR)
    try:
        os.write(fd, struct.pack(">HIIH", 0x8001, 12, cc, su))
        return struct.unpack(">I", os.read(fd, 4096)[6:10])[0]
    finally:
        os.close(fd)


def power_cycle():
    """_TPM_Init from the host: the TPM forgets what it had loaded."""
    reply = host_action("tpm-init")
    assert reply == "ok", reply


def rm_counter(name):
    try:
        with open("/sys/class/tpm/tpm0/rm/" + name) as f:
            return int(f.read())
    except OSError:
        return None


def left_in_tpm():
    """Transient objects and sessions in the TPM, seen through /dev/tpm0."""
    with Client("/dev/tpm0") as raw:
        return (raw.handles(HR_TRANSIENT) + raw.handles(HR_HMAC_SESSION) +
                raw.handles(HR_POLICY_SESSION))
