# pycage keeper: the main process of every sandbox container, started as
# `python3 -I -S -c <this file> [PROXY_PORT]`, as root with every capability dropped but CAP_KILL,
# CAP_SETUID and CAP_SETGID.
#
# It does two things, and the script can stop neither: the script runs as uid 10001, and a process
# of another uid cannot signal, trace or freeze this one.
#
# 1. The lifeline. Its stdin is attached to the pycage process that made the container. When that
#    process goes away (exit, crash, kill -9) the attach connection closes, this program reads EOF and
#    exits, the container stops and Docker's AutoRemove deletes it.
#
# 2. The egress tunnel, when given a port (network `public`). The container has no network interface
#    but loopback; this program listens on 127.0.0.1:PORT (the script's HTTP_PROXY) and carries each
#    accepted connection over the same attach stream to pycage, whose egress proxy decides where it
#    may go. Frames both ways are `>BII` (kind, stream id, payload length) + payload:
#      OPEN   (keeper -> host) a new connection
#      DATA   bytes of a connection
#      CLOSE  this side will send no more (half-close)
#      RESET  the connection is gone (the keeper resets the script's socket: a broken connection, not an end)
#      CREDIT the receiver wrote this many more bytes (big-endian u32 payload): the sender may send
#             that many more. Each side starts with WINDOW bytes of credit per connection, so a script
#             that never reads cannot make either side buffer more than that.
#
# 3. The run, without a `docker exec`. A RUN frame from the host makes this program fork a child that
#    drops to the sandbox user (no supplementary groups, gid and uid 10001: a uid change from root
#    clears every capability, and no-new-privileges keeps the execve from gaining any) and execs the
#    command it names, which is the bootstrap with seccomp.py in front. Its stdin, stdout and stderr are
#    pipes to this program, carried on the same attach stream as the tunnel, in frames of their own
#    kinds, whose stream id is the run id the host chose:
#      RUN        (host -> keeper) NUL-separated: working directory, argv count, argv..., then KEY=VALUE
#                 environment entries (nothing else of this program's environment goes on)
#      RUN_STDIN  bytes for the child's stdin;  RUN_EOF  no more of them
#      RUN_OUT, RUN_ERR  (keeper -> host) the child's stdout, stderr
#      RUN_EXIT   (keeper -> host) `>i`: its status as `docker exec` reports it (128+N if killed by signal N)
#      RUN_REFUSED (keeper -> host) why no run was started (text)
#      REAP       (host -> keeper) a bound in seconds, NUL, reap.py's source: a forked child of this program
#                 (root, with this program's capabilities) runs it to kill every process of the sandbox
#                 user, as a reap exec would
#      REAPED     (keeper -> host) `>i`: reap.py's status
#    A container runs one script in its life: a second RUN is refused. The child has none of this
#    program's descriptors, so it cannot write frames; its bytes reach the host only inside frames.
#
# 4. The run without a new interpreter. A RUN of `<python> -c <source>`, where <python> is this very
#    interpreter (the image's python3, or a venv made from it: the same binary behind a pyvenv.cfg), and
#    whose environment names no PYTHON* variable but PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE (the
#    others change how an interpreter starts, which a fork cannot redo) nor another locale than this
#    program's, is not exec'd: the child, once it is the sandbox user, leaves this program's frames
#    (BecomeScript unwinds them all), drops its globals, and starts the source itself, as `python -c`
#    would have: the run's environment, sys.executable (the venv's python for a venv, whose pyvenv.cfg
#    site then reads, setting sys.prefix and the venv's site-packages), site.main() with the user site
#    as an interpreter started without -I has it, '' in front of sys.path, new standard streams
#    (unbuffered under PYTHONUNBUFFERED), a fresh __main__. That saves a Python start-up per run (4.5 ms
#    of a 20 ms warm run, and 4 of its 17-18 ms of CPU: P1-fork/exec in bench/RESULTS.md). The source is
#    seccomp.py then the bootstrap, so the filter is in place before any of the script runs, as on the
#    exec path; on both, site's .pth files run before it (as the sandbox user, without capabilities).
#    What the child keeps of this program, and the exec path would not: its sys.flags (isolated,
#    no_site, ignore_environment and safe_path read 1: the struct cannot be changed), its hash seed, the
#    modules it imported (select, selectors, socket, ctypes...: state-free at import), and its freed
#    heap, which only ever held this container's own run (its frames, its stdin) and this program's
#    code; its cmdline is rewritten to the command it stands for (so nothing in the container but this
#    program says "pycage keeper"), its /proc/self/environ still shows this program's starting
#    environment (PATH, LANG, HOSTNAME, HOME). What it does not keep: descriptors (every one is closed,
#    the objects that owned one first, so none can close a number the script reuses), privileges (the
#    same setgroups/setgid/setuid as the exec path, then dumpable again as after an execve), signal
#    handlers (Python's own defaults), or a way to signal this program (another uid).
import ctypes
import os
import select
import selectors
import signal
import socket
import struct
import sys

# Loaded here, once per container, for a forked run (start_script, and seccomp.py's ctypes): not per run.
import site  # noqa: F401

HEADER = struct.Struct(">BII")
OPEN, DATA, CLOSE, RESET, CREDIT = 1, 2, 3, 4, 5
RUN, RUN_STDIN, RUN_EOF, RUN_OUT, RUN_ERR, RUN_EXIT, RUN_REFUSED, REAP, REAPED = 16, 17, 18, 19, 20, 21, 22, 23, 24
STATUS = struct.Struct(">i")
# Must equal sandboxUid in container-options.ts (a unit test checks it).
SANDBOX_UID = 10001
# The keeper stops reading the lifeline while this much stdin waits for the child (the host sends the
# whole payload at once; the child reads it all before the script starts).
STDIN_HIGH_WATER = 1 << 20
WINDOW = 256 * 1024
MAX_CONNECTIONS = 256
LINGER_ABORT = struct.pack("ii", 1, 0)
# What a forked run honours of the PYTHON* variables (see 4.); any other sends it down the exec path.
FORKED_RUN_VARIABLES = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")
LOCALE_VARIABLES = ("LC_ALL", "LC_CTYPE", "LANG")
PR_SET_DUMPABLE = 4
libc = ctypes.CDLL(None, use_errno=True)

selector = selectors.DefaultSelector()
connections = {}


def send(kind, stream, payload=b""):
    frame = HEADER.pack(kind, stream, len(payload)) + payload
    view = memoryview(frame)
    while view:
        try:
            view = view[os.write(1, view):]
        except BlockingIOError:
            select.select([], [1], [], 1)
        except OSError:
            # Nobody reads the attach stream any more: the host is gone.
            os._exit(0)


class Connection:
    def __init__(self, stream, sock):
        self.stream = stream
        self.sock = sock
        self.outgoing = bytearray()  # from the host, to write to the local socket
        self.credit = WINDOW  # bytes this side may still send to the host
        self.unacknowledged = 0  # bytes written locally and not yet credited back
        self.host_closed = False
        self.local_closed = False
        self.events = 0
        self.update()

    def update(self):
        events = 0
        if self.credit > 0 and not self.local_closed:
            events |= selectors.EVENT_READ
        if self.outgoing:
            events |= selectors.EVENT_WRITE
        if events == self.events:
            return
        if self.events == 0:
            selector.register(self.sock, events, self)
        elif events == 0:
            selector.unregister(self.sock)
        else:
            selector.modify(self.sock, events, self)
        self.events = events

    def readable(self):
        try:
            data = self.sock.recv(min(65536, self.credit))
        except BlockingIOError:
            return
        except OSError:
            self.reset(tell_host=True)
            return
        if not data:
            self.local_closed = True
            send(CLOSE, self.stream)
        else:
            self.credit -= len(data)
            send(DATA, self.stream, data)
        self.settle()

    def writable(self):
        try:
            written = self.sock.send(self.outgoing)
        except BlockingIOError:
            return
        except OSError:
            self.reset(tell_host=True)
            return
        del self.outgoing[:written]
        self.unacknowledged += written
        if self.unacknowledged >= WINDOW // 4 or not self.outgoing:
            send(CREDIT, self.stream, struct.pack(">I", self.unacknowledged))
            self.unacknowledged = 0
        self.settle()

    def settle(self):
        if self.host_closed and not self.outgoing:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if self.local_closed:
                self.reset(tell_host=False)
                return
        self.update()

    def reset(self, tell_host, abort=False):
        if connections.pop(self.stream, None) is None:
            return
        if self.events:
            selector.unregister(self.sock)
            self.events = 0
        if abort:
            # A reset, not a close: the script must see a broken connection (ECONNRESET), never a clean
            # end it could take for a complete answer (a close-delimited body cut short upstream).
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ABORT)
            except OSError:
                pass
        self.sock.close()
        if tell_host:
            send(RESET, self.stream)


def from_host(kind, stream, payload):
    connection = connections.get(stream)
    if connection is None:
        return
    if kind == DATA:
        connection.outgoing += payload
        connection.update()
    elif kind == CLOSE:
        connection.host_closed = True
        connection.settle()
    elif kind == RESET:
        connection.reset(tell_host=False, abort=True)
    elif kind == CREDIT and len(payload) == 4:
        connection.credit += struct.unpack(">I", payload)[0]
        connection.update()


def exit_status(status):
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class BecomeScript(BaseException):
    # Raised in a forked run's child, once it is the sandbox user, to leave every frame of this program:
    # the script is started at the top level (start_script), with nothing of the keeper's call stack alive.
    pass


def interpreter_for(argv, environment):
    # The path this interpreter has as the run's <python> (see 4.), or None when the run must be exec'd.
    if len(argv) != 3 or argv[1] != "-c":
        return None
    if any(name.startswith("PYTHON") and name not in FORKED_RUN_VARIABLES for name in environment):
        return None
    if any(environment.get(name) != os.environ.get(name) for name in LOCALE_VARIABLES):
        return None
    candidates = [argv[0]] if "/" in argv[0] else [os.path.join(directory or ".", argv[0]) for directory in environment.get("PATH", "").split(":")]
    for candidate in candidates:
        try:
            if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
                return candidate if os.path.realpath(candidate) == os.path.realpath(sys.executable) else None
        except OSError:
            return None
    return None


def rename_process(argv):
    # /proc/self/cmdline reads the memory the kernel put argv in: it is overwritten with the command the
    # child stands for, cut to that memory's size (the keeper's own argv, its whole source).
    with open("/proc/self/stat", "rb") as stat:
        fields = stat.read().rpartition(b")")[2].split()
    # proc(5) numbers arg_start and arg_end 48 and 49; `fields` starts at the state, number 3.
    start, end = int(fields[45]), int(fields[46])
    text = b"\0".join(part.encode("utf-8", "surrogateescape") for part in argv)[:end - start - 1]
    ctypes.memmove(start, text + b"\0" * (end - start - len(text)), end - start)


def forget_descriptors():
    # What owned a descriptor is closed, so that no object of this program is left to close, when
    # collected, a number the script has reused; close_all_but_standard then closes every other one.
    signal.set_wakeup_fd(-1)
    selector.close()
    for connection in list(connections.values()):
        connection.sock.close()
    if listener is not None:
        listener.close()


def close_all_but_standard():
    # Every descriptor above stdin, stdout and stderr: a child of this program keeps none of its own.
    limit = os.sysconf("SC_OPEN_MAX")
    os.closerange(3, limit if limit > 0 else 65536)


def forked(child):
    # The child of a fork: nothing of this program's descriptors or signal set-up goes on.
    signal.set_wakeup_fd(-1)
    for number in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(number, signal.SIG_DFL)
    try:
        child()
    except BecomeScript:
        raise
    except SystemExit as error:
        os._exit(error.code if isinstance(error.code, int) else 1)
    except BaseException as error:
        try:
            os.write(2, ("pycage keeper: %s\n" % (error,)).encode("utf-8", "replace"))
        finally:
            os._exit(127)
    os._exit(0)


class Run:
    # The one run of this container: its child, its three pipes, what waits to go to its stdin.
    def __init__(self, stream, directory, argv, environment):
        self.stream = stream
        self.stdin_buffer = bytearray()
        self.stdin_end = False
        stdin_read, self.stdin = os.pipe()
        self.stdout, stdout_write = os.pipe()
        self.stderr, stderr_write = os.pipe()

        interpreter = interpreter_for(argv, environment)

        def become_sandbox_user():
            os.dup2(stdin_read, 0)
            os.dup2(stdout_write, 1)
            os.dup2(stderr_write, 2)
            if interpreter is not None:
                forget_descriptors()
            close_all_but_standard()
            os.setgroups([])
            os.setgid(SANDBOX_UID)
            os.setuid(SANDBOX_UID)
            os.chdir(directory)
            if interpreter is None:
                os.execvpe(argv[0], argv, environment)
            # A change of uid made the process undumpable (its /proc files root's); an execve would have
            # made it dumpable again.
            if libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE)")
            rename_process(argv)
            # Python's own signal set-up, as a new interpreter has it.
            for number in (signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(number, signal.SIG_IGN)
            raise BecomeScript(interpreter, argv[0], argv[2], environment)

        self.pid = os.fork()
        if self.pid == 0:
            forked(become_sandbox_user)
        for descriptor in (stdin_read, stdout_write, stderr_write):
            os.close(descriptor)
        for descriptor in (self.stdin, self.stdout, self.stderr):
            os.set_blocking(descriptor, False)
        selector.register(self.stdout, selectors.EVENT_READ, ("run", RUN_OUT))
        selector.register(self.stderr, selectors.EVENT_READ, ("run", RUN_ERR))
        self.stdin_registered = False

    def give(self, data):
        if self.stdin is None:
            return
        self.stdin_buffer += data
        self.update_stdin()

    def end_stdin(self):
        self.stdin_end = True
        self.update_stdin()

    def update_stdin(self):
        if self.stdin is None:
            return
        if not self.stdin_buffer and self.stdin_end:
            if self.stdin_registered:
                selector.unregister(self.stdin)
            os.close(self.stdin)
            self.stdin = None
            return
        wanted = bool(self.stdin_buffer)
        if wanted and not self.stdin_registered:
            selector.register(self.stdin, selectors.EVENT_WRITE, ("run", RUN_STDIN))
        elif not wanted and self.stdin_registered:
            selector.unregister(self.stdin)
        self.stdin_registered = wanted

    def write_stdin(self):
        if self.stdin is None:
            return
        try:
            written = os.write(self.stdin, self.stdin_buffer)
        except BlockingIOError:
            return
        except OSError:
            # The child closed its stdin or died: what is left is dropped.
            self.stdin_buffer.clear()
            self.stdin_end = True
            written = 0
        del self.stdin_buffer[:written]
        self.update_stdin()

    def wants_lifeline(self):
        return len(self.stdin_buffer) < STDIN_HIGH_WATER

    def read_output(self, kind, until_empty=False):
        descriptor = self.stdout if kind == RUN_OUT else self.stderr
        while descriptor is not None:
            try:
                data = os.read(descriptor, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                selector.unregister(descriptor)
                os.close(descriptor)
                if kind == RUN_OUT:
                    self.stdout = None
                else:
                    self.stderr = None
                return
            send(kind, self.stream, data)
            if not until_empty:
                return

    def ended(self, status):
        # The child is gone: what it (or a process it left, which the reap will end) already wrote is
        # sent, then its status; pipes still held open by such a process are closed on this side.
        self.read_output(RUN_OUT, until_empty=True)
        self.read_output(RUN_ERR, until_empty=True)
        for descriptor in (self.stdout, self.stderr):
            if descriptor is not None:
                selector.unregister(descriptor)
                os.close(descriptor)
        self.stdout = self.stderr = None
        self.stdin_buffer.clear()
        self.stdin_end = True
        self.update_stdin()
        send(RUN_EXIT, self.stream, STATUS.pack(exit_status(status)))


run = None
runs_started = 0
reapers = {}  # pid -> stream


def start_run(stream, payload):
    global run, runs_started
    if runs_started:
        send(RUN_REFUSED, stream, b"this container has already run a script")
        return
    runs_started += 1
    try:
        fields = payload.decode("utf-8").split("\0")
        count = int(fields[1])
        argv = fields[2:2 + count]
        environment = dict(entry.split("=", 1) for entry in fields[2 + count:] if "=" in entry)
        # As `docker exec` gives every process: the container's host name, and nothing else of this one's.
        environment.setdefault("HOSTNAME", socket.gethostname())
        run = Run(stream, fields[0], argv, environment)
    except (OSError, ValueError, IndexError) as error:
        send(RUN_REFUSED, stream, ("could not start the run: %s" % (error,)).encode("utf-8", "replace"))


def start_reap(stream, payload):
    bound, _, source = payload.decode("utf-8").partition("\0")

    def reap():
        null = os.open(os.devnull, os.O_RDWR)
        for descriptor in (0, 1, 2):
            os.dup2(null, descriptor)
        close_all_but_standard()
        sys.argv[:] = ["reap.py", str(SANDBOX_UID), bound]
        exec(compile(source, "reap.py", "exec"), {"__name__": "__main__"})

    try:
        pid = os.fork()
    except OSError:
        send(REAPED, stream, STATUS.pack(1))
        return
    if pid == 0:
        forked(reap)
    reapers[pid] = stream


def children_ended():
    if run is not None and run.pid:
        try:
            pid, status = os.waitpid(run.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = run.pid, 0
        if pid:
            run.pid = 0
            run.ended(status)
    for reaper in list(reapers):
        try:
            pid, status = os.waitpid(reaper, os.WNOHANG)
        except ChildProcessError:
            pid, status = reaper, 1 << 8
        if pid:
            send(REAPED, reapers.pop(reaper), STATUS.pack(exit_status(status)))


def from_host_run(kind, stream, payload):
    if kind == RUN:
        start_run(stream, payload)
    elif kind == REAP:
        start_reap(stream, payload)
    elif run is not None and stream == run.stream:
        if kind == RUN_STDIN:
            run.give(payload)
        elif kind == RUN_EOF:
            run.end_stdin()


listener = None


def main():
    global listener
    port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 0
    os.set_blocking(0, False)
    selector.register(0, selectors.EVENT_READ, "lifeline")
    # A child's end arrives as a byte on this pipe (the handler itself does nothing).
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    signal.set_wakeup_fd(wake_write)
    selector.register(wake_read, selectors.EVENT_READ, "children")
    lifeline_paused = False
    if port:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, "listener")
    pending = b""
    next_stream = 1
    while True:
        for key, mask in selector.select():
            if key.data == "lifeline":
                try:
                    chunk = os.read(0, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    os._exit(0)
                pending += chunk
                while len(pending) >= HEADER.size:
                    kind, stream, length = HEADER.unpack_from(pending)
                    if len(pending) < HEADER.size + length:
                        break
                    payload = pending[HEADER.size:HEADER.size + length]
                    pending = pending[HEADER.size + length:]
                    if kind >= RUN:
                        from_host_run(kind, stream, payload)
                    else:
                        from_host(kind, stream, payload)
                if run is not None and not run.wants_lifeline():
                    selector.unregister(0)
                    lifeline_paused = True
            elif key.data == "children":
                try:
                    os.read(wake_read, 4096)
                except BlockingIOError:
                    pass
                children_ended()
            elif isinstance(key.data, tuple):
                if key.data[1] == RUN_STDIN:
                    run.write_stdin()
                else:
                    run.read_output(key.data[1])
            elif key.data == "listener":
                try:
                    sock, _ = listener.accept()
                except OSError:
                    continue
                if len(connections) >= MAX_CONNECTIONS:
                    sock.close()
                    continue
                sock.setblocking(False)
                stream = next_stream
                next_stream += 1
                send(OPEN, stream)
                connections[stream] = Connection(stream, sock)
            else:
                connection = key.data
                if mask & selectors.EVENT_WRITE and connection.stream in connections:
                    connection.writable()
                if mask & selectors.EVENT_READ and connection.stream in connections:
                    connection.readable()
        if lifeline_paused and run.wants_lifeline():
            selector.register(0, selectors.EVENT_READ, "lifeline")
            lifeline_paused = False


def start_script(interpreter, argv0, source, environment):
    # A forked run's child, at the top level, as the sandbox user: the start of `<argv0> -c <source>`
    # (see 4.). Everything this program defined goes first; what is used here is imported again.
    import builtins
    import gc
    import io
    import os
    import site
    import sys
    import time

    keeper = sys.modules["__main__"].__dict__
    for name in [name for name in keeper if not name.startswith("__")]:
        del keeper[name]
    gc.collect()
    os.environ.clear()
    os.environ.update(environment)
    time.tzset()
    sys.executable = interpreter
    sys.orig_argv = [argv0, "-c", source]
    sys.argv = ["-c"]
    sys.dont_write_bytecode = bool(environment.get("PYTHONDONTWRITEBYTECODE"))
    unbuffered = bool(environment.get("PYTHONUNBUFFERED"))
    encoding, errors = sys.stdout.encoding, sys.stdout.errors

    def stream(descriptor, name, mode, stream_errors):
        # As the interpreter makes its own at start-up (create_stdio): stdin is always buffered.
        buffering = 0 if unbuffered and mode == "w" else -1
        binary = io.open(descriptor, mode + "b", buffering, closefd=False)
        (binary if buffering == 0 else binary.raw).name = name
        text = io.TextIOWrapper(binary, encoding, stream_errors, "\n", line_buffering=False, write_through=unbuffered)
        text.mode = mode
        return text

    sys.stdin = sys.__stdin__ = stream(0, "<stdin>", "r", errors)
    sys.stdout = sys.__stdout__ = stream(1, "<stdout>", "w", errors)
    sys.stderr = sys.__stderr__ = stream(2, "<stderr>", "w", "backslashreplace")
    # Without -I the user site is on (site.venv() turns it off for a venv without system packages).
    site.check_enableusersite = lambda: True
    site.main()
    site.enablerlcompleter()
    if sys.prefix != sys.base_prefix:
        # A venv (site.venv() read its pyvenv.cfg): its base interpreter, as getpath finds it at start-up.
        sys._base_executable = os.path.realpath(interpreter)
    sys.path.insert(0, "")
    main_module = type(sys)("__main__")
    main_module.__builtins__ = builtins
    main_module.__loader__ = sys.modules["_frozen_importlib"].BuiltinImporter
    sys.modules["__main__"] = main_module
    exec(compile(source, "<string>", "exec"), main_module.__dict__)


script = None
try:
    main()
except BecomeScript as become:
    # Only in a forked run's child; its frames (and this exception's traceback) go with this block.
    script = become.args
if script is not None:
    start_script(*script)
