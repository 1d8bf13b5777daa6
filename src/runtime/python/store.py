# pycage store: run as root in an install container, after the install (as uid 10001) has ended and
# every process of that user has been killed: `python3 -I -S -c <this file> check|commit <store> <built>`.
#
# The install wrote its environment into a size-limited tmpfs at the environment's final path; the
# environment's own Docker volume is mounted at <store>, writable only by root. This program, which runs
# no package code, is the only thing that writes the volume:
#   check   prints {"complete": true} when the volume already holds a finished environment;
#   commit  under an exclusive lock (several pycage processes may build the same environment at once),
#           copies <built> into <store>/venv unless another build finished first, then writes the
#           `.complete` marker last. Only directories, regular files and symlinks are copied; symlinks
#           are copied as links and never followed; nothing keeps its owner (root owns the copy) and no
#           file keeps set-id bits.
# One JSON line on stdout says what happened.
import fcntl
import json
import os
import shutil
import stat
import sys


def report(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def copy_tree(source, target):
    os.mkdir(target, 0o755)
    for entry in os.scandir(source):
        origin = os.path.join(source, entry.name)
        destination = os.path.join(target, entry.name)
        info = os.lstat(origin)
        if stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(origin), destination)
        elif stat.S_ISDIR(info.st_mode):
            copy_tree(origin, destination)
        elif stat.S_ISREG(info.st_mode):
            mode = 0o755 if info.st_mode & 0o111 else 0o644
            flags = os.O_RDONLY | os.O_NOFOLLOW
            with open(os.open(origin, flags), "rb") as reader, open(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
            os.chmod(destination, mode)
        # Devices, fifos and sockets are left out: an environment has no use for them.


def main():
    action, store = sys.argv[1], sys.argv[2]
    marker = os.path.join(store, ".complete")
    if action == "check":
        report(complete=os.path.exists(marker))
        return 0
    built = sys.argv[3]
    lock = os.open(os.path.join(store, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    if os.path.exists(marker):
        report(status="reused")
        return 0
    target = os.path.join(store, "venv")
    shutil.rmtree(target, ignore_errors=True)
    try:
        copy_tree(built, target)
    except OSError as error:
        shutil.rmtree(target, ignore_errors=True)
        report(status="failed", error="%s: %s" % (error.strerror, error.filename))
        return 1
    with open(marker + ".tmp", "w") as done:
        json.dump({"complete": True}, done)
    os.replace(marker + ".tmp", marker)
    os.chmod(store, 0o755)
    report(status="stored")
    return 0


sys.exit(main())
