"""Real parts for the remote tests: an S3-compatible server (moto) on 127.0.0.1,
reached through a TCP relay that counts the bytes the server sends back."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

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


# -- a local HTTP server with range requests ---------------------------------------------
class FileServer:
    """Serves the files of ``root`` over HTTP/1.1 on 127.0.0.1 (``GET``/``HEAD``, byte ranges).

    Counts the body bytes it sends and the requests it answers, and how
    many it was answering at once at most; ``delay`` (seconds) holds every
    answer back like a distant server would.
    """

    def __init__(self, root: str, delay: float = 0.0, ssl_context: Any = None) -> None:
        from http.server import ThreadingHTTPServer

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client hanging up early is no news

        self.root = root
        self.delay = delay
        #: path -> HTTP status to answer instead of the file
        self.status_for: dict[str, int] = {}
        self._closed = False
        self.sent = 0
        self.requests: list[tuple[str, str, str | None]] = []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        server = self

        self._httpd = Server(("127.0.0.1", 0), _handler_for(server))
        if ssl_context is not None:
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def settled(self) -> FileServer:
        """This server once every answer begun is finished (the counts are then final)."""
        import time

        deadline = time.monotonic() + 10
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.005)
        return self

    def reset(self) -> None:
        self.settled()
        with self._lock:
            self.sent = 0
            self.requests.clear()
            self.most_in_flight = 0

    def begin(self, method: str, path: str, byte_range: str | None) -> None:
        with self._lock:
            self.requests.append((method, path, byte_range))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def end(self, body_bytes: int) -> None:
        with self._lock:
            self.in_flight -= 1
            self.sent += body_bytes

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._httpd.shutdown()
            self._httpd.server_close()


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, stop)`` of a ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` header; None: whole."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].partition("-")
    if not first:
        return max(0, size - int(last)), size
    start = int(first)
    stop = size if not last else min(size, int(last) + 1)
    return start, stop


def _handler_for(server: FileServer) -> type:
    import os
    import time
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            byte_range = self.headers.get("Range")
            server.begin(self.command, self.path, byte_range)
            part = b""
            try:
                if server.delay:
                    time.sleep(server.delay)
                status, headers, part = self._response(byte_range)
            finally:
                # counted before the client can have it: once a read returns, counts are final
                server.end(len(part) if body else 0)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(part)

        def _response(self, byte_range: str | None) -> tuple[int, dict[str, str], bytes]:
            path = self.path.split("?")[0]
            local = os.path.join(server.root, path.lstrip("/"))
            status = server.status_for.get(path, 200 if os.path.isfile(local) else 404)
            if status != 200:
                return status, {"Content-Length": "0"}, b""
            with open(local, "rb") as fobj:
                data = fobj.read()
            headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
            span = _parse_range(byte_range, len(data))
            if span is not None:
                start, stop = span
                headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
                status, data = 206, data[start:stop]
            headers["Content-Length"] = str(len(data))
            return status, headers, data

    return Handler


@pytest.fixture
def file_server() -> Iterator[Any]:
    """``file_server(root, ssl_context=None)`` starts a FileServer; all stop at the end."""
    started: list[FileServer] = []

    def start(root: str, ssl_context: Any = None) -> FileServer:
        started.append(FileServer(root, ssl_context=ssl_context))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.close()


@pytest.fixture
def http_files(tmp_path, file_server) -> FileServer:
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "www"`` (started and stopped here)."""
    root = tmp_path / "www"
    root.mkdir()
    return file_server(str(root))
