"""A report as a sheet: XLSX through openpyxl (Chinese headers, frozen header row, widths that fit, totals at the
bottom) and CSV through the csv module (UTF-8 with BOM, so Excel opens it as such). The header names come from
figures.FIGURES; `complaints_by_class` becomes one column per class."""
from __future__ import annotations

import csv
import io

from .figures import BY, FIGURES, RATES

CLASSES = (("simple", "简单件"), ("complex", "复杂件"), ("special", "特殊件"))
EXTRA = {"rank": "排名", "score": "考核得分"}


def columns(keys: list[str] | None = None) -> list[tuple[str, str]]:
    """(figure key or key.class, Chinese header) of every figure column."""
    cols: list[tuple[str, str]] = []
    for k in keys or list(FIGURES):
        if k == "complaints_by_class":
            cols += [(f"{k}.{c}", f"反映数（{zh}）") for c, zh in CLASSES]
        elif k in EXTRA:
            cols.append((k, EXTRA[k]))
        else:
            cols.append((k, FIGURES[k][0]))
    return cols


def _value(row: dict, key: str):
    if "." in key:
        k, c = key.split(".")
        return (row.get(k) or {}).get(c)
    return row.get(key)


def table(report: dict, by: str, extra: tuple[str, ...] = ()) -> tuple[list[str], list[list]]:
    """The header and the rows (the totals row last, when the report has one)."""
    cols = columns([*extra, *FIGURES])
    header = [BY.get(by, (by,))[0], "名称", *(zh for _k, zh in cols)]
    body = [[r["key"], r["label"], *(_value(r, k) for k, _ in cols)] for r in report["rows"]]
    if report.get("totals"):
        t = report["totals"]
        body.append(["合计", t["label"], *(_value(t, k) for k, _ in cols)])
    return header, body


def to_csv(header: list[str], body: list[list]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(["" if v is None else v for v in row] for row in body)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _width(v) -> int:
    s = "" if v is None else str(v)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)     # a CJK character is two columns wide


def to_xlsx(header: list[str], body: list[list], title: str) -> bytes:
    from openpyxl import Workbook  # only when a sheet is asked for: it costs start-up time
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for row in body:
        ws.append(row)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    if body and body[-1] and body[-1][0] == "合计":
        for cell in ws[ws.max_row]:
            cell.font = bold
    ws.freeze_panes = "C2"                   # the header row (and the key and name columns) stay in view
    rate_cols = {i for i, h in enumerate(header) if any(FIGURES[k][0] == h for k in RATES)}
    for i, h in enumerate(header):
        letter = get_column_letter(i + 1)
        widest = max([_width(h)] + [_width(r[i]) for r in body if i < len(r)])
        ws.column_dimensions[letter].width = min(60, widest + 2)
        if i in rate_cols:
            for cell in ws[letter][1:]:
                cell.number_format = "0.00%"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
