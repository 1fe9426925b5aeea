# SPDX-License-Identifier: GPL-2.0
"""A short run of the fuzzer (fuzz.py); make fuzz runs a long one."""
import os
import time

from common import param, vanilla_xfail
import fuzz


@vanilla_xfail
def test_fuzz_short():
    seconds = int(os.environ.get("FUZZ_SECONDS", "20"))
    seed = int(os.environ.get("FUZZ_SEED", str(int(time.time()))))
    with param("rm_max_orphans", 0):
        st = fuzz.run(seconds, seed)
    print("# fuzz seed %d, %d s: %d commands, %d command codes, %d reopens, "
          "errnos %s, violations %d, left in TPM %d" %
          (seed, seconds, st["commands"], st["ccs"], st["reopens"],
           st["errnos"], len(st["violations"]), len(st["left_in_tpm"])))
    for v in st["violations"][:5]:
        print("# violation: " + v)
    assert not st["violations"], st["violations"][:3]
    assert not st["left_in_tpm"], ["0x%x" % h for h in st["left_in_tpm"]]
