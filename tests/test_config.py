"""The configuration: TOML round trip, unknown keys refused, and every field read by the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neotrack.config import Config
from neotrack.errors import InputError

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit" / "neotrack"


def test_toml_round_trip(tmp_path: Path) -> None:
    config = Config()
    config.data.voxel_size = (2.0, 0.5, 0.5)
    config.data.axes = "TZYX"
    config.preprocessing.prob_low_threshold = 0.3
    config.segmentation.ws_hierarchy = "dynamics"
    config.save(tmp_path / "c.toml")
    assert Config.load(tmp_path / "c.toml") == config
    assert Config.load(tmp_path / "c.toml").data.axes == "tzyx"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[segmentation]\nmin_aera = 5\n", "unknown setting 'segmentation.min_aera'"),
        ("[segmentation]\nmin_area = 500\nmax_area = 100\n", "max_area"),
        ("[linking_typo]\n", "unknown setting 'linking_typo'"),
        ("[data]\naxes = 'zyx'\n", "include t"),
        ("[segmentation\n", "not valid TOML"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        Config.load(tmp_path / "c.toml")
    assert str(tmp_path / "c.toml") in str(info.value) and "\n" not in str(info.value)


def test_every_field_is_read_somewhere() -> None:
    """ultrack carries fields nothing reads; here each one is used outside the config package."""
    code = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py") if "config" not in p.parts)
    for section_name in Config.model_fields:
        for field in type(getattr(Config(), section_name)).model_fields:
            assert re.search(rf"\.{field}\b", code), f"{section_name}.{field} is never read"
