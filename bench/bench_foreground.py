"""How much of the ground-truth nuclei each foreground method covers, on the real sequences.

Run:  python bench/bench_foreground.py [--data ../shared/data]
Prints, per sequence and method, the IoU with the ground-truth masks and the fraction of their
pixels covered (on a few frames). ``ultrack-like`` subtracts a Gaussian background of sigma 15 px
and thresholds with Otsu, as ultrack's ``detect_foreground`` does with its defaults.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import tifffile

from neotrack.imgproc import detect_foreground

SEQUENCES = {"Fluo-N2DH-SIM+": [0, 30, 60], "Fluo-N2DH-GOWT1": [0, 45, 90]}
METHODS = {
    "ultrack-like (background 15 px, Otsu)": {"sigma": 15.0, "method": "otsu", "log": False},
    "neotrack otsu (log intensities)": {"method": "otsu"},
    "neotrack triangle (log intensities)": {"method": "triangle"},
}


def main() -> None:
    from scipy import ndimage as ndi
    from skimage import filters

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("NEOTRACK_SHARED_DATA", "../shared/data"))
    )
    args = parser.parse_args()
    for name, frames in SEQUENCES.items():
        for method, kwargs in METHODS.items():
            ious, covers = [], []
            for t in frames:
                raw = tifffile.imread(args.data / name / "01" / f"t{t:03d}.tif")
                truth = tifffile.imread(args.data / name / "01_GT" / "TRA" / f"man_track{t:03d}.tif") > 0
                if kwargs.get("log", True):
                    found = detect_foreground(raw, method=str(kwargs["method"]))
                else:  # ultrack's recipe: background subtraction, Otsu on raw intensities
                    data = raw.astype(np.float32)
                    signal = np.clip(data - ndi.gaussian_filter(data, float(kwargs["sigma"])), 0, None)
                    found = signal > filters.threshold_otsu(signal)
                ious.append((found & truth).sum() / (found | truth).sum())
                covers.append((found & truth).sum() / truth.sum())
            print(
                f"{name:17s} {method:40s} IoU {np.mean(ious):.3f}  ground truth covered {np.mean(covers):.3f}"
            )


if __name__ == "__main__":
    main()
