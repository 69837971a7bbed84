"""Documents and an app factory shared by the API, page and browser tests."""

from __future__ import annotations

import hashlib

from api import create_app
from kb import Chunk, Document, KnowledgeBase, Settings, Theme

API_KEY = "test-key-0123456789"
XSS_TITLE = "Atelier <script>alert(1)</script> financement"
XSS_TEXT = "Un passage piégé <img src=x onerror=alert(1)> sur le financement solidaire."

THEMES = [
    Theme("funding", "Financement", "Funding", "financement fonds propres subventions"),
    Theme("inclusion", "Inclusion sociale", "Social inclusion", "insertion emploi inclusion"),
]


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"api_keys": [API_KEY], "cors_origins": ["https://partenaire.example"]}
    values.update(overrides)
    return Settings(**values)


def financing_workshop() -> Document:
    """A small French workshop note, the document the widget tests search for."""
    return Document(
        id="2022-copenhague--atelier-financement.md",
        title="Atelier financement",
        trip="2022-copenhague",
        trip_name="Copenhague 2022",
        chunks=[
            Chunk(
                text="Le financement participatif des SCIC passe par les collectivités.",
                heading_path=("Atelier 2", "Financement"),
                position=4,
            )
        ],
    )


def guarantee_fund() -> Document:
    """A document whose two passages both answer "fonds de garantie": a result that shows
    the second as an excerpt under the first."""
    return Document(
        id="2026-turin--fonds-garantie.md",
        title="Fonds de garantie",
        trip="2026-turin",
        chunks=[
            Chunk(
                text="Le fonds de garantie solidaire couvre la moitié de chaque prêt.",
                position=0,
            ),
            Chunk(
                text="Chaque membre verse au fonds de garantie 0,5 % de son chiffre d'affaires.",
                position=1,
            ),
        ],
    )


def make_app(kb: KnowledgeBase, **overrides: object):
    return create_app(kb, settings(**overrides))


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


def _original(doc: Document, content: bytes, media_type: str) -> Document:
    doc.original = content
    doc.sha256 = hashlib.sha256(content).hexdigest()
    doc.media_type = media_type
    return doc


def sample_documents() -> list[Document]:
    scic = Document(
        id="2022-copenhague--atelier-financement-scic.md",
        title="Atelier financement des SCIC",
        kind="workshop-notes",
        language="fr",
        trip="2022-copenhague",
        trip_name="Copenhague 2022",
        city="Copenhague",
        country="Danemark",
        date="2022-05-17",
        themes=["funding"],
        authors=["Claire Martin"],
        organisations=["Toulouse Métropole"],
        source="atelier-financement-scic.md",
        chunks=[
            Chunk("Financer une SCIC sans fonds propres grâce aux titres participatifs.",
                  ("Atelier 2", "Financement"), position=0),
            Chunk("Les collectivités peuvent entrer au capital d'une SCIC.",
                  ("Atelier 2", "Gouvernance"), position=1),
        ],
    )
    _original(scic, b"# Atelier financement\n\nFinancer une SCIC...\n", "text/markdown")
    report = Document(
        id="2022-copenhague--rapport-voyage.pdf",
        title="Rapport de voyage Copenhague",
        kind="trip-report",
        language="fr",
        trip="2022-copenhague",
        trip_name="Copenhague 2022",
        date="2022-05-20",
        themes=["inclusion"],
        themes_detected=True,
        source="rapport de voyage à Copenhague.pdf",
        chunks=[
            Chunk("Visite d'un atelier d'insertion par le réemploi de matériaux.",
                  ("Jour 1",), page=2, position=0),
            Chunk("Le financement public de l'insertion par l'activité économique.",
                  ("Jour 2",), page=5, position=1),
        ],
    )
    _original(report, b"%PDF-1.4\n% rapport\n", "application/pdf")
    food = Document(
        id="2026-bologne--food-hub.md",
        title="Food hub cooperative",
        kind="practice-sheet",
        language="en",
        trip="2026-bologne",
        trip_name="Bologne 2026",
        date="2026-03-10",
        themes=["inclusion"],
        source="food-hub.md",
        chunks=[Chunk("A cooperative food hub sells local produce to canteens.",
                      ("Practice",), position=0)],
    )
    xss = Document(
        id="2024-bruxelles--xss.md",
        title=XSS_TITLE,
        kind="other",
        language="fr",
        trip="2024-bruxelles",
        date="2024-10-01",
        themes=["funding"],
        chunks=[Chunk(XSS_TEXT, ("<b>Section</b>",), position=0)],
    )
    return [scic, report, food, xss]


def fill(kb: KnowledgeBase) -> KnowledgeBase:
    kb.set_themes(THEMES)
    kb.add(sample_documents())
    return kb
