#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rprocd's benchmarks, run inside the test VM (bench/run starts it).

Every figure is measured side by side in one run, as a ratio where it can be:
absolute times under QEMU TCG are slow and drift. Prints markdown tables.

Modes (BENCH_MODES) are rprocd.conf [Daemon] settings compared column by
column: "events" (the defaults: the kernel log, sysfs notifications where the
kernel sends them, a 30 s safety poll), "poll-only" (KernelEvents=no,
PollIntervalSec=500ms: rprocd before issue 13) and "sysfs" (KernelEvents=sysfs,
PollIntervalSec=no: only POLLPRI on `state`, which only the 6.12-notify kernel
sends).

Parts (BENCH_PARTS): boot, profile, crash, idle, noise. The last table sums up
issue 13's goals for every mode that the parts run measured.
"""
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

KO = os.environ["RPROC_SIM_KO"]
FW = os.path.join(os.environ["RPROC_TEST_FW_DIR"], "fw64.elf")
BUILD = os.environ["RPROCD_BUILD_DIR"]
SRC = os.environ["RPROCD_SOURCE_DIR"]
RPROCD = os.path.join(BUILD, "daemon/rprocd")
RPROCCTL = os.path.join(BUILD, "rprocctl/rprocctl")
NOTIFY = "/run/bench-notify.sock"
CRASH_FILE = "/sys/bus/platform/devices/rproc_sim.0/crash"

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
CRASHES = int(os.environ.get("BENCH_CRASHES", "100"))
RCRASHES = int(os.environ.get("BENCH_RECOVERY_CRASHES", str(CRASHES)))
IDLE_S = int(os.environ.get("BENCH_IDLE_SECONDS", "60"))
NOISE_S = int(os.environ.get("BENCH_NOISE_SECONDS", "30"))
NOISE_HZ = int(os.environ.get("BENCH_NOISE_HZ", "100"))
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1,8,32").split(",")]
PARTS = os.environ.get("BENCH_PARTS", "boot,profile,crash,idle,noise").split(",")
MODES = os.environ.get("BENCH_MODES", "events,poll-only").split(",")
NMAX = SIZES[-1]

MODE_CONF = {
    "events": "KernelEvents=auto\nPollIntervalSec=auto\n",
    "poll-only": "KernelEvents=no\nPollIntervalSec=500ms\n",
    "sysfs": "KernelEvents=sysfs\nPollIntervalSec=no\n",
}
for _m in MODES:
    if _m not in MODE_CONF:
        sys.exit(f"vm_bench: unknown mode {_m} (known: {', '.join(MODE_CONF)})")

# RES[mode][measure]: what the summary table shows.
RES = {m: {} for m in MODES}
RES_ALL = {}
# Daemon log lines that look like trouble, with the run they came from.
ANOMALIES = []


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


def write_configs(n, body, mode="events"):
    sh("rm -rf /etc/rprocd && mkdir -p /etc/rprocd/cores")
    with open("/etc/rprocd/rprocd.conf", "w") as f:
        f.write("[Daemon]\n" + MODE_CONF[mode])
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
    """rprocd with a notify socket: wait_ready() returns when READY=1 arrived.

    capture=True: stderr comes through a pipe, each line stamped with the time
    it arrived (self.lines: (seconds since exec, line)). Otherwise the log goes
    to a file, and kill() keeps it in self.log. wrap: a command put in front
    of rprocd (strace)."""

    def __init__(self, env=None, args=(), capture=False, wrap=(), tag=""):
        if os.path.exists(NOTIFY):
            os.unlink(NOTIFY)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(NOTIFY)
        e = dict(os.environ, NOTIFY_SOCKET=NOTIFY, RPROCD_LOG_TARGET="console")
        e.update(env or {})
        self.tag = tag
        self.lines = []
        self.logfile = "/run/bench-rprocd.log"
        self.t0 = now()
        if capture:
            self.proc = subprocess.Popen([*wrap, RPROCD, *args], env=e, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            threading.Thread(target=self._read_log, daemon=True).start()
        else:
            with open(self.logfile, "w"):
                pass
            self.proc = subprocess.Popen([*wrap, RPROCD, *args], env=e, stdout=subprocess.DEVNULL,
                                         stderr=open(self.logfile, "a"))
        self.pid = self.proc.pid

    def _read_log(self):
        for line in self.proc.stderr:
            self.lines.append((now() - self.t0, line.decode(errors="replace").rstrip("\n")))

    def wait_ready(self, timeout=60):
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
        if not self.lines and os.path.exists(self.logfile):
            self.lines = [(None, l.rstrip("\n")) for l in open(self.logfile, errors="replace")]
        for _, line in self.lines:
            if re.search(r"overrun|[Ff]ailed|error|cannot|refus|wedged", line):
                ANOMALIES.append(f"{self.tag}: {line}")


def manager_prop(name):
    out = sh(f"busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager {name}",
             check=False).strip()
    return re.sub(r'^(as \d+ ?|[a-z]+ )', "", out).replace('"', "")


def core_prop(name, core="c0"):
    out = sh(f"busctl get-property org.rprocd1 /org/rprocd1/core/{core} org.rprocd1.Core {name}",
             check=False).strip()
    return re.sub(r'^[a-z]+ ', "", out).strip('"')


def med(v):
    return statistics.median(v) if v else float("nan")


def p99(v):
    if not v:
        return float("nan")
    s = sorted(v)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


def f0(x):
    return "—" if x is None or x != x else f"{x:.0f}"


# ---------------------------------------------------------------------------
# boot


def bench_boot(n, d, mode="events"):
    """Wall time to bring n offline cores up: rprocd, a shell loop, the kernel's auto_boot."""
    res = {"rprocd": [], "shell": [], "auto_boot": [], "insmod": []}
    sh(f"cp {FW} /lib/firmware/bench.elf")
    for i in range(n):
        sh(f"cp {FW} /lib/firmware/rproc-c{i}-fw")
    write_configs(n, "[Core]\nFirmware=bench.elf\n", mode)
    for _ in range(REPEAT):
        sim_load(n, f"boot_ms={d}")
        dmn = Daemon(tag=f"boot {mode} N={n} D={d}")
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


def boot_table():
    print("### Boot N offline cores (ms, median)\n")
    print("| mode | N | boot D | rprocd (start → READY=1) | shell loop | kernel auto_boot | "
          "insmod alone | rprocd / shell | rprocd − shell per core | rprocd / D |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = [(MODES[0], d, n) for d in (0, 50) for n in SIZES]
    rows[len(SIZES):len(SIZES)] = [(m, 0, NMAX) for m in MODES[1:]]
    for mode, d, n in rows:
        r = bench_boot(n, d, mode)
        per_core = (r["rprocd"] - r["shell"]) / n
        if d == 0 and n == NMAX:
            RES[mode]["boot_per_core"] = per_core
            RES[mode]["boot_rprocd"] = r["rprocd"]
            RES[mode]["boot_shell"] = r["shell"]
        ratio_d = f"{r['rprocd'] / d:.2f}" if d else "—"
        print(f"| {mode} | {n} | {d} ms | {r['rprocd']:.0f} | {r['shell']:.0f} | "
              f"{r['auto_boot']:.0f} | {r['insmod']:.0f} | {r['rprocd'] / r['shell']:.2f} | "
              f"{per_core:+.1f} | {ratio_d} |", flush=True)


# ---------------------------------------------------------------------------
# start-up profile

# Milestones of the start-up log (rprocd --debug), in the order they happen.
PHASES = [
    ("first log line (exec, libraries, config, event sources)", r""),
    ("last core found (enumeration)", r": found remoteproc"),
    ("first firmware lookup", r"firmware .* found at"),
    ("last `state=start` written", r'write state="start"'),
    ("last core booted (read back by its worker)", r": booted "),
    ("ready line", r"rprocd: ready: "),
]


def startup_log(n):
    """rprocd --debug bringing n offline cores up: its log lines with arrival times."""
    sim_load(n)
    write_configs(n, "[Core]\nFirmware=bench.elf\n")
    dmn = Daemon(args=["--debug"], capture=True, tag=f"profile N={n}")
    ready = dmn.wait_ready()
    time.sleep(0.2)
    dmn.kill()
    sim_unload()
    return ready, dmn.lines


def phase_times(lines):
    out = []
    for name, pat in PHASES:
        ts = [t for t, l in lines if re.search(pat, l)]
        out.append((ts[0] if name.startswith("first") else ts[-1]) if ts else None)
    return out


def strace_counts(n):
    """strace -f -c of rprocd bringing n offline cores up: {syscall: calls}, wall ms."""
    sim_load(n)
    write_configs(n, "[Core]\nFirmware=bench.elf\n")
    out = f"/run/bench-strace-{n}.txt"
    dmn = Daemon(wrap=["strace", "-f", "-c", "-o", out], tag=f"strace N={n}")
    ready = dmn.wait_ready()
    # The tracee ends; strace writes its summary and exits.
    kids = open(f"/proc/{dmn.pid}/task/{dmn.pid}/children").read().split()
    for k in kids:
        os.kill(int(k), signal.SIGKILL)
    dmn.proc.wait()
    dmn.sock.close()
    sim_unload()
    calls, total_s = {}, 0.0
    for line in open(out):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
            total_s += float(f[1])
    return calls, total_s * 1000, ready * 1000


def profile_table():
    sh(f"cp {FW} /lib/firmware/bench.elf")
    small = SIZES[0]
    print(f"\n### Start-up profile: where rprocd's start-up goes (N={small} and N={NMAX} offline "
          "cores, D=0)\n")
    print("From `rprocd --debug`'s log, each line stamped when it reached the bench (ms since "
          "exec, at the guest clock's resolution). Debug logging itself costs: READY=1 comes "
          "later than in the boot table.\n")
    r1, l1 = startup_log(small)
    rn, ln = startup_log(NMAX)
    p1, pn = phase_times(l1), phase_times(ln)
    print(f"| milestone | N={small} | N={NMAX} | per extra core |")
    print("|---|---|---|---|")
    for (name, _), a, b in zip(PHASES + [("READY=1 at the bench", None)], p1 + [r1], pn + [rn]):
        per = (b - a) * 1000 / (NMAX - small) if a is not None and b is not None else None
        print(f"| {name} | {f0(a * 1000 if a is not None else None)} | "
              f"{f0(b * 1000 if b is not None else None)} | "
              f"{'—' if per is None else f'{per:.1f}'} |")
    print(f"\nLog lines: {len(l1)} at N={small}, {len(ln)} at N={NMAX}.", flush=True)
    print(f"profile: rprocd --debug log at N={NMAX} (ms since exec):", file=sys.stderr)
    for t, l in ln:
        print(f"profile: {t * 1000:7.0f} {l}", file=sys.stderr)

    if not have_strace():
        print("\n(strace is not installed: no system call counts.)\n", flush=True)
        return
    c1, s1, w1 = strace_counts(small)
    cn, sn, wn = strace_counts(NMAX)
    print(f"\n`strace -f -c`, start → READY=1: N={small}: {sum(c1.values())} system calls, "
          f"{s1:.0f} ms system time in them, {w1:.0f} ms wall (traced); N={NMAX}: "
          f"{sum(cn.values())} calls, {sn:.0f} ms, {wn:.0f} ms wall. Per extra core "
          f"{(sum(cn.values()) - sum(c1.values())) / (NMAX - small):.0f} calls; the most "
          "frequent:\n")
    print(f"| system call | N={small} | N={NMAX} | per extra core |")
    print("|---|---|---|---|")
    names = sorted(set(c1) | set(cn), key=lambda k: cn.get(k, 0) - c1.get(k, 0), reverse=True)
    for k in names[:14]:
        print(f"| {k} | {c1.get(k, 0)} | {cn.get(k, 0)} | "
              f"{(cn.get(k, 0) - c1.get(k, 0)) / (NMAX - small):.1f} |")
    print(flush=True)


# ---------------------------------------------------------------------------
# crashes


class Monitor:
    """`rprocctl --json monitor`: events with the time they arrived, never blocking forever."""

    def __init__(self):
        self.proc = subprocess.Popen([RPROCCTL, "--json", "monitor"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.buf = b""
        self.state = "running"
        self.crash_count = None
        self.trace = []

    def next(self, timeout):
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
        ev = json.loads(line)
        ch = ev.get("Changed", {})
        if "State" in ch:
            self.state = ch["State"]
            self.trace.append(ch["State"])
        if "CrashCount" in ch:
            self.crash_count = ch["CrashCount"]
            self.trace.append("CrashCount")
        return now(), ev

    def wait_state(self, want, timeout=10):
        deadline = now() + timeout
        while True:
            t, ev = self.next(max(0, deadline - now()))
            if ev is None:
                return None
            if ev.get("Changed", {}).get("State") == want:
                return t

    def wait_recovered(self, timeout):
        """The first signal after which a crash was told (State left running, or CrashCount
        moved) and State is running: the client knows the core crashed and is back."""
        deadline = now() + timeout
        told = False
        while True:
            t, ev = self.next(max(0, deadline - now()))
            if ev is None:
                return None
            ch = ev.get("Changed", {})
            if "CrashCount" in ch or ch.get("State", "running") != "running":
                told = True
            if told and self.state == "running":
                return t

    def kill(self):
        self.proc.kill()


class KmsgWatch:
    """The kernel log's remoteproc records, stamped when they reached the bench, with the
    kernel's own timestamp (µs)."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.events = []
        self.cv = threading.Condition()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            if not select.select([self.fd], [], [], 0.2)[0]:
                continue
            while True:
                try:
                    rec = os.read(self.fd, 16384)
                except BlockingIOError:
                    break
                except BrokenPipeError:
                    continue
                t = now()
                if b"\n SUBSYSTEM=remoteproc" not in rec:
                    continue
                head, _, rest = rec.partition(b";")
                msg = rest.split(b"\n", 1)[0].decode(errors="replace")
                ts = int(head.split(b",")[2])
                with self.cv:
                    self.events.append((t, ts, msg))
                    self.cv.notify_all()

    def clear(self):
        with self.cv:
            self.events = []

    def wait_for(self, substr, timeout):
        """(arrival, kernel µs) of the first record since clear() containing substr."""
        deadline = now() + timeout
        with self.cv:
            while True:
                for t, ts, m in self.events:
                    if substr in m:
                        return t, ts
                left = deadline - now()
                if left <= 0:
                    return None, None
                self.cv.wait(left)

    def close(self):
        self.stop = True
        self.thread.join()
        os.close(self.fd)


def wait_sysfs_running(timeout=10):
    deadline = now() + timeout
    while states() != ["running"] and now() < deadline:
        time.sleep(0.01)


def bench_kernel_alone():
    """No rprocd: the kernel's own recovery, crash write → "is now up" in /dev/kmsg (and the
    printk timestamps crash detected → up), and → `state` reading running again, polled
    every 1 ms."""
    sim_load(1)
    sh(f"cp {FW} /lib/firmware/bench.elf")
    sh("echo bench.elf > /sys/class/remoteproc/remoteproc0/firmware; "
       "echo enabled > /sys/class/remoteproc/remoteproc0/recovery; "
       "echo start > /sys/class/remoteproc/remoteproc0/state")
    km = KmsgWatch()
    up, kts, polled, unseen = [], [], [], 0
    st = open("/sys/class/remoteproc/remoteproc0/state")
    for _ in range(RCRASHES):
        km.clear()
        with open(CRASH_FILE, "w") as f:
            t0 = now()
            f.write("1")
        left, t_run = False, None
        deadline = t0 + 10
        while now() < deadline:
            st.seek(0)
            s = st.read().strip()
            if s != "running":
                left = True
            elif left:
                t_run = now()
                break
            time.sleep(0.001)
        if t_run is None:
            unseen += 1
        else:
            polled.append((t_run - t0) * 1000)
        t_up, ts_up = km.wait_for("is now up", 10)
        _, ts_crash = km.wait_for("crash detected", 1)
        if t_up is not None:
            up.append((t_up - t0) * 1000)
            if ts_crash is not None:
                kts.append((ts_up - ts_crash) / 1000)
        wait_sysfs_running()
        time.sleep(0.05)
    st.close()
    km.close()
    sim_unload()
    return {"up": up, "kts": kts, "polled": polled, "unseen": unseen}


def bench_crash(policy, mode):
    """Crash (write to rproc_sim's crash file) to PropertiesChanged at a D-Bus client."""
    sim_load(1)
    sh(f"cp {FW} /lib/firmware/bench.elf")
    # No start limit: the benchmark crashes the core far more often than a real one would.
    extra = "RestartSec=0\nStartLimitIntervalSec=0\n" if policy == "restart" else ""
    write_configs(1, f"[Core]\nFirmware=bench.elf\nOnCrash={policy}\n{extra}", mode)
    dmn = Daemon(tag=f"crash {mode} OnCrash={policy}")
    dmn.wait_ready()
    mon = Monitor()
    km = KmsgWatch()
    time.sleep(1.0)
    n = CRASHES if policy == "leave" else RCRASHES
    # OnCrash=kernel without an event source: the kernel recovers within a poll interval,
    # and the poll never sees most crashes. Do not wait long for what will not come.
    timeout = 1.5 if policy == "kernel" and mode != "events" else 5
    latencies, up, diff, missed = [], [], [], 0
    seqs = {}
    for _ in range(n):
        km.clear()
        mon.trace = []
        with open(CRASH_FILE, "w") as f:
            t0 = now()
            f.write("1")
        if policy == "leave":
            t = mon.wait_state("crashed", timeout)
        else:
            t = mon.wait_recovered(timeout)
        t_up = km.wait_for("is now up", 5)[0] if policy != "leave" else None
        seq = " → ".join(mon.trace) or "nothing"
        seqs[seq] = seqs.get(seq, 0) + 1
        if t is None:
            missed += 1
        else:
            latencies.append((t - t0) * 1000)
        if t_up is not None:
            up.append((t_up - t0) * 1000)
            if t is not None:
                diff.append((t - t_up) * 1000)
        if policy == "leave":
            r = subprocess.run("busctl call org.rprocd1 /org/rprocd1/core/c0 org.rprocd1.Core "
                               "Recover", shell=True, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"Recover failed: {r.stderr.strip()}; state {states()}, t={t}, recovery "
                      f"{open('/sys/class/remoteproc/remoteproc0/recovery').read().strip()}",
                      file=sys.stderr)
            mon.wait_state("running")
        # Never crash a core that is not running (the simulator refuses it).
        wait_sysfs_running()
        time.sleep(0.05)
    # Let a late signal arrive before counting.
    time.sleep(1.0 if mode == "events" else 1.5)
    crash_count = core_prop("CrashCount")
    sources = manager_prop("EventSources") or "(none)"
    poll = manager_prop("PollIntervalUSec")
    mon.kill()
    km.close()
    dmn.kill()
    sim_unload()
    return {"lat": latencies, "missed": missed, "up": up, "diff": diff, "n": n, "seqs": seqs,
            "count": crash_count, "sources": sources, "poll": poll}


def crash_table():
    print("\n### Crash to PropertiesChanged at a D-Bus client (ms)\n")
    print(f"{CRASHES} crashes with OnCrash=leave, {RCRASHES} with restart and kernel, one "
          "core. \"kernel up\": the core's \"is now up\" record reaching the bench through "
          "/dev/kmsg, from the crash write. \"after up\": the signal's lag behind that "
          "record, per crash (median). CrashCount: the daemon's count after the run / "
          "crashes made.\n")
    base = bench_kernel_alone()
    RES_ALL["kernel_alone_up"] = med(base["up"])
    RES_ALL["kernel_alone_polled"] = med(base["polled"])
    print(f"The kernel alone (no rprocd, recovery enabled), {RCRASHES} crashes: crash write → "
          f"\"is now up\" at the bench median {med(base['up']):.0f} ms (p99 "
          f"{p99(base['up']):.0f}); printk timestamps crash detected → up median "
          f"{med(base['kts']):.0f} ms; `state` polled every 1 ms reads running again after "
          f"median {med(base['polled']):.0f} ms (p99 {p99(base['polled']):.0f}; "
          f"{base['unseen']} recoveries too quick for the poll to see the core leave "
          "running).\n", flush=True)
    print("| mode | EventSources / poll µs | OnCrash= | signal | crashes seen | median | p99 | "
          "max | kernel up (median) | after up | CrashCount |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    seqs = []
    for mode in MODES:
        for policy, what in (("leave", "State=crashed"), ("restart", "running again"),
                             ("kernel", "running again")):
            r = bench_crash(policy, mode)
            v = r["lat"]
            RES[mode][policy] = r
            print(f"| {mode} | {r['sources']} / {r['poll']} | {policy} | {what} | "
                  f"{len(v)} (missed {r['missed']}) | {f0(med(v))} | {f0(p99(v))} | "
                  f"{f0(max(v) if v else None)} | {f0(med(r['up']))} | {f0(med(r['diff']))} | "
                  f"{r['count']}/{r['n']} |", flush=True)
            seqs.append((mode, policy, r["seqs"]))
    print("\nWhat the client saw between one crash and the next (the commonest "
          "sequences of State values and CrashCount changes, with their counts):\n")
    for mode, policy, sq in seqs:
        top = sorted(sq.items(), key=lambda kv: -kv[1])[:3]
        print(f"- {mode}, OnCrash={policy}: " + "; ".join(f"{k} ({v})" for k, v in top))
    print(flush=True)


# ---------------------------------------------------------------------------
# idle and noise


def proc_counters(pid):
    """Context switches (voluntary + involuntary, every thread) and CPU ms: the scheduler's
    sum_exec_runtime where /proc shows it (CONFIG_SCHED_DEBUG), else utime + stime."""
    sw, cpu = 0, 0.0
    have_sched = True
    for tid in os.listdir(f"/proc/{pid}/task"):
        for line in open(f"/proc/{pid}/task/{tid}/status"):
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                sw += int(line.split()[1])
        try:
            for line in open(f"/proc/{pid}/task/{tid}/sched"):
                if line.startswith("se.sum_exec_runtime"):
                    cpu += float(line.split(":")[1])
        except OSError:
            have_sched = False
    if not have_sched:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    return sw, cpu


def proc_ticks_ms(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def have_strace():
    return any(os.access(os.path.join(d, "strace"), os.X_OK)
               for d in os.environ["PATH"].split(":"))


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


def spin_calibrate():
    """Loop iterations per ms of spin(): the guest clock may move in 4 ms steps, so jitter is
    counted in iterations, not read from the clock."""
    n, t0 = 0, now()
    while now() - t0 < 0.5:
        spin(1000)
        n += 1000
    return n / ((now() - t0) * 1000)


def spin(n):
    for _ in range(n):
        pass


def noise_writer(stop, stats, per_ms):
    """NOISE_HZ unrelated kernel log records a second, at debug level (not printed on the
    console, whose serial port is slow under TCG): the daemon reads them all the same.

    Without high-resolution timers every sleep ends on a tick, and so would every write
    and the daemon's whole wakeup: the scheduler, whose clock moves in tick steps too in
    some boots, would then charge the daemon nothing, or a whole step, depending on luck. A random
    0-4 ms spin before each write puts the wakeups anywhere between two ticks, and the
    charged time is right on average."""
    import random
    fd = os.open("/dev/kmsg", os.O_WRONLY)
    nxt, i = now(), 0
    while not stop.is_set():
        spin(int(random.random() * 4 * per_ms))
        os.write(fd, b"<7>bench-noise: an unrelated message %d\n" % i)
        i += 1
        stats["writes"] = i
        nxt += 1.0 / NOISE_HZ
        d = nxt - now()
        if d > 0:
            time.sleep(d)
    os.close(fd)


def strace_window(pid, seconds):
    """strace -f -c attached to a running rprocd for a while: {syscall: calls}."""
    out = "/run/bench-strace-noise.txt"
    p = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-p", str(pid)],
                         stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    p.wait()
    calls = {}
    for line in open(out):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    return calls


def bench_daemon_costs(n, running, mode="events", noise=False, clients=True):
    """Idle (or noisy-log) wakeups and CPU, memory, and client latency with n cores."""
    sim_load(n)
    sh(f"cp {FW} /lib/firmware/bench.elf")
    write_configs(n, "[Core]\nFirmware=bench.elf\n" if running else "[Core]\nStart=attach\n",
                  mode)
    dmn = Daemon(tag=f"{'noise' if noise else 'idle'} {mode} N={n}")
    dmn.wait_ready()
    time.sleep(1)
    window = NOISE_S if noise else IDLE_S
    stop, stats, th = threading.Event(), {}, None
    if noise:
        th = threading.Thread(target=noise_writer, args=(stop, stats, spin_calibrate()))
        th.start()
    t0 = now()
    sw0, cpu0 = proc_counters(dmn.pid)
    ticks0 = proc_ticks_ms(dmn.pid)
    time.sleep(window)
    sw1, cpu1 = proc_counters(dmn.pid)
    ticks1 = proc_ticks_ms(dmn.pid)
    t1 = now()
    writes = stats.get("writes", 0)
    calls = None
    if th and have_strace():
        # What one unrelated record costs: system calls, counted after the measured window.
        calls = strace_window(dmn.pid, 5)
        calls = {k: v / (5 * NOISE_HZ) for k, v in calls.items()}
    if th:
        stop.set()
        th.join()
    el = t1 - t0
    res = {"wakeups_per_s": (sw1 - sw0) / el, "cpu_ms_per_min": (cpu1 - cpu0) * 60 / el,
           "cpu_pct": (cpu1 - cpu0) / (el * 1000) * 100, "rate": writes / el,
           "ticks_pct": (ticks1 - ticks0) / (el * 1000) * 100, "calls": calls}
    res.update(memory(dmn.pid))
    if clients:
        res["rprocctl_list_ms"] = timed([RPROCCTL, "list"])
        res["busctl_get_ms"] = timed(["busctl", "get-property", "org.rprocd1",
                                      "/org/rprocd1/core/c0", "org.rprocd1.Core", "State"])
        res["spawn_ms"] = timed([RPROCCTL, "--version"])
    res["sources"] = manager_prop("EventSources") or "(none)"
    dmn.kill()
    sim_unload()
    return res


def idle_table():
    print(f"\n### Idle cost over {IDLE_S} s, quiet kernel log; memory; clients\n")
    print("Wakeups: voluntary + involuntary context switches of every rprocd thread. CPU: the "
          "scheduler's sum_exec_runtime. The test kernel's timers fire on ticks, and in boots "
          "where its clocks move in 4 ms steps each short timer wakeup is charged 0 or a "
          "whole step: "
          "a row with a handful of wakeups reads a handful of steps, not its real cost "
          "(divide a poll-only row by its wakeups for that).\n")
    print("| mode | cores | running | wakeups/s | CPU ms/min | RSS KiB | PSS KiB | "
          "rprocctl list ms | busctl get-property ms | process spawn ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = [(MODES[0], n, r) for n, r in [(SIZES[0], False), (NMAX, False)] +
            [(n, True) for n in SIZES]]
    rows += [(m, NMAX, True) for m in MODES[1:]]
    for mode, n, running in rows:
        r = bench_daemon_costs(n, running, mode)
        if n == NMAX and running:
            RES[mode]["idle"] = r
        print(f"| {mode} | {n} | {'yes' if running else 'no'} | {r['wakeups_per_s']:.2f} | "
              f"{r['cpu_ms_per_min']:.1f} | {r['Rss']} | {r['Pss']} | "
              f"{r['rprocctl_list_ms']:.0f} | {r['busctl_get_ms']:.0f} | {r['spawn_ms']:.0f} |",
              flush=True)


def noise_table():
    print(f"\n### {NOISE_HZ} unrelated kernel log records a second, {NMAX} running cores, "
          f"{NOISE_S} s\n")
    print("The bench writes `<7>bench-noise: …` lines to /dev/kmsg (debug level: kept off the "
          "serial console), each after a random 0–4 ms spin so that the daemon's wakeups fall "
          "anywhere between two ticks. CPU as % of one core: the scheduler's "
          "sum_exec_runtime, and in brackets utime+stime (tick samples). System calls per "
          "record: `strace -f -c -p` for 5 s after the window.\n")
    print("| mode | EventSources | records/s written | wakeups/s | CPU ms/min | "
          "CPU % of a core | system calls per record |")
    print("|---|---|---|---|---|---|---|")
    for mode in MODES:
        r = bench_daemon_costs(NMAX, True, mode, noise=True, clients=False)
        RES[mode]["noise"] = r
        calls = "—"
        if r["calls"] is not None:
            top = sorted(r["calls"].items(), key=lambda kv: -kv[1])
            calls = f"{sum(r['calls'].values()):.1f}: " + ", ".join(
                f"{k} {v:.1f}" for k, v in top[:5] if v >= 0.05)
        print(f"| {mode} | {r['sources']} | {r['rate']:.0f} | {r['wakeups_per_s']:.1f} | "
              f"{r['cpu_ms_per_min']:.0f} | {r['cpu_pct']:.2f} ({r['ticks_pct']:.2f}) | "
              f"{calls} |", flush=True)


# ---------------------------------------------------------------------------
# summary


def summary_table():
    def cell(mode, get, goal, fmt):
        try:
            v = get(RES[mode])
        except (KeyError, TypeError, ZeroDivisionError):
            return "—"
        if v is None or v != v:
            return "—"
        if isinstance(goal, tuple):
            goal = goal[0](RES[mode])
            if goal is None or goal != goal:
                return fmt.format(v)
        # As shown: a median of 42.0001 ms meets "≤ 42" (the clock may move in 4 ms steps).
        return fmt.format(v) + (" ✓" if float(fmt.format(v)) <= goal else " ✗")

    base = RES_ALL.get("kernel_alone_up")
    rows = [
        ("crash → State=crashed, median (ms)", "≤ 20", lambda r: med(r["leave"]["lat"]),
         20, "{:.0f}"),
        ("same, p99 (ms)", "≤ 60", lambda r: p99(r["leave"]["lat"]), 60, "{:.0f}"),
        ("crashes missed / CrashCount (leave)", "0 / all",
         lambda r: r["leave"]["missed"], 0, "{:d}"),
        (f"OnCrash=restart → running again, median (ms); kernel alone recovers in "
         f"{f0(base)}", f"≤ {f0(base + 30) if base else 'kernel + 30'}",
         lambda r: med(r["restart"]["lat"]), ((lambda r: base + 30 if base else None),),
         "{:.0f}"),
        ("OnCrash=kernel → running again, median (ms)", "≤ that run's kernel up + 30",
         lambda r: med(r["kernel"]["lat"]),
         ((lambda r: med(r["kernel"]["up"]) + 30),), "{:.0f}"),
        ("… that run's kernel up (\"is now up\" at the bench), median (ms)", "",
         lambda r: med(r["kernel"]["up"]), float("inf"), "{:.0f}"),
        ("OnCrash=kernel: crashes missed", "0", lambda r: r["kernel"]["missed"], 0, "{:d}"),
        (f"{NMAX} running cores, quiet log: wakeups/s", "≤ 0.05",
         lambda r: r["idle"]["wakeups_per_s"], 0.05, "{:.2f}"),
        ("same: CPU ms/min", "≤ 5", lambda r: r["idle"]["cpu_ms_per_min"], 5, "{:.1f}"),
        (f"{NOISE_HZ} unrelated records/s: CPU % of a core", "≤ 1 %",
         lambda r: r["noise"]["cpu_pct"], 1, "{:.2f}"),
        (f"start-up D=0, {NMAX} cores: per-core overhead over the shell loop (ms)", "≤ 3",
         lambda r: r["boot_per_core"], 3, "{:+.1f}"),
        (f"RSS at {NMAX} running cores (KiB)", "≤ 4096", lambda r: r["idle"]["Rss"], 4096,
         "{:d}"),
    ]
    print("\n### Issue 13's goals, side by side\n")
    print("| measure | goal | " + " | ".join(MODES) + " |")
    print("|---|---|" + "---|" * len(MODES))
    for name, goal_text, get, goal, fmt in rows:
        cells = [cell(m, get, goal, fmt) for m in MODES]
        if all(c == "—" for c in cells):
            continue
        cells = [c.replace(" ✓", "").replace(" ✗", "") if goal_text == "" else c for c in cells]
        print(f"| {name} | {goal_text} | " + " | ".join(cells) + " |")
    print(flush=True)


def clock_step_ms():
    """The smallest step of CLOCK_MONOTONIC seen in 0.2 s: 4 ms in some boots of the test
    kernels under TCG (no vDSO clock then, every read a system call), fine in others."""
    steps, t_end = [], now() + 0.2
    last = now()
    while last < t_end:
        t = now()
        if t != last:
            steps.append(t - last)
            last = t
    return min(steps) * 1000 if steps else float("nan")


def main():
    bus_up()
    t_start = now()
    print(f"Kernel {os.uname().release}, QEMU TCG guest, {os.cpu_count()} vCPU; "
          f"rprocd {os.environ.get('BENCH_REV', '?')}; modes {', '.join(MODES)}; parts "
          f"{', '.join(PARTS)}; {REPEAT} runs per boot figure (median), {CRASHES} crashes "
          f"(leave) and {RCRASHES} (restart, kernel), {IDLE_S} s idle windows, {NOISE_S} s "
          f"noise windows; the guest clock moves in steps of {clock_step_ms():.3f} ms.\n")
    for mode in MODES:
        print(f"- {mode}: rprocd.conf [Daemon] " + MODE_CONF[mode].strip().replace("\n", ", "))
    print(flush=True)

    if "boot" in PARTS:
        boot_table()
    if "profile" in PARTS:
        profile_table()
    if "crash" in PARTS:
        crash_table()
    if "idle" in PARTS:
        idle_table()
    if "noise" in PARTS:
        noise_table()
    summary_table()
    if ANOMALIES:
        print(f"Daemon log lines that look like trouble ({len(ANOMALIES)}; the first 20 on "
              "stderr).\n")
        for a in ANOMALIES[:20]:
            print(f"anomaly: {a}", file=sys.stderr)
    print(f"Guest time for the parts: {(now() - t_start) / 60:.1f} min.")


if __name__ == "__main__":
    main()
