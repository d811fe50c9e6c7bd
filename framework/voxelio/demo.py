"""``make demo``: voxelio's main job on sample data it writes itself.

For every installed format that can write, the demo writes a small
brain-like sample volume (uncompressed and, where the format allows,
gzip-compressed), loads each file back through :func:`voxelio.load` with the
format detected automatically, prints one line per file, then converts one
sample to every other writable format and checks that voxels and world
coordinates survive.

Run it as ``python -m voxelio.demo [OUTPUT_DIR]``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np

import voxelio as vx
from voxelio.dtypes import dtype_label


def sample_volume(shape: Sequence[int] = (48, 56, 40)) -> np.ndarray:
    """A smooth ellipsoidal 'head' with darker 'ventricles' and a little noise (int16)."""
    grid = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    radius = np.sqrt(sum((g / s) ** 2 for g, s in zip(grid, (0.8, 0.9, 0.85), strict=False)))
    head = np.clip(1.2 - radius, 0, None) * 1000
    ventricles = np.exp(-((grid[0] / 0.15) ** 2 + (grid[1] / 0.3) ** 2 + (grid[2] / 0.2) ** 2))
    rng = np.random.default_rng(0)
    values = head * (1 - 0.6 * ventricles) + rng.normal(0, 5, shape)
    return np.clip(values, 0, None).astype(np.int16)


def sample_affine(shape: Sequence[int]) -> np.ndarray:
    """RAS affine with 1.5 mm voxels and the volume centred on the origin."""
    affine = np.diag([1.5, 1.5, 1.5, 1.0])
    affine[:3, 3] = -1.5 * (np.asarray(shape[:3]) - 1) / 2
    return affine


def _summary(path: str, img: vx.SpatialImage) -> str:
    zooms = ", ".join(f"{z:g}" for z in img.header.get_zooms())
    return (
        f"{os.path.basename(path):<26} {img.format_name or '?':<12} "
        f"{dtype_label(img.get_data_dtype()):<8} "
        f"shape {img.shape!s:<16} zooms ({zooms})"
    )


def _write_samples(out_dir: str, writable: list) -> list[str]:
    data = sample_volume()
    affine = sample_affine(data.shape)
    written = []
    for info in writable:
        ext = _spec(info.name).extensions[0]
        try:
            img = _image_class(info.name)(data, affine)
            for suffix in ("", ".gz"):
                if suffix and not _compressible(info):
                    continue
                path = os.path.join(out_dir, f"sample_{info.name}{ext}{suffix}")
                vx.save(img, path, format=info.name)
                written.append(path)
        except (vx.VoxelioError, ImportError) as err:
            # one faulty plugin must not spoil the others: report it and go on
            print(f"  skipped {info.name}: {type(err).__name__}: {err}")
    return written


def _what_was_kept(source: vx.SpatialImage, back: vx.SpatialImage) -> str:
    """What a conversion kept, and what the target format could not store.

    Formats differ in what they can represent (some keep only voxel sizes,
    not a full affine; some store fewer dtypes): that is reported, not a
    failure of the demo.
    """
    if back.shape != source.shape:
        return f"could not keep: the shape (got {back.shape})"
    lost = []
    if not np.allclose(back.get_fdata(), source.get_fdata()):
        lost.append("the exact voxel values")
    corner = np.array([10, 20, 30, 1.0])
    if not np.allclose(back.affine @ corner, source.affine @ corner, atol=1e-3):
        same_sizes = np.allclose(back.header.get_zooms()[:3], source.header.get_zooms()[:3])
        lost.append("the full affine (voxel sizes kept)" if same_sizes
                    else "the world coordinates")
    if not lost:
        return "voxels equal, world coordinates equal"
    return "could not keep: " + "; ".join(lost)


def _spec(name: str):
    from .registry.store import get_registry

    return get_registry().entries[name].spec


def _image_class(name: str) -> type:
    from .registry.spec import resolve_ref

    return resolve_ref(_spec(name).image_class)


def _compressible(info) -> bool:
    return ".gz" in _spec(info.name).compressed_suffixes


def main(argv: Sequence[str] | None = None) -> int:
    """Write, load, summarise and convert sample images; return an exit code."""
    with warnings.catch_warnings():
        # what a format cannot keep is the demo's own report (_what_was_kept)
        warnings.simplefilter("ignore", vx.ConversionWarning)
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out_dir = os.path.abspath(args[0] if args else "demo-output")
    os.makedirs(out_dir, exist_ok=True)
    infos = vx.formats()
    writable = [i for i in infos if i.status == "ok" and i.can_write and i.can_read]
    print(
        f"voxelio {vx.__version__}: {len(infos)} formats installed "
        f"({', '.join(i.name for i in infos) or 'none'})"
    )
    if not writable:
        print("no installed format can write: install a plugin (e.g. pip install voxelio-nifti1)")
        return 1
    print(f"\nwriting sample data into {out_dir}")
    paths = _write_samples(out_dir, writable)
    print("\nloading every sample through voxelio.load (format detected from name and bytes):")
    loaded = {}
    for path in paths:
        start = time.perf_counter()
        img = vx.load(path)
        data = img.get_fdata()
        ms = (time.perf_counter() - start) * 1000
        print(f"  {_summary(path, img)}  mean {data.mean():8.2f}  {ms:6.1f} ms")
        loaded[path] = img
    if not paths:
        print("no sample could be written")
        return 1
    # convert from a sample that kept the whole affine (not every format can)
    keeps_affine = [p for p in paths if np.allclose(loaded[p].affine, sample_affine(
        loaded[p].shape), atol=1e-3)] or paths
    source_path = next((p for p in keeps_affine if p.endswith(".gz")), keeps_affine[0])
    source = loaded[source_path]
    print(f"\nconverting {os.path.basename(source_path)} to every other writable format:")
    ok = True
    for info in writable:
        if info.name == source.format_name or not any(
            os.path.basename(p).startswith(f"sample_{info.name}.") for p in paths
        ):
            continue
        target = os.path.join(out_dir, f"converted_{info.name}{_spec(info.name).extensions[0]}")
        try:
            vx.save(source, target, format=info.name)
            back = vx.load(target)
        except (vx.VoxelioError, ImportError) as err:
            ok = False
            print(f"  {os.path.basename(target):<26} failed: {type(err).__name__}: {err}")
            continue
        print(f"  {_summary(target, back)}  {_what_was_kept(source, back)}")
    print("\ndemo finished" + ("" if ok else " with FAILURES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
