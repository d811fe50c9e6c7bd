"""Real parts for the remote tests: an S3-compatible server (moto) on 127.0.0.1,
reached through a TCP relay that counts the bytes the server sends back."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CountingRelay:
    """Forwards TCP connections to ``target`` and counts the bytes coming back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.received = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for args in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=args, daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if count:
                    with self._lock:
                        self.received += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def reset(self) -> None:
        with self._lock:
            self.received = 0

    def close(self) -> None:
        self._stop = True
        self._listener.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict]:
    """A moto S3 server on 127.0.0.1 with a bucket, and a byte-counting relay before it."""
    import moto.server as moto_server
    mp = pytest.MonkeyPatch()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        mp.setenv(key, value)
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    relay = CountingRelay(port)
    endpoint = f"http://127.0.0.1:{relay.port}"
    options = {"client_kwargs": {"endpoint_url": endpoint}, "key": "testing",
               "secret": "testing", "skip_instance_cache": True}
    import s3fs

    s3fs.S3FileSystem(**options).mkdir("voxelio-test")
    try:
        yield {"relay": relay, "storage_options": options, "bucket": "voxelio-test"}
    finally:
        relay.close()
        server.stop()
        mp.undo()
