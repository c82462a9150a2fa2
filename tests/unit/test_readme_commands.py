"""Every command the README shows works as written: ``streams <sub> [<subsub>]`` exists in the typer app and
takes the flags used, make targets exist in the Makefile, ``python -m`` modules exist, other executables are
known ones.  Commands are read from the README's ``sh`` code blocks and from inline code that starts like one."""

from __future__ import annotations

import importlib.util
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from markdown_it import MarkdownIt

from streams.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# executables of the machine or of other projects that the README tells users to run
KNOWN = {"curl", "docker", "sudo", ".", "source"}
_COMMAND_START = re.compile(r"^(\w+=\S*\s+)*(streams |make |python -m |\.venv/bin/|\. |sudo |docker |curl )")


@dataclass(frozen=True)
class Command:
    where: str  # "line N" of README.md
    words: list[str]


def _commands_in(text: str, line: int) -> list[Command]:
    """The commands of a shell snippet: comments dropped, continued and multi-line quoted lines joined."""
    found, pending, start = [], "", line
    for number, raw in enumerate(text.splitlines(), line):
        if not pending:
            start = number
        pending += raw + "\n"
        if pending.endswith("\\\n"):
            pending = pending[:-2] + " "
            continue
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote opened on this line closes on a later one
            continue
        pending = ""
        if words:
            found.append(Command(f"line {start}", words))
    assert not pending, f"unfinished command at README.md line {start}: {pending!r}"
    return found


def readme_commands() -> list[Command]:
    commands: list[Command] = []
    for token in MarkdownIt().parse(README.read_text()):
        line = (token.map[0] + 2) if token.map else 0
        if token.type == "fence" and token.info.strip() in ("sh", "bash", "shell", "console"):
            commands += _commands_in(token.content, line)
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "code_inline" and _COMMAND_START.match(child.content):
                    commands += _commands_in(child.content, line - 1)
    return commands


def _make_targets() -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w.-]*):", (ROOT / "Makefile").read_text(), re.M)}


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts) if opt.startswith("-")}


def _subcommands(command: Any) -> dict[str, Any] | None:
    """A group's commands by name (typer's groups are click's, from the copy of click typer ships)."""
    commands = getattr(command, "commands", None)
    return commands if isinstance(commands, dict) else None


def problems_of_streams(args: list[str]) -> list[str]:
    """What is wrong with ``streams <args>`` as the typer app sees it (nothing is run)."""
    command = typer.main.get_command(app)
    path = ["streams"]
    rest = list(args)
    while (group := _subcommands(command)) is not None and rest and not rest[0].startswith("-"):
        if rest[0] not in group:
            return [f"`{' '.join(path)}` has no command {rest[0]!r}"]
        command = group[rest[0]]
        path.append(rest.pop(0))
    if (group := _subcommands(command)) is not None:
        return [f"`{' '.join(path)}` needs a command ({', '.join(sorted(group))})"]
    known = _options(command)
    return [f"`{' '.join(path)}` has no option {word.split('=', 1)[0]}" for word in rest
            if word.startswith("--") and word.split("=", 1)[0] not in known]


def problems(command: Command) -> list[str]:
    words = list(command.words)
    while words and re.fullmatch(r"\w+=.*", words[0]):  # VAR=value before the command
        words.pop(0)
    if not words:
        return []
    executable, args = words[0], words[1:]
    if executable in ("streams", ".venv/bin/streams"):
        return problems_of_streams(args)
    if executable == "make":
        return [f"the Makefile has no target {t!r}" for t in args if not t.startswith("-") and "=" not in t
                and t not in _make_targets()]
    if executable in ("python", "python3", ".venv/bin/python") and args[:1] == ["-m"]:
        return [] if importlib.util.find_spec(args[1]) else [f"no module {args[1]}"]
    if executable.startswith(".venv/bin/"):
        return [] if (ROOT / executable).exists() else [f"{executable} is not installed by `make install`"]
    if executable in ("sudo", ".", "source"):
        return problems(Command(command.where, args)) if executable == "sudo" and args[0] != "apt-get" else []
    return [] if executable in KNOWN else [f"unknown executable {executable!r}"]


COMMANDS = readme_commands()


def test_the_readme_shows_commands() -> None:
    shown = {tuple(c.words[:2]) for c in COMMANDS}
    assert ("make", "run") in shown
    assert ("streams", "demo") in shown


def test_streams_is_on_the_path_as_the_readme_says() -> None:
    """Bare ``streams ...`` works only once the venv is activated: the README says how, before any of them."""
    first_streams = next(i for i, c in enumerate(COMMANDS) if c.words[0] == "streams")
    assert [".", ".venv/bin/activate"] in [c.words for c in COMMANDS[:first_streams]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c.where}: {' '.join(c.words)[:60]}")
def test_every_command_exists(command: Command) -> None:
    assert problems(command) == []


@pytest.mark.parametrize(("words", "wrong"), [
    (["streams", "nope"], "has no command 'nope'"),
    (["streams", "dlq"], "needs a command"),
    (["streams", "dlq", "list", "--nope"], "has no option --nope"),
    (["streams", "lag", "--group=x", "--watch"], None),
    (["make", "nope"], "no target 'nope'"),
    (["ls", "-l"], "unknown executable"),
    (["python", "-m", "bench.nope"], "no module"),
])
def test_the_checker_itself(words: list[str], wrong: str | None) -> None:
    found = problems(Command("test", words))
    assert (found == []) if wrong is None else (wrong in " ".join(found)), found
