"""Mutations: one fuzz case is a sample file set changed by a few random steps.

A case is fully determined by ``(seed, index)``: the same pair always
gives the same files, so any finding can be replayed. Steps work on the
plain (decompressed) bytes, so that they reach the parsers behind the
compression, and then on the stored bytes (truncation, corruption,
wrapping, junk or a second stream after the first, for any codec; gzip
bombs; for blocked gzip and BGZF the member table: size subfields,
trailers, members cut short, dropped, repeated or swapped). How a case
reaches its file (name, file object, URL, command line) is drawn from a
random stream of its own, so it never changes the files.
"""

from __future__ import annotations

import gzip
import math
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from fuzz_corpus import Field, Sample, compress


@dataclass
class Case:
    """The files of one case and how they were made."""

    seed: str
    index: int
    sample: str
    steps: list[str]
    files: dict[str, bytes]  # stored suffix ('.nii.gz', '.hdr'...) -> stored bytes
    mode: str
    klass: str
    main: str  # the suffix of the file to load
    access: str = "path"  # how a 'load' case reaches it (see fuzz_worker)

    @property
    def key(self) -> str:
        return f"{self.seed}:{self.index}"


# -- values ----------------------------------------------------------------------------------
def _int_values(rng: random.Random, dtype: np.dtype) -> list[int]:
    info = np.iinfo(dtype)
    candidates = [0, 1, -1, 2, 7, 8, 15, 16, 255, 348, 352, 540, 544, 32767, -32768, 65535,
                  2**31 - 1, -(2**31), 2**32 - 1, 2**63 - 1, -(2**63), info.min, info.max,
                  rng.randrange(int(info.min), int(info.max) + 1)]
    return [v for v in candidates if info.min <= v <= info.max]


def _float_values(rng: random.Random, dtype: np.dtype) -> list[float]:
    finfo = np.finfo(dtype)
    return [0.0, -0.0, math.nan, math.inf, -math.inf, float(finfo.tiny) / 2, float(finfo.max),
            -float(finfo.max), 1e38, 352.0, 352.5, 1e9, -1.0, -352.0, 16.0,
            rng.uniform(-1e6, 1e6)]


def _text_values(rng: random.Random, size: int) -> list[bytes]:
    return [b"", b"\xff" * size, b"n+1\x00", b"ni1\x00", b"n+2\x00", b"ni2\x00",
            bytes(rng.randrange(256) for _ in range(size))]


def _value_bytes(rng: random.Random, fld: Field) -> tuple[bytes, str]:
    dtype = fld.dtype
    if dtype.kind in "iu":
        value = rng.choice(_int_values(rng, dtype))
        return np.array(value, dtype=dtype).tobytes(), str(value)
    if dtype.kind == "f":
        value = rng.choice(_float_values(rng, dtype))
        with np.errstate(over="ignore"):
            return np.array(value, dtype=dtype).tobytes(), repr(value)
    raw = rng.choice(_text_values(rng, dtype.itemsize))
    return raw[: dtype.itemsize].ljust(dtype.itemsize, b"\x00"), repr(raw[:8])


# -- steps on plain bytes --------------------------------------------------------------------
Step = Callable[[random.Random, bytearray, Sample], str]


def set_field(rng: random.Random, data: bytearray, sample: Sample) -> str:
    fields = [f for f in sample.fields if f.offset + f.dtype.itemsize <= len(data)]
    if not fields:
        return flip_bits(rng, data, sample)
    fld = rng.choice(fields)
    raw, shown = _value_bytes(rng, fld)
    data[fld.offset : fld.offset + len(raw)] = raw
    return f"set {fld.name} = {shown}"


def extreme_dims(rng: random.Random, data: bytearray, sample: Sample) -> str:
    """Every dimension length (and dim[0]) set to large values: products past 64 bits."""
    fields = [f for f in sample.fields if f.name.startswith("dim")
              and f.offset + f.dtype.itemsize <= len(data)]
    if not fields:
        return set_field(rng, data, sample)
    values = []
    for fld in fields:
        info = np.iinfo(fld.dtype)
        value = rng.choice([int(info.max), int(info.max) // 2, 7, 2**31 - 1 if info.max > 2**31
                            else int(info.max)])
        if fld.name == "dim[0]":
            value = rng.choice([7, 4, 3, 8])
        data[fld.offset : fld.offset + fld.dtype.itemsize] = np.array(
            min(value, int(info.max)), fld.dtype).tobytes()
        values.append(value)
    return f"dims = {values}"


def flip_bits(rng: random.Random, data: bytearray, sample: Sample) -> str:
    if not data:
        return "flip: empty"
    count = rng.randint(1, 8)
    region = min(len(data), 600) if rng.random() < 0.7 else len(data)
    spots = []
    for _ in range(count):
        pos = rng.randrange(region)
        data[pos] ^= 1 << rng.randrange(8)
        spots.append(pos)
    return f"flip bits at {spots}"


def truncate(rng: random.Random, data: bytearray, sample: Sample) -> str:
    if not data:
        return "truncate: empty"
    cut = rng.choice([
        rng.randrange(min(len(data), 600)), rng.randrange(len(data)), len(data) - 1,
        max(len(data) - rng.randint(1, 64), 0), 0,
    ])
    del data[cut:]
    return f"truncate at {cut}"


def append_junk(rng: random.Random, data: bytearray, sample: Sample) -> str:
    kind = rng.choice(["zeros", "random", "pattern", "records"])
    if kind == "zeros":
        size = rng.choice([1, 16, 4096, 1 << 20, 4 << 20])
        data.extend(bytes(size))
    elif kind == "random":
        size = rng.choice([1, 7, 100, 65536])
        data.extend(rng.randbytes(size))
    elif kind == "pattern":
        size = rng.choice([1000, 1 << 20, 3 << 20])
        data.extend((rng.randbytes(rng.randint(1, 16)) * size)[:size])
    else:
        size = rng.randint(1, 2000)
        heads = [rng.choice([0, 8, 16, 17, -1, 2**31 - 1, rng.randrange(2**31)]) for _ in range(8)]
        data.extend(struct.pack(f"<{len(heads)}i", *heads))
    return f"append {kind} ({len(data)} bytes now)"


def insert_or_delete(rng: random.Random, data: bytearray, sample: Sample) -> str:
    if not data:
        return "shift: empty"
    pos = rng.randrange(len(data))
    count = rng.choice([1, 3, 4, 16, 100])
    if rng.random() < 0.5:
        data[pos:pos] = rng.randbytes(count)
        return f"insert {count} bytes at {pos}"
    del data[pos : pos + count]
    return f"delete {count} bytes at {pos}"


def extension_records(rng: random.Random, data: bytearray, sample: Sample) -> str:
    """NIfTI: set the extension flag and write record heads of odd sizes after it."""
    start = 540 if _family(sample) == "nifti2" else 348
    if len(data) < start + 4:
        return truncate(rng, data, sample)
    data[start] = 1
    order = "<" if rng.random() < 0.5 else ">"
    sizes = [rng.choice([0, 4, 8, 15, 16, 20, 24, 32, 2**31 - 1, -16, rng.randrange(2**16)])
             for _ in range(rng.randint(1, 3))]
    pos = start + 4
    for size in sizes:
        head = struct.pack(order + "ii", size, rng.choice([0, 4, 6, 32, 12345]))
        data[pos : pos + 8] = head
        pos += max(16, min(size, 64)) if size > 0 else 16
    return f"extension flag + record sizes {sizes} ({order})"


def tag_records(rng: random.Random, data: bytearray, sample: Sample) -> str:
    """MGH: append tag records with odd ids and lengths after the footer."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        ident = rng.choice([0, 1, 3, 30, 41, 42, 99, -5, 2**31 - 1])
        length = rng.choice([0, 3, 1000, 2**40, -1, 2**63 - 1])
        data.extend(struct.pack(">iq", ident, length))
        data.extend(rng.randbytes(rng.choice([0, 3, 50])))
        parts.append((ident, length))
    return f"tags {parts}"


def zip_entry_field(rng: random.Random, data: bytearray, sample: Sample) -> str:
    """ZIP: set a field of a local or central entry (flags, method, sizes, name length)."""
    spots = [(b"PK\x03\x04", {"flags": 6, "method": 8, "csize": 18, "usize": 22, "nlen": 26}),
             (b"PK\x01\x02", {"flags": 8, "method": 10, "csize": 20, "usize": 24, "nlen": 28})]
    signature, layout = rng.choice(spots)
    found = [i for i in range(len(data) - 4) if data[i : i + 4] == signature]
    if not found:
        return flip_bits(rng, data, sample)
    at = rng.choice(found)
    name, offset = rng.choice(sorted(layout.items()))
    width = 2 if name in ("flags", "method", "nlen") else 4
    value = rng.choice([0, 1, 8, 12, 14, 99, 2**(8 * width) - 1, rng.randrange(2**(8 * width))])
    data[at + offset : at + offset + width] = value.to_bytes(width, "little")
    return f"zip {signature[2:4].hex()} {name} = {value}"


def _family(sample: Sample) -> str:
    """'nifti1', 'nifti2', 'mgh' or '' (from the header's field names)."""
    names = {f.name for f in sample.fields}
    if "eol_check[0]" in names:
        return "nifti2"
    if "magic" in names and "vox_offset" in names:
        return "nifti1"
    if "goodRASFlag" in names:
        return "mgh"
    return ""


def _plain_steps(sample: Sample) -> list[tuple[Step, int]]:
    steps: list[tuple[Step, int]] = [
        (set_field, 5), (flip_bits, 3), (truncate, 2), (append_junk, 2), (insert_or_delete, 1),
        (extreme_dims, 1),
    ]
    if _family(sample).startswith("nifti"):
        steps.append((extension_records, 2))
    if _family(sample) == "mgh":
        steps.append((tag_records, 2))
    if sample.mode == "bytes":
        steps.append((zip_entry_field, 4))
    return steps


# -- steps on stored bytes ---------------------------------------------------------------------
_BOMB: dict[int, bytes] = {}


def gzip_bomb(mib: int) -> bytes:
    """A gzip member of ``mib`` MiB of zeros (made once; a few hundred KB)."""
    if mib not in _BOMB:
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = bytes(1 << 20)
        _BOMB[mib] = b"".join(comp.compress(block) for _ in range(mib)) + comp.flush()
    return _BOMB[mib]


def _generic_stored_steps(rng: random.Random, stored: bytes, codec: str) -> tuple[bytes, str]:
    """Damage any compressed stream: truncation, a bit flip, junk, a second stream, wrapping."""
    kind = rng.choice(["truncate", "flip", "tail", "junk", "concat", "wrap"])
    data = bytearray(stored)
    if kind == "truncate":
        cut = rng.randrange(len(data))
        return bytes(data[:cut]), f"{codec} truncated at {cut}"
    if kind == "flip":
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        return bytes(data), f"{codec} bit flip at {pos}"
    if kind == "tail":
        pos = len(data) - rng.randint(1, min(8, len(data)))
        data[pos] ^= 0xFF
        return bytes(data), f"{codec} byte {pos} of the last 8 changed"
    if kind == "junk":
        return bytes(data) + rng.randbytes(rng.choice([1, 10, 1000])), f"junk after the {codec}"
    if kind == "concat":
        extra = compress(codec, rng.randbytes(rng.choice([0, 10, 5000])))
        return bytes(data) + extra, f"a second {codec} stream after the first"
    return compress(codec, bytes(data)), f"{codec} wrapped twice"


def _gzip_steps(rng: random.Random, stored: bytes) -> tuple[bytes, str]:
    kind = rng.choice(["generic", "generic", "unwrap", "bomb"])
    if kind == "bomb":
        # a second member: decompressed, the file goes on with that many zeros
        mib = rng.choice([64, 512])
        return stored + gzip_bomb(mib), f"gzip bomb: {mib} MiB of zeros after the content"
    if kind == "generic":
        return _generic_stored_steps(rng, stored, "gzip")
    try:
        return zlib.decompress(bytes(stored), 47), "stored uncompressed under its gzip name"
    except zlib.error:
        return bytes(stored), "unwrap failed"


def gzip_members(data: bytes) -> list[tuple[int, int]]:
    """``(offset, size)`` of each member of a blocked gzip file, from their size subfields."""
    members = []
    pos = 0
    while pos + 18 <= len(data) and data[pos : pos + 2] == b"\x1f\x8b" and data[pos + 3] & 4:
        sid = bytes(data[pos + 12 : pos + 14])
        if sid == b"VX":
            size = struct.unpack_from("<I", data, pos + 16)[0]
        elif sid == b"BC":
            size = struct.unpack_from("<H", data, pos + 16)[0] + 1
        else:
            break
        if size < 18 or pos + size > len(data):
            break
        members.append((pos, size))
        pos += size
    return members


def _blocked_steps(rng: random.Random, stored: bytes, codec: str) -> tuple[bytes, str]:
    """Damage a blocked gzip file's member table: sizes, trailers, members cut, lost, moved."""
    members = gzip_members(stored)
    if len(members) < 2 or rng.random() < 0.25:
        return _generic_stored_steps(rng, stored, codec)
    data = bytearray(stored)
    k = rng.randrange(len(members))
    at, size = members[k]
    kind = rng.choice(["size", "size", "usize", "crc", "isize", "cut", "drop", "dup", "swap",
                       "subfield"])
    if kind == "size":
        width, spot = (4, at + 16) if codec == "blocked" else (2, at + 16)
        value = rng.choice([0, 1, 17, 18, 24, size - 1, size + 1, size + 256, 2**(8 * width) - 1,
                            rng.randrange(2**(8 * width))])
        value = max(0, min(value, 2**(8 * width) - 1))
        data[spot : spot + width] = value.to_bytes(width, "little")
        return bytes(data), f"member {k} of {len(members)}: size field {size} -> {value}"
    if kind == "usize" and codec == "blocked":
        value = rng.choice([0, 1, 255, 257, 64 << 20, (64 << 20) + 1, 2**32 - 1,
                            rng.randrange(2**32)])
        data[at + 20 : at + 24] = value.to_bytes(4, "little")
        return bytes(data), f"member {k} of {len(members)}: uncompressed size field = {value}"
    if kind in ("crc", "isize", "usize"):
        spot = at + size - (8 if kind == "crc" else 4)
        value = rng.choice([0, 1, 2**32 - 1, rng.randrange(2**32)])
        data[spot : spot + 4] = value.to_bytes(4, "little")
        return bytes(data), f"member {k} of {len(members)}: trailer {kind} = {value}"
    if kind == "cut":
        keep = rng.randrange(1, size)
        del data[at + keep : at + size]
        return bytes(data), f"member {k} of {len(members)} cut to {keep} of {size} bytes"
    if kind == "drop":
        del data[at : at + size]
        return bytes(data), f"member {k} of {len(members)} removed"
    if kind == "dup":
        data[at:at] = data[at : at + size]
        return bytes(data), f"member {k} of {len(members)} repeated"
    if kind == "swap" and k + 1 < len(members):
        nat, nsize = members[k + 1]
        data[at : nat + nsize] = data[nat : nat + nsize] + data[at : at + size]
        return bytes(data), f"members {k} and {k + 1} of {len(members)} swapped"
    # the subfield's identifier: the member becomes one without a size (or the other kind)
    data[at + 12 : at + 14] = rng.choice([b"XX", b"BC", b"VX"])
    sid = bytes(data[at + 12 : at + 14])
    return bytes(data), f"member {k} of {len(members)}: subfield id {sid}"


def _stored_steps(rng: random.Random, stored: bytes, codec: str) -> tuple[bytes, str]:
    if codec == "gzip":
        return _gzip_steps(rng, stored)
    if codec in ("blocked", "bgzf"):
        if rng.random() < 0.1:
            return _gzip_steps(rng, stored)
        return _blocked_steps(rng, stored, codec)
    return _generic_stored_steps(rng, stored, codec)


def make_case(corpus: list[Sample], seed: str, index: int) -> Case:
    """The case ``index`` of run ``seed`` (the same pair always gives the same case)."""
    rng = random.Random(f"{seed}:{index}")
    sample = rng.choice(corpus)
    plain = {suffix: bytearray(content) for suffix, content in sample.files.items()}
    target = sample.header if rng.random() < 0.75 or sample.mode == "bytes" else rng.choice(
        list(plain))
    steps_table = _plain_steps(sample)
    ops, weights = zip(*steps_table, strict=True)
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        op = rng.choices(ops, weights)[0]
        steps.append(f"{target}: {op(rng, plain[target], sample)}")
    stored: dict[str, bytes] = {}
    for suffix, content in plain.items():
        name, data = sample.stored(suffix, bytes(content))
        if suffix in sample.gzipped and rng.random() < (
                0.3 if sample.codec == "gzip" else 0.6):
            data, what = _stored_steps(rng, data, sample.codec)
            steps.append(f"{name}: {what}")
        elif suffix not in sample.gzipped and rng.random() < 0.05:
            data = gzip.compress(data, mtime=0)
            steps.append(f"{name}: gzip-compressed under its plain name")
        stored[name] = data
    if len(stored) > 1 and rng.random() < 0.03:
        dropped = rng.choice(list(stored)[1:])
        del stored[dropped]
        steps.append(f"{dropped}: removed")
    main = next(iter(stored))
    return Case(seed, index, sample.name, steps, stored, sample.mode, sample.klass, main,
                _access(seed, index, sample, stored))


#: how 'load' cases reach their files (see fuzz_worker), with weights
ACCESS = {"path": 55, "fileobj": 15, "url": 15, "cli": 15}


def _access(seed: str, index: int, sample: Sample, stored: dict[str, bytes]) -> str:
    # a random stream of its own: the files of a (seed, index) do not depend on it
    if sample.mode != "load":
        return "path"
    access = random.Random(f"{seed}:{index}:access").choices(
        list(ACCESS), list(ACCESS.values()))[0]
    if access == "fileobj" and len(stored) > 1:  # one object holds one file of a pair
        return "path"
    return access
