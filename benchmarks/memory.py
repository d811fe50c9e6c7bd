"""Peak memory of one call, each measurement in a fresh Python process.

Method: the child imports the library and loads the image (header only),
then reads its current resident set size from /proc/self/statm as the
baseline, calls ``get_fdata()`` keeping the result alive, and reads the
peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``).
peak - baseline is the memory the call needed at its worst moment, output
array included; it is compared with the output array's size. RSS counts
what the kernel really gave the process (C-level codec buffers and
threads included), which ``tracemalloc`` would miss.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, os, resource, sys
lib, path = sys.argv[1], sys.argv[2]
mod = __import__(lib)
import numpy
img = mod.load(path)
page = os.sysconf("SC_PAGE_SIZE")
with open("/proc/self/statm") as fh:
    base = int(fh.read().split()[1]) * page
data = img.get_fdata()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"baseline": base, "peak": peak, "output": data.nbytes}))
"""


def peak_extra(lib: str, path: str) -> dict[str, float]:
    """Run ``get_fdata()`` of ``lib`` on ``path`` in a fresh process.

    Returns ``{"baseline", "peak", "output", "extra", "ratio"}``: bytes,
    with ``extra = peak - baseline`` and ``ratio = extra / output``.
    """
    proc = subprocess.run([sys.executable, "-c", CHILD, lib, path],
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"{lib} child failed: {proc.stderr.strip()[-400:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["extra"] = res["peak"] - res["baseline"]
    res["ratio"] = res["extra"] / res["output"]
    return res
