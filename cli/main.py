"""The `kb` command group: global options, the settings, and every command.

The commands live in one module per concept; this module only gathers them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.markup import escape

from cli.common import err
from cli.documents import ingest, list_documents, reindex, remove, show, stats
from cli.evaluate import evaluate
from cli.maintenance import backup, check, restore
from cli.search import search
from cli.serve import serve
from cli.transfer import dossier, insights, template
from kb import Settings
from kb.settings import settings_errors


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


for command in (
    ingest, search, list_documents, show, remove, stats, reindex, evaluate,
    backup, restore, check, serve, dossier, insights, template,
):
    main.add_command(command)
