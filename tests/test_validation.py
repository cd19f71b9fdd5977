"""The shared argument checks of course_utils.validation (the fuzz in tests/fuzz/ probes them
with bad values; these pin their wording)."""

import numpy as np
import pytest

from course_utils.validation import check_mapping, fixed_seed


def test_check_mapping_names_the_argument_and_what_it_maps_to():
    runs = {"a": 1, "b": 2}
    assert check_mapping("runs", runs, int, "int") is runs
    for bad, got in (
        ([1], "got list"),
        ({}, "got dict of 0 entries"),
        (dict.fromkeys("abc", 1), "got dict of 3 entries"),
    ):
        with pytest.raises(
            ValueError, match=f"runs must be a dict of 1 to 2 entries: name -> int; {got}"
        ):
            check_mapping("runs", bad, int, "int", max_len=2)
    with pytest.raises(ValueError, match=r"runs must map names \(str\) to int; got 'a': str"):
        check_mapping("runs", {"a": "x"}, int, "int")
    with pytest.raises(ValueError, match=r"got 3: int"):
        check_mapping("runs", {3: 1}, int, "int")


def test_fixed_seed_keeps_an_int_and_draws_one_from_a_generator():
    assert fixed_seed("seed", 7) == 7
    a = fixed_seed("seed", np.random.default_rng(0))
    assert isinstance(a, int) and a == fixed_seed("seed", np.random.default_rng(0))
    with pytest.raises(ValueError, match="seed must be an integer between 0 and"):
        fixed_seed("seed", -1)
