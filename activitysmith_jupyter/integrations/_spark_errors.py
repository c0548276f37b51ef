"""A Spark error's first meaningful line, for a push: not a JVM stack, not the Python worker's traceback.

``describe_spark_error`` is registered with the hub's failure wording when the Spark integration loads,
so any front end that ends on a pyspark / py4j exception names it this way:

* ``PythonException`` (a UDF or an RDD function raised): the worker's own last line,
  ``ZeroDivisionError: division by zero``;
* ``AnalysisException`` and the other captured errors: their first line, ``[UNRESOLVED_COLUMN...] A
  column ... `nope` cannot be resolved...`` (Spark Connect's ``JVM stacktrace:`` part dropped);
* ``Py4JJavaError``: the Java exception's message, without ``An error occurred while calling o59.collect``
  and without the class name (``org.apache.spark.SparkException: ``).

The ``SQLSTATE: 42703`` suffix is dropped: a code for logs, not for a Lock Screen.
"""
from __future__ import annotations

import re

__all__ = ["describe_spark_error", "first_meaningful_line"]

_JAVA_CLASS = re.compile(r"^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::\s*|$)")
_SQLSTATE = re.compile(r"\s*SQLSTATE: \w+;?.*$")
_NOISE = ("at ", "Traceback (most recent call last)", "File \"", "An error occurred while calling",
          "JVM stacktrace:", "Caused by:", "...")


def _clean(line: str) -> str:
    line = line.strip()
    if line.startswith(": "):
        line = line[2:]
    line = _JAVA_CLASS.sub("", line, count=1) or line
    return _SQLSTATE.sub("", line).strip()


def first_meaningful_line(text: str) -> str | None:
    """The line of `text` that says what went wrong (see the module docstring), None if none does."""
    head = text.split("\n\nJVM stacktrace:", 1)[0]
    lines = head.splitlines()
    if "Traceback (most recent call last):" in head:  # a Python worker's traceback: its last unindented line
        start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("Traceback")), 0)
        tail = [ln for ln in lines[start + 1:] if ln.strip() and not ln[:1].isspace()]
        if tail:
            return _clean(tail[-1]) or None
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith(_NOISE):
            continue
        cleaned = _clean(stripped)
        if cleaned:
            return cleaned
    return None


def describe_spark_error(exc: BaseException) -> str | None:
    """The message of a pyspark or py4j exception as a push names it; None for anyone else's."""
    module = type(exc).__module__ or ""
    if not module.startswith(("pyspark.", "py4j.")):
        return None
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ (a dead JVM): the hub words it itself
        return None
    return first_meaningful_line(text)
