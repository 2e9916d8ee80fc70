"""pytest plugin of .ci/sanitize: which kernel functions the run called.

Every function of the ``turbocluster._kernels`` modules (the ``def``s the
estimators call) is wrapped in a counter when pytest starts; at the end the
counts, per function and per floating dtype of its first float array
argument, go to the file named by $KERNEL_CALLS_REPORT, with the functions
never called listed first under "never called:". The sanitizer run fails
when that list is not empty: a kernel the tests do not reach is a kernel the
sanitizers did not check.

``_openmp`` is left out: its two functions only ask the OpenMP runtime for
its thread count, and ``turbocluster._threads`` has bound one of them by
name before any plugin can wrap it.
"""

import functools
import importlib
import os
import pkgutil
import threading

_SKIPPED = {"_openmp"}
_calls = {}
_lock = threading.Lock()


def _float_dtype(args):
    for arg in args:
        dtype = getattr(arg, "dtype", None)
        if dtype is not None and dtype.kind == "f":
            return dtype.name
    return "no float array"


def _counted(name, function):
    @functools.wraps(function)
    def counted(*args, **kwargs):
        key = (name, _float_dtype(args))
        with _lock:
            _calls[key] = _calls.get(key, 0) + 1
        return function(*args, **kwargs)
    return counted


def _kernel_functions():
    import turbocluster._kernels as kernels

    for info in pkgutil.iter_modules(kernels.__path__):
        if info.name in _SKIPPED:
            continue
        module = importlib.import_module(f"{kernels.__name__}.{info.name}")
        for attr, value in list(vars(module).items()):
            if (callable(value) and not attr.startswith("__")
                    and getattr(value, "__module__", None) == module.__name__):
                yield module, attr, value


_names = []


def pytest_configure(config):
    if _names:
        return
    for module, attr, function in _kernel_functions():
        name = f"{module.__name__.rsplit('.', 1)[1]}.{attr}"
        _names.append(name)
        setattr(module, attr, _counted(name, function))


def pytest_unconfigure(config):
    path = os.environ.get("KERNEL_CALLS_REPORT")
    if not path or not _names:
        return
    called = {name for name, _ in _calls}
    never = [name for name in _names if name not in called]
    lines = ["never called:"] + [f"  {name}" for name in never]
    lines.append(f"called: {len(_names) - len(never)} of {len(_names)} kernel functions")
    for name in _names:
        per_dtype = ", ".join(f"{dtype} {count}" for (n, dtype), count
                              in sorted(_calls.items()) if n == name)
        lines.append(f"  {name}: {per_dtype or '-'}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
