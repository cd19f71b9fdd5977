"""The shared argument checks of course_utils.validation (the fuzz in tests/fuzz/ probes them
with bad values; these pin their wording)."""

import pytest

from course_utils.validation import check_mapping


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
