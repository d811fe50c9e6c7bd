"""Entry module of the toy format plugin: the spec, nothing heavy.

The layout facts repeated here (magic, byte-order mark) are the ones
``voxelio_toy.image`` defines; the conformance kit checks they agree.
"""

from __future__ import annotations

from voxelio.hookspecs import hookimpl
from voxelio.registry import FormatSpec, SniffResult

MAGIC = b"VXT1"
_BYTE_ORDER_MARKS = {b"\x01\x00": "little-endian", b"\x00\x01": "big-endian"}


def sniff(prefix: bytes, filespec: str | None) -> SniffResult:
    """After the magic, the byte-order mark must be one of the two known ones."""
    order = _BYTE_ORDER_MARKS.get(prefix[4:6])
    if order is None:
        return SniffResult("weak", f"byte-order mark {prefix[4:6]!r} is neither 1 nor 256")
    return SniffResult("yes", f"{order} toy header", strength=2)


TOY = FormatSpec(
    name="toy",
    image_class="voxelio_toy.image:ToyImage",
    extensions=(".toy",),
    magic=((0, MAGIC),),
    sniff=sniff,
    sniff_bytes=6,
    exports={"ToyHeader": "voxelio_toy.image:ToyHeader"},
    dtypes=("uint8", "int8", "int16", "uint16", "int32", "float32", "float64", "complex64"),
    description="Toy format of the voxelio test suite",
)


@hookimpl
def voxelio_formats() -> list[FormatSpec]:
    """The toy format."""
    return [TOY]
