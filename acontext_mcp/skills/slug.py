"""A project folder's runbook name (`project-runbooks/projects/<slug>.md`), without `re`.

The prompt hook looks up the project's runbook while the user waits, and `re` costs it ~3 ms
to import; skills/evidence.py re-exports this for everything else.
"""

from __future__ import annotations


def project_slug(project_dir: str | None) -> str | None:
    """The folder's last name, case-folded, every run of characters other than a-z and 0-9
    made one "-", none at the ends (`re.sub(r"[^a-z0-9]+", "-", name).strip("-")`); None
    for no folder or a name with no such character."""
    if not project_dir:
        return None
    name = project_dir.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c if ("a" <= c <= "z" or "0" <= c <= "9") else " " for c in name.casefold())
    return "-".join(kept.split()) or None
