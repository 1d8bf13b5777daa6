# pycage keeper: the main process of every sandbox container, started as
# `python3 -I -S -c <this file> [PROXY_PORT]`, as root with every capability dropped but CAP_KILL.
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
import os
import select
import selectors
import socket
import struct
import sys

HEADER = struct.Struct(">BII")
OPEN, DATA, CLOSE, RESET, CREDIT = 1, 2, 3, 4, 5
WINDOW = 256 * 1024
MAX_CONNECTIONS = 256
LINGER_ABORT = struct.pack("ii", 1, 0)

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


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 0
    os.set_blocking(0, False)
    selector.register(0, selectors.EVENT_READ, "lifeline")
    listener = None
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
                    from_host(kind, stream, payload)
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


main()
