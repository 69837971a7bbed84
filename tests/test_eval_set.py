"""The dev relevance set (corpus/eval): partners' questions of known kinds, each answerable
one judged against the document that holds its answer, read by the project's own readers."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from ingest import chunk_blocks, read_document
from ingest.readers import SUFFIXES
from kb import Settings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
QUERIES = CORPUS / "eval" / "queries.jsonl"
QRELS = CORPUS / "eval" / "qrels.tsv"

MINIMUM_PER_KIND = {
    "own-words": 30,
    "other-language": 25,
    "names": 10,
    "misspelt": 5,
    "long": 5,
    "keyword": 4,
    "filtered": 8,
    "direct": 10,
    "off-topic": 15,
}
MINIMUM_TOTAL = 120
FIELDS = {"_id", "text", "kind", "answer", "filters", "direction"}
FILTER_KEYS = {"trip", "lang", "kind", "theme", "year_from", "year_to"}

# Words that carry no meaning of their own: sharing them is not sharing a key word.
_STOP_WORDS = """
    avec dans pour sans sous entre chez comme plus moins tres tout tous toute toutes avant
    apres pendant leur leurs notre nous vous elle elles quand quel quelle quels quelles
    combien comment pourquoi cette ceux celle aussi dont mais donc etre avoir fait faire
    with from that this what when where which whose their them they have does into
    before after than rather there each some about would could should only were been
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def fold(text: str) -> str:
    """Case, accents, typographic apostrophes and spacing folded."""
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "ʼ": "'"}))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().lower()


def key_words(text: str) -> set[str]:
    """The content words of a text, cut to five letters so that 'payer' meets 'payé'."""
    words = re.findall(r"[^\W_]+", fold(text))
    return {w[:5] for w in words if len(w) >= 4 and w not in STOP_WORDS and not w.isdigit()}


def load_queries() -> list[dict]:
    with open(QUERIES, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@cache
def load_qrels() -> tuple[tuple[str, str, int], ...]:
    with open(QRELS, encoding="utf-8", newline="") as rows:
        reader = csv.reader(rows, delimiter="\t")
        assert next(reader) == ["query-id", "corpus-id", "score"]
        return tuple((qid, doc, int(score)) for qid, doc, score in reader)


@cache
def corpus_files() -> dict[str, Path]:
    """Every document of the corpus by file name (the sources of PDF/DOCX files excluded)."""
    files = [
        path
        for path in CORPUS.rglob("*")
        if path.is_file()
        and path.suffix.lower() in SUFFIXES
        and path.parent != CORPUS
        and path.relative_to(CORPUS).parts[0] not in ("eval", "sources")
    ]
    names = Counter(path.name for path in files)
    assert not [name for name, count in names.items() if count > 1], "file names must be unique"
    return {path.name: path for path in files}


@cache
def passages(name: str) -> tuple[list[str], str | None]:
    """The folded chunk texts of a document as the knowledge base would index them, and
    the language it declares (front matter or file properties), if any."""
    path = corpus_files()[name]
    settings = Settings()
    parsed = read_document(name, path.read_bytes(), settings)
    chunks = chunk_blocks(parsed.blocks, settings.chunk_tokens)
    return [fold(chunk.text) for chunk in chunks], parsed.properties.get("language")


ALL = load_queries()
ANSWERABLE = [q for q in ALL if q["kind"] != "off-topic"]


def best_document(query: dict) -> str:
    (name,) = [doc for qid, doc, score in load_qrels() if qid == query["_id"] and score == 2]
    return name


def test_every_query_has_an_id_a_text_and_a_known_kind():
    ids = [q["_id"] for q in ALL]
    assert len(ids) == len(set(ids))
    for query in ALL:
        assert set(query) <= FIELDS, query["_id"]
        assert query["text"].strip(), query["_id"]
        assert query["kind"] in MINIMUM_PER_KIND, query["_id"]


def test_each_kind_has_enough_queries():
    counts = Counter(q["kind"] for q in ALL)
    assert len(ALL) >= MINIMUM_TOTAL
    for kind, minimum in MINIMUM_PER_KIND.items():
        assert counts[kind] >= minimum, f"{kind}: {counts[kind]} < {minimum}"


def test_other_language_queries_mix_directions_into_italian_and_spanish():
    directions = Counter(q["direction"] for q in ALL if q["kind"] == "other-language")
    for direction in ("fr-en", "en-fr"):
        assert directions[direction] >= 5, direction
    assert sum(n for d, n in directions.items() if d.endswith("-it")) >= 3
    assert sum(n for d, n in directions.items() if d.endswith("-es")) >= 3


def test_only_filtered_queries_have_filters_and_only_other_language_ones_a_direction():
    for query in ALL:
        assert ("filters" in query) == (query["kind"] == "filtered"), query["_id"]
        assert ("direction" in query) == (query["kind"] == "other-language"), query["_id"]
        if "filters" in query:
            assert query["filters"] and set(query["filters"]) <= FILTER_KEYS, query["_id"]


def test_qrels_name_known_queries_and_documents_of_the_corpus():
    ids = {q["_id"] for q in ALL}
    files = corpus_files()
    pairs = [(qid, doc) for qid, doc, _ in load_qrels()]
    assert len(pairs) == len(set(pairs)), "a document is judged twice for one query"
    for qid, doc, score in load_qrels():
        assert qid in ids, qid
        assert doc in files, f"{qid}: no file named {doc!r} in corpus/"
        assert score in (1, 2), qid


def test_off_topic_queries_have_no_answer_and_no_relevant_document():
    judged = {qid for qid, _, _ in load_qrels()}
    for query in ALL:
        if query["kind"] == "off-topic":
            assert "answer" not in query, query["_id"]
            assert query["_id"] not in judged, query["_id"]


def test_answerable_queries_have_exactly_one_best_document():
    for query in ANSWERABLE:
        best = [doc for qid, doc, score in load_qrels() if qid == query["_id"] and score == 2]
        assert len(best) == 1, f"{query['_id']}: {best}"


@pytest.mark.parametrize("query", ANSWERABLE, ids=lambda q: q["_id"])
def test_answer_is_a_short_phrase_of_one_passage_of_the_best_document(query):
    answer = query.get("answer", "")
    assert 3 <= len(answer.split()) <= 12, "an answer is a phrase of 3 to 12 words"
    assert not re.search(r"[.!?…;:]\s", answer), "an answer stays inside one sentence"
    texts, _ = passages(best_document(query))
    assert any(fold(answer) in text for text in texts), (
        f"{answer!r} is not in any passage of {best_document(query)}"
    )


@pytest.mark.parametrize(
    "query", [q for q in ALL if q["kind"] == "own-words"], ids=lambda q: q["_id"]
)
def test_own_words_queries_share_no_key_word_with_their_answer(query):
    assert not key_words(query["text"]) & key_words(query["answer"])


@pytest.mark.parametrize(
    "query", [q for q in ALL if q["kind"] == "other-language"], ids=lambda q: q["_id"]
)
def test_other_language_answers_are_in_a_document_of_the_target_language(query):
    source, _, target = query["direction"].partition("-")
    assert re.fullmatch(r"[a-z]{2}", source) and re.fullmatch(r"[a-z]{2}", target)
    assert source != target
    _, language = passages(best_document(query))
    if language:  # files without front matter or properties declare none
        assert language == target
