#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rprocd's benchmarks, run inside the test VM (bench/run starts it).

Every figure is measured side by side in one run, as a ratio where it can be:
absolute times under QEMU TCG are slow and drift. Prints markdown tables.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

KO = os.environ["RPROC_SIM_KO"]
FW = os.path.join(os.environ["RPROC_TEST_FW_DIR"], "fw64.elf")
BUILD = os.environ["RPROCD_BUILD_DIR"]
SRC = os.environ["RPROCD_SOURCE_DIR"]
RPROCD = os.path.join(BUILD, "daemon/rprocd")
RPROCCTL = os.path.join(BUILD, "rprocctl/rprocctl")
NOTIFY = "/run/bench-notify.sock"

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
CRASHES = int(os.environ.get("BENCH_CRASHES", "100"))
IDLE_S = int(os.environ.get("BENCH_IDLE_SECONDS", "60"))
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1,8,32").split(",")]
PARTS = os.environ.get("BENCH_PARTS", "boot,crash,idle").split(",")


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True).stdout


def now():
    return time.monotonic()


def sysfs_cores():
    base = "/sys/class/remoteproc"
    return sorted(os.listdir(base), key=lambda s: int(s[10:])) if os.path.isdir(base) else []


def states():
    return [open(f"/sys/class/remoteproc/{c}/state").read().strip() for c in sysfs_cores()]


def sim_load(n, extra=""):
    sim_unload()
    names = ",".join(f"c{i}" for i in range(n))
    sh(f"insmod {KO} names={names} mem_size=0x10000 {extra}")


def sim_unload():
    if os.path.isdir("/sys/module/rproc_sim"):
        sh("rmmod rproc_sim")


def write_configs(n, body):
    sh("rm -rf /etc/rprocd && mkdir -p /etc/rprocd/cores")
    for i in range(n):
        with open(f"/etc/rprocd/cores/c{i}.core", "w") as f:
            f.write(body)


def bus_up():
    os.makedirs("/usr/share/dbus-1/system.d", exist_ok=True)
    sh(f"cp {SRC}/systemd/org.rprocd1.conf /usr/share/dbus-1/system.d/")
    if not os.path.exists("/run/dbus/system_bus_socket"):
        os.makedirs("/run/dbus", exist_ok=True)
        sh("dbus-uuidgen --ensure=/etc/machine-id; dbus-daemon --system --fork")
        while not os.path.exists("/run/dbus/system_bus_socket"):
            time.sleep(0.01)


class Daemon:
    """rprocd with a notify socket: started() returns when READY=1 arrived."""

    def __init__(self, env=None):
        if os.path.exists(NOTIFY):
            os.unlink(NOTIFY)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(NOTIFY)
        e = dict(os.environ, NOTIFY_SOCKET=NOTIFY, RPROCD_LOG_TARGET="console")
        e.update(env or {})
        self.t0 = now()
        self.proc = subprocess.Popen([RPROCD], env=e, stdout=subprocess.DEVNULL,
                                     stderr=open("/run/bench-rprocd.log", "a"))
        self.pid = self.proc.pid

    def wait_ready(self, timeout=60):
        import threading
        self.sock.settimeout(timeout)
        while True:
            msg = self.sock.recv(4096).decode()
            if "READY=1" in msg.split("\n"):
                t = now() - self.t0
                break
        # Keep reading, as a service manager does: sd_notify() blocks on a full socket.
        self.sock.settimeout(None)
        threading.Thread(target=self._drain, daemon=True).start()
        return t

    def _drain(self):
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait()
        self.sock.close()


def med(v):
    return statistics.median(v)


def p99(v):
    s = sorted(v)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


def bench_boot(n, d):
    """Wall time to bring n offline cores up: rprocd, a shell loop, the kernel's auto_boot."""
    res = {"rprocd": [], "shell": [], "auto_boot": [], "insmod": []}
    sh(f"cp {FW} /lib/firmware/bench.elf")
    for i in range(n):
        sh(f"cp {FW} /lib/firmware/rproc-c{i}-fw")
    write_configs(n, "[Core]\nFirmware=bench.elf\n")
    for _ in range(REPEAT):
        sim_load(n, f"boot_ms={d}")
        dmn = Daemon()
        res["rprocd"].append(dmn.wait_ready())
        assert states() == ["running"] * n, states()
        dmn.kill()
        sim_load(n, f"boot_ms={d}")
        script = "; ".join(f"echo bench.elf > /sys/class/remoteproc/{c}/firmware; "
                           f"echo start > /sys/class/remoteproc/{c}/state" for c in sysfs_cores())
        t0 = now()
        subprocess.run(["bash", "-c", script], check=True)
        res["shell"].append(now() - t0)
        assert states() == ["running"] * n, states()
        sim_unload()
        t0 = now()
        sh(f"insmod {KO} names={','.join(f'c{i}' for i in range(n))} mem_size=0x10000 boot_ms={d}")
        res["insmod"].append(now() - t0)
        sim_unload()
        t0 = now()
        sh(f"insmod {KO} names={','.join(f'c{i}' for i in range(n))} mem_size=0x10000 "
           f"boot_ms={d} auto_boot=1")
        while states() != ["running"] * n:
            time.sleep(0.001)
        res["auto_boot"].append(now() - t0)
    sim_unload()
    return {k: med(v) * 1000 for k, v in res.items()}


class Monitor:
    """`rprocctl --json monitor`: events with the time they arrived, never blocking forever."""

    def __init__(self):
        self.proc = subprocess.Popen([RPROCCTL, "--json", "monitor"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.buf = b""

    def next(self, timeout):
        import select
        deadline = now() + timeout
        while b"\n" not in self.buf:
            left = deadline - now()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                return None, None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return None, None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return now(), json.loads(line)

    def wait_state(self, want, timeout=10, after_crash=False):
        seen_crash = False
        while True:
            t, ev = self.next(timeout)
            if ev is None:
                return None
            st = ev.get("changed", {}).get("State")
            seen_crash = seen_crash or st == "crashed"
            if st == want and (not after_crash or seen_crash):
                return t

    def kill(self):
        self.proc.kill()


def bench_crash(policy):
    """Crash (write to rproc_sim's crash file) to PropertiesChanged at a D-Bus client."""
    sim_load(1)
    sh(f"cp {FW} /lib/firmware/bench.elf")
    # No start limit: the benchmark crashes the core far more often than a real one would.
    extra = "RestartSec=0\nStartLimitIntervalSec=0\n" if policy == "restart" else ""
    write_configs(1, f"[Core]\nFirmware=bench.elf\nOnCrash={policy}\n{extra}")
    dmn = Daemon()
    dmn.wait_ready()
    mon = Monitor()
    time.sleep(1.0)
    crash_file = "/sys/bus/platform/devices/rproc_sim.0/crash"
    latencies, missed = [], 0
    for _ in range(CRASHES):
        with open(crash_file, "w") as f:
            t0 = now()
            f.write("1")
        if policy == "leave":
            t = mon.wait_state("crashed")
        else:
            t = mon.wait_state("running", after_crash=True)
        if t is None:
            missed += 1
        else:
            latencies.append(t - t0)
        if policy == "leave":
            r = subprocess.run("busctl call org.rprocd1 /org/rprocd1/core/c0 org.rprocd1.Core "
                               "Recover", shell=True, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"Recover failed: {r.stderr.strip()}; state {states()}, t={t}, recovery "
                      f"{open('/sys/class/remoteproc/remoteproc0/recovery').read().strip()}",
                      file=sys.stderr)
            mon.wait_state("running")
        # Never crash a core that is not running (the simulator refuses it).
        deadline = now() + 10
        while states() != ["running"] and now() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    mon.kill()
    dmn.kill()
    sim_unload()
    return [x * 1000 for x in latencies], missed


def proc_counters(pid):
    sw = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        for line in open(f"/proc/{pid}/task/{tid}/status"):
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                sw += int(line.split()[1])
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return sw, ticks * 1000 / os.sysconf("SC_CLK_TCK")


def memory(pid):
    out = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        k, _, v = line.partition(":")
        if k in ("Rss", "Pss"):
            out[k] = int(v.split()[0])
    return out


def timed(cmd, n=10):
    v = []
    for _ in range(n):
        t0 = now()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        v.append(now() - t0)
    return med(v) * 1000


def bench_daemon_costs(n, running):
    """Idle wakeups and CPU, memory, and client latency with n cores."""
    sim_load(n)
    sh(f"cp {FW} /lib/firmware/bench.elf")
    write_configs(n, "[Core]\nFirmware=bench.elf\n" if running else "[Core]\nStart=attach\n")
    dmn = Daemon()
    dmn.wait_ready()
    time.sleep(1)
    sw0, cpu0 = proc_counters(dmn.pid)
    time.sleep(IDLE_S)
    sw1, cpu1 = proc_counters(dmn.pid)
    res = {"wakeups_per_s": (sw1 - sw0) / IDLE_S, "cpu_ms_per_min": (cpu1 - cpu0) * 60 / IDLE_S}
    res.update(memory(dmn.pid))
    res["rprocctl_list_ms"] = timed([RPROCCTL, "list"])
    res["busctl_get_ms"] = timed(["busctl", "get-property", "org.rprocd1", "/org/rprocd1/core/c0",
                                  "org.rprocd1.Core", "State"])
    res["spawn_ms"] = timed([RPROCCTL, "--version"])
    dmn.kill()
    sim_unload()
    return res


def main():
    bus_up()
    print(f"Kernel {os.uname().release}, QEMU TCG guest, {os.cpu_count()} vCPU; "
          f"{REPEAT} runs per boot figure (median), {CRASHES} crashes, {IDLE_S} s idle windows.\n")

    if "boot" in PARTS:
        boot_table()
    if "crash" in PARTS:
        crash_table()
    if "idle" in PARTS:
        idle_table()


def boot_table():
    print("### Boot N offline cores (ms, median)\n")
    print("| N | boot D | rprocd (start → READY=1) | shell loop | kernel auto_boot | insmod alone | "
          "rprocd / shell | rprocd − shell per core | rprocd / D |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in (0, 50):
        for n in SIZES:
            r = bench_boot(n, d)
            per_core = (r["rprocd"] - r["shell"]) / n
            ratio_d = f"{r['rprocd'] / d:.2f}" if d else "—"
            print(f"| {n} | {d} ms | {r['rprocd']:.0f} | {r['shell']:.0f} | {r['auto_boot']:.0f} | "
                  f"{r['insmod']:.0f} | {r['rprocd'] / r['shell']:.2f} | {per_core:+.1f} | {ratio_d} |",
                  flush=True)



def crash_table():
    print("\n### Crash to PropertiesChanged at a D-Bus client (ms; poll interval 500 ms)\n")
    print("| OnCrash= | signal | crashes seen | median | p99 | max |")
    print("|---|---|---|---|---|---|")
    for policy, what in (("leave", "State=crashed"), ("restart", "State=running again")):
        v, missed = bench_crash(policy)
        print(f"| {policy} | {what} | {len(v)} (missed {missed}) | {med(v):.0f} | {p99(v):.0f} | "
              f"{max(v):.0f} |", flush=True)



def idle_table():
    print(f"\n### Idle cost over {IDLE_S} s, memory, clients\n")
    print("| cores | running | wakeups/s | CPU ms/min | RSS KiB | PSS KiB | rprocctl list ms | "
          "busctl get-property ms | process spawn ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, running in [(SIZES[0], False), (SIZES[-1], False)] + [(n, True) for n in SIZES]:
        r = bench_daemon_costs(n, running)
        print(f"| {n} | {'yes' if running else 'no'} | {r['wakeups_per_s']:.2f} | "
              f"{r['cpu_ms_per_min']:.1f} | {r['Rss']} | {r['Pss']} | {r['rprocctl_list_ms']:.0f} | "
              f"{r['busctl_get_ms']:.0f} | {r['spawn_ms']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
