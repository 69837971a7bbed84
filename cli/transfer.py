"""The transfer commands: `kb dossier`, `kb insights`, `kb template` (objective 4)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from cli.common import echo_json, open_kb, out, reports_errors, settings_of

TEMPLATE_KINDS = ("practice-sheet", "workshop-notes", "trip-report")
TEMPLATE_NAMES = {
    ("practice-sheet", "fr"): "fiche-pratique.md",
    ("practice-sheet", "en"): "practice-sheet.md",
    ("workshop-notes", "fr"): "notes-atelier.md",
    ("workshop-notes", "en"): "workshop-notes.md",
    ("trip-report", "fr"): "rapport-voyage.md",
    ("trip-report", "en"): "trip-report.md",
}


@click.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("dossier.docx"), show_default=True,
              help="The file to write: .docx or .md.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
@click.option("--base-url", help="Address the document links point to "
              "(default: http://KB_HOST:KB_PORT).")
@click.pass_context
@reports_errors
def dossier(ctx: click.Context, ids: tuple[str, ...], output: Path, lang: str,
            base_url: str | None) -> None:
    """Write a transfer dossier of the practices IDS (document ids), in this order."""
    from ingest.dossier import write

    settings = settings_of(ctx)
    fmt = "md" if output.suffix.lower() in (".md", ".markdown") else "docx"
    with open_kb(ctx) as kb:
        cards = kb.practice_cards(list(ids))
    base = base_url or f"http://{settings.host}:{settings.port}"
    output.write_bytes(write(cards, fmt, base, lang))
    out.print(f"wrote {output} ({len(cards)} practices, {fmt})", highlight=False)


@click.command()
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every logged search to this CSV file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def insights(ctx: click.Context, csv_path: Path | None, as_json: bool) -> None:
    """What partners search for: frequent questions, content gaps, demand per theme."""
    with open_kb(ctx) as kb:
        found = kb.insights()
        if csv_path is not None:
            csv_path.write_text(kb.insights_csv(), encoding="utf-8")
        enabled, days = kb.settings.query_log, kb.settings.query_log_days
    if as_json:
        echo_json(found)
        return
    state = f"kept {days} days" if enabled else "turned off (KB_QUERY_LOG=false)"
    out.print(f"{found.searches} searches, {found.distinct} distinct questions "
              f"since {found.since or '—'}; the log is {state}", highlight=False)
    for title, rows in (("Most frequent questions", found.top),
                        ("No close match (content gaps)", found.gaps)):
        table = Table(title=title)
        for name in ("question", "times", "no close match", "results (mean)", "opened"):
            table.add_column(name, justify="left" if name == "question" else "right")
        for r in rows:
            table.add_row(r.query, str(r.count), str(r.no_close_match), f"{r.results:.1f}",
                          str(r.opened or 0))
        out.print(table)
    table = Table(title="Demand per theme")
    for name in ("theme", "searches", "documents"):
        table.add_column(name, justify="left" if name == "theme" else "right")
    for theme, searches, documents in found.demand:
        table.add_row(theme, str(searches), str(documents))
    out.print(table)
    top = max((n for _, n, _ in found.weekly), default=0) or 1
    for week, count, gaps in found.weekly:
        bar = "█" * max(1, round(30 * count / top))
        out.print(f"{week}  {bar} {count} ({gaps} no close match)", highlight=False)
    if csv_path is not None:
        out.print(f"wrote {csv_path}", highlight=False)


@click.command()
@click.argument("kind", type=click.Choice(TEMPLATE_KINDS))
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
@click.option("--trip", help="Trip slug, e.g. 2027-lyon (the folder's name).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (default: e.g. fiche-pratique.md).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@reports_errors
def template(kind: str, lang: str, trip: str | None, output: Path | None, force: bool) -> None:
    """Write Markdown notes with the front matter and headings that make a good card."""
    from ingest.templates import render

    output = output or Path(TEMPLATE_NAMES[kind, lang])
    if output.exists() and not force:
        raise click.UsageError(f"{output} exists: choose another name or add --force")
    output.write_text(render(kind, lang, trip), encoding="utf-8")
    out.print(f"wrote {output}: fill in each section, then `kb ingest` its folder",
              highlight=False)
