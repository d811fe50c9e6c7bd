"""Temporal mean of a 4-D .nii.gz in dask: voxelio's to_dask vs NiBabel's proxy.

Usage: ``python benchmarks/dask_bench.py [--quick]`` (part of ``make bench``).
Both libraries get the same graph shape: chunks of whole volumes, the mean
over the last axis, on dask's threaded scheduler and on a 2-process
``distributed.LocalCluster``. NiBabel's proxy goes in through
``dask.array.from_array``. Files: the same data written by NiBabel (one
gzip stream) and by voxelio (blocked gzip). The table goes to
benchmarks/results/dask.md (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _data(shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = (np.indices(shape[:3]).sum(axis=0) * 7).astype(np.int16)[..., None]
    return base + rng.integers(0, 200, size=shape, dtype=np.int16)


def _graphs(path: str, volumes_per_chunk: int) -> dict[str, object]:
    import dask.array as da
    import nibabel as nib

    import voxelio as vx

    img = vx.load(path)
    chunks = (*img.shape[:3], volumes_per_chunk)
    nib_img = nib.load(path)
    return {
        "voxelio": img.to_dask(chunks=chunks).mean(axis=-1),
        "nibabel": da.from_array(nib_img.dataobj, chunks=chunks, asarray=True)
        .astype(np.float64).mean(axis=-1),
    }


def _time(compute, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compute()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small data, one repeat")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", message="voxelio plugin")
    import distributed
    import nibabel as nib

    import voxelio as vx

    shape = (32, 32, 20, 40) if args.quick else (64, 64, 40, 150)
    repeats = 1 if args.quick else 3
    data = _data(shape)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    expected = data.mean(axis=-1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {"NiBabel-written (one gzip stream)": os.path.join(tmp, "nib.nii.gz"),
                 "voxelio-written (blocked gzip)": os.path.join(tmp, "vx.nii.gz")}
        nib.save(nib.Nifti1Image(data, affine), files["NiBabel-written (one gzip stream)"])
        vx.save(vx.Nifti1Image(data, affine), files["voxelio-written (blocked gzip)"])
        per_chunk = max(1, shape[3] // 10)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, host="127.0.0.1") as cluster, \
                distributed.Client(cluster, set_as_default=False) as client:
            for label, path in files.items():
                for where in ("threads", "2-process LocalCluster"):
                    secs = {}
                    for lib, graph in _graphs(path, per_chunk).items():
                        if where == "threads":
                            def run(g=graph):
                                return g.compute(scheduler="threads")
                        else:
                            def run(g=graph):
                                return client.compute(g).result()
                        assert np.allclose(run(), expected), (lib, label, where)
                        secs[lib] = _time(run, repeats)
                    rows.append((label, where, secs["voxelio"], secs["nibabel"]))
                    print(f"{label:36} {where:24} voxelio {secs['voxelio']:7.3f} s  "
                          f"nibabel {secs['nibabel']:7.3f} s  "
                          f"ratio {secs['nibabel'] / secs['voxelio']:6.1f}x", flush=True)
    lines = [
        f"Temporal mean of a {'x'.join(map(str, shape))} int16 .nii.gz "
        f"({data.nbytes / 1e6:.0f} MB decompressed), chunks of {per_chunk} volumes, "
        f"median of {repeats}.",
        "",
        "| file | scheduler | voxelio (s) | NiBabel (s) | NiBabel / voxelio |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {f} | {w} | {v:.3f} | {n:.3f} | {n / v:.1f}x |" for f, w, v, n in rows]
    os.makedirs(args.results_dir, exist_ok=True)
    with open(os.path.join(args.results_dir, "dask.md"), "w") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
