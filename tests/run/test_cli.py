"""The installed ``cx`` command's quick exit (cxlib.cli.console)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _console(body: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent("""
        import atexit, sys, threading, time
        from cxlib import cli
        atexit.register(lambda: print("exit handler ran", flush=False))
        sys.stdout.write("unflushed output")
    """) + textwrap.dedent(body) + "\ncli.console()\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_console_keeps_the_exit_code_runs_exit_handlers_and_flushes():
    out = _console("cli.main = lambda: 3")
    assert out.returncode == 3
    assert out.stdout == "unflushed outputexit handler ran\n", out.stdout
    assert _console("cli.main = lambda: 0").returncode == 0


def test_console_waits_for_a_running_thread_as_a_normal_exit_does():
    out = _console("""
        def late():
            time.sleep(0.5)
            print("thread finished")
        cli.main = lambda: (threading.Thread(target=late).start(), 1)[1]
    """)
    assert out.returncode == 1 and "thread finished" in out.stdout


def test_the_installed_command_reports_an_unknown_command():
    out = subprocess.run([sys.executable, "-c", "from cxlib import cli; cli.console()",
                          "nope"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "unknown command 'nope'" in out.stderr
