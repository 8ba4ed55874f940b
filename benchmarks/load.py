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
import os
import random
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s of load and a 30 s soak")
    args = parser.parse_args()
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
