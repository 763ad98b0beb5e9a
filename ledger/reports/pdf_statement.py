"""The fund statement (资金收支情况表) as PDF, laid out with ReportLab platypus.

Why ReportLab: the city-wide statement (the city, 11 counties and 333 villages,
about 20 pages with its certificate) took about 12 s in WeasyPrint, which lays
out HTML tables cell by cell; platypus lays out the same table in a fraction of
that. The look follows the HTML statement (`reports/_statement_body.html`, still
the web page and, through `pdf_weasy`, the reference the benchmark compares
against): A4 portrait, the issuer and the report id above every page, the
report id, "第 X 页 / 共 Y 页" and the chain heads' digest below it.

Safety: nothing here parses markup from the data. Table cells are plain strings
drawn as text; the few paragraphs escape what they print, so a fund called
`<img src="file:///etc/passwd">` is printed, never loaded.

Progress: the per-fund table and the table of chain heads report the rows each
page has drawn (`DrawnRows`), so a background job's bar moves page by page.

Reproducibility: as for the register (`pdf_register.build_pdf`): ReportLab's
invariant mode, the canvas's time pinned to the report's generated-at time, so
a closed period renders the same bytes every time.
"""
from __future__ import annotations

from typing import Callable, Iterator
from xml.sax.saxutils import escape as escape_xml

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle

from ..money import format_cny
from ..text import export_text
from .document import ReportContext
from .fonts import register_reportlab_font
from .pdf_register import BAND_BG, GRID, HEADER_BG, RED, PageLayout, build_pdf, certificate_flowables, wrap
from .queries import StatementLine

MUTED = colors.HexColor("#52606d")
INK = colors.HexColor("#1f2933")
GREEN = colors.HexColor("#1f7a3a")
ACCENT = colors.HexColor("#8f1d1d")
SUBTOTAL_BG = colors.HexColor("#f0f3f7")

FUND_FONT_SIZE = 6.8
FUND_LEADING = 8.2
FUND_COLUMNS = ["基金", "期初余额", "本期收入", "划拨收入", "划拨支出", "救助支出", "期末余额", "未结预留"]
FUND_WIDTHS = [56 * mm] + [18 * mm] * 7  # an amount up to ¥9,999,999.99 fits its column
INDENT = 3 * mm  # per level below the root


def escape(text) -> str:
    """Text for a paragraph: characters a PDF cannot draw replaced (`ledger.text.export_text`),
    then XML-escaped."""
    return escape_xml(export_text(text))


def _decorations(context: ReportContext, font: str):
    width, height = A4

    def draw(canvas: Canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(LAYOUT.left, height - 12 * mm, context.issuer)
        canvas.drawRightString(width - LAYOUT.right, height - 12 * mm, f"报告编号 {context.identity.report_id}")
        y = 10 * mm
        canvas.drawString(LAYOUT.left, y, f"报告编号 {context.identity.report_id}")
        canvas.drawRightString(width - LAYOUT.right, y, f"链头摘要 {context.footer_digest}")
        label = f"第 {canvas.getPageNumber()} 页 / 共 "
        x = width / 2 + 2 * mm
        canvas.drawRightString(x, y, label)
        canvas.translate(x, y)
        canvas.doForm("pageTotal")  # "N 页", drawn once the last page is known
        canvas.restoreState()

    return draw


LAYOUT = PageLayout(A4, 14 * mm, 14 * mm, 20 * mm, 18 * mm, _decorations)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK", textColor=INK)
    return {
        "issuer": ParagraphStyle("issuer", parent=base, fontSize=11, leading=15, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=21, alignment=TA_CENTER, spaceAfter=2 * mm),
        "meta": ParagraphStyle("meta", parent=base, fontSize=8.5, leading=12),
        "section": ParagraphStyle("section", parent=base, fontSize=11, leading=15),
        "note": ParagraphStyle("note", parent=base, fontSize=7.5, leading=10.5, textColor=MUTED),
        "sign": ParagraphStyle("sign", parent=base, fontSize=10, leading=14),
    }


class DrawnRows:
    """Counts the table rows drawn so far and tells `progress` in the caller's units.

    A table split over pages is drawn one part per page, so the count moves page by page."""

    def __init__(self, total_rows: int, units: int, progress: Callable[[int], None] | None):
        self.total_rows = max(total_rows, 1)
        self.units = units
        self.progress = progress
        self.drawn = 0

    def table_class(self, header_rows: int = 1) -> type[Table]:
        counter = self

        class CountingTable(Table):
            """A platypus Table whose every drawn part (one per page) adds its rows to the count."""

            def draw(self):
                super().draw()
                counter.add(len(self._cellvalues) - header_rows)

        return CountingTable

    def add(self, rows: int) -> None:
        self.drawn += rows
        if self.progress:
            self.progress(min(self.units, self.drawn * self.units // self.total_rows))


def _section(text: str, font: str, styles) -> Table:
    """A section heading with the statement's red rule on its left (as the web page's h2)."""
    table = Table([[Paragraph(escape(text), styles["section"])]], colWidths=[LAYOUT.body_width])
    table.setStyle(TableStyle([
        ("LINEBEFORE", (0, 0), (0, 0), 3, ACCENT), ("LEFTPADDING", (0, 0), (0, 0), 2 * mm),
        ("TOPPADDING", (0, 0), (0, 0), 0), ("BOTTOMPADDING", (0, 0), (0, 0), 0), ("FONT", (0, 0), (-1, -1), font),
    ]))
    return table


def _amount_cells(line: StatementLine) -> list[int]:
    return [line.opening_fen, line.receipts_fen, line.transfer_in_fen, line.transfer_out_fen, line.aid_fen,
            line.closing_fen, line.holds_fen]


def _summary(context: ReportContext, font: str) -> Table:
    statement = context.statement
    t = statement.total
    # (label, fen, indent 0-2, row kind)
    rows: list[tuple[str, int, int, str]] = [
        ("期初余额", t.opening_fen, 0, "major"),
        ("加：本期收入", t.receipts_fen, 0, "major"),
        ("其中：捐赠收入", t.donation_fen, 1, ""),
        ("政府补助收入", t.grant_fen, 2, ""),
    ]
    if t.opening_assets_fen:
        rows.append(("期初净资产转入", t.opening_assets_fen, 2, ""))
    rows += [
        ("加：划拨收入（上级或其他基金划入）", t.transfer_in_fen, 0, "major"),
        ("减：划拨支出（划出至其他基金）", t.transfer_out_fen, 0, "major"),
        ("减：救助支出", t.aid_fen, 0, "major"),
    ]
    for index, purpose in enumerate(statement.purposes):
        rows.append((f"{'其中：' if index == 0 else ''}{purpose.label}（{purpose.entries} 笔）", purpose.amount_fen,
                     1, ""))
    rows += [
        ("期末余额", t.closing_fen, 0, "total"),
        ("期末未结预留（已审批待支付）", t.holds_fen, 1, ""),
        ("期末可用余额", t.available_fen, 1, ""),
    ]
    data = [["项目", "金额"]] + [[label, format_cny(fen)] for label, fen, _indent, _kind in rows]
    style = [
        ("FONT", (0, 0), (-1, -1), font, 9, 11),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for number, (_label, fen, indent, kind) in enumerate(rows, start=1):
        if indent:
            style.append(("LEFTPADDING", (0, number), (0, number), (5 if indent == 1 else 9) * mm))
        if kind == "major":
            style.append(("BACKGROUND", (0, number), (-1, number), BAND_BG))
        elif kind == "total":
            style.append(("BACKGROUND", (0, number), (-1, number), HEADER_BG))
        if fen < 0:
            style.append(("TEXTCOLOR", (1, number), (1, number), RED))
    table = Table(data, colWidths=[LAYOUT.body_width - 45 * mm, 45 * mm])
    table.setStyle(TableStyle(style))
    return table


def _tie_note(context: ReportContext, styles) -> Paragraph:
    statement = context.statement
    t = statement.total
    ties = t.ties and all(line.ties for line in statement.lines if not line.is_subtotal)
    verdict = (f'<font color="#{GREEN.hexval()[2:]}">相符</font>' if ties
               else f'<font color="#{RED.hexval()[2:]}">不符，请核查</font>')
    several = len(context.scope.funds) > 1
    text = (escape(f"勾稽关系：期初余额 + 本期收入 + 划拨收入 − 划拨支出 − 救助支出 = {format_cny(t.computed_closing_fen)}；"
                   f"银行存款科目期末余额 = {format_cny(t.closing_fen)}；") + verdict
            + escape(f"。本期凭证 {statement.entry_count} 笔。"
                     + ("合计含下级基金之间的内部划拨（划入与划出同时计入）。" if several else "")))
    return Paragraph(text, styles["note"])


def _fund_table(context: ReportContext, font: str, table_class: type[Table]) -> Table:
    statement = context.statement
    name_width = FUND_WIDTHS[0] - 1.6 * mm
    data: list[list[str]] = [list(FUND_COLUMNS)]
    style = [
        ("FONT", (0, 0), (-1, -1), font, FUND_FONT_SIZE, FUND_LEADING),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 0.8 * mm), ("RIGHTPADDING", (0, 0), (-1, -1), 0.8 * mm),
    ]
    lines = list(statement.lines) + [statement.total]
    for number, line in enumerate(lines, start=1):
        is_total = line is statement.total
        indent = min(line.depth, 2)
        if is_total:
            label = "合计"
            indent = 0
        elif line.is_subtotal:
            label = wrap(f"{line.name} 小计", name_width - indent * INDENT, font, FUND_FONT_SIZE, max_lines=2)
        else:
            label = wrap(line.name, name_width - indent * INDENT, font, FUND_FONT_SIZE, max_lines=2) + "\n" + line.code
        data.append([label] + [format_cny(fen) for fen in _amount_cells(line)])
        if indent:
            style.append(("LEFTPADDING", (0, number), (0, number), 0.8 * mm + indent * INDENT))
        if is_total:
            style.append(("BACKGROUND", (0, number), (-1, number), HEADER_BG))
        elif line.is_subtotal:
            style.append(("BACKGROUND", (0, number), (-1, number), SUBTOTAL_BG))
        for column, fen in enumerate(_amount_cells(line), start=1):
            if fen < 0:
                style.append(("TEXTCOLOR", (column, number), (column, number), RED))
    table = table_class(data, colWidths=FUND_WIDTHS, repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _signatures(context: ReportContext, font: str) -> Table:
    table = Table([[f"单位（盖章）：{context.issuer}", "制表人：", "", "审核人：", ""]],
                  colWidths=[72 * mm, 18 * mm, 36 * mm, 18 * mm, 38 * mm])
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 10, 14), ("ALIGN", (1, 0), (1, 0), "RIGHT"),
        ("ALIGN", (3, 0), (3, 0), "RIGHT"),
        ("LINEBELOW", (2, 0), (2, 0), 0.6, INK), ("LINEBELOW", (4, 0), (4, 0), 0.6, INK),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return table


def statement_flowables(context: ReportContext, font: str, counter: DrawnRows) -> Iterator:
    """The statement's story: heading, summary, the table of funds, signatures, then the certificate."""
    styles = _styles(font)
    statement = context.statement
    several = len(context.scope.funds) > 1
    closed = "（已结账）" if context.integrity.period.closed else "（未结账）"
    meta = Table([[f"期间：{context.period_label}{closed}", "单位：元"]],
                 colWidths=[LAYOUT.body_width - 30 * mm, 30 * mm])
    meta.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 8.5, 12), ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    yield Paragraph(escape(context.issuer), styles["issuer"])
    yield Paragraph(escape(context.fund_name) + "<br/>" + escape(context.title), styles["title"])
    yield Paragraph(escape(f"基金：{context.fund_label}"), styles["meta"])
    yield meta
    yield Spacer(1, 3 * mm)
    yield _section("一、收支汇总" + (f"（{len(context.scope.funds)} 个基金合计）" if several else ""), font, styles)
    yield Spacer(1, 2 * mm)
    yield _summary(context, font)
    yield Spacer(1, 1.5 * mm)
    yield _tie_note(context, styles)
    if several:
        yield Spacer(1, 4 * mm)
        yield _section("二、分基金收支情况", font, styles)
        yield Spacer(1, 2 * mm)
        yield _fund_table(context, font, counter.table_class())
    yield Spacer(1, 10 * mm)
    yield _signatures(context, font)
    yield Spacer(1, 3 * mm)
    yield Paragraph(escape(f"报告编号 {context.identity.report_id} · 生成时间 {context.generated_at_label} · "
                           f"生成人 {context.generated_by}"), styles["note"])
    yield PageBreak()
    yield from certificate_flowables(context, font, LAYOUT.body_width, counter.table_class())


def render_statement_pdf(context: ReportContext,
                         progress: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    """The statement with its integrity certificate after it. Returns (pdf bytes, pages).

    `progress(done)` counts in the context's rows (its funds), as a job expects: the rows of
    the funds table and of the chain heads drawn so far, scaled to that total."""
    font = register_reportlab_font()
    statement = context.statement
    several = len(context.scope.funds) > 1
    rows = (len(statement.lines) + 1 if several else 0) + max(len(context.integrity.heads), 1)
    counter = DrawnRows(rows, max(context.row_count, 1), progress)
    return build_pdf(context, font, statement_flowables(context, font, counter), LAYOUT)
