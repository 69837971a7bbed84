"""Practice cards: extraction from sections in five languages, the sample corpus's
coverage, sheets without sections, storage and the migration of older knowledge bases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ingest import ingest_paths
from kb import CARD_FIELDS, Chunk, Document, Filters, KnowledgeBase, NotFound, TripInfo
from kb.cards import card_title, extract_card, heading_field

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# Field coverage per practice sheet of the sample corpus, checked by
# `test_corpus_sheets_field_coverage`: ✓ stated and found, ✗ stated but not found,
# – not stated (by the sheet, nor by its trip folder for place and period).
COVERAGE = """
sheet                                                place period context description results resources transfer lessons contact
fiche-pratique-reemploi-materiaux-construction.md      ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
practice-sheet-registered-social-enterprise.docx       ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
eu-advocacy-toolkit-practice-sheet.pdf                 ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
fiche-pratique-clauses-sociales-marches-publics.md     ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
fiche-pratique-ateneus-cooperatius.md                  ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
practice-sheet-digital-inclusion-barcelona.docx        ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
fiche-pratique-tiers-lieu-alimentaire.pdf              ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
practice-sheet-food-hub-cooperative.md                 ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
Fiche pratique – l'épicerie solidaire (Bologne).md     ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
fiche-pratique-mentorat-entrepreneurs-lisbonne.docx    ✗     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
scheda-buona-pratica-riuso-tessile.md                  ✓     ✓      ✓        ✓         ✓        ✓        ✓       –       ✓
"""  # noqa: E501 - a table reads best on one line per sheet
# The Lisbon sheet names its city only in its title and text; its trip folder (job
# shadowing) has no single city: the card says "non précisé" rather than guess.


def parse_coverage() -> dict[str, dict[str, str]]:
    lines = [line for line in COVERAGE.strip().splitlines()]
    fields = lines[0].split()[1:]
    table = {}
    for line in lines[1:]:
        parts = line.split()
        marks = parts[-len(fields):]
        table[" ".join(parts[: -len(fields)])] = dict(zip(fields, marks, strict=True))
    return table


@pytest.fixture(scope="module")
def corpus_kb(tmp_path_factory):
    base = KnowledgeBase(tmp_path_factory.mktemp("corpus") / "kb", encoder="tiny")
    report = ingest_paths(base, [CORPUS])
    assert not report.rejected, report.outcomes
    yield base
    base.close()


def test_corpus_sheets_field_coverage(corpus_kb):
    expected = parse_coverage()
    cards, _ = corpus_kb.practices()
    by_source = {card.source: card for card in cards}
    assert set(expected) <= set(by_source), "a sheet of the table has no card"
    stated = found = 0
    for source, marks in expected.items():
        card = by_source[source]
        measured = {
            name: ("✓" if name in card.fields else "✗") if marks[name] != "–"
            else ("–" if name not in card.fields else "?")
            for name in CARD_FIELDS
        }
        assert measured == marks, source
        stated += sum(mark != "–" for mark in marks.values())
        found += sum(mark == "✓" for mark in marks.values())
    assert found / stated >= 0.9, (found, stated)


def test_every_practice_sheet_of_the_corpus_gets_a_card(corpus_kb):
    sheets, total = corpus_kb.documents(Filters(kind=("practice-sheet",)))
    cards, _ = corpus_kb.practices(Filters(kind=("practice-sheet",)))
    assert total >= 10 and {c.document_id for c in cards} == {d.id for d in sheets}
    for card in cards:
        assert card.title and not card.title.lower().startswith(("fiche pratique", "practice"))
        assert "context" in card.fields and "description" in card.fields
        assert card.source and card.document_title


def test_workshop_notes_and_reports_are_not_practices(corpus_kb):
    cards, _ = corpus_kb.practices(Filters(kind=("trip-report", "workshop-notes")))
    assert cards == []


def test_trips_are_recorded_from_their_folders(corpus_kb):
    copenhagen = corpus_kb.trip("2022-copenhague")
    assert (copenhagen.trip.city, copenhagen.trip.start, copenhagen.trip.end) == (
        "Copenhague", "2022-05-16", "2022-05-20")
    assert "Byggeriets Genbrugscenter" in copenhagen.trip.organisations
    assert copenhagen.practices == 2 and copenhagen.by_kind["practice-sheet"] == 2
    card = corpus_kb.practice("2022-copenhague--fiche-pratique-reemploi-materiaux-construction.md")
    assert card.fields["period"].text == "2022-05-16 → 2022-05-20"
    assert card.fields["period"].origin == "trip"
    with pytest.raises(NotFound):
        corpus_kb.trip("nowhere")


SECTIONS = {
    "fr": ["Le contexte", "Description de la pratique", "2. Résultats obtenus",
           "Ressources et coûts", "Conditions de transfert", "Difficultés rencontrées",
           "Contact", "Lieu", "Période"],
    "en": ["Background", "How it works", "Evidence of success", "Costs", "Transferability",
           "Lessons learned", "Contact person", "Location", "Timescale"],
    "it": ["Il contesto", "Descrizione", "Risultati", "Risorse e costi",
           "Condizioni di trasferimento", "Difficoltà", "Contatti", "Luogo", "Periodo"],
    "es": ["Contexto", "Descripción", "Resultados", "Recursos", "Transferibilidad",
           "Lecciones aprendidas", "Contacto", "Lugar", "Fechas"],
    "ca": ["Context", "Descripció", "Resultats", "Pressupost", "Condicions de transferència",
           "Dificultats", "Contacte", "Lloc", "Període"],
}
ORDER = ["context", "description", "results", "resources", "transfer", "lessons", "contact",
         "place", "period"]


@pytest.mark.parametrize("lang", sorted(SECTIONS))
def test_headings_in_five_languages_name_every_field(lang):
    chunks = [
        Chunk(f"Texte {i} de la section.", ("Titre", heading), page=i + 1, position=i)
        for i, heading in enumerate(SECTIONS[lang])
    ]
    card = extract_card(Document("d", "Fiche", chunks, kind="practice-sheet"))
    assert set(card.fields) == set(CARD_FIELDS)
    for i, name in enumerate(ORDER):
        assert card.fields[name].text == f"Texte {i} de la section."
        assert card.fields[name].page == i + 1


@pytest.mark.parametrize(
    ("heading", "field"),
    [("CONTEXTE :", "context"), ("l'impact", "results"), ("Transfert possible à Toulouse",
     "transfer"), ("Contacts", "contact"), ("Contexto", "context"), ("Histoire du réseau", None),
     ("Financement de l'incubateur", None), ("Contactless payments", None)],
)
def test_heading_synonyms(heading, field):
    assert heading_field(heading) == field


def test_subsections_stay_with_their_field_and_inline_labels_count():
    chunks = [
        Chunk("Le contexte : une ville qui recycle.", (), position=0),
        Chunk("Étape un.", ("Description", "Étape 1"), position=1),
        Chunk("Étape deux.", ("Description", "Étape 2"), position=2),
    ]
    card = extract_card(Document("d", "Practice sheet – Recycling", chunks,
                                 kind="practice-sheet"))
    assert card.title == "Recycling"
    assert card.fields["context"].text == "une ville qui recycle."
    assert card.fields["context"].origin == "label"
    assert card.fields["description"].text == "Étape 1\nÉtape un.\n\nÉtape 2\nÉtape deux."


def test_card_titles_lose_the_sheet_prefix_only():
    assert card_title("Fiche pratique – Un centre de réemploi") == "Un centre de réemploi"
    assert card_title("Scheda buona pratica – Dal cassonetto") == "Dal cassonetto"
    assert card_title("Atelier : financer une SCIC") == "Atelier : financer une SCIC"


def test_a_sheet_without_sections_ingests_with_nothing_invented(kb, tmp_path):
    folder = tmp_path / "2027-lyon"
    folder.mkdir()
    (folder / "trip.yaml").write_text("name: Lyon\ncity: Lyon\ncountry: France\n")
    (folder / "fiche.md").write_text(
        "---\ntitle: Fiche pratique – Une recyclerie\nkind: practice-sheet\n---\n\n"
        "Une recyclerie de quartier, ouverte en 2020, qui emploie six personnes.\n",
        encoding="utf-8",
    )
    report = ingest_paths(kb, [folder])
    assert report.counts()["added"] == 1
    card = kb.practice("2027-lyon--fiche.md")
    assert card.title == "Une recyclerie"
    assert set(card.fields) == {"place"}  # from the trip folder; no period was given
    assert card.not_stated == [n for n in CARD_FIELDS if n != "place"]


def test_cards_follow_replacements_and_removals(kb):
    sheet = Document("s", "Fiche", [Chunk("Avant.", ("Contexte",))], kind="practice-sheet")
    kb.add([sheet])
    assert kb.practice("s").fields["context"].text == "Avant."
    kb.add([Document("s", "Fiche", [Chunk("Après.", ("Contexte",))], kind="practice-sheet")])
    assert kb.practice("s").fields["context"].text == "Après."
    kb.remove("s")
    assert kb.practices() == ([], 0)
    with pytest.raises(NotFound):
        kb.practice("s")
    with pytest.raises(NotFound, match="'x', 'y'"):
        kb.practice_cards(["x", "y"])


def test_a_knowledge_base_built_before_cards_gets_them_when_opened(tmp_path):
    home = tmp_path / "kb"
    with KnowledgeBase(home, encoder="tiny") as base:
        base.add([Document("2022-copenhague--s", "Fiche pratique – Réemploi",
                           [Chunk("Un entrepôt.", ("Description",))], kind="practice-sheet",
                           trip="2022-copenhague", city="Copenhague")])
    # Make it what schema 2 left: no card, trip or query-log tables.
    db = sqlite3.connect(home / "kb.sqlite")
    for table in ("practice_cards", "trips", "query_opens", "query_log"):
        db.execute(f"DROP TABLE {table}")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.close()

    with KnowledgeBase(home, encoder="tiny") as base:
        assert base.store.meta("schema_version") == "3"
        cards, total = base.practices()
        assert total == 1 and cards[0].title == "Réemploi"
        assert cards[0].fields["description"].text == "Un entrepôt."
        trip = base.trip("2022-copenhague")  # known from its documents until re-ingested
        assert trip.trip.city == "Copenhague" and trip.trip.start is None
        base.put_trips([TripInfo("2022-copenhague", "Copenhague", "Copenhague", "Danemark",
                                 "2022-05-16", "2022-05-20")])
        assert base.practice("2022-copenhague--s").fields["period"].text == (
            "2022-05-16 → 2022-05-20")
        assert base.rebuild_cards() == 1


def test_a_reader_does_not_wait_behind_a_long_write(kb):
    import threading

    kb.add([Document("s", "Fiche", [Chunk("Texte.", ("Contexte",))], kind="practice-sheet")])
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with kb._write_lock:  # as an ingest embedding a large batch holds it
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(10)
    try:
        assert kb.practices() == ([], 0)  # the card is built by a later read
    finally:
        release.set()
        thread.join()
    assert kb.practices()[1] == 1
