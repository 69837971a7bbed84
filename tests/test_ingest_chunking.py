"""Chunking follows the structure: headings, pages, paragraphs, sentences."""

from __future__ import annotations

from ingest import Block, chunk_blocks, estimate_tokens


def test_short_paragraphs_of_one_section_are_packed_together():
    chunks = chunk_blocks([Block("Premier paragraphe."), Block("Deuxième paragraphe.")], 100)
    assert [c.text for c in chunks] == ["Premier paragraphe.\n\nDeuxième paragraphe."]
    assert chunks[0].position == 0


def test_chunks_never_cross_a_heading_or_a_page():
    blocks = [
        Block("Avant.", ("Atelier 2",), 1),
        Block("Toujours.", ("Atelier 2",), 1),
        Block("Autre section.", ("Atelier 2", "Financement"), 1),
        Block("Page suivante.", ("Atelier 2", "Financement"), 2),
    ]
    chunks = chunk_blocks(blocks, 100)
    assert [(c.heading_path, c.page, c.text) for c in chunks] == [
        (("Atelier 2",), 1, "Avant.\n\nToujours."),
        (("Atelier 2", "Financement"), 1, "Autre section."),
        (("Atelier 2", "Financement"), 2, "Page suivante."),
    ]
    assert [c.position for c in chunks] == [0, 1, 2]
    assert chunks[1].heading == "Atelier 2 › Financement"


def test_long_paragraph_is_cut_between_sentences():
    sentences = [f"La phrase numéro {i} parle du financement des coopératives." for i in range(40)]
    chunks = chunk_blocks([Block(" ".join(sentences))], 60)
    assert len(chunks) > 1
    for chunk in chunks:
        assert estimate_tokens(chunk.text) <= 60
        assert chunk.text.endswith(".")  # no mid-sentence cut
    assert " ".join(c.text for c in chunks) == " ".join(sentences)


def test_sentence_over_the_limit_is_cut_at_word_boundaries():
    words = [f"mot{i}" for i in range(500)]
    chunks = chunk_blocks([Block(" ".join(words))], 50)
    assert all(estimate_tokens(c.text) <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == words


def test_word_longer_than_the_limit_is_cut_by_characters():
    word = "x" * 10_000
    chunks = chunk_blocks([Block(word)], 50)
    assert "".join(c.text for c in chunks) == word
    assert all(estimate_tokens(c.text) <= 50 for c in chunks)


def test_list_items_stay_whole_lines():
    items = "\n".join(f"- point {i} du plan d'action" for i in range(60))
    chunks = chunk_blocks([Block(items)], 40)
    assert len(chunks) > 1
    for chunk in chunks:
        assert all(line.startswith("- point") for line in chunk.text.split("\n"))


def test_five_megabyte_single_line_gives_bounded_chunks():
    line = ("économie sociale " * 300_000)[:5_000_000]
    chunks = chunk_blocks([Block(line)], 260)
    assert max(estimate_tokens(c.text) for c in chunks) <= 260
    assert sum(len(c.text.split()) for c in chunks) == len(line.split())


def test_empty_blocks_give_no_chunks():
    assert chunk_blocks([Block("   "), Block("")], 100) == []


def test_token_estimate_counts_words_and_long_strings():
    assert estimate_tokens("dix mots " * 5) == 13  # 10 words × 1.3
    assert estimate_tokens("a" * 1000) == 200  # one long "word": characters / 5
