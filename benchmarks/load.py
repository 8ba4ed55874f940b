"""Load and soak test (issue 9): a class of 64 clients on one server, loopback only.

Starts `python -m app` (the container's CMD) on a free port of 127.0.0.1 with WEB_CONCURRENCY=2,
then drives it with 64 concurrent clients, each looping over a mix of what the page and scripts
ask: GET / (the page), GET a preset's grid (n = 100), POST /api/descent, POST /api/descent/stream
read to its `end` line, and POST /api/basins at n = 32, read to its `result` line.

1. Load, 30 s: every answer must be a 2xx (and a stream must end with its final line); any other
   status, timeout or exception is an error. Prints p50 and p99 latency per endpoint.
2. Soak, 120 s more of the same traffic (one continuous run: a request counts in the phase it
   started in): the same figures, and the resident memory (VmRSS from /proc, summed over the
   server process, its workers and their formula process servers) sampled every second; prints
   RSS 10 s into the load against RSS at the end of the soak (target: within 10 %), and any
   worker that uvicorn replaced.

Exits 1 on any error or if the server fails to start; a memory miss prints MISS and exits 0 (as
the other benchmarks do). About 2.7 minutes in all; `--quick` runs 10 s + 30 s.

`--phases` (issue 15) runs instead, with PHASE_CLIENTS normal clients (the same mix) throughout:

* cold start: the clients start as soon as a just-started server first answers (its workers
  have not served anything yet), for COLD_S seconds;
* quiet baseline: the same clients alone, for BASELINE_S seconds;
* abuse: for ABUSE_S seconds the normal clients share the server with one connection sending an
  endless header (up to ENDLESS_HEADER_MB), IDLE_CONNECTIONS connections idle in their headers
  (half-open), and one client per endpoint sending its heaviest valid request back to back.

For each phase it prints the normal clients' p50 and p99 latency and errors, each p99 against the
baseline's (target: within 5×, and no errors: PASS or MISS), and what became of the abusers
(the header's answer, how many idle connections the server closed, the heavy requests' statuses).
About a minute; loopback only; every abuser is bounded in bytes, connections and time.

The client: one process, asyncio and one httpx.AsyncClient with 64 connections (one per client).
The machine has 2 cores and the server's two workers want both, so extra client processes would
only take CPU from the server; one asyncio process is cheap per request (~1 ms of client CPU for
requests that cost the server several ms) and its CPU share is printed (with the server's and
that of every other process on the machine), so a client that became the bottleneck, or a busy
machine, would show. Latencies run from the request's start to the last byte read, so they
include queueing: with 64 clients on 2 workers most of a latency is waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from app.web.serve import stop

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CLIENTS = 64
WORKERS = 2
RSS_AT_S = 10.0  # the reference RSS is taken this long after the traffic starts
RSS_TARGET = 0.10
REQUEST_TIMEOUT_S = 60.0
STARTUP_TIMEOUT_S = 30.0
PRESETS = ["himmelblau", "rosenbrock", "rastrigin", "beale", "six_hump_camel", "quadratic"]


# --- the server and its memory ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """pid and every process below it (uvicorn's workers, any formula forkserver)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:  # the process is gone
            pass
    return found


def children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.update(int(c) for c in f.read().split())
    except OSError:
        pass
    return found


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the given processes (from /proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time spent by every process on the machine (from /proc/stat), in seconds."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def start_server(port: int, log) -> subprocess.Popen:
    env = {**os.environ, "HOST": HOST, "PORT": str(port), "WEB_CONCURRENCY": str(WORKERS)}
    return subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
    )


async def wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    async with httpx.AsyncClient() as client:
        while True:
            if server.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                if (await client.get(base + "/healthz", timeout=1)).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.1)
    # Every worker answers once it has started: wait until the process tree has settled.
    while len(descendants(server.pid)) < WORKERS + 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


# --- the traffic ------------------------------------------------------------------------------


def requests_for(rng: random.Random) -> tuple[str, str, str, dict | None, str | None]:
    """(endpoint label, method, path, JSON body, the type of the line a stream must end with)."""
    kind = rng.choice(["page", "grid", "descent", "stream", "basins"])
    surface = rng.choice(PRESETS)
    if kind == "page":
        return kind, "GET", "/", None, None
    if kind == "grid":
        return kind, "GET", f"/api/surfaces/{surface}/grid?n=100", None, None
    optimizer = rng.choice(
        [{"name": "gd"}, {"name": "momentum", "eta": 0.001}, {"name": "adam", "eta": 0.05}]
    )
    start = [round(rng.uniform(-2, 2), 3), round(rng.uniform(-2, 2), 3)]
    if kind == "descent":
        body = {"surface": surface, "theta0": start, "optimizer": optimizer, "max_steps": 1000}
        return kind, "POST", "/api/descent", body, None
    if kind == "stream":
        body = {"surface": surface, "theta0": start, "optimizer": optimizer, "max_steps": 2000}
        return kind, "POST", "/api/descent/stream", body, "end"
    body = {"surface": surface, "n": 32, "max_steps": 300}
    return kind, "POST", "/api/basins", body, "result"


class Tally:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []

    def error(self, label: str, what: str) -> None:
        self.errors[label] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{label}: {what}")


async def one(client: httpx.AsyncClient, rng: random.Random, tally: Tally) -> None:
    label, method, path, body, last_type = requests_for(rng)
    started = time.perf_counter()
    try:
        async with client.stream(method, path, json=body) as response:
            data = await response.aread()
        elapsed = time.perf_counter() - started
        if not 200 <= response.status_code < 300:
            tally.error(label, f"HTTP {response.status_code} {data[:200]!r}")
            return
        if last_type is not None:
            last = json.loads(data.rstrip(b"\n").rsplit(b"\n", 1)[-1])
            if last.get("type") != last_type:
                tally.error(label, f"stream ended with {last.get('type')!r}")
                return
        tally.latency[label].append(elapsed)
    except Exception as exc:  # noqa: BLE001 - every failure counts as an error
        tally.error(label, f"{type(exc).__name__}: {exc!r}")


async def client_loop(
    i: int, client: httpx.AsyncClient, split: float, until: float, tallies: tuple[Tally, Tally]
) -> None:
    """Requests back to back until `until`; each is counted in the first tally if it started
    before `split`, else in the second. One continuous run: no pause between load and soak in
    which pooled connections would sit idle past uvicorn's keep-alive timeout."""
    rng = random.Random(i)  # each client its own deterministic sequence
    while (now := time.monotonic()) < until:
        await one(client, rng, tallies[0] if now < split else tallies[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(tally: Tally, seconds: float) -> int:
    total = sum(len(v) for v in tally.latency.values())
    errors = sum(tally.errors.values())
    print(f"{total} requests in {seconds:.0f} s ({total / seconds:.0f} req/s), {errors} errors")
    print(f"  {'endpoint':<9} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for label in ("page", "grid", "descent", "stream", "basins"):
        times = tally.latency.get(label, [])
        p50 = statistics.median(times) * 1e3 if times else float("nan")
        p99 = percentile(times, 0.99) * 1e3 if times else float("nan")
        failed = tally.errors.get(label, 0)
        print(f"  {label:<9} {len(times):>6} {failed:>6} {p50:>8.1f} {p99:>8.1f}")
    for example in tally.examples:
        print("  error:", example)
    return errors


async def drive(base: str, server: subprocess.Popen, load_s: float, soak_s: float) -> int:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    rss: list[tuple[float, int]] = []
    workers_seen: set[int] = set()
    load, soak = Tally(), Tally()
    cpu: dict[str, float] = {}
    print(
        f"== {CLIENTS} clients, server with {WORKERS} workers: {load_s:.0f} s of load, then "
        f"{soak_s:.0f} s more of the same traffic (soak)",
        flush=True,
    )
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        t0 = time.monotonic()
        split, until = t0 + load_s, t0 + load_s + soak_s
        cpu0, own0, machine0 = (
            cpu_seconds(descendants(server.pid)),
            time.process_time(),
            machine_busy_seconds(),
        )

        async def sample() -> None:
            while time.monotonic() < until:
                pids = descendants(server.pid)
                workers_seen.update(children(server.pid))
                rss.append((time.monotonic() - t0, sum(rss_kb(p) for p in pids)))
                if "server" not in cpu and time.monotonic() >= split:
                    wall = time.monotonic() - t0
                    cpu["server"] = (cpu_seconds(pids) - cpu0) / wall
                    cpu["client"] = (time.process_time() - own0) / wall
                    cpu["others"] = (
                        (machine_busy_seconds() - machine0) / wall - cpu["server"] - cpu["client"]
                    )
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample())
        await asyncio.gather(
            *(client_loop(i, client, split, until, (load, soak)) for i in range(CLIENTS))
        )
        await sampler

    print(f"== load, the first {load_s:.0f} s")
    errors = report(load, load_s)
    print(
        f"  CPU (share of one core): server {cpu['server']:.0%}, this client "
        f"{cpu['client']:.0%}, other processes {max(0.0, cpu['others']):.0%}; "
        f"{os.cpu_count()} cores"
    )
    print(f"== soak, the next {soak_s:.0f} s")
    errors += report(soak, soak_s)
    lost = workers_seen - children(server.pid)
    print(f"  workers replaced during the run: {len(lost)}" + (f" {sorted(lost)}" if lost else ""))

    reference = next(kb for t, kb in rss if t >= RSS_AT_S)
    end = rss[-1][1]
    peak = max(kb for _, kb in rss)
    ratio = end / reference
    verdict = "PASS" if abs(ratio - 1) <= RSS_TARGET else "MISS"
    print(
        f"== memory: server + workers RSS {reference / 1024:.0f} MB at {RSS_AT_S:.0f} s, "
        f"{end / 1024:.0f} MB at {rss[-1][0]:.0f} s (peak {peak / 1024:.0f} MB): "
        f"ratio {ratio:.3f} [{verdict}: within {RSS_TARGET:.0%}]"
    )
    return errors


# --- issue 15: cold start, quiet baseline, abuse ------------------------------------------------

PHASE_CLIENTS = 16
COLD_S, BASELINE_S, ABUSE_S = 10.0, 20.0, 25.0
P99_TARGET = 5.0  # a phase's p99 within this many times the baseline's
ENDLESS_HEADER_MB = 256
IDLE_CONNECTIONS = 2000
# The heaviest request each endpoint accepts (field caps at their maximum; presets only, so the
# work caps' estimates let them through).
HEAVY: list[tuple[str, str, str, dict | None]] = [
    ("basins 256² × 2000", "POST", "/api/basins",
     {"surface": "rastrigin", "n": 256, "max_steps": 2000, "tol": 0}),
    ("sweep 200 × 5000", "POST", "/api/sweep",
     {"surface": "rastrigin", "count": 200, "max_steps": 5000, "tol": 0,
      "optimizer": {"name": "adam", "eta": 0.01}}),
    ("descent 10000", "POST", "/api/descent",
     {"surface": "rastrigin", "max_steps": 10000, "tol": 0,
      "optimizer": {"name": "adam", "eta": 0.01}}),
    ("stream 10000", "POST", "/api/descent/stream",
     {"surface": "rastrigin", "max_steps": 10000, "tol": 0,
      "optimizer": {"name": "adam", "eta": 0.01}}),
    ("grid 400²", "GET", "/api/surfaces/rastrigin/grid?n=400", None),
    ("field 60²", "GET", "/api/surfaces/rastrigin/field?n=60", None),
    ("formula grid 400²", "POST", "/api/grid",
     {"surface": {"expression": "sin(x)*cos(y)*tanh(x*y)"}, "n": 400}),
]  # fmt: skip


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def endless_header(port: int, until: float, out: dict) -> None:
    """One connection sends a header line that never ends, 64 kB at a time."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
    answer = asyncio.create_task(reader.read(200))
    chunk, sent = b"a" * 65536, 0
    try:
        while time.monotonic() < until and sent < ENDLESS_HEADER_MB << 20 and not answer.done():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    except OSError:
        pass
    try:
        got = await asyncio.wait_for(answer, timeout=2.0)
        status = got.split(b"\r\n")[0]
        out["endless header"] = f"{sent >> 10:,} kB sent, then {status!r}"
    except (TimeoutError, OSError) as exc:
        out["endless header"] = f"{sent >> 10:,} kB sent, no answer ({type(exc).__name__})"
    writer.close()


async def idle_connections(port: int, until: float, out: dict) -> None:
    """IDLE_CONNECTIONS connections that send half a request and then nothing."""
    opened, refused, closed = [], 0, 0
    for _ in range(IDLE_CONNECTIONS):
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            opened.append((reader, writer))
        except OSError:
            refused += 1
    began = time.monotonic()

    async def wait_close(reader: asyncio.StreamReader) -> float | None:
        try:
            await asyncio.wait_for(reader.read(), timeout=max(0.1, until - time.monotonic()))
            return time.monotonic() - began
        except (TimeoutError, OSError):
            return None

    times = await asyncio.gather(*(wait_close(r) for r, _ in opened))
    closed_after = sorted(t for t in times if t is not None)
    closed = len(closed_after)
    median = f", median after {statistics.median(closed_after):.1f} s" if closed_after else ""
    out["idle connections"] = (
        f"{len(opened)} opened ({refused} refused by the OS), {closed} closed by the server{median}"
    )
    for _, writer in opened:
        writer.close()


async def heavy_loop(base: str, name: str, method: str, path: str, body, until, out) -> None:
    statuses: dict[str, int] = defaultdict(int)
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(ABUSE_S + 60)) as client:
        while time.monotonic() < until:
            try:
                async with client.stream(method, path, json=body) as response:
                    remaining = until - time.monotonic()
                    await asyncio.wait_for(response.aread(), timeout=max(0.1, remaining))
                    statuses[str(response.status_code)] += 1
            except TimeoutError:
                statuses["left at the phase's end"] += 1
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                statuses[type(exc).__name__] += 1
    out[name] = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))


async def drive_phases(base: str, port: int, server: subprocess.Popen) -> int:
    limits = httpx.Limits(max_connections=PHASE_CLIENTS, max_keepalive_connections=PHASE_CLIENTS)
    tallies = {"cold start": Tally(), "baseline": Tally(), "abuse": Tally()}
    abuse: dict[str, str] = {}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=httpx.Timeout(REQUEST_TIMEOUT_S)
    ) as client:
        t0 = time.monotonic()
        ends = (t0 + COLD_S, t0 + COLD_S + BASELINE_S, t0 + COLD_S + BASELINE_S + ABUSE_S)

        async def normal(i: int) -> None:
            rng = random.Random(i)
            while (now := time.monotonic()) < ends[2]:
                phase = "cold start" if now < ends[0] else "baseline" if now < ends[1] else "abuse"
                await one(client, rng, tallies[phase])

        async def abusers() -> None:
            await asyncio.sleep(max(0.0, ends[1] - time.monotonic()))
            await asyncio.gather(
                endless_header(port, ends[2], abuse),
                idle_connections(port, ends[2], abuse),
                *(heavy_loop(base, *h, ends[2], abuse) for h in HEAVY),
            )

        await asyncio.gather(abusers(), *(normal(i) for i in range(PHASE_CLIENTS)))

    base_p99 = None
    failed = 0
    print(f"== {PHASE_CLIENTS} normal clients; phases: cold start {COLD_S:.0f} s, quiet baseline "
          f"{BASELINE_S:.0f} s, abuse {ABUSE_S:.0f} s")  # fmt: skip
    print(f"  {'phase':<11} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}  verdict")
    for phase in ("baseline", "cold start", "abuse"):
        tally = tallies[phase]
        times = [t for v in tally.latency.values() for t in v]
        errors = sum(tally.errors.values())
        p50 = statistics.median(times) * 1e3 if times else math.nan
        p99 = percentile(times, 0.99) * 1e3 if times else math.nan
        if phase == "baseline":
            base_p99, verdict = p99, "(the reference)"
        else:
            ratio = p99 / base_p99 if base_p99 else math.inf
            ok = ratio <= P99_TARGET and errors == 0
            failed += not ok
            mark = "PASS" if ok else "MISS"
            verdict = f"p99 {ratio:.1f}× baseline [{mark}: ≤ {P99_TARGET:g}×, no errors]"
        print(f"  {phase:<11} {len(times):>8} {errors:>6} {p50:>8.1f} {p99:>8.1f}  {verdict}")
        for example in tally.examples:
            print(f"    error ({phase}):", example)
    print("== what became of the abusers")
    for name, what in abuse.items():
        print(f"  {name:<20} {what}")
    return failed


async def wait_first_answer(base: str, server: subprocess.Popen) -> float:
    """Seconds until a just-started server first answers /healthz (polled every 20 ms)."""
    began = time.monotonic()
    async with httpx.AsyncClient() as client:
        while time.monotonic() - began < 2 * STARTUP_TIMEOUT_S:  # a busy machine starts slowly
            if server.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                if (await client.get(base + "/healthz", timeout=1)).status_code == 200:
                    return time.monotonic() - began
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.02)
    raise RuntimeError("the server did not start")


def run_phases() -> int:
    have = raise_fd_limit(IDLE_CONNECTIONS + 512)
    if have < IDLE_CONNECTIONS + 256:
        print(f"note: this process may open {have} files: fewer idle connections will open")
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = start_server(port, log)
        try:
            base = f"http://{HOST}:{port}"
            started = asyncio.run(wait_first_answer(base, server))
            print(f"== the server first answered {started:.1f} s after it was started")
            missed = asyncio.run(drive_phases(base, port, server))
        except RuntimeError as exc:
            log.seek(0)
            print(f"FAILED: {exc}\n{log.read().decode(errors='replace')[-2000:]}")
            return 1
        finally:
            stop(server, timeout=15)
    print("PASS" if not missed else f"MISS in {missed} phase(s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s of load and a 30 s soak")
    parser.add_argument(
        "--phases", action="store_true", help="cold start, quiet baseline and abuse (issue 15)"
    )
    args = parser.parse_args()
    if args.phases:
        return run_phases()
    load_s, soak_s = (10.0, 30.0) if args.quick else (30.0, 120.0)
    port = free_port()
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: the server never blocks on it
        server = start_server(port, log)
        try:
            base = f"http://{HOST}:{port}"
            asyncio.run(wait_ready(base, server))
            errors = asyncio.run(drive(base, server, load_s, soak_s))
            log.seek(0)
            trouble = [
                line
                for line in log.read().decode(errors="replace").splitlines()
                if line.startswith(("WARNING", "ERROR", "CRITICAL", "Traceback")) or "died" in line
            ]
            if trouble:
                print("server warnings and errors:", *trouble[-20:], sep="\n  ")
        except RuntimeError as exc:
            log.seek(0)
            print(f"FAILED: {exc}\n{log.read().decode(errors='replace')[-2000:]}")
            return 1
        finally:
            stop(server, timeout=15)
    if errors:
        print(f"FAILED: {errors} errors")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
