"""Kernel resources (issue 13): the watchdog's psutil sampler, its pacing within the iOS budget (the
dispatcher's UpdatePolicy, on a FakeClock), and the magic options of the watchdog and stall detection."""
from __future__ import annotations

import os

import pytest
from IPython.core.error import UsageError

from activitysmith_jupyter.delivery.policy import UpdatePolicy
from activitysmith_jupyter.watchdog.main import Watcher
from activitysmith_jupyter.watchdog.sampler import ResourceSampler
from shell_helpers import fresh_shell


def test_a_sample_names_cpu_and_memory_and_has_no_gpu_rows_without_a_gpu() -> None:
    pytest.importorskip("pynvml")  # nvidia-ml-py installed: the rows are absent because there is no GPU
    sampler = ResourceSampler(os.getpid())
    sum(i * i for i in range(200_000))  # some CPU since the baseline
    rows = sampler.sample()
    assert [(r["label"], r["unit"]) for r in rows] == [("CPU", "%"), ("Memory", "GB")]
    assert rows[0]["value"] >= 0 and 0 < rows[1]["value"] < 1024


def test_the_monitor_keeps_to_the_ios_update_budget(dispatcher, sim, clock) -> None:
    watcher = Watcher(lambda key, url: dispatcher, parent_pid=os.getpid())
    watcher.handle({"op": "hello", "pid": os.getpid(), "kind": "Kernel"}, clock.monotonic())
    watcher.handle({"op": "monitor", "on": True, "key": "kernel-resources", "title": "Kernel resources"},
                   clock.monotonic())
    for _ in range(3600):  # an hour, a tick a second; what the watcher queued goes out before the next
        clock.advance(1.0)
        watcher.tick(clock.monotonic())
        assert dispatcher.flush(5)
    puts = [r for r in sim.requests if r.key == "kernel-resources" and r.method == "PUT"]
    assert puts[0].json["content_state"]["type"] == "metrics"
    assert [m["label"] for m in puts[0].json["content_state"]["metrics"]] == ["CPU", "Memory"]
    policy = UpdatePolicy()
    offsets = [r.time - puts[0].time for r in puts]
    assert all(offset >= policy.release_time(k) - 1e-6 for k, offset in enumerate(offsets, start=1)), offsets
    assert 20 <= len(puts) <= 3600 / 120 + 12  # current all hour, never above iOS's average
    watcher.handle({"op": "monitor", "on": False}, clock.monotonic())
    assert dispatcher.flush(5)
    [end] = [r for r in sim.requests if r.key == "kernel-resources" and r.method == "DELETE"]
    assert end.json["content_state"]["subtitle"] == "Monitor off"


def test_the_monitor_magic_explains_that_the_embedded_simulator_has_no_watchdog() -> None:
    with fresh_shell(extension=True) as shell:
        with pytest.raises(UsageError, match="needs a live client"):
            shell.run_line_magic("activitysmith", "monitor on")
        with pytest.raises(UsageError, match="needs on or off"):
            shell.run_line_magic("activitysmith", "monitor sideways")


@pytest.mark.parametrize(("line", "config", "expected"),
                         [("", None, 600.0), ("--stall-after 90", None, 90.0), ("", 30.0, 30.0),
                          ("--stall-after 0", 30.0, None), ("--stall-after 45", 30.0, 45.0)],
                         ids=["default", "option", "config", "option-off", "option-over-config"])
def test_the_cell_magic_takes_stall_after_from_its_option_over_config(line, config, expected) -> None:
    with fresh_shell(extension=True) as shell:
        if config is not None:
            shell.run_line_magic("config", f"ActivitySmithMagics.stall_after = {config}")
        result = shell.run_cell(f"%%activitysmith_progress --title Job {line}\n"
                                "from activitysmith_jupyter.hub.activity import current_activity\n"
                                "seen = current_activity().stall_after\n")
        assert result.success
        assert shell.user_ns["seen"] == expected


def test_a_bad_stall_after_option_is_a_usage_error_naming_it() -> None:
    with fresh_shell(extension=True) as shell:
        with pytest.raises(UsageError, match="--stall-after -5"):
            shell.run_cell_magic("activitysmith_progress", "--title Job --stall-after -5", "pass")
