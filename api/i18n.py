"""The user-interface strings of the pages, in French (default) and English.

The language is `?lang=fr|en` when given, else the first `Accept-Language` preference
that is French or English, else French.
"""

from __future__ import annotations

from fastapi import Request

from api.strings_transfer import STRINGS as TRANSFER_STRINGS

LANGUAGES = ("fr", "en")
DEFAULT = "fr"

STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "site_name": "Savoir-faire",
        "tagline": "Les bonnes pratiques des voyages d'étude de Toulouse Métropole Impact",
        "skip": "Aller au contenu",
        "nav_search": "Recherche",
        "nav_api": "API",
        "query_label": "Votre question",
        "query_placeholder": "ex. comment financer une SCIC sans fonds propres ?",
        "search": "Rechercher",
        "filters": "Affiner",
        "apply_filters": "Appliquer les filtres",
        "filters_button": "Filtres ({n})",
        "clear_filters": "Effacer les filtres",
        "facet_trip": "Voyage",
        "no_trip": "Hors voyage",
        "facet_theme": "Thème",
        "facet_kind": "Type de document",
        "facet_language": "Langue",
        "facet_year": "Année",
        "results_one": "1 résultat",
        "results_many": "{n} résultats",
        "results_none": "Aucun résultat.",
        "low_confidence": "Aucun résultat proche — résultats les plus proches :",
        "page_badge": "p. {page}",
        "similar_link": "Pratiques similaires",
        "excerpts": "Aussi dans ce document :",
        "previous": "Précédent",
        "next": "Suivant",
        "pagination": "Pages de résultats",
        "page_of": "Page {page} sur {pages}",
        "recent": "Documents de la base",
        "empty_kb": "La base ne contient encore aucun document.",
        "metadata": "Informations",
        "trip": "Voyage",
        "city": "Ville",
        "date": "Date",
        "kind": "Type",
        "language": "Langue",
        "themes": "Thèmes",
        "detected": "(détecté)",
        "authors": "Auteurs",
        "organisations": "Organisations",
        "source": "Fichier",
        "download": "Télécharger l'original",
        "open_page": "Ouvrir l'original à la page {page}",
        "contents": "Contenu du document",
        "similar": "Pratiques similaires",
        "no_similar": "Aucune pratique similaire trouvée.",
        "back": "Retour à la recherche",
        "error_title": "Erreur",
        "not_found": "Document introuvable.",
        "footer": "Toulouse Métropole Impact — Erasmus+ 2021-2027",
        "switch_lang": "English",
        "matched": "Passage trouvé",
        "query_too_long": "La question est trop longue ({n} caractères au plus).",
    },
    "en": {
        "site_name": "Savoir-faire",
        "tagline": "Good practices from the study trips of Toulouse Métropole Impact",
        "skip": "Skip to content",
        "nav_search": "Search",
        "nav_api": "API",
        "query_label": "Your question",
        "query_placeholder": "e.g. how to fund a cooperative without equity?",
        "search": "Search",
        "filters": "Refine",
        "apply_filters": "Apply filters",
        "filters_button": "Filters ({n})",
        "clear_filters": "Clear filters",
        "facet_trip": "Trip",
        "no_trip": "No trip",
        "facet_theme": "Theme",
        "facet_kind": "Document type",
        "facet_language": "Language",
        "facet_year": "Year",
        "results_one": "1 result",
        "results_many": "{n} results",
        "results_none": "No results.",
        "low_confidence": "No close match — closest results:",
        "page_badge": "p. {page}",
        "similar_link": "Similar practices",
        "excerpts": "Also in this document:",
        "previous": "Previous",
        "next": "Next",
        "pagination": "Result pages",
        "page_of": "Page {page} of {pages}",
        "recent": "Documents in the knowledge base",
        "empty_kb": "The knowledge base holds no document yet.",
        "metadata": "Details",
        "trip": "Trip",
        "city": "City",
        "date": "Date",
        "kind": "Type",
        "language": "Language",
        "themes": "Themes",
        "detected": "(detected)",
        "authors": "Authors",
        "organisations": "Organisations",
        "source": "File",
        "download": "Download the original",
        "open_page": "Open the original at page {page}",
        "contents": "Document contents",
        "similar": "Similar practices",
        "no_similar": "No similar practice found.",
        "back": "Back to search",
        "error_title": "Error",
        "not_found": "Document not found.",
        "footer": "Toulouse Métropole Impact — Erasmus+ 2021-2027",
        "switch_lang": "Français",
        "matched": "Matching passage",
        "query_too_long": "The question is too long (at most {n} characters).",
    },
}

for _lang, _strings in TRANSFER_STRINGS.items():  # the trips, practices and dossier pages
    STRINGS[_lang].update(_strings)

KIND_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "trip-report": "Rapport de voyage",
        "workshop-notes": "Notes d'atelier",
        "practice-sheet": "Fiche pratique",
        "job-shadowing-diary": "Journal de job shadowing",
        "other": "Autre",
    },
    "en": {
        "trip-report": "Trip report",
        "workshop-notes": "Workshop notes",
        "practice-sheet": "Practice sheet",
        "job-shadowing-diary": "Job-shadowing diary",
        "other": "Other",
    },
}

LANGUAGE_LABELS: dict[str, dict[str, str]] = {
    "fr": {"fr": "Français", "en": "Anglais", "es": "Espagnol", "it": "Italien",
           "da": "Danois", "ca": "Catalan", "nl": "Néerlandais", "de": "Allemand"},
    "en": {"fr": "French", "en": "English", "es": "Spanish", "it": "Italian",
           "da": "Danish", "ca": "Catalan", "nl": "Dutch", "de": "German"},
}


def pick_language(request: Request) -> str:
    """The UI language of a request: `?lang=` first, then `Accept-Language`, then French."""
    asked = request.query_params.get("lang", "").lower()
    if asked in LANGUAGES:
        return asked
    preferences = []
    for order, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        preferences.append((-weight, order, tag.strip().lower()[:2]))
    for weight, _, tag in sorted(preferences):
        if tag in LANGUAGES and weight < 0:
            return tag
    return DEFAULT


class Translator:
    """The strings and labels of one language, for templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self.strings = STRINGS[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        text = self.strings.get(key, key)
        return text.format(**values) if values else text

    def kind(self, kind: str) -> str:
        return KIND_LABELS[self.lang].get(kind, kind)

    def language(self, code: str | None) -> str:
        if not code:
            return ""
        return LANGUAGE_LABELS[self.lang].get(code, code)

    def results(self, n: int) -> str:
        if n == 0:
            return self("results_none")
        return self("results_one") if n == 1 else self("results_many", n=n)
