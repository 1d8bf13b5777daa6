# pycage reap: run as root (with the keeper's CAP_KILL) right after a script's process ends, for
# whatever reason, by a forked child of the keeper that runs this source with argv
# `[reap.py, <uid>, <seconds>]` (or as `python3 -I -S -c <this file> <uid> <seconds>`). Kills every
# process of the sandbox user, so that nothing the script left behind (a daemonised child, a process
# that SIGSTOPs others) is alive when pycage collects files or reads the container's state.
#
# A process is found by the real and effective uids in /proc/PID/status, not by the owner of
# /proc/PID (a process that makes itself non-dumpable turns that owner into root). The loop ends after
# two passes in a row find nothing to kill: with no process of that uid left, none can appear, since
# only such processes could start more. Zombies are dead already and are left to their reaper (tini).
# Exit 0 when none is left, 1 when some were still alive at the deadline (the host then removes the
# whole container).
import os
import signal
import sys
import time


def owned(pid, uid):
    try:
        with open("/proc/%s/status" % pid) as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except (OSError, ValueError):
        return False
    if fields.get("State", "").strip().startswith("Z"):
        return False
    uids = fields.get("Uid", "").split()
    return str(uid) in uids[:2]


def main():
    uid = int(sys.argv[1])
    deadline = time.monotonic() + float(sys.argv[2])
    me = os.getpid()
    killed = 0
    quiet = 0
    while quiet < 2:
        found = 0
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me or not owned(name, uid):
                continue
            try:
                os.kill(int(name), signal.SIGKILL)
                found += 1
            except ProcessLookupError:
                pass
        killed += found
        quiet = quiet + 1 if found == 0 else 0
        if quiet < 2:
            if time.monotonic() > deadline:
                sys.stdout.write('{"left": true, "killed": %d}\n' % killed)
                return 1
            if found:
                time.sleep(0.005)
    sys.stdout.write('{"left": false, "killed": %d}\n' % killed)
    return 0


sys.exit(main())
