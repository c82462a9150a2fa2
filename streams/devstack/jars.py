"""The broker's classpath: Maven-fetched jars (once, cached) or ``KAFKA_HOME``.

The Kafka version is pinned in ``kafka-pom.xml`` beside this file.  Jars are
copied by ``mvn dependency:copy-dependencies`` into
``<kafka_cache_dir>/<version>-<pom digest>/``; a marker file written last makes a half-done
fetch look like no fetch, so an interrupted download is simply redone.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from streams.errors import DevstackError

__all__ = ["POM", "broker_classpath", "fetch_jars", "kafka_version", "main"]

POM = Path(__file__).with_name("kafka-pom.xml")
_MARKER = ".complete"


def kafka_version() -> str:
    """The Kafka version pinned in the pom."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if not match:
        raise DevstackError(f"no <kafka.version> in {POM}")
    return match.group(1)


def cache_key() -> str:
    """``<kafka version>-<pom digest>``: a changed pom never reuses jars fetched for another one."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:10]
    return f"{kafka_version()}-{digest}"


def fetch_jars(cache_dir: Path, *, quiet: bool = True) -> Path:
    """Fetch the pinned broker jars into ``cache_dir/<version>-<digest>`` unless already there."""
    target = cache_dir / cache_key()
    if (target / _MARKER).exists():
        return target
    if shutil.which("mvn") is None:
        raise DevstackError(
            "mvn not found: Maven fetches the Kafka broker's jars",
            hint="install Maven (apt-get install maven), set KAFKA_HOME to a Kafka install, or use docker compose",
        )
    target.mkdir(parents=True, exist_ok=True)
    cmd = [
        "mvn", "-B", "-f", str(POM), "dependency:copy-dependencies",
        f"-DoutputDirectory={target}", "-DincludeScope=runtime",
    ]
    if quiet:
        cmd.insert(1, "-q")
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log = target / "mvn.log"
        log.write_text(result.stdout + result.stderr)
        raise DevstackError(
            f"Maven could not fetch Kafka {kafka_version()}",
            hint="check network access to Maven Central, or set KAFKA_HOME",
            log_path=str(log),
        )
    (target / _MARKER).write_text(kafka_version())
    return target


def broker_classpath(cache_dir: Path, kafka_home: Path | None) -> str:
    """Classpath for ``kafka.Kafka``: ``KAFKA_HOME/libs`` when given, else the cached jars."""
    if kafka_home is not None:
        libs = kafka_home / "libs"
        if not libs.is_dir():
            raise DevstackError(
                f"KAFKA_HOME={kafka_home} has no libs/ directory",
                hint="point KAFKA_HOME at an unpacked Kafka distribution, or unset it to use Maven",
            )
        return str(libs / "*")
    return str(fetch_jars(cache_dir) / "*")


def main() -> int:
    """Fetch the jars once and say where they are (``make install`` runs it); 1 with one line if Maven fails."""
    from streams.settings import Settings

    settings = Settings()
    if settings.kafka_home is not None:
        print(f"KAFKA_HOME={settings.kafka_home}: using its libs/, nothing to fetch")
        return 0
    try:
        print(f"Kafka {kafka_version()} jars in {fetch_jars(settings.kafka_cache_dir)}")
    except DevstackError as exc:
        print(f"streams: error: {exc.one_line()}", file=sys.stderr)
        return 1
    return 0
