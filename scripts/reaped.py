#!/usr/bin/env python3
"""Runs a command so that no process it starts outlives it.

  scripts/reaped.py COMMAND [ARG...]

This process becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER): a
process whose parent dies anywhere below it (a test binary that crashed or
that ctest killed at its timeout leaves its redis-server, nginx or server
behind) is re-parented here instead of to init. When COMMAND has exited, every
such process still running 5 s later is named on stderr and killed (SIGKILL,
with its own children), and the exit status is 1 if COMMAND's was 0: a test
that leaves a process running is a failing test. Otherwise exits with
COMMAND's status. Linux only; Python standard library only.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 5.0


def children_of(pid):
    """Pids whose parent is `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip() or "?"
    except OSError:
        return "?"


def reap_zombies():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: reaped.py COMMAND [ARG...]")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"reaped.py: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
    # A signal to this wrapper (CI cancelling the run) goes to the command too;
    # the orphans are then killed below as usual.
    child = subprocess.Popen(sys.argv[1:])
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, _frame: child.send_signal(s))
    status = child.wait()
    me = os.getpid()
    deadline = time.monotonic() + GRACE_S
    while children_of(me) and time.monotonic() < deadline:
        reap_zombies()
        time.sleep(0.1)
    left = children_of(me)
    leaked = bool(left)
    for pid in left:
        print(f"reaped.py: still running after `{' '.join(sys.argv[1:])}` ended: pid {pid}: "
              f"{command_line(pid)} (killed)", file=sys.stderr)
    while left:
        # Each orphan's own children become ours when it dies: kill until
        # none is left.
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
        reap_zombies()
        left = children_of(me)
    reap_zombies()
    if status < 0:  # killed by a signal
        status = 128 - status
    sys.exit(1 if leaked and status == 0 else status)


if __name__ == "__main__":
    main()
