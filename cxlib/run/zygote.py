"""Warm kernels: a pre-imported parent that forks one fresh kernel per report.

The cost of a small report is kernel start plus imports (pandas, statsmodels,
seaborn: about 2 s), not the analysis. A *zygote* process pays the imports
once; each report then gets its own kernel process, forked from the zygote in a
few milliseconds, used for that report only and thrown away. Reports stay
isolated (a variable or monkeypatch set by one lives and dies in its own
process) while start-up is paid once per worker.

Two small programs live here, standard library only so that they start fast:

``python -m cxlib.run.zygote serve SOCKET [--preload mod,mod]``
    The zygote. Listens on a Unix socket; for each request (one JSON line:
    ``connection_file``, ``cwd``, ``env``) forks a child that becomes an
    IPython kernel (``ipykernel``) on that connection file, answers
    ``{"pid": PID}`` and, when the kernel exits, ``{"exit": CODE}`` before
    closing the connection. It kills a child whose requester went away, reaps
    children, and exits (killing its children) when its standard input
    closes, i.e. when the process that started it is gone. The batch path
    (:mod:`cxlib.run.kernels`) talks to it directly from the kernel manager:
    no process is started per report besides the kernel itself.

``python -m cxlib.run.zygote kernel SOCKET -f CONNECTION_FILE``
    A kernel command for Jupyter front ends: asks the zygote for a kernel,
    relays interrupts to it and exits when the kernel exits.

What makes a forked kernel cheap, and what keeps it isolated:

- ``gc.freeze()`` after every import in the zygote: a child's garbage
  collector then never walks (and so never copies) the zygote's objects.
- The zygote *learns* what reports import: each kernel reports, after every
  cell, the library modules it imported that the zygote lacks (lazy imports
  inside functions, e.g. pyarrow's Parquet reader or pandera, which no
  ``import`` line of the notebook names); the zygote imports them between
  forks, so the next report finds them loaded. Only modules of the standard
  library, of installed packages and of ``cxlib`` are learned, never a
  notebook's own files; importing them in the zygote is what any kernel
  would do, so a report still sees freshly imported modules and nothing of
  another report's state.
- The zygote draws one throwaway figure (a ``Figure``, not pyplot) so that
  matplotlib's font and text-layout caches are filled before the first fork.
- A forked child reseeds NumPy's global random generator (Python's ``random``
  reseeds itself after ``fork``), so two reports never share random draws.
- ``CX_KERNEL_TRACE=FILE`` makes each kernel append the times of its start-up
  steps to FILE (JSON lines; ``benchmarks/profile_warm_kernel.py`` reads them).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import socket
import sys
import time

__all__ = ["learnable", "relay", "serve"]

_CHILD_ENV_DROP = ("PYTHONSTARTUP",)
_TRACE_ENV = "CX_KERNEL_TRACE"


def _trace(step: str, t0: float | None = None) -> None:
    """Append one start-up step's time to ``$CX_KERNEL_TRACE`` (profiling only)."""
    path = os.environ.get(_TRACE_ENV)
    if path:
        with contextlib.suppress(OSError), open(path, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "step": step, "t": time.time(),
                                 **({"since_fork": time.time() - t0} if t0 else {})}) + "\n")


def _library_roots() -> tuple[str, ...]:
    import sysconfig

    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    cx = sys.modules.get("cxlib")
    if cx is not None and getattr(cx, "__file__", None):
        roots.add(os.path.dirname(os.path.abspath(cx.__file__)))
    return tuple(os.path.join(os.path.abspath(r), "") for r in roots)


def learnable(names: list[str], roots: tuple[str, ...] | None = None) -> list[str]:
    """The modules of ``names`` a zygote may import for later kernels.

    Modules loaded from the standard library, installed packages or ``cxlib``
    (by their file), not ``__main__``, not private test helpers; a notebook's
    own modules (files beside it) are never learned.
    """
    roots = roots or _library_roots()
    keep = []
    for name in names:
        mod = sys.modules.get(name)
        file = getattr(mod, "__file__", None)
        if not file or name == "__main__" or name.startswith(("_pytest", "pytest")):
            continue
        if os.path.abspath(file).startswith(roots):
            keep.append(name)
    return keep


def _report_imports(wfd: int) -> None:
    """In a kernel: after every cell, tell the zygote which library modules were imported."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    known = set(sys.modules)
    roots = _library_roots()
    os.set_blocking(wfd, False)  # a zygote that does not read never blocks a report

    def post_run_cell(*_: object) -> None:
        new = [m for m in list(sys.modules) if m not in known]
        known.update(new)
        names = learnable(new, roots)
        if names:
            with contextlib.suppress(OSError):
                os.write(wfd, ("\n".join(names) + "\n").encode())

    shell.events.register("post_run_cell", post_run_cell)


def _recv_line(conn: socket.socket, limit: int = 1 << 20) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit:
            raise ValueError("request too long")
    return buf


def _preload(modules: list[str]) -> dict[str, str]:
    """Import modules in the zygote; failures are recorded, not raised (the
    kernel will import the module itself and report the error in its cell)."""
    failed: dict[str, str] = {}
    for mod in modules:
        try:
            __import__(mod)
        except BaseException as exc:  # any import failure is the kernel's business
            failed[mod] = f"{type(exc).__name__}: {exc}"
    return failed


def _kernel_init_modules() -> list[str]:
    """Modules that starting a kernel imports (the debugger, completer...), found by
    starting one in a throwaway child, so the zygote imports them once for all."""
    import tempfile

    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            from ipykernel.kernelapp import IPKernelApp

            before = set(sys.modules)
            with tempfile.TemporaryDirectory() as tmp:
                conn = os.path.join(tmp, "probe.json")
                with open(conn, "w") as fh:
                    json.dump({"transport": "ipc", "ip": os.path.join(tmp, "k"), "key": "",
                               "signature_scheme": "hmac-sha256", "shell_port": 1,
                               "iopub_port": 2, "stdin_port": 3, "control_port": 4,
                               "hb_port": 5}, fh)
                app = IPKernelApp.instance()
                app.initialize(["-f", conn, "--HistoryManager.enabled=False",
                                f"--IPKernelApp.parent_handle={os.getppid()}"])
            os.write(wfd, json.dumps(sorted(set(sys.modules) - before)).encode())
        finally:
            os._exit(0)
    os.close(wfd)
    data = b""
    while chunk := os.read(rfd, 65536):
        data += chunk
    os.close(rfd)
    os.waitpid(pid, 0)
    try:
        return [m for m in json.loads(data or b"[]") if not m.startswith("__")]
    except ValueError:
        return []


def _warm_matplotlib() -> None:
    """Draw one throwaway figure (no pyplot state) so that font, text-layout and PNG
    caches are filled once here rather than in every report's first figure."""
    if "matplotlib" not in sys.modules:
        return
    try:
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4, 3))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.barh(["warm", "up"], [1.0, 2.0], label="bars")
        ax.plot([0, 1], [0, 1], label="line")
        ax.set_title("warm-up")
        ax.set_xlabel("x")
        ax.legend()
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    except Exception:  # a warm-up that fails only costs the first figure its speed
        pass


def _become_kernel(request: dict, closing: list[int], learn_fd: int | None = None,
                   t_fork: float | None = None) -> None:
    """In the forked child: turn into an IPython kernel and never return."""
    code = 1
    try:
        _trace("forked", t_fork)
        for fd in closing:
            with contextlib.suppress(OSError):
                os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # the zygote's stdin is its lifeline to the pool, not ours
        os.close(null)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()  # its own process group: the zygote can kill it with its children
        env = {k: v for k, v in request.get("env", {}).items() if k not in _CHILD_ENV_DROP}
        if env:
            os.environ.clear()
            os.environ.update(env)
        os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        if request.get("cwd"):
            os.chdir(request["cwd"])
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
        np = sys.modules.get("numpy")
        if np is not None:  # the zygote's global NumPy generator would repeat in every report
            np.random.seed()
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        # parent_handle: the kernel exits if the zygote dies (ipykernel's parent poller)
        app.initialize(["-f", request["connection_file"], "--HistoryManager.enabled=False",
                        f"--IPKernelApp.parent_handle={os.getppid()}"])
        inline = sys.modules.get("matplotlib_inline.backend_inline")
        if inline is not None:  # imported before this shell existed: hook it up now
            inline._enable_matplotlib_integration()
        if learn_fd is not None:
            _report_imports(learn_fd)
        _trace("initialized", t_fork)
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(sock_path: str, preload: list[str]) -> int:
    """Run the zygote until standard input closes."""
    # Threads must stay at one per process: BLAS pools do not survive fork,
    # and parallel reports already use every core.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(sock_path)
    listener.bind(sock_path)
    listener.listen(64)  # requests queue here while the preload runs
    failed = _preload(["ipykernel.kernelapp", *preload])
    _preload(_kernel_init_modules())
    _warm_matplotlib()
    if failed:
        print(f"zygote: could not preload {failed}", file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()  # children's collectors leave the zygote's objects (and their pages) alone
    learned: dict[str, None] = {}  # modules reports imported, to import before the next fork
    tried: set[str] = set(sys.modules)

    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(rfd, selectors.EVENT_READ, "signal")
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "parent")
    children: dict[int, socket.socket] = {}  # kernel pid -> requester's connection
    learn_fds: dict[int, int] = {}  # kernel pid -> read end of its import reports

    def learn() -> None:
        """Import what kernels reported, while no request waits (one module at a time)."""
        while learned:
            if any(k.data == "accept" for k, _ in sel.select(timeout=0)):
                return
            name = next(iter(learned))
            del learned[name]
            before = threading_count()
            _preload([name])
            if threading_count() > before:  # a thread would not survive fork: stop learning
                print(f"zygote: importing {name} started a thread; learning stopped",
                      file=sys.stderr, flush=True)
                learned.clear()
                tried.update(["*"])
            gc.freeze()

    def kill(pid: int) -> None:
        for fn in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                fn(pid, signal.SIGKILL)

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = children.pop(pid, None)
            drop_learner(pid)
            if conn is not None:
                with contextlib.suppress(KeyError, ValueError):
                    sel.unregister(conn)
                code = os.waitstatus_to_exitcode(status)
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
                conn.close()  # the requester sees EOF: the kernel is gone

    def drop_learner(pid: int) -> None:
        fd = learn_fds.pop(pid, None)
        if fd is not None:
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    running = True
    while running:
        for key, _ in sel.select(timeout=1.0):
            what = key.data
            if what == "parent":
                if not os.read(sys.stdin.fileno(), 4096):
                    running = False
            elif what == "signal":
                os.read(rfd, 4096)
            elif what == "accept":
                conn, _ = listener.accept()
                try:
                    request = json.loads(_recv_line(conn) or b"{}")
                except ValueError:
                    conn.close()
                    continue
                lr, lw = os.pipe() if "*" not in tried else (None, None)
                closing = [listener.fileno(), rfd, wfd, sel.fileno(), conn.fileno(),
                           *(c.fileno() for c in children.values()), *learn_fds.values(),
                           *([lr] if lr is not None else [])]
                t_fork = time.time()
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, closing, lw, t_fork)
                if lw is not None:
                    os.close(lw)
                    os.set_blocking(lr, False)
                    learn_fds[pid] = lr
                    sel.register(lr, selectors.EVENT_READ, ("learn", pid))
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                children[pid] = conn
                sel.register(conn, selectors.EVENT_READ, ("requester", pid))
            elif what[0] == "learn":
                try:
                    data = os.read(key.fileobj, 65536)  # type: ignore[arg-type]
                except OSError:
                    data = b""
                if not data:
                    drop_learner(what[1])
                for name in data.decode(errors="replace").split():
                    if name not in tried and "*" not in tried:
                        tried.add(name)
                        learned[name] = None
            else:  # the requester closed: it was killed or the kernel is unwanted
                pid = what[1]
                try:
                    gone = not key.fileobj.recv(4096)
                except OSError:
                    gone = True
                if gone:
                    sel.unregister(key.fileobj)
                    kill(pid)
        reap()
        learn()
    for pid in list(children):
        kill(pid)
    reap()
    listener.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(sock_path)
    return 0


def threading_count() -> int:
    """Threads of this process (imports that start threads make forking unsafe)."""
    threading = sys.modules.get("threading")
    return threading.active_count() if threading is not None else 1


def relay(sock_path: str, connection_file: str, *, wait: float = 120.0) -> int:
    """Ask the zygote for a kernel and stand in for it until it exits."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + wait
    while True:
        try:
            conn.connect(sock_path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                print(f"cx kernel: no zygote at {sock_path}", file=sys.stderr)
                return 3
            time.sleep(0.02)
    request = {"connection_file": os.path.realpath(connection_file), "cwd": os.getcwd(),
               "env": dict(os.environ)}
    conn.sendall(json.dumps(request).encode() + b"\n")
    reply = _recv_line(conn)
    if not reply:
        print("cx kernel: the zygote closed the connection", file=sys.stderr)
        return 3
    pid = json.loads(reply)["pid"]

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            if not conn.recv(4096):
                return 0
        except InterruptedError:  # pragma: no cover - PEP 475 retries recv
            continue
        except OSError:
            return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 2 and argv[0] == "serve":
        preload: list[str] = []
        if "--preload" in argv:
            preload = [m for m in argv[argv.index("--preload") + 1].split(",") if m]
        return serve(argv[1], preload)
    if len(argv) >= 4 and argv[0] == "kernel" and argv[2] == "-f":
        return relay(argv[1], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main()
    if sys.argv[1:2] == ["serve"]:
        # exit handlers run, then no teardown of ~3000 modules (pandas, scipy...):
        # about 0.1 s the runner waited for at the end of every run (issue 17)
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
