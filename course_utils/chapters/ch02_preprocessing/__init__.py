"""Chapter 02, ``notebooks/02_data_preprocessing.ipynb``; the lesson is
:mod:`course_utils.preprocessing`.

- ``runs.py``: the 2-D demo, photo tiles and splits, the tables the notebook prints, and the
  same numbers over many random splits;
- ``figures.py``: the standardisation and whitening pictures (rows of scatter panels);
- ``explorer.py``: the whitening explorer;
- ``checks.py``: the visible check of the ZCA exercise.
"""
