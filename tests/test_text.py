"""Accent folding and sentences (kb.text)."""

from kb.text import TABLE_FROM, fold, fold_char, sentences


def test_fold_lowers_and_strips_accents_keeping_every_offset():
    text = "Économie SOCIALE à Bruxelles : coopératives, çà et là. " * 3
    folded = fold(text)
    assert len(text) >= TABLE_FROM and len(folded) == len(text)
    assert folded.startswith("economie sociale a bruxelles : cooperatives, ca et la.")
    assert folded == "".join(fold_char(c) for c in text)


def test_a_long_text_folds_as_each_of_its_characters_does_whatever_they_are():
    """Every character of the first planes, and some past the table (CJK, an emoji, a
    lone surrogate from a badly decoded file name), in a text long enough for the table."""
    for code in [*range(0x80, 0x3100), 0x4E2D, 0x1F600, 0xDC80]:
        text = "é" * TABLE_FROM + chr(code) + "Ab"
        assert fold(text) == "".join(fold_char(c) for c in text), hex(code)


def test_short_and_ascii_texts_fold_too():
    assert fold("Ça") == "ca" and fold("ABC def") == "abc def" and fold("") == ""


def test_sentences_are_trimmed_spans():
    text = "Première phrase. Deuxième ; troisième\n\nQuatrième"
    assert [text[a:b] for a, b in sentences(text)] == [
        "Première phrase.",
        "Deuxième ;",
        "troisième",
        "Quatrième",
    ]
