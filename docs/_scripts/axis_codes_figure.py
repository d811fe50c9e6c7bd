"""Draw docs/_generated/axis_codes.png: the same head in RAS and in LIA voxel order.

Run by the docs build (docs/conf.py) when matplotlib is installed; the page
works without the picture.
"""

from __future__ import annotations

import os
import sys

import numpy as np


def head(shape: tuple[int, int, int] = (40, 48, 40)) -> np.ndarray:
    """A synthetic head in RAS voxel order: an ellipsoid with a nose (front) and a neck."""
    i, j, k = np.meshgrid(*(np.linspace(-1, 1, n) for n in shape), indexing="ij")
    volume = ((i / 0.75) ** 2 + (j / 0.9) ** 2 + (k / 0.8) ** 2 < 1).astype(float)
    volume[(np.abs(i) < 0.12) & (j > 0.8) & (j < 1.0) & (np.abs(k) < 0.2)] = 2.0  # nose: A
    volume[(i**2 + j**2 < 0.15) & (k < -0.6)] = 1.0  # neck: I
    volume[(i > 0.55) & (np.abs(j) < 0.2) & (np.abs(k) < 0.2)] = 3.0  # marker on the right
    return volume


def draw(path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "framework"))
    from voxelio.orientation import apply_orientation, axcodes2ornt, ornt_transform

    ras = head()
    lia = apply_orientation(ras, ornt_transform(axcodes2ornt("RAS"), axcodes2ornt("LIA")))
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, vol, codes in ((axes[0], ras, "RAS"), (axes[1], lia, "LIA")):
        # the middle plane of the third voxel axis, first voxel axis to the right
        plane = vol[:, :, vol.shape[2] // 2].T
        ax.imshow(plane, origin="lower", cmap="viridis")
        ax.set_title(f"array in {codes} order: array[:, :, mid]")
        ax.set_xlabel(f"axis 0 grows towards {codes[0]}")
        ax.set_ylabel(f"axis 1 grows towards {codes[1]}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("One head, two voxel orders (yellow: right-side marker; nose is anterior)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "docs/_generated/axis_codes.png")
