"""What a child's stderr said, as a terminal shows it, and which line of it tells what went wrong.

A terminal redraws a progress bar in place with ``\\r``; a failure push must quote the error, never a bar
(``epochs: 100%|██████████| 30/30 [00:03<00:00, 9.95it/s]`` says nothing about why the run failed). Pure.
"""
from __future__ import annotations

import re

__all__ = ["is_progress_line", "last_meaningful", "screen_lines"]

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_PROGRESS = re.compile(
    r"\d+%\|"  # tqdm with a total: "epochs: 100%|█████| 30/30 ..."
    r"|\[\d{1,2}:\d{2}(?::\d{2})?(?:<[\d:?]+)?(?:, [^\]]*)?\]\s*$"  # tqdm's timing: "12it [00:01, 9.95it/s]"
    r"|[█▉▊▋▌▍▎▏━╸╺]{3,}"  # a drawn bar (tqdm's blocks, rich's lines)
    r"|\[[=>.]{5,}\]"  # keras: "32/32 [==============================] - 0s"
)


def screen_lines(raw: bytes) -> list[tuple[str, bool]]:
    """(line as the terminal shows it, whether it was redrawn with ``\\r``) for each line with letters or
    digits in it: colour codes and ``-----`` rules dropped, a ``\\r`` redraw keeps its last state."""
    shown: list[tuple[str, bool]] = []
    for line in _ANSI.sub(b"", raw).split(b"\n"):
        parts = [p for p in line.split(b"\r") if p.strip()]
        if not parts:
            continue
        text = parts[-1].decode("utf-8", "replace").rstrip()
        if any(ch.isalnum() for ch in text):  # not a ---- rule
            shown.append((text, len(parts) > 1))
    return shown


def is_progress_line(text: str, redrawn: bool = False) -> bool:
    """A progress display (tqdm, rich, keras bars; any line redrawn in place), not a message."""
    return redrawn or _PROGRESS.search(text) is not None


def last_meaningful(raw: bytes) -> str | None:
    """The last line of `raw` that is not a progress display (a traceback's last line is its exception)."""
    for text, redrawn in reversed(screen_lines(raw)):
        if not is_progress_line(text, redrawn):
            return text.strip()
    return None
