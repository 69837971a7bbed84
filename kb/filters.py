"""Filters as SQL over the documents table: the one translation of `Filters` that the
embedded legs, the document listing and the facet counts share."""

from __future__ import annotations

from kb.types import NO_TRIP, Filters


def filter_sql(filters: Filters | None, alias: str = "d") -> tuple[str, list[object]]:
    """A WHERE fragment (always valid, `1` when empty) on the documents table."""
    clauses: list[str] = ["1"]
    params: list[object] = []
    if filters is None:
        return "1", params
    for column, values in (
        ("trip", filters.trip),
        ("kind", filters.kind),
        ("language", filters.language),
    ):
        if column == "trip" and NO_TRIP in values:
            values = tuple(v for v in values if v != NO_TRIP)
            either = f" OR {alias}.trip IN ({','.join('?' * len(values))})" if values else ""
            clauses.append(f"({alias}.trip IS NULL{either})")
            params.extend(values)
        elif values:
            clauses.append(f"{alias}.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if filters.theme:
        marks = ",".join("?" * len(filters.theme))
        clauses.append(
            f"{alias}.id IN (SELECT document_id FROM document_themes WHERE theme IN ({marks}))"
        )
        params.extend(filters.theme)
    if filters.year_from is not None:
        clauses.append(f"{alias}.year >= ?")
        params.append(filters.year_from)
    if filters.year_to is not None:
        clauses.append(f"{alias}.year <= ?")
        params.append(filters.year_to)
    return " AND ".join(clauses), params
