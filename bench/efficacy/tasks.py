"""The fixture tasks: every `tasks/<id>/task.json` folder, read and checked against the format.

The format is the shared contract in bench/efficacy/README.md ("Task format"). A folder whose
task.json is missing or wrong is reported with what to fix, never silently skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TASKS_DIR = Path(__file__).resolve().parent / "tasks"

# The task.json contract (tests/test_efficacy_tasks.py checks every folder against it too).
REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "title": str,
    "trap": str,
    "prompt_a": str,
    "prompt_b": str,
    "project_a": str,
    "project_b": str,
    "naive": list,
    "fix": list,
    "key_line": str,
    "failing_signature": str,
    "check": str,
    "negative_control": bool,
    "confirm": str,
}


class TaskError(ValueError):
    """A task folder that does not follow the format; the message says what to fix."""


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    trap: str
    prompt_a: str
    prompt_b: str
    project_a: str
    project_b: str
    naive: tuple[str, ...]
    fix: tuple[str, ...]
    key_line: str
    failing_signature: str
    check: str
    negative_control: bool
    learn_from: str | None
    confirm: str
    folder: Path

    def project(self, which: str) -> Path:
        """The fixture project of run "a" or "b"."""
        return self.folder / (self.project_a if which == "a" else self.project_b)

    def knows(self, text: str) -> bool:
        """Whether the lesson's key line is in `text`."""
        return re.search(self.key_line, text) is not None

    def repeated_mistake(self, commands: list[str]) -> bool:
        """Whether A's failing command shows up among B's failed commands."""
        return any(re.search(self.failing_signature, c) for c in commands)


def load(folder: Path) -> Task:
    path = folder / "task.json"
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TaskError(f"{path}: cannot read it as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise TaskError(f"{path}: must hold one JSON object")
    for key, kind in REQUIRED_FIELDS.items():
        if not isinstance(data.get(key), kind):
            raise TaskError(f"{path}: `{key}` must be a {getattr(kind, '__name__', kind)}")
    if data["id"] != folder.name:
        raise TaskError(f"{path}: `id` is {data['id']!r}; it must be the folder's name")
    for key in ("naive", "fix"):
        if not data[key] or not all(isinstance(c, str) and c for c in data[key]):
            raise TaskError(f"{path}: `{key}` must be a non-empty list of shell commands")
    for key in ("key_line", "failing_signature"):
        try:
            re.compile(data[key])
        except re.error as exc:
            raise TaskError(f"{path}: `{key}` is not a valid regex ({exc})") from exc
    learn_from = data.get("learn_from")
    if learn_from is not None and not isinstance(learn_from, str):
        raise TaskError(f"{path}: `learn_from` must be null or another task's id")
    if data["negative_control"] and not learn_from:
        raise TaskError(f"{path}: a negative control names the task it learns from (learn_from)")
    task = Task(
        id=data["id"],
        title=data["title"],
        trap=data["trap"],
        prompt_a=data["prompt_a"],
        prompt_b=data["prompt_b"],
        project_a=data["project_a"],
        project_b=data["project_b"],
        naive=tuple(data["naive"]),
        fix=tuple(data["fix"]),
        key_line=data["key_line"],
        failing_signature=data["failing_signature"],
        check=data["check"],
        negative_control=data["negative_control"],
        learn_from=learn_from,
        confirm=data["confirm"],
        folder=folder,
    )
    for which in ("a", "b"):
        if not task.project(which).is_dir():
            raise TaskError(f"{path}: project folder {task.project(which).name!r} is missing")
    if not (folder / task.check).is_file():
        raise TaskError(f"{path}: the checker {task.check!r} is missing")
    return task


def discover(root: Path = TASKS_DIR, only: list[str] | None = None) -> list[Task]:
    """Every task under `root` (sorted by id), or the ones named in `only`; a negative
    control's `learn_from` task is loaded too (it supplies the lesson)."""
    folders = sorted(p.parent for p in root.glob("*/task.json"))
    tasks = {f.name: load(f) for f in folders}
    if only:
        missing = [t for t in only if t not in tasks]
        if missing:
            raise TaskError(f"no task folder {', '.join(missing)} under {root}")
    for task in tasks.values():
        if task.learn_from and task.learn_from not in tasks:
            raise TaskError(f"{task.id}: learn_from names {task.learn_from!r}, no such task")
    chosen = [tasks[t] for t in (only or sorted(tasks))]
    return chosen
