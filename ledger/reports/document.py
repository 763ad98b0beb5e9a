"""The facts every rendering of a report shares: what it is, for which funds and
period, who asked, its id, its generated-at time and its integrity data.

Renderers (WeasyPrint, ReportLab, CSV, XLSX) receive a `ReportContext` and
print only what it says, so the PDF, the HTML page and the spreadsheets of one
report agree, and a closed period's context is the same on every render.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .queries import ISSUER, LEVEL_LABELS, FundStatement, Integrity, ReportIdentity, ReportParams, Scope

KIND_TITLES = {
    "fund_statement": "资金收支情况表",
    "journal_register": "记账凭证登记簿",
    "integrity_certificate": "数据完整性证明",
}

_DECORATIVE_QUOTES = re.compile("[\"'“”‘’「」『』]")


def plain_name(name: str) -> str:
    """The fund name without decorative quotes (市级“济时救”特别响应救助基金 -> 市级济时救特别响应救助基金),
    so that the name reads, searches and extracts as one run of text."""
    return _DECORATIVE_QUOTES.sub("", name)


@dataclass
class ReportContext:
    kind: str
    fmt: str
    params: ReportParams
    scope: Scope
    integrity: Integrity
    identity: ReportIdentity
    generated_by: str
    statement: FundStatement | None = None
    row_count: int = 0
    opening_fen: int = 0

    issuer: str = ISSUER

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]

    @property
    def fund_name(self) -> str:
        return plain_name(self.scope.root.name)

    @property
    def fund_label(self) -> str:
        root = self.scope.root
        below = len(self.scope.funds) - 1
        text = f"{self.fund_name}（{root.code}，{LEVEL_LABELS.get(root.level, root.level)}）"
        if below:
            text += f"，含下级基金 {below} 个"
        return text

    @property
    def period_label(self) -> str:
        return f"{self.params.date_from.isoformat()} 至 {self.params.date_to.isoformat()}"

    @property
    def generated_at(self) -> datetime:
        return self.identity.generated_at

    @property
    def generated_at_label(self) -> str:
        return self.identity.generated_at.strftime("%Y-%m-%d %H:%M:%S") + "（北京时间 Asia/Shanghai）"

    @property
    def generated_at_note(self) -> str:
        if self.identity.reproducible:
            return "期间已结账：生成时间取该期间结账时间，同一参数的报告每次生成内容与字节完全相同。"
        return "期间未结账：数字可能随后续记账变动，生成时间为实际生成时刻。"

    @property
    def parameters_label(self) -> str:
        p = self.params
        return f"fund={p.fund_code}&from={p.date_from.isoformat()}&to={p.date_to.isoformat()}&format={self.fmt}"

    @property
    def footer_digest(self) -> str:
        return self.integrity.short_digest
