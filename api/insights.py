"""`/insights` and `/insights.csv`: what partners look for, for the programme team.

Protected by an API key of `KB_API_KEYS`: `Authorization: Bearer <key>`, or HTTP Basic
with the key as the password (any user name), which a browser asks for by itself.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import get_kb
from api.pages import PageContext
from api.security import KeyChecker
from kb import Insights, KnowledgeBase

REALM = 'Basic realm="Savoir-faire insights", charset="UTF-8"'
CHART_WIDTH, BAR_HEIGHT, LABEL_WIDTH = 640, 22, 110

router = APIRouter(tags=["pages"])


def presented_key(request: Request) -> str:
    """The key of a Bearer or Basic (password) Authorization header; empty if none."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""


def authorised(request: Request) -> bool:
    checker: KeyChecker = request.app.state.key_checker
    key = presented_key(request)
    return bool(checker) and bool(key) and checker.matches(key)


def _refuse(ctx: PageContext) -> HTMLResponse:
    response = ctx.render("error.html", status_code=401, status=401,
                          message=ctx.t("insights_auth"))
    response.headers["WWW-Authenticate"] = REALM
    return response


def weekly_chart(insights: Insights) -> dict[str, Any]:
    """Horizontal bars, one per week: searches, and those with no close match."""
    top = max((n for _, n, _ in insights.weekly), default=0) or 1
    scale = (CHART_WIDTH - LABEL_WIDTH - 50) / top
    bars = [
        {
            "y": i * BAR_HEIGHT,
            "week": week,
            "count": count,
            "gaps": gaps or 0,
            "width": max(1, round(count * scale)),
            "gap_width": round((gaps or 0) * scale),
        }
        for i, (week, count, gaps) in enumerate(insights.weekly)
    ]
    return {"bars": bars, "width": CHART_WIDTH, "height": max(1, len(bars)) * BAR_HEIGHT,
            "x": LABEL_WIDTH}


@router.get("/insights", response_class=HTMLResponse, summary="What partners look for",
            responses={401: {"description": "API key required (Bearer or Basic password)"}})
def insights_page(
    request: Request, kb: Annotated[KnowledgeBase, Depends(get_kb)]
) -> HTMLResponse:
    """Frequent questions, content gaps, demand per theme, weekly trend (API key)."""
    ctx = PageContext(request, kb)
    if not authorised(request):
        return _refuse(ctx)
    insights = kb.insights()
    top_demand = max((max(s, d) for _, s, d in insights.demand), default=0) or 1
    response = ctx.render(
        "insights.html",
        enabled=kb.settings.query_log,
        days=kb.settings.query_log_days,
        insights=insights,
        chart=weekly_chart(insights),
        demand=[
            {"label": ctx.theme_label(theme), "searches": s, "documents": d,
             "s_width": round(100 * s / top_demand), "d_width": round(100 * d / top_demand)}
            for theme, s, d in insights.demand
        ],
        csv_url=ctx.url("/insights.csv"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/insights.csv", summary="The query log as CSV", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "One row per search"},
                       401: {"description": "API key required (Bearer or Basic password)"}})
def insights_csv(request: Request, kb: Annotated[KnowledgeBase, Depends(get_kb)]) -> Response:
    """Every logged search (time, query, results, no close match, themes, opened)."""
    if not authorised(request):
        return _refuse(PageContext(request, kb))
    return Response(
        kb.insights_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="recherches.csv"',
                 "Cache-Control": "no-store"},
    )
