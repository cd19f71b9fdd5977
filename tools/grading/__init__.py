"""``make grade``: isolated, fault-tolerant autograding whose verdict is decided here.

- :mod:`~tools.grading.codec`: values to and from the student's kernel, as data;
- :mod:`~tools.grading.spec`: an exercise's calls and judge;
- :mod:`~tools.grading.exercises`: one spec module per chapter;
- :mod:`~tools.grading.sandbox`: the kernel in bubblewrap (or, loudly, without);
- :mod:`~tools.grading.runner`: one submission, in its own worker process.
"""
