"""Peak memory of one call, each measurement in a fresh Python process.

Method: the child imports the library and loads the image (header only),
takes its current resident set size (VmRSS in /proc/self/status) as the
baseline and resets the kernel's peak-RSS mark to it (writing 5 to
/proc/self/clear_refs), calls ``get_fdata()`` keeping the result alive, then
reads the peak (VmHWM). peak - baseline is the memory the call needed at its
worst moment, output array included; it is compared with the output array's
size. RSS counts what the kernel really gave the process (C-level codec
buffers and threads included), which ``tracemalloc`` would miss.

``getrusage(...).ru_maxrss`` is not used: Linux carries it over from the
parent across fork/exec, so a child of a big benchmark process reports the
parent's size.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, sys
lib, path = sys.argv[1], sys.argv[2]

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

mod = __import__(lib)
import numpy
img = mod.load(path)
base = status("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    reset = True
except OSError:
    reset = False
data = img.get_fdata()
peak = status("VmHWM")
print(json.dumps({"baseline": base, "peak": peak, "output": data.nbytes, "reset": reset}))
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
