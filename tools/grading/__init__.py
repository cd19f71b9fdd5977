"""``make grade``: isolated, fault-tolerant autograding whose verdict is decided here.

- :mod:`~tools.grading.codec`: values to and from the student's kernel, as data;
- :mod:`~tools.grading.spec`: an exercise's calls and judge;
- :mod:`~tools.grading.exercises`: one spec module per chapter;
- :mod:`~tools.grading.sandbox`: the kernel in bubblewrap (or, loudly, without);
- :mod:`~tools.grading.runner`: one submission, in its own worker process.
"""

import sys as _sys

# nbformat -> jsonschema imports rfc3987_syntax when it is installed (jupyter-events pulls it
# in), which builds a parser for IRIs at import time: 2-9 s per process on 2 cores, for a
# format check notebooks never use. Each notebook is graded by a fresh worker process, so
# skip it (jsonschema treats it as not installed).
_sys.modules.setdefault("rfc3987_syntax", None)
