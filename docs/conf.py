"""Sphinx configuration of turbocluster's documentation.

Build (warnings are errors, the gallery is executed, nothing is fetched):

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import re
import sys
from pathlib import Path

import turbocluster

HERE = Path(__file__).resolve().parent
# docs/sphinxext: the gallery's order of examples.
sys.path.insert(0, str(HERE / "sphinxext"))

project = "turbocluster"
author = "The turbocluster developers"
copyright = "2026, The turbocluster developers"
version = release = turbocluster.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store", "**/*.ipynb", "**/*.zip",
                    "**/*.py", "**/*.md5", "**/*.codeobj.json"]
default_role = "literal"
root_doc = "index"

# No intersphinx: the build needs no network. References to scikit-learn,
# NumPy or SciPy names stay plain text.

# -- API reference: autosummary writes one page per public name -------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
# numpydoc renders the sections; the class template lists the methods itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


_SKLEARN_REF = re.compile(r":ref:`([^`<]*?)\s*<[^`>]+>`|:ref:`([^`]+)`")


def _plain_sklearn_refs(app, what, name, obj, options, lines):
    # Methods inherited from scikit-learn (get_params, set_output, ...) keep
    # their docstrings, whose :ref: roles point into scikit-learn's own site;
    # without intersphinx they would be broken links, so they become text.
    if not (getattr(obj, "__module__", None) or "").startswith("sklearn"):
        return
    for i, line in enumerate(lines):
        lines[i] = _SKLEARN_REF.sub(lambda m: (m.group(1) or m.group(2)).strip(), line)


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing helpers (set_fit_request, ...) point at
    # scikit-learn's own user guide; they are scikit-learn's API, not ours.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    if name == "get_metadata_routing":
        return True
    return skip


# -- The command line's --help, for user_guide/cli.rst -------------------------
# Written at every build from the parser itself, so the page cannot drift
# from the program; a fixed width keeps the text the same on every terminal.
def _write_cli_help():
    from turbocluster._cli import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "79"
    try:
        text = build_parser().format_help()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    out = HERE / "_generated" / "cli_help.txt"
    out.parent.mkdir(exist_ok=True)
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


_write_cli_help()

# -- Gallery ------------------------------------------------------------------
# Examples run at every build (plot_gallery); one that raises fails the build.
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("turbocluster",),
    "backreferences_dir": "gen_modules/backreferences",
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 0,
    # The pages of computation times load jQuery and DataTables from CDNs;
    # each example's page still says its running time.
    "write_computation_times": False,
}

# sphinx-gallery draws with matplotlib's Agg backend; the environment says
# so too, for anything imported before it takes over.
os.environ.setdefault("MPLBACKEND", "agg")

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"turbocluster {release}"
html_static_path = []
html_theme_options = {
    # Nothing that needs a network: no icon links, no announcement URL, no
    # version switcher JSON, no analytics.
    "icon_links": [],
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "install": []}
html_show_sourcelink = False


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-docstring", _plain_sklearn_refs)
