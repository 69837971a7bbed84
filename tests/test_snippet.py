"""Snippets: a short passage whole; a long one as its two best windows, in text order."""

from __future__ import annotations

from kb.snippet import FRAGMENT_CHARS, make_snippet

FILLER = "Une phrase sans rapport avec la question posée ici. "


def marked(snippet) -> list[str]:
    return [snippet.text[s:e] for s, e in snippet.highlights]


def test_a_short_passage_is_its_own_snippet():
    text = "La coopérative gère 380 conteneurs. Elle revend 8 % des vêtements."
    snippet = make_snippet(text, "conteneurs")
    assert snippet.text == text
    assert marked(snippet) == ["conteneurs"]


def test_a_long_passage_shows_its_two_best_sentences_in_text_order():
    text = (
        FILLER * 3
        + "Les vêtements collectés sont triés à la main. "
        + FILLER * 8
        + "La coopérative gère 380 conteneurs à vêtements dans la ville. "
        + FILLER * 8
    )
    snippet = make_snippet(text, "combien de conteneurs à vêtements")
    first, second = snippet.text.split(" … ")[:2]
    assert snippet.text.startswith("… Les vêtements collectés")
    assert "380 conteneurs" in snippet.text
    assert snippet.text.index("collectés") < snippet.text.index("380 conteneurs")
    assert len(snippet.text) <= 2 * (FRAGMENT_CHARS + 4)
    assert marked(snippet) == ["vêtements", "conteneurs", "vêtements"]
    assert first and second


def test_without_shared_words_the_closest_sentences_in_meaning_are_shown():
    sentences = [FILLER] * 12
    sentences[4] = "Chaque garant apporte une petite caution de 500 euros. "
    sentences[9] = "Le comité éthique rencontre les fondateurs. "
    scores = [0.1] * 12
    scores[4], scores[9] = 0.9, 0.8
    snippet = make_snippet("".join(sentences), "qui se porte caution", None)
    assert "500 euros" in snippet.text  # by the word "caution"
    snippet = make_snippet("".join(sentences), "qui garantit le prêt", scores)
    assert "500 euros" in snippet.text and "comité éthique" in snippet.text


def test_highlights_stop_where_a_window_is_cut():
    text = "Intro sur les vêtements. " + "vêtements " * 80 + ". " + FILLER * 6
    snippet = make_snippet(text, "vêtements")
    for start, end in snippet.highlights:
        assert snippet.text[start:end] == "vêtements"
    assert snippet.text.count("vêtements") == len(snippet.highlights)


def test_a_question_asking_for_a_number_shows_the_sentence_with_the_figure():
    text = (
        FILLER * 4
        + "Le réseau vit surtout des cotisations de ses membres. "
        + FILLER * 4
        + "Les cotisations sont votées chaque année en assemblée. "
        + FILLER * 4
        + "Aujourd'hui, 45 % des cotisations financent le réseau. "
        + FILLER * 4
    )
    # Three sentences hold the query word, two windows show: the figure decides.
    assert "45 %" in make_snippet(text, "quelle part viennent des cotisations").text
    assert "45 %" not in make_snippet(text, "cotisations").text
    how_many = FILLER * 4 + "Les salariés sont là. " + FILLER * 4 + "Les salariés : 12. " + FILLER
    assert "12" in make_snippet(how_many * 2, "how many salariés").text


def test_a_window_ending_on_a_colon_shows_the_clause_it_announces():
    text = (
        FILLER * 4
        + "Les visiteurs s'inscrivent à l'accueil, décrivent la panne de leur appareil au "
        + "bénévole réparateur qui les reçoit, puis ils sont orientés vers la table des "
        + "électriciens ou des couturières selon l'objet. La règle d'or : "
        + "on répare avec la personne, pas à sa place. "
        + FILLER * 6
    )
    snippet = make_snippet(text, "panne bénévole réparateur")
    assert "La règle d'or : on répare avec la personne, pas à sa place." in snippet.text


def test_a_window_opening_after_a_colon_starts_with_the_clauses_that_announce_it():
    text = (
        FILLER * 4
        + "Chaque projet incubé est suivi pendant neuf mois par un binôme de mentors :\n"
        + "- Mentor entreprise : un cadre qui apporte une expertise de gestion au porteur.\n"
        + "- Mentor pair : un entrepreneur social qui apporte le vécu du secteur.\n"
        + FILLER * 6
    )
    snippet = make_snippet(text, "expertise de gestion pour le porteur")
    assert (
        "… Chaque projet incubé est suivi pendant neuf mois par un binôme de mentors :\n"
        "- Mentor entreprise : un cadre qui apporte une expertise de gestion au porteur."
    ) in snippet.text
    assert marked(snippet)[-3:] == ["expertise", "gestion", "porteur"]
