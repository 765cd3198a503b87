"""CSV files of numeric features and one target column.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "pets.csv"
>>> _ = path.write_text("weight,height,kind\\n4.1,25,cat\\n30,60,dog\\n3.5,23,cat\\n")
>>> X, y, classes = load_csv(path, target="kind", return_classes=True)
>>> X.shape, y.tolist(), classes
((3, 2), [0, 1, 0], ['cat', 'dog'])
"""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_csv", "csv_columns"]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_int(cell: str) -> bool:
    try:
        int(cell)
    except ValueError:
        return False
    return True


_OTHER_DELIMITERS = (";", "\t", "|", ",", " ")  # " ": numpy.savetxt's default


def _check_delimiter(where: str, rows: list[list[str]], lines: list[int], delimiter: str) -> None:
    """A first row that ``delimiter`` leaves whole but another common separator splits means the
    file uses that one (a European ';' CSV read with ',', a TSV...): say so before anything
    else, which would only report its symptoms (no header, ragged rows, a single column)."""
    if len(rows[0]) != 1:
        return
    first = rows[0][0]
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in first:
            shown = first if len(first) <= 60 else first[:57] + "..."
            raise ValueError(
                f"{where}: row {lines[0]} ({shown!r}) has no {delimiter!r} but its values seem "
                f"to be separated by {other!r}. Pass delimiter={other!r}."
            )


def _check_names(where: str, names: list[str]) -> None:
    """Every column of a header has a name, and its own."""
    if "" in names:
        i = names.index("")
        hint = ""
        if i == 0:
            hint = " (a row index written by pandas' to_csv? write it with index=False)"
        elif i == len(names) - 1:
            hint = " (a delimiter at the end of each line? remove it)"
        raise ValueError(
            f"{where}: column {i} has no name in the header{hint}. Name every column, or drop "
            "the ones that are not data."
        )
    _check_unique(where, names)


def _check_unique(where: str, names: list[str], among: list[str] | None = None) -> None:
    """No name (of ``among``, default all) names two columns: columns are matched by name."""
    for name in names if among is None else among:
        if names.count(name) > 1:
            first = names.index(name)
            second = names.index(name, first + 1)
            raise ValueError(
                f"{where}: the header names {name!r} twice (columns {first} and {second}), so "
                "which one is meant is unclear. Give each column its own name."
            )


def _detect_header(rows: list[list[str]]) -> bool:
    """The first row is a header when none of its cells is a number and (unless it is the only
    row) some column holds a name there and a number in the second row."""
    first = rows[0]
    if any(_is_number(cell) for cell in first):
        return False
    if len(rows) == 1:
        return True
    return any(_is_number(cell) for cell in rows[1])


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows and their line numbers in the file (1-based)."""
    rows, lines = [], []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                rows.append(row)
                lines.append(reader.line_num)
        except csv.Error as e:  # e.g. a field over csv's limit of 131,072 characters
            raise ValueError(
                f"load_csv: {str(path)!r}: cannot read row {reader.line_num}: {e}. Is it a "
                "CSV file of numbers?"
            ) from None
    return rows, lines


def load_csv(
    path: str | os.PathLike[str],
    target: int | str = -1,
    delimiter: str = ",",
    header: bool | None = None,
    return_classes: bool = False,
) -> Any:
    """Read features and a target from a CSV file.

    Parameters
    ----------
    path : path
    target : int or str, default=-1
        The target column: an index (negative counts from the end) or a header name. Every
        other column is a feature.
    delimiter : str, default=","
    header : bool or None, default=None
        Whether the first row holds column names; None detects it (a first row without numbers
        followed by a row with numbers).
    return_classes : bool, default=False
        Also return the class names (list of str) when the target holds text labels, else None.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,)
        int64 when every target cell is an integer; text labels become the ids of their sorted
        class names (int64); float32 otherwise.
    classes : list of str or None
        Only with ``return_classes=True``.

    Blank lines are skipped. Row numbers in error messages are line numbers in the file.
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(
            f"load_csv: delimiter must be a single character such as ',', ';' or '\\t'. "
            f"Received: delimiter={delimiter!r}"
        )
    if header is not None and not isinstance(header, (bool, np.bool_)):
        raise TypeError(
            f"load_csv: header must be None (detect), True or False. Received: header={header!r}"
        )
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"load_csv: {str(path)!r} {what}. Check the path.")
    where = f"load_csv: {str(path)!r}"  # starts the messages about the file
    try:
        rows, lines = _read_rows(path, delimiter)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"load_csv: {str(path)!r} is not a UTF-8 text file (byte {e.object[e.start]:#04x} at "
            f"position {e.start}): save it as CSV in UTF-8, e.g. from a spreadsheet."
        ) from None
    if not rows:
        raise ValueError(
            f"load_csv: {str(path)!r} is empty; expected rows of {delimiter!r}-separated "
            "numbers, one sample per row."
        )
    _check_delimiter(where, rows, lines, delimiter)
    if header is None:
        header = _detect_header(rows)
    names = [cell.strip() for cell in rows[0]] if header else None
    if names is not None:
        _check_names(where, names)
    if header:
        rows, lines = rows[1:], lines[1:]
        if not rows:
            raise ValueError(
                f"load_csv: {str(path)!r} has a header row but no data rows. Pass header=False "
                "if the first row is data."
            )
    n_columns = len(names) if names is not None else len(rows[0])
    for row, line in zip(rows, lines):
        if len(row) != n_columns:
            source = "the header" if names is not None else f"row {lines[0]}"
            raise ValueError(
                f"{where}: row {line} has {len(row)} columns but {source} has {n_columns}. "
                "Every row needs the same columns: check for a missing or extra "
                f"{delimiter!r}, or a delimiter inside an unquoted value."
            )
    column = _target_index(target, names, n_columns)
    if n_columns < 2:
        raise ValueError(
            f"load_csv: {str(path)!r} has a single column (the target) and no feature columns. "
            f"Check the delimiter: got delimiter={delimiter!r}."
        )
    features = [i for i in range(n_columns) if i != column]

    def label(i: int) -> str:
        return f"column {names[i]!r} (index {i})" if names is not None else f"column {i}"

    X = _features(where, rows, lines, features, label)
    y, classes = _targets(where, rows, lines, column, label)
    return (X, y, classes) if return_classes else (X, y)


def csv_columns(
    path: str | os.PathLike[str],
    target: int | str = -1,
    delimiter: str = ",",
    header: bool | None = None,
) -> tuple[list[str] | None, str | int]:
    """``(feature names, target)`` of a CSV file that :func:`load_csv` reads with the same
    arguments: the header's names of the feature columns (None without a header) and the
    target's name (its non-negative index without a header). Reads the first two rows only.
    """
    rows: list[list[str]] = []
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        for row in csv.reader(f, delimiter=delimiter):
            if row and not (len(row) == 1 and not row[0].strip()):
                rows.append(row)
            if len(rows) == 2:
                break
    if header is None:
        header = _detect_header(rows)
    names = [cell.strip() for cell in rows[0]] if header else None
    column = _target_index(target, names, len(rows[0]))
    if names is None:
        return None, column
    return [n for i, n in enumerate(names) if i != column], names[column]


def _target_index(target: Any, names: list[str] | None, n_columns: int) -> int:
    if isinstance(target, str):
        if names is None:
            raise ValueError(
                f"load_csv: target={target!r} is a column name, but the file has no header row. "
                "Pass header=True if the first row holds the names, or give target as a column "
                "index."
            )
        if target not in names:
            raise ValueError(
                f"load_csv: there is no column named {target!r}; the columns are {names}. "
                "Pass one of these names or a column index as target."
            )
        return names.index(target)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -n_columns <= target < n_columns:
            raise ValueError(
                f"load_csv: target={target} is out of range for a file with {n_columns} columns; "
                f"use an index in [{-n_columns}, {n_columns - 1}] or a header name."
            )
        return int(target) % n_columns
    raise TypeError(
        f"load_csv: target must be a column index (int) or a header name (str). "
        f"Received: target={target!r}"
    )


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _fits_float32(value: float) -> bool:
    return math.isfinite(value) and abs(value) <= _FLOAT32_MAX


def _bad_number(where: str, cell: str, line: int, column: str, what: str) -> ValueError:
    """The error for a cell holding nan/inf, or a number beyond float32's range."""
    if math.isfinite(float(cell)):
        return ValueError(
            f"{where}: {what} value {cell!r} at row {line}, {column} is too large for float32 "
            "(at most about 3.4e38). Rescale this column before loading."
        )
    return ValueError(
        f"{where}: {what} value {cell!r} at row {line}, {column} is not a finite number. "
        "Impute or drop rows with nan/inf before loading."
    )


def _features(
    where: str, rows: list[list[str]], lines: list[int], columns: list[int], label: Any
) -> Any:
    cells = [[row[i] for i in columns] for row in rows]
    try:  # fast path: NumPy parses the strings
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None:
        with np.errstate(over="ignore"):
            as32 = values.astype(np.float32)
        bad = ~np.isfinite(as32)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise _bad_number(where, cells[r][c].strip(), lines[r], label(columns[c]), "feature")
        return as32
    values = np.empty((len(cells), len(columns)), dtype=np.float32)
    for r, (row, line) in enumerate(zip(cells, lines)):  # say where the first bad cell is
        for c, (cell, i) in enumerate(zip(row, columns)):
            if not cell.strip():
                raise ValueError(
                    f"{where}: empty cell at row {line}, {label(i)}. Fill in or drop rows with "
                    "missing values before loading."
                )
            if not _is_number(cell):
                if re.fullmatch(r"\s*[-+]?\d+,\d+\s*", cell):
                    raise ValueError(
                        f"{where}: non-numeric feature value {cell!r} at row {line}, {label(i)}: "
                        "a decimal comma? Numbers need a decimal point (1.5, not 1,5): export "
                        "the file with '.' as the decimal separator."
                    )
                raise ValueError(
                    f"{where}: non-numeric feature value {cell!r} at row {line}, {label(i)}. "
                    "Features must be numbers: encode categories as numbers (e.g. one-hot "
                    "columns), or choose this column as the target. If this row is a header, "
                    "pass header=True."
                )
            if not _fits_float32(float(cell)):
                raise _bad_number(where, cell.strip(), line, label(i), "feature")
            values[r, c] = float(cell)
    return values


def _targets(
    where: str, rows: list[list[str]], lines: list[int], column: int, label: Any
) -> tuple[np.ndarray, list[str] | None]:
    cells = [row[column].strip() for row in rows]
    for cell, line in zip(cells, lines):
        if not cell:
            raise ValueError(
                f"{where}: empty target cell at row {line}, {label(column)}. Drop rows without "
                "a target before loading."
            )
    if all(_is_int(cell) for cell in cells):
        return np.array([int(cell) for cell in cells], dtype=np.int64), None
    if all(_is_number(cell) for cell in cells):
        for cell, line in zip(cells, lines):
            if not _fits_float32(float(cell)):
                raise _bad_number(where, cell, line, label(column), "target")
        return np.array([float(cell) for cell in cells], dtype=np.float32), None
    classes, ids = np.unique(np.array(cells), return_inverse=True)
    return ids.astype(np.int64).reshape(-1), [str(c) for c in classes]
