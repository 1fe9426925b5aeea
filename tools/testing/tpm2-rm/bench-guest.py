#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest side of tools/testing/tpm2-rm/bench.

bench-guest.py SYSTEM: runs the fixed workloads against one system
  rmdev   /dev/tpmrm0 (the vanilla or the patched kernel's)
  raw     /dev/tpm0, no resource manager: the physical limit; one opener
          at a time, so clients run one after another
  abrmd   tpm2-abrmd on /dev/tpm0, over its own D-Bus session bus
and prints one JSON object per workload.  Each workload is bracketed by
markers, so the host can count in swtpm's log what the TPM received.
"""
import ctypes
import json
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../selftests/tpm2-rm"))
import tpm2rm  # noqa: E402

N = 200
BURST = 32
RM = "/sys/class/tpm/tpm0/rm/"


class TctiClient(tpm2rm.Client):
    """tpm2rm.Client over a TCTI (tpm2-abrmd), through libtss2-tctildr."""
    lib = None

    def __init__(self, conf):
        if not TctiClient.lib:
            TctiClient.lib = ctypes.CDLL("libtss2-tctildr.so.0")
        self.ctx = ctypes.c_void_p()
        rc = self.lib.Tss2_TctiLdr_Initialize(conf.encode(),
                                              ctypes.byref(self.ctx))
        if rc:
            raise OSError("TCTI %s: 0x%x" % (conf, rc))
        # TSS2_TCTI_CONTEXT_COMMON_V1: magic u64, version u32, then
        # transmit, receive, finalize, ... function pointers
        fns = ctypes.cast(self.ctx.value + 16,
                          ctypes.POINTER(ctypes.c_void_p))
        self._tx = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p,
                                    ctypes.c_size_t, ctypes.c_char_p)(fns[0])
        self._rx = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p,
                                    ctypes.POINTER(ctypes.c_size_t),
                                    ctypes.c_char_p, ctypes.c_int32)(fns[1])
        self.fd = id(self)
        self.commands = 0

    def close(self):
        if self.ctx:
            self.lib.Tss2_TctiLdr_Finalize(ctypes.byref(self.ctx))
            self.ctx = None

    def raw(self, cmd):
        self.commands += 1
        rc = self._tx(self.ctx, len(cmd), cmd)
        if rc:
            raise OSError("TCTI transmit: 0x%x" % rc)
        buf = ctypes.create_string_buffer(4096)
        size = ctypes.c_size_t(4096)
        rc = self._rx(self.ctx, ctypes.byref(size), buf, -1)
        if rc:
            raise OSError("TCTI receive: 0x%x" % rc)
        return buf.raw[:size.value]


class System:
    def __init__(self, name):
        self.name = name
        self.serial = name == "raw"
        self.lock = threading.Lock()
        self.shared = None
        if name == "raw":
            self.shared = tpm2rm.Client("/dev/tpm0")

    def client(self):
        if self.name == "abrmd":
            return TctiClient("tabrmd:bus_type=session")
        if self.shared:
            return Shared(self.shared)
        return tpm2rm.Client("/dev/tpmrm0")


class Shared:
    """A client of the raw device: every client shares its one file and
    must flush what it created, as there is nobody to do it."""
    def __init__(self, c):
        self.c = c
        self.mine = []

    def __getattr__(self, name):
        return getattr(self.c, name)

    def close(self):
        for h in self.mine:
            try:
                self.c.flush(h)
            except tpm2rm.TPMError:
                pass


class Timed:
    """Wraps a client: times every command, counts failures."""
    def __init__(self, c, lat, fails):
        self.c, self.lat, self.fails = c, lat, fails

    def __getattr__(self, name):
        fn = getattr(self.c, name)

        def timed(*a, **kw):
            t0 = time.monotonic_ns()
            try:
                return fn(*a, **kw)
            except (tpm2rm.TPMError, OSError):
                self.fails.append(name)
                raise
            finally:
                self.lat.append(time.monotonic_ns() - t0)
        return timed


def counters():
    try:
        return {n: int(open(RM + n).read()) for n in
                ("commands", "tpm_commands", "other_commands", "loads",
                 "saves", "flushes")}
    except OSError:
        return None


def measure(system, name, setup, body, sent):
    m = system.client()
    state = setup()
    lat, fails = [], []
    m.marker()
    before = counters()
    t0 = time.monotonic()
    body(state, lat, fails)
    dt = time.monotonic() - t0
    after = counters()
    m.marker()
    m.close()
    out = {"system": system.name, "workload": name, "client_commands": sent,
           "seconds": dt, "failed": len(fails),
           "latency_ns": sorted(lat)}
    if before and after:
        out["rm_counters"] = {k: after[k] - before[k] for k in after}
    cleanup = state.get("cleanup") if isinstance(state, dict) else None
    if cleanup:
        cleanup()
    return out


def w_sign(system):
    def setup():
        c = system.client()
        key = c.create_primary(tpm2rm.ATTR_SIGN)
        s = c.start_session()
        if system.shared:
            c.mine += [key, s.handle]
        return {"c": c, "key": key, "s": s, "cleanup": c.close}

    def body(st, lat, fails):
        t = Timed(st["c"], lat, fails)
        for _ in range(N):
            t.sign(st["key"], st["s"])
    return measure(system, "sign", setup, body, N)


def w_idle(system):
    def setup():
        c = system.client()
        keys = [c.create_primary(tpm2rm.ATTR_SIGN) for _ in range(3)]
        ss = [c.start_session() for _ in range(3)]
        if system.shared:
            c.mine += keys + [s.handle for s in ss]
        return {"c": c, "cleanup": c.close}

    def body(st, lat, fails):
        t = Timed(st["c"], lat, fails)
        for _ in range(N):
            t.get_random(8)
    return measure(system, "idle", setup, body, N)


def trace_of(name):
    """(clients, trace): which client signs at each step of a workload.
    Seeded, so every system replays the same trace."""
    rnd = random.Random(name)
    if name == "turns":        # 8 clients taking turns
        return 8, [i % 8 for i in range(N)]
    if name == "scan":         # 2 busy clients beside a scan over 12
        return 14, [i % 4 if i % 4 < 2 else 2 + (i // 4 * 2 + i % 2) % 12
                    for i in range(N)]
    if name == "zipf":         # popularity 1/rank over 16
        return 16, rnd.choices(range(16), [1 / (k + 1) for k in range(16)],
                               k=N)
    if name == "bursts":       # 10 clients signing 4 times in a row
        return 10, [(i // 4) % 10 for i in range(N)]
    if name == "random":       # uniform over 6
        return 6, [rnd.randrange(6) for _ in range(N)]
    raise ValueError(name)


TRACES = ["turns", "scan", "zipf", "bursts", "random"]


def min_cost(trace, slots=3):
    """TPM commands per signature under Belady's MIN: each client's key
    and session in slots of their own kind; a miss costs a load and an
    eviction of each kind (the sign itself is one command)."""
    nxt, last = [0] * len(trace), {}
    for i in range(len(trace) - 1, -1, -1):
        nxt[i] = last.get(trace[i], len(trace))
        last[trace[i]] = i
    res, misses = {}, 0
    # the clients' contexts are created in order before the trace
    for c in sorted(set(trace), key=trace.index)[-slots:]:
        res[c] = trace.index(c)
    for i, x in enumerate(trace):
        if x not in res:
            misses += 1
            if len(res) >= slots:
                del res[max(res, key=res.get)]
        res[x] = nxt[i]
    return 1 + 4 * misses / len(trace)


def w_trace(system, name):
    n, trace = trace_of(name)

    def setup():
        cs = [system.client() for _ in range(n)]
        keys = [c.create_primary(tpm2rm.ATTR_SIGN) for c in cs]
        ss = [c.start_session() for c in cs]

        def cleanup():
            for c in cs:
                c.close()
        return {"cs": cs, "keys": keys, "ss": ss, "cleanup": cleanup}

    def body(st, lat, fails):
        ts = [Timed(c, lat, fails) for c in st["cs"]]
        for i in trace:
            try:
                ts[i].sign(st["keys"][i], st["ss"][i])
            except (tpm2rm.TPMError, OSError):
                pass
    out = measure(system, name, setup, body, len(trace))
    out["min_tpm_per_client"] = min_cost(trace)
    return out


def w_burst(system):
    def one(lat, fails, bar):
        c = system.client()
        t = Timed(c, lat, fails)
        try:
            if bar:
                bar.wait()
            key = t.create_primary(tpm2rm.ATTR_SIGN)
            s = t.start_session()
            t.sign(key, s)
            t.flush(s.handle)
            t.flush(key)
        except (tpm2rm.TPMError, OSError):
            pass
        finally:
            c.close()

    def body(st, lat, fails):
        if system.serial:
            for _ in range(BURST):
                one(lat, fails, None)
            return
        bar = threading.Barrier(BURST)
        th = [threading.Thread(target=one, args=(lat, fails, bar))
              for _ in range(BURST)]
        for x in th:
            x.start()
        for x in th:
            x.join()
    return measure(system, "burst", lambda: {}, body, BURST * 5)


def start_abrmd():
    bus = subprocess.run(["dbus-daemon", "--session", "--fork",
                          "--print-address"], capture_output=True,
                         text=True, check=True).stdout.strip()
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus
    subprocess.Popen(["tpm2-abrmd", "--session", "--allow-root",
                      "--tcti=device:/dev/tpm0", "--max-connections=64"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            TctiClient("tabrmd:bus_type=session").close()
            return
        except OSError:
            time.sleep(0.1)
    raise OSError("tpm2-abrmd did not come up")


def main():
    name = sys.argv[1]
    if name == "abrmd":
        try:
            start_abrmd()
        except (OSError, subprocess.CalledProcessError) as e:
            print(json.dumps({"system": name, "error": str(e)}), flush=True)
            return
    system = System(name)
    for w in ["sign", "idle"] + TRACES + ["burst"]:
        if system.serial and w in TRACES:
            print(json.dumps({"system": name, "workload": w,
                              "error": "more keys and sessions than fit in "
                              "the TPM without a resource manager"}),
                  flush=True)
            # keep the markers paired for the host
            m = system.client()
            m.marker()
            m.marker()
            continue
        if w in TRACES:
            print(json.dumps(w_trace(system, w)), flush=True)
        else:
            print(json.dumps(globals()["w_" + w](system)), flush=True)


if __name__ == "__main__":
    main()
