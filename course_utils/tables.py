"""Plain-text tables: the printed, rounded summaries a notebook's regression test checks."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from course_utils.validation import MAX_DIGITS, MAX_ITEMS, check_int, check_sequence

__all__ = ["format_table"]


def _cell(value, digits: int, percent: bool) -> str:
    if isinstance(value, str):
        return value
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"a table cell must be a number or a string; got {value!r}") from None
    if not math.isfinite(value):
        return "overflow" if math.isinf(value) else "nan"
    if percent:
        return f"{value:.{max(digits - 2, 0)}%}"
    text = f"{value:.{digits}f}"
    return "0." + "0" * digits if text == "-0." + "0" * digits else text  # no "-0.000"


def format_table(
    columns: Mapping[str, Sequence],
    *,
    index: Sequence | None = None,
    index_name: str = "layer",
    digits: int = 3,
    percent: Sequence[str] = (),
) -> str:
    """Format equal-length columns as a right-aligned text table.

    Parameters
    ----------
    columns : mapping of str -> sequence
        Column title -> values (numbers, or strings shown as they are).
    index : sequence, optional
        Row labels; default 1, 2, ... (layers count from 1).
    index_name : str
        Title of the index column.
    digits : int
        Decimals for numbers; percentages get ``digits - 2`` decimals (0.123 -> 12.3%).
    percent : sequence of str
        Titles of the columns shown as percentages.

    Returns
    -------
    str
    """
    if not isinstance(columns, Mapping):
        raise ValueError(
            f"columns must be a mapping of title -> values; got {type(columns).__name__}"
        )
    digits = check_int("digits", digits, 0, MAX_DIGITS)
    if not isinstance(index_name, str):
        raise ValueError(f"index_name must be a string; got {index_name!r}")
    percent = check_sequence("percent", percent, min_len=0)
    columns = {
        name: check_sequence(f"columns[{name!r}]", values, min_len=0, max_len=MAX_ITEMS)
        for name, values in columns.items()
    }
    if index is not None:
        index = check_sequence("index", index, min_len=0)
    lengths = {name: len(values) for name, values in columns.items()}
    if not lengths:
        raise ValueError("columns must hold at least one column; got none")
    if len(set(lengths.values())) != 1:
        raise ValueError(f"columns must have equal lengths; got {lengths}")
    unknown = set(percent) - set(columns)
    if unknown:
        raise ValueError(f"percent names columns that do not exist: {sorted(unknown)}")
    n = next(iter(lengths.values()))
    index = list(range(1, n + 1)) if index is None else list(index)
    if len(index) != n:
        raise ValueError(f"index must have {n} labels; got {len(index)}")
    table = [[index_name, *columns]]
    for row in range(n):
        table.append(
            [str(index[row])]
            + [_cell(values[row], digits, name in percent) for name, values in columns.items()]
        )
    widths = [max(len(line[col]) for line in table) for col in range(len(table[0]))]
    lines = []
    for number, line in enumerate(table):
        first = line[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
