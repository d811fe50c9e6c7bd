"""The framework's conformance kit, for 3-D and 4-D MGH and MGZ files."""

from __future__ import annotations

import io
from pathlib import Path

import voxelio as vx
from voxelio.testing import FormatConformance


class TestMGHConformance(FormatConformance):
    format_name = "mgh"

    def sample_names(self) -> list[str]:
        return ["sample.mgh", "sample.mgz", "SAMPLE.MGZ"]

    def test_header_bytes_round_trip(self, tmp_path: Path) -> None:
        """The kit's check, except the header block is re-read with the constructor.

        ``MGHHeader.binaryblock`` is the 90-byte header plus the 20-byte
        footer, which sits after the data on disk, so it is not a file
        prefix that ``from_fileobj`` could read (it would rightly report a
        truncated file). The file-level re-save check is the kit's own.
        """
        first, second = tmp_path / "first.mgh", tmp_path / "second.mgh"
        vx.save(self.make_image(self.dtypes()[0]), first)
        img = vx.load(first)
        vx.save(img, second)
        assert first.read_bytes() == second.read_bytes()
        header = img.header
        assert type(header)(header.binaryblock).binaryblock == header.binaryblock
        reread = type(header).from_fileobj(io.BytesIO(first.read_bytes()))
        assert reread == header


class TestMGH4DConformance(TestMGHConformance):
    shape = (5, 4, 3, 2)
