"""Kernels for batch runs: warm (forked from a pre-imported zygote) or plain.

:class:`WarmKernels` starts a zygote (:mod:`cxlib.run.zygote`) that has imported
what the notebooks import, and gives a Jupyter kernel-manager class whose
kernels are forked from it: a fresh process per report, without paying the
imports again. Pass it to papermill (``kernel_manager_class=``); everything
else (execution, timeouts, outputs, errors) is papermill's and nbclient's.

Kernels talk over the ``ipc`` transport (Unix sockets, one private folder per
kernel): parallel kernel starts over TCP occasionally collide on ports, ipc
paths never do.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["WarmKernels", "ipc_kernel_manager", "notebook_imports"]

#: Always preloaded when the notebooks import them (the heavy part of a report).
BASE_PRELOAD = ("numpy", "pandas", "matplotlib.pyplot", "matplotlib_inline.backend_inline")


def notebook_imports(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Modules imported by the code cells of notebooks (``import x``, ``from x import y``).

    Relative imports and cells that do not parse (magics) are skipped.
    """
    import nbformat

    found: dict[str, None] = {}
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            src = "\n".join(ln for ln in cell.source.splitlines()
                            if not ln.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        found[alias.name] = None
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found[node.module] = None
                    for alias in node.names:  # "from cxlib.analysis import drivers"
                        found[f"{node.module}.{alias.name}"] = None
    return list(found)


def _ipc_manager_base() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        """An ordinary kernel manager on the ``ipc`` transport, private socket folder."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._ipc_dir = tempfile.mkdtemp(prefix="cxk-")
            self.transport = "ipc"
            self.ip = os.path.join(self._ipc_dir, "k")

        async def cleanup_resources(self, restart: bool = False) -> None:
            await super().cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

    return IpcKernelManager


def ipc_kernel_manager() -> type:
    """A plain (cold-start) kernel-manager class on the ipc transport."""
    return _ipc_manager_base()


class WarmKernels:
    """A zygote for one worker process, and the kernel-manager class that uses it.

    Parameters
    ----------
    preload
        Modules to import in the zygote (typically :func:`notebook_imports`
        of the batch's notebooks). Modules that fail to import are skipped.

    Use as a context manager, or call :meth:`start` / :meth:`close`. The zygote
    also exits by itself when this process dies (its standard input closes).
    """

    def __init__(self, preload: Iterable[str] = ()) -> None:
        self.preload = [*BASE_PRELOAD, *[m for m in preload if m not in BASE_PRELOAD]]
        self._dir: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.manager_class: type | None = None

    @property
    def socket_path(self) -> str:
        assert self._dir is not None
        return os.path.join(self._dir, "zygote.sock")

    def start(self) -> WarmKernels:
        if self._proc is not None and self._proc.poll() is None:
            return self
        self._dir = tempfile.mkdtemp(prefix="cxz-")
        log = open(os.path.join(self._dir, "zygote.log"), "wb")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "cxlib.run.zygote", "serve", self.socket_path,
             "--preload", ",".join(self.preload)],
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        sock = self.socket_path
        base = _ipc_manager_base()

        class WarmKernelManager(base):  # type: ignore[misc, valid-type]
            """Kernels forked from the zygote (see :mod:`cxlib.run.zygote`)."""

            @property
            def kernel_spec(self) -> Any:
                from jupyter_client.kernelspec import KernelSpec

                if getattr(self, "_warm_spec", None) is None:
                    self._warm_spec = KernelSpec(
                        argv=[sys.executable, "-m", "cxlib.run.zygote", "kernel", sock,
                              "-f", "{connection_file}"],
                        display_name="Python 3 (cx, warm)", language="python",
                        metadata={"debugger": False},
                    )
                return self._warm_spec

        self.manager_class = WarmKernelManager
        return self

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the zygote listens (its preload may still be running)."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.socket_path):
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"the kernel zygote exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError("the kernel zygote did not start")
            time.sleep(0.01)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        if not self._dir:
            return ""
        with contextlib.suppress(OSError):
            return Path(self._dir, "zygote.log").read_text(errors="replace")[-chars:]
        return ""

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()  # the zygote kills its kernels and exits
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> WarmKernels:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def unique_name() -> str:
    return uuid.uuid4().hex[:12]
