"""Rich renderings of the knowledge base's types for the command line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kb.types import Document, SearchResponse, Snippet, Stats

DATE_SOURCES = {
    "document": "its own",
    "trip": "the trip's start",
    "file": "the file's creation date",
}


def snippet_text(snippet: Snippet) -> Text:
    text = Text(snippet.text)
    for start, end in snippet.highlights:
        text.stylize("bold yellow", start, end)
    return text


def print_results(console: Console, response: SearchResponse) -> None:
    if response.low_confidence:
        console.print("[yellow]No close match — closest results:[/]")
    console.print(
        f"{response.total} documents for [bold]{Text(response.query).plain}[/] "
        f"({response.took_ms:.0f} ms)",
        highlight=False,
    )
    for rank, result in enumerate(response.results, start=1):
        document, passage = result.document, result.passage
        where = " · ".join(
            part
            for part in (
                document.trip,
                document.kind,
                document.language,
                passage.heading,
                f"p. {passage.page}" if passage.page else "",
            )
            if part
        )
        console.print(
            Text.assemble(
                (f"{rank}. ", "bold"), (document.title, "bold cyan"), f"  [{document.id}]"
            )
        )
        console.print(Text(f"   {where}  score {result.score:.4f}", style="dim"))
        console.print(Text("   ").append_text(snippet_text(result.snippet)))
        for other in result.passages:
            if other.snippet:
                also = Text("   also: ", style="dim")
                console.print(also.append_text(snippet_text(other.snippet)))
    facets = ", ".join(
        f"{name}: " + " ".join(f"{v.value}({v.count})" for v in values)
        for name, values in response.facets.items()
        if values
    )
    if facets:
        console.print(Text(facets, style="dim"))


def print_documents(console: Console, documents: list[Document], total: int) -> None:
    table = Table(title=f"{total} documents")
    for column in ("id", "title", "trip", "kind", "lang", "date"):
        table.add_column(column)
    for d in documents:
        table.add_row(d.id, d.title, d.trip or "", d.kind, d.language or "", d.date or "")
    console.print(table)


def print_document(console: Console, document: Document) -> None:
    table = Table.grid(padding=(0, 2))
    for name in (
        "id",
        "title",
        "kind",
        "language",
        "trip",
        "trip_name",
        "city",
        "country",
        "date",
        "source",
        "media_type",
        "sha256",
        "ingested_at",
    ):
        value = getattr(document, name)
        if value:
            suffix = " (detected)" if name == "kind" and document.kind_detected else ""
            if name == "date" and document.date_source:
                suffix = f" ({DATE_SOURCES.get(document.date_source, document.date_source)})"
            table.add_row(Text(name, style="bold"), Text(f"{value}{suffix}"))
    for name in ("themes", "authors", "organisations"):
        values = getattr(document, name)
        if values:
            suffix = " (detected)" if name == "themes" and document.themes_detected else ""
            table.add_row(Text(name, style="bold"), Text(", ".join(values) + suffix))
    table.add_row(Text("passages", style="bold"), Text(str(len(document.chunks))))
    console.print(table)
    for chunk in document.chunks:
        where = " · ".join(
            p for p in (chunk.heading, f"p. {chunk.page}" if chunk.page else "") if p
        )
        console.print(Text(f"\n#{chunk.position} {where}", style="bold dim"))
        console.print(Text(chunk.text))


def print_stats(console: Console, stats: Stats) -> None:
    console.print(
        f"{stats.documents} documents, {stats.chunks} passages, model {stats.model} "
        f"({stats.dim} dims), generation {stats.generation}",
        highlight=False,
    )
    for title, counts in (
        ("trip", stats.by_trip),
        ("kind", stats.by_kind),
        ("language", stats.by_language),
    ):
        if counts:
            table = Table(title=f"by {title}")
            table.add_column(title)
            table.add_column("documents", justify="right")
            for key, count in counts.items():
                table.add_row(key or "—", str(count))
            console.print(table)
