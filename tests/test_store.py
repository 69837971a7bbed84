import numpy as np
import pytest

from kb import Chunk, Document, Theme
from kb.store import Store


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "kb.sqlite")
    yield store
    store.close()


def document(doc_id="a", **fields):
    fields.setdefault(
        "chunks", [Chunk("premier passage", ("Titre",), 1, 0), Chunk("second", (), 2, 1)]
    )
    return Document(id=doc_id, title=f"Doc {doc_id}", **fields)


def vectors(n, dim=4):
    return np.eye(n, dim, dtype=np.float32)


def test_document_round_trip_keeps_metadata_chunks_and_vectors(store):
    original = document(
        trip="2022-copenhague",
        themes=["funding", "inclusion"],
        authors=["Ana"],
        date="2022-05-16",
        sha256="abc",
        original=b"bytes",
        media_type="text/markdown",
    )
    with store.transaction() as db:
        ids = store.put_document(db, original, vectors(2))
    with store.snapshot() as db:
        found = store.document(db, "a")
        chunks = store.chunks(db, "a")
        chunk_ids, stored = store.vectors(db, 4, "a")
        content = store.original(db, "abc")
    assert found.trip == "2022-copenhague" and found.themes == ["funding", "inclusion"]
    assert found.authors == ["Ana"] and found.year == 2022
    assert [c.text for c in chunks] == ["premier passage", "second"]
    assert chunks[0].heading_path == ("Titre",) and chunks[0].page == 1
    assert list(chunk_ids) == ids
    assert np.array_equal(stored, vectors(2))
    assert content == b"bytes"


def test_replacing_a_document_gives_new_chunk_ids_never_reused(store):
    with store.transaction() as db:
        first = store.put_document(db, document(), vectors(2))
    with store.transaction() as db:
        second = store.put_document(db, document(chunks=[Chunk("nouveau texte")]), vectors(1))
    with store.transaction() as db:
        store.delete_document(db, "a")
        third = store.put_document(db, document("b"), vectors(2))
    with store.snapshot() as db:
        assert [c.text for c in store.chunks(db, "b")] == ["premier passage", "second"]
        assert list(store.chunk_id_array(db)) == third
    assert min(second) > max(first) and min(third) > max(second)


def test_failed_transaction_rolls_back_everything(store):
    with pytest.raises(ValueError), store.transaction() as db:
        store.put_document(db, document(), vectors(2))
        raise ValueError("boom")
    with store.snapshot() as db:
        assert store.document(db, "a") is None
        assert store.totals(db) == (0, 0)


def test_original_is_dropped_with_its_last_document(store):
    with store.transaction() as db:
        store.put_document(db, document("a", sha256="s", original=b"x"), vectors(2))
        store.put_document(db, document("b", sha256="s", original=b"x"), vectors(2))
        store.delete_document(db, "a")
        assert store.original(db, "s") == b"x"
        store.delete_document(db, "b")
        assert store.original(db, "s") is None


def test_themes_round_trip(store):
    themes = [Theme("funding", "Financement", "Funding", "argent")]
    with store.transaction() as db:
        store.put_themes(db, themes, np.ones((1, 4), dtype=np.float32))
    with store.snapshot() as db:
        [(theme, vector)] = store.themes(db)
    assert theme == themes[0] and vector.shape == (4,)


def test_a_search_reads_its_candidates_documents_and_sentences_at_once(store):
    with store.transaction() as db:
        a = store.put_document(db, document("a"), vectors(2))
        b = store.put_document(db, document("b", chunks=[Chunk("seul")]), vectors(1))
        store.set_sentence_vectors(db, {a[1]: (b"spans", b"vectors")})
    with store.snapshot() as db:
        documents, packed = store.chunk_documents_and_sentences(db, [*a, *b, 10_000])
        assert documents == store.chunk_documents(db, [*a, *b, 10_000])
        assert packed == store.packed_sentences(db, [*a, *b]) == [(a[1], b"spans", b"vectors")]
    assert documents == {a[0]: "a", a[1]: "a", b[0]: "b"}  # an unknown id is left out
