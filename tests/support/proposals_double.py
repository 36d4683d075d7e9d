"""skills.proposals' API (issue 12, item 4) as the Workshop bridge uses it, for its tests.

The real module keeps proposals as branches of the skills repository; this one keeps them in
memory, and `accept` writes the proposal's files into the skills repository and commits them
with real git (skills.repo.commit_learning), the way an accepted proposal lands on main.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Proposal:
    id: str
    state: str
    subject: str
    skills: list[str]
    files: list[str]
    created_at: str = "2026-12-05T08:00:00Z"
    session_ids: list[str] = field(default_factory=lambda: ["s-1"])
    task_ids: list[int] = field(default_factory=lambda: [1])


class ProposalsDouble:
    """list_proposals / proposal_files / accept / reject, with every decision recorded."""

    def __init__(self) -> None:
        self.items: dict[str, Proposal] = {}
        self.contents: dict[str, dict[str, str | None]] = {}
        self.accepted: list[str] = []
        self.rejected: list[tuple[str, str | None]] = []

    def add(
        self, pid: str, subject: str, files: dict[str, str | None], state: str = "pending"
    ) -> Proposal:
        skills = sorted({path.split("/", 1)[0] for path in files})
        self.items[pid] = Proposal(pid, state, subject, skills, sorted(files))
        self.contents[pid] = dict(files)
        return self.items[pid]

    def set_state(self, pid: str, state: str) -> None:
        self.items[pid] = replace(self.items[pid], state=state)

    def list_proposals(
        self, root: Path, states: tuple[str, ...] = ("pending", "stale")
    ) -> list[Proposal]:
        return [p for p in self.items.values() if p.state in states]

    def proposal_files(self, root: Path, proposal_id: str) -> dict[str, str | None]:
        return dict(self.contents[proposal_id])

    def accept(self, root: Path, proposal_id: str) -> str:
        from acontext_mcp.skills.repo import commit_learning, ensure_repo

        ensure_repo(root).close()
        for rel, text in self.contents[proposal_id].items():
            path = root / rel
            if text is None:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        sha = commit_learning(
            root,
            f"Accepted proposal {proposal_id}",
            session_id="s-1",
            task_id=1,
            paths=self.items[proposal_id].skills,
        )
        assert sha, "nothing to commit"
        self.set_state(proposal_id, "accepted")
        self.accepted.append(proposal_id)
        return sha

    def reject(self, root: Path, proposal_id: str, reason: str | None = None) -> None:
        self.set_state(proposal_id, "rejected")
        self.rejected.append((proposal_id, reason))
