# pycage bootstrap: the first thing a run executes, as `<interpreter> -c <this file>`, where the
# interpreter is the one the script runs with (its environment's venv python, else the image's python3).
#
# The host sends one framed payload on stdin (see src/runtime/payload.ts, encodeRunHeader):
#   b"PYCAGE1 <header length>\n" + header + the bytes of each file, then the script's stdin, in order.
# The header is NUL-separated fields (NUL cannot occur in paths or argv), not JSON: importing json costs
# more than everything else this program does, and a warm run should cost about one `docker exec`.
# Files and code go in this way, not through Docker's archive API, because on a read-only root
# filesystem the archive API cannot write, and it does not see tmpfs mounts.
#
# This program writes the files into the work directory, points fd 0 at the stdin bytes it was given
# (or /dev/null), creates the output directory, and then runs the script in this same interpreter, as
# `python script.py` would: a fresh `__main__` module with `__file__`, `sys.argv` and `sys.path[0]` set
# as for a script. Running it in-process rather than exec'ing a second interpreter saves one Python
# start-up per run. Only `os` and `sys` are imported (both are loaded at start-up anyway), and the
# payload is read with os.read, so `sys.stdin` is untouched until the script uses it. If the script
# dies of an uncaught exception, the traceback is printed without this program's frame.
import os
import sys

MAGIC = b"PYCAGE1 "
CHUNK = 1 << 20


def fail(message, status=70):
    sys.stderr.write("pycage-bootstrap: " + message + "\n")
    sys.stderr.flush()
    os._exit(status)


class Payload:
    def __init__(self):
        self.pending = b""

    def read(self, size):
        # At most `size` bytes, from what is pending first; never more than asked from fd 0.
        if self.pending:
            part, self.pending = self.pending[:size], self.pending[size:]
            return part
        return os.read(0, min(size, CHUNK))

    def read_line(self, limit):
        while b"\n" not in self.pending and len(self.pending) < limit:
            part = os.read(0, limit - len(self.pending))
            if not part:
                break
            self.pending += part
        line, newline, rest = self.pending.partition(b"\n")
        self.pending = rest
        return line + newline

    def read_exact(self, size):
        parts = []
        remaining = size
        while remaining > 0:
            part = self.read(remaining)
            if not part:
                fail("payload ended early")
            parts.append(part)
            remaining -= len(part)
        return b"".join(parts)

    def copy_to(self, fd, size):
        remaining = size
        while remaining > 0:
            part = self.read(remaining)
            if not part:
                fail("payload ended early")
            view = memoryview(part)
            while view:
                view = view[os.write(fd, view):]
            remaining -= len(part)


def parse_header(data):
    fields = data.decode("utf-8").split("\0")
    if fields[0] != "v1":
        fail("unknown payload version %r" % (fields[0],))
    header = {
        "workDir": fields[1],
        "tempDir": fields[2],
        "script": fields[3],
        "outputDir": fields[4],
        "stdinSize": int(fields[5]) if fields[5] else None,
    }
    position = 7
    header["args"] = fields[position:position + int(fields[6])]
    position += int(fields[6])
    count = int(fields[position])
    position += 1
    header["files"] = [
        (fields[position + 2 * index], int(fields[position + 2 * index + 1])) for index in range(count)
    ]
    return header


def safe_path(root, relative):
    # The host checks names too; this keeps a bad payload from writing outside the work directory.
    if not relative or relative.startswith("/") or "\\" in relative:
        fail("bad file name: %r" % (relative,))
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        fail("bad file name: %r" % (relative,))
    return os.path.join(root, *parts)


def prepare():
    payload = Payload()
    first = payload.read_line(64)
    if not first.startswith(MAGIC) or not first.endswith(b"\n"):
        fail("no payload on stdin")
    header = parse_header(payload.read_exact(int(first[len(MAGIC):-1])))

    work = header["workDir"]
    os.makedirs(work, exist_ok=True)
    for name, size in header["files"]:
        path = safe_path(work, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # O_NOFOLLOW: never write through a symlink, whatever the directory holds.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            payload.copy_to(fd, size)
        finally:
            os.close(fd)

    if header["stdinSize"] is None:
        stdin_fd = os.open(os.devnull, os.O_RDONLY)
    else:
        # The bytes go to a file that is unlinked at once: the script reads them from fd 0 and nothing
        # of them is left behind.
        stdin_path = os.path.join(header["tempDir"], ".pycage-stdin-%d" % os.getpid())
        fd = os.open(stdin_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            payload.copy_to(fd, header["stdinSize"])
        finally:
            os.close(fd)
        stdin_fd = os.open(stdin_path, os.O_RDONLY)
        os.unlink(stdin_path)
    os.dup2(stdin_fd, 0)
    os.close(stdin_fd)

    os.makedirs(os.path.join(work, header["outputDir"]), exist_ok=True)
    os.chdir(work)
    return os.path.join(work, header["script"]), [header["script"]] + list(header["args"])


def trimmed(traceback):
    # Drop this program's own frames (compiled from `-c`, so named "<string>") from the top.
    while traceback is not None and traceback.tb_frame.f_code.co_filename == "<string>":
        traceback = traceback.tb_next
    return traceback


_script, _argv = prepare()
_main = type(sys)("__main__")
_main.__file__ = _script
_main.__cached__ = None
_main.__builtins__ = __builtins__
_loader_type = getattr(sys.modules.get("importlib._bootstrap_external"), "SourceFileLoader", None)
if _loader_type is not None:
    _main.__loader__ = _loader_type("__main__", _script)
sys.modules["__main__"] = _main
# As `python script.py` run from the work directory: argv[0] as typed, __file__ absolute.
sys.argv[:] = _argv
sys.path[0] = os.path.dirname(_script)
try:
    with open(_script, "rb") as _source:
        # Compiled here, inside the try, so a SyntaxError prints as Python prints it for a script.
        _code = compile(_source.read(), _script, "exec", dont_inherit=True)
    del _source
    exec(_code, _main.__dict__)
except SystemExit:
    raise
except BaseException as _error:
    _error.__traceback__ = trimmed(_error.__traceback__)
    sys.excepthook(type(_error), _error, _error.__traceback__)
    if isinstance(_error, KeyboardInterrupt):
        import signal

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(1)
