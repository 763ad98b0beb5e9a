"""Benchmark of the audit reports (not a test).

1. A 50,000-entry journal register through `ledger.reports.pdf_register` against a bare
   ReportLab script laying out the same rows (same font, same columns, tables of 500 rows
   with a repeated header, no running header, footer or certificate) in the same run.
   Each side runs in its own child process, which reports its own peak RSS.
   Targets: ours >= 0.7 of the bare script's speed, peak < 400 MB.
2. The city-wide fund statement (city, 11 counties, 333 villages, about 20 pages) from a
   freshly seeded demo database, through the service (`ledger.reports.pdf_statement`, ReportLab)
   against the WeasyPrint renderer it replaced (`pdf_weasy` with `reports/statement_pdf.html`),
   each in its own child process in the same run, both timed from the same reading of the
   journal (context built inside the timing). Target: new / old <= 0.20 (at least 5x faster).
   It also counts the progress reports the new renderer makes (a job's bar moves page by page).

    python bench/reports.py [--rows 50000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rows(n: int):
    from datetime import date, timedelta

    from ledger.reports.queries import RegisterRow

    balance = 5_000_000_00
    start = date(2026, 1, 1)
    for i in range(n):
        debit = 1_000_00 + (i * 7919) % 50_000_00 if i % 3 == 0 else 0
        credit = 0 if debit else 500_00 + (i * 104729) % 20_000_00
        balance += debit - credit
        yield RegisterRow(
            voucher_no=f"JZ-2026-370827-{i + 1:06d}", value_on=start + timedelta(days=i * 365 // n),
            kind="收入" if debit else "支出", memo="社会爱心捐赠" if debit else "大病住院自付费用救助",
            accounts=("借 1002.370827 银行存款", "贷 4101.370827 捐赠收入") if debit
            else ("借 5101.370827 救助支出", "贷 1002.370827 银行存款"),
            counterparty=f"张秀英 3708**********{i % 10000:04d}", counterparty_name="张秀英",
            counterparty_id_masked=f"3708**********{i % 10000:04d}", debit_fen=debit, credit_fen=credit,
            balance_fen=balance, mark="", is_reversal=False, is_reversed=False, preparer="市财务 王芳")


def child_ours(n: int) -> dict:
    from datetime import date, datetime, timezone

    from ledger.reports.document import ReportContext
    from ledger.reports.pdf_register import render_register_pdf
    from ledger.reports.queries import (ChainHead, FundInfo, Integrity, PeriodState, ReportParams, Scope,
                                        report_identity)

    params = ReportParams("370827", date(2026, 1, 1), date(2026, 12, 31))
    root = FundInfo(1, "370827", "鱼台县慈善救急难项目", "county", None, 0)
    state = PeriodState(True, datetime(2027, 1, 5, 2, 0, tzinfo=timezone.utc), ("2026-01",))
    integrity = Integrity(n, {"收入": n}, 2 * n, [ChainHead("370827", root.name, n, "ab" * 32, n)], "cd" * 32,
                          True, None, state)
    context = ReportContext("journal_register", "pdf", params, Scope(root, [root], {}, {1: root}), integrity,
                            report_identity("journal_register", "pdf", params, integrity), "bench",
                            row_count=n, opening_fen=5_000_000_00)
    started = time.perf_counter()
    data, pages = render_register_pdf(context, _rows(n))
    return {"seconds": time.perf_counter() - started, "pages": pages, "bytes": len(data)}


def child_bare(n: int) -> dict:
    import io

    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    from ledger.money import format_cny
    from ledger.reports.fonts import font_path

    pdfmetrics.registerFont(TTFont("Bare", str(font_path()), subfontIndex=0))
    header = ["凭证号", "记账日期", "类型", "摘要", "会计科目", "对方单位/个人", "借方（收入）", "贷方（支出）", "余额",
              "制单人"]
    widths = [w * mm for w in (38, 18, 13, 48, 44, 28, 22, 22, 24, 16)]
    style = TableStyle([("FONT", (0, 0), (-1, -1), "Bare", 7, 8.6), ("GRID", (0, 0), (-1, -1), 0.25, "grey"),
                        ("ALIGN", (6, 0), (8, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    started = time.perf_counter()
    story, chunk = [], []
    for row in _rows(n):
        chunk.append([row.voucher_no, row.value_on.isoformat(), row.kind, row.memo, "\n".join(row.accounts),
                      f"{row.counterparty_name}\n{row.counterparty_id_masked}",
                      format_cny(row.debit_fen) if row.debit_fen else "",
                      format_cny(row.credit_fen) if row.credit_fen else "", format_cny(row.balance_fen),
                      row.preparer])
        if len(chunk) == 500:
            story.append(Table([header] + chunk, colWidths=widths, repeatRows=1, style=style))
            chunk = []
    if chunk:
        story.append(Table([header] + chunk, colWidths=widths, repeatRows=1, style=style))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=30 * mm, bottomMargin=14 * mm)
    pages = []
    doc.build(story, onLaterPages=lambda c, d: pages.append(1), onFirstPage=lambda c, d: pages.append(1))
    return {"seconds": time.perf_counter() - started, "pages": len(pages), "bytes": len(buffer.getvalue())}


CITY_PARAMETERS = {"fund": "370800", "from": "2026-01-01", "to": "2026-12-31"}


def _city_request(database: str):
    from ledger import create_app
    from ledger.auth.services import get_user
    from ledger.extensions import db
    from ledger.reports import services
    from ledger.reports.models import ReportFormat, ReportKind

    app = create_app({"LEDGER_CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    context = app.app_context()
    context.push()
    user = get_user(db.session, "auditor")
    request = services.prepare(db.session, user, ReportKind.fund_statement, ReportFormat.pdf, CITY_PARAMETERS)
    return user, request


def child_city(database: str) -> dict:
    """The statement as the service renders it today (ReportLab)."""
    from ledger.reports import services

    user, request = _city_request(database)
    progress: list[int] = []
    started = time.perf_counter()
    rendered = services.render(request, user, progress.append)
    return {"seconds": time.perf_counter() - started, "pages": rendered.pages, "bytes": len(rendered.data),
            "funds": request.rows, "progress_reports": len(progress),
            "progress_below_full": len([p for p in progress if p < request.rows])}


def child_city_weasy(database: str) -> dict:
    """The same statement through the WeasyPrint renderer it replaced (the template is kept)."""
    from ledger.reports import services
    from ledger.reports.pdf_weasy import render_pdf

    user, request = _city_request(database)
    started = time.perf_counter()
    with services.reading_session() as reader:
        context = services.build_context(reader, request, user)
        data, pages = render_pdf("reports/statement_pdf.html", context)
    return {"seconds": time.perf_counter() - started, "pages": pages, "bytes": len(data), "funds": request.rows}


def seed_demo(database: str) -> None:
    import logging

    from flask_migrate import upgrade

    from ledger import create_app
    from ledger.demo import seed
    from ledger.extensions import db

    logging.disable(logging.INFO)
    app = create_app({"LEDGER_CONFIG_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        upgrade()
        seed(db.session)
        db.session.commit()


def run_child(*args) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], check=True,
                            capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--child", nargs="+")
    options = parser.parse_args()
    sys.path.insert(0, ROOT)
    if options.child:
        import resource

        kind, argument = options.child[0], options.child[1]
        if kind in ("ours", "bare"):
            result = {"ours": child_ours, "bare": child_bare}[kind](int(argument))
        else:
            result = {"city": child_city, "city-weasy": child_city_weasy}[kind](argument)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    n = options.rows
    bare = run_child("bare", n)
    ours = run_child("ours", n)
    print(f"journal register, {n} entries (A4 landscape, tables of 500 rows, header repeated)")
    for name, r in (("bare ReportLab", bare), ("ledger register", ours)):
        print(f"  {name:16s} {r['seconds']:7.1f} s  {r['pages']:5d} pages  {r['pages'] / r['seconds']:6.1f} pages/s"
              f"  {n / r['seconds']:7.0f} rows/s  peak {r['peak_mb']:6.0f} MB  {r['bytes'] / 1e6:5.1f} MB file")
    ratio = (n / ours["seconds"]) / (n / bare["seconds"])
    print(f"  speed ours / bare: {ratio:.2f} (target >= 0.70)   peak: {ours['peak_mb']:.0f} MB (target < 400 MB)")

    with tempfile.TemporaryDirectory() as directory:
        database = os.path.join(directory, "demo.sqlite3")
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {ROOT!r}); "
                        f"from bench.reports import seed_demo; seed_demo({database!r})"],
                       check=True, cwd=ROOT, capture_output=True)
        old = run_child("city-weasy", database)
        new = run_child("city", database)
    print(f"city-wide fund statement ({new['funds']} funds), the same run:")
    for name, r in (("WeasyPrint (old)", old), ("ReportLab (new)", new)):
        print(f"  {name:16s} {r['seconds']:7.2f} s  {r['pages']:5d} pages  peak {r['peak_mb']:6.0f} MB"
              f"  {r['bytes'] / 1e6:5.2f} MB file")
    print(f"  time new / old: {new['seconds'] / old['seconds']:.3f} (target <= 0.20), "
          f"{old['seconds'] / new['seconds']:.1f}x faster; progress reported {new['progress_reports']} times, "
          f"{new['progress_below_full']} of them before the end")


if __name__ == "__main__":
    main()
