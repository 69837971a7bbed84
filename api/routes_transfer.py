"""Practice cards, trips and the transfer dossier: GET /api/practices, /api/trips,
/api/dossier."""
# No `from __future__ import annotations`: the route annotations read `settings` bounds.

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.deps import MAX_OFFSET, MAX_VALUE_CHARS, api_filters, get_kb
from api.files import content_disposition
from api.schemas import DocumentOut, ErrorOut
from api.schemas_transfer import (
    PracticeListOut,
    PracticeOut,
    TripDetailOut,
    TripListOut,
    trip_out,
)
from ingest import dossier
from kb import Filters, KnowledgeBase, NotFound, Settings

DocId = Annotated[str, Path(min_length=1, max_length=300, description="Document id.")]
NOT_FOUND = {404: {"model": ErrorOut, "description": "Not found"}}
INVALID = {422: {"model": ErrorOut, "description": "Invalid parameters"}}
MAX_DOSSIER = 100


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["transfer"])

    @router.get("/practices", response_model=PracticeListOut, responses=INVALID)
    def list_practices(
        filters: Annotated[Filters, Depends(api_filters)],
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
        limit: Annotated[int, Query(ge=1, le=settings.max_limit)] = min(20, settings.max_limit),
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> PracticeListOut:
        """Practice cards, newest first; filters as for search."""
        cards, total = kb.practices(filters, limit=limit, offset=offset)
        items = [PracticeOut.model_validate(c) for c in cards]
        return PracticeListOut(items=items, total=total, limit=limit, offset=offset)

    @router.get(
        "/practices/{doc_id}", response_model=PracticeOut, responses={**NOT_FOUND, **INVALID}
    )
    def get_practice(doc_id: DocId, kb: Annotated[KnowledgeBase, Depends(get_kb)]) -> PracticeOut:
        """The card of one practice (404 when the document is not a practice)."""
        card = kb.practice(doc_id)
        if card is None:
            raise NotFound(f"the document {doc_id!r} is not a practice")
        return PracticeOut.model_validate(card)

    @router.get("/trips", response_model=TripListOut)
    def list_trips(kb: Annotated[KnowledgeBase, Depends(get_kb)]) -> TripListOut:
        """Every trip, newest first: place, dates, hosts, documents by kind, themes."""
        return TripListOut(items=[trip_out(o) for o in kb.trips()])

    @router.get(
        "/trips/{slug}", response_model=TripDetailOut, responses={**NOT_FOUND, **INVALID}
    )
    def get_trip(
        slug: Annotated[str, Path(min_length=1, max_length=MAX_VALUE_CHARS)],
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
    ) -> TripDetailOut:
        """One trip with its documents and practices."""
        overview = kb.trip(slug)
        documents, _ = kb.documents(Filters(trip=(slug,)))
        cards, _ = kb.practices(Filters(trip=(slug,)))
        return trip_out(
            overview, TripDetailOut,
            document_list=[DocumentOut.model_validate(d) for d in documents],
            practice_list=[PracticeOut.model_validate(c) for c in cards],
        )

    @router.get(
        "/dossier",
        response_class=Response,
        responses={
            200: {
                "description": "The transfer dossier as DOCX or Markdown.",
                "content": {dossier.MEDIA_TYPES["docx"]: {}, "text/markdown": {}},
            },
            **NOT_FOUND,
            **INVALID,
        },
    )
    def export_dossier(
        request: Request,
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
        id: Annotated[
            list[Annotated[str, Query(min_length=1, max_length=300)]],
            Query(min_length=1, max_length=MAX_DOSSIER, description="Practice ids, in order."),
        ],
        format: Literal["docx", "md"] = "docx",
        lang: Literal["fr", "en"] = "fr",
    ) -> Response:
        """A transfer dossier of these practices: cover, contents, one section per card,
        citations. 404 names the ids that are not practices."""
        cards = kb.practice_cards(id)
        content = dossier.write(cards, format, str(request.base_url), lang)
        name = f"dossier-de-transfert.{format}"
        return Response(
            content,
            media_type=dossier.MEDIA_TYPES[format],
            headers={"Content-Disposition": content_disposition(name, dossier.MEDIA_TYPES[format])},
        )

    return router
