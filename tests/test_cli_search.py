"""`kb search` and `kb eval` on a small base."""

from __future__ import annotations

import json

import pytest
from cli_support import FINANCING, INCLUSION, error_line, kb, stdout_of, write_corpus


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-search")
    stdout_of(kb(root / "kb", "ingest", str(write_corpus(root / "corpus"))))
    return root / "kb"


def ids(output: str) -> list[str]:
    return [r["document"]["id"] for r in json.loads(output)["results"]]


def test_search_prints_ranked_documents_with_their_passage(home):
    printed = stdout_of(kb(home, "search", "fonds propres", "--mode", "lexical"))
    assert printed.startswith("1 documents for fonds propres")
    assert "1. Financer une SCIC" in printed and "Le prêt patient" in printed


def test_search_filters_and_json(home):
    everywhere = ids(stdout_of(kb(home, "search", "social", "--json", "--limit", "5")))
    assert INCLUSION in everywhere
    response = json.loads(
        stdout_of(kb(home, "search", "fonds propres", "--json", "--trip", "2022-copenhague"))
    )
    assert response["results"][0]["document"]["id"] == FINANCING
    assert {r["document"]["trip"] for r in response["results"]} == {"2022-copenhague"}
    english = ids(stdout_of(kb(home, "search", "social", "--json", "--lang", "en")))
    assert english == [INCLUSION]
    none = json.loads(stdout_of(kb(home, "search", "social", "--json", "--year-to", "2020")))
    assert none["results"] == [] and none["total"] == 0


@pytest.fixture
def judged(tmp_path):
    queries = tmp_path / "queries.jsonl"
    lines = [
        {"_id": "q1", "text": "prêt sans fonds propres", "kind": "detail"},
        {"_id": "q2", "text": "unemployed people", "kind": "detail",
         "filters": {"lang": "en", "year_from": "2025"}, "corpus-id": INCLUSION},
        {"_id": "q3", "text": "recette de la paella", "kind": "off-topic"},
        {"_id": "q4", "text": "never judged"},
    ]
    queries.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text(f"query-id\tcorpus-id\tscore\nq1\t{FINANCING}\t1\n", encoding="utf-8")
    return queries, qrels


def test_eval_prints_the_figures(home, judged):
    queries, qrels = judged
    figures = json.loads(
        stdout_of(kb(home, "eval", str(queries), str(qrels), "--mode", "lexical", "--json",
                     "--per-query"))
    )
    assert figures["mode"] == "lexical" and figures["queries"] == 2 and figures["off_topic"] == 1
    assert figures["mrr@10"] == 1.0 and figures["by_kind"]["detail"]["queries"] == 2
    assert set(figures["per_query"]) == {"q1", "q2", "q3"}
    assert figures["counted"] >= 1 and figures["off_topic_counted"] is not None
    table = stdout_of(kb(home, "eval", str(queries), str(qrels)))
    assert "queries.jsonl — hybrid" in table and "nDCG@10" in table
    assert "documents counted (mean total)" in table


def test_eval_of_questions_that_nothing_answers_prints_no_ranking_figures(home, tmp_path):
    queries = tmp_path / "nothing.jsonl"
    queries.write_text(
        json.dumps({"_id": "n1", "text": "zzqx wvkj", "kind": "off-topic"}) + "\n",
        encoding="utf-8",
    )
    printed = stdout_of(kb(home, "eval", str(queries)))
    assert "no answerable query, so no ranking to score" in printed
    assert "nDCG@10" not in printed and "off_topic_flagged %" in printed


def test_eval_refuses_bad_lines_and_bad_filters(home, tmp_path):
    queries = tmp_path / "bad.jsonl"
    queries.write_text('{"_id": "q1"}\n', encoding="utf-8")
    assert error_line(kb(home, "eval", str(queries))).startswith(f"{queries}:1: not a query line")
    queries.write_text(
        json.dumps({"_id": "q1", "text": "SCIC", "corpus-id": FINANCING,
                    "filters": {"year_from": "soon"}}) + "\n",
        encoding="utf-8",
    )
    assert error_line(kb(home, "eval", str(queries))) == (
        "year_from must be a year such as 2024, not 'soon'"
    )
