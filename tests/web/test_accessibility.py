"""Accessibility of every page, read as a screen reader or a keyboard would read it.

Each role's pages are rendered and parsed with an HTML parser, in Chinese and in English:
<html lang> follows the user's language (parts written in another language say so); the
skip link leads to the main content; every table header has a scope; every control has a
label (a placeholder is not one); every aria reference (describedby, controls, label for)
names one element that exists. Forms sent with mistakes must say so to a screen reader: the
control carries aria-invalid and points at its error message, an error summary at the top
of the form links to each field at fault, and the page loads the script that moves the
focus there (the browser test in tests/e2e checks where the focus lands). The fund tree is
a nested list whose counties open with a button that says whether it is open and what it
opens. The stylesheet's muted text and focus ring are measured against every light surface
it paints.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ledger.extensions import db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "ledger" / "templates"
STYLESHEET = ROOT / "ledger" / "static" / "app.css"
YUTAI, CHENGXI = "370827", "370827-001"
LANG = {"zh": "zh-CN", "en": "en"}


# --- a small DOM, enough to follow references --------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children: list[Node | str] = []

    def get(self, name, default=None):
        value = self.attrs.get(name, default)
        return "" if value is None and name in self.attrs else value

    @property
    def classes(self) -> set[str]:
        return set((self.get("class") or "").split())

    def text(self) -> str:
        return " ".join(" ".join(c if isinstance(c, str) else c.text() for c in self.children).split())

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, predicate):
        return [node for node in self.walk() if predicate(node)]

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def describe(self) -> str:
        return "<" + self.tag + "".join(f' {k}="{v}"' for k, v in self.attrs.items() if k != "style") + ">"


class Page(HTMLParser):
    """A parsed page: `page.root`, `page.by_id`, `page.all(tag)`, in document order."""

    def __init__(self, html: str, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.root = Node("#document", {}, None)
        self._open = self.root
        self.feed(html)
        self.close()
        self.nodes = list(self.root.walk())
        self.by_id: dict[str, list[Node]] = {}
        for node in self.nodes:
            if node.get("id"):
                self.by_id.setdefault(node.get("id"), []).append(node)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self._open)
        self._open.children.append(node)
        if tag not in VOID:
            self._open = node

    def handle_startendtag(self, tag, attrs):
        self._open.children.append(Node(tag, attrs, self._open))

    def handle_endtag(self, tag):
        node = self._open
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self._open = node.parent

    def handle_data(self, data):
        self._open.children.append(data)

    def all(self, *tags):
        return [node for node in self.nodes if node.tag in tags]

    def one(self, element_id: str) -> Node:
        found = self.by_id.get(element_id, [])
        assert len(found) == 1, f"{self.url}: id {element_id!r} names {len(found)} elements"
        return found[0]


def page_of(response, url) -> Page:
    assert response.status_code < 500, f"{url} answered {response.status_code}"
    return Page(response.get_data(as_text=True), url)


def controls(page: Page) -> list[Node]:
    """The controls a person fills in or picks (not hidden ones, not buttons)."""
    found = []
    for node in page.all("input", "select", "textarea"):
        kind = (node.get("type") or "text").lower()
        if node.tag == "input" and kind in {"hidden", "submit", "button", "reset", "image"}:
            continue
        if "hidden" in node.attrs:
            continue
        found.append(node)
    return found


def accessible_label(page: Page, control: Node) -> str:
    if control.get("aria-label"):
        return control.get("aria-label")
    if control.get("aria-labelledby"):
        return " ".join(page.one(i).text() for i in control.get("aria-labelledby").split())
    for ancestor in control.ancestors():
        if ancestor.tag == "label":
            return ancestor.text()
    if control.get("id"):
        labels = [n for n in page.all("label") if n.get("for") == control.get("id")]
        if labels:
            return labels[0].text()
    return ""


# --- what every page must do ---------------------------------------------------------------------

def check_page(page: Page, language: str) -> None:
    url = page.url
    html = page.all("html")[0]
    assert html.get("lang") == LANG[language], f"{url}: <html lang={html.get('lang')!r}>, not {LANG[language]}"

    links = page.all("a")
    assert links and links[0].get("href") == "#content" and "skip-link" in links[0].classes, \
        f"{url}: the first link is not the skip link"
    assert page.one("content").tag == "main"

    for th in page.all("th"):
        assert th.get("scope") in {"col", "row", "colgroup", "rowgroup"}, f"{url}: {th.describe()} has no scope"

    for control in controls(page):
        label = accessible_label(page, control)
        assert label.strip(), f"{url}: {control.describe()} has no label (a placeholder is not a label)"

    for node in page.nodes:
        for attribute in ("aria-describedby", "aria-controls", "aria-labelledby"):
            for target in (node.get(attribute) or "").split():
                page.one(target)
    for label in page.all("label"):
        if label.get("for"):
            page.one(label.get("for"))
    for link in page.all("a"):
        if (link.get("href") or "").startswith("#"):
            page.one(link.get("href")[1:])  # a link within the page leads somewhere

    scripts = [node.get("src") for node in page.all("script") if node.get("src")]
    assert "/static/a11y.js" in scripts, f"{url}: the focus script is missing"
    assert not [n for n in page.all("script") if not n.get("src") and n.get("type") != "application/json"], \
        f"{url}: an inline script (the content security policy refuses it)"


def check_refused_form(page: Page, *, fields: set[str]) -> None:
    """The form's errors, as a screen reader meets them. `fields`: the names of the fields at fault."""
    url = page.url
    invalid = [c for c in controls(page) if c.get("aria-invalid") == "true"]
    assert {c.get("name") for c in invalid} == fields, f"{url}: aria-invalid on {[c.get('name') for c in invalid]}"
    for control in invalid:
        described = [page.one(i) for i in (control.get("aria-describedby") or "").split()]
        errors = [n for n in described if "error" in n.classes and n.text()]
        assert errors, f"{url}: {control.describe()} points at no error message"
    for message in [n for n in page.nodes if "error" in n.classes and n.get("id")]:
        pointing = [c for c in invalid if message.get("id") in (c.get("aria-describedby") or "").split()]
        assert pointing, f"{url}: error message #{message.get('id')} belongs to no invalid control"
    for block in [n for n in page.nodes if "has-error" in n.classes]:
        assert [n for n in block.walk() if n.get("aria-invalid") == "true"], f"{url}: {block.describe()} not invalid"

    summaries = [n for n in page.nodes if "data-error-summary" in n.attrs]
    assert len(summaries) == 1, f"{url}: {len(summaries)} error summaries"
    summary = summaries[0]
    assert summary.get("role") == "alert" and summary.get("tabindex") == "-1"
    first_invalid = page.nodes.index(invalid[0])
    assert page.nodes.index(summary) < first_invalid, f"{url}: the error summary comes after the first invalid field"
    targets = [a.get("href")[1:] for a in summary.walk() if a.tag == "a"]
    assert {page.one(t).get("name") for t in targets} == fields, f"{url}: the summary links to {targets}"
    for target in targets:
        assert page.one(target).get("aria-invalid") == "true"


# --- the pages of each role ----------------------------------------------------------------------

ROLE_PAGES = {
    "finance": ["/", "/funds/", f"/funds/{YUTAI}", f"/funds/{CHENGXI}", "/funds/entries", "/funds/trial-balance",
                "/funds/periods", "/funds/verify", f"/funds/{YUTAI}/receipt", "/funds/allocation",
                f"/funds/{YUTAI}/disbursement", f"/funds/{YUTAI}/hold", "/organisation", "/account/password",
                "/account/tokens", "/api/v1/docs", "/aid/payments", "/aid/applications/1"],
    "auditor": ["/", "/funds/", "/funds/entries", "/funds/trial-balance", "/funds/periods", "/reports/",
                "/reports/log", "/funds/?open=all", "/aid/applications", "/aid/applications/1"],
    "admin": ["/", "/admin/users", "/admin/users/new", "/admin/organisations/new", "/admin/users/finance",
              "/funds/periods", "/organisation", "/aid/policies", "/aid/policies/1", "/aid/policies/1/versions/new"],
    "reviewer": ["/", "/reports/", f"/funds/{YUTAI}", "/aid/escalated", "/aid/queue"],
    "reviewer_yutai": ["/", "/funds/", f"/funds/{YUTAI}", "/funds/entries", "/aid/queue", "/aid/paperwork",
                       *(f"/aid/applications/{number}" for number in range(1, 15))],
    "charity_yutai": ["/", "/organisation", "/account/password", "/aid/applications", "/aid/applications/new",
                      "/aid/applications/new?q=%E9%9F%A9", "/aid/applications/1"],
    "vendor": ["/", "/organisation"],
}


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_every_page_of_each_role_is_labelled_scoped_and_in_the_users_language(demo_user_client, username):
    client = demo_user_client(username)
    for language in ("zh", "en"):
        client.get("/lang/zh_CN" if language == "zh" else "/lang/en")
        for url in ROLE_PAGES[username]:
            response = client.get(url)
            assert response.status_code == 200, f"{username}: {url} answered {response.status_code}"
            check_page(page_of(response, url), language)


def test_the_sign_in_page_follows_the_browsers_language(client):
    for accept, language in (("zh-CN,zh;q=0.9", "zh"), ("en-US,en;q=0.9", "en")):
        check_page(page_of(client.get("/login", headers={"Accept-Language": accept}), "/login"), language)


def test_the_voucher_and_hold_pages_and_their_refused_forms(demo_user_client):
    finance = demo_user_client("finance")
    assert finance.post(f"/funds/{YUTAI}/receipt", data={
        "amount": "50.00", "source": "donation", "payer_name": "张三", "idempotency_key": "a" * 32}).status_code == 302
    assert finance.post(f"/funds/{YUTAI}/hold", data={
        "amount": "10.00", "purpose": "medical_aid", "expires_in_hours": "24", "payee_kind": "",
        "idempotency_key": "b" * 32}).status_code == 302
    fund_page = finance.get(f"/funds/{YUTAI}").get_data(as_text=True)
    voucher = re.search(r'href="(/funds/entries/[^"]+)"', fund_page).group(1)
    pay, void = (re.search(rf'href="(/funds/holds/\d+/{action})"', fund_page).group(1) for action in ("post", "void"))
    for url in (voucher, pay, void):
        check_page(page_of(finance.get(url), url), "zh")

    refused = [(voucher + "/reverse", {"reason": "", "value_on": "2026-02-31"}, {"reason", "value_on"}),
               (pay, {"amount": "-5"}, {"amount"}),
               (void, {"reason": ""}, {"reason"})]
    for url, data, fields in refused:
        response = post(finance, url, data)
        assert response.status_code == 422, f"{url} answered {response.status_code}"
        page = page_of(response, url)
        check_page(page, "zh")
        check_refused_form(page, fields=fields)

    # Paid meanwhile: the refusal is shown with the hold's facts, and the summary links to no field
    # (there is none on the page any more).
    assert finance.post(pay, data={"amount": "", "idempotency_key": "d" * 32}).status_code == 302
    response = post(finance, pay, {"amount": "-5"})
    page = page_of(response, pay)
    check_page(page, "zh")
    summary = [n for n in page.nodes if "data-error-summary" in n.attrs]
    assert len(summary) == 1 and not [a for a in summary[0].walk() if a.tag == "a"]
    assert not controls(page), "a settled hold offers no form"


def test_the_api_documentation_speaks_the_users_language_and_marks_its_english(demo_user_client, client):
    finance = demo_user_client("finance")
    page = page_of(finance.get("/api/v1/docs"), "/api/v1/docs")
    check_page(page, "zh")
    assert "参数" in page.root.text(), "the page's own words are Chinese"
    heading = page.all("h1")[0]
    assert heading.get("lang") == "en", "the OpenAPI document is written in English and says so"
    english_parts = [n for n in page.nodes if n.get("lang") == "en"]
    assert len(english_parts) > 20
    anonymous = page_of(client.get("/api/v1/docs", headers={"Accept-Language": "en"}), "/api/v1/docs")
    check_page(anonymous, "en")


def test_the_html_statement_says_it_is_chinese_in_the_english_interface(demo_user_client):
    auditor = demo_user_client("auditor")
    auditor.get("/lang/en")
    url = f"/reports/fund-statement?fund={YUTAI}&from=2026-01-01&to=2026-01-31"
    response = auditor.get(url)
    assert response.status_code == 200, response.status_code
    page = page_of(response, url)
    check_page(page, "en")
    articles = page.all("article")
    assert articles and all(a.get("lang") == "zh-CN" for a in articles)


# --- forms sent with mistakes --------------------------------------------------------------------

def post(client, url, data):
    return client.post(url, data={"idempotency_key": "c" * 32, **data})


REFUSED_FORMS = [
    # (user, method, url, data, fields at fault)
    ("finance", "post", f"/funds/{YUTAI}/receipt", {"amount": "abc", "source": "donation", "payer_name": ""},
     {"amount", "payer_name"}),
    ("finance", "post", "/funds/allocation", {"from_fund": YUTAI, "to_fund": "", "amount": "1.234"},
     {"to_fund", "amount"}),
    ("finance", "post", f"/funds/{YUTAI}/disbursement", {"amount": "1.00", "purpose": "medical_aid",
                                                          "payee_kind": "alien", "payee_name": "韩进",
                                                          "payee_id_number": "370827195206150021"},
     {"payee_kind"}),
    ("finance", "post", f"/funds/{YUTAI}/hold", {"amount": "0", "purpose": "medical_aid",
                                                  "expires_in_hours": "soon", "payee_kind": ""},
     {"amount", "expires_in_hours"}),
    ("finance", "post", "/funds/periods/close", {"month": "2099-01"}, {"month"}),
    ("finance", "post", "/account/password", {"current_password": "wrong", "new_password": "x",
                                              "confirm_password": "y"}, None),
    ("admin", "post", "/admin/users/new", {"username": "Not Valid!", "role": "finance", "organisation": ""}, None),
    ("admin", "post", "/admin/organisations/new", {"name": "", "kind": "charity", "region": YUTAI}, {"name"}),
    ("finance", "post", "/account/tokens", {"label": "x" * 101}, {"label"}),
    ("finance", "get", "/funds/entries?amount_min=abc&date_from=2026-02-31", {}, {"amount_min", "date_from"}),
    ("auditor", "get", "/funds/trial-balance?as_of=yesterday", {}, {"as_of"}),
    ("auditor", "get", "/funds/trial-balance?level=town", {}, {"level"}),
    ("auditor", "get", "/funds/?as_of=2026-02-30", {}, {"as_of"}),
    ("auditor", "get", f"/funds/{YUTAI}?as_of=2026-02-30", {}, {"as_of"}),
    ("auditor", "get", "/reports/generate?kind=nonsense&fund=&from=2026-01-31&to=2026-01-01", {}, None),
    ("charity_yutai", "post", "/aid/applications/new", {"person_id": "1", "fund_code": YUTAI, "diagnosis": "",
                                                        "hospital": "医院", "total_cost": "abc", "reimbursed": "0",
                                                        "amount_requested": "1000"}, {"diagnosis", "total_cost"}),
    ("admin", "post", "/aid/policies/1/versions/new", {"effective_on": "2026-13-01", "bands": "ten -> 1",
                                                       "annual_cap": "30000", "county_approval_max": "10000"},
     {"effective_on", "bands"}),
]


def _id(case):
    return f"{case[1]} {case[2]}"


@pytest.mark.parametrize("case", REFUSED_FORMS, ids=_id)
def test_a_refused_form_points_each_field_at_its_error_and_sums_them_up_at_the_top(demo_user_client, case):
    username, method, url, data, fields = case
    client = demo_user_client(username)
    for language in ("zh", "en"):
        client.get("/lang/zh_CN" if language == "zh" else "/lang/en")
        response = post(client, url, data) if method == "post" else client.get(url)
        # a refused form answers 4xx; a list page whose filter is wrong still shows (its other filters work)
        expected = (200, 400, 422) if method == "get" else (400, 403, 409, 422)
        assert response.status_code in expected, f"{url} answered {response.status_code}"
        page = page_of(response, url)
        check_page(page, language)
        at_fault = fields
        if at_fault is None:  # the fields the view found wrong: at least one
            at_fault = {c.get("name") for c in controls(page) if c.get("aria-invalid") == "true"}
            assert at_fault, f"{url}: no field is marked invalid"
        check_refused_form(page, fields=at_fault)


def test_a_wrong_password_at_sign_in_points_at_the_password_field(client, make_user):
    username = make_user("finance")
    page = page_of(client.post("/login", data={"username": username, "password": "not the password"}), "/login")
    check_page(page, "zh")
    check_refused_form(page, fields={"password"})


def test_a_form_without_errors_has_no_summary_and_no_invalid_field(demo_user_client):
    page = page_of(demo_user_client("finance").get(f"/funds/{YUTAI}/receipt"), "receipt")
    assert not [n for n in page.nodes if "data-error-summary" in n.attrs]
    assert not [n for n in page.nodes if n.get("aria-invalid")]
    amount = [c for c in controls(page) if c.get("name") == "amount"][0]
    assert accessible_label(page, amount), "the amount is labelled, not only shown an example"


# --- the fund tree -------------------------------------------------------------------------------

def test_the_fund_tree_is_nested_lists_with_a_disclosure_button_per_county(demo_user_client):
    page = page_of(demo_user_client("auditor").get("/funds/"), "/funds/")
    tree = page.one("fund-tree")
    top = [n for n in tree.children if isinstance(n, Node) and n.tag == "ul"]
    assert len(top) == 1 and top[0].get("aria-label")
    city = [n for n in top[0].children if isinstance(n, Node) and n.tag == "li"]
    assert len(city) == 1
    counties = [li for li in city[0].walk() if li.tag == "li" and "level-county" in li.classes]
    assert len(counties) == 11
    for county in counties:
        assert county.parent.tag == "ul" and county.parent.parent is city[0], "a county is a list item of the city"
        buttons = [b for b in county.walk() if b.tag == "button" and "data-tree-toggle" in b.attrs]
        assert len(buttons) == 1
        button = buttons[0]
        assert button.get("type") == "button" and button.get("aria-expanded") == "false"
        assert button.text(), "the button has a name"
        below = page.one(button.get("aria-controls"))
        assert "hidden" in below.attrs, "folded: the villages are hidden until the button opens them"
        assert below in list(county.walk()), "the button opens its own county's villages"
        villages = [li for li in below.walk() if li.tag == "li"]
        assert villages and all("level-village" in li.classes and li.parent.tag == "ul" for li in villages)

    search = [c for c in controls(page) if c.get("type") == "search"]
    assert len(search) == 1 and accessible_label(page, search[0])

    opened = page_of(demo_user_client("auditor").get("/funds/?open=all"), "/funds/?open=all")
    buttons = [b for b in opened.nodes if "data-tree-toggle" in b.attrs]
    assert len(buttons) == 11 and all(b.get("aria-expanded") == "true" for b in buttons)
    assert all("hidden" not in opened.one(b.get("aria-controls")).attrs for b in buttons)


# --- the templates and the stylesheet ------------------------------------------------------------

def test_every_table_header_in_every_template_has_a_scope():
    missing = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for match in re.finditer(r"<th(?=[\s>])[^>]*>", path.read_text()):
            if not re.search(r'\bscope="(col|row|colgroup|rowgroup)"', match.group(0)):
                missing.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert not missing, "\n".join(missing)


def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_measure_is_the_wcag_one():
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#767676", "#fff"), 2) == 4.54  # the lightest grey that passes on white


def test_muted_text_and_the_focus_ring_are_readable_on_every_light_surface():
    css = STYLESHEET.read_text()
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{3,6})\b", css))
    surfaces = set()
    for value in re.findall(r"background(?:-color)?:\s*([^;}\s]+)", css):
        if value.startswith("var(--"):
            value = variables.get(value[6:-1], "")
        if re.fullmatch(r"#[0-9a-fA-F]{3,6}", value) and _luminance(value) > 0.5:
            surfaces.add(value.lower())
    assert len(surfaces) > 10 and "#fff" in surfaces
    for surface in sorted(surfaces):
        # WCAG 2.1 AA: 4.5:1 for text (the muted text is small), 3:1 for a focus indicator
        for name in ("muted", "ink"):
            assert contrast(variables[name], surface) >= 4.5, f"--{name} on {surface}: {contrast(variables[name], surface):.2f}"
        assert contrast(variables["focus"], surface) >= 3, f"the focus ring on {surface}"
    assert contrast(variables["focus-on-brand"], variables["brand"]) >= 3, "the focus ring on the red header"
    for name, surface in (("warn", "warn-soft"), ("ok", "ok-soft"), ("accent", "card"), ("link", "card")):
        assert contrast(variables[name], variables[surface]) >= 4.5, f"--{name} on --{surface}"
    assert re.search(r":focus-visible[^{]*\{[^}]*outline:\s*3px solid var\(--focus\)", css)
    assert ".topbar :focus-visible { outline-color:var(--focus-on-brand); }" in css
    assert "outline:none" not in css.replace(" ", "") and "outline:0" not in css.replace(" ", "")
