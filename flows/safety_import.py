"""Land per-model safety evaluations the user owns (``hubgenome safety import FILE``).

Evaluations are the user's data, so they live in the data directory's raw landing, never in the
checkout or the install location: each import lands its validated rows in
``user_safety_evaluations`` with one ``safety_imports`` row, in one transaction. A file with any
bad row is refused whole, with a message naming each bad row and column, and leaves the landing
as it was. The landing is append-only: importing a corrected file later supersedes the earlier rows
of the same (model, method, attack or benchmark, metric, date) in the warehouse, and the earlier
import stays queryable. A model id the warehouse does not know is kept and flagged there
(``fct_safety_evaluations.is_model_in_warehouse``): the evaluation may be of a model not crawled yet.

File columns (CSV, UTF-8 with a header row, or Parquet):

=====================  =========  ===============================================================
column                 required   meaning
=====================  =========  ===============================================================
model_id               yes        Hub repo id of the evaluated model, ``owner/name``
method                 yes        defence or alignment method applied (``none`` for the base model)
attack_or_benchmark    yes        attack or benchmark evaluated on (``PAIR``, ``GCG``, ...)
metric                 yes        what ``value`` measures (``attack_success_rate``, ...)
value                  yes        the number, finite
source                 yes        where the number comes from (paper table, artifact URL, run id)
unit                   no         unit of ``value`` (``percent``, ``fraction``, ...)
evaluated_on           no         ISO date of the evaluation (``2024-03-28``)
=====================  =========  ===============================================================
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from hubgenome.core.errors import HubgenomeError
from hubgenome.flows import landing

REQUIRED_COLUMNS = ("model_id", "method", "attack_or_benchmark", "metric", "value", "source")
OPTIONAL_COLUMNS = ("unit", "evaluated_on")
#: What makes two rows the same evaluation; a file may hold each key once.
KEY_COLUMNS = ("model_id", "method", "attack_or_benchmark", "metric", "evaluated_on")
#: How many problems one refusal lists before it says "and N more".
MAX_PROBLEMS_SHOWN = 20
#: Longest text accepted in any cell: an evaluation label, not a document.
MAX_CELL_CHARS = 2_000


class SafetyImportError(HubgenomeError):
    """A safety evaluations file was refused; nothing of it was landed."""


@dataclass(frozen=True)
class SafetyImport:
    """What one import landed."""

    import_id: str
    source_file: str
    rows_landed: int
    models: int


def import_safety_evaluations(raw_db: Path, file: Path) -> SafetyImport:
    """Validate ``file`` and land all of its rows in ``raw_db``, or refuse it whole.

    Raises
    ------
    SafetyImportError
        The file is missing, of an unknown format, not UTF-8, lacks a required column, has an
        unknown column, or has rows with an empty, non-numeric, non-finite or duplicated value;
        the message names every bad row (up to 20) and column.
    """
    rows, line_of = _read_rows(file)
    clean = _validated(rows, line_of, file)
    content = file.read_bytes()
    import_id = f"{landing.utcnow():%Y%m%dT%H%M%SZ}-safety-{uuid.uuid4().hex[:8]}"
    con = landing.connect(raw_db)
    try:
        con.execute("begin transaction")
        con.execute(
            "insert into safety_imports values (?, ?, ?, ?, ?)",
            [import_id, str(file.resolve()), hashlib.sha256(content).hexdigest(), len(clean), landing.utcnow()],
        )
        con.executemany(
            "insert into user_safety_evaluations values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    import_id,
                    number,
                    row["model_id"],
                    row["method"],
                    row["attack_or_benchmark"],
                    row["metric"],
                    row["value"],
                    row["unit"],
                    row["evaluated_on"],
                    row["source"],
                ]
                for number, row in clean
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    return SafetyImport(
        import_id=import_id,
        source_file=str(file),
        rows_landed=len(clean),
        models=len({row["model_id"] for _, row in clean}),
    )


def _read_rows(file: Path) -> tuple[list[dict[str, object]], str]:
    """The file's rows as dicts of its columns, and the word its rows are counted in ("line"/"row")."""
    if not file.is_file():
        msg = f"{file}: no such file"
        raise SafetyImportError(msg)
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        try:
            table = pq.read_table(file)
        except Exception as exc:
            msg = f"{file}: not a readable Parquet file ({exc})"
            raise SafetyImportError(msg) from exc
        _check_columns(table.column_names, file)
        return table.to_pylist(), "row"
    if suffix != ".csv":
        msg = f"{file}: expected a .csv or .parquet file of safety evaluations, got {suffix or 'no suffix'!r}"
        raise SafetyImportError(msg)
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = (
            f"{file}: line {line} is not UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); "
            "save the file as UTF-8 and import it again"
        )
        raise SafetyImportError(msg) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        msg = f"{file}: the file is empty; expected a header row with {', '.join(REQUIRED_COLUMNS)}"
        raise SafetyImportError(msg)
    _check_columns(reader.fieldnames, file)
    rows = []
    for row in reader:
        if None in row:  # more cells than header columns
            row = {key: value for key, value in row.items() if key is not None} | {"__extra__": row[None]}
        rows.append(row)
    return rows, "line"


def _check_columns(columns: list[str], file: Path) -> None:
    names = [str(column).strip() for column in columns]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    unknown = [column for column in names if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}")
    if problems:
        msg = (
            f"{file}: {'; '.join(problems)}. Expected columns: {', '.join(REQUIRED_COLUMNS)} "
            f"(required) and {', '.join(OPTIONAL_COLUMNS)} (optional); see `hubgenome safety import --help`."
        )
        raise SafetyImportError(msg)


def _validated(rows: list[dict[str, object]], unit_word: str, file: Path) -> list[tuple[int, dict]]:
    """Each row typed, with its 1-based number in the file; every problem found raises at once."""
    problems: list[str] = []
    clean: list[tuple[int, dict]] = []
    first_seen: dict[tuple, int] = {}
    # A CSV's first data row is line 2 (after the header); a Parquet file's first row is row 1.
    offset = 2 if unit_word == "line" else 1
    for index, row in enumerate(rows):
        number = index + offset
        where = f"{unit_word} {number}"
        if "__extra__" in row:
            problems.append(f"{where}: more cells than the header has columns")
            continue
        typed: dict[str, object] = {}
        for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            cell = row.get(column)
            text = "" if cell is None else str(cell).strip()
            if len(text) > MAX_CELL_CHARS:
                problems.append(f"{where}, column {column}: longer than {MAX_CELL_CHARS} characters")
                text = ""
            typed[column] = text
        for column in REQUIRED_COLUMNS:
            if typed[column] == "":
                problems.append(f"{where}, column {column}: empty")
        if typed["value"] != "":
            try:
                number_value = float(typed["value"])
            except ValueError:
                problems.append(f"{where}, column value: {typed['value']!r} is not a number")
            else:
                if math.isfinite(number_value):
                    typed["value"] = number_value
                else:
                    problems.append(f"{where}, column value: {typed['value']!r} is not a finite number")
        if typed["evaluated_on"] != "":
            try:
                typed["evaluated_on"] = dt.date.fromisoformat(str(typed["evaluated_on"])[:10])
            except ValueError:
                problems.append(
                    f"{where}, column evaluated_on: {typed['evaluated_on']!r} is not an ISO date (YYYY-MM-DD)"
                )
        else:
            typed["evaluated_on"] = None
        typed["unit"] = typed["unit"] or None
        key = tuple(typed[column] for column in KEY_COLUMNS)
        if key in first_seen:
            problems.append(
                f"{where}: duplicates {unit_word} {first_seen[key]} (same {', '.join(KEY_COLUMNS)}); keep one of them"
            )
        else:
            first_seen[key] = number
        clean.append((number, typed))
    if not rows:
        problems.append("no rows under the header")
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        msg = f"{file}: refused, nothing imported ({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n" + (
            "\n".join(f"  {problem}" for problem in shown) + (f"\n  ... and {more} more" if more else "")
        )
        raise SafetyImportError(msg)
    return clean
