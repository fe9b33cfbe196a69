"""CSV for Excel without formula injection (OWASP "CSV injection").

Excel (and LibreOffice, WPS) runs a cell whose text starts with ``= + - @`` -- or a tab or carriage
return before one -- as a formula: a model's response or an annotator's comment such as
``=HYPERLINK("http://…")`` would become a live link or worse on the reviewer's machine. A CSV written
for Excel (``--excel``, with a BOM) therefore writes such a cell behind a ``'``, which Excel shows as
text and does not display. A cell that itself starts with ``'`` gets one too, so reading the file back
(:func:`unescape_cell`, applied to CSVs that start with a BOM) gives every text exactly as it was."""

from __future__ import annotations

#: a cell starting with one of these is a formula to a spreadsheet (``'`` escapes the escape)
ESCAPED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_cell(value):
    """``value`` as a spreadsheet shows it as text: a string starting with :data:`ESCAPED_STARTS` gets a leading ``'``."""
    return "'" + value if isinstance(value, str) and value.startswith(ESCAPED_STARTS) else value


def unescape_cell(value):
    """The text :func:`escape_cell` was given: one leading ``'`` dropped where it escaped something."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(ESCAPED_STARTS):
        return value[1:]
    return value
