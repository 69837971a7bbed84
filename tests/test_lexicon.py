"""Query translation: FreeDict dictionaries read, looked up by stem, both ways."""

from __future__ import annotations

import gzip
from pathlib import Path

from kb.lexicon import BASE64, Lexicon, lexicon_at, translations_of
from kb.query import AnalysedQuery

DIGITS = "".join(BASE64)


def number(value: int) -> str:
    out = ""
    while True:
        out = DIGITS[value % 64] + out
        value //= 64
        if not value:
            return out


def write_dictd(folder: Path, name: str, entries: dict[str, str]) -> None:
    """A dictd dictionary as FreeDict ships it: NAME.index and a gzip'd NAME.dict.dz."""
    body, index = b"", []
    for headword, text in entries.items():
        entry = f"{headword} /pron/ <n>\n{text}\n".encode()
        index.append(f"{headword}\t{number(len(body))}\t{number(len(entry))}")
        body += entry
    (folder / f"{name}.index").write_text("\n".join(sorted(index)) + "\n", encoding="utf-8")
    with gzip.open(folder / f"{name}.dict.dz", "wb") as out:
        out.write(body)


def test_an_entry_gives_its_senses_not_its_glosses():
    entry = (
        "décharge /de.ʃaʁʒ/ <n, fem>\n1. discarica\nlieu où l'on entrepose les déchets\n"
        "2. scarica\névacuation de charges\n"
    )
    assert translations_of(entry) == ["discarica", "scarica"]
    assert translations_of("vêtement /v/ <n>\ngarment, item of clothing\n") == [
        "garment",
        "item of clothing",
    ]
    assert translations_of("marge /m/ <n>\nmargen 2.\nProfit commercial\n") == ["margen"]


def test_words_are_looked_up_by_stem_in_both_directions(tmp_path):
    write_dictd(tmp_path, "freedict-fra-ita", {"vêtement": "vestito", "conteneur": "contenitore"})
    write_dictd(tmp_path, "freedict-deu-fra", {"Kleid": "robe"})  # not a partners' language
    lexicon = Lexicon.load(tmp_path)
    # a plural finds its singular entry; the translation is stemmed in Italian
    assert lexicon.translate(["vetements"]) == {"it": {"vest"}}
    # Italian → French by reading the French–Italian dictionary backwards
    assert lexicon.translate(["contenitori"]) == {"fr": {"conteneur"}}
    assert lexicon.translate(["kleid", "budget"]) == {}


def test_a_broken_dictionary_is_skipped_and_the_others_still_translate(tmp_path):
    write_dictd(tmp_path, "freedict-fra-eng", {"subvention": "subsidy"})
    (tmp_path / "freedict-fra-spa.index").write_text("subvention\tAA\tZZZ\n")
    (tmp_path / "freedict-fra-spa.dict.dz").write_bytes(b"not gzip")
    assert Lexicon.load(tmp_path).translate(["subventions"]) == {"en": {"subsidi"}}


def test_no_folder_means_no_translation(tmp_path):
    assert not lexicon_at(tmp_path / "missing")
    assert not lexicon_at("")
    assert AnalysedQuery.of("vêtements", lexicon_at("")).translated == ()


def test_the_query_searches_the_translations_in_the_stems_column(tmp_path):
    write_dictd(tmp_path, "freedict-fra-ita", {"vêtement": "vestito"})
    query = AnalysedQuery.of("combien de vêtements", Lexicon.load(tmp_path))
    assert query.translated == ("vest",)
    assert query.translated_into == (("vest", ("it",)),)  # the language it translates into
    assert '"vest"' in query.match_expression().split("stems :")[1]


def test_the_installed_freedict_dictionaries_cover_the_partners_languages():
    """The set-up installs Debian's dict-freedict packages; each direction between
    French and English, Italian and Spanish translates an everyday word."""
    lexicon = lexicon_at("/usr/share/dictd")
    assert "vest" in lexicon.translate(["vetements"])["it"]  # fr → it
    assert "subvencion" in lexicon.translate(["subvention"])["es"]  # fr → es
    assert "subsidi" in lexicon.translate(["subvention"])["en"]  # fr → en
    assert "vet" in lexicon.translate(["clothes"])["fr"]  # en → fr
    assert "cooper" in lexicon.translate(["cooperativa"])["fr"]  # it/es → fr


def test_the_lexicon_is_compiled_once_into_the_cache_folder(tmp_path, monkeypatch):
    from kb.lexicon import _compiled

    dictionaries, cache = tmp_path / "dict", tmp_path / "cache"
    dictionaries.mkdir()
    write_dictd(dictionaries, "freedict-fra-eng", {"subvention": "subsidy"})
    monkeypatch.setenv("KB_CACHE_DIR", str(cache))
    assert _compiled(dictionaries).translate(["subventions"]) == {"en": {"subsidi"}}
    (compiled,) = cache.glob("lexicon-*.sqlite")
    stamp = compiled.stat().st_mtime_ns
    assert _compiled(dictionaries).translate(["subvention"]) == {"en": {"subsidi"}}
    assert compiled.stat().st_mtime_ns == stamp  # read, not rebuilt
    # a changed dictionary is compiled anew
    write_dictd(dictionaries, "freedict-fra-eng", {"subvention": "grant"})
    assert _compiled(dictionaries).translate(["subvention"]) == {"en": {"grant"}}


def test_an_unwritable_cache_folder_keeps_the_lexicon_in_memory(tmp_path, monkeypatch):
    from kb.lexicon import _compiled

    write_dictd(tmp_path, "freedict-fra-eng", {"subvention": "subsidy"})
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("KB_CACHE_DIR", str(blocker / "cache"))
    assert _compiled(tmp_path).translate(["subvention"]) == {"en": {"subsidi"}}
