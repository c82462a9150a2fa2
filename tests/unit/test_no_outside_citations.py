"""Code and docs cite only what the repository holds: no design notes kept outside it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ("DESIGN.md",)  # the design notes the project was written from; not in the repository


def _files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in ("streams", "agents", "bench", "docs"):
        files += [path for path in sorted((ROOT / folder).rglob("*"))
                  if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".so")]
    return files


def test_nothing_cites_a_document_outside_the_repository() -> None:
    hits = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for path in _files()
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            if any(name in line for name in OUTSIDE)]
    assert not hits, "cite what the repository holds instead:\n" + "\n".join(hits)


def test_the_search_covers_the_code() -> None:
    assert ROOT / "agents" / "views.py" in _files()
