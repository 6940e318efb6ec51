"""The editors' side, /editor: exchanges, terms, stages and official totals entered, corrected,
previewed and recorded; CSV imports; personal API tokens; one's own password. One module per
resource.

Every route needs a signed-in editor (this router's dependency, which every part's routes get);
admins may do everything editors do.
"""

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from app.deps import require_editor
from app.routes.editor import conflicts, exchanges, imports, password, stages, tokens
from app.routes.editor.imports import MAX_IMPORT_BODY_BYTES, MAX_IMPORT_BYTES

router = APIRouter(
    prefix="/editor",
    default_response_class=HTMLResponse,
    dependencies=[Depends(require_editor)],
    tags=["editors"],
)
# "/editor" itself: a path of the parent, which a part without a prefix cannot have.
router.add_api_route("", exchanges.editor_home, methods=["GET"], name="editor_home")
for part in (exchanges, stages, conflicts, imports, tokens, password):
    router.include_router(part.router)

__all__ = ["MAX_IMPORT_BODY_BYTES", "MAX_IMPORT_BYTES", "router"]
