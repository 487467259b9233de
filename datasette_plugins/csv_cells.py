"""Datasette's CSV (``/kb/entries.csv``, ``/kb.csv?sql=…``) without cells a spreadsheet runs.

Datasette writes every value as it is, so a title ``=HYPERLINK(…)`` or a tag ``@SUM(1+1)``
became a formula in whoever opened the download in Excel. Datasette has no setting or hook
for its CSV rows, so this ASGI layer rewrites the stream on its way out: it reads the CSV
as Python's ``csv`` module writes it (comma, double quotes doubled, CRLF), one field at a
time, and puts an apostrophe in front of each field :func:`kb.core.spreadsheet.safe_cell`
would change, inside the quotes of a quoted one. Nothing else in the bytes changes.
"""

from __future__ import annotations

import codecs
import re

from kb.core.spreadsheet import safe_cell

_QUOTED = re.compile(r'"(?:[^"]|"")*"')
_UNQUOTED = re.compile(r"[^,\r\n]*")
CSV_TYPES = (b"text/csv", b"text/plain")  # Datasette's CSV is text/plain unless ?_dl=1


class CellGuard:
    """Fed the CSV text piece by piece, gives back the same text with every field that a
    spreadsheet would run made safe (a field split between pieces waits for its end)."""

    def __init__(self):
        self._pending = ""
        self._field_start = True

    def feed(self, text: str, final: bool = False) -> str:
        buf = self._pending + text
        out: list[str] = []
        i, n = 0, len(buf)
        while i < n:
            if not self._field_start:
                out.append(buf[i])  # a comma or a line end (or text after an error: passed on)
                self._field_start = buf[i] in ",\r\n"
                i += 1
                continue
            if buf[i] == '"':
                match = _QUOTED.match(buf, i)
                # the closing quote may be the first of a doubled one: wait for the next piece
                if match is None or (match.end() == n and not final):
                    break
                field = match.group()
                value = field[1:-1].replace('""', '"')
                out.append(field if safe_cell(value) == value else "\"'" + field[1:])
            else:
                match = _UNQUOTED.match(buf, i)
                if match.end() == n and not final:
                    break  # the field may go on in the next piece
                field = match.group()
                out.append(safe_cell(field))
            i = match.end()
            self._field_start = False
        self._pending = buf[i:]
        if final and self._pending:
            out.append(self._pending)
            self._pending = ""
        return "".join(out)


def wrap(app, is_csv_path):
    """``app`` with the fields of its CSV responses made safe; ``is_csv_path(scope)`` says
    which requests may answer with Datasette's CSV."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http" or not is_csv_path(scope):
            return await app(scope, receive, send)
        guard: CellGuard | None = None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")

        async def rewriting(event):
            nonlocal guard
            if event["type"] == "http.response.start":
                headers = event.get("headers", [])
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.split(b";")[0].strip().lower() in CSV_TYPES:
                    guard = CellGuard()
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    event = {**event, "headers": headers}
            elif event["type"] == "http.response.body" and guard is not None:
                final = not event.get("more_body", False)
                text = guard.feed(decoder.decode(event.get("body", b""), final), final)
                event = {**event, "body": text.encode("utf-8", errors="surrogateescape")}
            await send(event)

        return await app(scope, receive, rewriting)

    return guarded
