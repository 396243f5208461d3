#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""N clients, each on its own bus connection, call Start/Stop/Restart on the
same cores at once. Prints one JSON line per call: method, core, reply (the
D-Bus error name or "ok"). Exit 0 when every call got exactly one reply."""
import json
import random
import sys
import threading

import dbus

n, cores = int(sys.argv[1]), sys.argv[2:]
random.seed(1)
plan = [(random.choice(["Start", "Stop", "Restart"]), random.choice(cores)) for _ in range(n)]
replies = [[] for _ in range(n)]
start = threading.Barrier(n)


def client(i):
    method, core = plan[i]
    bus = dbus.SystemBus(private=True)
    path = bus.get_object("org.rprocd1", "/org/rprocd1").GetCore(
        core, dbus_interface="org.rprocd1.Manager")
    obj = bus.get_object("org.rprocd1", path)
    start.wait()
    try:
        obj.get_dbus_method(method, "org.rprocd1.Core")(timeout=300)
        replies[i].append("ok")
    except dbus.DBusException as e:
        replies[i].append(e.get_dbus_name() or str(e))
    bus.close()


threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=600)
ok = True
for (method, core), r in zip(plan, replies):
    print(json.dumps({"method": method, "core": core, "replies": r}))
    ok = ok and len(r) == 1
sys.exit(0 if ok else 1)
