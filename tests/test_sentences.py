import numpy as np

from kb import Chunk, Document
from kb.sentences import pack, sentence_spans, unpack


def test_sentence_spans_join_fragments_to_their_neighbour():
    text = "- Carte.\nLes familles reçoivent 30 à 100 points par mois. Ils paient.\nFin."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "- Carte.\nLes familles reçoivent 30 à 100 points par mois.",
        "Ils paient.\nFin.",
    ]


def test_packed_sentence_vectors_keep_their_cosines():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(7, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    spans = [(i * 10, i * 10 + 9) for i in range(7)]
    blob_spans, blob_vectors = pack(spans, vectors)
    assert len(blob_vectors) == 7 * (4 + 384)  # a quarter of float32, plus a scale
    restored = unpack(blob_spans, blob_vectors, 384)
    assert restored.spans == spans
    query = vectors[3]
    assert np.allclose(restored.scores(query), vectors @ query, atol=0.01)


def test_every_passage_has_its_sentence_vectors_after_add_and_reindex(kb):
    text = "Le fonds prête aux coopératives. Les prêts sont remboursés en cinq ans."
    kb.add([Document(id="d", title="Fonds", chunks=[Chunk(text)])])
    with kb.store.snapshot() as db:
        (chunk_id,) = [c.id for c in kb.store.chunks(db, "d")]
        stored = kb.store.sentence_vectors(db, [chunk_id], kb.encoder.dim)[chunk_id]
    assert [text[a:b] for a, b in stored.spans] == [
        "Le fonds prête aux coopératives.",
        "Les prêts sont remboursés en cinq ans.",
    ]
    with kb.store.transaction() as db:
        db.execute("DELETE FROM chunk_sentences")  # a base built before sentence vectors
    assert kb.search("fonds").results  # still searches
    kb.reindex()
    with kb.store.snapshot() as db:
        assert kb.store.sentence_vectors(db, [chunk_id], kb.encoder.dim)
