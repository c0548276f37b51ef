"""The drop-in is a true tqdm: class-level state behaves as on tqdm itself (found by tqdm's own tests)."""
from __future__ import annotations

import io

from tqdm.auto import tqdm as tqdm_auto
from tqdm.std import TqdmDefaultWriteLock

from activitysmith_jupyter.tqdm import tqdm


def test_deleting_the_write_lock_works_and_get_lock_makes_a_new_one() -> None:
    tqdm_auto(range(2), file=io.StringIO()).close()  # a plain bar made tqdm's lock first
    before = tqdm.get_lock()
    del tqdm._lock  # tqdm's own test_external_write does this
    out = io.StringIO()
    with tqdm.external_write_mode(file=out):
        out.write("external\n")
    tqdm.write("from tqdm.write", file=out)
    assert out.getvalue() == "external\nfrom tqdm.write\n"
    assert isinstance(tqdm.get_lock(), TqdmDefaultWriteLock) and tqdm.get_lock() is not before


def test_a_bar_after_the_lock_was_deleted_runs(sim) -> None:
    if hasattr(tqdm, "_lock"):
        del tqdm._lock
    assert list(tqdm(range(3), file=io.StringIO(), mirror=False)) == [0, 1, 2]
