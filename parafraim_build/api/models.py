"""Wire models of the Parafraim API (``../shared/api.md``), shared by client and engine.

Two families:

* Requests (``*Request``, ``RenderConfig``) are strict and forbid unknown fields: they encode
  the documented limits, so the spec loader, the client and the local engine all refuse the
  same values at the same edges.
* Responses ignore unknown fields and tolerate missing optional ones, because the real service
  may add or omit fields at any time; a status we do not know stays a plain string. Their
  field types (``api/lenient.py``) also turn ``null`` into the default and convert harmless
  drift (a number sent as a string, a percentage with decimals), so that one odd field never
  makes a whole answer unreadable.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from parafraim_build.api.lenient import (
    Code,
    Flag,
    Limits,
    OptInt,
    OptMessage,
    OptNumber,
    OptStr,
    Percent,
    RequiredNumber,
    RequiredStr,
    Text,
    int_or,
    to_error_body,
    to_list,
    to_object,
)

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
# Lenient field types (``api/lenient.py``): null -> default, harmless type drift converted.


class ApiErrorBody(ResponseModel):
    code: Code = "UNKNOWN"
    message: Text = ""


class Pagination(ResponseModel):
    page: Annotated[int, int_or(1)] = 1
    pageSize: Annotated[int, int_or(0)] = 0
    total: Annotated[int, int_or(0)] = 0
    totalPages: Annotated[int, int_or(0)] = 0


T = TypeVar("T")


class Page(ResponseModel, Generic[T]):
    """One page of a list endpoint."""

    items: list[T]
    pagination: Pagination


class Me(ResponseModel):
    id: RequiredStr
    email: OptStr = None
    plan: OptStr = None
    renderCredits: OptNumber = None


class CreditTransaction(ResponseModel):
    """One ledger entry. Not documented beyond "transaction records": all optional."""

    id: OptStr = None
    type: OptStr = None
    amount: OptNumber = None
    description: OptStr = None
    createdAt: OptStr = None
    projectId: OptStr = None
    taskId: OptStr = None
    jobId: OptStr = None


class Credits(ResponseModel):
    """``GET /credits``. Numbers stay as sent (an int when integral)."""

    balance: RequiredNumber
    plan: OptStr = None
    monthlyAllowance: OptNumber = None
    used: OptNumber = None
    usedToday: OptNumber = None
    limits: Limits = None
    """The plan's limits by name (the vendor page mentions them, without naming the fields);
    ``None`` when the service sends none. A ``null`` value means no limit."""
    recent: Annotated[list[CreditTransaction], BeforeValidator(to_list)] = Field(
        default_factory=list
    )


class ProjectSummary(ResponseModel):
    id: RequiredStr
    name: OptStr = None
    description: OptStr = None
    aspectRatio: OptStr = None
    hasPreview: Flag = False
    createdAt: OptStr = None
    updatedAt: OptStr = None


class ProjectCreated(ResponseModel):
    """Answer of ``POST /projects`` and ``POST /templates/{id}/use``."""

    id: RequiredStr
    compositionHtml: Text = ""
    hasPreview: Flag = False


class MessageAccepted(ResponseModel):
    taskId: RequiredStr
    workspaceId: OptStr = None
    traceId: OptStr = None


class AssistantMessage(ResponseModel):
    id: OptStr = None
    content: OptStr = None


class TaskProject(ResponseModel):
    id: OptStr = None
    name: OptStr = None
    compositionHtml: Text = ""
    hasPreview: Flag = False


class RenderJob(ResponseModel):
    """``GET /render-jobs/{id}``; also the task's latest render job."""

    id: OptStr = None
    status: RequiredStr
    progress: Percent = 0
    videoUrl: OptStr = None
    error: OptMessage = None

    @property
    def is_terminal(self) -> bool:
        return self.status in RENDER_STATUSES_TERMINAL


def _render_job_or_none(value: Any) -> RenderJob | None:
    # The task's latest render job is a convenience: one that cannot be read (no status, say)
    # must not make the task itself unreadable.
    if isinstance(value, RenderJob):
        return value
    try:
        return RenderJob.model_validate(to_object(value))
    except ValidationError:
        return None


class Task(ResponseModel):
    """``GET /tasks/{id}``: the source of truth for a task's outcome."""

    id: OptStr = None
    status: RequiredStr
    lastEventId: OptInt = None
    assistantMessage: Annotated[AssistantMessage | None, BeforeValidator(to_object)] = None
    project: Annotated[TaskProject | None, BeforeValidator(to_object)] = None
    renderJob: Annotated[RenderJob | None, BeforeValidator(_render_job_or_none)] = None
    error: Annotated[ApiErrorBody | None, BeforeValidator(to_error_body)] = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TASK_STATUSES_TERMINAL


class RenderStarted(ResponseModel):
    jobId: RequiredStr
    traceId: OptStr = None


class TemplateSummary(ResponseModel):
    id: RequiredStr
    name: Text
    description: OptStr = None
    category: OptStr = None
    hasPreview: Flag = False
    usageCount: OptInt = None


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
