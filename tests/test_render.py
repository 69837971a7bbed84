"""The command line's rendering of a search."""

from __future__ import annotations

from rich.console import Console

from kb.render import print_results
from kb.types import Document, Passage, SearchResponse, SearchResult, Snippet


def test_a_result_prints_its_snippet_then_its_excerpts():
    close = Passage(2, "Chaque membre verse 0,5 %.", score=0.9, snippet=Snippet("Chaque membre"))
    far = Passage(3, "Les membres se réunissent.", score=0.2)
    result = SearchResult(
        document=Document(id="fonds.md", title="Fonds de garantie"),
        passage=Passage(1, "Le fonds couvre la moitié du prêt.", score=1.0),
        snippet=Snippet("Le fonds couvre la moitié du prêt.", [(3, 8)]),
        score=1.0,
        passages=[close, far],
    )
    console = Console(record=True, width=100)
    print_results(console, SearchResponse("fonds", [result], 1, {}, 1.0))
    lines = console.export_text().splitlines()
    snippet = lines.index("   Le fonds couvre la moitié du prêt.")
    assert lines[snippet + 1] == "   also: Chaque membre"
    assert "réunissent" not in console.export_text()  # no excerpt, not printed
