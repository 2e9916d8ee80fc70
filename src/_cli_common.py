"""What the parts of the command line share: its errors, fitting, formatting.

The command line (``_cli.py``), its data reading (``_cli_read.py``), its
outputs (``_cli_output.py``) and its demonstration (``_cli_demo.py``) report
problems as :class:`CLIError` and print through the helpers here, so that
every line on stderr looks the same.
"""

import contextlib
import textwrap
import time
import warnings

PROG = "turbocluster"


class CLIError(Exception):
    """A problem with the command line or the input, reported without a traceback."""


def warn(message, stderr):
    """Print one warning line on stderr."""
    print(f"{PROG}: warning: {message}", file=stderr, flush=True)


def progress(message, stderr):
    """Print one progress line on stderr at once (long jobs say where they are)."""
    print(f"{PROG}: {message}", file=stderr, flush=True)


def fit_estimator(estimator, X, stderr, reported=None, verbose_to=None, ignore=()):
    """Fit, timing the fit alone; warnings become one line each on stderr.

    Parameters
    ----------
    estimator : estimator
        Fitted in place.
    X : ndarray
    stderr : file
    reported : set, default=None
        Collects the messages printed: a repeated fit does not print them
        again.
    verbose_to : file, default=None
        Where what the estimator prints (its ``verbose`` output) goes; None
        leaves stdout as it is.
    ignore : tuple of Warning subclasses, default=()
        Warnings not printed: those the caller expects by design (the
        demonstration's fits stop at ``max_iter`` on purpose).

    Returns
    -------
    seconds : float
    """
    redirect = (contextlib.nullcontext() if verbose_to is None
                else contextlib.redirect_stdout(verbose_to))
    with warnings.catch_warnings(record=True) as caught, redirect:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            estimator.fit(X)
        except ValueError as exc:  # the data or parameters, as the estimator sees them
            raise CLIError(str(exc))
        elapsed = time.perf_counter() - start
    reported = set() if reported is None else reported
    for caught_warning in caught:
        if issubclass(caught_warning.category, ignore):
            continue
        message = str(caught_warning.message)
        if message not in reported:
            reported.add(message)
            warn(message, stderr)
    return elapsed


def format_seconds(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def format_params(params):
    return ", ".join(f"{key}={value!r}" for key, value in params.items())


def format_inertia(inertia):
    return f"{inertia:.10g}"


def format_log_likelihood(value):
    """A mean log-likelihood per sample: eight significant digits."""
    return f"{value:.8g}"


def plural(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def field(label, text, width=16):
    """``label`` in a column of ``width``, ``text`` beside it on one line."""
    return f"{label:<{width}}{text}"


def wrapped(label, text, width=16):
    """``label`` in a column of ``width``, ``text`` wrapped beside it."""
    return textwrap.fill(
        text, width=79, initial_indent=f"{label:<{width}}",
        subsequent_indent=" " * width, break_on_hyphens=False,
    )
