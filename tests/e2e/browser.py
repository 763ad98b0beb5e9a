"""What the end-to-end tests do in the browser and look at: a demo user signing in and opening
pages at desktop or phone width, the problems a person would see (script, console and server
errors), sideways scrolling, charts that drew nothing, screenshots, amounts as shown."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

#: The one password every demo user has in the test copy (the real demo passwords are random).
PASSWORD = "e2e-" + secrets.token_urlsafe(12)


@dataclass
class LiveServer:
    url: str
    app: object

    def __call__(self, path: str) -> str:
        return self.url + path


@dataclass
class Problems:
    """What a person would call broken on a page: script errors, console errors (a missing
    file shows there too) and server errors."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("console", lambda message: message.type == "error" and self.seen.append(
            f"console error on {page.url}: {message.text}"))
        page.on("pageerror", lambda error: self.seen.append(f"script error on {page.url}: {error}"))
        page.on("response", lambda response: response.status >= 500 and self.seen.append(
            f"HTTP {response.status} for {response.url}"))


class Visitor:
    """One demo user in the browser: signs in through the login form once, then opens pages
    at desktop or phone width in fresh browser contexts that carry the signed-in session."""

    def __init__(self, browser, server: LiveServer, username: str):
        self.browser, self.server, self.username = browser, server, username
        self.problems = Problems()
        self._state = None
        self._contexts = []

    def page(self, viewport=DESKTOP):
        context = self.browser.new_context(viewport=viewport, locale="zh-CN", storage_state=self._state)
        context.set_default_timeout(15_000)
        self._contexts.append(context)
        page = context.new_page()
        self.problems.watch(page)
        return page

    def sign_in(self):
        """The login form, as a person fills it; returns the page it lands on."""
        page = self.page()
        page.goto(self.server("/login"))
        page.fill("input[name=username]", self.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        assert not page.url.endswith("/login"), f"{self.username} could not sign in: {page.inner_text('main')}"
        self._state = page.context.storage_state()
        return page

    def close(self):
        for context in self._contexts:
            context.close()


# --- what the tests look at --------------------------------------------------------------------

OVERFLOW_REPORT = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0) {
      // name the outermost culprits only
      if (!wide.some(outer => outer.contains(el))) wide.push(el);
    }
  }
  return {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: width,
          culprits: wide.slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? "." +
                    String(el.className).trim().split(/\\s+/).join(".") : "") + " " +
                    Math.round(el.getBoundingClientRect().right) + "px")};
}"""


def horizontal_overflow(page) -> str | None:
    """None when the page fits its width (nothing to scroll sideways), else what sticks out."""
    report = page.evaluate(OVERFLOW_REPORT)
    if report["scrollWidth"] <= report["innerWidth"]:
        return None
    return (f"{page.url}: scrollWidth {report['scrollWidth']} > innerWidth {report['innerWidth']}; "
            f"wider than the screen: {', '.join(report['culprits'])}")


def charts_rendered(page) -> list[str]:
    """Every `[data-chart]` element on the page must have drawn itself (a canvas or an svg);
    returns the ones that did not. A page without charts passes: charts are being added page
    by page, and this check covers each as it arrives."""
    charts = page.locator("[data-chart]")
    missing = []
    for index in range(charts.count()):
        chart = charts.nth(index)
        try:
            chart.locator("canvas, svg").first.wait_for(state="attached", timeout=5_000)
        except Exception:  # playwright's TimeoutError: the chart never drew
            missing.append(chart.get_attribute("data-chart") or f"chart #{index + 1}")
    return missing


#: A screenshot shows at most this many screens of a long page (the trial balance of the city
#: is 170,000 px tall at phone width): enough to judge the layout, and quick to take.
SCREENS_PER_SHOT = 4


def screenshot(page, username: str, name: str, viewport) -> Path:
    """The page's top SCREENS_PER_SHOT screens, at the page's full width (so a page too wide
    for the screen shows as such), saved as test-artifacts/screenshots/<user>-<page>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = "desktop" if viewport["width"] >= 1000 else "phone"
    path = SCREENSHOTS / f"{username}-{name}-{width}.png"
    size = page.evaluate("() => [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    clip = {"x": 0, "y": 0, "width": size[0], "height": min(size[1], viewport["height"] * SCREENS_PER_SHOT)}
    page.screenshot(path=str(path), full_page=True, clip=clip)
    return path


def amount_fen(text: str) -> int:
    """'¥22,282.28' (or '-¥1.00') as shown on a page -> fen."""
    match = re.search(r"(-?)¥?\s*([\d,]+)\.(\d{2})", text)
    assert match, f"no amount in {text!r}"
    sign, whole, part = match.groups()
    fen = int(whole.replace(",", "")) * 100 + int(part)
    return -fen if sign else fen
