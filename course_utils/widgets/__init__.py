"""The explorer framework: the contract (:mod:`~course_utils.widgets.base`), its controls,
the ipympl canvas, background prefetching, and the registry of every chapter's explorer.

The explorers themselves live in their chapters (``course_utils/chapters/ch03_.../explorer.py``)
and are listed in :mod:`~course_utils.widgets.registry`; ``from course_utils.widgets import
init_explorer`` finds a factory there by name.
"""

from course_utils.widgets.base import *  # noqa: F403 - the framework's public names
from course_utils.widgets.base import __all__ as _framework
from course_utils.widgets.registry import EXPLORERS

__all__ = [*_framework, "EXPLORERS"]


def __getattr__(name: str):
    """A chapter's explorer factory by name (``init_explorer``), imported on first use."""
    for entry in EXPLORERS:
        if entry.function == name:
            return entry.load()
    raise AttributeError(f"module 'course_utils.widgets' has no attribute {name!r}")
