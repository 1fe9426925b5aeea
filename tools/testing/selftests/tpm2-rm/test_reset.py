# SPDX-License-Identifier: GPL-2.0
"""The TPM is power-cycled (_TPM_Init from the host) after a
Shutdown(STATE) sent through /dev/tpm0, and started again with
Startup(CLEAR): a TPM Restart, in which saved contexts stay valid.
Nothing a client holds may be lost.  (A TPM Reset, which loses
everything, is in reset_final.py: the kernel's own HMAC session code
takes the chip out of service after one.)"""
from common import Client, TPMError, vanilla_xfail
import tpm2rm
from tpm_reset import (CC_SHUTDOWN, CC_STARTUP, RC_INITIALIZE, RM, SU_CLEAR,
                       SU_STATE, power_cycle, raw_tpm, rm_counter)


@vanilla_xfail
def test_tpm_restart_loses_nothing():
    with Client() as a:
        keys = [a.create_primary(tpm2rm.ATTR_SIGN) for _ in range(4)]
        sessions = [a.start_session() for _ in range(3)]
        for k in keys:
            for s in sessions:
                a.sign(k, s)
        before = rm_counter("tpm_resets")
        assert raw_tpm(CC_SHUTDOWN, SU_STATE) == 0
        power_cycle()
        try:
            a.sign(keys[0], sessions[0])
            raise AssertionError("a sign worked before the Startup")
        except TPMError as e:
            assert e.rc in (RC_INITIALIZE, RM | RC_INITIALIZE), hex(e.rc)
        assert raw_tpm(CC_STARTUP, SU_CLEAR) == 0
        for k in keys:
            for s in sessions:
                a.sign(k, s)
        assert rm_counter("tpm_resets") == before + 1
        for h in keys + [s.handle for s in sessions]:
            a.flush(h)
    print("# Restart: 4 keys and 3 sessions of one client all work after it")
