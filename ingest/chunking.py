"""Structure-following chunking: sections → paragraphs → lines → sentences → words.

A chunk never crosses a heading or a PDF page. Paragraphs are packed up to the target
size; a paragraph over it is split at line ends, then sentence ends, then word
boundaries, and a single "word" over it by characters. Every step is linear in the
length of the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from itertools import groupby

from kb import Chunk

from .parsed import Block, ParsedDocument

CHARS_PER_TOKEN = 5  # only binds for long "words" (URLs, numbers, garbage); see estimate
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?…][\"»”)\]]*(?=\s+[\"«“(\[]?[A-ZÀ-ÖØ-Þ0-9])")


def estimate_tokens(text: str) -> int:
    """Cheap token estimate: words × 1.3, or characters / 5 when words are very long."""
    words = sum(1 for _ in _WORD.finditer(text))
    return max(math.ceil(words * 1.3), math.ceil(len(text) / CHARS_PER_TOKEN))


def chunk_document(parsed: ParsedDocument, chunk_tokens: int) -> list[Chunk]:
    return chunk_blocks(parsed.blocks, chunk_tokens)


def chunk_blocks(blocks: Iterable[Block], chunk_tokens: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for (path, page), section in groupby(blocks, key=lambda b: (b.heading_path, b.page)):
        for text in _pack(_units(section, chunk_tokens), chunk_tokens):
            chunks.append(Chunk(text=text, heading_path=path, page=page, position=len(chunks)))
    return chunks


def _units(blocks: Iterable[Block], limit: int) -> Iterator[tuple[str, int, str]]:
    """(text, tokens, separator used if it continues the previous unit) — each ≤ limit."""
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        tokens = estimate_tokens(text)
        if tokens <= limit:
            yield text, tokens, "\n\n"
            continue
        first = True
        for piece, piece_tokens, sep in _split_block(text, limit):
            yield piece, piece_tokens, "\n\n" if first else sep
            first = False


def _split_block(text: str, limit: int) -> Iterator[tuple[str, int, str]]:
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        tokens = estimate_tokens(line)
        if tokens <= limit:
            yield line, tokens, "\n"
            continue
        first = True
        for sentence in _sentences(line):
            sentence_tokens = estimate_tokens(sentence)
            if sentence_tokens <= limit:
                yield sentence, sentence_tokens, "\n" if first else " "
            else:
                for piece in _split_words(sentence, limit):
                    yield piece, estimate_tokens(piece), "\n" if first else " "
            first = False


def _sentences(line: str) -> Iterator[str]:
    start = 0
    for match in _SENTENCE_END.finditer(line):
        piece = line[start : match.end()].strip()
        if piece:
            yield piece
        start = match.end()
    rest = line[start:].strip()
    if rest:
        yield rest


def _split_words(sentence: str, limit: int) -> Iterator[str]:
    """Pieces of at most `limit` estimated tokens, cut between words (or inside one)."""
    max_chars = limit * CHARS_PER_TOKEN
    words: list[str] = []
    n_words = n_chars = 0
    for match in _WORD.finditer(sentence):
        word = match.group()
        if len(word) > max_chars:
            if words:
                yield " ".join(words)
                words, n_words, n_chars = [], 0, 0
            for start in range(0, len(word), max_chars):
                yield word[start : start + max_chars]
            continue
        fits = max(
            math.ceil((n_words + 1) * 1.3),
            math.ceil((n_chars + len(word)) / CHARS_PER_TOKEN),
        )
        if words and fits > limit:
            yield " ".join(words)
            words, n_words, n_chars = [], 0, 0
        words.append(word)
        n_words += 1
        n_chars += len(word) + 1
    if words:
        yield " ".join(words)


def _pack(units: Iterable[tuple[str, int, str]], limit: int) -> Iterator[str]:
    parts: list[str] = []
    total = 0
    for text, tokens, sep in units:
        if parts and total + tokens > limit:
            yield "".join(parts)
            parts, total = [], 0
        parts.extend((sep, text) if parts else (text,))
        total += tokens
    if parts:
        yield "".join(parts)


def truncate(parsed: ParsedDocument, max_chars: int) -> ParsedDocument:
    """Keep at most `max_chars` characters of text, noting the cut in `parsed.notes`."""
    if parsed.text_chars <= max_chars:
        return parsed
    kept: list[Block] = []
    budget = max_chars
    for block in parsed.blocks:
        if budget <= 0:
            break
        if len(block.text) > budget:
            block = Block(block.text[:budget], block.heading_path, block.page)
        kept.append(block)
        budget -= len(block.text)
    parsed.blocks = kept
    parsed.notes.append(f"text truncated to {max_chars:,} characters (max_document_chars)")
    return parsed
