"""Documents: list, one document, its original file, similar ones, upload, delete."""
# No `from __future__ import annotations`: the route annotations read `settings` bounds.


from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile

from api.deps import MAX_OFFSET, api_filters, get_kb, no_values
from api.errors import APIError
from api.files import FILE_CSP_HEADER, content_disposition
from api.schemas import (
    DocumentDetailOut,
    DocumentListOut,
    DocumentOut,
    ErrorOut,
    PracticeOut,
    SimilarOut,
    UploadOut,
)
from api.security import require_writer
from ingest import ingest_upload
from kb import KINDS, Filters, KnowledgeBase, Settings

DocId = Annotated[str, Path(min_length=1, max_length=300, description="Document id.")]
# Multipart has no null: an empty field means "not given".
KindField = Literal[("", *KINDS)]  # type: ignore[valid-type]
NOT_FOUND = {404: {"model": ErrorOut, "description": "No such document"}}
INVALID = {422: {"model": ErrorOut, "description": "Invalid parameters"}}
WRITE_ERRORS = {
    400: {"model": ErrorOut, "description": "Invalid metadata"},
    401: {"model": ErrorOut, "description": "Missing or wrong API key"},
    403: {"model": ErrorOut, "description": "Read-only knowledge base"},
    413: {"model": ErrorOut, "description": "Upload too large or too many files"},
    **INVALID,
}


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api/documents", tags=["documents"])

    @router.get("", response_model=DocumentListOut, responses=INVALID)
    def list_documents(
        filters: Annotated[Filters, Depends(api_filters)],
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
        limit: Annotated[int, Query(ge=1, le=settings.max_limit)] = min(20, settings.max_limit),
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> DocumentListOut:
        """Documents (metadata only), newest first."""
        documents, total = kb.documents(filters, limit=limit, offset=offset)
        items = [DocumentOut.model_validate(d) for d in documents]
        return DocumentListOut(items=items, total=total, limit=limit, offset=offset)

    @router.get("/{doc_id}", response_model=DocumentDetailOut, responses={**NOT_FOUND, **INVALID})
    def get_document(
        doc_id: DocId, kb: Annotated[KnowledgeBase, Depends(get_kb)]
    ) -> DocumentDetailOut:
        """A document's metadata, its passages in order, and its practice card if any."""
        detail = DocumentDetailOut.model_validate(kb.document(doc_id))
        card = kb.practice(doc_id)
        detail.practice = PracticeOut.model_validate(card) if card else None
        return detail

    @router.get(
        "/{doc_id}/file",
        response_class=Response,
        responses={
            200: {
                "description": "The original file, with its own media type.",
                "content": {"application/octet-stream": {}},
            },
            **NOT_FOUND,
            **INVALID,
        },
    )
    def get_file(doc_id: DocId, kb: Annotated[KnowledgeBase, Depends(get_kb)]) -> Response:
        """The original file as ingested; PDFs inline so that `#page=N` works."""
        content, media_type, name = kb.original(doc_id)
        headers = {
            "Content-Disposition": content_disposition(name, media_type),
            **FILE_CSP_HEADER,
        }
        return Response(content, media_type=media_type, headers=headers)

    @router.get("/{doc_id}/similar", response_model=SimilarOut, responses={**NOT_FOUND, **INVALID})
    def similar(
        doc_id: DocId,
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
        limit: Annotated[int, Query(ge=1, le=settings.max_limit)] = min(5, settings.max_limit),
    ) -> SimilarOut:
        """Documents whose passages are closest to this one's."""
        results = kb.similar(doc_id, limit=limit)
        return SimilarOut.model_validate({"document_id": doc_id, "results": results})

    @router.post(
        "",
        response_model=UploadOut,
        responses=WRITE_ERRORS,
        dependencies=[Depends(require_writer)],
    )
    def upload(
        files: Annotated[
            list[UploadFile],
            File(
                min_length=1,
                description="One or more files.",
                # Documented, and checked below (413 rather than a validation error).
                json_schema_extra={"maxItems": settings.max_upload_files},
            ),
        ],
        kb: Annotated[KnowledgeBase, Depends(get_kb)],
        themes: Annotated[
            list[str],
            Form(default_factory=no_values, description="Theme ids, repeated or comma-separated."),
        ],
        title: Annotated[str, Form(max_length=500)] = "",
        trip: Annotated[str, Form(max_length=200)] = "",
        kind: Annotated[KindField, Form(description="Document kind; empty: detected.")] = "",
        lang: Annotated[str, Form(max_length=20)] = "",
    ) -> UploadOut:
        """Ingest uploaded files (needs an API key); returns the outcome per file."""
        if len(files) > settings.max_upload_files:
            raise APIError(
                413, "too_large", f"At most {settings.max_upload_files} files per upload."
            )
        payload = [(f.filename or "upload", f.file.read()) for f in files]
        metadata = {
            "title": title.strip(),
            "trip": trip.strip(),
            "kind": kind,
            "language": lang.strip(),
            "themes": [t.strip() for value in themes for t in value.split(",") if t.strip()],
        }
        metadata = {k: v for k, v in metadata.items() if v}
        report = ingest_upload(kb, payload, metadata=metadata or None)
        return UploadOut.model_validate(
            {"outcomes": report.outcomes, "counts": report.counts()}
        )

    @router.delete(
        "/{doc_id}",
        status_code=204,
        response_class=Response,
        responses={**NOT_FOUND, **WRITE_ERRORS},
        dependencies=[Depends(require_writer)],
    )
    def delete(doc_id: DocId, kb: Annotated[KnowledgeBase, Depends(get_kb)]) -> Response:
        """Remove a document, its passages and its vectors (needs an API key)."""
        kb.remove(doc_id)
        return Response(status_code=204)

    return router
