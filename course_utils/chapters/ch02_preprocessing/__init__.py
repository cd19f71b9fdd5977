"""Chapter 02, ``notebooks/02_data_preprocessing.ipynb``; the lesson is
:mod:`course_utils.preprocessing`.

- ``runs.py``: the 2-D demo and the whitening claims the notebook prints;
- ``runs_images.py``: photo tiles, their split, the image recipes' table, and the same
  numbers over many random splits;
- ``runs_leakage.py``: a scaler fit with and without the test data, over many splits too;
- ``figures.py``: the standardisation and whitening pictures (rows of scatter panels);
- ``explorer.py``: the whitening explorer;
- ``checks.py``: the visible check of the ZCA exercise.
"""
