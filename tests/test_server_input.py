"""Server settings refused before anything is launched, and `neotrack query` read-only by default."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from neotrack.cli import main
from neotrack.errors import InputError, ServerError
from neotrack.server import ServerSettings, start
from neotrack.server._settings import is_loopback
from neotrack.store import check_uri as check_bolt_uri

BAD_PORTS = ["0", "-1", "65536", "70000"]


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


# --- loopback ---------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1"])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["localhost.invalid", "127.example.com"])
def test_names_that_only_look_local_are_not_loopback(host: str) -> None:
    try:
        assert not is_loopback(host)  # should a resolver answer for it, it is not 127.x
    except ServerError as exc:
        assert str(exc).startswith(f"host {host!r} does not resolve")
        assert "\n" not in str(exc)


def test_start_on_a_name_that_does_not_resolve_is_refused_before_launching(tmp_path: Path) -> None:
    settings = ServerSettings.from_env(data_dir=tmp_path / "db", host="localhost.invalid", port=7999)
    with pytest.raises(ServerError, match=r"host 'localhost\.invalid' does not resolve"):
        start(settings)
    assert not settings.data_dir.exists()  # nothing was prepared, let alone launched


# --- ports ------------------------------------------------------------------------------------
@pytest.mark.parametrize("port", [*BAD_PORTS, "abc", "7_687"])
def test_bad_port_in_the_environment_is_one_line(port: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEOTRACK_NEO4J_PORT", port)
    with pytest.raises(InputError, match="port: expected a port from 1 to 65535, got") as info:
        ServerSettings.from_env()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("port", BAD_PORTS)
def test_bad_port_option_is_one_line(port: str, tmp_path: Path) -> None:
    for command in ("status", "start"):
        result = _cli("db", command, "--data-dir", str(tmp_path / "db"), "--port", port)
        assert "expected a port from 1 to 65535" in _one_error_line(result)
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize("port", [0, -1, 65536, 70000])
def test_start_refuses_a_bad_port_that_skipped_validation(port: int, tmp_path: Path) -> None:
    settings = ServerSettings.from_env(data_dir=tmp_path / "db").model_copy(update={"port": port})
    with pytest.raises(InputError, match=f"expected a port from 1 to 65535, got {port}$"):
        start(settings)
    assert not settings.data_dir.exists()


@pytest.mark.parametrize(
    "uri",
    [
        "bolt://localhost:7687",
        "bolt://127.0.0.1:1",
        "neo4j://db.example.org:65535",
        "bolt://[::1]:7687",
        "bolt://user@localhost:7687",
        "neo4j+s://abcd1234.databases.neo4j.io",
    ],
)
def test_good_bolt_uris_pass_unchanged(uri: str) -> None:
    assert check_bolt_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        *(f"bolt://localhost:{p}" for p in BAD_PORTS),
        "bolt://localhost:abc",
        "bolt://localhost:",
        "bolt://[::1]:70000",
        "neo4j://u@db.example.org:131073",
    ],
)
def test_bolt_uri_with_a_bad_port_is_refused(uri: str) -> None:
    with pytest.raises(InputError, match=r"bad Neo4j URI .*: expected a port from 1 to 65535, got") as info:
        check_bolt_uri(uri)
    assert "\n" not in str(info.value)


# --- query ------------------------------------------------------------------------------------
def test_query_help_says_read_only_by_default() -> None:
    text = " ".join(_cli("query", "--help").stdout.split())
    assert "read-only by default" in text
    assert "--write Allow the query to change the graph; without it the query runs read-only." in text


def test_query_is_read_only_unless_write(server: ServerSettings) -> None:
    key = ["-p", f"k=probe-{uuid.uuid4().hex[:10]}"]
    create = ["query", "CREATE (n:NeotrackQueryProbe {k: $k})", *key]
    count = ["query", "MATCH (n:NeotrackQueryProbe {k: $k}) RETURN count(n) AS n", *key, "--format", "json"]

    def probes() -> int:
        result = _cli(*count)
        assert result.exit_code == 0, result.output
        return int(json.loads(result.stdout)[0]["n"])

    try:
        assert "--write" in _one_error_line(_cli(*create))
        assert probes() == 0
        assert _cli(*create, "--write").exit_code == 0
        assert probes() == 1
    finally:
        _cli("query", "MATCH (n:NeotrackQueryProbe {k: $k}) DELETE n", *key, "--write")
    assert probes() == 0


def test_query_parameters_may_have_any_name(server: ServerSettings) -> None:
    """Users name parameters freely: ``write``, ``params`` or ``cypher`` are just parameters."""
    result = _cli(
        "query", "RETURN $write AS w, $params AS p", "-p", "write=1", "-p", "params=x", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"w": 1, "p": "x"}]
