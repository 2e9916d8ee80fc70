"""Reading the command line's input: a table or an array, and the columns to cluster.

Text tables (.csv, .tsv, .txt, compressed or not, or standard input) are read
by ``pandas.read_csv`` with its C parser: on this project's 2-core machine it
read a 1,000,000 x 20 CSV in 0.5-0.7 s, where the pyarrow engine took 1.4 s
(its conversion to a DataFrame and its thread start-up cost more than its
parallel parsing saves on two cores). .parquet goes through pyarrow, .npy
and .npz through NumPy.

What this module decides before the parser runs, from the first lines of a
text file: the delimiter (``,`` ``;`` tab or white space), the decimal mark,
whether the first line is a header, and whether it is a title line to skip.
After parsing, it chooses the columns to cluster and turns them into one
C-contiguous float array, checking every value; what it decided without
being told is reported as warnings that name the option which says it
explicitly.
"""

import bz2
import csv
import gzip
import io
import lzma
import os
import re
import sys
import zipfile
from dataclasses import dataclass, field, replace

import numpy as np

from ._cli_common import CLIError, plural
from ._validation import as_c_contiguous

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", ".dat")
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
_MAGIC = {
    b"\x93NUMPY": "npy",
    b"PK\x03\x04": "npz",  # also a zipped text table: told apart on reading
    b"PAR1": "parquet",
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
}
_SNIFF_BYTES = 1 << 16  # the first 64 KiB are enough to see a table's shape
_SNIFF_LINES = 50
# An integer column with at most this many distinct values, 0..m-1 or 1..m,
# may be a class label (see _label_like).
_MAX_LABEL_CLASSES = 20
_LABEL_NAMES = {
    "target", "label", "labels", "class", "classes", "y", "species", "cluster",
    "category", "outcome", "group",
}
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+([eE][+-]?\d+)?\s*$")


@dataclass
class ReadOptions:
    """What the command line says about its input (None: decide from the data)."""

    columns: list = None
    drop: list = field(default_factory=list)
    header: bool = None
    index_col: str = None
    delimiter: str = None
    decimal: str = None
    skip_rows: int = 0
    key: str = None
    dtype: str = None


@dataclass
class Data:
    """The samples to cluster and what they came from.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous and finite, float32 or float64.
    source : str
        The file's name, or ``<stdin>``.
    shape : tuple of int
        Rows and columns of the table as read, before choosing columns.
    columns : list of int
        The clustered columns, 0-based, in the order of X's features.
    names : list of str or None
        Every column's name when the file has them (a header, a DataFrame).
    description : str
        How the file was read, for the summary.
    frame : pandas.DataFrame or None
        The whole table as read, kept for a table output.
    warnings : list of str
        What was decided without being told, one message each.
    text : dict or None
        For a text table, how it was parsed (``sep``, ``decimal``).
    """

    X: np.ndarray
    source: str
    shape: tuple
    columns: list
    names: list = None
    description: str = ""
    frame: object = None
    warnings: list = field(default_factory=list)
    text: dict = None

    def column_name(self, j):
        """Column j (0-based) as a spreadsheet user counts it, with its name."""
        return _column_label(j, self.names)


def _require_pandas(what):
    try:
        import pandas
    except ImportError:
        raise CLIError(
            f"reading {what} needs pandas: pip install 'turbocluster[cli]'"
        ) from None
    return pandas


###############################################################################
# Which format


def input_format(path):
    """('text'|'parquet'|'npy'|'npz', compression or None) from a file name."""
    name = path.lower()
    compression = None
    for extension, kind in COMPRESSIONS.items():
        if name.endswith(extension):
            compression, name = kind, name[: -len(extension)]
            break
    extension = os.path.splitext(name)[1]
    if extension in TEXT_EXTENSIONS:
        return "text", compression
    if compression is None and extension in (".parquet", ".pq"):
        return "parquet", None
    if compression is None and extension in (".npy", ".npz"):
        return extension[1:], None
    shown = repr(os.path.splitext(path)[1]) if os.path.splitext(path)[1] else "no extension"
    raise CLIError(
        f"{path}: unsupported file type ({shown}); expected .csv, .tsv or .txt "
        "(optionally .gz, .bz2, .xz or .zip), .parquet, .npy or .npz"
    )


def _stdin_format(content):
    for magic, kind in _MAGIC.items():
        if content.startswith(magic):
            if kind in ("gzip", "bz2", "xz"):
                return "text", kind
            if kind == "npz" and not _is_npz(content):
                return "text", "zip"
            return kind, None
    return "text", None


def _is_npz(content):
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
    return bool(names) and all(name.endswith(".npy") for name in names)


###############################################################################
# Entry point


def read_data(path, options, stdin=None, keep_frame=False):
    """Read ``path`` (``-``: standard input) and choose the columns to cluster.

    Parameters
    ----------
    path : str
    options : ReadOptions
    stdin : binary file, default=None
        Read for ``-``; None reads ``sys.stdin.buffer``.
    keep_frame : bool, default=False
        Keep the whole table as a DataFrame in ``Data.frame`` (for a table
        output); otherwise it is released as soon as X is built.

    Returns
    -------
    data : Data

    Raises
    ------
    CLIError
        Naming the file and, for a bad value, its line and column.
    """
    if path == "-":
        stdin = sys.stdin.buffer if stdin is None else stdin
        content = stdin.read()
        if not content:
            raise CLIError("<stdin>: no data on standard input")
        kind, compression = _stdin_format(content)
        source, name = content, "<stdin>"  # bytes: each reader opens its own stream
    else:
        if not os.path.exists(path):
            raise CLIError(f"{path}: no such file")
        if os.path.isdir(path):
            raise CLIError(f"{path}: is a directory, expected a data file")
        kind, compression = input_format(path)
        if os.path.getsize(path) == 0:
            raise CLIError(f"{path}: the file is empty")
        source, name = path, path

    _refuse_options(name, kind, options)
    if kind == "text":
        return _read_text(source, name, compression, options, keep_frame)
    if kind == "parquet":
        return _read_parquet(source, name, options, keep_frame)
    return _read_array(source, name, kind, options, keep_frame)


def _refuse_options(name, kind, options):
    """Options that do not apply to this kind of file are an error, not ignored."""
    if options.key is not None and kind != "npz":
        raise CLIError(f"{name}: --key chooses an array of an .npz file, not of a {kind} file")
    if kind == "text":
        return
    given = [
        option for option, value in (
            ("--header/--no-header", options.header),
            ("--delimiter", options.delimiter),
            ("--decimal", options.decimal),
            ("--skip-rows", options.skip_rows or None),
        ) if value is not None
    ]
    if given:
        raise CLIError(
            f"{name}: {', '.join(given)} apply to text tables, not to a {kind} file"
        )


###############################################################################
# Text tables: what the first lines say


def _open_text(source, compression):
    """A text stream over a (possibly compressed) file or bytes."""
    # A path is opened by the decompressor, which then closes it too.
    raw = source if isinstance(source, str) else io.BytesIO(source)
    if compression == "gzip":
        raw = gzip.open(raw, "rb")
    elif compression == "bz2":
        raw = bz2.open(raw, "rb")
    elif compression == "xz":
        raw = lzma.open(raw, "rb")
    elif compression is None and isinstance(raw, str):
        raw = open(raw, "rb")
    elif compression == "zip":
        archive = zipfile.ZipFile(raw)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise CLIError(
                f"the zip archive holds {plural(len(members), 'file')}; "
                "expected exactly one table"
            )
        raw = archive.open(members[0])
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _first_lines(source, name, compression, skip_rows):
    """The first non-blank lines of the table after ``skip_rows`` raw lines,
    as (1-based line number, text), and the last comment line above them
    (as the same pair, or None)."""
    try:
        with _open_text(source, compression) as f:
            head = f.read(_SNIFF_BYTES)
            complete = len(head) < _SNIFF_BYTES
    except UnicodeDecodeError:
        raise CLIError(f"{name}: not a UTF-8 text file")
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise CLIError(f"{name}: cannot read: {getattr(exc, 'strerror', None) or exc}")
    lines = head.splitlines()
    if not complete and lines:
        lines.pop()  # possibly cut in the middle
    if skip_rows > len(lines) and not complete:
        raise CLIError(f"{name}: --skip-rows {skip_rows} skips more lines than were sniffed")
    # Blank lines and '#' comments above the table (np.savetxt writes its
    # header as '# a,b'): passed over, the last comment kept.
    numbered, comment = [], None
    for number, line in enumerate(lines[skip_rows:], start=skip_rows + 1):
        if not line.strip():
            continue
        if not numbered and line.lstrip().startswith("#"):
            comment = (number, line.lstrip()[1:].strip())
            continue
        numbered.append((number, line))
        if len(numbered) == _SNIFF_LINES:
            break
    if not numbered:
        if skip_rows:
            raise CLIError(f"{name}: no data after the {plural(skip_rows, 'skipped line')}")
        raise CLIError(f"{name}: the file is empty")
    return numbered, comment


def _split(line, sep):
    if sep == "whitespace":
        return line.split()
    return next(csv.reader([line], delimiter=sep))


def _sniff_delimiter(lines, name):
    """Tab, semicolon, comma or white space: the first that splits every line
    after the first into the same number (at least 2) of fields; failing
    that, the one that does so for most of them (the parser then names the
    odd line)."""
    body = lines[1:] or lines
    best_share, best = 0.0, None
    for sep in ("\t", ";", ",", "whitespace"):
        counts = [len(_split(line, sep)) for line in body]
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        share = counts.count(mode) / len(counts)
        if share == 1.0:
            return sep
        if share > best_share:
            best_share, best = share, sep
    if best_share >= 0.5:
        return best
    if all(len(_split(line, ",")) == 1 and len(line.split()) == 1 for line in body):
        return ","  # one column
    raise CLIError(
        f"{name}: cannot tell how the columns are separated (the first lines "
        "split into different numbers of fields by comma, semicolon, tab and "
        "white space); give --delimiter"
    )


def _sniff_decimal(rows, sep):
    """',' when the delimiter is not a comma and numbers are written 1,5."""
    if sep == ",":
        return "."
    fields = [value for row in rows for value in row]
    if any(_DECIMAL_COMMA.match(value) for value in fields) and not any(
        "." in value and _is_number(value) for value in fields
    ):
        return ","
    return "."


def _is_number(text, decimal="."):
    if decimal != ".":
        text = text.replace(decimal, ".")
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_column_numbers(fields):
    """Fields that read 0, 1, ..., m-1 or 1, 2, ..., m (m >= 2)."""
    if len(fields) < 2 or not all(f.strip().isdigit() for f in fields):
        return False
    values = [int(f) for f in fields]
    return values[0] in (0, 1) and values == list(range(values[0], values[0] + len(values)))


def _sklearn_header(first, n_fields, decimal):
    """Whether ``first`` is scikit-learn's data-set header: n_samples,
    n_features, then class names, above rows of n_features values and a
    class label."""
    return (
        len(first) >= 3
        and all(f.strip().isdigit() for f in first[:2])
        and int(first[1]) == n_fields - 1
        and not any(_is_number(f, decimal) for f in first[2:])
    )


@dataclass
class _Layout:
    """How to parse a text table, as decided from its first lines."""

    sep: str
    decimal: str
    skip_rows: int  # raw lines before the header or the first data row
    header: bool
    names: list = None  # given to the parser when the header is not a plain one
    index_col: int = None  # a row-names column found from the header's shape
    label_col: int = None  # the class label column of a scikit-learn data file
    warnings: list = field(default_factory=list)
    note: str = ""


def _layout(numbered, comment, options, name):
    """How to parse the table whose first lines are ``numbered``."""
    lines = [line for _, line in numbered]
    first_line = numbered[0][0]
    sep = options.delimiter or _sniff_delimiter(lines, name)
    rows = [_split(line, sep) for line in lines]
    decimal = options.decimal or _sniff_decimal(rows[1:] or rows, sep)
    first, body = rows[0], rows[1:]
    n_fields = max(set(map(len, body)), key=[len(r) for r in body].count) if body else len(first)
    layout = _Layout(sep=sep, decimal=decimal, skip_rows=first_line - 1, header=False)
    shown = _shorten(lines[0])

    comment_fields = _split(comment[1], sep) if comment else []
    if options.header is not None:
        layout.header = options.header
    elif len(comment_fields) == n_fields and not any(
        _is_number(f, decimal) for f in comment_fields
    ):
        # np.savetxt(..., header="a,b") writes '# a,b' above the rows.
        layout.names = [f.strip() for f in comment_fields]
        layout.note = f"column names from the comment on line {comment[0]}"
    elif body and _sklearn_header(first, n_fields, decimal):
        layout.skip_rows += 1
        layout.label_col = n_fields - 1
        layout.note = f"line {first_line} skipped (scikit-learn's data-set header)"
        layout.warnings.append(
            f"line {first_line} ({shown}) is scikit-learn's data-set header "
            f"({first[0]} samples, {first[1]} features, the class names), not "
            f"column names: it is skipped (--skip-rows {first_line} says so), and "
            f"the last column, column {n_fields}, holds the class label and is "
            f"not clustered (--columns 1-{n_fields} clusters it too)"
        )
    elif body and len(first) == n_fields - 1 >= 2 and not any(
        _is_number(f, decimal) for f in first
    ):
        # A header with one name fewer than the rows (R's write.table and
        # pandas with a named index write this): the rows start with their names.
        layout.header = True
        layout.skip_rows += 1
        layout.names = ["(row names)"] + [f.strip() for f in first]
        layout.index_col = 0
        layout.warnings.append(
            f"line {first_line} has one name fewer than the rows have fields: "
            "column 1 is taken as row names and not clustered (--index-col 1 "
            "says so)"
        )
    elif body and len(first) < n_fields:
        # A title: what follows it is read as if the file started there.
        fixed = replace(options, delimiter=sep, decimal=decimal)
        layout = _layout(numbered[1:], None, fixed, name)
        layout.warnings.insert(0, (
            f"line {first_line} ({shown}) has {plural(len(first), 'field')} where "
            f"the rows below have {n_fields}: it is taken as a title and skipped, "
            f"not read as column names (--skip-rows {first_line} says so; "
            "--header reads it as column names)"
        ))
        return layout
    elif any(f.strip() and not _is_number(f, decimal) for f in first):
        layout.header = True
    elif (_is_column_numbers(first) and (
        first[0].strip() == "0" and len(first) >= 3 or _has_fraction(body)
    )) or (
        len(first) > 2 and not first[0].strip() and _is_column_numbers(first[1:])
    ):
        # 0,1,2 (DataFrame.to_csv(index=False) of unnamed columns) or ,0,1,2
        # (with the index); 1,2,3 above integers is more likely data.
        layout.header = True
        layout.warnings.append(
            f"line {first_line} ({shown}) holds column numbers: it is read as "
            "column names (--header says so; --no-header reads it as data)"
        )
    if layout.header and layout.names is None:
        layout.note = f"header on line {first_line}"
    layout.header = layout.header or layout.names is not None
    return layout


def _has_fraction(rows):
    """Whether any field is a number written with a fraction or an exponent."""
    return any(
        _is_number(f) and not f.strip().lstrip("+-").isdigit() for row in rows for f in row
    )


def _is_numeric_row(fields, decimal):
    return all(f.strip() and _is_number(f, decimal) for f in fields)


def _shorten(text, width=40):
    text = text.strip()
    return repr(text if len(text) <= width else text[: width - 3] + "...")


###############################################################################
# Text tables: parsing


def _read_text(source, name, compression, options, keep_frame):
    pandas = _require_pandas("text tables")
    numbered, comment = _first_lines(source, name, compression, options.skip_rows)
    layout = _layout(numbered, comment, options, name)

    kwargs = dict(
        sep=r"\s+" if layout.sep == "whitespace" else layout.sep,
        decimal=layout.decimal,
        skiprows=layout.skip_rows,
        header=0 if layout.header and layout.names is None else None,
        names=layout.names,
        skip_blank_lines=True,
        encoding="utf-8-sig",
        engine="c",
        compression=compression if compression else None,
    )
    if isinstance(source, bytes):
        if compression is not None:  # decompressed here, as pandas needs a name to infer
            kwargs["compression"] = None
            with _open_text(source, compression) as f:
                source = f.buffer.read()
        source = io.BytesIO(source)
    try:
        frame = pandas.read_csv(source, **kwargs)
    except UnicodeDecodeError:
        raise CLIError(f"{name}: not a UTF-8 text file")
    except pandas.errors.EmptyDataError:
        raise CLIError(f"{name}: the file has no data rows")
    except pandas.errors.ParserError as exc:
        raise CLIError(f"{name}: {_parser_message(exc, layout)}")
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise CLIError(f"{name}: cannot read: {getattr(exc, 'strerror', None) or exc}")
    if len(frame) == 0:
        raise CLIError(f"{name}: the file has a header row but no data rows")

    sep = {"\t": "tab", "whitespace": "white space"}.get(layout.sep, repr(layout.sep))
    description = f"{sep} separated"
    if layout.decimal != ".":
        description += f", decimal {layout.decimal!r}"
    if layout.note:
        description += f", {layout.note}"
    names = [str(c) for c in frame.columns] if layout.header else None
    if not layout.header:
        frame.columns = [f"x{j}" for j in range(frame.shape[1])]

    def locate(i, j):
        line = _line_of_row(source, compression, layout, i)
        return f"line {line}, {_column_label(j, names)}"

    data = _choose(frame, name, names, options, layout, locate, keep_frame)
    data.description = description
    data.text = {"sep": layout.sep, "decimal": layout.decimal, "header": layout.header}
    return data


def _parser_message(exc, layout):
    """pandas' tokenizer error in this module's words."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match:
        expected, line, saw = map(int, match.groups())
        return (f"line {line} has {plural(saw, 'field')}, expected {expected} as in the lines above")
    return str(exc).strip()


def _line_of_row(source, compression, layout, i):
    """The 1-based line of data row i (for messages only: reads the file again)."""
    to_skip = 1 if layout.header and layout.names is None else 0  # the header line
    with _open_text(source, compression) as f:
        for number, line in enumerate(f, start=1):
            if number <= layout.skip_rows or not line.strip():
                continue
            if to_skip:
                to_skip -= 1
                continue
            if i == 0:
                return number
            i -= 1
    return "?"


def _column_label(j, names):
    """Column j (0-based) as a spreadsheet user counts it, with its name."""
    if names is None:
        return f"column {j + 1}"
    return f"column {j + 1} ({names[j]!r})"


###############################################################################
# Parquet and NumPy files


def _stream(source):
    """A file name as it is, bytes (standard input) as a stream."""
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _read_parquet(source, name, options, keep_frame):
    pandas = _require_pandas(".parquet files")
    try:
        frame = pandas.read_parquet(_stream(source))
    except ImportError:
        raise CLIError(
            f"{name}: reading .parquet files needs pyarrow: "
            "pip install 'turbocluster[cli]'"
        ) from None
    except (OSError, ValueError) as exc:
        raise CLIError(f"{name}: cannot read the Parquet file: {exc}")
    if len(frame) == 0:
        raise CLIError(f"{name}: the table has no rows")
    names = [str(c) for c in frame.columns]

    def locate(i, j):
        return f"row {i + 1}, {_column_label(j, names)}"

    data = _choose(frame, name, names, options, _Layout(",", ".", 0, True), locate,
                   keep_frame)
    data.description = "Parquet"
    return data


def _read_array(source, name, kind, options, keep_frame):
    try:
        loaded = np.load(_stream(source), allow_pickle=False)
    except OSError as exc:
        raise CLIError(f"{name}: cannot read: {exc.strerror or exc}")
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:  # object arrays, truncated files
        raise CLIError(f"{name}: cannot read the array: {exc}")
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            X = _npz_member(loaded, name, options.key)
        description = f"array {options.key or loaded.files[0]!r} of the .npz file"
    elif kind == "npz":
        raise CLIError(f"{name}: not a NumPy .npz file")
    else:
        X = loaded
        description = "NumPy array"

    if X.dtype.kind not in "biuf":
        raise CLIError(
            f"{name}: the array has dtype {X.dtype}; expected numbers "
            "(integer or floating point)"
        )
    if X.ndim == 1:
        raise CLIError(
            f"{name}: the array is 1-D, of shape {X.shape}; expected a 2-D array "
            "of shape (n_samples, n_features) (for a single feature, save "
            "x.reshape(-1, 1))"
        )
    if X.ndim != 2:
        raise CLIError(
            f"{name}: the array is {X.ndim}-D, of shape {X.shape}; expected a "
            "2-D array of shape (n_samples, n_features)"
        )
    if X.shape[0] == 0:
        raise CLIError(f"{name}: the array has no samples (shape {X.shape})")
    if X.shape[1] == 0:
        raise CLIError(f"{name}: the array has no features (shape {X.shape})")

    n_columns = X.shape[1]
    columns = _resolve_columns(options.columns, None, n_columns, "--columns") \
        if options.columns else list(range(n_columns))
    dropped = set(_resolve_columns(options.drop, None, n_columns, "--drop"))
    columns = [j for j in columns if j not in dropped]
    if not columns:
        raise CLIError(f"{name}: no column left to cluster")

    def locate(i, j):
        return f"X[{i}, {j}] (row {i}, column {j}, counting from 0)"

    dtype = _target_dtype(options.dtype, X.dtype)
    selected = X if columns == list(range(n_columns)) else X[:, columns]
    X_out = as_float_array(selected, dtype, name, lambda i, j: locate(i, columns[j]))
    frame = None
    if keep_frame:
        pandas = _require_pandas("tables")
        frame = pandas.DataFrame(X, columns=[f"x{j}" for j in range(n_columns)])
    return Data(X=X_out, source=name, shape=X.shape, columns=columns,
                description=description, frame=frame)


def _npz_member(archive, name, key):
    if key is not None:
        if key not in archive.files:
            raise CLIError(
                f"{name}: no array named {key!r}; the file holds "
                f"{', '.join(map(repr, archive.files))}"
            )
        return archive[key]
    if len(archive.files) != 1:
        shown = ", ".join(map(repr, archive.files)) or "none"
        raise CLIError(
            f"{name}: the file holds {plural(len(archive.files), 'array')} "
            f"({shown}); choose one with --key"
        )
    return archive[archive.files[0]]


###############################################################################
# Choosing the columns to cluster


def _resolve_columns(tokens, names, n_columns, option):
    """0-based column numbers from names or 1-based numbers and ranges (2-5)."""
    columns = []
    for token in tokens:
        token = token.strip()
        if names is not None and token in names:
            columns.append(names.index(token))
            continue
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", token)
        if match is None:
            known = "" if names is None else f"; the columns are {', '.join(map(repr, names))}"
            raise CLIError(f"{option}: no column named {token!r}{known}")
        start = int(match.group(1))
        stop = int(match.group(2) or start)
        for number in (start, stop):
            if not 1 <= number <= n_columns:
                raise CLIError(
                    f"{option}: column {number} does not exist: the table has "
                    f"{plural(n_columns, 'column')}, numbered from 1"
                )
        if stop < start:
            raise CLIError(f"{option}: the range {token} runs backwards")
        columns.extend(range(start - 1, stop))
    return columns


def _choose(frame, name, names, options, layout, locate, keep_frame):
    """The columns to cluster, as X; the others are reported or refused."""
    pandas = _require_pandas("tables")
    n_columns = frame.shape[1]
    warnings = list(layout.warnings)
    index_col = layout.index_col
    if options.index_col is not None:
        index_col = _resolve_columns([options.index_col], names, n_columns, "--index-col")[0]

    if options.columns:
        columns = _resolve_columns(options.columns, names, n_columns, "--columns")
        dropped = set(_resolve_columns(options.drop, names, n_columns, "--drop"))
        columns = [j for j in columns if j not in dropped]
    else:
        dropped = set(_resolve_columns(options.drop, names, n_columns, "--drop"))
        if index_col is not None:
            dropped.add(index_col)
        if layout.label_col is not None and layout.label_col < n_columns:
            dropped.add(layout.label_col)
        candidates = [j for j in range(n_columns) if j not in dropped]
        columns, left_out = [], []
        for j in candidates:
            kind, reason = _not_a_feature(frame.iloc[:, j], j, candidates, frame,
                                          names, pandas)
            if kind is None:
                columns.append(j)
            else:
                left_out.append((j, kind, reason))
        if not columns:
            # Nothing else to cluster (one column 1..n, say): keep the numbers.
            columns = [j for j, kind, _ in left_out if kind != "text"]
            left_out = [entry for entry in left_out if entry[1] == "text"]
        warnings += [f"{_column_label(j, names)} {reason}" for j, _, reason in left_out]
    if not columns:
        raise CLIError(f"{name}: no column left to cluster")

    selected = frame.iloc[:, columns]
    for k, j in enumerate(columns):
        converted = _numeric_column(frame.iloc[:, j], j, name, locate, pandas)
        if converted is not None:
            selected.isetitem(k, converted)
    # One 2-D block (what the parser returns for a numeric table): this is a
    # view of it in column order, copied once, by blocks, into C order.
    values = selected.to_numpy()
    dtype = _target_dtype(options.dtype, values.dtype)
    X = as_float_array(values, dtype, name, lambda i, k: locate(i, columns[k]))
    return Data(
        X=X, source=name, shape=frame.shape, columns=columns, names=names,
        frame=frame if keep_frame else None, warnings=warnings,
    )


def _not_a_feature(column, j, candidates, frame, names, pandas):
    """('text'|'index'|'label', why, as the end of a warning) when column j
    should not be clustered, else (None, None)."""
    if not (pandas.api.types.is_numeric_dtype(column) or
            pandas.api.types.is_bool_dtype(column)):
        values = pandas.to_numeric(column, errors="coerce")
        if values.notna().any():
            return None, None  # numbers with a few bad cells: an error later
        first = column.dropna()
        shown = repr(str(first.iloc[0])) if len(first) else "nothing"
        return "text", (f"holds text ({shown}, ...), not numbers: it is not clustered "
                f"(--drop {j + 1} says so)")
    values = column.to_numpy()
    n = values.shape[0]
    if n < 3 or values.dtype.kind not in "iu" and not (
        values.dtype.kind == "f" and np.all(np.isfinite(values))
        and np.array_equal(values, np.round(values))
    ):
        return None, None
    start = values[0]
    if start in (0, 1) and np.array_equal(values, np.arange(start, start + n)):
        return "index", (f"counts the rows ({int(start)}, {int(start) + 1}, ..., "
                f"{int(start) + n - 1}) like a row index: it is not clustered "
                f"(--index-col {j + 1} says so; --columns chooses the columns)")
    if _label_like(values, j, candidates, frame, names):
        low, high = int(values.min()), int(values.max())
        return "label", (f"holds the integers {low}..{high} like a class label: it is "
                f"not clustered (--drop {j + 1} says so; --columns chooses the "
                "columns, this one too)")
    return None, None


def _label_like(values, j, candidates, frame, names):
    """An integer column 0..m-1 or 1..m (m <= 20) that a name or its place
    marks as a class label: a label-like name, or the last column beside
    features that are not all integers."""
    distinct = np.unique(values)
    m = distinct.shape[0]
    if not 2 <= m <= _MAX_LABEL_CLASSES or 2 * m > values.shape[0]:
        return False
    if distinct[0] not in (0, 1) or distinct[-1] != distinct[0] + m - 1:
        return False
    if names is not None and names[j].strip().lower() in _LABEL_NAMES:
        return True
    if j != candidates[-1] or len(candidates) < 2:
        return False
    for other in candidates[:-1]:
        column = frame.iloc[:, other].to_numpy()
        if column.dtype.kind == "f" and not np.array_equal(column, np.round(column)):
            return True
    return False


def _numeric_column(column, j, name, locate, pandas):
    """Column j as numbers (None: it is numeric already); a cell that is not
    a number is an error."""
    if pandas.api.types.is_bool_dtype(column):
        return column.astype(np.uint8)
    if pandas.api.types.is_numeric_dtype(column):
        return None
    values = pandas.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & column.notna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise CLIError(
            f"{name}: {locate(i, j)}: {str(column.iloc[i]).strip()!r} is not a number"
        )
    return values


def _target_dtype(requested, found):
    if requested is not None:
        return np.dtype(requested)
    return np.dtype(np.float32 if found == np.float32 else np.float64)


def as_float_array(X, dtype, name, locate):
    """X as a C-contiguous array of ``dtype``, refusing NaN, infinities and
    values too large for ``dtype``.

    ``locate(i, j)`` says where X[i, j] is in the file, for the messages.
    Table readers return column-ordered arrays: the copy into C order goes
    by blocks of rows (``as_c_contiguous``).
    """
    if X.dtype.kind == "f":
        non_finite = ~np.isfinite(X)
        if non_finite.any():
            i, j = np.argwhere(non_finite)[0]
            what = ("missing value (empty, NA or NaN)" if np.isnan(X[i, j])
                    else f"{X[i, j]} is not a finite number")
            raise CLIError(
                f"{name}: {locate(i, j)}: {what}; missing and infinite values "
                f"are not supported ({int(non_finite.sum())} in the data)"
            )
    if X.dtype.kind != "f" or np.finfo(dtype).max < np.finfo(X.dtype).max:
        # Checked before the cast, which would turn such values into infinities.
        too_large = np.abs(X) > np.finfo(dtype).max
        if too_large.any():
            i, j = np.argwhere(too_large)[0]
            raise CLIError(f"{name}: {locate(i, j)}: {X[i, j]} is too large for {dtype}")
    return as_c_contiguous(X, dtype)
