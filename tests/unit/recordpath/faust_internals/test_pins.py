"""faust-streaming and mode are the versions ``faust_internals`` was written against, and every function of
theirs it copies or overrides is unchanged: an upgrade fails here, naming what to re-check and where."""

from streams.recordpath.faust_internals.pins import FUNCTIONS, VERSIONS, current_hash, installed_versions


def test_the_installed_versions_are_the_pinned_ones() -> None:
    assert installed_versions() == VERSIONS, (
        "faust-streaming or mode changed: re-read every function listed in faust_internals/pins.py against the "
        "module named beside it, then update VERSIONS and the hashes")


def test_every_function_copied_overridden_or_relied_on_is_unchanged() -> None:
    changed = [f"{name} (re-check {where})" for name, (pinned, where) in FUNCTIONS.items()
               if current_hash(name) != pinned]
    assert changed == [], "changed upstream:\n" + "\n".join(changed)

