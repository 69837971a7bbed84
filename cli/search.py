"""`kb search`: a question, the metadata filters, the ranked documents."""

from __future__ import annotations

import click

from cli.common import MODES, echo_json, filter_options, open_kb, out, reports_errors
from kb import Filters


@click.command()
@click.argument("query")
@filter_options
@click.option("--limit", default=10, show_default=True)
@click.option("--offset", default=0)
@click.option("--mode", type=click.Choice(MODES), default="hybrid")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def search(
    ctx: click.Context,
    query: str,
    filters: Filters,
    limit: int,
    offset: int,
    mode: str,
    as_json: bool,
) -> None:
    """Search the knowledge base."""
    with open_kb(ctx) as kb:
        response = kb.search(query, filters, limit=limit, offset=offset, mode=mode)
    if as_json:
        echo_json(response)
        return
    from kb.render import print_results

    print_results(out, response)
