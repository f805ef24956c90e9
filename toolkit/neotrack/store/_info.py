"""A dataset's state in one typed place: its identity, and where each stage of the pipeline stands.

The stages run in order — ``segment`` → ``link`` → ``solve`` — and each depends on the ones before:
starting a stage again invalidates the stages after it (re-segmenting drops links and solution;
re-linking drops the solution). A stage is ``running`` from the moment it starts changing the graph
until it finished; a run that died leaves it ``running`` with no lock held: *interrupted*, and
whatever reads that stage's output refuses it rather than return a partial result.

On the ``Dataset`` node each stage's keys are prefixed with its name (``segment_status``,
``link_config``, ``solve_finished`` ...), so clearing a stage is removing the keys with its prefix.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any, Literal

from neotrack.errors import InputError


class Stage(StrEnum):
    SEGMENT = "segment"
    LINK = "link"
    SOLVE = "solve"

    @property
    def after(self) -> tuple[Stage, ...]:
        """The stages that depend on this one (invalidated when it starts again)."""
        order = list(Stage)
        return tuple(order[order.index(self) + 1 :])


Status = Literal["running", "done"]


@dataclasses.dataclass(frozen=True)
class StageState:
    """One stage of one dataset: its status, the fingerprints it ran with, and its other keys."""

    stage: Stage
    status: Status | None = None
    config: str | None = None
    """The settings that change this stage's result, as canonical JSON."""
    inputs: str | None = None
    """A fingerprint of the stage's input files (``segment``)."""
    next_frame: int | None = None
    """The first frame still to do: where an interrupted run resumes."""
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Every key of this stage, without its prefix (``finished``, ``version``, ``solver`` ...)."""

    @property
    def done(self) -> bool:
        return self.status == "done"

    @property
    def interrupted(self) -> bool:
        """Started and not finished (read it together with the dataset's lock: see ``DatasetInfo``)."""
        return self.status == "running"


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What the graph records about a dataset, read in one query (``Store.info``)."""

    name: str
    uid: str | None
    """Immutable id (uuid hex), also in the attributes of the dataset's pixel stores."""
    ndim: int | None
    shape: tuple[int, ...] | None
    voxel_size: tuple[float, ...] | None
    source: str | None
    pixels_dir: str | None
    """The folder holding ``<uid>/`` when the user chose one; None: the store's data home."""
    lock_stage: str | None
    """The stage of another run holding the write lock (None: no other client writes it)."""
    segment: StageState
    link: StageState
    solve: StageState
    props: dict[str, Any]
    """Every property of the node, as stored."""
    frame_offset: int = 0
    """The movie's frame that is the dataset's frame 0 (``data.frames`` cropped the movie)."""
    roi_origin: tuple[int, ...] | None = None
    """Where the dataset's pixel (0, 0) lies in the movie's frames ((z,) y, x; ``data.roi``)."""
    source_shape: tuple[int, ...] | None = None
    """The shape of the movie before any crop."""

    @classmethod
    def from_props(cls, name: str, props: dict[str, Any]) -> DatasetInfo:
        def stage(s: Stage) -> StageState:
            prefix = f"{s}_"
            own = {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}
            nxt = own.get("next_frame")
            return StageState(
                s,
                own.get("status"),
                own.get("config"),
                own.get("inputs"),
                None if nxt is None else int(nxt),
                own,
            )

        shape, voxel = props.get("shape"), props.get("voxel_size")
        origin, source_shape = props.get("roi_origin"), props.get("source_shape")
        return cls(
            name=name,
            uid=props.get("uid"),
            ndim=None if props.get("ndim") is None else int(props["ndim"]),
            shape=_ints(shape),
            voxel_size=None if voxel is None else tuple(float(v) for v in voxel),
            source=props.get("source"),
            pixels_dir=props.get("pixels_dir"),
            lock_stage=props.get("lock_stage"),
            segment=stage(Stage.SEGMENT),
            link=stage(Stage.LINK),
            solve=stage(Stage.SOLVE),
            props=props,
            frame_offset=int(props.get("frame_offset") or 0),
            roi_origin=_ints(origin),
            source_shape=_ints(source_shape),
        )

    @property
    def voxel(self) -> tuple[float, ...]:
        """Physical size of a voxel per spatial axis (1 each when not recorded)."""
        return self.voxel_size or (1.0,) * int(self.ndim or 2)

    def stage(self, stage: Stage) -> StageState:
        return {Stage.SEGMENT: self.segment, Stage.LINK: self.link, Stage.SOLVE: self.solve}[stage]

    def require(self, stage: Stage) -> StageState:
        """The stage's state when it finished; else one error saying what to run."""
        state = self.stage(stage)
        if state.done:
            return state
        command = f"`neotrack {stage} --dataset {self.name}`"
        if self.lock_stage is not None:
            raise InputError(
                f"dataset {self.name!r} is being written by `{self.lock_stage}` right now: "
                f"wait for it to finish"
            )
        if state.interrupted:
            raise InputError(
                f"the {stage} step of dataset {self.name!r} was interrupted, so its result is "
                f"incomplete: run {command} again"
            )
        what = {Stage.SEGMENT: "no candidates", Stage.LINK: "no links", Stage.SOLVE: "no solution"}[stage]
        raise InputError(f"dataset {self.name!r} has {what} yet: run {command} first")


def stage_keys(props: dict[str, Any], stages: tuple[Stage, ...]) -> dict[str, None]:
    """``{key: None}`` for every key of ``stages`` in ``props``: setting them removes them."""
    prefixes = tuple(f"{s}_" for s in stages)
    return {k: None for k in props if k.startswith(prefixes)}


def _ints(values: Any) -> tuple[int, ...] | None:
    return None if values is None else tuple(int(v) for v in values)
