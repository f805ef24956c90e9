"""The example run behind ``neotrack demo``: generate a time-lapse, track it, query its lineages."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
from pathlib import Path

import pandas as pd

from neotrack.config import Config
from neotrack.datasets import simulate, write_ctc
from neotrack.store import Lineage, Store
from neotrack.track import TrackResult, track

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DemoResult:
    tracked: TrackResult
    raw_dir: Path
    true_divisions: int
    divisions: pd.DataFrame
    scores: dict[str, float]


def demo_config() -> Config:
    """Settings for the generated nuclei (radius ~8 px, area ~200 px)."""
    config = Config()
    config.segmentation.min_area, config.segmentation.max_area = 60, 600
    return config


def demo(
    store: Store,
    out_dir: str | Path,
    dataset: str = "demo",
    n_frames: int = 30,
    seed: int = 0,
) -> DemoResult:
    """Simulate a 2D+t scene with known lineages, track it end to end, score and query it.

    Writes ``out_dir/01`` (raw TIFFs), ``out_dir/01_GT`` (ground truth), ``out_dir/01_RES`` (the
    CTC result); candidate masks go to the store's data home. The CTC folders are replaced if a
    previous demo left them there. Scores (TRA, DET, LNK) need
    py-ctcmetrics (the ``dev`` extra); without it they are left out.
    """
    out = Path(out_dir)
    scene = simulate(n_frames=n_frames, shape=(256, 256), n_cells=12, division_rate=0.04, seed=seed)
    raw = write_ctc(scene, out)
    result = track(raw, out / "01_RES", config=demo_config(), dataset=dataset, store=store, overwrite=True)
    divisions = Lineage(store, dataset).divisions()
    return DemoResult(result, raw, scene.n_divisions, divisions, _scores(out))


def _scores(out: Path) -> dict[str, float]:
    try:
        from ctc_metrics import evaluate_sequence
    except ImportError:
        log.info("py-ctcmetrics is not installed: no scores")
        return {}
    with contextlib.redirect_stdout(io.StringIO()):
        scores = evaluate_sequence(
            str(out / "01_RES"), str(out / "01_GT"), metrics=["DET", "TRA", "LNK"], threads=1
        )
    return {k: float(scores[k]) for k in ("TRA", "DET", "LNK")}
