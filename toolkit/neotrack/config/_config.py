"""The one configuration object, with TOML round trips."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from neotrack.config._sections import (
    NOT_A_NUMBER,
    DataConfig,
    FlowConfig,
    LinkingConfig,
    PreprocessingConfig,
    SegmentationConfig,
    TrackingConfig,
)
from neotrack.errors import InputError


class Config(BaseModel):
    """Every setting of a run; sections as in ultrack's TOML (``[data]``, ``[segmentation]`` ...).

    Unknown keys are rejected. ``Config.load(path)`` / ``config.save(path)`` read and write TOML.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data: DataConfig = Field(default_factory=DataConfig)
    preprocessing: PreprocessingConfig = Field(default_factory=PreprocessingConfig)
    segmentation: SegmentationConfig = Field(default_factory=SegmentationConfig)
    linking: LinkingConfig = Field(default_factory=LinkingConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    flow: FlowConfig = Field(default_factory=FlowConfig)

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """Read a TOML file; missing keys take their defaults."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"config file {path} does not exist") from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"config file {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                f"{exc.start}); TOML files must be UTF-8"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"config file {path} is not valid TOML: {exc}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "config") -> Config:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise InputError(f"{source}: {describe_validation_error(exc)}") from None

    def save(self, path: str | Path) -> None:
        """Write TOML (None values are left out: they mean 'default')."""
        Path(path).write_text(tomli_w.dumps(self.to_toml_dict()))

    def to_toml_dict(self) -> dict[str, Any]:
        return _drop_none(self.model_dump(mode="json"))

    def to_json(self) -> str:
        """Compact JSON, as recorded in the graph with each step's provenance."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def describe_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown setting {where!r}"
    if err["type"] == NOT_A_NUMBER:  # the message names the value already
        return f"{where}: {err['msg']}"
    return f"{where}: {err['msg']} (got {err.get('input')!r})"


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
