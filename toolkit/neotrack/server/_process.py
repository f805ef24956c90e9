"""Start, stop and inspect the local Neo4j server process."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import neo4j

from neotrack._system import check_port
from neotrack.errors import InputError, ServerError
from neotrack.server._build import MAIN_CLASS, launcher_classpath
from neotrack.server._settings import ServerSettings, bolt_uri, is_loopback, parse_size

log = logging.getLogger(__name__)

# Flags the 5.x distribution's neo4j.conf passes to the JVM (TrustFinalNonStaticFields is server-only).
_JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
]
_READY = "NEOTRACK READY"


@dataclasses.dataclass(frozen=True)
class ServerStatus:
    """What ``neotrack db status`` reports."""

    running: bool
    uri: str
    data_dir: Path
    pid: int | None = None
    answering: bool = False

    def describe(self) -> str:
        if not self.running:
            return f"not running (data dir {self.data_dir})"
        state = "answering" if self.answering else "not answering yet"
        return f"running at {self.uri}, pid {self.pid}, {state} (data dir {self.data_dir})"


def status(settings: ServerSettings | None = None) -> ServerStatus:
    """Whether the local server of ``settings``' data dir runs, and whether Bolt answers.

    The URI of a running server is the one it was started with (recorded in the pid file), whatever
    host and port ``settings`` ask for now.
    """
    settings = settings or ServerSettings.from_env()
    running = _running(settings)
    if running is None:
        return ServerStatus(False, settings.uri, settings.data_dir)
    pid, uri = running
    return ServerStatus(True, uri, settings.data_dir, pid, _answers(uri, settings.password))


def running_uri(settings: ServerSettings | None = None) -> str | None:
    """The URI of the running local server of ``settings``' data dir, from its pid file; None when it
    does not run. Unlike ``status`` it opens no connection."""
    running = _running(settings or ServerSettings.from_env())
    return None if running is None else running[1]


def start(settings: ServerSettings | None = None) -> ServerStatus:
    """Start the local server in the background and wait until Bolt answers.

    Builds the launcher on first use. Returns at once when this data dir's server already runs, with
    the URI it runs at (which may not be the one ``settings`` ask for: stop it first to move it).

    Raises:
        ServerError: Java or Maven is missing, the port is taken, the data dir is in use by another
            process, the host does not resolve, a password is missing for a non-loopback address, or
            the server failed to start.
        InputError: the port is not a number from 1 to 65535.
    """
    settings = settings or ServerSettings.from_env()
    current = status(settings)
    if current.running:
        if current.uri != settings.uri:
            log.warning(
                "Neo4j of data dir %s already runs at %s (pid %s), not at %s: stop it first "
                "(`neotrack db stop`) to move it",
                settings.data_dir,
                current.uri,
                current.pid,
                settings.uri,
            )
        else:
            log.info("Neo4j already runs at %s (pid %s)", current.uri, current.pid)
        return current
    check_port(settings.port)  # settings made by model_copy are not validated
    if not is_loopback(settings.host) and not settings.password:
        raise ServerError(
            f"Neo4j would listen on {settings.host}, beyond this machine: set a password "
            "(NEOTRACK_NEO4J_PASSWORD or --password); auth may be off only on 127.0.0.1"
        )
    java = _find_java()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _check_data_dir_free(settings.data_dir)
    _check_port_free(settings.host, settings.port)
    classpath = launcher_classpath(settings.build_dir)

    heap = settings.heap
    cmd = [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        *_JVM_FLAGS,
        "-cp",
        classpath,
        MAIN_CLASS,
        f"--home={settings.data_dir}",
        f"--host={settings.host}",
        f"--port={settings.port}",
        f"--pagecache={parse_size(settings.pagecache)}",
    ]
    env = dict(os.environ)
    env.pop("NEOTRACK_NEO4J_INITIAL_PASSWORD", None)
    if settings.password:
        env["NEOTRACK_NEO4J_INITIAL_PASSWORD"] = settings.password
    log.info("starting Neo4j on %s (data dir %s)", settings.uri, settings.data_dir)
    log_offset = settings.log_file.stat().st_size if settings.log_file.exists() else 0
    with open(settings.log_file, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    settings.pid_file.write_text(f"{proc.pid} {settings.host} {settings.port}\n")
    _wait_ready(settings, proc, log_offset)
    log.info("Neo4j is ready at %s (pid %d)", settings.uri, proc.pid)
    return ServerStatus(True, settings.uri, settings.data_dir, proc.pid, True)


def stop(settings: ServerSettings | None = None, timeout: float = 120.0) -> bool:
    """Stop the local server cleanly (checkpoint, close the store); False if it was not running."""
    settings = settings or ServerSettings.from_env()
    running = _running(settings)
    if running is None:
        settings.pid_file.unlink(missing_ok=True)
        return False
    pid = running[0]
    log.info("stopping Neo4j (pid %d)", pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        log.warning("Neo4j did not stop within %.0f s; killing it (committed data is kept)", timeout)
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    settings.pid_file.unlink(missing_ok=True)
    return True


def _find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    java = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    if java is None:
        raise ServerError(
            "Java not found: the local Neo4j needs Java 17 or 21 "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless), or set JAVA_HOME"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    if match and int(match.group(1)) < 17:
        raise ServerError(f"Java {match.group(1)} found at {java}: Neo4j 5.26 needs Java 17 or 21")
    return java


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServerError(
                    f"port {port} on {host} is already in use by another program: choose another "
                    "with --port or NEOTRACK_NEO4J_PORT"
                ) from None
            raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


LOCK_GRACE_S = 5.0
"""How long a held store lock is waited for: a server killed a moment ago (SIGKILL, a crash) is
already a zombie, no longer running, while its other threads still hold the lock."""


def _check_data_dir_free(data_dir: Path) -> None:
    """Neo4j holds an fcntl lock on its store_lock file while a server uses the directory."""
    lock = data_dir / "data" / "databases" / "store_lock"
    if not lock.exists():
        return
    deadline = time.monotonic() + LOCK_GRACE_S
    with open(lock, "r+b") as fh:
        while True:
            try:
                fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"data dir {data_dir} is in use by another Neo4j process: stop that one, or "
                        "choose another data dir with --data-dir or NEOTRACK_DATA_DIR"
                    ) from None
                time.sleep(0.1)
        fcntl.lockf(fh, fcntl.LOCK_UN)


def _wait_ready(settings: ServerSettings, proc: subprocess.Popen[bytes], log_offset: int) -> None:
    deadline = time.monotonic() + settings.startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            settings.pid_file.unlink(missing_ok=True)
            raise ServerError(_startup_failure(settings, log_offset, proc.returncode))
        if _READY in _new_log(settings, log_offset) and _answers(settings.uri, settings.password):
            return
        time.sleep(0.25)
    stop(settings)
    raise ServerError(
        f"Neo4j did not answer on {settings.uri} within {settings.startup_timeout:.0f} s: "
        f"see {settings.log_file}"
    )


def _new_log(settings: ServerSettings, offset: int) -> str:
    with open(settings.log_file, "rb") as fh:
        fh.seek(offset)
        return fh.read().decode(errors="replace")


def _startup_failure(settings: ServerSettings, offset: int, code: int | None) -> str:
    text = _new_log(settings, offset)
    if "NEOTRACK ERROR:" in text:
        return text.split("NEOTRACK ERROR:", 1)[1].splitlines()[0].strip()
    if "Address already in use" in text or "BindException" in text:
        return f"port {settings.port} on {settings.host} is already in use by another program"
    if "locked by another process" in text or "FileLockException" in text:
        return f"data dir {settings.data_dir} is in use by another Neo4j process"
    if "OutOfMemoryError" in text or "Could not reserve enough space" in text:
        return f"Neo4j ran out of memory with heap {settings.heap}: lower NEOTRACK_NEO4J_HEAP"
    causes = [ln.strip() for ln in text.splitlines() if "Exception" in ln or "Error" in ln]
    detail = causes[-1] if causes else f"exit code {code}"
    return f"Neo4j failed to start ({detail[:200]}): see {settings.log_file}"


def _running(settings: ServerSettings) -> tuple[int, str] | None:
    """Pid and URI of the running server of ``settings``' data dir, from its pid file.

    The pid file holds ``pid host port``; one written before the host and port were recorded holds
    only the pid, and then the URI is that of ``settings``.
    """
    try:
        fields = settings.pid_file.read_text().split()
        pid = int(fields[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _alive(pid):
        return None
    with contextlib.suppress(OSError):  # /proc exists on Linux; elsewhere trust the pid file
        if MAIN_CLASS.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return None
    return pid, _recorded_uri(fields[1:]) or settings.uri


def _recorded_uri(fields: list[str]) -> str | None:
    if len(fields) != 2:
        return None
    host, port = fields
    try:
        return bolt_uri(host, check_port(port))
    except InputError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie child (killed, not yet reaped) is not alive
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def _answers(uri: str, password: str | None) -> bool:
    auth = ("neo4j", password) if password else None
    try:
        with neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=2.0) as drv:
            drv.verify_connectivity()
        return True
    except Exception:  # any failure means "not yet"
        return False
