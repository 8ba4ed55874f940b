"""The page in headless chromium, as users meet it: bytes on first load and on reload, and θ₀
dragged round himmelblau's contour for 4 s, directly and through a delaying TCP proxy of its own
(app/web/delayproxy.py: every byte delayed half a round trip each way, 100 ms round trip by
default, `--rtt` to change).

Starts `python -m app` on a free port of 127.0.0.1 and always stops it; about a minute.
For each link it prints contour path redraws/s, 3-D path redraws/s and frames/s during the drag
(the browser's rAF callbacks, the most redraws a page could show), the time from a pointer move
to the frame that shows its path (median, p95), and the time from the pointer stopping to the
first frame whose path starts at the pointer.
The pointer moves like a mouse: one move every 1/60 s sent through the DevTools protocol without
waiting for the page to acknowledge the previous one (at most 4 outstanding), round the centre of
the surface through all four basins; then it rests, button still down. Playwright's mouse.move
waits for each acknowledgement and would measure its own round trip instead.
It also prints the page's main-thread time per path redraw over the drag (CPU time, and wall time
in tasks, from the DevTools protocol's Performance.getMetrics: on a loaded machine wall time
includes waiting for a core), and measures it again on loopback dragging runs of 1,001 iterates
("cheap frame").
Prints PASS/MISS against issue 17's targets (first load <= 1.3 MB, reload <= 50 kB; contour >= 30
redraws/s on loopback and >= 0.9 x that at the round trip; 3-D >= 10 redraws/s; pointer stop ->
path at the pointer <= round trip + 50 ms; a redraw of a 1,001-iterate path costs the main thread
at most half a 60 Hz frame) and exits 0 either way; it exits 1 only if the page
cannot be measured. On a shared, loaded machine the figures are lower than on a quiet one.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

from playwright.async_api import CDPSession, Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.web import assets  # noqa: E402
from app.web.serve import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

DRAG_S = 4.0
MOVE_HZ = 60
OUTSTANDING = 4
FIRST_LOAD_MAX = 1_300_000
RELOAD_MAX = 50_000
REDRAWS_MIN = 30.0
SLOW_SHARE = 0.9  # of the loopback contour rate, at the round trip
REDRAWS_3D_MIN = 10.0
STOP_SLACK_MS = 50.0  # pointer stop -> path at the pointer: at most the round trip + this
FRAME_MS = 1000 / 60
CHEAP_FRAME_MS = FRAME_MS / 2  # main-thread time per redraw of a long path: "well under a frame"
LONG_RUN = "/?surface=himmelblau&opt=gd&eta=0.0002&steps=1000"  # every run has 1,001 iterates


class Traffic:
    """Sums what the DevTools protocol reports: bytes on the wire and decoded body bytes."""

    def __init__(self) -> None:
        self.wire = self.raw = self.requests = self.cached = 0

    async def attach(self, page: Page) -> None:
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Network.enable")
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.dataReceived", lambda e: setattr(self, "raw", self.raw + e["dataLength"]))
        cdp.on("Network.requestServedFromCache", lambda e: setattr(self, "cached", self.cached + 1))

    def _finished(self, event: dict) -> None:
        self.wire += event["encodedDataLength"]
        self.requests += 1

    def reset(self) -> None:
        self.wire = self.raw = self.requests = self.cached = 0


async def ready(page: Page) -> None:
    await page.wait_for_function(
        "() => document.getElementById('app').dataset.state === 'ready'", timeout=30_000
    )
    await page.wait_for_function("() => window.descentLab.settled()", timeout=30_000)
    await page.wait_for_load_state("networkidle")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


async def measure_loads(page: Page, url: str) -> None:
    traffic = Traffic()
    await traffic.attach(page)
    await page.goto(f"{url}/")
    await ready(page)
    first, first_raw, n = traffic.wire, traffic.raw, traffic.requests
    print(
        f"first load: {first:,} B transferred in {n} requests vs {first_raw:,} B of content "
        f"({first / first_raw:.1%} of raw)   "
        f"target <= {FIRST_LOAD_MAX:,} B: {verdict(first <= FIRST_LOAD_MAX)}"
    )
    traffic.reset()
    await page.reload()
    await ready(page)
    print(
        f"reload:     {traffic.wire:,} B transferred in {traffic.requests} requests "
        f"({traffic.cached} from cache) vs {first:,} B on first load "
        f"({traffic.wire / first:.2%})   "
        f"target <= {RELOAD_MAX:,} B: {verdict(traffic.wire <= RELOAD_MAX)}"
    )


# In the page: every frame, count it, and note the first frame whose path starts at the pointer
# after the pointer stopped (window.__stop is set to the time of the last move).
WATCH = """() => {
    window.__frames = 0;
    window.__stop = null;
    window.__atPointer = null;
    addEventListener("pointermove", (e) => { window.__lastMove = e.timeStamp; }, true);
    const tick = (now) => {
        window.__frames += 1;
        const lab = window.descentLab, r = lab.run, t = lab.state.theta0;
        if (window.__stop !== null && window.__atPointer === null && r &&
            r.path[0][0] === t[0] && r.path[0][1] === t[1]) window.__atPointer = now;
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""
COUNTERS = """[performance.now(), window.__frames, window.descentLab.stats.redraws,
    window.descentLab.stats.redraws3d]"""


async def measure_drag(page: Page, label: str) -> dict[str, float]:
    await page.wait_for_function("() => !window.descentLab.player.playing", timeout=30_000)
    await page.evaluate(WATCH)
    x0, y0 = await page.evaluate("window.descentLab.state.theta0")
    px, py = await page.evaluate("([x, y]) => window.descentLab.contour.toPixels(x, y)", [x0, y0])
    cx, cy = await page.evaluate("window.descentLab.contour.toPixels(0, 0)")
    radius = math.hypot(px - cx, py - cy)
    angle0 = math.atan2(py - cy, px - cx)
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    await page.mouse.move(px - 3, py)
    await page.mouse.move(px, py)
    await page.mouse.down()
    start = await page.evaluate(COUNTERS)
    before = await page.evaluate("window.descentLab.stats")
    main_before = await main_thread(cdp)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    pending: set[asyncio.Task] = set()
    moves = 0
    while (elapsed := loop.time() - t0) < DRAG_S:
        a = angle0 + 2 * math.pi * elapsed / 2.5  # one lap every 2.5 s
        if len(pending) < OUTSTANDING:
            event = {
                "type": "mouseMoved",
                "x": cx + radius * math.cos(a),
                "y": cy + radius * math.sin(a),
                "button": "left",
                "buttons": 1,
            }
            task = asyncio.create_task(cdp.send("Input.dispatchMouseEvent", event))
            pending.add(task)
            task.add_done_callback(pending.discard)
            moves += 1
        await asyncio.sleep(t0 + moves / MOVE_HZ - loop.time())
    await asyncio.gather(*pending)
    end = await page.evaluate(COUNTERS)
    main_after = await main_thread(cdp)
    await page.evaluate("() => { window.__stop = window.__lastMove; }")
    await page.wait_for_function("() => window.__atPointer !== null", timeout=30_000)
    stop_ms = await page.evaluate("window.__atPointer - window.__stop")
    await page.mouse.up()
    stats = await page.evaluate("window.descentLab.stats")
    seconds = (end[0] - start[0]) / 1000
    fps = (end[1] - start[1]) / seconds
    redraws = (end[2] - start[2]) / seconds
    redraws3d = (end[3] - start[3]) / seconds
    lat = stats["latencies"][start[2] : end[2]]
    sent = stats["socketSent"] - before["socketSent"]
    received = stats["received"] - before["received"]
    http = stats["requests"] - before["requests"]
    print(f"{label}:")
    print(
        f"  drag:      {moves / DRAG_S:.0f} pointer moves/s for {seconds:.1f} s; "
        f"{sent} settings on the socket, {http} over HTTP; {received} answers came"
    )
    print(f"  contour:   {redraws:.1f} path redraws/s of {fps:.1f} frames/s ({redraws / fps:.0%})")
    print(f"  3-D view:  {redraws3d:.1f} path redraws/s")
    n = max(1, end[2] - start[2])
    per = {k: (main_after[k] - main_before[k]) * 1000 / n for k in main_after}
    print(
        f"  page:      main thread per path redraw: {per['ThreadTime']:.1f} ms of CPU, "
        f"{per['TaskDuration']:.1f} ms in tasks (script {per['ScriptDuration']:.1f}, style "
        f"and layout {per['RecalcStyleDuration'] + per['LayoutDuration']:.1f}); path of "
        f"{await page.evaluate('window.descentLab.run.path.length')} iterates"
    )
    answers = stats["socketAnswers"] - before["socketAnswers"]
    if answers:
        read_ms = (stats["readMs"] - before["readMs"]) / answers
        print(f"             of which script reading and drawing an answer: {read_ms:.1f} ms")
    if lat:
        p95 = statistics.quantiles(lat, n=20)[-1] if len(lat) > 1 else lat[0]
        print(
            f"  latency:   pointer move -> its path drawn: median {statistics.median(lat):.0f} ms, "
            f"p95 {p95:.0f} ms"
        )
    print(f"  stop:      pointer stops -> path starts at the pointer: {stop_ms:.0f} ms")
    return {
        "redraws": redraws,
        "redraws3d": redraws3d,
        "fps": fps,
        "stop": stop_ms,
        "cpu_ms": per["ThreadTime"],
    }


async def main_thread(cdp: CDPSession) -> dict[str, float]:
    """The renderer main thread's cumulative CPU time, and its wall time in tasks, scripts, style
    and layout, in seconds."""
    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
    keep = ("ThreadTime", "TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration")
    return {m["name"]: m["value"] for m in metrics if m["name"] in keep}


async def measure(url: str, slow_url: str, rtt: float) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # One page at a time, each closed after its measurement: a page left open keeps drawing
        # (Plotly's 3-D scene redraws every frame) and would take CPU from the next one.
        page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
        await measure_loads(page, url)
        fast = await measure_drag(page, "loopback")
        await page.context.close()
        page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
        await page.goto(f"{slow_url}/")
        await ready(page)
        slow = await measure_drag(page, f"{rtt * 1000:.0f} ms round trip (delaying proxy)")
        await page.context.close()
        page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
        await page.goto(f"{url}{LONG_RUN}")
        await ready(page)
        long = await measure_drag(page, "loopback, runs of 1,001 iterates")
        await browser.close()
    rtt_ms = rtt * 1000
    print("targets:")
    print(
        f"  contour >= {REDRAWS_MIN:.0f}/s on loopback: {verdict(fast['redraws'] >= REDRAWS_MIN)}"
    )
    ratio = slow["redraws"] / fast["redraws"] if fast["redraws"] else 0.0
    print(
        f"  contour at {rtt_ms:.0f} ms >= {SLOW_SHARE} x loopback ({ratio:.2f} x): "
        f"{verdict(ratio >= SLOW_SHARE)}"
    )
    for name, r in (("loopback", fast), (f"{rtt_ms:.0f} ms", slow)):
        ok = r["redraws3d"] >= REDRAWS_3D_MIN and (
            name != "loopback" or r["redraws"] >= REDRAWS_MIN
        )
        print(f"  3-D >= {REDRAWS_3D_MIN:.0f}/s with the contour on target, {name}: {verdict(ok)}")
    print(
        f"  pointer stop -> path at pointer <= {rtt_ms + STOP_SLACK_MS:.0f} ms at {rtt_ms:.0f} ms "
        f"({slow['stop']:.0f} ms): {verdict(slow['stop'] <= rtt_ms + STOP_SLACK_MS)}"
    )
    print(
        f"  main-thread CPU per redraw of a 1,001-iterate path <= {CHEAP_FRAME_MS:.1f} ms "
        f"({long['cpu_ms']:.1f} ms = {long['cpu_ms'] / FRAME_MS:.2f} of a 60 Hz frame, "
        f"{long['cpu_ms'] / fast['cpu_ms']:.2f} x the 57-iterate runs'): "
        f"{verdict(long['cpu_ms'] <= CHEAP_FRAME_MS)}"
    )


def ahead() -> None:
    """Raise this process's priority if the user may (root may): for the delaying proxy."""
    try:
        os.nice(-10)
    except PermissionError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt", type=float, default=100.0, help="round trip in ms (default 100)")
    rtt = parser.parse_args().rtt / 1000
    if not Path(CHROMIUM).exists():
        print(f"chromium is not installed at {CHROMIUM}", file=sys.stderr)
        return 1
    assets.main()  # the first load as `make run` serves it: Plotly at Brotli's best quality
    with running_app() as url:
        # The proxy runs in a process of its own: in this one it would share the GIL with the
        # loop that sends the pointer's moves. It stands for the network, which does not share
        # the user's CPU: on this machine it does, so it runs ahead of the others (when allowed),
        # lest a late proxy hand the page two answers at once that left the server apart.
        proxy = subprocess.Popen(
            [sys.executable, "-m", "app.web.delayproxy", url, str(rtt * 1000)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            preexec_fn=ahead,
        )
        try:
            assert proxy.stdout is not None
            slow_url = proxy.stdout.readline().strip()
            asyncio.run(measure(url, slow_url, rtt))
        finally:
            proxy.terminate()
            proxy.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
