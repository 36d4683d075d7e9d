"""A stand-in `openclaw` executable: `--version` and `skills workshop ... --json`.

It answers the way OpenClaw 2026.9.6 did when probed (see skills/workshop.py and the e2e test
tests/e2e/test_openclaw_workshop.py, which runs the real one): `propose-create` /
`propose-update` answer `{"record": {...}}`, `reject` the bare record with `statusReason`,
a failure `{"ok": false, "error": {"message": ...}}` with exit 1. Proposals live in
`workshop.json` beside the script; `apply` writes the skill into
`$OPENCLAW_STATE_DIR/agents/main/agent/workshop-skills/<name>/`, as the real Workshop does.

`behaviour.json` beside the script steers it: {"version": "<--version output>",
"fail": {"<action>": {"exit": N, "stdout": "...", "stderr": "..."}}}. Every call is appended
to `calls.jsonl` (argv after the program name).

`install(folder)` writes the executable and returns its path.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def install(folder: Path, version: str = "OpenClaw 2026.9.6 (fake)") -> Path:
    """Write `<folder>/openclaw` (this module, run by the test's Python) and its behaviour."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "openclaw"
    exe.write_text(f"#!{sys.executable}\n" + Path(__file__).read_text())
    exe.chmod(0o755)
    (folder / "behaviour.json").write_text(json.dumps({"version": version, "fail": {}}))
    return exe


def steer(folder: Path, **changes: Any) -> None:
    """Change `behaviour.json` (version=..., fail={...})."""
    path = folder / "behaviour.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def calls(folder: Path) -> list[list[str]]:
    path = folder / "calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def proposals(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "workshop.json"
    return json.loads(path.read_text()) if path.exists() else {}


def set_status(folder: Path, workshop_id: str, status: str, reason: str | None = None) -> None:
    """What a user's decision in OpenClaw would do (status only; apply via the CLI)."""
    data = proposals(folder)
    data[workshop_id]["status"] = status
    if reason:
        data[workshop_id]["statusReason"] = reason
    (folder / "workshop.json").write_text(json.dumps(data))


# --- the executable ---


def _fail(message: str) -> None:
    print(json.dumps({"ok": False, "error": {"type": "cli_error", "message": message}}))
    print(f"[openclaw] Reason: {message}", file=sys.stderr)
    sys.exit(1)


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _read_draft(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            if os.access(path, os.X_OK):
                _fail(f"Executable support files are not allowed: {path.name}")
            out[path.relative_to(folder).as_posix()] = path.read_text()
    if "PROPOSAL.md" not in out:
        _fail("Proposal directory must contain PROPOSAL.md")
    return out


def _workshop_dir() -> Path:
    state = Path(os.environ.get("OPENCLAW_STATE_DIR") or Path.home() / ".openclaw")
    return state / "agents" / "main" / "agent" / "workshop-skills"


def main(argv: list[str]) -> None:
    here = Path(sys.argv[0]).resolve().parent
    with open(here / "calls.jsonl", "a") as log:
        log.write(json.dumps(argv) + "\n")
    behaviour = json.loads((here / "behaviour.json").read_text())
    if argv == ["--version"]:
        print(behaviour["version"])
        return
    if argv[:2] != ["skills", "workshop"] or len(argv) < 3:
        _fail(f"unknown command {' '.join(argv)}")
    action, args = argv[2], argv[3:]
    scripted = behaviour.get("fail", {}).get(action)
    if scripted:
        sys.stdout.write(scripted.get("stdout", ""))
        sys.stderr.write(scripted.get("stderr", ""))
        sys.exit(scripted.get("exit", 1))
    store = here / "workshop.json"
    data: dict[str, dict[str, Any]] = json.loads(store.read_text()) if store.exists() else {}
    positional = args[0] if args and not args[0].startswith("--") else None
    if action == "list":
        print(json.dumps({"proposals": [{k: v for k, v in p.items() if k != "files"}
                                        for p in data.values()]}))  # fmt: skip
        return
    if action in ("propose-create", "propose-update"):
        name = _option(args, "--name") if action == "propose-create" else positional
        assert name, args
        exists = (_workshop_dir() / name / "SKILL.md").exists()
        if action == "propose-create" and exists:
            _fail(f"Skill already exists in the Workshop: {name}")
        if action == "propose-update" and not exists:
            _fail(f"Skill Workshop can only update skills it generated: {name}")
        files = _read_draft(Path(_option(args, "--proposal-dir") or ""))
        wid = f"{name}-{len(data) + 1}"
        data[wid] = {"id": wid, "kind": action.split("-")[1], "status": "pending",
                     "skillName": name, "files": files,
                     "description": _option(args, "--description"),
                     "evidence": _option(args, "--evidence")}  # fmt: skip
        store.write_text(json.dumps(data))
        print(json.dumps({"record": data[wid], "content": files["PROPOSAL.md"]}))
        return
    record = data.get(positional or "")
    if record is None:
        _fail(f"Skill proposal not found: {positional}")
    assert record is not None
    if action == "inspect":
        print(json.dumps({"record": record, "content": record["files"]["PROPOSAL.md"]}))
        return
    if record["status"] != "pending":
        _fail(f"Only pending proposals can be changed. Current status: {record['status']}.")
    if action == "revise":
        record["files"] = _read_draft(Path(_option(args, "--proposal-dir") or ""))
        out: dict[str, Any] = {"record": record}
    elif action == "apply":
        live = _workshop_dir() / record["skillName"]
        for rel, text in record["files"].items():
            dst = live / ("SKILL.md" if rel == "PROPOSAL.md" else rel)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text)
        record["status"] = "applied"
        record["target"] = {"skillDir": str(live)}
        out = {"record": record, "targetSkillFile": str(live / "SKILL.md")}
    elif action == "reject":
        record["status"] = "rejected"
        record["statusReason"] = _option(args, "--reason")
        out = record
    else:
        _fail(f"unknown workshop action {action}")
    store.write_text(json.dumps(data))
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
