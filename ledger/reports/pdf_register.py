"""The journal register (记账凭证登记簿) as PDF, laid out with ReportLab platypus.

Why this shape: one long table is quadratic in ReportLab, so rows go into
tables of `CHUNK_ROWS` (each repeating its header row on every page), and the
story is fed lazily from the row iterator, so memory stays flat however many
rows the register has. "Page X of Y" uses a PDF form XObject for Y, drawn once
at the end, instead of a second layout pass.

Reproducibility: the canvas runs in ReportLab's invariant mode and its
timestamp is the report's generated-at time, so a closed period renders to
the same bytes every time.
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from ..money import format_cny
from ..text import export_text
from .document import ReportContext
from .fonts import register_reportlab_font
from .queries import RegisterRow

CHUNK_ROWS = 500
FONT_SIZE = 7
LEADING = 8.6
RED = colors.HexColor("#b42318")
GRID = colors.HexColor("#9aa5b1")
HEADER_BG = colors.HexColor("#e4e9f0")
BAND_BG = colors.HexColor("#f6f8fa")

PAGE = landscape(A4)
MARGIN = 12 * mm
TOP = 30 * mm  # room for the running header
BOTTOM = 14 * mm

# (title, width mm, right-aligned)
COLUMNS = [
    ("凭证号", 38, False),
    ("记账日期", 18, False),
    ("类型", 13, False),
    ("摘要", 48, False),
    ("会计科目", 44, False),
    ("对方单位/个人", 28, False),
    ("借方（收入）", 22, True),  # ¥99,999,999.99 fits
    ("贷方（支出）", 22, True),
    ("余额", 24, True),
    ("制单人", 16, False),  # a display name of up to five characters on one line
]
HEADER = [c[0] for c in COLUMNS]
WIDTHS = [c[1] * mm for c in COLUMNS]


class FixedTimeStamp:
    """ReportLab's TimeStamp, pinned to the report's generated-at time (for /CreationDate, /ModDate)."""

    def __init__(self, moment):
        offset = moment.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        self.t = moment.timestamp()
        self.lt = moment.timetuple()
        self.YMDhms = tuple(self.lt)[:6]
        self.dhh, self.dmm = divmod(minutes, 60)
        self.tzname = moment.tzname()


def _canvas_class(context: ReportContext, font: str, pages_out: list):
    class ReportCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            kwargs["invariant"] = 1
            super().__init__(*args, **kwargs)
            self._doc._timeStamp = FixedTimeStamp(context.generated_at)

        def save(self):
            total = self.getPageNumber() - 1
            pages_out.append(total)
            self.beginForm("pageTotal", 0, 0, 80, 20)
            self.setFont(font, 8)
            self.drawString(0, 0, f"{total} 页")
            self.endForm()
            super().save()

    return ReportCanvas


@functools.cache
def _char_widths(font: str):
    face = pdfmetrics.getFont(font)
    cache: dict[str, float] = {}

    def width(ch: str) -> float:
        value = cache.get(ch)
        if value is None:
            value = cache[ch] = face.stringWidth(ch, 1)
        return value

    return width


def wrap(text: str, width_pt: float, font: str, size: float = FONT_SIZE, max_lines: int = 3) -> str:
    """Break `text` into lines that fit `width_pt`; past `max_lines` the rest is cut with an ellipsis."""
    text = export_text(text)  # whatever is stored: characters a PDF cannot draw are replaced
    if not text:
        return ""
    measure = _char_widths(font)
    lines, line, used = [], [], 0.0
    limit = width_pt / size
    for ch in text.replace("\r", " ").replace("\n", " "):
        w = measure(ch)
        if used + w > limit and line:
            lines.append("".join(line))
            line, used = [], 0.0
            if len(lines) == max_lines:
                last = lines[-1]
                lines[-1] = last[:-1] + "…"
                return "\n".join(lines)
        line.append(ch)
        used += w
    lines.append("".join(line))
    return "\n".join(lines)


def _amount(fen: int, blank_zero: bool = True) -> str:
    if fen == 0 and blank_zero:
        return ""
    return format_cny(fen)


def _table(rows: list[list[str]], red_rows: list[int], negative_cells: list[tuple[int, int]], font: str) -> Table:
    table = Table([HEADER] + rows, colWidths=WIDTHS, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), font, FONT_SIZE, LEADING),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (6, 0), (8, -1), "RIGHT"),
        ("ALIGN", (0, 0), (5, 0), "CENTER"),
        ("ALIGN", (9, 0), (9, 0), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, BAND_BG]),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, GRID),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, GRID),
        ("BOX", (0, 0), (-1, -1), 0.6, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for index in red_rows:
        style.append(("TEXTCOLOR", (0, index + 1), (-1, index + 1), RED))
    for index, column in negative_cells:
        style.append(("TEXTCOLOR", (column, index + 1), (column, index + 1), RED))
    table.setStyle(TableStyle(style))
    return table


class _LazyStory(list):
    """A story that fills itself from a generator of flowables as platypus consumes it.

    Platypus pops flowables off the front of the list and pushes split remainders
    back; it checks `len()` on every turn, which is where the list refills.
    """

    def __init__(self, source: Iterator):
        super().__init__()
        self._source = source
        self._done = False

    def __len__(self):
        while not self._done and super().__len__() < 2:
            try:
                self.append(next(self._source))
            except StopIteration:
                self._done = True
        return super().__len__()


def register_flowables(context: ReportContext, rows: Iterable[RegisterRow], font: str,
                       progress: Callable[[int], None] | None) -> Iterator:
    memo_width = WIDTHS[3] - 5
    accounts_width = WIDTHS[4] - 5
    party_width = WIDTHS[5] - 5
    preparer_width = WIDTHS[9] - 5
    chunk: list[list[str]] = []
    red_rows: list[int] = []
    negative: list[tuple[int, int]] = []
    done = 0
    debit_total = credit_total = 0
    balance = context.opening_fen
    opening = ["", "", "", "期初余额", "", "", "", "", format_cny(context.opening_fen), ""]
    chunk.append(opening)
    if context.opening_fen < 0:
        negative.append((0, 8))
    for row in rows:
        memo = wrap(row.memo, memo_width, font, max_lines=3)
        if row.mark:
            mark = wrap(f"【{row.mark}】", memo_width, font, max_lines=2)
            memo = f"{memo}\n{mark}" if memo else mark
        chunk.append([
            row.voucher_no, row.value_on.isoformat(), row.kind, memo,
            "\n".join(wrap(line, accounts_width, font, max_lines=1) for line in row.accounts),
            "\n".join(x for x in (wrap(row.counterparty_name, party_width, font, max_lines=2),
                                  row.counterparty_id_masked) if x),
            _amount(row.debit_fen), _amount(row.credit_fen), format_cny(row.balance_fen, ),
            wrap(row.preparer, preparer_width, font, max_lines=2),
        ])
        if row.is_reversal or row.is_reversed:
            red_rows.append(len(chunk) - 1)
        if row.balance_fen < 0:
            negative.append((len(chunk) - 1, 8))
        debit_total += row.debit_fen
        credit_total += row.credit_fen
        balance = row.balance_fen
        done += 1
        if len(chunk) >= CHUNK_ROWS:
            yield _table(chunk, red_rows, negative, font)
            chunk, red_rows, negative = [], [], []
            if progress:
                progress(done)
    chunk.append(["", "", "", f"本期合计（{done} 笔）", "", "", format_cny(debit_total), format_cny(credit_total),
                  format_cny(balance), ""])
    if balance < 0:
        negative.append((len(chunk) - 1, 8))
    yield _table(chunk, red_rows, negative, font)
    if progress:
        progress(done)
    yield PageBreak()
    yield from certificate_flowables(context, font)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=15, leading=20, alignment=TA_CENTER, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, alignment=TA_CENTER, textColor=colors.HexColor("#52606d")),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10),
        "mono": ParagraphStyle("mono", parent=base, fontSize=7.5, leading=10),
        "ok": ParagraphStyle("ok", parent=base, textColor=colors.HexColor("#1f7a3a"), fontSize=10, leading=14),
        "bad": ParagraphStyle("bad", parent=base, textColor=RED, fontSize=10, leading=14),
    }


#: The heads table's columns (code, name, seq, entries in period, digest) for a frame `width` wide:
#: fixed columns sized for their content, the name takes what is left.
def _heads_widths(width: float) -> list[float]:
    fixed = [19 * mm, 12 * mm, 14 * mm, 82 * mm] if width < 200 * mm else [28 * mm, 18 * mm, 20 * mm, 135 * mm]
    code, seq, entries, digest = fixed
    return [code, width - sum(fixed), seq, entries, digest]


def certificate_flowables(context: ReportContext, font: str, width: float | None = None,
                          table_class: type[Table] = Table) -> list:
    """The integrity certificate as platypus flowables (the same facts as certificate.html), for a
    frame `width` wide (the landscape register's by default). `table_class` lays out the table of
    chain heads (the statement passes one that reports the rows it has drawn)."""
    width = width or PAGE[0] - 2 * MARGIN
    s = _styles(font)
    integrity = context.integrity
    p = lambda text, style="body": Paragraph(escape(export_text(text)), s[style])  # noqa: E731
    out = [p(f"{context.issuer}", "sub"), p("数据完整性证明", "title"),
           p(f"随附报告：{context.title}　报告编号：{context.identity.report_id}", "sub"), Spacer(1, 4 * mm)]
    facts = [
        ["基金范围", context.fund_label],
        ["期间", context.period_label + ("（已结账）" if integrity.period.closed else "（未结账）")],
        ["凭证数", f"{integrity.entry_count} 笔（分录 {integrity.posting_count} 行）"
                 + ("；" + "，".join(f"{k} {v}" for k, v in integrity.entries_by_kind.items())
                    if integrity.entries_by_kind else "")],
        ["哈希链", f"{len(integrity.heads)} 条（每个基金一条链；下表为截至期末的链头）"],
        ["链头合并摘要", integrity.heads_digest],
        ["链校验结果", "通过：全部哈希链校验一致" if integrity.verify_ok
         else f"未通过：{integrity.verify_problem or '校验失败'}"],
        ["参数", context.parameters_label],
        ["生成时间", context.generated_at_label],
        ["说明", context.generated_at_note],
        ["生成人", context.generated_by],
        ["文件校验", "本文件的 SHA-256 记录在报告日志中（报告 → 生成记录），可与所持文件的 SHA-256 比对。"],
    ]
    rows = []
    for label, value in facts:
        style = "body"
        if label == "链校验结果":
            style = "ok" if integrity.verify_ok else "bad"
        rows.append([p(label), p(value, style)])
    table = Table(rows, colWidths=[32 * mm, width - 32 * mm])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), HEADER_BG),
        ("FONT", (0, 0), (-1, -1), font),  # cells set their font even around paragraphs
    ]))
    out += [table, Spacer(1, 4 * mm)]
    head_rows = [["基金代码", "基金名称", "链头序号", "期间内凭证", "链头摘要（SHA-256）"]]
    widths = _heads_widths(width)
    digest_size = 7 if widths[4] > 100 * mm else 6.2
    for head in integrity.heads:
        head_rows.append([head.fund_code, wrap(head.fund_name, widths[1] - 2 * mm, font, size=7, max_lines=1),
                          str(head.seq), str(head.entries_in_period), head.entry_hash])
    if len(head_rows) == 1:
        head_rows.append(["", "期末前无凭证", "", "", ""])
    heads = table_class(head_rows, colWidths=widths, repeatRows=1)
    heads.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 7, 8.6), ("FONT", (4, 1), (4, -1), font, digest_size, 8.6),
        ("GRID", (0, 0), (-1, -1), 0.3, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG), ("ALIGN", (2, 1), (3, -1), "RIGHT"),
    ]))
    out += [heads, Spacer(1, 3 * mm),
            p("验证方法：导出日记账（flask journal export），按链重算每条凭证的 SHA-256（前一链头 + 凭证内容），"
              "至上表所列序号时应得到所列链头摘要；将各链“基金代码:链头摘要”按代码排序逐行求 SHA-256，应得到链头合并摘要。",
              "small")]
    return out


def _page_decorations(context: ReportContext, font: str):
    width, height = PAGE

    def draw(canvas: Canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 9)
        canvas.setFillColor(colors.HexColor("#52606d"))
        canvas.drawString(MARGIN, height - 11 * mm, context.issuer)
        canvas.drawRightString(width - MARGIN, height - 11 * mm, f"报告编号 {context.identity.report_id}")
        canvas.setFillColor(colors.black)
        canvas.setFont(font, 14)
        canvas.drawCentredString(width / 2, height - 13 * mm, context.title)
        canvas.setFont(font, 8.5)
        canvas.drawString(MARGIN, height - 20 * mm, f"基金：{context.fund_label}")
        canvas.drawString(MARGIN, height - 25 * mm, f"期间：{context.period_label}")
        canvas.drawRightString(width - MARGIN, height - 25 * mm, "单位：元")
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, BOTTOM - 3 * mm, width - MARGIN, BOTTOM - 3 * mm)
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#52606d"))
        y = BOTTOM - 7.5 * mm
        canvas.drawString(MARGIN, y, f"报告编号 {context.identity.report_id}")
        label = f"第 {canvas.getPageNumber()} 页 / 共 "
        x = width / 2 - 8 * mm
        canvas.drawRightString(x, y, label)
        canvas.translate(x, y)
        canvas.doForm("pageTotal")
        canvas.restoreState()
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#52606d"))
        canvas.drawRightString(width - MARGIN, y, f"链头摘要 {context.footer_digest}")
        canvas.restoreState()

    return draw


@dataclass(frozen=True)
class PageLayout:
    """A report's page: its size, the body frame's margins and what is drawn around the body."""

    size: tuple[float, float]
    left: float
    right: float
    top: float
    bottom: float
    decorations: Callable[[ReportContext, str], Callable]

    @property
    def body_width(self) -> float:
        return self.size[0] - self.left - self.right


REGISTER_LAYOUT = PageLayout(PAGE, MARGIN, MARGIN, TOP, BOTTOM, _page_decorations)


def render_register_pdf(context: ReportContext, rows: Iterable[RegisterRow],
                        progress: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    """The register with its integrity certificate as the last page. Returns (pdf bytes, pages)."""
    font = register_reportlab_font()
    return build_pdf(context, font, register_flowables(context, rows, font, progress))


def render_certificate_pdf(context: ReportContext) -> tuple[bytes, int]:
    font = register_reportlab_font()
    return build_pdf(context, font, iter(certificate_flowables(context, font)))


def build_pdf(context: ReportContext, font: str, flowables: Iterator,
              layout: PageLayout = REGISTER_LAYOUT) -> tuple[bytes, int]:
    """Lay out `flowables` (consumed lazily) on `layout`'s pages. Returns (pdf bytes, pages)."""
    buffer = io.BytesIO()
    pages: list[int] = []
    width, height = layout.size
    doc = BaseDocTemplate(
        buffer, pagesize=layout.size, leftMargin=layout.left, rightMargin=layout.right, topMargin=layout.top,
        bottomMargin=layout.bottom,
        title=f"{context.title} {context.fund_name} {context.period_label}", author=context.issuer,
        subject=f"报告编号 {context.identity.report_id}", creator="济时救 fund ledger", invariant=1,
        initialFontName=font,  # start in the embedded font: no base-14 font the PDF does not carry
    )
    frame = Frame(layout.left, layout.bottom, layout.body_width, height - layout.top - layout.bottom, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=layout.decorations(context, font))])
    doc.build(_LazyStory(flowables), canvasmaker=_canvas_class(context, font, pages))
    return buffer.getvalue(), pages[0] if pages else 0
