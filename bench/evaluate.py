"""Track the real sequences end to end and score them with py-ctcmetrics (TRA, DET, LNK).

Run:  python bench/evaluate.py [--data ../shared/data] [--only SIM+]
Each sequence uses ``bench/configs/<dataset>.toml`` when it exists (the file says why), else the
defaults. Prints wall time per stage. Not a test: quality is measured here and reported in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
from pathlib import Path

from neotrack import Config, Store, server
from neotrack.track import track

HERE = Path(__file__).resolve().parent
SEQUENCES = [  # (dataset, how: raw images or ground-truth masks as the segmentation)
    ("Fluo-N2DH-SIM+", "raw"),
    ("Fluo-N2DH-GOWT1", "raw"),
    ("bacteria-vanvliet", "labels"),
]


def with_overrides(config: Config, overrides: list[str]) -> Config:
    """``config`` with ``SECTION.KEY=VALUE`` settings (VALUE in TOML syntax) applied."""
    import tomllib

    raw = config.model_dump(mode="json")
    for item in overrides:
        key, value = item.split("=", 1)
        section, name = key.split(".", 1)
        raw[section][name] = tomllib.loads(f"v = {value}")["v"]
    return Config.from_dict(raw, source="--set")


def main() -> None:
    from ctc_metrics import evaluate_sequence

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("NEOTRACK_SHARED_DATA", "../shared/data"))
    )
    parser.add_argument("--only", help="Only sequences whose name contains this.")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--no-config", action="store_true", help="Ignore bench/configs: the defaults.")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="Change one setting on top of the config (TOML value), e.g. "
        "tracking.size_weighted=false; repeatable. For ablations.",
    )
    args = parser.parse_args()
    uri = server.start().uri
    rows = []
    with Store(uri=uri) as store:
        for name, how in SEQUENCES:
            if args.only and args.only not in name:
                continue
            path = HERE / "configs" / f"{name}.toml"
            config = Config.load(path) if path.exists() and not args.no_config else Config()
            config = with_overrides(config, args.overrides)
            config.data.working_dir = args.out
            seq = args.data / name
            started = time.perf_counter()
            result = track(
                seq / "01",  # raw images: the segmentation's input, or intensities beside labels
                args.out / f"{name}-01_RES",
                config=config,
                dataset=f"eval-{name}",
                labels=seq / "01_GT" / "TRA" if how == "labels" else None,
                store=store,
                overwrite=True,
            )
            wall = time.perf_counter() - started
            with contextlib.redirect_stdout(io.StringIO()):
                scores = evaluate_sequence(
                    str(args.out / f"{name}-01_RES"),
                    str(seq / "01_GT"),
                    metrics=["DET", "TRA", "LNK"],
                    threads=1,
                )
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
            rows.append(
                (
                    name,
                    how,
                    scores["TRA"],
                    scores["DET"],
                    scores["LNK"],
                    wall,
                    stages,
                    result.solved.n_divisions,
                )
            )
            print(
                f"{name}/01 ({how}): TRA {scores['TRA']:.4f} DET {scores['DET']:.4f} "
                f"LNK {scores['LNK']:.4f}; {result.solved.n_divisions} divisions; {wall:.0f} s "
                f"({stages})",
                flush=True,
            )
    print("\n| sequence | input | TRA | DET | LNK | divisions | wall | stages |")
    print("|---|---|---|---|---|---|---|---|")
    for name, how, tra, det, lnk, wall, stages, div in rows:
        print(f"| {name}/01 | {how} | {tra:.4f} | {det:.4f} | {lnk:.4f} | {div} | {wall:.0f} s | {stages} |")


if __name__ == "__main__":
    main()
