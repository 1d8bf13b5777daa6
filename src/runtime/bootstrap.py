# pycage bootstrap: the first thing a run executes, as `python3 -I -S -c <this file>`.
#
# The host sends one framed payload on stdin (see src/runtime/payload.ts):
#   b"PYCAGE1 <header length>\n" + JSON header + the bytes of each file, then the script's stdin, in order.
# This program writes the files into the work directory, points the script's stdin at the bytes it was
# given (or /dev/null), creates the output directory, and replaces itself with the script's interpreter,
# so the script is the exec's own process: its exit status, signals and output are the run's.
# Files and code go in this way, not through Docker's archive API, because on a read-only root
# filesystem the archive API cannot write, and it does not see tmpfs mounts.
import json
import os
import sys

MAGIC = b"PYCAGE1 "
CHUNK = 1 << 20


def fail(message, status=70):
    sys.stderr.write("pycage-bootstrap: " + message + "\n")
    sys.stderr.flush()
    os._exit(status)


def read_exact(source, size):
    parts = []
    remaining = size
    while remaining > 0:
        part = source.read(min(remaining, CHUNK))
        if not part:
            fail("payload ended early")
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def copy_exact(source, target, size):
    remaining = size
    while remaining > 0:
        part = source.read(min(remaining, CHUNK))
        if not part:
            fail("payload ended early")
        target.write(part)
        remaining -= len(part)


def safe_path(root, relative):
    # The host checks names too; this keeps a bad payload from writing outside the work directory.
    if not relative or relative.startswith("/") or "\\" in relative or "\0" in relative:
        fail("bad file name: %r" % (relative,))
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        fail("bad file name: %r" % (relative,))
    return os.path.join(root, *parts)


def main():
    source = sys.stdin.buffer
    first = source.readline(64)
    if not first.startswith(MAGIC) or not first.endswith(b"\n"):
        fail("no payload on stdin")
    header = json.loads(read_exact(source, int(first[len(MAGIC):-1])).decode("utf-8"))

    work = header["workDir"]
    os.makedirs(work, exist_ok=True)
    for entry in header["files"]:
        path = safe_path(work, entry["path"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # O_NOFOLLOW: never write through a symlink, whatever the directory holds.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(path, flags, 0o644), "wb") as target:
            copy_exact(source, target, entry["size"])

    stdin_size = header.get("stdinSize")
    if stdin_size is None:
        stdin_fd = os.open(os.devnull, os.O_RDONLY)
    else:
        # The bytes go to a file that is unlinked at once: the script reads them from fd 0 and nothing
        # of them is left in the work directory.
        stdin_path = os.path.join(header["tempDir"], ".pycage-stdin-%d" % os.getpid())
        with open(stdin_path, "wb") as target:
            copy_exact(source, target, stdin_size)
        stdin_fd = os.open(stdin_path, os.O_RDONLY)
        os.unlink(stdin_path)
    os.dup2(stdin_fd, 0)
    os.close(stdin_fd)

    os.makedirs(os.path.join(work, header["outputDir"]), exist_ok=True)
    os.chdir(work)
    python = header["python"]
    argv = [python, header["script"]] + list(header["args"])
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        # execvp: an absolute path (a venv's python) is used as is; `python3` is looked up on PATH.
        os.execvp(python, argv)
    except OSError as error:
        fail("cannot start %s: %s" % (python, error.strerror), 127)


main()
