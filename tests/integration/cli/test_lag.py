"""``streams lag`` on a real broker: a group that does not exist is an error, not a status OK; the app's own
group missing (no worker joined yet) says so."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.integration.harness import ROOT, streams_cli

pytestmark = pytest.mark.integration


def test_an_unknown_group_is_one_line_and_exit_1(stack_env: dict[str, str]) -> None:
    group = f"no-such-group-{uuid.uuid4().hex[:8]}"
    result = streams_cli(stack_env, "lag", "--group", group, "--samples", "1")
    assert result.returncode == 1, result.stdout
    assert "OK" not in result.stdout
    assert result.stderr.splitlines() == [
        f"streams: error: no consumer group {group} on {stack_env['STREAMS_BROKER'].removeprefix('kafka://')} "
        "(check the name; `streams lag --all` lists the groups there are)"]


def test_the_apps_group_before_any_worker_joined_says_so(stack_env: dict[str, str]) -> None:
    result = streams_cli(stack_env, "lag", "--samples", "1")
    assert result.returncode == 1, result.stdout
    assert result.stderr.splitlines() == [
        f"streams: error: the app's group {stack_env['STREAMS_APP_ID']} is not on "
        f"{stack_env['STREAMS_BROKER'].removeprefix('kafka://')} yet: no worker has joined it "
        "(is make run / streams worker running or still starting?)"]


def test_a_group_that_committed_is_shown(stack_env: dict[str, str], make_topic: Callable[..., str]) -> None:
    topic, group = make_topic("lagcli"), f"lag-cli-{uuid.uuid4().hex[:8]}"
    consumer = Consumer({"bootstrap.servers": stack_env["STREAMS_BROKER"].removeprefix("kafka://"),
                         "group.id": group})
    consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)  # an empty group that exists
    consumer.close()
    result = streams_cli(stack_env, "lag", "--group", group, "--samples", "1", "--json")
    assert result.returncode == 0, result.stderr
    [shown] = json.loads(result.stdout)
    assert shown["group"] == group
    assert [p["topic"] for p in shown["partitions"]] == [topic]


def test_a_watch_opened_before_the_worker_waits_for_the_apps_group(stack_env: dict[str, str],
                                                                    make_topic: Callable[..., str]) -> None:
    """``--watch`` on a terminal (a pty): a row says it waits for the group; the group created meanwhile (a
    commit, as a joining worker makes) is picked up on a later sample; Ctrl-C ends it, exit 0."""
    group, topic = stack_env["STREAMS_APP_ID"], make_topic("lagwatch")
    main, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "lag", "--watch", "--interval", "0.2"],
                            stdin=subprocess.DEVNULL, stdout=terminal, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, **stack_env, "COLUMNS": "250", "TERM": "xterm"})
    os.close(terminal)
    shown = b""

    def read_until(text: str, timeout: float = 60.0) -> None:
        nonlocal shown
        deadline = time.monotonic() + timeout
        while text.encode() not in shown:
            left = deadline - time.monotonic()
            assert left > 0, (text, shown.decode(errors="replace")[-2000:])
            assert proc.poll() is None, (proc.returncode, proc.stderr.read() if proc.stderr else "")
            if select.select([main], [], [], min(left, 1.0))[0]:
                try:
                    shown += os.read(main, 65536)
                except OSError:  # the terminal closed: the command ended (the next turn says how)
                    proc.wait(timeout=30)

    try:
        read_until(f"waiting for group {group} to appear")
        assert b"member(s)" not in shown
        consumer = Consumer({"bootstrap.servers": stack_env["STREAMS_BROKER"].removeprefix("kafka://"),
                             "group.id": group})
        consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
        consumer.close()
        read_until("0 member(s)")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        os.close(main)
