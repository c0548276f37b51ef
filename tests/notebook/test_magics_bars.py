"""What a %%activitysmith_progress cell's end says about the tqdm bar that drove it (real shell)."""
from __future__ import annotations

import pytest

from test_magics import end_state, ip, pushes, run, settle  # noqa: F401  (ip: the shell fixture)

pytest.importorskip("tqdm")


def test_a_failed_cell_ends_at_the_bar_s_real_last_count(ip, sim) -> None:  # noqa: F811
    # miniters=4: tqdm copies its count into bar.n every 4 items, so bar.n says 8 when item 10 raises
    ip.run_line_magic("config", "ActivitySmithMagics.bar_interval = 0.01")
    result = run(ip, """
        %%activitysmith_progress -k shards -t Shards
        from tqdm.auto import tqdm
        for i in tqdm(range(20), desc="shards", miniters=4, mininterval=0):
            if i == 10:
                raise ValueError("shard 10 is corrupt")
    """)
    assert isinstance(result.error_in_exec, ValueError)
    settle(ip)
    end = end_state(sim, "shards")
    assert end["percentage"] == 50 and end["color"] == "red"
    assert end["subtitle"].startswith("Failed at 10/20: ValueError · ")


def test_a_cell_s_end_keeps_the_bar_s_count_like_a_plain_bar(ip, sim) -> None:  # noqa: F811
    ip.run_line_magic("config", "ActivitySmithMagics.bar_interval = 0.01")
    result = run(ip, """
        %%activitysmith_progress -k epochs -t Epochs
        import time
        from tqdm.auto import tqdm
        from activitysmith_jupyter import current_activity
        act = current_activity()
        for epoch in tqdm(range(30), desc="epochs"):
            deadline = time.monotonic() + 10
            while epoch == 0 and "epochs" not in act.content_state["subtitle"] and time.monotonic() < deadline:
                time.sleep(0.005)  # until the observer has seen the bar (event-driven, bounded)
    """)
    assert result.success, result.error_in_exec
    settle(ip)
    end = end_state(sim, "epochs")
    assert end["subtitle"].startswith("Done · 30/30 in ") and end["percentage"] == 100
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Epochs finished in ") and push["message"] == "30/30"


def test_the_magic_s_stats_type_shows_the_bar_s_metrics(ip, sim) -> None:  # noqa: F811
    ip.run_line_magic("config", "ActivitySmithMagics.bar_interval = 0.01")
    result = run(ip, """
        %%activitysmith_progress -k fit --type stats -t Fit
        from tqdm.auto import tqdm
        bar = tqdm(range(5), desc="epochs", unit="epoch")
        for i in bar:
            bar.set_postfix({"loss": 0.5, "acc": 0.75})
    """)
    assert result.success, result.error_in_exec
    settle(ip)
    end = end_state(sim, "fit")
    assert end["type"] == "stats"
    assert end["metrics"] == [{"label": "loss", "value": 0.5}, {"label": "acc", "value": 0.75}]
    assert end["subtitle"].startswith("Done · 5/5 in ")
    [push] = pushes(sim)
    assert push["title"].endswith(" · loss 0.5 · acc 0.75") and push["message"] == "5/5"
