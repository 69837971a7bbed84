"""`Filters.from_values`: the one way raw values (forms, query strings, options, JSON)
become filters."""

from __future__ import annotations

import pytest

from kb import Filters, InvalidInput


def test_lists_comma_joined_strings_and_none():
    filters = Filters.from_values(
        trip=["2022-copenhague", "", " 2025-barcelone "],
        theme="funding, inclusion,,funding",
        kind=None,
        language=("fr",),
    )
    assert filters == Filters(
        trip=("2022-copenhague", "2025-barcelone"),
        theme=("funding", "inclusion"),
        language=("fr",),
    )
    assert Filters.from_values().is_empty()
    assert Filters.from_values(trip="", theme=[""], year_from="", year_to=None).is_empty()


@pytest.mark.parametrize("year", [2024, "2024", " 2024 "])
def test_a_year_is_an_int_or_its_digits(year):
    assert Filters.from_values(year_from=year, year_to=year) == Filters(
        year_from=2024, year_to=2024
    )


@pytest.mark.parametrize("year", ["soon", "20²4", "2024.5", True, 2024.0])
def test_anything_else_is_invalid_input(year):
    with pytest.raises(InvalidInput, match="year_to must be a year"):
        Filters.from_values(year_to=year)


def test_a_value_that_is_not_a_string_or_a_list_is_invalid_input():
    with pytest.raises(InvalidInput, match="trip must be a value or a list"):
        Filters.from_values(trip=2022)
