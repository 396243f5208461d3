#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""D-Bus clients for tests/vm/fault/bus.sh.

race N SEED CORE...   N clients, each on its own connection, call Start, Stop or
                      Restart on the cores at once. Prints one JSON line per call
                      (method, core, reply: "ok" or the error name, order: the
                      place of its reply among all replies rprocd sent, as
                      dbus-monitor saw them cross the bus) and one line
                      {"final": {CORE: expected state}} from the last call on each
                      core that succeeded. Exit 1 unless every call got one reply.
pile CONNS CALLS CORE METHOD [FIRST]
                      CONNS connections each send CALLS calls of METHOD on CORE
                      without waiting for any reply, then collect them. Prints
                      {"replies": {name: count}, "missing": n, "extra": n,
                      "first": reply}. With FIRST, that method is called first
                      and the pile is sent once the core says it is Busy.
"""
import json
import random
import subprocess
import sys
import threading
import time

import dbus
import dbus.lowlevel

DEST = "org.rprocd1"
EFFECT = {"Start": "running", "Restart": "running", "Stop": "offline"}


def core_path(bus, core):
    return bus.get_object(DEST, "/org/rprocd1").GetCore(core, dbus_interface="org.rprocd1.Manager")


def reply_order(log):
    """Destination unique name -> index of the last reply rprocd sent it."""
    order = {}
    for i, line in enumerate(open(log)):
        if line.startswith(("method return", "error ")) and "destination=" in line:
            order[line.split("destination=")[1].split()[0]] = i
    return order


def race(n, seed, cores):
    rnd = random.Random(seed)
    plan = [(rnd.choice(["Start", "Stop", "Restart"]), rnd.choice(cores)) for _ in range(n)]
    replies = [[] for _ in range(n)]
    names = [None] * n
    barrier = threading.Barrier(n + 1)

    def client(i):
        method, core = plan[i]
        bus = dbus.SystemBus(private=True)
        names[i] = bus.get_unique_name()
        obj = bus.get_object(DEST, core_path(bus, core))
        barrier.wait()
        try:
            obj.get_dbus_method(method, "org.rprocd1.Core")(timeout=600)
            replies[i].append("ok")
        except dbus.DBusException as e:
            replies[i].append(e.get_dbus_name() or str(e))
        bus.close()

    # The bus sees rprocd's replies in the order rprocd sent them; the
    # clients' own clocks could not tell two quick replies apart.
    log = "/run/bus-race-monitor.log"
    with open(log, "w") as out:
        monitor = subprocess.Popen(["dbus-monitor", "--system", "sender='org.rprocd1'"],
                                   stdout=out, stderr=subprocess.DEVNULL)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    time.sleep(1)  # the monitor is connected by now
    barrier.wait()
    for t in threads:
        t.join(timeout=900)
    time.sleep(1)
    monitor.terminate()
    monitor.wait()
    order = reply_order(log)
    ok = True
    last = {}
    for i, ((method, core), r) in enumerate(zip(plan, replies)):
        place = order.get(names[i], -1)
        print(json.dumps({"method": method, "core": core, "reply": r, "order": place}))
        ok = ok and len(r) == 1 and place >= 0
        if len(r) == 1 and r[0] == "ok" and (core not in last or place > last[core][1]):
            last[core] = (method, place)
    print(json.dumps({"final": {c: EFFECT[m] for c, (m, _) in last.items()}}))
    return 0 if ok else 1


def pile(conns, calls, core, method, first=None):
    counts, pending, got = {}, [], []
    buses = [dbus.SystemBus(private=True) for _ in range(conns + 1)]
    path = core_path(buses[0], core)
    first_reply = []
    if first:
        msg = dbus.lowlevel.MethodCallMessage(DEST, path, "org.rprocd1.Core", first)
        first_pending = buses[conns].send_message_with_reply(
            msg, lambda m: first_reply.append(
                m.get_error_name() if isinstance(m, dbus.lowlevel.ErrorMessage) else "ok"),
            600, require_main_loop=False)
        props = dbus.Interface(buses[0].get_object(DEST, path), "org.freedesktop.DBus.Properties")
        deadline = time.monotonic() + 30
        while not props.Get("org.rprocd1.Core", "Busy") and time.monotonic() < deadline:
            time.sleep(0.01)

    def handler(i):
        def on_reply(msg):
            got.append(i)
            name = msg.get_error_name() if isinstance(msg, dbus.lowlevel.ErrorMessage) else "ok"
            counts[name] = counts.get(name, 0) + 1
        return on_reply

    i = 0
    for bus in buses[:conns]:
        for _ in range(calls):
            msg = dbus.lowlevel.MethodCallMessage(DEST, path, "org.rprocd1.Core", method)
            pending.append(bus.send_message_with_reply(msg, handler(i), 600,
                                                       require_main_loop=False))
            i += 1
    for p in pending:
        p.block()
    if first:
        first_pending.block()
    total = conns * calls
    print(json.dumps({"replies": counts, "missing": total - len(set(got)),
                      "extra": len(got) - len(set(got)), "first": first_reply}))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "race":
        sys.exit(race(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]))
    sys.exit(pile(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5],
                  sys.argv[6] if len(sys.argv) > 6 else None))
