"""Small hostile files load (or are refused) under an address-space cap (issue 10, item 7).

tracemalloc (in the format suites) sees Python's allocations; this test
counts everything, decompressors and numpy included: each file is opened
by a fresh interpreter whose address space is capped (RLIMIT_AS) at what
it uses after importing voxelio plus 256 MiB. Before the fix these files
cost 645 MB to 755 MB and ended in MemoryError.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS, /proc")

CAP_MB = 256
MiB = 1 << 20

LOADER = f"""
import json, os, resource, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import voxelio as vx
vx.formats()
with open("/proc/self/statm") as f:
    used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
limit = used + {CAP_MB} * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    img = vx.load(sys.argv[1])
    np.asarray(img.dataobj)
    print(json.dumps(["ok", ""]))
except vx.VoxelioError as err:
    print(json.dumps(["voxelio-error", type(err).__name__]))
except MemoryError:
    print(json.dumps(["memory", ""]))
"""


def gzip_of(*parts: bytes | tuple[bytes, int]) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = []
    for part in parts:
        if isinstance(part, tuple):
            block = part[0] * MiB
            out.extend(comp.compress(block) for _ in range(part[1] // MiB))
        else:
            out.append(comp.compress(part))
    out.append(comp.flush())
    return b"".join(out)


def load_capped(path) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADER, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def test_mgz_with_a_gzip_bomb_after_the_footer(tmp_path):
    from voxelio_mgh.image import MGHImage

    mgh = MGHImage(np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.eye(4)).to_bytes()
    path = tmp_path / "bomb.mgz"
    path.write_bytes(gzip_of(mgh, (b"\0", 400 * MiB)))
    assert load_capped(path) == ("ok", "")


def test_nii_gz_with_millions_of_tiny_extensions(tmp_path):
    from voxelio_nifti1.image import Nifti1Image

    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    head = bytearray(Nifti1Image(data, np.eye(4)).to_bytes()[:348])
    n = 4_000_000
    head[108:112] = struct.pack("<f", 352 + 16 * n)
    record = struct.pack("<ii", 16, 6) + b"abcdefgh"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(bytes(head) + b"\x01\0\0\0")]
    parts += [comp.compress(record * 65536) for _ in range(n // 65536 + 1)]
    path = tmp_path / "many.nii.gz"
    path.write_bytes(b"".join(parts) + comp.compress(data.tobytes("F")) + comp.flush())
    assert load_capped(path) == ("voxelio-error", "ImageFileError")


def test_nii_gz_with_the_flag_and_a_huge_vox_offset(tmp_path):
    from voxelio_nifti1.image import Nifti1Image

    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    head = bytearray(Nifti1Image(data, np.eye(4)).to_bytes()[:348])
    head[108:112] = struct.pack("<f", 3e9)
    path = tmp_path / "far.nii.gz"
    path.write_bytes(gzip_of(bytes(head), b"\x01\0\0\0", (b"\x01", 400 * MiB)))
    assert load_capped(path) == ("voxelio-error", "ImageFileError")
