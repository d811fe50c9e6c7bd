"""voxelio vs NiBabel: generate data, run every case, print and save the table.

Usage: ``python benchmarks/run.py [--quick] [--only SUBSTRING]`` (``make bench``).
Results go to benchmarks/results/latest.{md,json}; data is cached in
benchmarks/.cache/ (both git-ignored).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cases  # noqa: E402
import datasets  # noqa: E402
import floors  # noqa: E402
import report  # noqa: E402
import settle  # noqa: E402
import timing  # noqa: E402


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small data, few repeats (tests)")
    ap.add_argument("--only", help="run only cases whose id contains this")
    ap.add_argument("--repeats", type=int, help="timed repeats per case")
    ap.add_argument("--cache-dir", help="data folder (default benchmarks/.cache/<mode>)")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--codecs", choices=("both", "default", "stdlib"), default="both",
                    help="codec modes: the default install, VOXELIO_STDLIB_CODECS=1, or both")
    ap.add_argument("--docs", action="store_true",
                    help="write the tables and chart into docs/performance.md (make bench)")
    return ap.parse_args(argv)


def config(args: argparse.Namespace) -> cases.Config:
    if args.quick:
        cfg = cases.Config(repeats=2, warmup=1, process_repeats=2, memory_repeats=1,
                           further_volumes=2, open_repeats=3, budget=0.0, user_venv=False,
                           save_repeats=2, settle=False, read_repeats=2)
    else:
        cfg = cases.Config()
    if args.repeats:
        cfg = cases.Config(**{**cfg.__dict__, "repeats": args.repeats,
                              "save_repeats": args.repeats, "read_repeats": args.repeats})
    return cfg


def floor_rows(data: dict[str, datasets.DataSet], cfg: cases.Config) -> list[dict[str, Any]]:
    """Floors of the int16 T1: fromfile of the .nii, inflate of the .nii.gz, memcpy."""
    ds = data["t1_int16"]
    out_bytes = ds.data.nbytes
    nii, gz = ds.path("nibabel", ".nii"), ds.path("nibabel", ".nii.gz")
    offset, dtype, shape = cases._layout(nii)
    rows = [("np.fromfile .nii", floors.fromfile(nii, offset, dtype, shape))]
    gz_offset, _, _ = cases._layout(gz)
    name, fn = floors.inflate(gz, gz_offset, dtype, shape)
    rows.append((f"{name} inflate .nii.gz (1 thread)", fn))
    rows.append(("memcpy", floors.memcpy(out_bytes)))
    table = []
    for label, fn in rows:
        stats = timing.repeat(fn, cfg.repeats, cfg.warmup, cfg.budget)
        table.append({"name": label, "median": stats.median, "min": stats.min,
                      "max": stats.max, "mb_s": out_bytes / stats.median / 1e6})
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    mode = "quick" if args.quick else "full"
    cache = args.cache_dir or os.path.join(HERE, ".cache", mode)
    cfg = config(args)
    start = time.perf_counter()
    # broken plugins of the dev environment (test fixtures) would warn on every lookup
    warnings.filterwarnings("ignore", message="voxelio plugin")
    np.random.seed(0)
    data = datasets.prepare(cache, datasets.QUICK if args.quick else datasets.FULL)
    load_start = report.load_average()
    if cfg.settle:
        settle.settle()  # the data step's files on disk before anything is timed
    floors_table = floor_rows(data, cfg)
    modes = ["default", "stdlib"] if args.codecs == "both" else [args.codecs]
    by_mode: dict[str, list[cases.Result]] = {}
    for codec_mode in modes:
        print(f"codecs: {codec_mode}")
        with report.codec_mode(codec_mode):
            only_stdlib = codec_mode == "stdlib" and args.codecs == "both"
            by_mode[codec_mode] = [
                r for r in cases.run_all(data, cfg, args.only,
                                         keep=cases.runs_in_stdlib_mode if only_stdlib else None)
            ]
    md = report.markdown_modes(by_mode, floors_table, mode, load_start)
    print()
    print(md)
    report.write(args.results_dir, md, report.as_json_modes(by_mode, floors_table, mode))
    if args.docs and not args.quick and not args.only:
        report.update_docs(os.path.join(HERE, os.pardir, "docs"), md, by_mode)
        print("docs/performance.md and docs/performance-ratios.png updated")
    print(f"written to {args.results_dir}/latest.md and latest.json "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
