#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for systemd's file-descriptor store, where systemd is not PID 1.

Speaks the sd_notify protocol with the daemon it runs: READY=1, STOPPING=1,
FDSTORE=1 with FDNAME= and the fds as SCM_RIGHTS, FDSTOREREMOVE=1; hands the
stored fds to the next instance with LISTEN_FDS, LISTEN_FDNAMES and
LISTEN_PID, as systemd does across `systemctl restart`.

    fdstore.py CONTROL_DIR DAEMON [ARGS...]

Commands, one per line, are read from CONTROL_DIR/cmd (a FIFO it creates):
  start    start the daemon with the stored fds, answer when it sent READY=1
  restart  SIGTERM, wait for the exit, keep the fds, start again
  stop     SIGTERM, wait for the exit, close every stored fd
  kill     SIGKILL the daemon, keep the fds (as systemd does on a crash)
  quit     stop and exit
Each answer ("ok CMD [n_fds]" or "error CMD: why") is appended to CONTROL_DIR/reply.
"""
import fcntl
import os
import select
import signal
import socket
import sys
import time

ctl, daemon = sys.argv[1], sys.argv[2:]
fifo, reply_path, sock_path = (os.path.join(ctl, n) for n in ("cmd", "reply", "notify.sock"))
log_path = os.path.join(ctl, "daemon.log")
os.makedirs(ctl, exist_ok=True)
for p in (fifo, sock_path):
    if os.path.exists(p):
        os.unlink(p)
os.mkfifo(fifo)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
stored = []  # (name, fd)
child = None
ready = False


def reply(text):
    with open(reply_path, "a") as f:
        f.write(text + "\n")


def handle_notify():
    global ready
    msg, fds, _, _ = socket.recv_fds(sock, 4096, 16)
    fields = dict(l.split("=", 1) for l in msg.decode().split("\n") if "=" in l)
    if fields.get("READY") == "1":
        ready = True
    if fields.get("FDSTORE") == "1":
        for fd in fds:
            stored.append((fields.get("FDNAME", "stored"), fd))
        fds = []
    if fields.get("FDSTOREREMOVE") == "1":
        for name, fd in [x for x in stored if x[0] == fields.get("FDNAME")]:
            os.close(fd)
            stored.remove((name, fd))
    for fd in fds:
        os.close(fd)


def start():
    global child, ready
    ready = False
    pid = os.fork()
    if pid == 0:
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 200) for _, fd in stored]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i, inheritable=True)
        os.closerange(3 + len(high), 1024)
        env = dict(os.environ, NOTIFY_SOCKET=sock_path, RPROCD_LOG_TARGET="console")
        if stored:
            env.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=str(len(stored)),
                       LISTEN_FDNAMES=":".join(n for n, _ in stored))
        out = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.execve(daemon[0], daemon, env)
    child = pid
    deadline = time.time() + 20
    while not ready and time.time() < deadline:
        if select.select([sock], [], [], 0.1)[0]:
            handle_notify()
        if os.waitpid(child, os.WNOHANG)[0] == child:
            child = None
            return False
    return ready


def terminate(sig):
    global child
    if child is None:
        return
    os.kill(child, sig)
    while True:
        r, _, _ = select.select([sock], [], [], 0.05)
        if r:
            handle_notify()
        if os.waitpid(child, os.WNOHANG)[0] == child:
            break
    while select.select([sock], [], [], 0)[0]:
        handle_notify()
    child = None


cmd_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
buf = b""
while True:
    r, _, _ = select.select([sock, cmd_fd], [], [], 1)
    if sock in r:
        handle_notify()
    if cmd_fd not in r:
        continue
    data = os.read(cmd_fd, 4096)
    if not data:
        os.close(cmd_fd)
        cmd_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        continue
    buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        cmd = line.decode().strip()
        if cmd in ("start", "restart"):
            if cmd == "restart":
                terminate(signal.SIGTERM)
            reply(f"ok {cmd} {len(stored)}" if start() else f"error {cmd}: no READY=1")
        elif cmd == "kill":
            terminate(signal.SIGKILL)
            reply(f"ok kill {len(stored)}")
        elif cmd in ("stop", "quit"):
            terminate(signal.SIGTERM)
            for _, fd in stored:
                os.close(fd)
            stored.clear()
            reply(f"ok {cmd} 0")
            if cmd == "quit":
                sys.exit(0)
        else:
            reply(f"error {cmd}: unknown command")
