"""`activitysmith run -- CMD`: real commands, real signals, a real terminal for Ctrl-C."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_helpers import ROOT, SECRET, child_env, ended, pushes, script

from activitysmith_jupyter.command.run import StderrTail, default_title, exit_outcome

ACTIVITYSMITH = shutil.which("activitysmith")
PROGRAMS = [[sys.executable, "-m", "activitysmith_jupyter"]] + ([[ACTIVITYSMITH]] if ACTIVITYSMITH else [])


def run(env, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("timeout", 60)
    # a session of its own: no controlling terminal, as under cron, SLURM or CI
    return subprocess.run([sys.executable, "-m", "activitysmith_jupyter", "run", *args], env=env,
                          capture_output=True, text=True, start_new_session=True, **kwargs)


CHILD = """
    import sys, time
    from tqdm import tqdm
    for i in tqdm(range(30), desc="train"):
        time.sleep(0.04)
    print("disk full on /scratch", file=sys.stderr)
    sys.exit(int(sys.argv[1]))
"""


def test_success_returns_0_and_a_python_childs_tqdm_bar_drove_the_activity(server, sim, tmp_path) -> None:
    child = script(tmp_path, CHILD)
    done = run(child_env(server), "-t", "Train", "--", sys.executable, str(child), "0")
    assert done.returncode == 0, done.stderr
    cs = ended(sim, "Train")["content_state"]
    assert cs["percentage"] == 100 and cs["subtitle"].startswith("Done · 30/30 in ")
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Train finished in ") and push["message"] == "30/30"


def test_failure_returns_the_childs_status_and_the_push_has_the_stderr_tail(server, sim, tmp_path) -> None:
    child = script(tmp_path, CHILD)
    done = run(child_env(server), "-k", "train-7", "--", sys.executable, str(child), "3")
    assert done.returncode == 3
    assert "disk full on /scratch" in done.stderr  # still passed through to the user's terminal
    cs = ended(sim, "train-7")["content_state"]
    assert cs["color"] == "red" and "exit 3" in cs["subtitle"] and "Failed at" in cs["subtitle"]
    [push] = pushes(sim)
    assert push["title"].startswith(f"❌ {default_title([sys.executable, str(child), '3'])} failed after")
    assert push["message"].startswith("exit 3\n") and push["message"].endswith("disk full on /scratch")


def test_notify_failure_sends_no_push_for_a_success(server, sim) -> None:
    done = run(child_env(server), "--notify", "failure", "-k", "quiet", "--", "true")
    assert done.returncode == 0
    assert ended(sim, "quiet")["content_state"]["subtitle"].startswith("Done in")
    assert pushes(sim) == []


def test_a_command_that_does_not_exist_fails_with_127(server, sim) -> None:
    done = run(child_env(server), "-k", "missing", "--", "no-such-program-xyz")
    assert done.returncode == 127 and "no-such-program-xyz" in done.stderr
    assert ended(sim, "missing")["content_state"]["color"] == "red"


@pytest.mark.parametrize(("sig", "outcome"), [(signal.SIGTERM, "Terminated"), (signal.SIGINT, "Interrupted")],
                         ids=["SIGTERM", "SIGINT"])
def test_signals_are_forwarded_and_the_childs_death_is_ours(server, sim, tmp_path, sig, outcome) -> None:
    child = script(tmp_path, """
        import time
        print("child ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-m", "activitysmith_jupyter", "run", "-k", "sleeper", "--",
                             sys.executable, str(child)], env=child_env(server), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "child ready"
    sent = time.monotonic()
    proc.send_signal(sig)  # to `activitysmith run` only, as `kill PID` or SLURM would
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -sig, err  # the child died of it, and so did we, after the closing sends
    assert time.monotonic() - sent < 5.5
    cs = ended(sim, "sleeper")["content_state"]
    assert cs["subtitle"].startswith(outcome)
    assert pushes(sim)[0]["title"].split()[0] in ("🛑", "⏹️")


def test_a_child_that_handles_sigterm_and_exits_0_completed(server, sim, tmp_path) -> None:
    child = script(tmp_path, """
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))  # a graceful shutdown
        print("child ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-m", "activitysmith_jupyter", "run", "-k", "graceful", "--",
                             sys.executable, str(child)], env=child_env(server), stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "child ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert ended(sim, "graceful")["content_state"]["subtitle"].startswith("Done in")  # the child's word, not ours


def test_ctrl_c_in_a_real_terminal_reaches_the_child_once(server, sim, tmp_path) -> None:
    pexpect = pytest.importorskip("pexpect")
    marker = tmp_path / "sigints"
    child = script(tmp_path, f"""
        import signal, sys, time
        count = 0
        def on_int(signum, frame):
            global count
            count += 1
        signal.signal(signal.SIGINT, on_int)
        print("child ready", flush=True)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            time.sleep(0.05)
        open({str(marker)!r}, "w").write(str(count))
        sys.exit(130 if count else 0)
    """)
    term = pexpect.spawn(sys.executable, ["-m", "activitysmith_jupyter", "run", "-k", "tty", "--",
                                          sys.executable, str(child)], env=child_env(server), timeout=30)
    term.expect("child ready")
    term.sendintr()  # Ctrl-C: the terminal signals the whole foreground process group
    term.expect(pexpect.EOF)
    term.close()
    assert marker.read_text() == "1"  # not twice: we did not forward what the terminal already sent
    assert term.exitstatus == 130
    assert ended(sim, "tty")["content_state"]["subtitle"].startswith("Interrupted")


def test_the_api_key_is_in_no_command_line_and_no_variable_we_add(server, sim, tmp_path) -> None:
    child = script(tmp_path, """
        import os
        print(open("/proc/self/cmdline", "rb").read().replace(b"\\0", b" ").decode())
        print(open(f"/proc/{os.getppid()}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
        print(os.environ["ACTIVITYSMITH_RUN_REPORT"], os.environ["PYTHONPATH"])
    """)
    done = run(child_env(server), "--", sys.executable, str(child))
    assert done.returncode == 0, done.stderr
    assert "activitysmith_jupyter run" in done.stdout and SECRET not in done.stdout + done.stderr


def test_a_users_own_sitecustomize_still_runs_and_bad_pipes_are_ignored(tmp_path) -> None:
    mine = tmp_path / "site"
    mine.mkdir()
    (mine / "sitecustomize.py").write_text("import os\nos.environ['USER_SITE_RAN'] = '1'\n")
    child = script(tmp_path, """
        import os, sys
        from tqdm import tqdm
        for _ in tqdm(range(3), file=sys.stderr):
            pass
        print(os.environ.get("USER_SITE_RAN"))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "activitysmith_jupyter" / "_child"), str(mine)]),
           "ACTIVITYSMITH_RUN_REPORT": f"1:{os.fstat(0).st_ino + 1}"}  # stdout is no inherited report pipe
    done = subprocess.run([sys.executable, str(child)], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout == "1\n", done.stdout  # nothing written to the wrong descriptor


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: "console-script" if p[0] == ACTIVITYSMITH else "python-m")
def test_help_names_the_program_as_it_was_called(program) -> None:
    name = "activitysmith" if program[0] == ACTIVITYSMITH else "python -m activitysmith_jupyter"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for sub in ("run", "simulator"):
        out = subprocess.run([*program, sub, "--help"], capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0 and out.stdout.startswith(f"usage: {name} {sub} "), out.stdout


def test_a_bad_key_is_refused_before_anything_is_sent_or_run(server, sim, tmp_path) -> None:
    marker = tmp_path / "ran"
    done = run(child_env(server), "-k", "not a key", "--", "touch", str(marker))
    assert done.returncode == 2 and "key" in done.stderr
    assert not marker.exists() and sim.requests == []


@pytest.mark.parametrize(("status", "forwarded", "expected"), [
    (0, None, ("completed", None)),
    (2, None, ("failed", "exit 2")),
    (-signal.SIGKILL, None, ("killed", "SIGKILL")),
    (-signal.SIGTERM, None, ("terminated", "SIGTERM")),
    (143, None, ("terminated", "exit 143")),
    (1, signal.SIGTERM, ("terminated", "exit 1")),
    (-signal.SIGINT, None, ("interrupted", "SIGINT")),
    (-signal.SIGSEGV, None, ("failed", "SIGSEGV")),
], ids=["ok", "exit-2", "killed", "sigterm", "exit-143", "exit-after-forwarded-term", "sigint", "segv"])
def test_exit_outcome(status, forwarded, expected) -> None:
    assert exit_outcome(status, forwarded=forwarded) == expected


def test_stderr_tail_shows_what_the_terminal_shows() -> None:
    read, write = os.pipe()
    sink = open(os.devnull, "wb")
    tail = StderrTail(os.fdopen(read, "rb"), sink).start()
    os.write(write, b"\x1b[31mred line\x1b[0m\n 10%|#   \r 50%|#####   \r100%|##########\n-------\nlast\n")
    os.close(write)
    tail.join(5)
    sink.close()
    assert tail.lines() == ["red line", "100%|##########", "last"]


def test_default_title_is_the_command_line_cut_short() -> None:
    assert default_title(["/usr/bin/python3", "train.py", "--epochs", "3"]) == "python3 train.py --epochs 3"
    assert len(default_title(["x"] * 100)) == 60


def test_the_bar_pipe_closes_its_write_end_once_so_a_reused_descriptor_survives() -> None:
    from activitysmith_jupyter.command.child_bars import BarPipe

    pipe = BarPipe(lambda fields: None)
    closed_number = pipe.write_fd
    pipe.close_write_end()
    r, w = os.pipe()  # the lowest free numbers: the one just closed among them
    assert closed_number in (r, w)
    pipe.stop()
    os.fstat(r), os.fstat(w)  # both still open (a double close took the dispatcher's socket once)
    os.close(r), os.close(w)


def test_the_first_process_with_a_live_bar_drives() -> None:
    from activitysmith_jupyter.command.child_bars import BarPipe

    seen: list = []
    pipe = BarPipe(seen.append)
    bar = '{"bar": 1, "n": %d, "total": 10, "desc": "%s:", "unit": "it", "rate": 2.0, "elapsed": 1.0}'
    pipe.feed_line(b'{"pid": 100, "state": %s}' % (bar % (3, "main")).encode())
    pipe.feed_line(b'{"pid": 200, "state": %s}' % (bar % (7, "worker")).encode())  # a worker's bar
    pipe.feed_line(b'{"pid": 100, "state": null}')  # the main bar closed: the worker's drives now
    pipe.feed_line(b"not json")
    pipe.stop()
    assert [(f["description"], f["n"]) if f else None for f in seen] == [("main", 3), ("main", 3), ("worker", 7)]


def test_a_child_that_closes_the_pipe_and_reuses_its_number_never_gets_a_report(server, sim, tmp_path) -> None:
    out = tmp_path / "daemon.log"
    child = script(tmp_path, f"""
        import os, time
        from tqdm import tqdm
        fd = int(os.environ["ACTIVITYSMITH_RUN_REPORT"].split(":")[0])
        bar = tqdm(total=100, file=open(os.devnull, "w"))
        bar.update(10)
        time.sleep(0.8)  # reported over the pipe
        os.close(fd)  # as a daemon closes every descriptor
        log = os.open({str(out)!r}, os.O_WRONLY | os.O_CREAT)  # ... and reuses the number
        assert log == fd
        for _ in range(8):
            bar.update(10)
            time.sleep(0.15)
        bar.close()
        os.close(log)
    """)
    done = run(child_env(server), "-k", "daemon", "--", sys.executable, str(child))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == b""  # not one JSON line in the program's own file
    assert ended(sim, "daemon")["content_state"]["subtitle"].startswith("Done ·")
