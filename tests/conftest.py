from __future__ import annotations

import pytest

from kb import KnowledgeBase


@pytest.fixture
def kb(tmp_path):
    """An empty knowledge base on the deterministic tiny encoder."""
    base = KnowledgeBase(tmp_path / "kb", encoder="tiny")
    yield base
    base.close()
