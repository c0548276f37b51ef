"""Whether an instruction of a code object lies inside a ``try`` or ``with`` block (an exception raised there
may be handled), on every CPython the package supports.

CPython 3.11+ lists the protected ranges in the code's exception table. CPython 3.10 has no table: a block
starts at its ``SETUP_FINALLY`` / ``SETUP_WITH`` / ``SETUP_ASYNC_WITH`` and its handler follows the block's
body, so the range from the setup to the handler covers the body (and, for ``try/finally``, the inlined
normal-exit copy of the ``finally`` body: counted as protected, the safe side).
"""
from __future__ import annotations

import dis
from types import CodeType
from typing import Any

__all__ = ["protected_ranges", "is_protected"]

_SETUPS = frozenset({"SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH"})


def protected_ranges(code: CodeType) -> tuple[tuple[int, int], ...]:
    """The (start, end) byte offsets of `code`'s try/with blocks; end excluded."""
    parse: Any = getattr(dis, "_parse_exception_table", None)  # CPython 3.11+
    if parse is not None:
        return tuple((entry.start, entry.end) for entry in parse(code))
    return tuple((ins.offset, ins.argval) for ins in dis.get_instructions(code)
                 if ins.opname in _SETUPS and isinstance(ins.argval, int))


def is_protected(code: CodeType, offset: int) -> bool:
    """Whether the instruction at byte `offset` (a frame's ``f_lasti``) is inside a try/with block."""
    return any(start <= offset < end for start, end in protected_ranges(code))
