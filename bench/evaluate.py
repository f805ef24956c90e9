"""Track the real sequences end to end and score them with py-ctcmetrics (TRA, DET, LNK).

Run:  python bench/evaluate.py [--data ../shared/data] [--only SIM+] [--sequence 02] [--mode both]
Each sequence runs with no config at all and with its kind's ``bench/configs/<dataset>.toml`` when
one exists (the file says why, in terms of the imaging). Prints wall time per stage. Not a test:
quality is measured here and reported in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
from pathlib import Path

from neotrack import Config, Store, server
from neotrack.errors import InputError
from neotrack.track import track

HERE = Path(__file__).resolve().parent
SEQUENCES = [  # (dataset, how: raw images or ground-truth masks as the segmentation)
    ("Fluo-N2DH-SIM+", "raw"),
    ("Fluo-N2DH-GOWT1", "raw"),
    ("Fluo-N2DL-HeLa", "raw"),
    ("DIC-C2DH-HeLa", "raw"),  # no intensity separates cells: the defaults must refuse it clearly
    ("bacteria-vanvliet", "labels"),  # ground-truth masks as the segmentation: linking alone
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


def dataset_of(seq: Path, label: str) -> str:
    """The dataset ``run_one`` tracks ``seq`` into."""
    return f"eval-{seq.parent.name}-{seq.name}-{label}"


def print_table(header: list[str], rows: list[tuple[str, ...]]) -> None:
    """A Markdown table, as the README holds them."""
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def run_one(store: Store, seq: Path, how: str, config: Config, label: str) -> tuple[str, ...]:
    """Track one sequence and score it: a table row (refusals of bad input are rows too). The
    result goes into ``config.data.working_dir``."""
    from ctc_metrics import evaluate_sequence

    name, out = seq.parent.name, config.data.working_dir
    assert out is not None, "main() sets the working dir"
    res = Path(out) / f"{name}-{seq.name}-{label}_RES"
    started = time.perf_counter()
    try:
        result = track(
            seq,  # raw images: the segmentation's input, or intensities beside labels
            res,
            config=config,
            dataset=dataset_of(seq, label),
            labels=seq.parent / f"{seq.name}_GT" / "TRA" if how == "labels" else None,
            store=store,
            overwrite=True,
        )
    except InputError as error:
        wall = time.perf_counter() - started
        print(f"{name}/{seq.name} ({label}): refused after {wall:.0f} s: {error}", flush=True)
        return (f"{name}/{seq.name}", label, "-", "-", "-", "-", "-", f"{wall:.0f} s", "refused (see log)")
    wall = time.perf_counter() - started
    with contextlib.redirect_stdout(io.StringIO()):
        scores = evaluate_sequence(
            str(res), str(seq.parent / f"{seq.name}_GT"), metrics=["DET", "TRA", "LNK", "BC"], threads=1
        )
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    per_frame = result.segmented.candidates_per_frame
    divisions = f"{scores['tp_div(0)']} of {scores['gt_divisions']} ({result.solved.n_divisions} made)"
    errors = ", ".join(f"{k} {scores[f'AOGM_{k}']}" for k in ("FN", "FP", "NS", "EA", "ED"))
    print(
        f"{name}/{seq.name} ({label}): TRA {scores['TRA']:.4f} DET {scores['DET']:.4f} "
        f"LNK {scores['LNK']:.4f}; divisions right {divisions}; {per_frame:.0f} candidates "
        f"per frame; {wall:.0f} s ({stages}); AOGM operations: {errors} (NS: merged cells to split)",
        flush=True,
    )
    return (
        f"{name}/{seq.name}",
        label,
        f"{scores['TRA']:.4f}",
        f"{scores['DET']:.4f}",
        f"{scores['LNK']:.4f}",
        divisions,
        f"{per_frame:.0f}",
        f"{wall:.0f} s",
        stages,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("NEOTRACK_SHARED_DATA", "../shared/data"))
    )
    parser.add_argument("--only", help="Only sequences whose name contains this.")
    parser.add_argument("--sequence", default="01", help="Which sequence of each dataset [01].")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--mode",
        choices=["both", "defaults", "config"],
        default="both",
        help="Run with no config (defaults), with the kind's bench/configs file, or both [both].",
    )
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
            seq = args.data / name / args.sequence
            runs = []
            if args.mode in ("both", "defaults"):
                runs.append(("defaults", Config()))
            if args.mode in ("both", "config"):
                if path.exists():
                    runs.append(("config", Config.load(path)))
                elif args.mode == "config":
                    print(f"{name}/{seq.name}: no bench/configs file for its kind: skipped", flush=True)
            for label, config in runs:
                config = with_overrides(config, args.overrides)
                config.data.working_dir = args.out
                rows.append(run_one(store, seq, how, config, label))
    header = [
        "sequence",
        "config",
        "TRA",
        "DET",
        "LNK",
        "divisions right",
        "candidates/frame",
        "wall",
        "stages",
    ]
    print_table(header, rows)


if __name__ == "__main__":
    main()
