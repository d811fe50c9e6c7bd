"""Entry module of the toy format plugin: the spec, nothing heavy.

The format's facts (magic, byte-order marks, suffixes, dtypes) are stated
here once, as plain data; ``voxelio_toy.image`` reads them from here (a
small format needs no separate facts module).
"""

from __future__ import annotations

from voxelio.plugin import WEAK, YES, FormatSpec, SniffResult, hookimpl

EXTENSIONS = (".toy",)
FILES_TYPES = (("image", ".toy"),)
MAGIC = b"VXT1"
HEADER_SIZE = 128
#: the ``byte_order_mark`` field (bytes 4-5) as each byte order writes the value 1
BYTE_ORDER_MARKS = {b"\x01\x00": "<", b"\x00\x01": ">"}
#: bytes the sniff needs: the magic and the byte-order mark
SNIFF_BYTES = 6

#: (code, label, numpy dtype or None, aliases)
DATA_TYPES = (
    (2, "uint8", "uint8", ()),
    (4, "int16", "int16", ()),
    (8, "int32", "int32", ()),
    (16, "float32", "float32", ()),
    (64, "float64", "float64", ()),
    (256, "int8", "int8", ()),
    (512, "uint16", "uint16", ()),
    (32, "complex64", "complex64", ()),
    (99, "reserved", None, ()),
)
DTYPES = tuple(dtype for _, _, dtype, _ in DATA_TYPES if dtype)

_ORDER_NAMES = {"<": "little-endian", ">": "big-endian"}


def sniff(prefix: bytes, filespec: str | None) -> SniffResult:
    """After the magic, the byte-order mark must be one of the two known ones."""
    order = _ORDER_NAMES.get(BYTE_ORDER_MARKS.get(prefix[4:6], ""))
    if order is None:
        return SniffResult(WEAK, f"byte-order mark {prefix[4:6]!r} is neither 1 nor 256")
    return SniffResult(YES, f"{order} toy header", strength=2)


TOY = FormatSpec(
    name="toy",
    image_class="voxelio_toy.image:ToyImage",
    extensions=EXTENSIONS,
    files_types=FILES_TYPES,
    magic=((0, MAGIC),),
    sniff=sniff,
    sniff_bytes=SNIFF_BYTES,
    exports={"ToyHeader": "voxelio_toy.image:ToyHeader"},
    dtypes=DTYPES,
    description="Toy format of the voxelio test suite",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The toy format."""
    return [TOY]
