import json

import pytest

from kb import Chunk, Document, InvalidInput
from kb.evaluate import Query, Ranking, evaluate, load, score_ranking


def test_perfect_and_missed_rankings():
    assert score_ranking([{"a"}, {"b"}], {"a": 1}) == (1.0, 1.0, 1.0)
    ndcg, recall, rr = score_ranking([{"x"}, {"a"}], {"a": 1})
    assert rr == 0.5 and recall == 1.0 and ndcg == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert score_ranking([{"x"}] * 10 + [{"a"}], {"a": 1}) == (0.0, 0.0, 0.0)


def test_graded_relevance_and_names():
    # A result answers to its id or its file name; each relevant item counts once.
    ndcg, recall, _ = score_ranking(
        [{"d1", "a.md"}, {"d1", "a.md"}, {"b.md"}], {"a.md": 2, "b.md": 1}
    )
    assert recall == 1.0 and 0.9 < ndcg < 1.0


def test_load_queries_qrels_filters_and_inline_ids(tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps(
            {"_id": "1", "text": "a", "text_en": "A", "filters": {"trip": "t", "lang": "fr"}}
        )
        + "\n"
        + json.dumps({"_id": "2", "text": "b", "text_en": "B", "corpus-id": "x"})
        + "\n"
        + json.dumps({"_id": "3", "text": "unjudged", "text_en": "U"})
        + "\n"
    )
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\n1\tdoc.md\t2\n1\tzero.md\t0\n")
    loaded = {q.id: q for q in load(queries, qrels)}
    assert set(loaded) == {"1", "2"}
    assert loaded["1"].relevant == {"doc.md": 2}
    assert loaded["1"].filters.trip == ("t",) and loaded["1"].filters.language == ("fr",)
    assert loaded["2"].relevant == {"x": 1}
    assert load(queries, qrels, "text_en")[0].text == "A"


def test_bad_query_file_is_reported(tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text("not json\n")
    with pytest.raises(InvalidInput, match="q.jsonl:1"):
        load(queries, None)


def test_knowledge_base_evaluate(kb):
    kb.add(
        [
            Document(
                id="p1", title="t", source="c.jsonl", chunks=[Chunk("la tour Eiffel à Paris")]
            ),
            Document(id="p2", title="t", source="c.jsonl", chunks=[Chunk("le Colisée à Rome")]),
        ]
    )
    from kb.evaluate import Query

    scores = kb.evaluate([Query("q", "Colisée Rome", relevant={"p2": 1})], mode="lexical")
    assert scores.ndcg == 1.0 and scores.mrr == 1.0 and scores.queries == 1
    # the documents each search counted as matches, answerable and off-topic apart
    both = kb.evaluate(
        [
            Query("q", "Colisée Rome", relevant={"p2": 1}),
            Query("o", "Paris Rome", kind="off-topic"),
        ],
        mode="lexical",
    )
    assert both.counted == 1.0 and both.off_topic_counted == 2.0


def test_the_answer_counts_when_a_top_three_result_shows_it_in_its_snippet_or_an_excerpt():
    shown = {
        # the answer in the excerpt of the second result's other passage
        "excerpt": [["a"], ["b", "le fonds prête à 2 %"], ["c"]],
        # the phrase split between a snippet and the excerpt under it: not shown whole
        "split": [["le fonds prête"], ["à 2 %"], ["c"]],
        # shown by the fourth result only
        "deep": [["a"], ["b"], ["c"], ["le fonds prête à 2 %"]],
    }
    queries = [Query(q, "prêt", relevant={"d": 1}, answer="le fonds prête à 2 %") for q in shown]

    def rank(query: Query) -> Ranking:
        return Ranking(names=[{"d"}], snippets=shown[query.id])

    scores = evaluate(queries, rank)
    visible = {q: s["answer_visible"] for q, s in scores.per_query.items()}
    assert visible == {"excerpt": 1.0, "split": 0.0, "deep": 0.0}
