"""Relevance behaviours with the real default model (multilingual-e5-small): the detail
beats its summary, across languages; an off-topic question is said to have no close
match; `total` and the facets count only the documents that pass the relevance cut."""

from __future__ import annotations

import pytest

from kb import Chunk, Document, KnowledgeBase, Settings, make_encoder

SUMMARY = (
    "Lundi, atelier avec un réseau de finance éthique de Valence sur son fonds de prêts "
    "solidaires. Mardi, visite d'un consortium de coopératives sociales de Turin. "
    "Mercredi, atelier sur la collecte et le réemploi des textiles usagés. Les partenaires "
    "ont trouvé les échanges riches et prévoient d'approfondir ces pistes à Toulouse."
)
LOAN_FUND = [
    "The fund lends between 5,000 and 30,000 euros to social enterprises at 2 % interest "
    "over five years. Repaid loans are lent again to new projects.",
    "A volunteer ethics committee of seven members reviews every application and meets "
    "the founders before deciding. When a borrower cannot offer any collateral, twenty "
    "supporters from its community each guarantee 500 euros of the loan.",
]
TEXTILES = [
    "La cooperativa gestisce 380 contenitori stradali e raccoglie 2.150 tonnellate di abiti "
    "usati all'anno. L'8 % viene venduto nei negozi solidali della cooperativa, il resto "
    "è selezionato e avviato al riciclo.",
]


def document(doc_id: str, title: str, kind: str, language: str, texts: list[str]) -> Document:
    return Document(
        id=doc_id,
        title=title,
        kind=kind,
        language=language,
        trip="2026-turin",
        chunks=[Chunk(text, ("Notes",), position=i) for i, text in enumerate(texts)],
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    with KnowledgeBase(tmp_path_factory.mktemp("kb"), encoder=make_encoder("e5-small")) as kb:
        kb.add(
            [
                document("report", "Rapport de voyage à Turin", "trip-report", "fr", [SUMMARY]),
                document(
                    "loan-fund",
                    "Workshop notes – A revolving loan fund in Valencia",
                    "workshop-notes",
                    "en",
                    LOAN_FUND,
                ),
                document(
                    "textiles",
                    "Scheda buona pratica – Riuso tessile",
                    "practice-sheet",
                    "it",
                    TEXTILES,
                ),
                document(
                    "garden",
                    "Fiche pratique – Un jardin partagé au pied des immeubles",
                    "practice-sheet",
                    "fr",
                    [
                        "Les habitants cultivent des légumes sur une parcelle prêtée par le "
                        "bailleur social ; un animateur les accompagne deux jours par semaine."
                    ],
                ),
            ]
        )
        yield kb


def test_the_detail_beats_its_summary_and_the_snippet_shows_the_answer(base):
    response = base.search("who guarantees the loan when the borrower has no collateral")
    assert response.results[0].document.id == "loan-fund" and not response.low_confidence
    assert "twenty supporters" in response.results[0].snippet.text


def test_a_question_finds_the_sheet_written_in_another_language(base):
    response = base.search("how many tonnes of used clothes are collected every year")
    assert response.results[0].document.id == "textiles"
    assert "2.150 tonnellate" in response.results[0].snippet.text


def test_an_off_topic_question_has_no_close_match_but_shows_the_closest(base):
    off = base.search("quel téléphone portable choisir pour les jeux vidéo")
    assert off.low_confidence and off.total == 0 and off.results
    assert sum(v.count for v in off.facets["language"]) == 0


def test_total_and_facets_count_only_the_documents_that_pass(base):
    response = base.search("how many tonnes of used clothes are collected every year")
    everything = len(base.documents()[0])
    assert 1 <= response.total < everything
    assert sum(v.count for v in response.facets["language"]) == response.total
    assert len(response.results) == response.total


def test_a_french_question_finds_the_italian_sheet_by_its_translated_words(base):
    question = "combien de conteneurs et de tonnes de vêtements par an"
    assert base.search(question).results[0].document.id == "textiles"
    # the words alone find it only through the dictionaries (Debian's FreeDict)
    by_words = base.search(question, mode="lexical")
    assert by_words.results[0].document.id == "textiles"
    assert "380 contenitori" in by_words.results[0].snippet.text
    plain = Settings(dictionaries="")
    with KnowledgeBase(base.path, encoder=base.encoder, settings=plain) as untranslated:
        found = untranslated.search(question, mode="lexical").results
        assert "textiles" not in [r.document.id for r in found[:1]]

