"""A fuzz worker: reads cases, one JSON line each on stdin, answers one JSON line each.

Run by :mod:`fuzz_pool` as ``python fuzz_worker.py MEMORY_MB``. After
importing voxelio and the plugins it caps its own address space at what
it uses plus ``MEMORY_MB`` (``RLIMIT_AS``), so an unbounded allocation
becomes a MemoryError here instead of trouble for the machine. The
parent enforces the time limit (it kills a worker that does not answer).

A case is ``{"key", "mode", "path", "klass"}``; the answer is
``{"key", "outcome", "detail"}`` with outcome ``ok`` (loaded and read),
``voxelio-error`` (a VoxelioError), ``memory`` (MemoryError) or
``other-error`` (any other exception, with its traceback).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings

#: images whose data take more than this are read in part only: a large
#: image the file really holds is not a finding, only the parsers are
READ_ALL_LIMIT = 32 << 20


def _exercise(img) -> None:
    import numpy as np

    _ = img.shape, img.affine, img.header.get_data_dtype(), str(img.header)
    proxy = img.dataobj
    nbytes = int(getattr(proxy, "nbytes", 0))
    if nbytes <= READ_ALL_LIMIT:
        np.asarray(proxy)
        if len(img.shape) >= 3 and all(img.shape):
            proxy[:, :, img.shape[2] // 2]
        # what was loaded can be saved again (in memory), or says why not
        type(img).from_bytes(img.to_bytes())
    elif all(img.shape):
        proxy[(0,) * (len(img.shape) - 1)]


def run_case(case: dict) -> dict:
    import voxelio as vx
    from voxelio.errors import VoxelioError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if case["mode"] == "bytes":
                from voxelio.registry.spec import resolve_ref

                with open(case["path"], "rb") as f:
                    img = resolve_ref(case["klass"]).from_bytes(f.read())
            else:
                vx.sniff(case["path"])
                img = vx.load(case["path"])
            _exercise(img)
            del img
        return {"key": case["key"], "outcome": "ok", "detail": ""}
    except VoxelioError as err:
        return {"key": case["key"], "outcome": "voxelio-error",
                "detail": f"{type(err).__name__}: {str(err)[:300]}"}
    except MemoryError:
        return {"key": case["key"], "outcome": "memory", "detail": traceback.format_exc()[-3000:]}
    except Exception as err:  # the point is to catch everything else
        return {"key": case["key"], "outcome": "other-error",
                "detail": f"{type(err).__name__}: {err}\n{traceback.format_exc()[-3000:]}"}


def _cap_memory(extra_mb: int) -> None:
    import resource

    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = used + extra_mb * (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> int:
    extra_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing a parser prints may corrupt the answers
    import numpy  # noqa: F401 - imported before the cap: counted in the baseline

    import voxelio as vx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vx.formats()  # discovery and plugin imports, before the cap
    if sys.platform.startswith("linux"):
        _cap_memory(extra_mb)
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        answers.write(json.dumps(run_case(json.loads(line))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
