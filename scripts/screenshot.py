"""Make the README's screenshot: the page at 1280 × 720 (a projector's size) on Himmelblau's
function, with three pinned runs, the current run scrubbed to an early iterate.

    .venv/bin/python scripts/screenshot.py [docs/screenshot.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.web.serve import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

T = 5  # the iterate on show
STATE = (
    "?surface=himmelblau&opt=gd&eta=0.01&x0=0.5&y0=-4.5&steps=1000&tol=0.000001"
    "&pin=opt:gd,eta:0.01,x0:-1,y0:1,steps:1000,tol:0.000001"
    "&pin=opt:adam,eta:0.1,x0:-4,y0:0,steps:1000,tol:0.000001"
    "&pin=opt:momentum,eta:0.005,x0:1,y0:4.5,steps:1000,tol:0.000001"
)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
        page.goto(f"{url}/{STATE}")
        page.wait_for_function(
            "() => window.descentLab.settled() && !window.descentLab.player.playing", timeout=60_000
        )
        page.locator("#scrubber").fill(str(T))  # an early iterate, where the arrows are long
        page.wait_for_function(  # the 3-D view follows at its own pace
            "(t) => { const d = document.getElementById('surface3d').data;"
            " return d.find((c) => c.name === 'current').x[0]"
            " === window.descentLab.run.path[t][0]; }",
            arg=T,
        )
        page.evaluate("() => document.activeElement.blur()")  # no focus ring in the picture
        page.evaluate(
            "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
