"""Synthetic but realistic data sets, written once into the cache folder.

Values mimic MRI: a head-shaped ellipsoid with white matter, folded grey
matter, CSF, ventricles and scalp, soft tissue boundaries, a smooth bias
field and noise everywhere (background included), so that compression
ratios resemble real scans rather than the near-free compression of zeros.

NiBabel-written files are generated once and reused while the generator,
shapes and NiBabel version stay the same (a manifest records them).
voxelio-written files are rewritten on every run because voxelio's writer
is what is being tuned.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import libs
import numpy as np

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class Shapes:
    """Array shapes of one benchmark mode."""

    t1: tuple[int, int, int]
    fmri: tuple[int, int, int, int]
    tiny: tuple[int, int, int] = (8, 8, 8)


FULL = Shapes(t1=(256, 256, 256), fmri=(64, 64, 40, 400))
QUICK = Shapes(t1=(40, 40, 40), fmri=(16, 16, 8, 24))


@dataclass
class DataSet:
    """One array and the files holding it, by writer ('nibabel'/'voxelio') and suffix."""

    name: str
    data: np.ndarray
    affine: np.ndarray
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # suffix -> why voxelio lacks it

    def path(self, writer: str, suffix: str) -> str:
        """The file ``writer`` wrote; raises NotInstalledError for a voxelio gap."""
        if (writer, suffix) not in self.files:
            raise libs.NotInstalledError(self.missing.get(suffix, f"no {writer} {suffix} file"))
        return self.files[(writer, suffix)]


def _grid(shape: tuple[int, ...]) -> list[np.ndarray]:
    return [np.linspace(-1.0, 1.0, n, dtype=np.float32).reshape(
        [n if i == k else 1 for k in range(len(shape))]) for i, n in enumerate(shape)]


def _step(r: np.ndarray, edge: float, width: float = 0.012) -> np.ndarray:
    """Soft 1 -> 0 transition at ``edge`` (partial-volume-like boundary)."""
    return 0.5 - 0.5 * np.tanh((r - edge) / width)


def brain(shape: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """Noise-free brain-like intensities in about [0, 1.1], float32."""
    x, y, z = _grid(shape)
    r = np.sqrt((x / 0.78) ** 2 + (y / 0.92) ** 2 + (z / 0.80) ** 2)
    folds = 0.035 * np.sin(23 * x + 3) * np.sin(19 * y) * np.cos(17 * z + 1)
    ventricles = np.sqrt((x / 0.12) ** 2 + (y / 0.3) ** 2 + ((z - 0.1) / 0.15) ** 2)
    wm = _step(r + folds, 0.55)
    gm = _step(r, 0.70) - wm
    csf = _step(r, 0.76) - _step(r, 0.70)
    scalp = _step(r, 0.88) - _step(r, 0.80)
    vol = 1.0 * wm + 0.62 * gm + 0.18 * csf + 0.75 * scalp
    vol = vol * (1.0 - 0.8 * _step(ventricles, 1.0, 0.05))
    bias = 1.0 + 0.08 * x + 0.05 * y * z
    return (vol * bias).astype(np.float32)


def t1_float(shape: tuple[int, int, int], seed: int = 1) -> np.ndarray:
    """A T1-weighted-like volume with Rician-looking noise, float32 (WM ~ 1)."""
    rng = np.random.default_rng(seed)
    vol = brain(shape, rng)
    noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
    vol += noise
    return np.abs(vol, out=vol)


def t1_int16(shape: tuple[int, int, int]) -> np.ndarray:
    """Scanner-like int16 T1 (WM ~ 1000)."""
    return np.rint(t1_float(shape) * 1000).astype(np.int16)


def conformed_uint8(shape: tuple[int, int, int]) -> np.ndarray:
    """FreeSurfer-conformed-like uint8 (WM normalised to 110)."""
    return np.clip(np.rint(t1_float(shape, seed=2) * 110), 0, 255).astype(np.uint8)


def fmri_int16(shape: tuple[int, int, int, int], seed: int = 3) -> np.ndarray:
    """BOLD-like int16 series: a brain, slow drift, 1-2% thermal noise per volume."""
    rng = np.random.default_rng(seed)
    base = brain(shape[:3], rng) * np.float32(900) + np.float32(40)
    out = np.empty(shape, dtype=np.int16, order="F")
    for t in range(shape[3]):
        drift = np.float32(1.0 + 0.01 * np.sin(t / 25.0))
        noise = rng.standard_normal(shape[:3], dtype=np.float32) * np.float32(12)
        out[..., t] = np.rint(base * drift + noise)
    return out


def _affine(zooms: tuple[float, float, float], shape: tuple[int, ...]) -> np.ndarray:
    aff = np.diag([*zooms, 1.0])
    aff[:3, 3] = [-(n - 1) * z / 2 for n, z in zip(shape[:3], zooms, strict=True)]
    return aff


#: name -> (generator, suffixes to write, voxel size)
PLAN: dict[str, tuple[Callable[[Shapes], np.ndarray], tuple[str, ...], tuple[float, ...]]] = {
    "t1_int16": (lambda s: t1_int16(s.t1), (".nii", ".nii.gz"), (1.0, 1.0, 1.0)),
    "t1_float32": (lambda s: t1_float(s.t1), (".nii.gz",), (1.0, 1.0, 1.0)),
    "conformed_uint8": (lambda s: conformed_uint8(s.t1), (".mgz",), (1.0, 1.0, 1.0)),
    "fmri_int16": (lambda s: fmri_int16(s.fmri), (".nii", ".nii.gz"), (3.0, 3.0, 3.5)),
    "tiny_int16": (lambda s: t1_int16(s.tiny), (".nii",), (2.0, 2.0, 2.0)),
}


def _manifest(shapes: Shapes) -> dict[str, object]:
    return {"generator": GENERATOR_VERSION, "shapes": repr(shapes),
            "nibabel": libs.versions()["nibabel"]}


def prepare(cache_dir: str, shapes: Shapes, log: Callable[[str], None] = print
            ) -> dict[str, DataSet]:
    """Generate the arrays and make sure every file exists; returns them by name."""
    os.makedirs(cache_dir, exist_ok=True)
    manifest_path = os.path.join(cache_dir, "manifest.json")
    wanted = _manifest(shapes)
    fresh = False
    if os.path.exists(manifest_path):
        with open(manifest_path) as fh:
            fresh = json.load(fh) == wanted
    out: dict[str, DataSet] = {}
    for name, (make, suffixes, zooms) in PLAN.items():
        log(f"data: {name}")
        # Fortran order, like arrays loaded from NIfTI/MGH files and results derived from them
        data = np.asfortranarray(make(shapes))
        ds = DataSet(name, data, _affine(zooms[:3], data.shape))  # type: ignore[arg-type]
        for suffix in suffixes:
            _write_nibabel(ds, cache_dir, suffix, reuse=fresh)
            _write_voxelio(ds, cache_dir, suffix)
        out[name] = ds
    with open(manifest_path, "w") as fh:
        json.dump(wanted, fh)
    return out


def _write_nibabel(ds: DataSet, cache_dir: str, suffix: str, reuse: bool) -> None:
    path = os.path.join(cache_dir, f"{ds.name}.nib{suffix}")
    if not (reuse and os.path.exists(path)):
        libs.save("nibabel", libs.make_image("nibabel", ds.data, ds.affine, suffix), path)
    ds.files[("nibabel", suffix)] = path


def _write_voxelio(ds: DataSet, cache_dir: str, suffix: str) -> None:
    path = os.path.join(cache_dir, f"{ds.name}.vx{suffix}")
    try:
        img = libs.make_image("voxelio", ds.data, ds.affine, suffix)
    except libs.NotInstalledError as exc:
        ds.missing[suffix] = str(exc)
        return
    libs.save("voxelio", img, path)
    ds.files[("voxelio", suffix)] = path
