"""`kb eval`: relevance figures of the base on a queries/qrels set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from cli.common import MODES, open_kb, out, reports_errors
from kb.evaluate import Scores, load


@click.command(name="eval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument(
    "qrels", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--mode", type=click.Choice(MODES), default="hybrid")
@click.option("--field", "field_name", default="text", show_default=True, help="Query text field.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--per-query", is_flag=True, help="With --json: every query's figures too.")
@click.pass_context
@reports_errors
def evaluate(
    ctx: click.Context,
    queries: Path,
    qrels: Path | None,
    mode: str,
    field_name: str,
    as_json: bool,
    per_query: bool,
) -> None:
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
    if scores.queries:
        table = Table(title=f"{queries.name} — {mode}")
        for name in ("kind", "queries", "nDCG@10", "Recall@10", "MRR@10"):
            table.add_column(name, justify="left" if name == "kind" else "right")
        rows = [("all", scores), *scores.by_kind.items()] if len(scores.by_kind) > 1 else []
        for kind, f in rows or [("all", scores)]:
            table.add_row(kind, str(f.queries), f"{f.ndcg:.3f}", f"{f.recall:.3f}", f"{f.mrr:.3f}")
        out.print(table)
    else:
        out.print(f"{queries.name} — {mode}: no answerable query, so no ranking to score")
    for name, value in figures.items():
        if name.endswith("%") and value is not None:
            out.print(f"{name}: {value:.1f}")
    for name in ("counted", "off_topic_counted"):
        if figures[name] is not None:
            out.print(f"documents {name.replace('_', ' ')} (mean total): {figures[name]:.1f}")


def eval_figures(scores: Scores, mode: str) -> dict[str, Any]:
    """The figures `kb eval --json` prints (shares in percent, one decimal)."""

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
        "counted": _rounded(scores.counted),
        "off_topic_counted": _rounded(scores.off_topic_counted),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
