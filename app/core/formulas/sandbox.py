"""Run a function in a child process with a time limit, a memory limit and low priority.

Each call forks a fresh child from a `forkserver` (which preloads the given modules once, so a
child starts in milliseconds with SymPy already imported) and waits for its answer with a
timeout; a child past the deadline is killed, so nothing it does can hang the server or hold its
memory. The server's threads and event loop are never forked (forkserver, not fork), and at most
`max_concurrent` children run at once per server process, so a flood of hostile formulas takes
at most that many cores; a caller that cannot get a slot in time gets BusyError.

The time limit counts the child's CPU time (read from /proc where there is one), not the wall
clock: a child that waits for a core on a busy machine has not used its time, and a formula is
judged on its own work. A child still short of its CPU time after WALL_FACTOR × the limit on the
wall clock (and at least WALL_SLACK more) gets SandboxBusy: the machine is the cause.

Works the same under uvicorn with several workers (each has its own forkserver and limit) and in
tests (the forkserver is a child of the test process and exits with it).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

PRELOAD = ["app.core.formulas.sandbox", "app.core.formulas.worker", "app.core.formulas.warmup"]
MEMORY_HEADROOM = 1 << 30  # bytes a child may allocate beyond what it starts with
STARTUP_TIMEOUT = 30.0  # seconds for a child to start (not counted in the time limit)
# A child may take WALL_FACTOR times its CPU time limit on the wall clock, and at least
# WALL_SLACK s more than the limit: 1.5 s for the formulas' 1.2 s, so an answer (the formula's
# verdict, or "busy, retry") still comes within about 2 s on a busy machine.
WALL_FACTOR = 1.25
WALL_SLACK = 0.25
POLL = 0.02  # seconds between two readings of the child's CPU time

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)
_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


class SandboxTimeout(Exception):
    """The child did not answer within the time limit (it was killed)."""


class SandboxBusy(Exception):
    """Every slot stayed taken for the whole wait, or the machine was too busy to give the child
    its CPU time."""


class SandboxCrashed(Exception):
    """The child died without an answer (e.g. it ran out of memory)."""


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far, from /proc; None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    try:  # fields 14 and 15 of stat(5), counted after the ")" that ends the command name
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (IndexError, ValueError):
        return None


def _wait(receiver: Connection, pid: int | None, timeout: float) -> None:
    """Wait for the child's answer: SandboxTimeout once it has used `timeout` s of CPU time (or
    of wall time where CPU time cannot be read), SandboxBusy if the wall clock passes
    the wall limit first (see WALL_FACTOR)."""
    start = time.monotonic()
    wall = max(WALL_FACTOR * timeout, timeout + WALL_SLACK)
    while not receiver.poll(POLL):
        used = cpu_seconds(pid) if pid is not None else None
        waited = time.monotonic() - start
        if used is None:
            if waited >= timeout:
                raise SandboxTimeout(f"no answer within {timeout:g} s")
            continue
        if used >= timeout:
            raise SandboxTimeout(f"no answer within {timeout:g} s of CPU time")
        if waited >= wall:
            raise SandboxBusy(
                f"the analysis got {used:.2g} s of CPU time in {waited:.2g} s: the machine is busy"
            )


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
    `timeout` seconds of the child's CPU time, SandboxBusy when no slot frees up within `wait`
    (default: `timeout`) or the child got too little CPU (see _wait), SandboxCrashed if the
    child dies."""
    if not _SLOTS.acquire(timeout=timeout if wait is None else wait):
        raise SandboxBusy("every formula worker is busy")
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
            _wait(receiver, process.pid, timeout)
            status, payload = receiver.recv()
        except (EOFError, OSError):
            process.join(timeout=5)
            code = process.exitcode
            raise SandboxCrashed(f"the worker process died (exit code {code})") from None
        except (SandboxTimeout, SandboxCrashed, SandboxBusy):
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
