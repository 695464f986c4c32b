"""The ``cx`` command: one entry point, one sub-command per module.

Sub-commands are imported lazily so that ``cx synth`` does not pay for the
batch runner's imports and vice versa.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import sys
import threading

from cxlib.errors import CxError

__all__ = ["COMMANDS", "console", "main"]

#: sub-command -> (module, function, one-line help). Each function takes argv.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "synth": ("cxlib.data.synth", "main", "generate the synthetic CX world with planted truth"),
    "run": ("cxlib.run.batch", "main", "run a batch of notebooks over a parameter grid"),
    "report": ("cxlib.run.batch", "report_main", "run the default batch (batches/default.yml)"),
    "render": ("cxlib.share.render", "main", "render an executed notebook: manager brief, PDF"),
    "store": ("cxlib.data.datasets", "store_main",
              "build the partitioned processed store of responses"),
    "map": ("cxlib.data.mapdraft", "main", "draft a mapping and catalog from a survey export"),
    "check": ("cxlib.data.check", "main", "load a dataset and report what the notebooks will see"),
    "datasets": ("cxlib.data.check", "datasets_main", "list the datasets notebooks accept"),
    "survey": ("cxlib.share.survey", "main", "write a questionnaire (XLSForm, HTML), its mapping"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: cx COMMAND [options]\n\ncommands:")
        for name, (_, _, help_) in COMMANDS.items():
            print(f"  {name:<8} {help_}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"cx: unknown command {name!r}; try: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    try:
        fn = getattr(importlib.import_module(module), func)
        return int(fn(rest) or 0)
    except CxError as exc:
        print(f"cx {name}: {exc}", file=sys.stderr)
        return 2


def console() -> None:
    """The installed ``cx`` command: :func:`main`, then a quick exit.

    After ``main`` returns, the exit handlers run (multiprocessing's clean-up,
    the PDF browser's, logging's), the standard streams are flushed, and the
    process ends without tearing down its modules: finalising the ~3000 modules
    a run imports (pandas, pandera, Jinja...) took ~0.25 s at the end of every
    ``cx run`` (issue 17). cxlib writes every file through a context manager or
    an atomic write, so nothing is waiting for that teardown. With another
    non-daemon thread still running, or when ``main`` raises, it exits as usual.
    """
    code = main()
    others = [t for t in threading.enumerate()
              if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if others:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
