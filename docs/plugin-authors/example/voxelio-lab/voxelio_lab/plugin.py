"""Entry module of voxelio-lab: the LAB format's facts and its FormatSpec.

voxelio imports this module in every process that discovers plugins, so it
imports only ``voxelio.plugin`` (no numpy, not the image module): the image
class is named as a string and imported when a LAB file is first read or
written.
"""

from __future__ import annotations

from voxelio.plugin import NO, YES, FormatSpec, SniffResult, hookimpl

MAGIC = b"LAB1"
HEADER_SIZE = 64
MAX_NDIM = 4
EXTENSIONS = (".lab",)
FILES_TYPES = (("image", ".lab"),)
#: (code, label, numpy dtype, aliases), the rows of the header's code table
DATA_TYPES = (
    (2, "uint8", "uint8", ()),
    (4, "int16", "int16", ()),
    (16, "float32", "float32", ()),
)
DTYPES = tuple(dtype for _, _, dtype, _ in DATA_TYPES)


def sniff(prefix: bytes, filespec: str | None) -> SniffResult:
    """Called only when the magic matched: ndim (bytes 4-5) must be 1 to 4."""
    ndim = int.from_bytes(prefix[4:6], "little")
    if not 1 <= ndim <= MAX_NDIM:
        return SniffResult(NO, f"LAB magic, but ndim is {ndim}")
    return SniffResult(YES, f"LAB magic, {ndim} axes", strength=6)


LAB = FormatSpec(
    name="lab",
    image_class="voxelio_lab.image:LabImage",
    extensions=EXTENSIONS,
    files_types=FILES_TYPES,
    magic=[(0, MAGIC)],
    sniff=sniff,
    sniff_bytes=6,
    sniff_trusted=True,  # two bytes compared, whatever the prefix: bounded
    exports={"LabHeader": "voxelio_lab.image:LabHeader"},
    dtypes=DTYPES,
    description="LAB volume (voxel sizes only: no orientation, no origin)",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The formats of this plugin."""
    return [LAB]
