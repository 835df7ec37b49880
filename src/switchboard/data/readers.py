"""Reading text files into frames so that every problem can be pinned to a line.

pandas reports a bad JSON line by byte offset, refuses a whole CSV over one undecodable byte
without saying where, and its JSON reader silently drops lone surrogates (`"\\ud800"`). So the
loaders decode the bytes here (naming line and column of the first bad byte), parse JSON Lines
one line at a time with the standard library (which keeps every value's JSON type for the
per-row type checks in validate.py), and record the physical line each row starts on in the
`SOURCE_LINE` column, which validation turns into the rejects file's `line`.

Encoding choice, as csvkit (`-e`), xsv and pandas (`encoding=`) do: UTF-8 by default, any
Python codec by `--encoding`, and a file that does not decode is refused naming the first bad
byte -- never half-read, and never silently "repaired" with replacement characters, since a
file in the wrong encoding is wrong on every non-ASCII row, not on one.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from pathlib import Path

import pandas as pd

from switchboard.data.errors import DataError
from switchboard.data.schema import SOURCE_LINE

DEFAULT_ENCODING = "utf-8"


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; an unknown one is a `DataError` before any file is read."""
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise DataError(
            f"--encoding {encoding!r}: unknown encoding (e.g. utf-8, latin-1, cp1252)"
        ) from exc


def read_text(path: Path, encoding: str = DEFAULT_ENCODING) -> str:
    """The whole file decoded; gzip when the name ends in .gz. A UTF-8 BOM is dropped."""
    codec = check_encoding(encoding)
    try:
        data = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    try:
        return data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        raise DataError(_decode_message(path, data, exc, codec)) from exc


def _decode_message(path: Path, data: bytes, exc: UnicodeDecodeError, codec: str) -> str:
    """`file:line: not UTF-8 (byte 0xe9 at column 4); ...`: where the first bad byte is."""
    prefix = data[: exc.start].decode(codec, errors="replace")
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    name = "UTF-8" if codec == "utf-8" else codec
    hint = "latin-1" if codec == "utf-8" else "<the file's encoding>"
    return (
        f"{path}:{line}: not {name} (byte 0x{data[exc.start]:02x} at column {column}); "
        f"re-save as UTF-8 or pass --encoding {hint}"
    )


def read_csv_text(path: Path, text: str, sep: str = ",") -> pd.DataFrame:
    """A delimited file, every value a string, with the line each row starts on."""
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""]
        )
    except ValueError as exc:  # pandas' ParserError and EmptyDataError name the line already
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    lines = record_lines(text, sep)
    if lines is not None and len(lines) == len(frame):
        frame[SOURCE_LINE] = lines
    return frame


def record_lines(text: str, sep: str = ",") -> list[int] | None:
    """The physical line each data record starts on (quoted newlines span lines), or None.

    A second, standard-library parse: pandas does not expose line numbers. Blank lines are
    skipped as pandas skips them; the caller drops the result if the counts disagree.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    starts: list[int] = []
    previous = 0
    try:
        for record in reader:
            if record:
                starts.append(previous + 1)
            previous = reader.line_num
    except csv.Error:  # e.g. a field over csv's size limit: rows keep their numbers only
        return None
    return starts[1:]  # the first record is the header


def read_jsonl_text(path: Path, text: str) -> pd.DataFrame:
    """One JSON object per line; a line that is not one is refused naming its number.

    Blank lines are skipped. Values keep their JSON types (a number stays a number), so that
    validation can reject a `text` that is not a string instead of coercing it.
    """
    records: list[dict[str, object]] = []
    lines: list[int] = []
    # Split on "\n" only: str.splitlines() also breaks on U+2028 and friends, which JSON allows
    # unescaped inside strings. A "\r" left by CRLF is JSON whitespace.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        if not isinstance(value, dict):
            raise DataError(
                f"{path}:{number}: expected one JSON object per line, got {json_type(value)}"
            )
        records.append(value)
        lines.append(number)
    if not records:
        return pd.DataFrame({"text": pd.Series([], dtype=object)})
    # Column by column as object dtype: pandas would infer its Arrow string dtype, which
    # cannot hold the lone surrogates that validation must see to reject.
    names = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame(
        {name: pd.Series([r.get(name) for r in records], dtype=object) for name in names}
    )
    frame[SOURCE_LINE] = lines
    return frame


def json_type(value: object) -> str:
    """A value's type in JSON's words (what a person wrote in the file)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
