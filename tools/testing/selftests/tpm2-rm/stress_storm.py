# SPDX-License-Identifier: GPL-2.0
"""Concurrency storm: hundreds of threads opening, using and closing
/dev/tpmrm0 at random, some files closed by another thread while a
command is in flight; then the TPM holds nothing of theirs.  Runs
STORM_SECONDS (default 120); `make stress` runs it on the debug kernel
too, with lockdep."""
import os
import random
import threading
import time

from common import Client, TPMError, param
import fuzz
import tpm2rm


def test_storm():
    seconds = int(os.environ.get("STORM_SECONDS", "120"))
    deadline = time.monotonic() + seconds
    errors, done = [], [0]
    lock = threading.Lock()

    def worker(i):
        rnd = random.Random(i)
        while time.monotonic() < deadline:
            try:
                c = Client()
            except OSError as e:
                errors.append("open: %s" % e)
                return
            if rnd.random() < 0.1:
                # close it from another thread while it works
                threading.Timer(rnd.random() / 20, c.close).start()
            try:
                k = c.create_primary(tpm2rm.ATTR_SIGN)
                s = c.start_session()
                for _ in range(rnd.randint(0, 3)):
                    c.sign(k, s)
                if rnd.random() < 0.5:
                    c.flush(s.handle)
                with lock:
                    done[0] += 1
            except (TPMError, OSError, TypeError):
                pass
            finally:
                try:
                    c.close()
                except OSError:
                    pass

    with param("rm_max_orphans", 0):
        th = [threading.Thread(target=worker, args=(i,)) for i in range(200)]
        for t in th:
            t.start()
        for t in th:
            t.join()
    left = fuzz.tpm_is_empty()
    print("# storm: %d client runs completed in %d s by 200 threads, "
          "%d left in TPM" % (done[0], seconds, len(left)))
    assert not errors, errors[:3]
    assert not left, ["0x%x" % h for h in left]
    assert done[0] > 0
