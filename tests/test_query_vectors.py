"""Recent queries' vectors are kept: a query asked again is not encoded again."""

import numpy as np
import pytest

from kb import Chunk, Document, Filters, KnowledgeBase
from kb.embed import TinyEncoder
from kb.query_vectors import QueryVectors


class QueryCounter(TinyEncoder):
    def __init__(self):
        super().__init__()
        self.queries = []

    def encode_queries(self, texts):
        self.queries += list(texts)
        return super().encode_queries(texts)


def test_a_query_asked_again_is_encoded_once_and_the_least_recent_goes_first():
    encoder = QueryCounter()
    vectors = QueryVectors(lambda: encoder, size=2)
    first = vectors("financement solidaire")
    assert np.array_equal(vectors("financement solidaire"), first)
    assert encoder.queries == ["financement solidaire"]
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared by every search that asks it again
    vectors("circuits courts")
    vectors("financement solidaire")  # now the most recent
    vectors("mesure d'impact")  # pushes "circuits courts" out
    vectors("financement solidaire")
    vectors("circuits courts")
    assert encoder.queries == [
        "financement solidaire",
        "circuits courts",
        "mesure d'impact",
        "circuits courts",
    ]


def test_searches_paging_and_filtering_one_query_encode_it_once(tmp_path):
    encoder = QueryCounter()
    with KnowledgeBase(tmp_path / "kb", encoder=encoder) as kb:
        kb.add(
            [
                Document(
                    id=f"doc-{n}",
                    title=f"Atelier {n}",
                    language="fr",
                    trip="2024-bruxelles" if n % 2 else None,
                    chunks=[Chunk(text=f"Le financement solidaire, atelier {n}.")],
                )
                for n in range(6)
            ]
        )
        encoder.queries.clear()
        first = kb.search("financement solidaire", limit=2)
        second = kb.search("financement solidaire", limit=2, offset=2)
        kb.search("financement solidaire", Filters(trip=("2024-bruxelles",)))
        assert encoder.queries == ["financement solidaire"]
        ids = [r.document.id for r in first.results + second.results]
        assert len(set(ids)) == 4
        assert kb.search("financement solidaire").results[0].document.id == ids[0]
