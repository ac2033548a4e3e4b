"""What the reference scripts that write test fixtures share (numpy only): the text of a value, a
CSV written into test/data, and the check that it reads back as the values written.

Floats are written with repr(), the shortest text that reads back as the same IEEE double, so the
database parses exactly the doubles a script computed with; None is an empty cell (NULL); booleans
are t / f; integers are integers."""
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data")


def fmt(x):
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    if isinstance(x, (bool, np.bool_)):
        return "t" if x else "f"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite value {x!r}")
    return repr(x)


def write_csv(name, header, rows):
    """test/data/name: the header, then one line per row; returns the path."""
    path = os.path.join(OUT, name)
    with open(path, "w", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(fmt(v) for v in row) + "\n")
    return path


def check_roundtrip(path, header, rows):
    """Re-read a CSV and assert every cell reads back as exactly the value written."""
    with open(path) as f:
        lines = f.read().splitlines()
    if lines[0] != ",".join(header) or len(lines) != len(rows) + 1:
        raise AssertionError(f"{path}: header or row count differs")
    for line, row in zip(lines[1:], rows):
        cells = line.split(",")
        if len(cells) != len(row):
            raise AssertionError(f"{path}: {line!r} has {len(cells)} cells, not {len(row)}")
        for cell, v in zip(cells, row):
            if v is None:
                ok = cell == ""
            elif isinstance(v, str):
                ok = cell == v
            elif isinstance(v, (bool, np.bool_)):
                ok = cell == ("t" if v else "f")
            elif isinstance(v, (int, np.integer)):
                ok = int(cell) == int(v)
            else:
                ok = float(cell) == float(v)
            if not ok:
                raise AssertionError(f"{path}: {cell!r} != {v!r}")
