"""`kb template`: Markdown notes whose headings are the ones the card extractor reads.

After a trip, the programme team writes one file per practice (and per workshop, and
the trip report) from these templates, then runs `kb ingest`: each practice sheet
becomes a full practice card. Hints are HTML comments, which ingest ignores.
"""

from __future__ import annotations

from datetime import date

from kb import CARD_FIELDS, field_label

KINDS = ("practice-sheet", "workshop-notes", "trip-report")

TITLES = {
    "practice-sheet": {"fr": "Fiche pratique – ", "en": "Practice sheet – "},
    "workshop-notes": {"fr": "Atelier : ", "en": "Workshop: "},
    "trip-report": {"fr": "Rapport de voyage – ", "en": "Trip report – "},
}

HINTS = {
    "fr": {
        "place": "Ville, pays ; la structure qui porte la pratique.",
        "period": "Depuis quand la pratique existe ; date de la visite.",
        "context": "Le problème auquel la pratique répond, le cadre local.",
        "description": "Ce qui est fait, par qui, comment, étape par étape.",
        "results": "Les résultats chiffrés et les preuves de réussite.",
        "resources": "Budget, équipe, financements, outils.",
        "transfer": "Ce qu'il faudrait réunir pour la transposer à Toulouse.",
        "lessons": "Difficultés rencontrées, points de vigilance, enseignements.",
        "contact": "Qui contacter, ici et là-bas.",
        "title": "Nom de la pratique (lieu)",
        "intro": "Une phrase qui résume la pratique.",
    },
    "en": {
        "place": "City, country; the organisation running the practice.",
        "period": "Since when the practice exists; date of the visit.",
        "context": "The problem the practice answers, the local setting.",
        "description": "What is done, by whom, how, step by step.",
        "results": "Results in figures, evidence of success.",
        "resources": "Budget, staff, funding, tools.",
        "transfer": "What Toulouse would need to bring together to transfer it.",
        "lessons": "Difficulties met, pitfalls, lessons learned.",
        "contact": "Whom to contact, here and there.",
        "title": "Name of the practice (place)",
        "intro": "One sentence that sums the practice up.",
    },
}

# Workshop notes and trip reports: their own sections, then card fields where they fit,
# so that notes which describe a practice become a card too.
SECTIONS = {
    "workshop-notes": {
        "fr": [("Intervenants", "Qui a présenté, pour quelle structure."),
               ("context", None), ("description", None), ("results", None),
               ("Échanges avec la délégation", "Questions posées, réponses."),
               ("transfer", None), ("lessons", None), ("contact", None)],
        "en": [("Speakers", "Who presented, for which organisation."),
               ("context", None), ("description", None), ("results", None),
               ("Discussion with the delegation", "Questions asked, answers."),
               ("transfer", None), ("lessons", None), ("contact", None)],
    },
    "trip-report": {
        "fr": [("Objectifs et délégation", "Pourquoi ce voyage, qui est parti."),
               ("Programme", "Une sous-partie (###) par journée ou par visite."),
               ("Pratiques observées", "Une fiche pratique par pratique, écrite à part."),
               ("lessons", None),
               ("Plan d'action", "Ce qui sera fait à Toulouse, par qui, quand."),
               ("Évaluation", "Ce que les participants en disent.")],
        "en": [("Objectives and delegation", "Why this trip, who went."),
               ("Programme", "One sub-section (###) per day or per visit."),
               ("Practices observed", "One practice sheet per practice, written apart."),
               ("lessons", None),
               ("Action plan", "What will be done in Toulouse, by whom, when."),
               ("Evaluation", "What the participants say about it.")],
    },
}


def render(kind: str, lang: str = "fr", trip: str | None = None) -> str:
    """The Markdown template of a `kind` of notes, in `lang` (fr or en)."""
    if kind not in KINDS:
        raise ValueError(f"unknown template {kind!r}: choose one of {', '.join(KINDS)}")
    lang = "en" if lang == "en" else "fr"
    hints = HINTS[lang]
    if kind == "practice-sheet":
        sections = [(name, None) for name in CARD_FIELDS]
    else:
        sections = SECTIONS[kind][lang]
    title = TITLES[kind][lang] + hints["title"]
    lines = [
        "---",
        f'title: "{title}"',
        f"kind: {kind}",
        f"language: {lang}",
        *([f"trip: {trip}"] if trip else []),
        f"date: {date.today().isoformat()}",
        "themes: []  # ids from corpus/themes.yaml, e.g. [funding, inclusion]",
        "authors: []",
        "organisations: []",
        "---",
        "",
        f"# {hints['title']}",
        "",
        f"<!-- {hints['intro']} -->",
    ]
    for name, hint in sections:
        if hint is None:  # a card field: its label is a heading the extractor reads
            name, hint = field_label(name, lang), hints[name]
        lines += ["", f"## {name}", "", f"<!-- {hint} -->"]
    return "\n".join(lines) + "\n"
