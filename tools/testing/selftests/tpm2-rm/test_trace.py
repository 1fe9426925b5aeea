# SPDX-License-Identifier: GPL-2.0
"""The resource manager's tracepoints and counters."""
import os

from common import Client, Skip
import tpm2rm

TRACING = "/sys/kernel/tracing"
RM = "/sys/class/tpm/tpm0/rm/"


def counter(name):
    with open(RM + name) as f:
        return int(f.read())


def write(path, value):
    with open(os.path.join(TRACING, path), "w") as f:
        f.write(value)


def test_counters_agree_with_the_work():
    if not os.path.isdir(RM):
        raise Skip("no resource manager statistics")
    before = {n: counter(n) for n in ("commands", "tpm_commands", "evictions")}
    with Client() as c:
        keys = [c.create_primary(tpm2rm.ATTR_SIGN) for _ in range(5)]
        for k in keys:
            c.sign(k)
        assert counter("clients") >= 1
        assert counter("resident_objects") <= 3
    assert counter("commands") - before["commands"] == 10
    assert counter("evictions") - before["evictions"] >= 2
    # the five creates and signs, plus one load per evicted key at least
    assert counter("tpm_commands") - before["tpm_commands"] >= 12


def test_events_name_client_and_handle():
    if not os.path.isdir(os.path.join(TRACING, "events/tpm2_rm")):
        raise Skip("kernel without tracing")
    write("trace", "")
    write("events/tpm2_rm/enable", "1")
    try:
        with Client() as c:
            keys = [c.create_primary(tpm2rm.ATTR_SIGN) for _ in range(4)]
            for k in keys:
                c.sign(k)
    finally:
        write("events/tpm2_rm/enable", "0")
    with open(os.path.join(TRACING, "trace")) as f:
        lines = [x for x in f if "tpm2_rm_" in x]
    kinds = {x.split("tpm2_rm_")[1].split(":")[0] for x in lines}
    assert {"evict", "load", "flush"} <= kinds, kinds
    evict = next(x for x in lines if "tpm2_rm_evict:" in x)
    assert "owner=" in evict and "vhandle=0x80" in evict, evict
