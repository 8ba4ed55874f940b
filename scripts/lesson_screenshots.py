"""Screenshots of every lesson, opened by its URL as a teacher's slide link would: at 1280 × 720 in
presenter mode (a projector) and at 1920 × 1080 in the normal layout.

    .venv/bin/python scripts/lesson_screenshots.py [out-dir]     (default docs/lessons)

Each lesson is shown as a class would see it once its runs have played: at the last iterate of
the longest run (lesson 2, stepped by hand, after its first step), with the basin overlay
computed where the lesson asks for it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.lessons import LESSONS  # noqa: E402
from app.web.serve import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

LAYOUTS = [
    ("presenter-1280x720", {"width": 1280, "height": 720}, "&present=1"),
    ("1920x1080", {"width": 1920, "height": 1080}, ""),
]
LAB = "window.descentLab"


def frames(page: Page, n: int = 3) -> None:
    page.evaluate(
        "(n) => new Promise((r) => {"
        " const f = () => (n-- <= 0 ? r() : requestAnimationFrame(f)); f(); })",
        n,
    )


def shoot(page: Page, url: str, lesson: dict, out: Path) -> None:
    page.goto(url)
    page.wait_for_function(
        f"() => {LAB} && {LAB}.settled() && {LAB}.pins.every((p) => p.run)", timeout=60_000
    )
    page.evaluate("() => document.activeElement.blur()")
    if lesson["views"].get("paused"):
        page.keyboard.press("ArrowRight")
    else:
        page.keyboard.press("End")
    if lesson["views"].get("basins"):
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=basins-legend] li').length > 0",
            timeout=60_000,
        )
    # The 3-D view and the loss chart follow the player at their own pace.
    page.wait_for_function(
        f"() => {{ const d = document.getElementById('surface3d').data; const r = {LAB}.run;"
        f" const t = Math.min({LAB}.player.t, r.path.length - 1);"
        " const cur = d.find((c) => c.name === 'current');"
        " return !cur.x.length || cur.x[0] === r.path[t][0]; }",
        timeout=30_000,
    )
    frames(page)
    page.screenshot(path=str(out))


def main() -> int:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "lessons"
    out_dir.mkdir(parents=True, exist_ok=True)
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, viewport, extra in LAYOUTS:
            page = browser.new_page(viewport=viewport)
            for lesson in LESSONS:
                out = out_dir / f"lesson-{lesson['id']}-{name}.png"
                shoot(page, f"{url}/?lesson={lesson['id']}{extra}", lesson, out)
                print(f"wrote {out}")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
