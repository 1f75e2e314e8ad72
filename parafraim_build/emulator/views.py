"""The JSON shapes the engine answers with, one function per API object.

Kept apart from the handlers so that the SSE ``result`` event and ``GET /tasks/{id}`` build
the very same task object.
"""

from __future__ import annotations

from typing import Any

from parafraim_build.emulator.state import Project, RenderJob, Task


def project_summary(project: Project) -> dict[str, Any]:
    """A project as ``GET /projects`` lists it: no ``compositionHtml``."""
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "aspectRatio": project.aspect_ratio,
        "templateId": project.template_id,
        "hasPreview": project.has_preview,
        "createdAt": project.created_at,
        "updatedAt": project.updated_at,
    }


def project_created(project: Project) -> dict[str, Any]:
    """The answer of ``POST /projects`` and ``POST /templates/{id}/use``."""
    return project_summary(project) | {"compositionHtml": project.composition_html}


def task_project(project: Project) -> dict[str, Any]:
    """The project snapshot inside a task object."""
    return {
        "id": project.id,
        "name": project.name,
        "aspectRatio": project.aspect_ratio,
        "compositionHtml": project.composition_html,
        "hasPreview": project.has_preview,
    }


def render_job(job: RenderJob, video_url: str | None) -> dict[str, Any]:
    """A render job; ``video_url`` is a freshly signed link when the job is complete."""
    return {
        "id": job.id,
        "projectId": job.project_id,
        "status": job.status,
        "progress": job.progress,
        "videoUrl": video_url,
        "error": job.error,
        "config": job.config,
        "createdAt": job.created_at,
        "updatedAt": job.updated_at,
    }


def task(task: Task, project: Project, latest_job: dict[str, Any] | None) -> dict[str, Any]:
    """A task as ``GET /tasks/{id}`` and the ``result`` event show it."""
    assistant: dict[str, Any] | None = None
    if task.status == "completed":
        assistant = {"id": task.assistant_message_id, "content": task.assistant_text}
    return {
        "id": task.id,
        "projectId": task.project_id,
        "status": task.status,
        "lastEventId": task.emitted,
        "assistantMessage": assistant,
        "project": task_project(project),
        "renderJob": latest_job,
        "error": task.error,
        "createdAt": task.created_at,
        "updatedAt": task.updated_at,
    }
