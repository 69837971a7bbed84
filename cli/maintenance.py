"""Keeping the base safe: `kb backup`, `kb restore`, `kb check`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.common import err, fail, open_kb, out, reports_errors, require_base, settings_of
from kb import jsonable


@click.command()
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


@click.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a knowledge base that holds documents.")
@click.pass_context
@reports_errors
def restore(ctx: click.Context, src: Path, force: bool) -> None:
    """Replace the knowledge base with the backup SRC (checked first)."""
    from kb.maintenance import documents_in
    from kb.maintenance import restore as put_back

    home = settings_of(ctx).home
    held = documents_in(home)
    if held and not force:
        fail(f"the knowledge base in {home} holds {held} documents: add --force to replace it")
    done = put_back(home, src)
    out.print(
        f"restored {done.documents} documents, {done.passages} passages into {home}",
        highlight=False,
    )


@click.command()
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
