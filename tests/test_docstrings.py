"""The Examples of the docstrings, run as doctests: one test per docstring.

Collected with the standard library's ``doctest``: the docstring of every
public name (``turbocluster.__all__`` and ``turbocluster.dask.__all__``) and
of each of their public methods, inherited ones included where turbocluster
defines them; then whatever other docstring in the package's modules has
examples (helpers such as ``turbocluster._plot.plot_clusters``). The API
reference shows these docstrings, so what it shows is what runs here.
"""

import copy
import doctest
import importlib
import inspect
import pkgutil

import pytest

import turbocluster
import turbocluster.dask

OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

PUBLIC = [(name, getattr(turbocluster, name))
          for name in turbocluster.__all__ if name != "__version__"]
PUBLIC += [(f"dask.{name}", getattr(turbocluster.dask, name))
           for name in turbocluster.dask.__all__]


def _ours(obj):
    return (getattr(obj, "__module__", None) or "").startswith("turbocluster")


def _public_methods(cls):
    """(name, function) of the public methods and properties that turbocluster
    defines for cls, in its own body or in a base class of its own."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        member = vars(owner)[name]
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        elif isinstance(member, property):
            member = member.fget
        if inspect.isfunction(member) and _ours(member):
            yield name, member


def _tests_of(obj, name):
    finder = doctest.DocTestFinder(recurse=False)
    return [test for test in finder.find(obj, name=name) if test.examples]


def _collect():
    tests, seen = [], set()

    def add(test, test_id):
        key = (test.filename, test.docstring)
        if key not in seen:
            seen.add(key)
            tests.append(pytest.param(test, id=test_id))

    for public_name, obj in PUBLIC:
        for test in _tests_of(obj, public_name):
            add(test, public_name)
        if inspect.isclass(obj):
            for method_name, method in _public_methods(obj):
                for test in _tests_of(method, f"{public_name}.{method_name}"):
                    add(test, f"{public_name}.{method_name}")
    # The other docstrings with examples, in the package's Python modules.
    finder = doctest.DocTestFinder()
    for info in pkgutil.walk_packages(turbocluster.__path__, "turbocluster."):
        module = importlib.import_module(info.name)
        if not (getattr(module, "__file__", None) or "").endswith(".py"):
            continue  # the compiled kernels
        for test in finder.find(module):
            if test.examples:
                add(test, test.name)
    return tests


DOCTESTS = _collect()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt = importlib.import_module("matplotlib.pyplot")
    plt.close("all")


@pytest.mark.parametrize("test", DOCTESTS)
def test_docstring_examples(test):
    # A copy with its own namespace: the runner clears the namespace it used.
    test = copy.copy(test)
    test.globs = dict(test.globs)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = []
    result = runner.run(test, out=report.append)
    assert result.attempted == len(test.examples) > 0
    assert result.failed == 0, "".join(report)


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_every_public_name_has_examples(name, obj):
    # The examples of its own docstring (the Examples section), not only of
    # its methods'.
    assert _tests_of(obj, name), f"{name}'s docstring has no Examples"


def test_collection_covers_the_methods():
    # Inherited methods that turbocluster defines are collected under the
    # public class (GaussianMixtureAnomalyDetector.bic comes from _mixture),
    # and scikit-learn's own (get_params) are not ours to test.
    methods = dict(_public_methods(turbocluster.GaussianMixtureAnomalyDetector))
    assert {"bic", "decision_function", "fit", "predict", "score_samples"} <= set(methods)
    assert "get_params" not in methods
    ids = {param.id for param in DOCTESTS}
    assert {"KMeans", "dask.KMeans", "select_n_clusters"} <= ids
    assert "turbocluster._plot.plot_clusters" in ids
