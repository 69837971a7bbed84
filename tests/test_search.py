"""Grouping passages into documents and the relevance cut, on hand-made scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kb.query import AnalysedQuery
from kb.search import (
    Grouped,
    add_snippets,
    group_by_document,
    result_of,
    sentence_scores,
    shown_with_content,
    stand_out,
)
from kb.types import Document


def row(chunk_id: int, document_id: str, kind: str) -> dict:
    return {
        "id": chunk_id,
        "document_id": document_id,
        "kind": kind,
        "text": f"passage {chunk_id}",
        "heading": json.dumps([]),
        "page": None,
        "position": chunk_id,
    }


def test_a_document_scores_by_its_best_passages_and_a_summary_yields_to_its_detail():
    rows = {
        1: row(1, "report", "trip-report"),
        2: row(2, "notes", "workshop-notes"),
        3: row(3, "notes", "workshop-notes"),
        4: row(4, "notes", "workshop-notes"),
        5: row(5, "notes", "workshop-notes"),
    }
    # The report's one paragraph matches a little better than the notes' best passage.
    scores = {1: 1.05, 2: 0.95, 3: 0.2, 4: 0.1, 5: 0.05}
    groups = group_by_document(scores, rows, fused=True)
    assert [g.document_id for g in groups] == ["notes", "report"]
    notes, report = groups
    assert abs(report.score - 0.9 * 1.05) < 1e-9  # weighted as a summary
    # best + 0.3 × second + 0.1 × third; a fourth passage adds nothing
    assert abs(notes.score - (0.95 + 0.3 * 0.2 + 0.1 * 0.1)) < 1e-9
    result = result_of(notes, scores, rows)
    assert result.passage.chunk_id == 2 and [p.chunk_id for p in result.passages] == [3, 4, 5]
    assert result.score == notes.score and result.passage.text == "passage 2"
    # A report that clearly matches better still comes first.
    assert group_by_document({1: 1.2, 2: 0.95}, rows, fused=True)[0].document_id == "report"
    # On similarities (not fused scores): no weight, no third passage.
    unfused = group_by_document(scores, rows)
    assert unfused[0].document_id == "report" and abs(unfused[1].score - (0.95 + 0.3 * 0.2)) < 1e-9


def test_a_document_counts_when_its_meaning_stands_out_from_the_candidates():
    # Seven candidate documents (mean 0.814): those above the mean count ...
    similarities = np.array([0.86, 0.85, 0.845, 0.80, 0.79, 0.78, 0.77])
    assert stand_out(similarities, 0.0).tolist() == [True] * 3 + [False] * 4
    # ... and those within the margin of the best
    assert stand_out(similarities, 0.065).tolist() == [True] * 4 + [False] * 3
    # too few candidates to tell: every one counts
    assert stand_out(np.array([0.9, 0.8, 0.7]), 0.0).tolist() == [True] * 3


def test_a_result_is_shown_by_a_passage_with_content_of_its_own():
    rows = {
        1: {**row(1, "sheet", "practice-sheet"), "text": "Anne Martin, Paul Roux — 2024-05-06"},
        2: {**row(2, "sheet", "practice-sheet"), "text": "Les habitants cultivent 40 parcelles."},
    }
    scores = {1: 0.9, 2: 0.8}
    title = "Fiche pratique – Un jardin partagé (Anne Martin)"

    def shown(authors: list[str], chunk_ids: tuple[int, ...]) -> list[int]:
        result = result_of(Grouped("sheet", 0.9, chunk_ids), scores, rows)
        result.document = Document(id="sheet", title=title, authors=authors)
        shown_with_content(result)
        return [result.passage.chunk_id, *(p.chunk_id for p in result.passages)]

    # the byline (the authors and a date) gives way to the passage that says something
    assert shown(["Anne Martin", "Paul Roux"], (1, 2)) == [2, 1]
    # a passage with a word of its own stays first; a byline alone is still shown
    assert shown(["Anne Martin"], (1, 2)) == [1, 2]
    assert shown(["Anne Martin", "Paul Roux"], (1,)) == [1]


def test_stored_sentence_scores_are_laid_on_the_texts_sentences():
    # Stored at ingest: [0, 80) alone, [81, 330) two sentences joined, [501, 800).
    stored = (
        np.array([[0, 80], [81, 330], [501, 800]], np.int32),
        np.array([0.8, 0.82, 0.85], np.float32),
    )
    spans = [(0, 80), (81, 200), (201, 330), (331, 500), (501, 640), (641, 800)]
    assert sentence_scores(spans, stored) == pytest.approx([0.8, 0.82, 0.82, 0.0, 0.85, 0.85])
    assert sentence_scores(spans, (np.zeros((0, 2), np.int32), np.zeros(0))) == [0.0] * 6


def test_a_result_shows_an_excerpt_of_its_next_passages_that_score_close_to_its_best():
    texts = {
        2: "Le réseau danois réunit 140 entreprises sociales.",
        3: "Les cotisations des membres apportent 45 % des ressources du réseau. " * 4,
        4: "Le réseau publie un annuaire des entreprises sociales chaque année.",
        5: "Les membres se retrouvent deux fois par an.",
    }
    rows = {i: {**row(i, "notes", "workshop-notes"), "text": t} for i, t in texts.items()}
    # passage 3 scores 0.85 of the best, 4 half of it, 5 (a fourth) is not looked at
    scores = {2: 1.0, 3: 0.85, 4: 0.5, 5: 0.95}
    result = result_of(Grouped("notes", 1.0, (2, 3, 4, 5)), scores, rows)
    add_snippets([result], AnalysedQuery.of("cotisations des membres"), {})
    assert result.snippet.text == texts[2]
    close, weak, fourth = result.passages
    assert close.snippet is not None and weak.snippet is None and fourth.snippet is None
    # one window of at most EXCERPT_CHARS (and its ellipsis), its words highlighted
    assert close.snippet.text.startswith("Les cotisations des membres apportent 45 %")
    assert len(close.snippet.text) <= 160 + 2
    marked = [close.snippet.text[a:b] for a, b in close.snippet.highlights]
    assert "cotisations" in marked and "membres" in marked
    # a result whose best passage scores nothing shows no excerpt
    flat = result_of(Grouped("notes", 0.0, (2, 3)), {2: 0.0, 3: 0.0}, rows)
    add_snippets([flat], AnalysedQuery.of("cotisations"), {})
    assert flat.passages[0].snippet is None


def test_a_byline_put_aside_is_not_shown_as_an_excerpt():
    rows = {
        1: {**row(1, "sheet", "practice-sheet"), "text": "Anne Martin — 2024-05-06"},
        2: {**row(2, "sheet", "practice-sheet"), "text": "Les habitants cultivent 40 parcelles."},
    }
    result = result_of(Grouped("sheet", 0.9, (1, 2)), {1: 0.9, 2: 0.85}, rows)
    result.document = Document(id="sheet", title="Un jardin partagé", authors=["Anne Martin"])
    shown_with_content(result)
    add_snippets([result], AnalysedQuery.of("jardin partagé"), {})
    # the byline scores above the shown passage, yet says nothing an excerpt could show
    assert result.passage.chunk_id == 2 and [p.chunk_id for p in result.passages] == [1]
    assert result.passages[0].snippet is None
