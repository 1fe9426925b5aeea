#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tpm2-rm-top: who holds the TPM behind /dev/tpmrmN.

Shows the clients of the kernel's TPM 2.0 resource manager, from
/sys/kernel/debug/tpmN/rm/clients (root only; format in
Documentation/ABI/testing/debugfs-tpm-rm), and its counters, from
/sys/class/tpm/tpmN/rm/, as a table refreshed every second.  Clients
are sorted by the sessions they hold, most first.  --once prints one
table and exits.
"""
import argparse
import os
import re
import shutil
import sys
import time

CLIENT_COLS = ("ID", "PID", "UID", "COMM", "COMMANDS", "TPM_COMMANDS",
               "OBJECTS", "SEQUENCES", "SESSIONS", "WAIT", "WAIT_MS")
STATES = ("resident", "rm-saved", "client-saved", "revoked", "lost")


class Unavailable(Exception):
    """The files to show cannot be read."""


def unescape(field):
    """A COMM field: "\\ooo" stands for the byte ooo (octal)."""
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]),
                 field.encode("ascii", "replace"))
    return "".join(c if c.isprintable() else "?"
                   for c in raw.decode("utf-8", "replace"))


def parse_clients(text):
    """Parse the debugfs file: returns (clients, handoffs), clients a
    list of dicts (columns by name, plus "contexts": a list of dicts),
    handoffs a list of dicts.  Columns are found by the names in the
    header lines; record types not known here are skipped."""
    cols, clients, handoffs, by_id = {}, [], [], {}
    for line in text.splitlines():
        words = line.split(" ")
        if not words or not words[0]:
            continue
        if words[0] == "#":
            if len(words) > 1:
                cols[words[1]] = words[2:]
            continue
        names = cols.get(words[0])
        if names is None:
            continue
        rec = dict(zip(names, words[1:]))
        if words[0] == "client":
            rec["contexts"] = []
            rec["COMM"] = unescape(rec.get("COMM", "-"))
            clients.append(rec)
            by_id[rec.get("ID")] = rec
        elif words[0] == "context":
            owner = by_id.get(rec.get("CLIENT"))
            if owner is not None:
                owner["contexts"].append(rec)
        elif words[0] == "handoff":
            handoffs.append(rec)
    return clients, handoffs


def num(rec, key):
    try:
        return int(rec.get(key, "0"))
    except ValueError:
        return 0


def read_counters(chip):
    path = "/sys/class/tpm/%s/rm" % chip
    out = {}
    try:
        names = os.listdir(path)
    except OSError:
        return out
    for name in names:
        try:
            with open(os.path.join(path, name)) as f:
                out[name] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    return out


def read_clients(path):
    try:
        with open(path) as f:
            return f.read()
    except PermissionError:
        raise Unavailable("%s: permission denied (root only)" % path)
    except OSError as e:
        raise Unavailable("%s: %s (debugfs mounted? a kernel with the "
                          "resource manager's debugfs file?)" %
                          (path, e.strerror))


def fmt_ms(v):
    if v in (None, "-"):
        return "-"
    ms = int(v)
    if ms < 10000:
        return "%dms" % ms
    if ms < 600000:
        return "%.1fs" % (ms / 1000)
    return "%dm" % (ms // 60000)


def table(chip, clients, handoffs, counters, prev=None, dt=None,
          max_rows=None):
    """The lines to show."""
    lines = []
    c = counters
    if c:
        lines.append("%s: %d clients, %d sessions of %d, resident %d "
                     "objects %d sessions, %d handed off" %
                     (chip, c.get("clients", len(clients)),
                      c.get("sessions", 0), c.get("max_sessions", 0),
                      c.get("resident_objects", 0),
                      c.get("resident_sessions", 0),
                      c.get("handed_off", len(handoffs))))
        per = (c.get("tpm_commands", 0) / c["commands"]
               if c.get("commands") else 0)
        rate = ""
        if prev and dt:
            rate = " (%.0f/s)" % ((c.get("commands", 0) -
                                   prev.get("commands", 0)) / dt)
        lines.append("commands %d%s, TPM %d (%.2f each), other %d; loads %d "
                     "saves %d flushes %d evictions %d" %
                     (c.get("commands", 0), rate, c.get("tpm_commands", 0),
                      per, c.get("other_commands", 0), c.get("loads", 0),
                      c.get("saves", 0), c.get("flushes", 0),
                      c.get("evictions", 0)))
        lines.append("waits %d (%d ms, %d failed), revoked %d, reclaimed %d, "
                     "regaps %d, TPM resets %d" %
                     (c.get("waits", 0), c.get("wait_ms", 0),
                      c.get("wait_failed", 0), c.get("revoked", 0),
                      c.get("reclaimed", 0), c.get("regaps", 0),
                      c.get("tpm_resets", 0)))
        lines.append("")
    head = ("%6s %7s %6s %-15s %4s %4s %4s %4s %5s %5s %4s %9s %8s %-12s" %
            ("ID", "PID", "UID", "COMM", "SESS", "OBJ", "SEQ", "RES",
             "RMSAV", "CLSAV", "REV", "CMDS", "TPM/CMD", "WAIT"))
    lines.append(head)
    tot = {"SESSIONS": 0, "OBJECTS": 0, "SEQUENCES": 0, "COMMANDS": 0,
           "TPM_COMMANDS": 0}
    tot.update({s: 0 for s in STATES})
    rows = sorted(clients, key=lambda r: (-num(r, "SESSIONS"),
                                          -len(r["contexts"]), num(r, "ID")))
    shown = 0
    for r in rows:
        states = {s: 0 for s in STATES}
        for ctx in r["contexts"]:
            if ctx.get("STATE") in states:
                states[ctx["STATE"]] += 1
        for k in ("SESSIONS", "OBJECTS", "SEQUENCES", "COMMANDS",
                  "TPM_COMMANDS"):
            tot[k] += num(r, k)
        for s in STATES:
            tot[s] += states[s]
        if max_rows is not None and shown >= max_rows:
            continue
        shown += 1
        cmds = num(r, "COMMANDS")
        per = "%.2f" % (num(r, "TPM_COMMANDS") / cmds) if cmds else "-"
        wait = r.get("WAIT", "-")
        if wait != "-":
            wait = "%s %s" % (wait, fmt_ms(r.get("WAIT_MS")))
        lines.append("%6s %7s %6s %-15s %4d %4d %4d %4d %5d %5d %4d %9d %8s %-12s"
                     % (r.get("ID", "?"), r.get("PID", "?"), r.get("UID", "?"),
                        r["COMM"][:15], num(r, "SESSIONS"),
                        num(r, "OBJECTS"), num(r, "SEQUENCES"),
                        states["resident"], states["rm-saved"],
                        states["client-saved"], states["revoked"], cmds, per,
                        wait))
    if shown < len(rows):
        lines.append("  ... %d more clients" % (len(rows) - shown))
    per = ("%.2f" % (tot["TPM_COMMANDS"] / tot["COMMANDS"])
           if tot["COMMANDS"] else "-")
    lines.append("%6s %7s %6s %-15s %4d %4d %4d %4d %5d %5d %4d %9d %8s" %
                 ("total", "", "", "%d clients" % len(rows), tot["SESSIONS"],
                  tot["OBJECTS"], tot["SEQUENCES"], tot["resident"],
                  tot["rm-saved"], tot["client-saved"], tot["revoked"],
                  tot["COMMANDS"], per))
    if handoffs:
        by_uid = {}
        for h in handoffs:
            uid = h.get("UID", "?")
            n, oldest = by_uid.get(uid, (0, 0))
            by_uid[uid] = (n + 1, max(oldest, num(h, "AGE_MS")))
        lines.append("")
        lines.append("handed off: %d session%s: %s" %
                     (len(handoffs), "" if len(handoffs) == 1 else "s",
                      ", ".join("uid %s: %d (oldest %s)" % (u, n, fmt_ms(a))
                                for u, (n, a) in sorted(by_uid.items()))))
    return [line.rstrip() for line in lines]


def snapshot(args):
    text = read_clients(args.file or
                        "%s/%s/rm/clients" % (args.debugfs, args.chip))
    clients, handoffs = parse_clients(text)
    return clients, handoffs, read_counters(args.chip)


def main():
    ap = argparse.ArgumentParser(
        description="Show who holds the TPM behind /dev/tpmrmN.")
    ap.add_argument("--once", action="store_true",
                    help="print one table and exit")
    ap.add_argument("--chip", default="tpm0", help="chip (default tpm0)")
    ap.add_argument("--interval", type=float, default=1.0,
                    help="seconds between refreshes (default 1)")
    ap.add_argument("--debugfs", default="/sys/kernel/debug",
                    help="where debugfs is mounted")
    ap.add_argument("--file", help="read this clients file instead")
    args = ap.parse_args()

    try:
        if args.once:
            clients, handoffs, counters = snapshot(args)
            print("\n".join(table(args.chip, clients, handoffs, counters)))
            return 0
        prev, t_prev = None, None
        while True:
            clients, handoffs, counters = snapshot(args)
            now = time.monotonic()
            rows = shutil.get_terminal_size((100, 40)).lines - 10
            out = table(args.chip, clients, handoffs, counters, prev,
                        now - t_prev if t_prev else None, max(rows, 1))
            sys.stdout.write("\033[H\033[2J" + "\n".join(out) + "\n")
            sys.stdout.flush()
            prev, t_prev = counters, now
            time.sleep(args.interval)
    except Unavailable as e:
        print("tpm2-rm-top: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
