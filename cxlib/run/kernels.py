"""Kernels for batch runs: warm (forked from a pre-imported zygote) or plain.

:class:`WarmKernels` starts a zygote (:mod:`cxlib.run.zygote`) that has imported
what the notebooks import, and gives a Jupyter kernel-manager class whose
kernels are forked from it: a fresh process per report, without paying the
imports again. Pass it to papermill (``kernel_manager_class=``); everything
else (execution, timeouts, outputs, errors) is papermill's and nbclient's.

The manager asks the zygote for a kernel over its socket itself (no launcher
process per report) and holds the connection as the kernel's "process"
(:class:`ZygoteKernel`: ``pid``, ``poll``, ``wait``, ``send_signal``, ``kill``,
as ``subprocess.Popen``): the zygote answers the kernel's exit code and
closes it when the kernel exits, and kills the kernel when the connection
closes (the worker died). A kernel killed at shutdown is done at once: no
polling for its end (SIGKILL cannot be caught; the zygote reaps it).

The client's start-up handshake waits for what it needs, not for fixed
silences: its sockets retry connecting every 5 ms instead of ZMQ's 100 ms (the
forked kernel binds ~40 ms after the client connects), and ``wait_for_ready``
ends at the idle status of its ``kernel_info`` request instead of after 0.2 s
without IOPub messages (:func:`_ready_client`). Papermill writes the output
notebook once, at the end (:func:`papermill_engine`). Together with the
zygote's learning and warm-up (:mod:`cxlib.run.zygote`), a trivial notebook's
job went from ~0.69 s to ~0.12 s (``benchmarks/profile_warm_kernel.py``).

Kernels talk over the ``ipc`` transport (Unix sockets, one private folder per
kernel): parallel kernel starts over TCP occasionally collide on ports, ipc
paths never do.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [  # noqa: F822 - ZygotePlugin is built on first use (module __getattr__)
    "SKIPPED_IMPORTS", "WarmKernels", "ZygoteKernel", "ZygotePlugin", "close_all",
    "ipc_kernel_manager", "notebook_imports", "papermill_engine", "skip_slow_optional_imports",
    "warm_kernels", "zygote_manager_class",
]

#: Always preloaded when the notebooks import them (the heavy part of a report).
BASE_PRELOAD = ("numpy", "pandas", "matplotlib.pyplot", "matplotlib_inline.backend_inline")


#: Optional imports that cost a second and buy a batch run nothing: jsonschema
#: (under nbformat) imports ``rfc3987_syntax`` when installed (jupyterlab pulls it
#: in), which builds a parser at import, only to check "iri" formats that
#: notebook validation never uses.
SKIPPED_IMPORTS = ("rfc3987_syntax",)


def skip_slow_optional_imports() -> None:
    """Make :data:`SKIPPED_IMPORTS` unavailable in this process (unless already imported).

    Called by batch worker processes before they import papermill; an import of
    a skipped module raises ``ImportError``, which its optional importers expect.
    """
    for name in SKIPPED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


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


_READY_CLIENT: list[type] = []


def _ready_client() -> type:
    """jupyter_client's async kernel client, without the 0.2 s of silence it waits for.

    Its ``wait_for_ready`` ends by reading IOPub until nothing came for 0.2 s, a
    fixed 0.2 s per kernel, to drop the status messages of its ``kernel_info``
    requests, and waits 0.2 s more when the subscription came after them. Here it
    waits for exactly what it needs: IOPub connected (the kernel's
    ``iopub_welcome``, or a status of one of its requests) and the ``idle``
    status of its last ``kernel_info`` request, which ends that request's
    messages (nbclient also ignores messages whose parent is not the cell it
    runs); when the subscription came late, it asks once more. The rest
    (retries, "Kernel died before replying to kernel_info", timeouts) is as
    upstream.
    """
    if _READY_CLIENT:
        return _READY_CLIENT[0]
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.time() + (float("inf") if timeout is None else timeout)
            sent: list[str] = []
            idle: set[str] = set()
            connected = False  # IOPub's welcome or one of our statuses came through
            while True:
                sent.append(self.kernel_info())
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    end = time.monotonic() + 0.2
                    while not (connected and sent[-1] in idle) and time.monotonic() < end:
                        try:
                            io = await self.iopub_channel.get_msg(
                                timeout=max(0.0, end - time.monotonic()))
                        except Empty:
                            break
                        parent = (io.get("parent_header") or {}).get("msg_id")
                        if io["msg_type"] == "iopub_welcome":
                            connected = True
                        elif io["msg_type"] == "status" and parent in sent:
                            connected = True
                            if io["content"].get("execution_state") == "idle":
                                idle.add(parent)
                    if connected and sent[-1] in idle:
                        self._handle_kernel_info_reply(msg)
                        return
                    # subscribed after the statuses went out: ask again, now they arrive
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.time() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

        wait_for_ready = _async_wait_for_ready  # AsyncKernelClient binds it at class creation

        def start_channels(self, *args: Any, **kwargs: Any) -> None:
            # The client connects before the forked kernel has bound its sockets; ZMQ then
            # retries every 100 ms by default, which a kernel ready in 40 ms pays in full
            import zmq

            self.context.setsockopt(zmq.RECONNECT_IVL, 5)
            super().start_channels(*args, **kwargs)

    _READY_CLIENT.append(ReadyClient)
    return ReadyClient


def _ipc_manager_base() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        """An ordinary kernel manager on the ``ipc`` transport, private socket folder."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._ipc_dir = tempfile.mkdtemp(prefix="cxk-")
            self.transport = "ipc"
            self.ip = os.path.join(self._ipc_dir, "k")
            self.client_factory = _ready_client()

        async def cleanup_resources(self, restart: bool = False) -> None:
            await super().cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

    return IpcKernelManager


class ZygoteKernel:
    """A kernel forked by the zygote, seen through its connection like a ``Popen``.

    Parameters
    ----------
    conn
        The connected socket the zygote answered ``{"pid": PID}`` on.
    pid
        The kernel's process id (the leader of its own process group).
    """

    stdin = stdout = stderr = None

    def __init__(self, conn: Any, pid: int) -> None:
        self._conn = conn
        self.pid = pid
        self.returncode: int | None = None
        self._buf = b""

    def _closed(self, code: int) -> int:
        self.returncode = code
        with contextlib.suppress(OSError):
            self._conn.close()
        return code

    def _read(self, block: bool) -> int | None:
        import socket

        if self.returncode is not None:
            return self.returncode
        try:
            self._conn.setblocking(block)
            data = self._conn.recv(4096) if block else self._conn.recv(4096, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data = b""
        if data:
            self._buf += data
            for line in self._buf.split(b"\n"):
                with contextlib.suppress(ValueError):
                    msg = json.loads(line)
                    if isinstance(msg, dict) and "exit" in msg:
                        return self._closed(int(msg["exit"]))
            return self._read(block) if block else None
        # EOF without an exit code: the zygote died; its kernel must not outlive it
        self._signal(signal.SIGKILL)
        return self._closed(-signal.SIGKILL)

    def poll(self) -> int | None:
        return self._read(block=False)

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._conn.settimeout(timeout)
            try:
                self._read(block=True)
            except TimeoutError:
                import subprocess

                raise subprocess.TimeoutExpired("kernel", timeout or 0) from None
        assert self.returncode is not None
        return self.returncode

    def _signal(self, signum: int) -> None:
        for fn in (os.killpg, os.kill):
            try:
                fn(self.pid, signum)
                return
            except OSError:
                continue

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            self._signal(signum)
            if signum == signal.SIGKILL:  # cannot be caught: the kernel is gone
                self._closed(-signal.SIGKILL)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


async def _ask_zygote(sock_path: str, request: dict[str, Any], timeout: float) -> ZygoteKernel:
    """Connect to the zygote, send one kernel request, return the forked kernel."""
    import asyncio
    import socket

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.setblocking(False)
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + timeout
    while True:
        try:
            await loop.sock_connect(conn, sock_path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                conn.close()
                raise RuntimeError(f"Kernel died before replying to kernel_info: no kernel "
                                   f"zygote at {sock_path}") from None
            await asyncio.sleep(0.01)
    await loop.sock_sendall(conn, json.dumps(request).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = await asyncio.wait_for(loop.sock_recv(conn, 4096),
                                       max(0.1, deadline - time.monotonic()))
        if not chunk:
            conn.close()
            raise RuntimeError("Kernel died before replying to kernel_info: the kernel "
                               "zygote closed the connection")
        buf += chunk
    return ZygoteKernel(conn, int(json.loads(buf.splitlines()[0])["pid"]))


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
        self.manager_class = zygote_manager_class(self.socket_path)
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


def zygote_manager_class(sock: str) -> type:
    """A kernel-manager class whose kernels are forked by the zygote listening on ``sock``.

    :meth:`WarmKernels.start` uses it for its own zygote; a worker of the local
    pool uses it for the pool's one zygote (:class:`cxlib.run.workers.LocalPool`),
    whose socket path comes with each job.
    """
    base = _ipc_manager_base()

    class WarmKernelManager(base):  # type: ignore[misc, valid-type]
        """Kernels forked from the zygote (see :mod:`cxlib.run.zygote`)."""

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            prov = self.provisioner
            env = kw.get("env") or dict(os.environ)
            request = {"connection_file": os.path.realpath(self.connection_file),
                       "cwd": str(kw.get("cwd") or os.getcwd()), "env": env}
            kernel = await _ask_zygote(sock, request, timeout=120.0)
            # pgid None: signals go through the kernel object, which knows that a
            # SIGKILL ends it (no polling for the end of a killed kernel)
            prov.process, prov.pid, prov.pgid = kernel, kernel.pid, None
            prov.cwd = request["cwd"]
            self._reconcile_connection_info(prov.connection_info)

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

    return WarmKernelManager


ENGINE = "cx-final-save"


def papermill_engine() -> str:
    """Register (once per process) and name a papermill engine that writes the output
    notebook once, when the notebook ends (also when it fails or its kernel dies),
    instead of after every cell: in a batch nobody reads the partial file, and the
    per-cell writes cost a report tens of milliseconds."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.exceptions import PapermillException

    with contextlib.suppress(PapermillException):
        papermill_engines.get_engine(ENGINE)
        return ENGINE

    class FinalSaveManager(NotebookExecutionManager):
        final = False

        def save(self, **kwargs: Any) -> None:
            if self.final:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs: Any) -> None:
            self.final = True  # papermill calls this in a `finally`: the file is always written
            super().notebook_complete(**kwargs)

    class FinalSaveEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, output_path: str | None = None,
                             progress_bar: bool = True, log_output: bool = False,
                             autosave_cell_every: int = 30, **kwargs: Any) -> Any:
            nb_man = FinalSaveManager(nb, output_path=output_path, progress_bar=progress_bar,
                                      log_output=log_output,
                                      autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(ENGINE, FinalSaveEngine)
    return ENGINE


_ZYGOTES: dict[tuple[str, ...], WarmKernels] = {}
_ZYGOTES_LOCK = threading.Lock()


def warm_kernels(preload: Iterable[str] = ()) -> WarmKernels:
    """This process's zygote for ``preload``, started (not waited for) when missing or dead.

    One per process and preload list: a worker of ``cx run`` or a Dask worker
    keeps it for every job it runs; :func:`close_all` ends them.
    """
    key = tuple(preload)
    with _ZYGOTES_LOCK:
        warm = _ZYGOTES.get(key)
        if warm is None or not warm.alive():
            if warm is not None:
                warm.close()
            warm = _ZYGOTES[key] = WarmKernels(key).start()
        return warm


def close_all() -> None:
    """End every zygote this process started (and so their kernels)."""
    with _ZYGOTES_LOCK:
        for warm in _ZYGOTES.values():
            warm.close()
        _ZYGOTES.clear()


def _zygote_plugin_class() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    class ZygotePlugin(WorkerPlugin):
        """A Dask worker plugin: each worker starts its zygote when it joins, keeps it
        for every job it runs (:func:`warm_kernels`) and ends it when it leaves.

        ``client.register_plugin(ZygotePlugin(preload))``: the zygote's imports
        then overlap with the scheduler handing out the first jobs instead of
        delaying the worker's first report.
        """

        name = "cx-zygote"
        idempotent = False

        def __init__(self, preload: Iterable[str] = ()) -> None:
            self.preload = tuple(preload)

        def setup(self, worker: Any = None) -> None:
            skip_slow_optional_imports()
            warm_kernels(self.preload)

        def teardown(self, worker: Any = None) -> None:
            close_all()

    ZygotePlugin.__module__ = __name__
    ZygotePlugin.__qualname__ = "ZygotePlugin"
    return ZygotePlugin


def __getattr__(name: str) -> Any:
    # ZygotePlugin subclasses distributed's WorkerPlugin: built on first use, so that
    # importing this module does not import distributed (pickle finds it here by name)
    if name == "ZygotePlugin":
        cls = globals()["ZygotePlugin"] = _zygote_plugin_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def unique_name() -> str:
    return uuid.uuid4().hex[:12]
