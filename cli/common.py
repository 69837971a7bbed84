"""What every command shares: the consoles, the error line, opening the base, filters.

Library errors become one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from kb import Filters, KBError, KnowledgeBase, Settings, jsonable

MODES = ("hybrid", "dense", "lexical")
"""The search modes `kb search` and `kb eval` offer (kb.KnowledgeBase.search's `mode`)."""

out = Console()
err = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    sys.exit(1)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors (and unreadable files) into one line and exit code 1."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KBError as error:
            fail(str(error))
        except (OSError, ValueError) as error:
            fail(f"{type(error).__name__}: {error}")

    return run


def settings_of(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def open_kb(ctx: click.Context) -> KnowledgeBase:
    settings = settings_of(ctx)
    return KnowledgeBase(settings.home, settings=settings)


def require_base(ctx: click.Context) -> None:
    """Fail (exit 1) unless KB_HOME holds a knowledge base: never make an empty one."""
    home = settings_of(ctx).home
    if not (Path(home) / "kb.sqlite").is_file():
        fail(f"no knowledge base in {home} (KB_HOME or --home)")


def echo_json(value: object) -> None:
    click.echo(json.dumps(jsonable(value), ensure_ascii=False, indent=2))


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The metadata filter options; the command receives them as one `filters` argument."""
    options = [
        click.option("--trip", multiple=True, help="Trip slug, e.g. 2022-copenhague."),
        click.option("--theme", multiple=True, help="Theme id, e.g. funding."),
        click.option("--kind", multiple=True, help="Document kind, e.g. practice-sheet."),
        click.option("--lang", multiple=True, help="Language code, e.g. fr."),
        click.option("--year-from", type=int),
        click.option("--year-to", type=int),
    ]

    @wraps(command)
    def run(
        *args: Any,
        trip: tuple[str, ...],
        theme: tuple[str, ...],
        kind: tuple[str, ...],
        lang: tuple[str, ...],
        year_from: int | None,
        year_to: int | None,
        **kwargs: Any,
    ) -> Any:
        filters = Filters.from_values(
            trip=trip, theme=theme, kind=kind, language=lang, year_from=year_from, year_to=year_to
        )
        return command(*args, filters=filters, **kwargs)

    for option in reversed(options):
        run = option(run)
    return run
