"""Build the launcher (Neo4j's jars plus one main class) with Maven, once per launcher version."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

from neotrack.errors import ServerError

log = logging.getLogger(__name__)

LAUNCHER_SOURCES = Path(__file__).parent / "launcher"
MAIN_CLASS = "org.neotrack.launcher.Launcher"


def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(LAUNCHER_SOURCES.rglob("*")):
        if path.suffix in (".xml", ".java"):
            digest.update(path.relative_to(LAUNCHER_SOURCES).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def launcher_classpath(build_dir: Path) -> str:
    """The classpath of a built launcher; builds it with Maven when missing or out of date."""
    target = build_dir / _source_digest()
    jar, lib = target / "launcher.jar", target / "lib"
    if not (jar.is_file() and (target / "BUILT").is_file()):
        _build(target)
    return f"{lib}/*:{jar}"


def _build(target: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError(
            "Maven (mvn) not found: it is needed once, to fetch Neo4j from Maven Central "
            "(Debian/Ubuntu: apt-get install maven)"
        )
    log.info("building the Neo4j launcher with Maven into %s (first use only, ~150 MB)", target)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(LAUNCHER_SOURCES / "pom.xml"),
        "package",
        f"-Dlauncher.build.dir={target}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln]
        detail = lines[0] if lines else (proc.stdout + proc.stderr).strip()[-300:]
        raise ServerError(f"building the Neo4j launcher with Maven failed: {detail}")
    (target / "BUILT").write_text("ok\n")
