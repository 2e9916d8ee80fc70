"""A fit that fails or is interrupted leaves the estimator as it was.

Long fits are stopped with Ctrl-C between kernel passes (and inside the long
linkage kernels, see ``_kernels/_interrupt.pxd``). The exception may then
arrive after some fitted attributes are set: a half-fitted estimator would
look fitted to ``check_is_fitted`` and predict from a model no fit produced.
The methods that fit are decorated so that any exception, KeyboardInterrupt
included, puts the instance's attributes back as they were before the call:
unfitted if it was unfitted, the previous model if it was fitted.
"""

import copy
import functools

import numpy as np


def _snapshot(estimator, copy_arrays):
    state = dict(vars(estimator))
    if copy_arrays:
        # partial_fit updates the centers, counts and the random generator
        # in place; a fit replaces its attributes and needs no copies.
        for name, value in state.items():
            if isinstance(value, (np.ndarray, np.random.RandomState)):
                state[name] = copy.deepcopy(value)
    return state


def _guarded(method, copy_arrays):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        before = _snapshot(self, copy_arrays)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            attributes = vars(self)
            attributes.clear()
            attributes.update(before)
            raise

    return guarded


def restores_state(method):
    """Decorate a ``fit``-like method: on any exception, undo its assignments."""
    return _guarded(method, copy_arrays=False)


def restores_state_in_place(method):
    """Decorate ``partial_fit``: on any exception, also undo in-place updates
    of the fitted arrays and of the random generator."""
    return _guarded(method, copy_arrays=True)
