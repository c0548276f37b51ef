"""Numbers for a phone: a rate has at most 3 significant digits, a k/M/G suffix and a space before its unit."""
from __future__ import annotations

import re

import pytest

from activitysmith_jupyter.hub.wording import format_rate, progress_text

RATES = [
    (6742202.16, "it", "6.74M it/s"),
    (293685.76, "iteration", "294k iteration/s"),
    (6.64, "it", "6.64 it/s"),
    (6.6, "it", "6.60 it/s"),
    (12.345, "it", "12.3 it/s"),
    (123.45, "batch", "123 batch/s"),
    (999.4, "it", "999 it/s"),
    (999.6, "it", "1.00k it/s"),
    (1234.0, "it", "1.23k it/s"),
    (99_960.0, "it", "100k it/s"),
    (3.2e9, "it", "3.20G it/s"),
    (1.0, "it", "1.00 it/s"),
    (0.4, "it", "2.50 s/it"),
    (1 / 12.345, "epoch", "12.3 s/epoch"),
    (1 / 150, "epoch", "2.50 min/epoch"),
    (1 / 7200, "epoch", "2.00 h/epoch"),
    (None, "it", None),
    (0.0, "it", None),
]


@pytest.mark.parametrize(("rate", "unit", "text"), RATES, ids=[t or f"none-{r}" for r, _, t in RATES])
def test_a_rate_reads_in_three_significant_digits(rate, unit, text) -> None:
    assert format_rate(rate, unit) == text


def tqdm_number(scale: bool | float = True, divisor: int = 1000):
    """The number format the tqdm bars hand the hub for ``unit_scale`` (tqdm's own ``format_sizeof``)."""
    from tqdm.std import tqdm as std_tqdm

    return lambda x: std_tqdm.format_sizeof(x * (1 if scale is True else scale), divisor=divisor)


SCALED = [
    (6742202.16, "it", 1000, "6.74M it/s"),
    (293685.76, "iteration", 1000, "294k iteration/s"),
    (6.64, "it", 1000, "6.64 it/s"),
    (1_290_000.0, "B", 1024, "1.23 MB/s"),
    (512.0, "B", 1024, "512 B/s"),
    (0.5, "file", 1000, "2.00 s/file"),
]


@pytest.mark.parametrize(("rate", "unit", "divisor", "text"), SCALED, ids=[t for *_, t in SCALED])
def test_a_unit_scale_bar_reads_the_same_way(rate, unit, divisor, text) -> None:
    assert format_rate(rate, unit, tqdm_number(divisor=divisor)) == text


def test_a_running_subtitle_and_a_real_unit_scale_bar_use_it() -> None:
    import io

    from tqdm import tqdm

    from activitysmith_jupyter.integrations.tqdm.bars import bar_subtitle, snapshot

    assert progress_text(10, None, "iteration", 293685.76, now=0.0) == "10 iteration · 294k iteration/s"
    bar = tqdm(total=10_000_000, unit_scale=True, disable=False, mininterval=0, file=io.StringIO())
    try:
        bar.update(5_000_000)
        shown = snapshot(bar)
        text = bar_subtitle(shown, now=0.0)
    finally:
        bar.close()
    rate_text = text.split(" · ")[1]
    assert re.fullmatch(r"(\d\.\d\d|\d\d\.\d|\d\d\d)[kMGTPE]? it/s", rate_text), text
