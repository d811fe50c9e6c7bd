"""Conformance checks about files: safe saves, changing files, streams.

Mixed into :class:`voxelio.testing.FormatConformance`; a plugin gets them
by subclassing that class. They hold for any format that reads and writes
through the framework's shared steps (``SpatialImage.from_file_map`` and
``to_file_map``); see docs/guarantees.md.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..errors import ImageFileError


class _ForwardOnly(io.RawIOBase):
    """A readable stream that can neither seek nor tell (as a pipe)."""

    def __init__(self, payload: bytes) -> None:
        super().__init__()
        self._inner = io.BytesIO(payload)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._inner.readinto(buffer)


class _ForwardOnlySink:
    """A writable stream that cannot seek (as a pipe)."""

    def __init__(self) -> None:
        self.sink = io.BytesIO()

    def write(self, data: Any) -> int:
        return self.sink.write(data)

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass


class FileSafetyChecks:
    """Checks every format's files get from the framework (mixed into the kit)."""

    format_name: str
    spec: Any
    make_image: Any
    dtypes: Any
    image_class: Any

    def _saved(self, directory: Path, value: int = 1) -> tuple[Any, Path]:
        import voxelio as vx

        dtype = self.dtypes()[0]
        img = self.make_image(dtype)
        path = directory / f"safety{self.spec().extensions[0]}"
        vx.save(img, path, format=self.format_name)
        return img, path

    def _files(self, path: Path) -> dict[str, Path]:
        return {t: Path(h.filename) for t, h in self.spec().file_map(str(path)).items()}

    def test_read_only_target_is_refused_and_kept(self, tmp_path: Path) -> None:
        """Saving over read-only files raises PermissionError and changes nothing."""
        import voxelio as vx

        img, path = self._saved(tmp_path)
        files = self._files(path)
        for name in files.values():
            os.chmod(name, 0o444)
        before = {t: p.read_bytes() for t, p in files.items()}
        try:
            with pytest.raises(PermissionError) as info:
                vx.save(img, path, format=self.format_name)
        finally:
            for name in files.values():
                os.chmod(name, 0o644)
        assert info.value.errno == errno.EACCES
        assert info.value.filename in {str(p) for p in files.values()}
        assert {t: p.read_bytes() for t, p in files.items()} == before
        assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in files.values())

    def test_save_through_symlinks_keeps_links_and_mode(self, tmp_path: Path) -> None:
        """A save through symbolic links writes their targets and keeps the files' mode."""
        import voxelio as vx

        (tmp_path / "real").mkdir()
        img, path = self._saved(tmp_path / "real")
        real = self._files(path)
        links_dir = tmp_path / "links"
        links_dir.mkdir()
        for name in real.values():
            os.chmod(name, 0o640)
            os.symlink(name, links_dir / name.name)
        vx.save(img, links_dir / path.name, format=self.format_name)
        for name in real.values():
            assert (links_dir / name.name).is_symlink()
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o640
        assert sorted(os.listdir(links_dir)) == sorted(p.name for p in real.values())
        assert sorted(os.listdir(path.parent)) == sorted(p.name for p in real.values())

    def test_data_of_a_replaced_file_is_never_read_silently(self, tmp_path: Path) -> None:
        """After a save over a loaded image's files, its data read as before or raise."""
        import voxelio as vx

        img, path = self._saved(tmp_path)
        loaded = vx.load(path)
        expected = np.asarray(img.dataobj)
        other = self.image_class()(np.zeros_like(expected), img.affine)
        other.set_data_dtype(img.get_data_dtype())
        vx.save(other, path, format=self.format_name)
        try:
            got = np.asarray(loaded.dataobj)
        except ImageFileError:
            return
        assert np.array_equal(got, expected), "data of the new file returned as the old image's"

    def test_streams_that_cannot_seek(self, tmp_path: Path) -> None:
        """Files read from forward-only streams; writes to them give the file's bytes or
        ImageFileError, never a late io.UnsupportedOperation."""
        from ..filemaps import FileHolder

        img, path = self._saved(tmp_path)
        files = self._files(path)
        klass = self.image_class()
        file_map = {t: FileHolder(fileobj=_ForwardOnly(p.read_bytes())) for t, p in files.items()}
        back = klass.from_file_map(file_map)
        assert np.array_equal(np.asarray(back.dataobj), np.asarray(img.dataobj))
        sinks = {t: _ForwardOnlySink() for t in files}
        try:
            back.to_file_map({t: FileHolder(fileobj=s) for t, s in sinks.items()})
        except ImageFileError:
            return  # a format that must go back says so up front
        from ..codecs import detect_compression

        for file_type, name in files.items():
            stored = name.read_bytes()
            if detect_compression(stored[:4]) is None:  # file objects get plain bytes
                assert sinks[file_type].sink.getvalue() == stored, file_type
