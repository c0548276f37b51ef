"""Run every Python example of one Markdown page, top to bottom, and check the output it shows.

Used by tests/docs/test_examples.py, one fresh process per page (so each page starts with a fresh embedded
simulator, default client, SIGTERM handler and tqdm state), and by hand:

    python tests/docs/docs_runner.py docs/tqdm.md            # check; prints a JSON report
    python tests/docs/docs_runner.py --update docs/tqdm.md   # rewrite the page's `#> ` lines from what ran

The conventions (docs/contributing.md explains them to writers):
- a ```python (or ```py) block runs; ```python test="skip" does not; ```bash / ```text never run;
- `requires="keras,torch"` in the fence runs the block only where those modules import (the test for the
  page reports the block as skipped elsewhere);
- a block with a line starting with `%` or `!` is an IPython cell: the page is then a notebook, each of its
  blocks one cell run by one real `InteractiveShell` (so `%load_ext activitysmith_jupyter`,
  `%%activitysmith_progress` and auto mode work), its `#> ` lines compared with the whole cell's output;
  `raises="ValueError"` says the cell (or block) is expected to end with that exception;
- `#> text` lines show what the statement above them prints (pytest-examples' format). They are compared
  with everything the statement wrote to stdout, after masking what differs from run to run (durations,
  clock times, timestamps, rates' digits): the masks are the same on both sides, so a page may show a
  real run's "finished in 0.4s" and still pass when the next run takes 0.6 s.
"""
from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import json
import re
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                   re.M | re.S)
SETTING = re.compile(r"""([\w-]+)=(["'])(.*?)\2""")
PROMPT = "#> "

# (pattern, replacement): what legitimately differs between two runs of the same example
MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<timestamp>"),
    (re.compile(r"\+\d\d:\d\d\.\d"), "+<offset>"),  # the timeline's offsets
    (re.compile(r"\bETA \d\d?:\d\d(?::\d\d)?"), "ETA <clock>"),
    (re.compile(r"\b\d+(?:\.\d+)?(?= ?(?:it|s|[A-Za-z]+)/s\b)"), "<rate>"),
    (re.compile(r"\b(?:\d+h )?(?:\d+m )?\d+(?:\.\d+)?(?:ms|s)\b|\b\d+h \d+m\b|\b\d+m\b(?! ?/)"), "<duration>"),
)


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


@dataclass
class Block:
    start: int  # 1-based line of the first source line
    source: str
    indent: int
    settings: dict[str, str]

    @property
    def ipython(self) -> bool:
        return any(line.lstrip().startswith(("%", "!")) for line in self.source.splitlines())

    @property
    def requires(self) -> list[str]:
        names = [n.strip() for n in self.settings.get("requires", "").split(",") if n.strip()]
        return names + (["IPython"] if self.ipython else [])


@dataclass
class Result:
    line: int
    status: str  # passed | failed | skipped
    message: str = ""
    requires: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)


def _last_line_of_traceback(*args: Any, **kwargs: Any) -> None:
    error = sys.exc_info()[1]
    if error is not None:
        print(f"{type(error).__name__}: {error}")


def find_blocks(text: str) -> Iterator[Block]:
    for m in FENCE.finditer(text):
        info = m.group("info").strip()
        lang = info.split(None, 1)[0].lower() if info else ""
        if lang not in ("python", "py"):
            continue
        settings = dict((k, v) for k, _, v in SETTING.findall(info))
        if settings.get("test") == "skip":
            continue
        indent = len(m.group("indent"))
        body = "\n".join(line[indent:] for line in m.group("body").splitlines())
        start = text.count("\n", 0, m.start("body")) + 1
        yield Block(start=start, source=body + "\n", indent=indent, settings=settings)


def expected_lines(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        stripped = line.strip()
        if stripped == PROMPT.strip() or stripped.startswith(PROMPT):
            out.append(stripped[len(PROMPT):])
    return out


def available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class Page:
    """Runs one page's blocks in one namespace (or one IPython shell)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.blocks = list(find_blocks(self.text))
        self.shell: Any = None
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        if any(b.ipython for b in self.blocks) and available("IPython"):
            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config

            cfg = Config()
            cfg.HistoryManager.hist_file = ":memory:"
            cfg.InteractiveShell.ast_node_interactivity = "none"  # a page shows prints, not Out[n]
            cfg.InteractiveShell.colors = "nocolor"
            self.shell = InteractiveShell.instance(config=cfg)
            # an error prints its last line only (what a page can show); the runner reports it with its place
            self.shell.showtraceback = _last_line_of_traceback
            self.namespace = self.shell.user_ns

    def statements(self, block: Block) -> list[tuple[int, int, int, Any]]:
        """(first line, end line, last line, code) per top-level statement, lines counted in the block:
        the statement spans first..end, its `#> ` lines may follow up to last. One chunk for an IPython cell."""
        src_lines = block.source.splitlines()
        if self.shell is not None:  # a page with IPython cells is a notebook: every block is one cell
            n = len(src_lines)
            while n > 1 and src_lines[n - 1].strip().startswith(PROMPT.strip()):
                n -= 1
            return [(1, n, len(src_lines), block.source)]
        tree = ast.parse(block.source, filename=self.path.name)
        ast.increment_lineno(tree, block.start - 1)
        chunks = []
        for i, stmt in enumerate(tree.body):
            first = stmt.lineno - block.start + 1
            if getattr(stmt, "decorator_list", None):
                first = min(d.lineno for d in stmt.decorator_list) - block.start + 1  # type: ignore[attr-defined]
            end = (stmt.end_lineno or stmt.lineno) - block.start + 1
            nxt = tree.body[i + 1] if i + 1 < len(tree.body) else None
            last = len(src_lines)
            if nxt is not None:
                last = min([nxt.lineno] + [d.lineno for d in getattr(nxt, "decorator_list", [])]) - block.start
            # named by the page alone: a traceback or a failure push an example shows is the same in any checkout
            code = compile(ast.Module(body=[stmt], type_ignores=[]), self.path.name, "exec")
            chunks.append((first, end, last, code))
        return chunks

    def run_chunk(self, code: Any) -> tuple[str, BaseException | None]:
        buf = io.StringIO()
        error: BaseException | None = None
        with contextlib.redirect_stdout(buf):
            try:
                if isinstance(code, str):
                    result = self.shell.run_cell(code, store_history=True)
                    error = result.error_before_exec or result.error_in_exec
                else:
                    exec(code, self.namespace)  # noqa: S102 - running the documentation's own examples
            except Exception as exc:  # noqa: BLE001 - reported with the block's location
                error = exc
        return buf.getvalue(), error

    def run_block(self, block: Block) -> tuple[Result, list[tuple[int, list[str]]]]:
        missing = [name for name in block.requires if not available(name)]
        if missing:
            return Result(block.start, "skipped", f"needs {', '.join(missing)}", block.requires), []
        src_lines = block.source.splitlines()
        problems: list[str] = []
        produced: list[tuple[int, list[str]]] = []
        try:
            chunks = self.statements(block)
        except SyntaxError as exc:
            return Result(block.start, "failed", f"SyntaxError: {exc}", block.requires), []
        raised = False
        for first, end, last, code in chunks:
            out, error = self.run_chunk(code)
            actual = out.splitlines()
            produced.append((end, actual))
            where = f"{self.path}:{block.start + first - 1}"
            if error is not None:
                wanted = block.settings.get("raises")
                if not (wanted and type(error).__name__ == wanted and code is chunks[-1][3]):
                    tb = "".join(traceback.format_exception(error))
                    return Result(block.start, "failed", f"{where}: raised\n{tb}", block.requires, actual), produced
                raised = True
            expected = expected_lines(src_lines[first - 1:last])
            if [mask(x).rstrip() for x in expected] != [mask(x).rstrip() for x in actual]:
                problems.append(f"{where}: shows\n  " + "\n  ".join(expected or ["(nothing)"])
                                + "\nbut printed\n  " + "\n  ".join(actual or ["(nothing)"]))
        if block.settings.get("raises") and not raised:
            problems.append(f"{self.path}:{block.start}: should raise {block.settings['raises']} but did not")
        status = "failed" if problems else "passed"
        return Result(block.start, status, "\n".join(problems), block.requires), produced

    def run(self, update: bool) -> list[Result]:
        results = []
        new_text = self.text.splitlines(keepends=True)
        edits: list[tuple[Block, list[tuple[int, list[str]]]]] = []
        for block in self.blocks:
            result, produced = self.run_block(block)
            results.append(result)
            if update and result.status != "skipped":
                edits.append((block, produced))
        if update:
            for block, produced in reversed(edits):
                new_text = rewrite(new_text, block, produced)
            self.path.write_text("".join(new_text), encoding="utf-8")
        return results


def rewrite(lines: list[str], block: Block, produced: list[tuple[int, list[str]]]) -> list[str]:
    """The page's lines with `block`'s `#> ` lines replaced by what each statement printed."""
    pad = " " * block.indent
    body = lines[block.start - 1: block.start - 1 + len(block.source.splitlines())]
    new_body: list[str] = []
    after: dict[int, list[str]] = {end: out for end, out in produced if out}
    for i, line in enumerate(body, start=1):
        if not line.strip().startswith(PROMPT.strip()):
            new_body.append(line)
        if i in after:  # the output goes right after the statement's last line
            new_body.extend(f"{pad}{PROMPT}{x}".rstrip() + "\n" for x in after[i])
    return lines[: block.start - 1] + new_body + lines[block.start - 1 + len(body):]


def main(argv: list[str]) -> int:
    update = "--update" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")]
    report = {}
    for path in paths:
        report[str(path)] = [r.__dict__ for r in Page(path).run(update)]
    sys.stdout.write(json.dumps(report, indent=1) + "\n")
    sys.stdout.flush()
    return 1 if any(r["status"] == "failed" for rs in report.values() for r in rs) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
