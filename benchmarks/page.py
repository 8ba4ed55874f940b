"""The page in headless chromium: bytes on first load and on reload, and path redraws while θ₀ is
dragged continuously for 5 s on himmelblau.

Starts `python -m app` on a free port of 127.0.0.1 and always stops it; loopback only, about 20 s.
Each figure is printed against a baseline measured in the same run:
- bytes transferred (headers and compressed bodies, from the DevTools protocol) against the raw
  size of what the page received (the bodies uncompressed);
- path redraws per second against the browser's own frame rate during the drag (rAF callbacks),
  the most redraws a page could show; the time from a pointer move to the frame that shows its
  path is given as median and p95 against one frame interval.
The pointer moves like a mouse: one move every 1/60 s sent through the DevTools protocol without
waiting for the page to acknowledge the previous one (at most 4 outstanding), round the centre of
the surface through all four basins. Playwright's mouse.move waits for each acknowledgement and
would measure its own round trip instead.
Prints PASS/MISS against the issue's targets (first load ≤ 1.6 MB, reload ≤ 50 kB, ≥ 30
redraws/s) and exits 0 either way; it exits 1 only if the page cannot be measured.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
from pathlib import Path

from playwright.async_api import Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.web.serve import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

DRAG_S = 5.0
MOVE_HZ = 60
OUTSTANDING = 4
FIRST_LOAD_MAX = 1_600_000
RELOAD_MAX = 50_000
REDRAWS_MIN = 30.0


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


async def measure_drag(page: Page) -> None:
    await page.wait_for_function("() => !window.descentLab.player.playing", timeout=30_000)
    await page.evaluate("""() => {
        window.__frames = 0;
        const tick = () => { window.__frames += 1; requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
    }""")
    x0, y0 = await page.evaluate("window.descentLab.state.theta0")
    px, py = await page.evaluate("([x, y]) => window.descentLab.contour.toPixels(x, y)", [x0, y0])
    cx, cy = await page.evaluate("window.descentLab.contour.toPixels(0, 0)")
    radius = math.hypot(px - cx, py - cy)
    angle0 = math.atan2(py - cy, px - cx)
    cdp = await page.context.new_cdp_session(page)
    await page.mouse.move(px - 3, py)
    await page.mouse.move(px, py)
    await page.mouse.down()
    start = await page.evaluate(
        "[performance.now(), window.__frames, window.descentLab.stats.redraws]"
    )
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
    end = await page.evaluate(
        "[performance.now(), window.__frames, window.descentLab.stats.redraws]"
    )
    await page.mouse.up()
    stats = await page.evaluate("window.descentLab.stats")
    seconds = (end[0] - start[0]) / 1000
    redraws = (end[2] - start[2]) / seconds
    fps = (end[1] - start[1]) / seconds
    lat = stats["latencies"][start[2] : end[2]]
    print(
        f"drag:       {moves / DRAG_S:.0f} pointer moves/s sent for {seconds:.1f} s, "
        f"{stats['requests']} requests, {stats['aborted']} aborted as stale"
    )
    print(
        f"redraws:    {redraws:.1f} path redraws/s vs {fps:.1f} frames/s "
        f"({redraws / fps:.0%} of frames)   "
        f"target >= {REDRAWS_MIN:.0f}/s: {verdict(redraws >= REDRAWS_MIN)}"
    )
    if lat:
        frame = 1000 / fps
        p95 = statistics.quantiles(lat, n=20)[-1] if len(lat) > 1 else lat[0]
        median = statistics.median(lat)
        print(
            f"latency:    pointer move -> redrawn path: median {median:.0f} ms, p95 {p95:.0f} ms "
            f"vs one frame {frame:.0f} ms ({median / frame:.1f} and {p95 / frame:.1f} frames)"
        )


async def measure(url: str) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
        await measure_loads(page, url)
        await measure_drag(page)
        await browser.close()


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"chromium is not installed at {CHROMIUM}", file=sys.stderr)
        return 1
    with running_app() as url:
        asyncio.run(measure(url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
