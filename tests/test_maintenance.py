"""kb backup / restore / check (--repair): kb/maintenance.py and its commands."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from api_support import fill, sample_documents
from click.testing import CliRunner

from cli.main import main
from kb import Chunk, Document, InvalidInput, KnowledgeBase
from kb.bm25 import MemoryLexical
from kb.fts import FtsLexical
from kb.index import FaissDense
from kb.maintenance import backup, check, repair, restore
from kb.settings import Settings


def kb_command(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), "--model", "tiny", *args])


def ids(kb: KnowledgeBase, query: str, mode: str = "hybrid") -> list[str]:
    return [r.document.id for r in kb.search(query, mode=mode).results]


def test_a_backup_restored_elsewhere_is_the_same_knowledge_base(kb, tmp_path):
    fill(kb)
    copied = backup(kb, tmp_path / "copy.sqlite")
    assert (copied.documents, copied.passages) == (4, 6)
    restored = restore(tmp_path / "other", copied.path)
    assert restored.documents == 4
    with KnowledgeBase(tmp_path / "other", encoder="tiny") as other:
        assert ids(other, "financer une SCIC") == ids(kb, "financer une SCIC")
        assert other.original(sample_documents()[0].id)[0].startswith(b"# Atelier")
        assert check(other) == []


def test_backup_never_overwrites_and_names_a_file_in_a_folder(kb, tmp_path):
    fill(kb)
    first = backup(kb, tmp_path)
    assert first.path.parent == tmp_path and first.path.name.startswith("kb-")
    with pytest.raises(InvalidInput, match="already exists"):
        backup(kb, first.path)
    assert not list(tmp_path.glob(".*partial"))


def test_a_backup_taken_while_documents_are_added_is_consistent(kb, tmp_path):
    fill(kb)
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            kb.add([Document(id=f"extra-{n}", title=f"Extra {n}",
                             chunks=[Chunk(f"passage {n} sur l'insertion", position=0),
                                     Chunk(f"suite {n} du financement", position=1)])])
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copies = [backup(kb, tmp_path / f"b{i}.sqlite") for i in range(5)]
    finally:
        stop.set()
        writer.join()
    for number, copied in enumerate(copies):
        home = tmp_path / f"restored-{number}"
        restore(home, copied.path)
        with KnowledgeBase(home, encoder="tiny") as restored:
            assert check(restored) == []
            assert restored.stats().chunks == copied.passages == 2 * copied.documents - 2


def test_restore_into_an_open_base_is_seen_by_its_next_search(kb, tmp_path):
    fill(kb)
    copied = backup(kb, tmp_path / "copy.sqlite")
    kb.remove(sample_documents()[0].id)
    kb.search("financer une SCIC")  # the open base has its index of this generation
    restore(kb.path, copied.path)
    assert sample_documents()[0].id in ids(kb, "financer une SCIC")


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidInput, match="not a knowledge base backup"):
        restore(tmp_path / "home", junk)


def damage(kb: KnowledgeBase, sql: str, *params: object) -> None:
    with kb.store.transaction() as db:
        db.execute(sql, params)


def test_check_finds_a_passage_missing_from_the_full_text_index_and_repairs_it(tmp_path):
    with KnowledgeBase(tmp_path, encoder="tiny", settings=Settings(lexical="fts")) as kb:
        fill(kb)
        chunk = kb.document(sample_documents()[0].id).chunks[0]
        damage(kb, "DELETE FROM chunks_fts WHERE rowid = ?", chunk.id)
        assert sample_documents()[0].id not in ids(kb, "titres participatifs", "lexical")
        problems = check(kb)
        assert [(p.area, p.repairable) for p in problems] == [("fulltext", True)]
        assert "1 passages missing" in problems[0].message
        repair(kb)
        assert check(kb) == []
        assert sample_documents()[0].id in ids(kb, "titres participatifs", "lexical")


def test_the_full_text_table_is_repaired_when_the_words_are_ranked_in_memory(kb):
    fill(kb)
    chunk = kb.document(sample_documents()[0].id).chunks[0]
    damage(kb, "DELETE FROM chunks_fts WHERE rowid = ?", chunk.id)
    assert [(p.area, p.repairable) for p in check(kb)] == [("fulltext", True)]
    repair(kb)
    assert check(kb) == []
    assert sample_documents()[0].id in ids(kb, "titres participatifs", "lexical")


def test_check_finds_a_vector_index_that_disagrees_with_sqlite(kb):
    fill(kb)
    kb.search("SCIC")  # builds and saves index.faiss
    state = kb.store.state()
    ids_, vectors = kb.store.vectors(kb.store.reader, kb.encoder.dim)

    def save(ids, vectors):
        wrong = FaissDense(kb.store, kb.path / "index.faiss", kb.encoder.dim, kb.model_name)
        wrong.reset()
        wrong.add(ids, vectors, [])
        wrong.commit(state)
        wrong.flush()

    save(ids_[1:], vectors[1:])
    assert [p.area for p in check(kb)] == ["index"]
    save(ids_, np.roll(vectors, 1, axis=0))
    assert "differ" in check(kb)[0].message
    repair(kb)
    assert check(kb) == []


def test_check_finds_a_lexical_index_that_disagrees_with_sqlite(kb):
    fill(kb)
    kb.search("SCIC")
    kb.flush()
    state = kb.store.state()
    assert check(kb) == []
    wrong = MemoryLexical(kb.store, kb.path / "lexical.idx", FtsLexical(kb.store))
    first = int(wrong.ids()[0])
    wrong.remove(np.array([first]))  # outside a transaction: the cache alone
    wrong.commit(state)
    wrong.flush()
    assert [(p.area, p.repairable) for p in check(kb)] == [("index", True)]
    assert "lexical.idx" in check(kb)[0].message
    assert any("lexical.idx" in line for line in repair(kb))
    assert check(kb) == []
    assert first in MemoryLexical(kb.store, kb.path / "lexical.idx", FtsLexical(kb.store)).ids()


def test_check_reports_a_damaged_original_and_a_document_without_passages(kb, tmp_path):
    fill(kb)
    sha = sample_documents()[0].sha256
    damage(kb, "UPDATE originals SET content = ? WHERE sha256 = ?", b"tampered", sha)
    damage(kb, "INSERT INTO documents (id, title, kind, ingested_at) VALUES ('half', 'H', "
               "'other', '2026-01-01')")
    areas = sorted((p.area, p.repairable) for p in check(kb))
    assert areas == [("documents", True), ("originals", False)]
    result = kb_command(kb.path, "check", "--repair", "--json")
    assert result.exit_code == 1  # the original cannot be repaired: re-ingest its file
    report = json.loads(result.stdout)
    assert any("removed half" in line for line in report["repaired"])
    assert [p["area"] for p in report["problems"]] == ["originals"]


def test_the_commands_back_up_check_and_restore(kb, tmp_path):
    fill(kb)
    kb.close()
    home = kb.path
    result = kb_command(home, "backup", str(tmp_path / "save.sqlite"))
    assert result.exit_code == 0, result.output
    assert "backed up 4 documents, 6 passages" in result.stdout
    assert kb_command(home, "check").stdout.strip() == "ok"
    refused = kb_command(home, "restore", str(tmp_path / "save.sqlite"))
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert kb_command(home, "restore", "--force", str(tmp_path / "save.sqlite")).exit_code == 0
    missing = kb_command(tmp_path / "nowhere", "check")
    assert missing.exit_code == 1 and "no knowledge base" in missing.stderr
    assert not (tmp_path / "nowhere").exists()

