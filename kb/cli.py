"""The `kb` command line: parse options, call the facade or the ingest run, print.

The one module that wires `kb`, `ingest` and `api` together. Library errors become
one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kb.errors import KBError
from kb.evaluate import Scores, load
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings, settings_errors
from kb.types import Filters, jsonable

out = Console()
err = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    sys.exit(1)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KBError as error:
            fail(str(error))
        except (OSError, ValueError) as error:
            fail(f"{type(error).__name__}: {error}")

    return run


def open_kb(ctx: click.Context) -> KnowledgeBase:
    settings: Settings = ctx.obj["settings"]
    return KnowledgeBase(settings.home, settings=settings)


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the knowledge base (KB_HOME, default ./kb-data).",
)
@click.option("--model", help="Embedding model (KB_MODEL).")
@click.pass_context
def main(ctx: click.Context, home: Path | None, model: str | None) -> None:
    """Savoir-faire: the knowledge base of good practices."""
    overrides: dict[str, Any] = {}
    if home is not None:
        overrides["home"] = home
    if model is not None:
        overrides["model"] = model
    try:
        ctx.obj = {"settings": Settings(**overrides)}
    except ValidationError as error:  # one line per bad variable, like a usage error
        for line in settings_errors(error):
            err.print(f"[bold red]error:[/] {escape(line)}", highlight=False)
        sys.exit(2)


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--trip", multiple=True, help="Trip slug, e.g. 2022-copenhague."),
            click.option("--theme", multiple=True, help="Theme id, e.g. funding."),
            click.option("--kind", multiple=True, help="Document kind, e.g. practice-sheet."),
            click.option("--lang", multiple=True, help="Language code, e.g. fr."),
            click.option("--year-from", type=int),
            click.option("--year-to", type=int),
        ]
    ):
        command = option(command)
    return command


def make_filters(trip, theme, kind, lang, year_from, year_to) -> Filters:  # noqa: ANN001
    return Filters(tuple(trip), tuple(theme), tuple(kind), tuple(lang), year_from, year_to)


@main.command()
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
        report = ingest_paths(kb, list(paths), prune=prune, dry_run=dry_run, progress=progress)
    print_report(out, report)
    if report.rejected:
        sys.exit(1)


@main.command()
@click.argument("query")
@filter_options
@click.option("--limit", default=10, show_default=True)
@click.option("--offset", default=0)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def search(ctx, query, trip, theme, kind, lang, year_from, year_to, limit, offset, mode, as_json):  # noqa: ANN001, PLR0913
    """Search the knowledge base."""
    with open_kb(ctx) as kb:
        filters = make_filters(trip, theme, kind, lang, year_from, year_to)
        response = kb.search(query, filters, limit=limit, offset=offset, mode=mode)
    if as_json:
        click.echo(json.dumps(jsonable(response), ensure_ascii=False, indent=2))
        return
    from kb.render import print_results

    print_results(out, response)


@main.command(name="list")
@filter_options
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def list_documents(ctx, trip, theme, kind, lang, year_from, year_to, limit, offset, as_json):  # noqa: ANN001
    """List documents, newest first."""
    from kb.render import print_documents

    with open_kb(ctx) as kb:
        documents, total = kb.documents(
            make_filters(trip, theme, kind, lang, year_from, year_to), limit, offset
        )
    if as_json:
        body = {"total": total, "documents": jsonable(documents)}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    print_documents(out, documents, total)


@main.command()
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
        click.echo(json.dumps(jsonable(document), ensure_ascii=False, indent=2))
    else:
        print_document(out, document)


@main.command()
@click.argument("doc_id")
@click.pass_context
@reports_errors
def remove(ctx: click.Context, doc_id: str) -> None:
    """Remove a document."""
    with open_kb(ctx) as kb:
        kb.remove(doc_id)
    out.print(f"removed {doc_id}", highlight=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of documents and passages, the model, per trip, kind and language."""
    from kb.render import print_stats

    with open_kb(ctx) as kb:
        figures = kb.stats()
    if as_json:
        click.echo(json.dumps(jsonable(figures), ensure_ascii=False, indent=2))
    else:
        print_stats(out, figures)


@main.command()
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


@main.command(name="eval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument(
    "qrels", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid")
@click.option("--field", "field_name", default="text", show_default=True, help="Query text field.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--per-query", is_flag=True, help="With --json: every query's figures too.")
@click.pass_context
@reports_errors
def evaluate(ctx, queries, qrels, mode, field_name, as_json, per_query):  # noqa: ANN001
    """nDCG@10, Recall@10, MRR@10 (overall and per kind), answer-visible@3 and the
    'no close match' flag rates on QUERIES (JSON lines) judged by QRELS (TSV)."""
    judged = load(queries, qrels, field_name)
    with open_kb(ctx) as kb:
        scores = kb.evaluate(judged, mode)
    figures = eval_figures(scores, mode)
    if as_json:
        if per_query:
            figures["per_query"] = scores.per_query
        click.echo(json.dumps(figures))
        return
    table = Table(title=f"{queries.name} — {mode}")
    for name in ("kind", "queries", "nDCG@10", "Recall@10", "MRR@10"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    rows = [("all", scores), *scores.by_kind.items()] if len(scores.by_kind) > 1 else []
    for kind, f in rows or [("all", scores)]:
        table.add_row(kind, str(f.queries), f"{f.ndcg:.3f}", f"{f.recall:.3f}", f"{f.mrr:.3f}")
    out.print(table)
    for name, value in figures.items():
        if name.endswith("%") and value is not None:
            out.print(f"{name}: {value:.1f}")


def eval_figures(scores: Scores, mode: str) -> dict[str, Any]:
    def share(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 1)

    return {
        "mode": mode,
        "queries": scores.queries,
        "ndcg@10": round(scores.ndcg, 4),
        "recall@10": round(scores.recall, 4),
        "mrr@10": round(scores.mrr, 4),
        "by_kind": {
            kind: {
                "queries": f.queries,
                "ndcg@10": round(f.ndcg, 4),
                "recall@10": round(f.recall, 4),
                "mrr@10": round(f.mrr, 4),
            }
            for kind, f in scores.by_kind.items()
        },
        "answer_visible@3 %": share(scores.answer_visible),
        "off_topic": scores.off_topic,
        "off_topic_flagged %": share(scores.off_topic_flagged),
        "answerable_flagged %": share(scores.answerable_flagged),
    }


def require_base(ctx: click.Context) -> None:
    """Fail (exit 1) unless KB_HOME holds a knowledge base: never make an empty one."""
    home = ctx.obj["settings"].home
    if not (Path(home) / "kb.sqlite").is_file():
        fail(f"no knowledge base in {home} (KB_HOME or --home)")


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
@reports_errors
def backup(ctx: click.Context, dest: Path) -> None:
    """Copy the knowledge base into the file DEST (or a new dated file in the folder DEST),
    consistently, while it serves and ingests."""
    from kb.maintenance import backup as copy

    require_base(ctx)
    with open_kb(ctx) as kb:
        done = copy(kb, dest)
    out.print(
        f"backed up {done.documents} documents, {done.passages} passages to {done.path} "
        f"({done.bytes / 1e6:.1f} MB)",
        highlight=False,
    )


@main.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a knowledge base that holds documents.")
@click.pass_context
@reports_errors
def restore(ctx: click.Context, src: Path, force: bool) -> None:
    """Replace the knowledge base with the backup SRC (checked first)."""
    from kb.maintenance import documents_in
    from kb.maintenance import restore as put_back

    home = ctx.obj["settings"].home
    held = documents_in(home)
    if held and not force:
        fail(f"the knowledge base in {home} holds {held} documents: add --force to replace it")
    done = put_back(home, src)
    out.print(
        f"restored {done.documents} documents, {done.passages} passages into {home}",
        highlight=False,
    )


@main.command()
@click.option("--repair", is_flag=True, help="Rebuild what is derived, then check again.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check integrity, the full-text index, the vector index against SQLite and the
    originals against their hashes; exit 1 with what is wrong."""
    from kb.maintenance import check as problems_of
    from kb.maintenance import repair as fix

    require_base(ctx)
    with open_kb(ctx) as kb:
        problems = problems_of(kb)
        repaired = fix(kb) if repair and problems else []
        if repaired:
            problems = problems_of(kb)
    if as_json:
        click.echo(json.dumps({"repaired": repaired, "problems": jsonable(problems)}))
    else:
        for line in repaired:
            out.print(f"repaired: {line}", highlight=False)
        for problem in problems:
            hint = " (kb check --repair)" if problem.repairable and not repair else ""
            err.print(f"{problem.area}: {problem.message}{hint}", highlight=False)
        if not problems:
            out.print("ok", highlight=False)
    if problems:
        sys.exit(1)


@main.command()
@click.option("--host", help="Address to listen on (KB_HOST).")
@click.option("--port", type=int, help="Port to listen on (KB_PORT).")
@click.pass_context
@reports_errors
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the search page and the JSON API."""
    import uvicorn

    from api import create_app

    settings: Settings = ctx.obj["settings"]
    kb = open_kb(ctx)
    app = create_app(kb, settings)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        # Past this many connections uvicorn answers 503 itself: the last line of defence
        # behind the in-flight bound (api/limits.py), so that sockets never run out.
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=5,
    )


from kb.cli_transfer import dossier, insights, template  # noqa: E402 - they use the above

main.add_command(dossier)
main.add_command(insights)
main.add_command(template)

if __name__ == "__main__":
    main()
