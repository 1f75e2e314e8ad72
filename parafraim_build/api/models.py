"""Wire models of the Parafraim API (``../shared/api.md``), shared by client and engine.

Two families:

* Requests (``*Request``, ``RenderConfig``) are strict and forbid unknown fields: they encode
  the documented limits, so the spec loader, the client and the local engine all refuse the
  same values at the same edges.
* Responses ignore unknown fields and tolerate missing optional ones, because the real service
  may add or omit fields at any time; a status we do not know stays a plain string.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

# Documented limits, in one place.
NAME_MAX = 100
DESCRIPTION_MAX = 500
MESSAGE_MAX = 10_000
SELECTED_ELEMENTS_MAX = 8
WIDTH_MIN, WIDTH_MAX = 480, 3840
HEIGHT_MIN, HEIGHT_MAX = 270, 2160
FPS_MIN, FPS_MAX = 24, 60
PAGE_SIZE_MAX = 50
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
RENDER_FORMATS = ("mp4", "gif")
RENDER_QUALITIES = ("draft", "standard", "high")
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

AspectRatio = Literal["16:9", "9:16", "1:1"]
RenderFormat = Literal["mp4", "gif"]
RenderQuality = Literal["draft", "standard", "high"]

TASK_STATUSES_TERMINAL = frozenset({"completed", "error", "cancelled"})
RENDER_STATUSES_TERMINAL = frozenset({"complete", "failed"})
RENDER_STATUSES = ("pending", "generating", "rendering", "uploading", "complete", "failed")

# SSE event names (api.md "What the page does not say" 3).
EVENT_TEXT = "text"
EVENT_HTML_UPDATE = "html_update"
EVENT_RESULT = "result"
EVENT_TASK_ERROR = "task_error"
TERMINAL_EVENTS = frozenset({EVENT_RESULT, EVENT_TASK_ERROR})


class RequestModel(BaseModel):
    """A request body: strict types, documented limits, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseModel(BaseModel):
    """A response object: unknown fields ignored, optional fields may be absent."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# ---------------------------------------------------------------------------- requests

SelectedElement = dict[str, Any]


class RenderConfig(RequestModel):
    """``config`` of ``POST /projects/{id}/render``, with the documented defaults."""

    width: Annotated[StrictInt, Field(ge=WIDTH_MIN, le=WIDTH_MAX)] = 1920
    height: Annotated[StrictInt, Field(ge=HEIGHT_MIN, le=HEIGHT_MAX)] = 1080
    fps: Annotated[StrictInt, Field(ge=FPS_MIN, le=FPS_MAX)] = 30
    format: RenderFormat = "mp4"
    quality: RenderQuality = "standard"
    includeAudio: StrictBool = True
    includeSubtitles: StrictBool = True


class CreateProjectRequest(RequestModel):
    name: Annotated[StrictStr, Field(min_length=1, max_length=NAME_MAX)]
    description: Annotated[StrictStr, Field(max_length=DESCRIPTION_MAX)] | None = None
    aspectRatio: AspectRatio | None = None
    templateId: Annotated[StrictStr, Field(pattern=UUID_PATTERN)] | None = None


class SendMessageRequest(RequestModel):
    message: Annotated[StrictStr, Field(min_length=1, max_length=MESSAGE_MAX)]
    selectedElement: SelectedElement | None = None
    selectedElements: (
        Annotated[list[SelectedElement], Field(max_length=SELECTED_ELEMENTS_MAX)] | None
    ) = None


class RenderRequest(RequestModel):
    config: RenderConfig = Field(default_factory=RenderConfig)


class UseTemplateRequest(RequestModel):
    name: Annotated[StrictStr, Field(min_length=1, max_length=NAME_MAX)] | None = None
    description: Annotated[StrictStr, Field(max_length=DESCRIPTION_MAX)] | None = None


# --------------------------------------------------------------------------- responses


class ApiErrorBody(ResponseModel):
    code: str = "UNKNOWN"
    message: str = ""


class Pagination(ResponseModel):
    page: int = 1
    pageSize: int = 0
    total: int = 0
    totalPages: int = 0


T = TypeVar("T")


class Page(ResponseModel, Generic[T]):
    """One page of a list endpoint."""

    items: list[T]
    pagination: Pagination


class Me(ResponseModel):
    id: str
    email: str | None = None
    plan: str | None = None
    renderCredits: float | None = None


class CreditTransaction(ResponseModel):
    """One ledger entry. Not documented beyond "transaction records": all optional."""

    id: str | None = None
    type: str | None = None
    amount: float | None = None
    description: str | None = None
    createdAt: str | None = None
    projectId: str | None = None
    taskId: str | None = None
    jobId: str | None = None


class Credits(ResponseModel):
    balance: float
    plan: str | None = None
    monthlyAllowance: float | None = None
    used: float | None = None
    usedToday: float | None = None
    recent: list[CreditTransaction] = Field(default_factory=list)


class ProjectSummary(ResponseModel):
    id: str
    name: str | None = None
    description: str | None = None
    aspectRatio: str | None = None
    hasPreview: bool = False
    createdAt: str | None = None
    updatedAt: str | None = None


class ProjectCreated(ResponseModel):
    """Answer of ``POST /projects`` and ``POST /templates/{id}/use``."""

    id: str
    compositionHtml: str = ""
    hasPreview: bool = False


class MessageAccepted(ResponseModel):
    taskId: str
    workspaceId: str | None = None
    traceId: str | None = None


class AssistantMessage(ResponseModel):
    id: str | None = None
    content: str | None = None


class TaskProject(ResponseModel):
    id: str | None = None
    name: str | None = None
    compositionHtml: str = ""
    hasPreview: bool = False


class RenderJob(ResponseModel):
    """``GET /render-jobs/{id}``; also the task's latest render job."""

    id: str | None = None
    status: str
    progress: int = 0
    videoUrl: str | None = None
    error: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in RENDER_STATUSES_TERMINAL


class Task(ResponseModel):
    """``GET /tasks/{id}``: the source of truth for a task's outcome."""

    id: str | None = None
    status: str
    lastEventId: int | None = None
    assistantMessage: AssistantMessage | None = None
    project: TaskProject | None = None
    renderJob: RenderJob | None = None
    error: ApiErrorBody | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TASK_STATUSES_TERMINAL


class RenderStarted(ResponseModel):
    jobId: str
    traceId: str | None = None


class TemplateSummary(ResponseModel):
    id: str
    name: str
    description: str | None = None
    category: str | None = None
    hasPreview: bool = False
    usageCount: int | None = None


# ------------------------------------------------------------------------- SSE events


class TaskEvent(ResponseModel):
    """One decoded SSE event of a task stream.

    ``data`` is the parsed JSON when the payload was JSON, else the raw text; unknown event
    names are kept, never rejected.
    """

    id: int | None = None
    event: str = "message"
    data: Any = None

    @property
    def is_terminal(self) -> bool:
        return self.event in TERMINAL_EVENTS

    @property
    def text_delta(self) -> str | None:
        if self.event == EVENT_TEXT and isinstance(self.data, dict):
            delta = self.data.get("delta")
            return delta if isinstance(delta, str) else None
        return None

    @property
    def html(self) -> str | None:
        if self.event == EVENT_HTML_UPDATE and isinstance(self.data, dict):
            html = self.data.get("html")
            return html if isinstance(html, str) else None
        return None
