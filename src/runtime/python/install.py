# pycage install: builds one cached environment, as `python3 -I -c <this file>` with a framed payload on
# stdin (see src/runtime/payload.ts). The header carries the environment key, the directory that holds
# all environments, and the exact commands to run (built and unit-tested on the host, in
# install-commands.ts); blobs carry the wheelhouse files of --find-links, when there is one.
#
# Several processes (several pycage runtimes, on one machine or several) may want the same environment
# at once. An exclusive flock on <envs>/.locks/<key>.lock serialises them: the first builds, the others
# wait and then find the `.complete` marker and reuse it. A build that died half-way leaves no marker,
# so the next one removes the partial directory and starts again.
#
# In a Docker install container (header `"locking": false`) none of that applies: the environment is
# built into a fresh tmpfs at its final path, and store.py, not this program, moves it into the
# environment's own volume; this program only runs the commands.
#
# stdout carries exactly one JSON line, the status; everything the installer prints goes to stderr.
# Exit status: 0 done (installed or reused), 75 the environments directory is not writable (the host
# then hands it to the sandbox user and tries again), anything else the installer's own failure.
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time

MAGIC = b"PYCAGE1 "
NOT_WRITABLE = 75


def read_exact(source, size):
    parts = []
    remaining = size
    while remaining > 0:
        part = source.read(min(remaining, 1 << 20))
        if not part:
            sys.stderr.write("pycage-install: payload ended early\n")
            sys.exit(70)
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def report(status, **fields):
    fields["status"] = status
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main():
    source = sys.stdin.buffer
    first = source.readline(64)
    if not first.startswith(MAGIC):
        sys.stderr.write("pycage-install: no payload on stdin\n")
        return 70
    header = json.loads(read_exact(source, int(first[len(MAGIC):-1])).decode("utf-8"))

    wheelhouse = header.get("wheelhouse")
    if wheelhouse:
        os.makedirs(wheelhouse["dir"], exist_ok=True)
        for entry in wheelhouse["files"]:
            name = entry["name"]
            if "/" in name or name in ("", ".", ".."):
                sys.stderr.write("pycage-install: bad wheelhouse file name %r\n" % (name,))
                return 70
            with open(os.path.join(wheelhouse["dir"], name), "wb") as target:
                target.write(read_exact(source, entry["size"]))

    if header.get("locking") is False:
        return run_commands(header["commands"], None)

    envs = header["envsDir"]
    if not os.access(envs, os.W_OK):
        sys.stderr.write("pycage-install: %s is not writable\n" % envs)
        return NOT_WRITABLE
    locks = os.path.join(envs, ".locks")
    os.makedirs(locks, exist_ok=True)
    key = header["key"]
    target = os.path.join(envs, key)
    marker = os.path.join(target, ".complete")

    with open(os.path.join(locks, key + ".lock"), "a") as lock:
        waited = time.monotonic()
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        waited = time.monotonic() - waited
        if os.path.exists(marker):
            report("reused", waitedMs=int(waited * 1000))
            return 0
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        status = run_commands(header["commands"], target)
        if status != 0:
            return status
        # Written whole and renamed into place, so a reader never sees a half-written marker.
        with open(marker + ".tmp", "w") as done_file:
            json.dump({"requirements": header.get("requirements", []), "installer": header.get("installer")}, done_file)
        os.replace(marker + ".tmp", marker)
        report("installed", waitedMs=int(waited * 1000))
        return 0


def run_commands(commands, target):
    # `target`: a directory to remove when a command fails (None: the caller cleans up).
    for command in commands:
        environment = dict(os.environ)
        environment.update(command["env"])
        sys.stderr.write("pycage-install: " + " ".join(command["argv"]) + "\n")
        sys.stderr.flush()
        try:
            done = subprocess.run(command["argv"], stdin=subprocess.DEVNULL, stdout=2, stderr=2, env=environment)
            status = done.returncode
        except OSError as error:
            sys.stderr.write("pycage-install: cannot run %s: %s\n" % (command["argv"][0], error.strerror))
            status = 127
        if status != 0:
            if target is not None:
                shutil.rmtree(target, ignore_errors=True)
            report("failed", exitCode=status)
            return status if 0 < status < 256 and status != NOT_WRITABLE else 1
    if target is None:
        report("installed", waitedMs=0)
    return 0


sys.exit(main())
