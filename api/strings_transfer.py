"""Interface strings of the transfer pages (trips, practices, dossier, insights)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "nav_trips": "Voyages",
        "nav_practices": "Pratiques",
        "nav_dossier": "Dossier",
        "browse_title": "Parcourir sans chercher",
        "browse_trips": "Les voyages ({n})",
        "browse_trips_text": (
            "Chaque mobilité : lieu, dates, structures visitées, documents et pratiques."
        ),
        "browse_practices": "Les pratiques ({n})",
        "browse_practices_text": (
            "Les fiches pratiques sous forme de cartes, à réunir dans un dossier de "
            "transfert."
        ),
        "trips_title": "Les voyages d'étude",
        "trip_dates": "Dates",
        "trip_place": "Lieu",
        "trip_hosts": "Structures visitées",
        "trip_documents": "Documents",
        "trip_practices_n": "{n} pratique(s)",
        "trip_documents_n": "{n} document(s)",
        "trip_themes": "Thèmes",
        "trip_open": "Voir le voyage",
        "trip_practices": "Pratiques de ce voyage",
        "trip_all_documents": "Tous les documents de ce voyage",
        "no_practices": "Aucune pratique.",
        "practices_title": "Les pratiques",
        "practices_intro": (
            "Chaque fiche pratique, avec les champs des bases de bonnes pratiques (Interreg "
            "Europe, URBACT)."
        ),
        "practices_count": "{n} pratique(s)",
        "open_card": "Voir la fiche complète",
        "card_title": "Fiche pratique",
        "not_stated": "non précisé",
        "from_trip": "d'après le voyage",
        "field_page": "p. {page}",
        "source_document": "Document source",
        "add_dossier": "Ajouter au dossier",
        "remove_dossier": "Retirer du dossier",
        "dossier_title": "Mon dossier de transfert",
        "dossier_intro": (
            "Les pratiques réunies ici restent dans ce navigateur (aucun compte). Exportez-"
            "les pour votre conseil d'administration."
        ),
        "dossier_empty": (
            "Le dossier est vide : ajoutez des pratiques depuis la galerie, une fiche ou les "
            "résultats de recherche."
        ),
        "dossier_needs_js": (
            "Le dossier est conservé dans votre navigateur : activez JavaScript pour le "
            "constituer."
        ),
        "dossier_docx": "Exporter en DOCX",
        "dossier_md": "Exporter en Markdown",
        "dossier_print": "Imprimer",
        "dossier_clear": "Vider le dossier",
        "dossier_unknown": "Ces pratiques ne sont plus dans la base ; elles quittent le dossier :",
        "insights_title": "Ce que cherchent les partenaires",
        "insights_intro": (
            "Journal des recherches sans donnée personnelle (ni adresse IP, ni cookie, ni "
            "identifiant), conservé {days} jours."
        ),
        "insights_off": "Le journal des recherches est désactivé (KB_QUERY_LOG=false).",
        "insights_searches": "Recherches",
        "insights_distinct": "Questions différentes",
        "insights_since": "Depuis",
        "insights_weekly": "Recherches par semaine",
        "insights_week": "Semaine du",
        "insights_gaps_n": "sans résultat proche",
        "insights_top": "Questions les plus fréquentes",
        "insights_gaps": "Questions sans résultat proche (contenus manquants)",
        "insights_demand": "Demande par thème et documents par thème",
        "insights_query": "Question",
        "insights_count": "Fois",
        "insights_no_match": "Sans résultat proche",
        "insights_results": "Résultats (moy.)",
        "insights_opened": "Résultats ouverts",
        "insights_last": "Dernière fois",
        "insights_theme": "Thème",
        "insights_demand_n": "Recherches",
        "insights_documents_n": "Documents",
        "insights_csv": "Exporter le journal (CSV)",
        "insights_empty": "Aucune recherche enregistrée pour l'instant.",
        "insights_auth": (
            "Cette page demande une clé d'API (mot de passe de l'authentification HTTP)."
        ),
    },
    "en": {
        "nav_trips": "Trips",
        "nav_practices": "Practices",
        "nav_dossier": "Dossier",
        "browse_title": "Browse without searching",
        "browse_trips": "The trips ({n})",
        "browse_trips_text": (
            "Each mobility: place, dates, organisations visited, documents and practices."
        ),
        "browse_practices": "The practices ({n})",
        "browse_practices_text": "Practice sheets as cards, to gather into a transfer dossier.",
        "trips_title": "Study trips",
        "trip_dates": "Dates",
        "trip_place": "Place",
        "trip_hosts": "Organisations visited",
        "trip_documents": "Documents",
        "trip_practices_n": "{n} practice(s)",
        "trip_documents_n": "{n} document(s)",
        "trip_themes": "Themes",
        "trip_open": "See the trip",
        "trip_practices": "Practices from this trip",
        "trip_all_documents": "All documents of this trip",
        "no_practices": "No practice.",
        "practices_title": "Practices",
        "practices_intro": (
            "Every practice sheet, with the fields of the good-practice databases (Interreg "
            "Europe, URBACT)."
        ),
        "practices_count": "{n} practice(s)",
        "open_card": "See the full card",
        "card_title": "Practice card",
        "not_stated": "not stated",
        "from_trip": "from the trip",
        "field_page": "p. {page}",
        "source_document": "Source document",
        "add_dossier": "Add to dossier",
        "remove_dossier": "Remove from dossier",
        "dossier_title": "My transfer dossier",
        "dossier_intro": (
            "The practices gathered here stay in this browser (no account). Export them for "
            "your board."
        ),
        "dossier_empty": (
            "The dossier is empty: add practices from the gallery, a card or search results."
        ),
        "dossier_needs_js": "The dossier is kept in your browser: turn JavaScript on to build it.",
        "dossier_docx": "Export as DOCX",
        "dossier_md": "Export as Markdown",
        "dossier_print": "Print",
        "dossier_clear": "Empty the dossier",
        "dossier_unknown": "These practices are no longer in the base; they leave the dossier:",
        "insights_title": "What partners look for",
        "insights_intro": (
            "Search log with no personal data (no IP address, cookie or user id), kept {days}"
            " days."
        ),
        "insights_off": "The search log is turned off (KB_QUERY_LOG=false).",
        "insights_searches": "Searches",
        "insights_distinct": "Distinct questions",
        "insights_since": "Since",
        "insights_weekly": "Searches per week",
        "insights_week": "Week of",
        "insights_gaps_n": "with no close match",
        "insights_top": "Most frequent questions",
        "insights_gaps": "Questions with no close match (content gaps)",
        "insights_demand": "Demand per theme and documents per theme",
        "insights_query": "Question",
        "insights_count": "Times",
        "insights_no_match": "No close match",
        "insights_results": "Results (mean)",
        "insights_opened": "Results opened",
        "insights_last": "Last time",
        "insights_theme": "Theme",
        "insights_demand_n": "Searches",
        "insights_documents_n": "Documents",
        "insights_csv": "Export the log (CSV)",
        "insights_empty": "No search logged yet.",
        "insights_auth": "This page needs an API key (the password of HTTP authentication).",
    },
}
