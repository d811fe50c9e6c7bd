"""Issue 10 item 11: images read from and written to streams that cannot seek."""

from __future__ import annotations

import io
import os
import socket
import threading

import numpy as np
import pytest
from reliability_helpers import nifti

import voxelio as vx
from voxelio.filemaps import FileHolder

DATA = np.arange(3 * 4 * 5, dtype=np.float32).reshape((3, 4, 5))


class ForwardOnly(io.RawIOBase):
    """A readable stream that cannot seek nor tell (as a network response)."""

    def __init__(self, payload: bytes) -> None:
        self._inner = io.BytesIO(payload)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._inner.readinto(buffer)


def _pipe_with(payload: bytes):
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as f:
            f.write(payload)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return os.fdopen(read_fd, "rb")


def _socket_with(payload: bytes):
    ours, theirs = socket.socketpair()

    def feed() -> None:
        with theirs:
            theirs.sendall(payload)

    threading.Thread(target=feed, daemon=True).start()
    return ours, ours.makefile("rb")


def _file_bytes(tmp_path, img, name: str) -> bytes:
    path = tmp_path / name
    vx.save(img, str(path))
    return path.read_bytes()


@pytest.mark.parametrize("name", ["x.nii", "x.nii.gz", "x.mgh", "x.mgz"])
@pytest.mark.parametrize("kind", ["pipe", "socket", "forward-only"])
def test_single_file_images_load_from_streams_that_cannot_seek(tmp_path, name, kind):
    klass = vx.MGHImage if "mg" in name else vx.Nifti1Image
    payload = _file_bytes(tmp_path, klass(DATA, np.eye(4)), name)
    sock = None
    if kind == "pipe":
        stream = _pipe_with(payload)
    elif kind == "socket":
        sock, stream = _socket_with(payload)
    else:
        stream = ForwardOnly(payload)
    try:
        img = klass.from_file_map({"image": FileHolder(fileobj=stream)})
        assert np.array_equal(img.dataobj[1:, ::2, -1], DATA[1:, ::2, -1])
        assert np.array_equal(img.get_fdata(), DATA)
    finally:
        stream.close()
        if sock is not None:
            sock.close()


def test_pair_loads_from_two_pipes(tmp_path):
    # x flipped, the one orientation Analyze stores
    vx.save(vx.AnalyzeImage(DATA, np.diag([-1.0, 1, 1, 1])), str(tmp_path / "p.hdr"))
    header = _pipe_with((tmp_path / "p.hdr").read_bytes())
    image = _pipe_with((tmp_path / "p.img").read_bytes())
    img = vx.AnalyzeImage.from_file_map(
        {"header": FileHolder(fileobj=header), "image": FileHolder(fileobj=image)}
    )
    assert np.array_equal(img.get_fdata(), DATA)


def _drain(read_fd: int, into: list[bytes]) -> threading.Thread:
    def drain() -> None:
        with os.fdopen(read_fd, "rb") as f:
            into.append(f.read())

    thread = threading.Thread(target=drain)
    thread.start()
    return thread


@pytest.mark.parametrize("extensions", [False, True])
def test_nifti_writes_to_a_pipe(tmp_path, extensions):
    img = nifti(3.0)
    if extensions:
        from voxelio_nifti1.extensions import Nifti1Extension

        img.header.extensions.append(Nifti1Extension("comment", b"written to a pipe"))
    expected = _file_bytes(tmp_path, img, "x.nii")
    read_fd, write_fd = os.pipe()
    got: list[bytes] = []
    thread = _drain(read_fd, got)
    with os.fdopen(write_fd, "wb") as f:
        img.to_file_map({"image": FileHolder(fileobj=f)})
    thread.join(timeout=30)
    assert got == [expected]


def test_pair_writes_to_two_pipes(tmp_path):
    img = vx.Nifti1Pair(DATA, np.eye(4))
    vx.save(img, str(tmp_path / "p.hdr"))
    ends = [os.pipe(), os.pipe()]
    got_hdr: list[bytes] = []
    got_img: list[bytes] = []
    threads = [_drain(ends[0][0], got_hdr), _drain(ends[1][0], got_img)]
    with os.fdopen(ends[0][1], "wb") as hdr, os.fdopen(ends[1][1], "wb") as data:
        img.to_file_map({"header": FileHolder(fileobj=hdr), "image": FileHolder(fileobj=data)})
    for thread in threads:
        thread.join(timeout=30)
    assert got_hdr == [(tmp_path / "p.hdr").read_bytes()]
    assert got_img == [(tmp_path / "p.img").read_bytes()]


def test_a_writer_that_goes_back_gets_a_voxelio_error_before_writing_there():
    from voxelio._streams import SequentialWriter

    sink = io.BytesIO()
    writer = SequentialWriter(ForwardOnlySink(sink))
    writer.write(b"abcd")
    writer.seek(8)
    assert sink.getvalue() == b"abcd\0\0\0\0"
    with pytest.raises(vx.ImageFileError, match="cannot seek"):
        writer.seek(2)


class ForwardOnlySink:
    def __init__(self, sink: io.BytesIO) -> None:
        self._sink = sink

    def write(self, data) -> int:
        return self._sink.write(data)

    def seekable(self) -> bool:
        return False


def test_a_stream_ending_early_is_a_voxelio_error(tmp_path):
    payload = _file_bytes(tmp_path, vx.Nifti1Image(DATA, np.eye(4)), "x.nii")
    img = vx.Nifti1Image.from_file_map({"image": FileHolder(fileobj=ForwardOnly(payload[:-8]))})
    with pytest.raises(vx.ImageFileError):
        img.get_fdata()
