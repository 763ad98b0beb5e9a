"""Keyboard and focus in Chromium, as a person who does not use a mouse meets them.

A receipt sent with a wrong amount and no payer comes back with the focus on the amount (the
first field at fault), whose error the field points to; the error summary's link to the payer
moves the focus there. The fund tree's counties open and close from the keyboard: Tab from the
city reaches the first county's button, Enter opens its villages, Space closes them again, and
the focused button shows a focus ring. The first Tab on a page reaches the skip link, which
leads into the main content."""
from __future__ import annotations

from tests.e2e.browser import DESKTOP

COUNTY = "370827"  # 鱼台县慈善救急难项目

FOCUSED = """() => { const el = document.activeElement;
  return {tag: el.tagName.toLowerCase(), name: el.getAttribute("name"), id: el.id,
          invalid: el.getAttribute("aria-invalid"), describedby: el.getAttribute("aria-describedby"),
          expanded: el.getAttribute("aria-expanded"), controls: el.getAttribute("aria-controls"),
          outline: getComputedStyle(el).outlineStyle + " " + getComputedStyle(el).outlineWidth}; }"""


def test_a_refused_form_focuses_its_first_invalid_field_and_the_tree_works_from_the_keyboard(visit, live_server):
    visitor = visit("finance")
    visitor.sign_in()
    page = visitor.page(DESKTOP)

    page.goto(live_server(f"/funds/{COUNTY}/receipt"))
    page.fill("input[name=amount]", "12.345")
    page.fill("input[name=payer_name]", "")
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'amount'")
    focused = page.evaluate(FOCUSED)
    assert focused["invalid"] == "true" and "amount-error" in focused["describedby"].split()
    assert page.inner_text("#amount-error").strip()
    summary = page.locator("[data-error-summary]")
    assert summary.locator("a").count() == 2
    summary.locator("a[href='#payer_name']").click()
    assert page.evaluate(FOCUSED)["name"] == "payer_name"

    page.goto(live_server("/funds/"))
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["id"] == "" and page.locator(".skip-link").evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["id"] == "content", "the skip link leads into the main content"

    page.focus(".fund-row.city a")
    page.keyboard.press("Tab")
    toggle = page.evaluate(FOCUSED)
    assert toggle["tag"] == "button" and toggle["expanded"] == "false", toggle
    assert toggle["outline"].startswith("solid") and toggle["outline"] != "solid 0px", "the focus is visible"
    villages = page.locator(f"#{toggle['controls']}")
    assert not villages.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["expanded"] == "true"
    assert villages.is_visible() and villages.locator("li.level-village").first.is_visible()
    page.keyboard.press("Space")
    assert page.evaluate(FOCUSED)["expanded"] == "false" and not villages.is_visible()

    # the search box opens the county that holds a match, and says so on its button
    page.fill("input[type=search]", "城西村")
    yutai = page.locator(f"[aria-controls='fund-below-{COUNTY}']")
    assert yutai.get_attribute("aria-expanded") == "true" and page.locator(f"#fund-below-{COUNTY}").is_visible()
    assert page.locator("li.level-village:visible").count() >= 1

    # the refused form answers 422, which Chromium logs as a failed load; anything else is a problem
    problems = [p for p in visitor.problems.seen if not (f"/funds/{COUNTY}/receipt" in p and "status of 422" in p)]
    assert len(problems) == len(visitor.problems.seen) - 1, visitor.problems.seen
    assert not problems, "\n".join(problems)
