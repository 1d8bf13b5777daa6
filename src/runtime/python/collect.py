# pycage collect: runs after a script, as `python3 -I -S -c <this file> <output dir> <max bytes> <max files>`.
# Writes a tar of the script's output directory to stdout (regular files only: symlinks, devices and
# fifos are skipped, and nothing is followed), stopping before the size or count cap; then writes one
# JSON line to stderr: how many times the memory cgroup's OOM killer fired in this container (the
# container is fresh per run, so any kill was this run's), and what was skipped.
# The host does not trust this stream either: it re-checks every name and size when extracting.
import json
import os
import stat
import sys
import tarfile


def oom_kills():
    # cgroup v1 (memory.oom_control: "oom_kill N") and v2 (memory.events: "oom_kill N").
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as source:
                for line in source:
                    name, _, value = line.partition(" ")
                    if name == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


def main():
    root = sys.argv[1]
    max_bytes = int(sys.argv[2])
    max_files = int(sys.argv[3])
    status = {"oomKills": oom_kills(), "files": 0, "bytes": 0, "skipped": [], "truncated": False}
    if max_files > 0 and os.path.isdir(root) and not os.path.islink(root):
        with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as archive:
            for directory, names, files in os.walk(root, followlinks=False):
                names.sort()
                for name in sorted(files):
                    path = os.path.join(directory, name)
                    relative = os.path.relpath(path, root)
                    try:
                        info = os.lstat(path)
                    except OSError:
                        continue
                    if not stat.S_ISREG(info.st_mode):
                        status["skipped"].append(relative)
                        continue
                    if status["files"] >= max_files or status["bytes"] + info.st_size > max_bytes:
                        status["truncated"] = True
                        status["skipped"].append(relative)
                        continue
                    try:
                        handle = open(path, "rb", opener=lambda p, f: os.open(p, f | getattr(os, "O_NOFOLLOW", 0)))
                    except OSError:
                        continue
                    with handle:
                        member = tarfile.TarInfo(relative)
                        member.size = os.fstat(handle.fileno()).st_size
                        if status["bytes"] + member.size > max_bytes:
                            status["truncated"] = True
                            status["skipped"].append(relative)
                            continue
                        member.mode = 0o644
                        member.mtime = int(info.st_mtime)
                        archive.addfile(member, handle)
                    status["files"] += 1
                    status["bytes"] += member.size
    sys.stdout.flush()
    sys.stderr.write(json.dumps(status) + "\n")


main()
