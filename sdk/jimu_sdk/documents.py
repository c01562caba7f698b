"""Helpers for the documents plugins export (XLSX workbooks, PDFs).

Example::

    from jimu_sdk.documents import stable_xlsx

    book.save(out)
    return stable_xlsx(out.getvalue(), quotation["updated_at"])
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def stable_xlsx(data: bytes, stamp: dt.datetime) -> bytes:
    """An XLSX (a zip) whose bytes depend on its content only: every entry dated 1980-01-01,
    and the document's "modified" (which openpyxl sets to the moment of saving) set to
    ``stamp``. The same content gives the same bytes (caches, checksums, "did this change?")."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = MODIFIED.sub(rb"\g<1>" + when + rb"\g<2>", content)
            fixed = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return out.getvalue()
