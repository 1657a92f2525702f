"""
A TCP proxy between the client and a real server, for faults the server cannot be asked to make:
it forwards requests unchanged and can cut a connection after the server has answered (the
request was processed, the client never sees the answer), and answers 503 like a gateway when
nothing listens upstream.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
from typing import Optional, Tuple

GATEWAY_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nconnection: close\r\ncontent-length: 95\r\n\r\n"
    b'{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"upstream refused"}  '
)


def _reset(sock: socket.socket) -> None:
    """
    Cuts a connection with a TCP reset, as a crashing proxy or a broken network path would. The
    shutdown comes first: another thread blocked reading this socket would otherwise keep it open.
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _close(sock: socket.socket) -> None:
    """Closes a connection for good even while another thread is blocked reading it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class Proxy:
    def __init__(self, upstream: Optional[Tuple[str, int]], drop_rate: float = 0.0, seed: int = 1) -> None:
        self.upstream = upstream
        self.drop_rate = drop_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.dropped = 0
        self.answered_503 = 0
        self.forwarded = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = self.upstream
        try:
            if upstream is None:
                raise ConnectionRefusedError("no upstream")
            up = socket.create_connection(upstream, timeout=5)
        except OSError:
            with self._lock:
                self.answered_503 += 1
            try:
                client.recv(65536)
                client.sendall(GATEWAY_503)
            except OSError:
                pass
            _close(client)
            return
        up.settimeout(None)
        threading.Thread(target=self._pump_requests, args=(client, up), daemon=True).start()
        try:
            while True:
                data = up.recv(65536)
                if not data:
                    break
                with self._lock:
                    drop = self._rng.random() < self.drop_rate
                    if drop:
                        self.dropped += 1
                    else:
                        self.forwarded += 1
                if drop:
                    # The server has answered, so the request was processed; the client never
                    # gets the answer.
                    _reset(client)
                    _close(up)
                    return
                client.sendall(data)
        except OSError:
            pass
        _close(client)
        _close(up)

    @staticmethod
    def _pump_requests(client: socket.socket, up: socket.socket) -> None:
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                up.sendall(data)
        except OSError:
            pass
        _close(up)
        _close(client)
