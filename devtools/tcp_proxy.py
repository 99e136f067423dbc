"""A TCP forwarder that can be cut and restored: a server that becomes unreachable for a while
(a network partition, a database restarting) without touching the server itself. For tests."""

from __future__ import annotations

import socket
import threading

from launcher.processes import free_port


class CuttableProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target`; `cut()` drops every connection and
    refuses new ones until `restore()`."""

    def __init__(self, target: int) -> None:
        self.target, self.port = target, free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> CuttableProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the port again
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._close(end)

    def _close(self, end: socket.socket) -> None:
        with self._lock:
            self._open.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self) -> None:
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            ends = list(self._open)
        for end in ends:
            self._close(end)

    def restore(self) -> None:
        self.start()
