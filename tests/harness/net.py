"""Loopback networking helpers: free ports and waiting for a listener."""

from __future__ import annotations

import contextlib
import socket
import time


def free_port(udp_too: bool = False) -> int:
    """Return a TCP port on 127.0.0.1 that is free now (and free for UDP too when asked).

    The port is released before returning, so a small race with other processes remains;
    on a test machine that is acceptable.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            if not udp_too:
                return port
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found on 127.0.0.1")


def ipv6_loopback() -> bool:
    """True when ::1 can be bound on this machine."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    """Block until a TCP connect to host:port succeeds; raise TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    last: OSError | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s ({last})")


class TcpForwarder:
    """Forward connections from a port on 127.0.0.1 to TARGET, starting only when asked.

    Used to make a server "appear" after a client began retrying: pick ``port`` (free, nothing
    listening), point the client at it, then call :meth:`start`. Each accepted connection is
    piped both ways by two daemon threads.
    """

    def __init__(self, target: tuple[str, int], port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        """Bind and begin accepting."""
        import threading

        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(16)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Stop accepting (open connections end when either side closes)."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None


class SilentListener:
    """A TCP port that accepts connections into its backlog but never answers.

    A client connecting here hangs in its handshake, which is what --connect-timeout is for.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]

    def close(self) -> None:
        """Close the listening socket."""
        self._sock.close()
