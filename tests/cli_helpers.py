"""Helpers shared by the command-line tests (test_cli*.py): run the command
in-process and read what it printed."""

import re

import numpy as np

from turbocluster.__main__ import main


def labels_from(text, noise=False):
    """One integer label per line; noise=True also accepts -1 (DBSCAN)."""
    pattern = r"-?\d+" if noise else r"\d+"
    lines = text.splitlines()
    assert all(re.fullmatch(pattern, line) for line in lines), text[:200]
    return np.array([int(line) for line in lines])


def run(capsys, argv):
    """Run with success; return stdout and stderr."""
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Traceback" not in err
    return out, err


def check_error(capsys, argv, *fragments):
    """Exit status 2, one clean message on stderr, nothing on stdout."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "turbocluster: error:" in err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


def warnings_in(err):
    """The command's warning lines on stderr."""
    return [line for line in err.splitlines() if line.startswith("turbocluster: warning:")]
