"""The skill learner's file tools: an in-memory overlay over the skills repository.

One learner run reads the repository plus its own edits and writes nothing until `apply()`, so
a run that fails, is refused or is killed leaves the skills exactly as they were. `apply()`
merges with whatever the user changed meanwhile (three-way, `git merge-file`) and refuses on a
conflict before writing anything; the writing, its journal and `recover()` are in journal.py.

Every path from the model is relative to its skill's folder and checked twice: lexically
(paths.py) and on disk here (no symlink anywhere on the way, for reads and for writes).
Nothing secret is written: every file name, file text and SKILL.md the model gives is scanned
with the capture redactor, and an edit holding a secret is refused (the model is told to
write a placeholder); `apply()` checks again, with the commit message, before writing.
`call` answers the tool loop with a typed `ToolResult`; a refusal says what to do instead. The
public tool methods and `dispatch` are the same answers as text ("Error: ..." on a refusal),
for callers outside the loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acontext_mcp.errors import AcontextError, InvalidInput, PathEscape
from acontext_mcp.learn.journal import JOURNAL, merge3, recover, write_atomic
from acontext_mcp.learn.paths import (
    MAX_FILES_PER_SKILL,
    MAX_READ_BYTES,
    Escape,
    Refused,
    check_rel_path,
    text_problem,
)
from acontext_mcp.llm import ToolSpec
from acontext_mcp.llm.toolloop import ToolResult, check_arguments
from acontext_mcp.privacy.redact import redact_text, secret_kinds
from acontext_mcp.skills import contained, repo, tidy
from acontext_mcp.skills.skillmd import parse_skill_md
from acontext_mcp.skills.validate import SKILL_FILE, name_problems, validate_text

# Re-exported: learner.py, pipeline.py, setup/doctor_learning.py and the tests import these here.
__all__ = ["FILE_TOOLS", "JOURNAL", "ApplyResult", "SkillWorkspace", "recover"]

log = logging.getLogger("acontext.learn")


@dataclass
class ApplyResult:
    """What `apply()` wrote: the commit (None when nothing changed) and the paths by kind."""

    sha: str | None
    files: list[str]
    merged: list[str]
    skills: list[str]
    created: list[str]
    proposal: str | None = None  # the proposal's id when the change waits for review


def _sha(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


class SkillWorkspace:
    """One learner run's view of the skills: the repository plus this run's edits.

    `visible` names the skills this run may see and edit (a learning space's view); None means
    all. Skills created in the run become visible. The caller holds `repo.learner_lock`.
    """

    def __init__(self, skills_dir: Path, *, visible: set[str] | None = None) -> None:
        self.root = Path(skills_dir).expanduser().absolute()
        self._real = Path(os.path.realpath(self.root))
        self._visible = None if visible is None else set(visible)
        self._base: dict[str, str | None] = {}  # first content read from disk (None: absent)
        self._overlay: dict[str, str | None] = {}  # this run's content (None: deleted)
        self.created: list[str] = []
        self.secrets_refused: Counter[str] = Counter()  # kinds of secret refused, this run
        self._names: tuple[Any, list[str]] | None = None  # skill_names(), until a change
        self._dropped: set[str] = set()  # skills deleted whole in this run (drop_skill)

    # --- disk access, never through a symlink -----------------------------------------------

    def _lstat_chain(self, rel: str) -> os.stat_result | None:
        """lstat of repo-relative `rel`, refusing a symlink or a file on the way; None if absent."""
        parts = rel.split("/")
        here = self._real
        st: os.stat_result | None = None
        for i, part in enumerate(parts):
            here = here / part
            try:
                st = os.lstat(here)
            except (FileNotFoundError, NotADirectoryError):
                return None
            except OSError as exc:
                raise Refused(f"{'/'.join(parts[: i + 1])} cannot be read: {exc.strerror}") from exc
            if stat.S_ISLNK(st.st_mode):
                raise Escape(
                    f"{'/'.join(parts[: i + 1])} is a symbolic link; the learner never reads or "
                    "writes through links"
                )
            if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
                raise Refused(f"{'/'.join(parts[: i + 1])} is a file, not a folder")
        return st

    def _disk_read(self, rel: str) -> str | None:
        """Text of `rel` on disk (None when absent); Refused for links, folders, binary."""
        st = self._lstat_chain(rel)
        if st is None:
            return None
        if stat.S_ISDIR(st.st_mode):
            raise Refused(f"{rel} is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{rel} is not a regular file")
        if st.st_size > MAX_READ_BYTES:
            raise Refused(f"{rel} is {st.st_size} bytes; too large to read or edit here")
        try:  # opened folder by folder without following links: one swapped in since is refused
            data = contained.read_bytes(self._real, rel, max_bytes=MAX_READ_BYTES)
        except PathEscape as exc:
            raise Escape(str(exc)) from exc
        except (AcontextError, OSError) as exc:
            raise Refused(f"{rel} cannot be read: {exc}") from exc
        if b"\x00" in data:
            raise Refused(f"{rel} is a binary file; only text files can be read or edited")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Refused(f"{rel} is not UTF-8 text; it cannot be read or edited") from exc

    def _read(self, rel: str) -> str | None:
        """Overlay view of repo-relative `rel`; records the disk content as the merge base."""
        if rel in self._overlay:
            return self._overlay[rel]
        if rel in self._base:
            return self._base[rel]
        content = self._disk_read(rel)
        self._base[rel] = content
        return content

    def _write(self, rel: str, content: str | None) -> None:
        self._read(rel)  # the base is what this run saw before its first change
        self._overlay[rel] = content

    def _disk_files(self, skill: str) -> list[str]:
        """Regular, non-hidden files of a skill folder on disk, relative to the folder."""
        folder = self._real / skill
        out: list[str] = []
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            here = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink()
            )
            for name in sorted(filenames):
                path = here / name
                if name.startswith(".") or path.is_symlink() or not path.is_file():
                    continue
                out.append(path.relative_to(folder).as_posix())
        return out

    def _files(self, skill: str) -> list[str]:
        """The skill's files in this run's view, relative to the skill folder."""
        prefix = f"{skill}/"
        files = set(self._disk_files(skill))
        for rel, content in self._overlay.items():
            if rel.startswith(prefix):
                inner = rel[len(prefix) :]
                if content is None:
                    files.discard(inner)
                else:
                    files.add(inner)
        return sorted(files, key=lambda p: (p != SKILL_FILE, p))

    # --- which skills exist and are visible -----------------------------------------------

    def _disk_skills(self) -> list[str]:
        if not self._real.is_dir():
            return []
        names = []
        for entry in sorted(self._real.iterdir()):
            if entry.name.startswith(".") or name_problems(entry.name):
                continue
            if entry.is_symlink() or not entry.is_dir():
                continue
            md = entry / SKILL_FILE
            if md.is_file() and not md.is_symlink():
                names.append(entry.name)
        return names

    def _skills(self) -> list[str]:
        names = set(self.created) | set(self._disk_skills())
        if self._visible is not None:
            names &= self._visible | set(self.created)
        return sorted(n for n in names if self._read_quiet(f"{n}/{SKILL_FILE}") is not None)

    def _read_quiet(self, rel: str) -> str | None:
        try:
            return self._read(rel)
        except Refused:
            return None

    def _skill(self, name: object) -> str:
        """A visible skill's name, or Refused listing what exists."""
        if not isinstance(name, str) or not name:
            raise Refused("skill_name must be a skill name; list_skills shows them")
        if name_problems(name):
            raise Refused(f"{name!r} is not a valid skill name; list_skills shows the names")
        if os.path.islink(self._real / name):
            raise Refused(f"skill folder {name!r} is a symbolic link; it cannot be used here")
        if name not in self._skills():
            known = ", ".join(self._skills()) or "none yet"
            raise Refused(
                f"no skill named {name!r}. Available skills: {known}. "
                "Create a new one with create_skill."
            )
        return name

    def _description(self, skill: str) -> str:
        text = self._read_quiet(f"{skill}/{SKILL_FILE}") or ""
        try:
            front, _ = parse_skill_md(text)
        except InvalidInput as exc:
            return f"({SKILL_FILE} front matter is broken: {exc})"
        desc = front.get("description")
        return " ".join(str(desc).split()) if desc is not None else ""

    def _free(self, skill: str, inner: str) -> None:
        """Refused unless `inner` can become a new file of `skill` in this run's view."""
        files = self._files(skill)
        if inner in files:
            raise Refused(f"{skill}/{inner} already exists; change it with str_replace_skill_file")
        folded = inner.casefold()
        for f in files:
            if f.casefold() == folded:
                raise Refused(f"{skill}/{f} already exists (names differ only in case)")
            if f.startswith(inner + "/"):
                raise Refused(f"{skill}/{inner} is a folder; choose a file name inside it")
            if inner.startswith(f + "/"):
                raise Refused(f"{skill}/{f} is a file, so it cannot hold {inner}")
        rel = f"{skill}/{inner}"
        if self._overlay.get(rel, "") is None:
            return  # deleted in this run: free again
        st = self._lstat_chain(rel)
        if st is not None:
            raise Refused(f"{rel} already exists on disk (hidden or not a file); pick another path")

    # --- tools ------------------------------------------------------------------------------

    def skill_names(self) -> list[str]:
        """The visible skills in this run's view, by name (remembered until this run changes
        something: the pipeline's writer asks often, and each answer walks the folder)."""
        # Which skills exist changes only with a SKILL.md (or a created skill): keyed on those.
        key = (
            tuple(self.created),
            tuple((k, v is None) for k, v in self._overlay.items() if k.endswith(_SKILL_MD)),
        )
        if self._names is None or self._names[0] != key:
            self._names = (key, self._skills())
        return list(self._names[1])

    def files(self, skill: str) -> list[str]:
        """A visible skill's files in this run's view (SKILL.md first); [] when unknown."""
        return self._files(skill) if skill in self.skill_names() else []

    def read_text(self, skill: str, path: str) -> str | None:
        """A file of a visible skill in this run's view; None when absent or unreadable.
        For the pipeline's own writer (learn/entries.py), which writes through `call`."""
        if skill not in self.skill_names():
            return None
        try:
            return self._read(f"{skill}/{check_rel_path(path)}")
        except Refused:
            return None

    def write_text(self, skill: str, path: str, content: str | None) -> str | None:
        """Set (None: delete) a file of a visible skill in this run's view, with the checks
        of the file tools (path, size, no secret added); None when done, else the refusal.
        For the curator (learn/curate.py), which rewrites whole files it has read."""
        try:
            if skill not in self.skill_names():
                raise Refused(f"no skill named {skill!r}")
            inner = check_rel_path(path)
            rel = f"{skill}/{inner}"
            if content is None:
                if inner == SKILL_FILE:
                    raise Refused(f"{SKILL_FILE} cannot be deleted; a skill needs it")
                self._write(rel, None)
                return None
            problem = text_problem(content, rel)
            if problem:
                raise Refused(problem)
            if inner == SKILL_FILE:
                self._check_skill_md(skill, content)
            added = _secret_counts(content) - _secret_counts(self._read(rel))
            if added:
                raise Refused(f"{rel} would gain what looks like a secret ({', '.join(added)})")
            self._write(rel, content)
            return None
        except Refused as exc:
            return redact_text(str(exc))[0]

    def drop_skill(self, skill: str) -> None:
        """Delete a visible skill, SKILL.md included, in this run's view (the curator's merge
        of two skills; the learner's tools never delete a SKILL.md)."""
        if skill in self.skill_names():
            for inner in self._files(skill):
                self._write(f"{skill}/{inner}", None)
            self._dropped.add(skill)

    def list_skills(self) -> str:
        """One `- **name**: description` line per visible skill."""
        lines = [f"- **{n}**: {self._description(n)}" for n in self._skills()]
        return "\n".join(lines) or "(no skills yet)"

    def get_skill(self, skill_name: str) -> str:
        """Name, description and file list of one skill."""
        return self._tool(self._get_skill, skill_name)

    def _get_skill(self, skill_name: str) -> str:
        skill = self._skill(skill_name)
        files = self._files(skill)
        lines = [
            f"Skill: {skill}",
            f"Description: {self._description(skill)}",
            f"Files ({len(files)}):",
        ]
        lines += [f"- {f}" for f in files]
        return "\n".join(lines)

    def get_skill_file(self, skill_name: str, file_path: str) -> str:
        """The text of one file of a skill, exactly as stored (so str_replace can quote it)."""
        return self._tool(self._get_skill_file, skill_name, file_path)

    def _get_skill_file(self, skill_name: str, file_path: str) -> str:
        skill = self._skill(skill_name)
        path, mark, heading = (
            file_path.partition("#") if isinstance(file_path, str) else ("", "", "")
        )
        inner = check_rel_path(path if mark else file_path)
        content = self._read(f"{skill}/{inner}")
        if content is None:
            raise Refused(self._missing(skill, inner))
        if mark:  # one section of a large file: its exact text, to quote in str_replace
            found = tidy.section(content, heading)
            if found is None:
                shown = "; ".join(tidy.headings(content)[:40]) or "none"
                raise Refused(f"{skill}/{inner} has no heading {heading!r}; its headings: {shown}")
            return found
        if inner != SKILL_FILE and len(content) > LARGE_FILE_CHARS:
            return _outline_view(inner, content)
        return content if content else "(empty file)"

    def create_skill(self, skill_md_content: str) -> str:
        """A new skill from its full SKILL.md; the folder is named after the front matter."""
        return self._tool(self._create_skill, skill_md_content)

    def _create_skill(self, skill_md_content: str) -> str:
        problem = text_problem(skill_md_content, "skill_md_content")
        if problem:
            raise Refused(problem)
        self.check_no_secret(f"the new {SKILL_FILE}", skill_md_content)
        try:
            front, _ = parse_skill_md(skill_md_content)
        except InvalidInput as exc:
            raise Refused(f"{SKILL_FILE} front matter cannot be parsed: {exc}") from exc
        name = front.get("name")
        if not isinstance(name, str) or name_problems(name):
            found = "; ".join(name_problems(name)) or "front matter needs a 'name'"
            raise Refused(
                f"{SKILL_FILE} needs front matter ('---' lines) with a valid 'name' and a "
                f"'description': {found}"
            )
        problems = validate_text(name, skill_md_content)
        if problems:
            raise Refused(f"{SKILL_FILE} is not valid: " + "; ".join(problems))
        exists = name in self.created or os.path.lexists(self._real / name)
        if not exists and self._real.is_dir():
            exists = any(e.name.casefold() == name for e in self._real.iterdir())
        if exists:
            if name in self._skills():
                raise Refused(
                    f"a skill named {name!r} already exists; update it (get_skill "
                    f"{name!r}, then str_replace_skill_file) or pick another name"
                )
            raise Refused(f"the name {name!r} is already taken; pick another name")
        rel = f"{name}/{SKILL_FILE}"
        self._base[rel] = None
        self._overlay[rel] = skill_md_content
        self.created.append(name)
        return (
            f"Created skill {name!r} with {SKILL_FILE}. Add reference files with "
            "create_skill_file if the skill's instructions call for them."
        )

    def create_skill_file(self, skill_name: str, file_path: str, content: str) -> str:
        """A new file in a skill (never SKILL.md, never over an existing file)."""
        return self._tool(self._create_skill_file, skill_name, file_path, content)

    def _create_skill_file(self, skill_name: str, file_path: str, content: str) -> str:
        skill = self._skill(skill_name)
        inner = check_rel_path(file_path)
        if inner == SKILL_FILE:
            raise Refused(f"{SKILL_FILE} exists already; change it with str_replace_skill_file")
        problem = text_problem(content, "content")
        if problem:
            raise Refused(problem)
        self.check_no_secret("file_path", inner)
        self.check_no_secret(f"the content of {skill}/{inner}", content)
        self._free(skill, inner)
        if len(self._files(skill)) >= MAX_FILES_PER_SKILL:
            raise Refused(
                f"skill {skill!r} already has {MAX_FILES_PER_SKILL} files; add to an existing "
                "file instead"
            )
        self._write(f"{skill}/{inner}", content)
        return f"Created {skill}/{inner} ({len(content.splitlines())} lines)."

    def str_replace_skill_file(
        self, skill_name: str, file_path: str, old_string: str, new_string: str
    ) -> str:
        """Replace the one occurrence of `old_string` in a file of a skill."""
        return self._tool(self._str_replace, skill_name, file_path, old_string, new_string)

    def _str_replace(self, skill_name: str, file_path: str, old: str, new: str) -> str:
        skill = self._skill(skill_name)
        inner = check_rel_path(file_path)
        if not isinstance(old, str) or not old:
            raise Refused("old_string must be the exact, non-empty text to replace")
        problem = text_problem(new, "new_string")
        if problem:
            raise Refused(problem)
        self.check_no_secret("new_string", new)
        rel = f"{skill}/{inner}"
        content = self._read(rel)
        if content is None:
            raise Refused(self._missing(skill, inner))
        count = content.count(old)
        if count == 0:
            raise Refused(
                f"old_string not found in {rel}; read it with get_skill_file and copy the text "
                "exactly, whitespace included"
            )
        if count > 1:
            raise Refused(
                f"old_string found {count} times in {rel}; add surrounding context so it "
                "matches exactly once"
            )
        updated = content.replace(old, new, 1)
        problem = text_problem(updated, rel)
        if problem:
            raise Refused(problem)
        if inner == SKILL_FILE:
            self._check_skill_md(skill, updated)
        self._write(rel, updated)
        return f"Edited {rel}."

    def _check_skill_md(self, skill: str, text: str) -> None:
        try:
            declared = parse_skill_md(text)[0].get("name")
        except InvalidInput:
            declared = None
        if isinstance(declared, str) and declared and declared != skill:
            raise Refused(
                f"{SKILL_FILE} must keep 'name: {skill}'; a skill is never renamed (create a "
                "new skill instead). Nothing was changed."
            )
        problems = validate_text(skill, text)
        if problems:
            raise Refused(
                f"that edit would break {SKILL_FILE}: "
                + "; ".join(problems)
                + ". Nothing was changed."
            )

    def mv_skill_file(self, skill_name: str, source_path: str, destination_path: str) -> str:
        """Move or rename a file inside one skill."""
        return self._tool(self._mv, skill_name, source_path, destination_path)

    def _mv(self, skill_name: str, source_path: str, destination_path: str) -> str:
        skill = self._skill(skill_name)
        src = check_rel_path(source_path)
        dst = check_rel_path(destination_path)
        if src == dst:
            raise Refused("source_path and destination_path are the same; nothing to move")
        if src == SKILL_FILE:
            raise Refused(f"{SKILL_FILE} cannot be moved; it must stay at the skill's top")
        if dst == SKILL_FILE:
            raise Refused(f"{SKILL_FILE} cannot be overwritten; edit it with str_replace")
        self.check_no_secret("destination_path", dst)
        content = self._read(f"{skill}/{src}")
        if content is None:
            raise Refused(self._missing(skill, src))
        self._free(skill, dst)
        self._write(f"{skill}/{dst}", content)
        self._write(f"{skill}/{src}", None)
        return f"Moved {skill}/{src} to {skill}/{dst}."

    def delete_skill_file(self, skill_name: str, file_path: str) -> str:
        """Delete one file of a skill (never SKILL.md)."""
        return self._tool(self._delete, skill_name, file_path)

    def _delete(self, skill_name: str, file_path: str) -> str:
        skill = self._skill(skill_name)
        inner = check_rel_path(file_path)
        if inner == SKILL_FILE:
            raise Refused(f"{SKILL_FILE} cannot be deleted; a skill needs it")
        rel = f"{skill}/{inner}"
        if self._read(rel) is None:
            raise Refused(self._missing(skill, inner))
        self._write(rel, None)
        return f"Deleted {rel}."

    def _missing(self, skill: str, inner: str) -> str:
        files = self._files(skill)
        shown = ", ".join(files[:30]) + (" ..." if len(files) > 30 else "")
        return f"skill {skill!r} has no file {inner!r}; its files: {shown}"

    def check_no_secret(self, where: str, text: str) -> None:
        """Refused when `text` holds a secret: a skill reaches every future session, so it
        must never hold one. The refusal names the kind, never the secret; it is logged
        and counted (`secrets_refused`, recorded as a session event by the pipeline)."""
        kinds = secret_kinds(text)
        if not kinds:
            return
        self.secrets_refused.update(kinds)
        where = redact_text(where)[0]
        log.warning("learner edit refused: %s holds a secret (%s)", where, ", ".join(kinds))
        raise Refused(
            f"{where} holds what looks like a secret ({', '.join(kinds)}). Skills never hold "
            "credentials: write a placeholder instead (`<AWS_SECRET_ACCESS_KEY>`, "
            "`$OPENAI_API_KEY`) and, if it helps, say where the real value is kept. Nothing "
            "was changed."
        )

    def _run(self, fn: Callable[..., str], *args: Any) -> ToolResult:
        try:
            return ToolResult.done(fn(*args))
        except Refused as exc:  # a refusal may quote the model's input: never a secret
            return ToolResult.refused(redact_text(str(exc))[0])

    def _tool(self, fn: Callable[..., str], *args: Any) -> str:
        return self._run(fn, *args).wire_text()

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run the file tool `name` with arguments already checked against its schema (the
        tool loop checks them)."""
        params = list(_SPECS[name].parameters["properties"])
        method: Callable[..., str] = getattr(self, _METHODS[name])
        try:
            return self._run(method, *(arguments[p] for p in params))
        except (AcontextError, OSError) as exc:
            return ToolResult.refused(f"{name} failed: {exc}")

    def dispatch(self, name: str, arguments: dict[str, Any]) -> str:
        """`call` as text, arguments checked here: bad input becomes "Error: ..." text."""
        spec = _SPECS.get(name) if isinstance(name, str) else None
        if spec is None:
            return f"Error: unknown tool {name!r}; file tools: {', '.join(_SPECS)}"
        args, problem = check_arguments(spec, arguments)
        if problem is not None:
            return f"Error: {problem}"
        return self.call(name, args).wire_text()

    # --- the run's result -------------------------------------------------------------------

    def changes(self) -> dict[str, str | None]:
        """Repo-relative path -> new content (None: deleted), only what differs from the base."""
        return {
            rel: content
            for rel, content in sorted(self._overlay.items())
            if content != self._base.get(rel)
        }

    def touched_skills(self) -> list[str]:
        return sorted({rel.split("/", 1)[0] for rel in self.changes()})

    def problems(self) -> dict[str, list[str]]:
        """Per touched skill, what keeps its new state from being valid; {} when all are."""
        out: dict[str, list[str]] = {}
        changes = self.changes()
        for skill in self.touched_skills():
            found: list[str] = []
            try:
                text = self._read(f"{skill}/{SKILL_FILE}")
            except Refused as exc:
                text, found = None, [str(exc)]
            if text is None and not found:
                if skill in self._dropped and not self._files(skill):
                    continue  # deleted whole, on purpose
                found.append(f"{SKILL_FILE} is missing")
            elif text is not None:
                found += validate_text(skill, text)
            for rel, content in changes.items():
                if rel.startswith(f"{skill}/") and content is not None:
                    problem = text_problem(content, rel)
                    if problem:
                        found.append(problem)
            count = len(self._files(skill))
            if count > MAX_FILES_PER_SKILL and count > len(self._disk_files(skill)):
                found.append(f"{count} files; at most {MAX_FILES_PER_SKILL} per skill")
            if found:
                out[skill] = found
        return out

    def apply(
        self,
        message: str,
        *,
        session_ids: Sequence[str],
        task_ids: Sequence[int | str],
        propose: bool = False,
        kind: str = "learning",
        trailers: Sequence[str] = (),
    ) -> ApplyResult:
        """Write this run's changes and commit them as one learning with provenance.

        With `propose`, nothing is written: the changes become a proposal (a commit on its
        own branch, skills/proposals.py) that waits for review; `proposal` holds its id.
        Raises InvalidInput (invalid skills), SyncConflict (the user changed the same lines
        meanwhile) or PathEscape (a link appeared on the way) before writing anything. A crash
        after writing is finished by `recover()` at the next run.
        """
        problems = self.problems()
        if problems:
            raise InvalidInput(
                "the learner's skills are not valid, nothing was written: "
                + "; ".join(f"{s}: {', '.join(p)}" for s, p in problems.items())
            )
        if not isinstance(message, str) or not message.strip():
            raise InvalidInput("a learning needs a commit message saying what was learned")
        sessions = repo.provenance_values(session_ids, "session_id")
        tasks = repo.provenance_values(task_ids, "task_id")
        changes = self.changes()
        skills = self.touched_skills()
        if not changes:
            return ApplyResult(sha=None, files=[], merged=[], skills=[], created=[])
        # Before either path: a proposal is as much a write as a commit.
        self._refuse_secrets(changes, "\n".join([message, *sessions, *tasks]))
        if propose:
            return self._propose(message, changes, skills, sessions, tasks, kind, trailers)
        journal = self._journal_path()
        if journal.exists():  # an unrecovered crash: commit its files before ours replace them
            recover(self.root)
        final, merged = self._merge_all(changes)
        write_atomic(
            journal,
            json.dumps(
                {
                    "message": message,
                    "session_ids": sessions,
                    "task_ids": tasks,
                    "files": {rel: None if c is None else _sha(c) for rel, c in final.items()},
                },
                indent=2,
            ).encode(),
        )
        for rel, content in final.items():
            self._put(rel, content)
        sha = repo.commit_learning(
            self.root,
            message,
            session_id=sessions,
            task_id=tasks,
            paths=list(final),
            kind=kind,
            trailers=trailers,
        )
        journal.unlink(missing_ok=True)
        created = [c for c in self.created if c in skills]
        self._base, self._overlay = {}, {}
        return ApplyResult(
            sha=sha, files=list(final), merged=merged, skills=skills, created=created
        )

    def _refuse_secrets(self, changes: dict[str, str | None], message: str) -> None:
        """The last check before anything is written: no path, no file text and no commit
        message (with its trailers) adds a secret, whatever got past the tools. A secret the
        file held before this run (the user's own edit) is not this run's to refuse."""
        found: list[str] = []
        for rel, content in changes.items():
            kinds = secret_kinds(rel)
            if content is not None:
                added = _secret_counts(content) - _secret_counts(self._base.get(rel))
                kinds = sorted(set(kinds) | set(added))
            if kinds:
                found.append(f"{redact_text(rel)[0]} ({', '.join(kinds)})")
                self.secrets_refused.update(kinds)
        kinds = secret_kinds(message)
        if kinds:
            found.append(f"the commit message ({', '.join(kinds)})")
            self.secrets_refused.update(kinds)
        if found:
            log.warning("learning refused, it holds secrets: %s", "; ".join(found))
            raise InvalidInput(
                "the learning holds what looks like a secret, nothing was written: "
                + "; ".join(found)
            )

    def _propose(
        self,
        message: str,
        changes: dict[str, str | None],
        skills: list[str],
        sessions: list[str],
        tasks: list[str],
        kind: str = "learning",
        trailers: Sequence[str] = (),
    ) -> ApplyResult:
        """The changes as a proposal on top of the committed skills (HEAD), merged with what
        was committed since the run read them; the working tree is not touched."""
        from acontext_mcp.skills import proposals

        parent, head = proposals.head_files(self.root, list(changes))
        final, merged = self._merge_all(changes, head=head)
        final = {rel: c for rel, c in final.items() if c != head.get(rel)}
        created = [c for c in self.created if c in skills]
        self._base, self._overlay = {}, {}
        if not final:
            return ApplyResult(sha=None, files=[], merged=[], skills=[], created=[])
        made = proposals.create(
            self.root,
            message,
            final,
            parent=parent,
            session_ids=sessions,
            task_ids=tasks,
            kind=kind,
            trailers=trailers,
        )
        return ApplyResult(
            sha=None,
            files=list(final),
            merged=merged,
            skills=skills,
            created=created,
            proposal=made.id,
        )

    def _merge_all(
        self, changes: dict[str, str | None], *, head: dict[str, str | None] | None = None
    ) -> tuple[dict[str, str | None], list[str]]:
        """What to write per path, merged with the user's edits since the run read it (on
        disk, or in `head`: the committed versions a proposal is based on)."""
        final: dict[str, str | None] = {}
        merged: list[str] = []
        conflicts: list[str] = []
        for rel, theirs in changes.items():
            base = self._base.get(rel)
            try:
                current = self._disk_read(rel) if head is None else head.get(rel)
            except Escape as exc:
                raise PathEscape(f"{exc}; nothing was written") from exc
            except Refused:
                conflicts.append(rel)  # the user made it a folder, binary or huge meanwhile
                continue
            if current in (base, theirs):
                final[rel] = theirs
                continue
            result = merge3(base, current, theirs)
            if result is None:
                conflicts.append(rel)
                continue
            if rel.endswith(f"/{SKILL_FILE}") and validate_text(rel.split("/")[0], result):
                conflicts.append(rel)
                continue
            final[rel] = result
            merged.append(rel)
        if conflicts:
            raise repo.SyncConflict(
                f"the learner and your edits changed the same lines in {', '.join(conflicts)}; "
                "nothing was written. The learning can be retried after your edits are kept.",
                conflicts,
            )
        return final, merged

    def _journal_path(self) -> Path:
        with contextlib.closing(repo.ensure_repo(self.root)) as git_repo:
            return Path(git_repo.git_dir) / JOURNAL

    def _put(self, rel: str, content: str | None) -> None:
        """Write or delete one file, creating or pruning folders, never through a link."""
        try:
            self._put_checked(rel, content)
        except Refused as exc:
            raise PathEscape(f"{exc}; the learner stopped writing (recover() finishes)") from exc

    def _put_checked(self, rel: str, content: str | None) -> None:
        skill = rel.split("/", 1)[0]
        if content is None:
            if self._lstat_chain(rel) is not None:
                (self._real / rel).unlink()
            parent = (self._real / rel).parent
            stop = self._real / skill
            while parent != stop and parent.is_relative_to(stop):
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
            return
        parts = rel.split("/")
        here = self._real
        for part in parts[:-1]:
            here = here / part
            with contextlib.suppress(FileExistsError):
                here.mkdir()
            self._lstat_chain(here.relative_to(self._real).as_posix())
        write_atomic(self._real / rel, content.encode("utf-8"))


_SKILL_MD = f"/{SKILL_FILE}"
LARGE_FILE_CHARS = 8000  # get_skill_file shows a larger file as its outline
OUTLINE_VIEW_CHARS = 4000


def _outline_view(inner: str, content: str) -> str:
    """What the learner reads of a large file: its outline and how to read one section, so a
    run costs what the section costs, not the whole file (the curator keeps files small)."""
    return (
        f"{inner} is {len(content):,} characters, so only its outline is shown. Read one "
        f"section with get_skill_file and file_path '{inner}#<heading>' (for example "
        f"'{inner}#Traps'): its exact text, to quote in str_replace_skill_file.\n\n"
        + tidy.outline(content, OUTLINE_VIEW_CHARS)
    )


def _secret_counts(text: str | None) -> Counter[str]:
    """How many secrets of each kind `text` holds (none for None or `<private>` markup)."""
    counts = redact_text(text)[1] if text else Counter()
    counts.pop("private", None)
    return counts


def _spec(name: str, description: str, **params: str) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=description,
        parameters={
            "type": "object",
            "properties": {k: {"type": "string", "description": v} for k, v in params.items()},
            "required": list(params),
            "additionalProperties": False,
        },
    )


_PATH = "Path inside the skill folder, e.g. 'SKILL.md' or 'references/deploy.md'."
_SKILL = "Skill name, as shown by list_skills."
FILE_TOOLS: list[ToolSpec] = [
    _spec("list_skills", "List the skills you can see: name and description."),
    _spec("get_skill", "A skill's description and its file list.", skill_name=_SKILL),
    _spec(
        "get_skill_file",
        "Read one file of a skill. Read SKILL.md before changing a skill. A large file shows "
        "its outline: add '#<heading>' to file_path to read one section.",
        skill_name=_SKILL,
        file_path=_PATH,
    ),
    _spec(
        "create_skill",
        "Create a new skill from its full SKILL.md: YAML front matter with 'name' (lowercase, "
        "digits, hyphens, <= 64; the folder name) and 'description' (<= 1024 characters: "
        "when to use it, naming the words that should bring it up), then the body (< 500 "
        "lines). Only when no skill covers the domain.",
        skill_md_content="The complete SKILL.md text, front matter included.",
    ),
    _spec(
        "create_skill_file",
        "Add a new text file to a skill (not SKILL.md; never overwrites).",
        skill_name=_SKILL,
        file_path=_PATH,
        content="The file's full text.",
    ),
    _spec(
        "str_replace_skill_file",
        "Replace text in a skill file. old_string must occur exactly once; include enough "
        "context. Edits to SKILL.md must keep valid front matter and the same name.",
        skill_name=_SKILL,
        file_path=_PATH,
        old_string="Exact text to replace.",
        new_string="Replacement text.",
    ),
    _spec(
        "mv_skill_file",
        "Move or rename a file within a skill (not SKILL.md).",
        skill_name=_SKILL,
        source_path=_PATH,
        destination_path=_PATH,
    ),
    _spec(
        "delete_skill_file",
        "Delete a file from a skill (not SKILL.md).",
        skill_name=_SKILL,
        file_path=_PATH,
    ),
]
_SPECS = {spec.name: spec for spec in FILE_TOOLS}
# The method behind each file tool, without the text wrapper of the public one.
_METHODS = {
    "list_skills": "list_skills",
    "get_skill": "_get_skill",
    "get_skill_file": "_get_skill_file",
    "create_skill": "_create_skill",
    "create_skill_file": "_create_skill_file",
    "str_replace_skill_file": "_str_replace",
    "mv_skill_file": "_mv",
    "delete_skill_file": "_delete",
}
