"""Visible checks for the notebooks' exercises: feedback a student can act on.

Each check prints one line per case with the value found, the value expected and the
tolerance, and raises ``AssertionError`` naming the first wrong case (with a hint about the
likely mistake), so an nbgrader test cell that calls it fails when the answer is wrong.

One module per chapter (``checks.ch05`` holds chapter 05's); every check is importable from
here, as the notebooks do: ``from course_utils.checks import check_adam_step``.
"""

from course_utils.checks import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08
from course_utils.checking import *  # noqa: F403
from course_utils.checking import __all__ as _common_all
from course_utils.checks.ch01 import *  # noqa: F403
from course_utils.checks.ch02 import *  # noqa: F403
from course_utils.checks.ch03 import *  # noqa: F403
from course_utils.checks.ch04 import *  # noqa: F403
from course_utils.checks.ch05 import *  # noqa: F403
from course_utils.checks.ch06 import *  # noqa: F403
from course_utils.checks.ch07 import *  # noqa: F403
from course_utils.checks.ch08 import *  # noqa: F403

_CHAPTERS = (ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08)
__all__ = [*_common_all, *(name for module in _CHAPTERS for name in module.__all__)]
