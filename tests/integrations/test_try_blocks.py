"""Which instructions a try/with block protects, on every supported CPython (3.10 has no exception table:
before the 3.10 reading, every instruction counted as unprotected there, so a script leaving its bar's loop
by ``sys.exit`` ended "Failed" instead of "Stopped", see test_tqdm_outcomes.py)."""
from __future__ import annotations

import dis
import os
import sys
from types import CodeType

from activitysmith_jupyter.integrations.tqdm.try_blocks import is_protected


def sample() -> int:
    outside = 1
    try:
        in_try = 2
    except ValueError:
        in_try = 0
    with open(os.devnull) as f:
        in_with = f.closed
    after = 3
    return outside + in_try + int(in_with) + after


def store_offset(name: str) -> int:
    (offset,) = [i.offset for i in dis.get_instructions(sample) if i.opname == "STORE_FAST" and i.argval == name][:1]
    return offset


def test_stores_inside_try_and_with_are_protected_and_the_others_not() -> None:
    code = sample.__code__
    assert is_protected(code, store_offset("in_try"))
    assert is_protected(code, store_offset("in_with"))
    assert not is_protected(code, store_offset("outside"))
    assert not is_protected(code, store_offset("after"))


def test_a_live_frame_inside_a_try_is_protected_at_its_current_instruction() -> None:
    def here() -> tuple[CodeType, int]:
        caller = sys._getframe(1)
        return caller.f_code, caller.f_lasti  # f_lasti moves on: read it now

    plain = here()
    try:
        guarded = here()
    finally:
        pass
    assert not is_protected(*plain)
    assert is_protected(*guarded)
