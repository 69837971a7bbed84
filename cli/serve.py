"""`kb serve`: the search pages, the widget and the JSON API over HTTP."""

from __future__ import annotations

import click

from cli.common import open_kb, reports_errors, settings_of


@click.command()
@click.option("--host", help="Address to listen on (KB_HOST).")
@click.option("--port", type=int, help="Port to listen on (KB_PORT).")
@click.pass_context
@reports_errors
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the search page and the JSON API."""
    import uvicorn

    from api import create_app

    settings = settings_of(ctx)
    kb = open_kb(ctx)
    try:
        app = create_app(kb, settings)
    except Exception:  # e.g. writes enabled without an API key: refused before serving
        kb.close()
        raise
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
