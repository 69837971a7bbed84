"""GET /api/search and GET /api/facets."""
# No `from __future__ import annotations`: the route annotations read `settings` bounds.


from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import MAX_OFFSET, api_filters, get_kb
from api.schemas import ErrorOut, FacetsOut, SearchOut
from kb import Filters, KnowledgeBase, Settings

ERRORS = {
    400: {"model": ErrorOut, "description": "Unusable query"},
    413: {"model": ErrorOut, "description": "Query too long"},
    422: {"model": ErrorOut, "description": "Invalid parameters"},
    503: {"model": ErrorOut, "description": "Index built with another model"},
}


LOG_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-log")
"""Writes the query log of API searches one at a time, off the request's thread."""


def logged() -> None:
    """Wait until the API searches answered so far are in the query log."""
    LOG_WRITER.submit(lambda: None).result()


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["search"])

    @router.get("/search", response_model=SearchOut, responses=ERRORS)
    def search(
        q: Annotated[
            str,
            Query(
                min_length=1,
                max_length=settings.max_query_chars,
                pattern=r"\S",
                description="The question, in any words; not only spaces.",
            ),
        ],
        filters: Annotated[Filters, Depends(api_filters)],
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
        limit: Annotated[int, Query(ge=1, le=settings.max_limit)] = min(10, settings.max_limit),
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> SearchOut:
        """Search passages by meaning and words; results grouped by document."""
        response = kb.search(q, filters=filters, limit=limit, offset=offset)
        if offset == 0:  # logged beside the answer, never in its way (see kb.query_log)
            LOG_WRITER.submit(kb.log_search, q, response)
        return SearchOut.model_validate(response)

    @router.get("/facets", response_model=FacetsOut, responses=ERRORS)
    def facets(
        filters: Annotated[Filters, Depends(api_filters)],
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
    ) -> FacetsOut:
        """Counts per trip, theme, kind, language and year of the documents that match."""
        return FacetsOut.model_validate({"facets": kb.facets(filters)})

    return router
