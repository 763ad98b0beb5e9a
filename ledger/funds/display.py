"""Stored Chinese that the system wrote, shown in the reader's language.

The books keep what the system generated in Chinese, for good: fund names made from a place name
("鱼台县" + "慈善救急难项目"), account names ("<fund> · 银行存款"), the memo of a reversal
("冲销 JZ-...: <reason>") and the reason line of a voided hold ("作废原因: <reason>"). The PDFs
for auditors print them as stored. On an English page these functions (the template filters
`fund_name`, `account_name` and `system_memo`) translate the parts the system wrote and keep the
parts a person typed or that name a place: the place in a fund name, the reason of a reversal.

Every function returns its argument unchanged in Chinese, and for text it does not recognise.
"""
from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..journal.accounts import CHART
from .demo import CITY_FUND_NAME

#: The fixed part of a generated fund name (`funds.demo`), as a pattern over the whole name.
#: Decorative quotes may be gone (`reports.document.plain_name`).
_CITY_FUND = re.compile(re.escape(CITY_FUND_NAME).replace("“", "“?").replace("”", "”?") + r"$")
_COUNTY_FUND = re.compile(r"(?P<place>.+?)慈善救急难项目$")
_VILLAGE_FUND = re.compile(r"(?P<place>.+?)“?济时救”?慈善救助基金$")
#: A care-service budget fund (`vendors.services.budgets.care_fund_name`).
_CARE_FUND = re.compile(r"(?P<place>.+?)政府购买照护服务资金$")

_ACCOUNT_LABELS = {
    "银行存款": _l("Cash at bank"),
    "期初净资产": _l("Opening net assets"),
    "捐赠收入": _l("Donation income"),
    "政府补助收入": _l("Government grant income"),
    "划拨收入": _l("Allocations in"),
    "救助支出": _l("Aid expense"),
    "划拨支出": _l("Allocations out"),
}
assert set(_ACCOUNT_LABELS) == {kind.label for kind in CHART.values()}, "every account of the chart has a label"

_REVERSAL_MEMO = re.compile(r"冲销 (?P<voucher>\S+?)[:：] ?", re.M)
_VOID_REASON = re.compile(r"^作废原因[:：] ?", re.M)


def is_chinese() -> bool:
    """Whether the reader's language is Chinese (then stored Chinese is shown as stored)."""
    locale = get_locale()
    return locale is None or locale.language == "zh"


_chinese = is_chinese


def fund_name(name: str | None) -> str:
    """A fund's name in the reader's language: the generated words translated, the place kept."""
    if not name or _chinese():
        return name or ""
    if _CITY_FUND.match(name):
        return str(_l("Jining \"Ji Shi Jiu\" special response relief fund"))
    match = _COUNTY_FUND.match(name)
    if match:
        return str(_l("%(place)s charity emergency-relief project", place=match["place"]))
    match = _VILLAGE_FUND.match(name)
    if match:
        return str(_l("%(place)s \"Ji Shi Jiu\" charity relief fund", place=match["place"]))
    match = _CARE_FUND.match(name)
    if match:
        return str(_l("%(place)s care-service budget", place=match["place"]))
    return name


def account_name(name: str | None) -> str:
    """`<fund> · <account>` with both parts in the reader's language."""
    if not name or _chinese():
        return name or ""
    fund, separator, label = name.rpartition(" · ")
    if separator and label in _ACCOUNT_LABELS:
        return f"{fund_name(fund)} · {_ACCOUNT_LABELS[label]}"
    return fund_name(name)


def account_label(label: str | None) -> str:
    """The chart's Chinese account name (`AccountType.label`) in the reader's language."""
    if not label or _chinese():
        return label or ""
    return str(_ACCOUNT_LABELS.get(label, label))


def system_memo(memo: str | None) -> str:
    """A memo with the words the system added translated: the reversal's "冲销 <voucher>: " and a
    voided hold's "作废原因: ". What the person typed (the reason, the memo) stays as typed."""
    if not memo or _chinese():
        return memo or ""
    memo = _REVERSAL_MEMO.sub(lambda m: str(_l("Reversal of %(voucher)s: ", voucher=m["voucher"])), memo)
    return _VOID_REASON.sub(lambda m: str(_l("Reason for voiding: ")), memo)


def register_filters(app) -> None:
    app.jinja_env.filters["fund_name"] = fund_name
    app.jinja_env.filters["account_name"] = account_name
    app.jinja_env.filters["account_label"] = account_label
    app.jinja_env.filters["system_memo"] = system_memo
