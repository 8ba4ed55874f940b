"""Run a function in a child process with a time limit, a memory limit and low priority.

Each call forks a fresh child from a `forkserver` (which preloads the given modules once, so a
child starts in milliseconds with SymPy already imported) and waits for its answer with a
timeout; a child past the deadline is killed, so nothing it does can hang the server or hold its
memory. The server's threads and event loop are never forked (forkserver, not fork), and at most
`max_concurrent` children run at once per server process, so a flood of hostile formulas takes
at most that many cores; a caller that cannot get a slot in time gets BusyError.

Works the same under uvicorn with several workers (each has its own forkserver and limit) and in
tests (the forkserver is a child of the test process and exits with it).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

PRELOAD = ["app.core.formulas.sandbox", "app.core.formulas.worker", "app.core.formulas.warmup"]
MEMORY_HEADROOM = 1 << 30  # bytes a child may allocate beyond what it starts with
STARTUP_TIMEOUT = 30.0  # seconds for a child to start (not counted in the time limit)

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)
_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


class SandboxTimeout(Exception):
    """The child did not answer within the time limit (it was killed)."""


class SandboxBusy(Exception):
    """Every slot stayed taken for the whole wait."""


class SandboxCrashed(Exception):
    """The child died without an answer (e.g. it ran out of memory)."""


def _limit_resources(cpu_seconds: float) -> None:
    try:
        import resource

        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        size = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        cpu = int(cpu_seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    except (ImportError, OSError, ValueError):  # not Linux: the timeout alone still holds
        pass
    try:
        os.nice(10)
    except OSError:
        pass


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], cpu: float) -> None:
    _limit_resources(cpu)
    conn.send(("ready", None))
    try:
        result: tuple[str, Any] = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 — everything goes back to the parent
        result = ("error", exc)
    try:
        conn.send(result)
    except Exception as exc:  # noqa: BLE001 — e.g. an unpicklable result
        conn.send(("error", RuntimeError(f"could not send the result: {exc!r}")))
    conn.close()


def run(fn: Callable[..., Any], *args: Any, timeout: float, wait: float | None = None) -> Any:
    """fn(*args) in a child process: its result, or the exception it raised. SandboxTimeout after
    `timeout` seconds of run time, SandboxBusy when no slot frees up within `wait` (default:
    `timeout`), SandboxCrashed if the child dies."""
    if not _SLOTS.acquire(timeout=timeout if wait is None else wait):
        raise SandboxBusy("every worker is busy")
    try:
        receiver, sender = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=_child, args=(sender, fn, args, timeout), daemon=True)
        process.start()  # the first call also starts the forkserver (imports PRELOAD)
        sender.close()
        try:
            # The clock starts when the child is ready (forked, limits set): the time limit
            # measures the work, not a busy machine's process start-up.
            if not receiver.poll(STARTUP_TIMEOUT):
                raise SandboxCrashed("the worker process did not start")
            receiver.recv()
            if not receiver.poll(timeout):
                raise SandboxTimeout(f"no answer within {timeout:g} s")
            status, payload = receiver.recv()
        except (EOFError, OSError):
            process.join(timeout=5)
            code = process.exitcode
            raise SandboxCrashed(f"the worker process died (exit code {code})") from None
        except (SandboxTimeout, SandboxCrashed):
            raise
        except Exception as exc:  # noqa: BLE001 — the answer could not be unpickled
            raise SandboxCrashed(f"the worker's answer could not be read: {exc!r}") from None
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
    finally:
        _SLOTS.release()
    if status == "error":
        raise payload
    return payload


def start() -> None:
    """Launch the forkserver in the background (it imports PRELOAD) without waiting for it: one
    line in an app's startup saves the first formula about a second."""
    from multiprocessing import forkserver

    forkserver.ensure_running()


def warm_up() -> None:
    """Start the forkserver (it imports PRELOAD) now rather than on the first call."""
    run(os.getpid, timeout=30.0)
