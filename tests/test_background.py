"""Embedding beside searches: a child process of the lowest priority, used by the server."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from api_support import auth, make_app
from fastapi.testclient import TestClient

from kb import Chunk, Document, KnowledgeBase, background
from kb.background import LOWEST_PRIORITY, EmbeddingProcess
from kb.embed import TinyEncoder

TEXTS = ["Le financement des SCIC.", "La monnaie locale du quartier."]


def children(before: frozenset[int] = frozenset()) -> list[int]:
    """The pids of this process's living multiprocessing children not in `before`."""
    return [p.pid for p in multiprocessing.active_children() if p.pid not in before]


def test_the_embedding_process_gives_its_encoders_vectors_from_a_low_priority_child():
    before = frozenset(children())
    process = EmbeddingProcess("tiny")
    try:
        assert not process.running
        vectors = process.encode_passages(TEXTS)
        assert np.array_equal(vectors, TinyEncoder().encode_passages(TEXTS))
        (child,) = children(before)
        if sys.platform == "linux":
            assert os.getpriority(os.PRIO_PROCESS, child) == LOWEST_PRIORITY
            assert os.getpriority(os.PRIO_PROCESS, os.getpid()) != LOWEST_PRIORITY
        process.stop_if_idle()  # what its idle timer calls
        assert not process.running and not children(before)
        assert np.array_equal(process.encode_passages(TEXTS[:1]), vectors[:1])  # started again
    finally:
        process.close()
    assert not process.running and not children(before)


def test_the_child_makes_its_encoder_for_passages_only(monkeypatch):
    made = []

    def make(*args, **options):
        made.append(options)
        return TinyEncoder()

    monkeypatch.setattr(background, "make_encoder", make)
    monkeypatch.setattr(background, "_encoders", {})
    background._encode_passages(("tiny", "", ""), TEXTS)  # what the child runs
    assert made == [{"queries": False}]


def test_after_its_child_dies_the_next_call_starts_another():
    before = frozenset(children())
    process = EmbeddingProcess("tiny")
    try:
        process.encode_passages(TEXTS)
        (child,) = children(before)
        os.kill(child, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            process.encode_passages(TEXTS)
        assert np.array_equal(process.encode_passages(TEXTS), TinyEncoder().encode_passages(TEXTS))
        assert children(before) and child not in children(before)
    finally:
        process.close()


def test_a_knowledge_base_embeds_in_place_until_told_to_embed_beside_searches(tmp_path):
    before = frozenset(children())
    document = Document(id="a", title="A", chunks=[Chunk("Le financement des SCIC.")])
    with KnowledgeBase(tmp_path / "kb", encoder="tiny") as kb:
        kb.add([document])
        assert not children(before)
        kb.embed_beside_searches()
        kb.add([document])
        assert len(children(before)) == 1
        assert kb.search("financement").results[0].document.id == "a"
    assert not children(before)  # closing the knowledge base stops it


def test_one_opened_with_an_encoder_object_embeds_in_place(tmp_path):
    before = frozenset(children())
    with KnowledgeBase(tmp_path / "kb", encoder=TinyEncoder()) as kb:
        kb.embed_beside_searches()
        kb.add([Document(id="a", title="A", chunks=[Chunk("Le financement des SCIC.")])])
        assert not children(before)


def test_the_server_embeds_uploads_beside_its_searches(kb):
    before = frozenset(children())
    note = b"# Monnaie locale\n\nLa monnaie locale soutient les commerces du quartier.\n"
    with TestClient(make_app(kb)) as client:
        response = client.post(
            "/api/documents", files=[("files", ("note.md", note))], headers=auth()
        )
        assert response.status_code == 200, response.text
        assert len(children(before)) == 1
        found = client.get("/api/search", params={"q": "monnaie locale"}).json()
    assert found["results"][0]["document"]["title"] == "Monnaie locale"
