# SPDX-License-Identifier: GPL-2.0
"""The TPM is power-cycled (_TPM_Init from the host) after a
Shutdown(STATE) sent through /dev/tpm0, and started again with
Startup(CLEAR): a TPM Restart, in which saved contexts stay valid.
Nothing a client holds may be lost.  (A TPM Reset, which loses
everything, is in reset_final.py: the kernel's own HMAC session code
takes the chip out of service after one.)"""
from common import Client, vanilla_xfail
import tpm2rm
from tpm_reset import (CC_SHUTDOWN, CC_STARTUP, KEYS, NOT_STARTED, SU_CLEAR,
                       SU_STATE, outcome, power_cycle, raw_tpm, rm_counter)


@vanilla_xfail
def test_tpm_restart_loses_nothing():
    with Client() as a:
        keys = [a.create_primary(tpm2rm.ATTR_SIGN) for _ in range(KEYS)]
        sessions = [a.start_session() for _ in range(3)]
        for k in keys:
            for s in sessions:
                a.sign(k, s)
        before = rm_counter("tpm_resets")
        assert raw_tpm(CC_SHUTDOWN, SU_STATE) == 0
        power_cycle()
        try:
            early = outcome(a.sign, keys[0], sessions[0])
        finally:
            assert raw_tpm(CC_STARTUP, SU_CLEAR) == 0
        after = {outcome(a.sign, k, s) for k in keys for s in sessions}
        print("# Restart: before the Startup %s; after it %s (%d keys, "
              "3 sessions)" % (early, sorted(after), KEYS))
        assert early in NOT_STARTED, early
        assert after == {"ok"}, after
        if before is not None:
            assert rm_counter("tpm_resets") == before + 1
        for h in keys + [s.handle for s in sessions]:
            a.flush(h)
