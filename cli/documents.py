"""The commands on the base's content: `ingest`, `list`, `show`, `remove`, `stats`, `reindex`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import echo_json, err, filter_options, open_kb, out, reports_errors
from kb import Filters


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--prune", is_flag=True, help="Remove documents whose file has gone.")
@click.option("--dry-run", is_flag=True, help="Read and report, change nothing.")
@click.pass_context
@reports_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, dry_run: bool) -> None:
    """Add or update the documents found in PATHS (files or folders)."""
    from ingest.report import print_report, progress_bar
    from ingest.run import ingest_paths

    with open_kb(ctx) as kb, progress_bar(out) as progress:
        if not dry_run:
            kb.encoder.prepare()
        report = ingest_paths(kb, list(paths), prune=prune, dry_run=dry_run, progress=progress)
    print_report(out, report)
    if report.rejected:
        sys.exit(1)


@click.command(name="list")
@filter_options
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def list_documents(
    ctx: click.Context, filters: Filters, limit: int, offset: int, as_json: bool
) -> None:
    """List documents, newest first."""
    from kb.render import print_documents

    with open_kb(ctx) as kb:
        documents, total = kb.documents(filters, limit, offset)
    if as_json:
        echo_json({"total": total, "documents": documents})
        return
    print_documents(out, documents, total)


@click.command()
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def show(ctx: click.Context, doc_id: str, as_json: bool) -> None:
    """Show one document: metadata and passages."""
    from kb.render import print_document

    with open_kb(ctx) as kb:
        document = kb.document(doc_id)
    if as_json:
        echo_json(document)
    else:
        print_document(out, document)


@click.command()
@click.argument("doc_id")
@click.pass_context
@reports_errors
def remove(ctx: click.Context, doc_id: str) -> None:
    """Remove a document."""
    with open_kb(ctx) as kb:
        kb.remove(doc_id)
    out.print(f"removed {doc_id}", highlight=False)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of documents and passages, the model, per trip, kind and language."""
    from kb.render import print_stats

    with open_kb(ctx) as kb:
        figures = kb.stats()
    if as_json:
        echo_json(figures)
    else:
        print_stats(out, figures)


@click.command()
@click.pass_context
@reports_errors
def reindex(ctx: click.Context) -> None:
    """Re-embed every passage with the configured model and rebuild the index."""
    from rich.progress import Progress

    with open_kb(ctx) as kb, Progress(console=err, transient=True) as bar:
        task = bar.add_task("embedding", total=None)
        kb.reindex(progress=lambda done, total: bar.update(task, completed=done, total=total))
        kb.rebuild_cards()
        figures = kb.stats()
    out.print(f"reindexed {figures.chunks} passages with {figures.model}", highlight=False)
