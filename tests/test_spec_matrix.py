"""Matrix expansion: the cartesian product, in the order the lists are written."""

from __future__ import annotations

from parafraim_build.spec.matrix import describe, expand, expansion_count, repeated


def test_empty_matrix_is_one_plain_video() -> None:
    assert expand({}) == [{}]
    assert expansion_count({}) == 1


def test_product_order_last_list_fastest() -> None:
    assert expand({"lang": ["en", "de"], "size": [1, 2]}) == [
        {"lang": "en", "size": 1},
        {"lang": "en", "size": 2},
        {"lang": "de", "size": 1},
        {"lang": "de", "size": 2},
    ]


def test_count_and_describe() -> None:
    matrix = {"a": [1, 2, 3], "b": ["x", "y"], "c": [True]}
    assert expansion_count(matrix) == len(expand(matrix)) == 6
    assert describe({"lang": "en", "size": 1}) == "lang=en, size=1"


def test_repeated_values_are_found_by_type_and_value() -> None:
    assert repeated(["en", "de", "en", "en"]) == [(2, "en"), (3, "en")]
    assert repeated([1, True, 1.0, "1"]) == []
    assert repeated([]) == []
