"""IPython glue: ``%%activitysmith_progress``, ``%activitysmith`` and their ``%config`` settings.

How a ``%%activitysmith_progress`` cell runs: an input transformer (``shell.input_transformers_cleanup``)
rewrites only the magic's own line into ``get_ipython().run_line_magic('activitysmith_progress', args)``
and leaves the body in place. IPython then handles the body exactly as an ordinary cell: top-level
``await``, ``!cmd``, ``%magics``, the last-expression display, tracebacks with the cell's own line
numbers, and errors that fail the cell (so Run-All stops). The line magic starts the activity; the
``post_execute`` event ends it with the cell's outcome read from ``shell.last_execution_result``
(``error_in_exec``: an exception -> failure, ``KeyboardInterrupt`` -> interrupted).
"""
from __future__ import annotations

import difflib
import inspect
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.utils import process as _process
from traitlets import Bool, CaselessStrEnum, Float, Instance, List, Unicode

from .auto import AutoModeConfig, auto_command, install_auto, uninstall_auto
from .cell import BarSettings, CellActivity
from .link_config import LinkConfig
from ..hub.links_here import describe_links, kernel_id, links_here
from .notice import install_notice, status_lines, uninstall_notice
from ..hub.options import NOTIFY, TYPES, RunOptions, check_choice, split_channels
from .cell_text import MAGIC, derive_title, first_comment, notebook_name, notify_text, transform_progress_cell
from ..hub.outcome import outcome_for
from ..payloads import COLORS, STREAM_KEY_RULE, stream_key_from, validate

__all__ = [
    "ActivitySmithMagics",
    "load_ipython_extension",
    "unload_ipython_extension",
    "transform_progress_cell",
    "derive_title",
]

log = logging.getLogger("activitysmith_jupyter")

# IPython's option decorators and arg_split carry no types: give them theirs here, once.
_F = TypeVar("_F", bound=Callable[..., Any])
_untyped: Any = _magic_arguments
_untyped_split: Any = getattr(_process, "arg_split")


def argument(*names: str, **options: Any) -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", _untyped.argument(*names, **options))


def magic_arguments() -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", _untyped.magic_arguments())


ENV_NOTIFY = "ACTIVITYSMITH_NOTIFY"
ENV_CHANNELS = "ACTIVITYSMITH_CHANNELS"
ENV_COLOR = "ACTIVITYSMITH_COLOR"


# ---------------------------------------------------------------------------------------------
# pure helpers (tested without a shell)


def _checked_options(fields: dict[str, Any]) -> RunOptions:
    """`RunOptions` of the magic's resolved `fields`; a mistake is a UsageError naming the option."""
    problems = validate("end_stream", {}, key=fields["key"])  # the key's rule and its wording live in payloads
    if problems:
        raise UsageError(f"--key {fields['key']!r} is not a valid stream key: "
                         + "; ".join(str(p) for p in problems))
    try:
        return RunOptions(**{**fields, "colors": dict(fields["colors"])})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _remember(cache: dict[Any, Any], key: Any, value: Any, *, size: int = 64) -> None:
    if len(cache) >= size:
        cache.clear()
    cache[key] = value


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """`value` (any case) if it is one of `allowed`, else a UsageError naming `what` (hub.options' check)."""
    v = value.strip().lower()
    try:
        check_choice(v, allowed, what)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return v


def arg_split(line: str, *, posix: bool) -> list[str]:
    """IPython's shell-like split of a magic's line, typed."""
    return list(_untyped_split(line, posix=posix))


def check_option_names(parser: Any, argv: list[str]) -> None:
    """An unknown ``--option`` is a UsageError naming the closest known one (``--notfy``: ``--notify``)."""
    known = sorted(parser._option_string_actions)
    for word in argv:
        if word == "--":
            return
        if not word.startswith("-") or len(word) < 2 or word[1].isdigit():
            continue
        name = word.split("=", 1)[0]
        if name in known or (not name.startswith("--") and name[:2] in known):  # -t"x", -k=x
            continue
        close = difflib.get_close_matches(name, [k for k in known if k.startswith("--")], n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise UsageError(f"%%{MAGIC}: unrecognized arguments: {name}{hint} (options: "
                         f"{', '.join(k for k in known if k.startswith('--') and k != '--help')})")


def one_line(error: Any) -> str:
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return " ".join(text.split())[:200]


def masked_key(client: Any) -> str:
    hint = getattr(client, "api_key_hint", None)
    if hint is None:
        return "none (simulator)" if getattr(client, "mode", None) == "simulator" else "none"
    source = getattr(client, "api_key_source", None)  # the argument, ACTIVITYSMITH_API_KEY, the stored key
    return f"{hint} from {source}" if source else str(hint)


STALL_AFTER_HELP = ("Seconds a cell's progress may stand still before one push (\"⚠️ <title> has made no "
                    "progress for 20 min — stuck at 47 %\") and a subtitle that says so. 0 or None: off.")


def stall_after_option(option: float | None, configured: float | None) -> float | None:
    """``--stall-after`` over ``%config ActivitySmithMagics.stall_after``, checked."""
    from ..hub.stall import check_stall_after

    try:
        return check_stall_after(option if option is not None else configured)
    except ValueError as exc:
        raise UsageError(str(exc).replace("stall_after=", "--stall-after ", 1)) from None


def monitor_command(switch: str, dispatcher: Any) -> str:
    """``%activitysmith monitor on|off``: what to print; UsageError for anything else, or without a
    watchdog (the embedded simulator lives inside the kernel, so nothing outside could show it)."""
    from ..watchdog import parent as watchdog

    if switch not in ("on", "off"):
        raise UsageError("%activitysmith monitor needs on or off")
    if watchdog.monitor(switch == "on", client=getattr(dispatcher, "client", None)) is None and switch == "on":
        raise UsageError("the monitor needs a live client (ACTIVITYSMITH_API_KEY, or ACTIVITYSMITH_BASE_URL for a "
                     "simulator server): the embedded simulator lives inside this kernel")
    return f"resource monitor {switch} (stream {watchdog.MONITOR_KEY!r}, sampled by the watchdog process)"


# ---------------------------------------------------------------------------------------------
# the magics


@magics_class
class ActivitySmithMagics(Magics, AutoModeConfig, LinkConfig):
    """ActivitySmith cell magics. Settings (``%config ActivitySmithMagics``) apply to every
    ``%%activitysmith_progress`` cell; precedence: magic option > %config > environment > default."""

    channels = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        config=True,
        help="Channel slugs to target (activity and push). None: $ACTIVITYSMITH_CHANNELS "
        "(comma-separated), else no target (the API key's own scope).",
    )
    notify = CaselessStrEnum(
        NOTIFY,
        default_value=None,
        allow_none=True,
        config=True,
        help="When a cell's end sends a push: 'always', 'failure' (exceptions only) or 'never'. "
        "None: $ACTIVITYSMITH_NOTIFY, else 'always'.",
    )
    color = CaselessStrEnum(
        COLORS,
        default_value=None,
        allow_none=True,
        config=True,
        help="Accent color while running. None: $ACTIVITYSMITH_COLOR, else 'blue'.",
    )
    success_color = CaselessStrEnum(COLORS, default_value="green", config=True, help="Color of a finished cell.")
    failure_color = CaselessStrEnum(COLORS, default_value="red", config=True, help="Color of a failed cell.")
    interrupt_color = CaselessStrEnum(
        COLORS, default_value="orange", config=True, help="Color of an interrupted cell."
    )
    mirror_bars = Bool(
        True, config=True, help="Mirror the outermost tqdm bar of the cell onto the activity."
    )
    bar_interval = Float(
        0.5, min=0.01, config=True, help="Seconds between looks at the live tqdm bars (the update policy "
        "below decides what is actually sent)."
    )
    elapsed_updates = Bool(True, config=True, help="With no bar and no handle calls, refresh the subtitle with the "
                           "elapsed time (2 min steps up to 10 min, 5 min steps up to 1 h, then 15 min).")
    stall_after = Float(600.0, min=0.0, allow_none=True, config=True, help=STALL_AFTER_HELP)
    update_policy = Instance(
        "activitysmith_jupyter.delivery.policy.UpdatePolicy",
        allow_none=True,
        config=True,
        help="How often one activity may be updated: an activitysmith_jupyter.delivery.dispatcher.UpdatePolicy "
        "given to the dispatcher of the client in use. None: the dispatcher's own (the iOS budget).",
    )
    client = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Name of a notebook variable holding the ActivitySmith client to use, or a Dispatcher "
        "made for one (its pacing and clock). None: activitysmith_jupyter.default_client() "
        "(ACTIVITYSMITH_API_KEY / ACTIVITYSMITH_BASE_URL, else the embedded simulator).",
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._open: list[tuple[int, Any, CellActivity]] = []  # (depth, ExecutionResult, activity)
        self._depth = 0
        # a cell run again parses and checks the same options again: each distinct line / set of run
        # options is checked once (both results are immutable); bounded, cleared when full
        self._parsed: dict[str, Any] = {}
        self._checked: dict[tuple[Any, ...], RunOptions] = {}

    @property
    def _shell(self) -> Any:
        """The shell (a Magics made by load_ipython_extension always has one)."""
        if self.shell is None:
            raise UsageError("the ActivitySmith magics are not attached to a shell")
        return self.shell

    # -- settings resolution -------------------------------------------------------------------
    def _setting(self, option: Any, trait: str, env_name: str | None, default: Any) -> Any:
        if option is not None:
            return option
        value = getattr(self, trait)
        if value is not None:
            return value
        if env_name and os.environ.get(env_name, "").strip():
            return os.environ[env_name]
        return default

    def _channels(self, option: str | None) -> tuple[str, ...]:
        """Channel slugs: --channels "a,b" > %config (a list) > $ACTIVITYSMITH_CHANNELS > none."""
        value = self._setting(option, "channels", ENV_CHANNELS, ())
        return split_channels(value) if isinstance(value, str) else tuple(value)

    def _client(self, name: str | None) -> Any:
        """The client (or a Dispatcher made for one) named by --client, else %config, else the default."""
        source = "--client"
        if name is None:
            name, source = self.client or None, "ActivitySmithMagics.client"
        if name is None:
            from ..api.client import default_client

            return default_client()
        if name not in self._shell.user_ns:
            raise UsageError(f"{source} = {name!r}: no such variable in the notebook")
        client = self._shell.user_ns[name]
        if not hasattr(client, "live_activities") and not hasattr(client, "update_stream"):
            raise UsageError(
                f"{source} = {name!r} is a {type(client).__name__}, not an ActivitySmith client or a Dispatcher"
            )
        return client

    def _dispatcher(self, client: Any) -> Any:
        from ..delivery.dispatcher import dispatcher_for

        dispatcher = client if hasattr(client, "update_stream") else dispatcher_for(client)
        if self.update_policy is not None:
            dispatcher.policy = self.update_policy
        return dispatcher

    def describe_file(self, filename: str) -> str | None:
        """How a push names a file of this shell ("Cell In[3]")."""
        try:
            label = self._shell.compile.format_code_name(filename)
        except Exception:
            return None
        return " ".join(label) if label else None

    # -- %%activitysmith_progress --------------------------------------------------------------
    @magic_arguments()
    @argument("-k", "--key", dest="stream_key", help=f"Stream key, {STREAM_KEY_RULE}; default from the title.")
    @argument("-t", "--title", help="Title; default: the notebook's name, else the cell's first comment.")
    @argument("-s", "--subtitle", help="Fixed subtitle (default: bar / step / elapsed time).")
    @argument("--type", dest="type", help="progress (default; segmented_progress with --steps), segmented_progress (needs --steps) or stats (count, metrics, ETA).")
    @argument("--steps", type=int, help="Number of steps: segmented_progress, one segment per step (--type progress: the bar moves by step/N).")
    @argument("-n", "--notify", help="Push when the cell ends: always (default), failure, never.")
    @argument("-c", "--channels", help="Comma-separated channel slugs.")
    @argument("--color", help="Accent color while running: " + ", ".join(COLORS) + ".")
    @argument("--no-bars", action="store_true", help="Do not mirror tqdm bars.")
    @argument("--client", help="Name of a variable holding the ActivitySmith client to use.")
    @argument("--stall-after", type=float, help="Seconds without progress before one push (default 600; 0: off).")
    @line_cell_magic
    def activitysmith_progress(self, line: str = "", cell: str | None = None) -> None:
        """Show this cell on the iPhone as a Live Activity while it runs, then its outcome.

        Put it on the first line of a cell; with no options it just works.

        The activity starts when the cell starts (requests go out in the background). While the cell
        runs, the outermost tqdm bar drives it; without a bar, ``current_activity().step("label")`` /
        ``.update(percentage=...)`` do; otherwise the subtitle shows the elapsed time. When the cell
        ends: a "done" state (and a push "✅ <title> finished in 3m 12s"), or a failure state and a
        push with the exception and the last line of your code, or "interrupted" on Ctrl-C. The cell
        itself behaves exactly as without the magic (await, !cmd, %magics, display, errors).

        Defaults come from ``%config ActivitySmithMagics`` and the environment
        (ACTIVITYSMITH_NOTIFY, ACTIVITYSMITH_CHANNELS, ACTIVITYSMITH_COLOR).
        As a line magic, ``%activitysmith_progress [options]`` tracks the rest of the current cell.
        """
        options, bars = self._resolve(line)
        if cell is None:
            self._begin(options, bars)
        else:
            self._run_nested(options, bars, cell)

    def _parse(self, line: str) -> Any:
        args = self._parsed.get(line)
        if args is not None:
            return args
        try:  # posix splitting: quotes group words and are removed (-t "My run")
            argv = arg_split(line, posix=True)
        except ValueError as exc:
            raise UsageError(f"cannot read the options {line!r}: {exc}") from None
        parser = getattr(ActivitySmithMagics.activitysmith_progress, "parser")
        check_option_names(parser, argv)
        args = parser.parse_args(argv)
        _remember(self._parsed, line, args)
        return args

    def _resolve(self, line: str) -> tuple[RunOptions, BarSettings]:
        """The options of a ``%%activitysmith_progress`` line, over %config and the environment."""
        args = self._parse(line)
        shell = self._shell
        current = getattr(shell.displayhook, "exec_result", None)
        raw = getattr(getattr(current, "info", None), "raw_cell", None) or ""
        count = getattr(current, "execution_count", None) or shell.execution_count
        title = args.title if args.title is not None else derive_title(raw, shell.user_ns, os.environ, count)
        subtitle = args.subtitle
        if subtitle is None and args.title is None and notebook_name(shell.user_ns, os.environ):
            subtitle = first_comment(raw)  # notebook name as title: the cell's comment below it
        if args.steps is not None and args.steps < 1:
            raise UsageError("--steps must be at least 1")
        if args.type is not None and args.type.strip().lower() == "segmented_progress" and args.steps is None:
            raise UsageError("--type segmented_progress needs --steps N")
        if args.channels is not None and not split_channels(args.channels):
            raise UsageError("--channels needs at least one channel slug")
        options = self.run_options(
            title=title, key=args.stream_key, subtitle=subtitle, type=args.type, steps=args.steps,
            notify=args.notify, color=args.color, channels=args.channels, stall_after=args.stall_after,
            client=args.client)
        return options, self.bar_settings(mirror=not args.no_bars)

    def run_options(self, *, title: str, key: str | None = None, subtitle: str | None = None,
                    type: str | None = None, steps: int | None = None, notify: str | None = None,  # noqa: A002
                    color: str | None = None, channels: str | None = None, stall_after: float | None = None,
                    client: str | None = None) -> RunOptions:
        """One activity's `RunOptions`: each given option over ``%config ActivitySmithMagics`` over the
        environment over the default, checked once (a mistake is a UsageError naming the option).
        Used by the magic and by auto mode."""
        title = title.strip()
        if not title:
            raise UsageError("--title must not be empty")
        if key is None:
            key = "nb-" + stream_key_from(title.lower(), default="cell", max_length=48)
        kind = _choice(type, TYPES, "--type") if type is not None else None
        colors = (("completed", self.success_color), ("failed", self.failure_color),
                  ("interrupted", self.interrupt_color), ("stopped", self.interrupt_color),
                  ("terminated", self.failure_color), ("killed", self.failure_color))
        fields: dict[str, Any] = dict(
            title=title, key=key, subtitle=subtitle, type=kind, steps=steps,
            notify=_choice(self._setting(notify, "notify", ENV_NOTIFY, "always"), NOTIFY, "notify"),
            color=_choice(self._setting(color, "color", ENV_COLOR, "blue"), COLORS, "color"),
            channels=self._channels(channels), colors=colors, elapsed_updates=self.elapsed_updates,
            stall_after=stall_after_option(stall_after, self.stall_after),
            dispatcher=self._dispatcher(self._client(client)))
        identity = tuple(fields.values())  # strings, numbers, tuples, the dispatcher object
        try:
            options = self._checked.get(identity)
        except TypeError:  # an unhashable value from %config: checked every time
            return _checked_options(fields)
        if options is None:
            options = _checked_options(fields)
            _remember(self._checked, identity, options)
        return options

    def bar_settings(self, *, mirror: bool = True) -> BarSettings:
        """How a cell follows its tqdm bars (``%config`` mirror_bars, bar_interval)."""
        return BarSettings(mirror=self.mirror_bars and mirror, interval=self.bar_interval)

    def _new_activity(self, options: RunOptions, bars: BarSettings) -> CellActivity:
        return CellActivity(options, bars=bars, describe_file=self.describe_file)

    def _begin(self, options: RunOptions, bars: BarSettings) -> CellActivity:
        activity = self._new_activity(options, bars)
        entry = (max(self._depth, 1), getattr(self._shell.displayhook, "exec_result", None), activity)
        self._open.append(entry)  # first: a Ctrl-C during start() still gets its end at post_execute
        try:
            activity.start()
        except Exception:
            self._open.remove(entry)
            raise
        return activity

    def _run_nested(self, options: RunOptions, bars: BarSettings, cell: str) -> None:
        """Fallback for a direct ``run_cell_magic`` call (the transformer handles real cells)."""
        activity = self._new_activity(options, bars).start()
        result = None
        try:
            result = self._shell.run_cell(cell, store_history=False)
        except BaseException as exc:
            activity.end(outcome_for(exc), error=exc)
            raise
        error = result.error_before_exec or result.error_in_exec
        activity.end(outcome_for(error), error=error)
        if error is not None:
            raise error
        return None

    # -- cell boundaries (events) ---------------------------------------------------------------
    def _pre_execute(self) -> None:
        self._depth += 1

    def _post_execute(self) -> None:
        result = getattr(self.shell, "last_execution_result", None)
        raw = getattr(getattr(result, "info", None), "raw_cell", None)
        if result is not None and raw is not None and not raw.strip():
            return  # an empty cell: IPython fires post_execute without pre_execute
        depth = self._depth
        self._depth = max(0, depth - 1)
        keep: list[tuple[int, Any, CellActivity]] = []
        for entry in self._open:
            level, exec_result, activity = entry
            if level < depth:
                keep.append(entry)
                continue
            try:
                if exec_result is not None and result is not exec_result:
                    activity.end("interrupted")  # the cell never completed (e.g. cancelled)
                else:
                    error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
                    activity.end(outcome_for(error), error=error)
            except Exception as exc:  # an event callback must never raise
                log.warning("ending the activity %s failed: %s", activity.stream_key, exc)
        self._open = keep

    # -- %activitysmith ---------------------------------------------------------------------------
    @line_magic
    def activitysmith(self, line: str = "") -> None:
        """ActivitySmith from the notebook (``%activitysmith`` alone: this help).

        Usage:

            %activitysmith status          simulator or live, base URL, masked key and its source, auto mode, counts, last error
            %activitysmith notify "text"   a quick push notification ("text" is its title)
            %activitysmith monitor on|off  this kernel's CPU, memory (and GPU) as a Live Activity
            %activitysmith auto on [--after S] | off   auto mode: cells past S s (default 30) are activities
        """
        command, rest = (line.split(None, 1) + ["", ""])[:2]
        rest = rest.strip()
        if not command or command in ("help", "-h", "--help"):
            print(inspect.cleandoc(ActivitySmithMagics.activitysmith.__doc__ or ""))
            return
        if command == "status":
            if rest:
                raise UsageError("%activitysmith status takes no arguments")
            print(self._status())
            return
        if command == "notify":
            text = notify_text(rest)
            if not text:
                raise UsageError('%activitysmith notify needs a text, e.g. %activitysmith notify "done"')
            request: dict[str, Any] = {"title": text}
            channels = self._channels(None)
            if channels:
                request["channels"] = list(channels)
            self._dispatcher(self._client(None)).push(request)
            print(f"queued push: {text}")
            return
        if command in ("auto", "monitor"):  # each lives in its own module
            return print(auto_command(self, rest) if command == "auto" else monitor_command(rest, self._dispatcher(self._client(None))))
        raise UsageError(f"unknown %activitysmith command {command!r}; use status, notify, auto, monitor or no argument")

    def _status(self) -> str:
        dispatcher = self._dispatcher(self._client(None))
        client = getattr(dispatcher, "client", None)
        mode = getattr(client, "mode", "?")
        lines = [
            f"mode:       {mode}" + (" (embedded simulator, nothing leaves this machine)" if mode == "simulator" else ""),
            f"base URL:   {getattr(client, 'base_url', '?')}",
            f"API key:    {masked_key(client)}",
            f"links:      {describe_links(links_here(), in_kernel=kernel_id() is not None)}",
        ]
        lines += [f"auto mode:  {self.auto_mode.describe().removeprefix('auto mode: ')}"] if self.auto_mode is not None else []
        stats = getattr(dispatcher, "stats", None)
        if stats is not None:
            names = ("pending", "sent", "failed", "coalesced", "retried")
            lines.append("requests:   " + ", ".join(f"{n} {getattr(stats, n)}" for n in names if hasattr(stats, n)))
        error = getattr(dispatcher, "last_error", None)
        lines.append(f"last error: {one_line(error) if error is not None else 'none'}")
        lines += getattr(dispatcher, "status_lines", list)()  # a refused key (401), starts waiting for a slot
        lines += status_lines(client)  # no key: how to watch the embedded simulator, what to set
        open_now = [a.stream_key for _, _, a in self._open]
        if open_now:
            lines.append("running:    " + ", ".join(open_now))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# extension entry points


def _loaded(shell: Any) -> ActivitySmithMagics | None:
    found = shell.magics_manager.registry.get(ActivitySmithMagics.__name__)
    return found if isinstance(found, ActivitySmithMagics) else None


def load_ipython_extension(shell: Any) -> None:
    """Register the magics, their config, the cell transformer and the cell-end event (idempotent)."""
    if _loaded(shell) is not None:
        return
    magics = ActivitySmithMagics(shell=shell)  # Magics.__init__ adds it to shell.configurables
    shell.register_magics(magics)
    shell.input_transformers_cleanup.append(transform_progress_cell)
    shell.events.register("pre_execute", magics._pre_execute)
    shell.events.register("post_execute", magics._post_execute)
    install_auto(shell, magics)
    install_notice(shell)


def unload_ipython_extension(shell: Any) -> None:
    """Undo :func:`load_ipython_extension`; activities still open are ended as interrupted."""
    magics = _loaded(shell)
    if magics is None:
        return
    uninstall_auto(shell, magics)
    uninstall_notice(shell)
    for _, _, activity in magics._open:
        activity.end("interrupted")
    magics._open = []
    for event, callback in (("pre_execute", magics._pre_execute), ("post_execute", magics._post_execute)):
        try:
            shell.events.unregister(event, callback)
        except ValueError:
            pass
    while transform_progress_cell in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(transform_progress_cell)
    mm = shell.magics_manager
    for kind, names in (("line", ("activitysmith", MAGIC)), ("cell", (MAGIC,))):
        for name in names:
            mm.magics[kind].pop(name, None)
    mm.registry.pop(ActivitySmithMagics.__name__, None)
    if magics in shell.configurables:
        shell.configurables.remove(magics)
