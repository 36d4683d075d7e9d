"""Test and build commands in tool results, read as progress evidence without any LLM.

Trigger: the agent ran a shell command (Claude Code's `Bash`) and its result came back. Why: a
failing or passing test or build run is the most concrete evidence of how far a task got, and
skill learning needs it. Outcome: `check_kind` says whether a command runs tests, a build, a
type check or a linter; `read_outcome` turns the command and its result into an `Evidence`
whose `line()` is a first-person progress line such as
"Ran `pytest tests/test_x.py`: 3 failed, 12 passed (FAILED tests/test_x.py::test_y - ...)".

Claude Code's Bash results say "Exit code N" on their first line and set `is_error` when a
command fails; a passing command's result is just its output. Counts come from the summary
lines of common runners (pytest, unittest, jest/vitest, mocha, cargo, go, tsc); a run without
a recognizable summary is reported by its exit status alone.

Besides check runs, `read_commit` reads a `git commit` and `read_failure` a shell command that
failed (Claude Code's `PostToolUseFailure`), as outcome evidence (observe/outcome.py). A
non-zero exit that is an answer rather than a failure (grep finding nothing, diff finding a
difference, `test`) is no failure. Stdlib only.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from acontext_mcp.text import clip, one_line

_SEGMENT_SPLIT = re.compile(r"&&|\|\||[;|\n]")
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Wrappers that run the real command: strip them (with their own arguments where fixed).
_WRAPPERS = {"sudo", "time", "env", "nice", "nohup", "exec", "command", "xvfb-run"}
_RUNNERS = {  # "<runner> run|exec X": the command is X
    "uv": {"run"},
    "poetry": {"run"},
    "pdm": {"run"},
    "hatch": {"run"},
    "pipenv": {"run"},
    "rye": {"run"},
    "bundle": {"exec"},
    "pnpm": {"exec", "dlx"},
    "yarn": {"dlx", "exec"},
    "npm": {"exec"},
}
_PY_TEST_MODULES = {"pytest": "test", "unittest": "test", "tox": "test", "nox": "test"}
_PY_OTHER_MODULES = {"mypy": "typecheck", "pyright": "typecheck", "ruff": "lint", "build": "build"}
_DIRECT = {
    "pytest": "test",
    "py.test": "test",
    "tox": "test",
    "nox": "test",
    "nosetests": "test",
    "jest": "test",
    "vitest": "test",
    "mocha": "test",
    "ava": "test",
    "karma": "test",
    "rspec": "test",
    "phpunit": "test",
    "ctest": "test",
    "tsc": "typecheck",
    "vue-tsc": "typecheck",
    "mypy": "typecheck",
    "pyright": "typecheck",
    "eslint": "lint",
    "flake8": "lint",
    "pylint": "lint",
}
_SUBCOMMANDS = {  # tool -> {subcommand: kind}
    "cargo": {
        "test": "test",
        "nextest": "test",
        "build": "build",
        "check": "build",
        "clippy": "lint",
    },
    "go": {"test": "test", "build": "build", "vet": "lint"},
    "dotnet": {"test": "test", "build": "build"},
    "swift": {"test": "test", "build": "build"},
    "deno": {"test": "test", "check": "typecheck", "lint": "lint"},
    "bun": {"test": "test"},
    "mix": {"test": "test", "compile": "build"},
    "bazel": {"test": "test", "build": "build"},
    "zig": {"test": "test", "build": "build"},
    "ruff": {"check": "lint"},
    "rake": {"test": "test", "spec": "test"},
    "playwright": {"test": "test"},
    "mvn": {"test": "test", "verify": "test", "package": "build", "compile": "build"},
    "gradle": {"test": "test", "check": "test", "build": "build", "assemble": "build"},
    "gradlew": {"test": "test", "check": "test", "build": "build", "assemble": "build"},
}
_PACKAGE_MANAGERS = {"npm", "pnpm", "yarn", "bun"}
_MAKES = {"make", "gmake", "ninja"}
_BACKGROUND = re.compile(r"running in (the )?background", re.IGNORECASE)
_EXIT = re.compile(r"^\s*(?:Error:\s*)?Exit code (-?\d+)", re.IGNORECASE)
_COUNT = re.compile(
    r"(\d+)\s+(failed|failing|failures?|passed|passing|errors?|skipped|pending)\b", re.IGNORECASE
)
_NORMAL = {
    "failed": "failed",
    "failing": "failed",
    "failure": "failed",
    "failures": "failed",
    "passed": "passed",
    "passing": "passed",
    "error": "errors",
    "errors": "errors",
    "skipped": "skipped",
    "pending": "skipped",
}
_COUNT_ORDER = ("failed", "errors", "passed", "skipped")
_DETAIL = re.compile(
    r"^(FAILED |ERROR |--- FAIL|FAIL\b|npm ERR!|error(\[|:| TS\d)|.*\berror TS\d|.*\*\*\*"
    r"|\S+:\d+:\d+: error|E\s+\w*Error)"
)
MAX_COMMAND = 120
MAX_DETAIL = 160


@dataclass(frozen=True)
class Evidence:
    """One finished test/build run."""

    command: str
    kind: str  # test | build | typecheck | lint
    passed: bool
    exit_code: int | None
    counts: dict[str, int] = field(default_factory=dict)
    detail: str | None = None

    @property
    def result(self) -> str:
        """`passed` or `failed`: the `task_evidence.result` of this run."""
        return "passed" if self.passed else "failed"

    def line(self) -> str:
        """The first-person progress line appended to a task."""
        shown = one_line(self.command.replace("`", "'"), MAX_COMMAND)
        return f"Ran `{shown}`: {self.summary()}"

    def summary(self) -> str:
        """The run's result in words: counts, exit code and the first failure line."""
        if self.counts:
            result = ", ".join(f"{self.counts[k]} {k}" for k in _COUNT_ORDER if k in self.counts)
            if not self.passed and not (self.counts.get("failed") or self.counts.get("errors")):
                result += f"; exit code {self.exit_code}" if self.exit_code else "; failed"
        elif self.passed:
            result = "succeeded"
        elif self.exit_code is not None:
            result = f"failed with exit code {self.exit_code}"
        else:
            result = "failed"
        if self.detail and not self.passed:
            result += f" ({self.detail})"
        return result


def _tokens(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:
        return segment.split()


def _strip_wrappers(tokens: list[str]) -> list[str]:
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        base = tok.rsplit("/", 1)[-1]
        if _ENV_ASSIGN.match(tok) or base in _WRAPPERS or (tok.startswith("-") and i > 0):
            i += 1
        elif base == "timeout" and i + 1 < len(tokens):
            i += 2  # timeout DURATION CMD
        elif base in ("npx", "bunx", "pnpx"):
            i += 1
        elif base in _RUNNERS and i + 1 < len(tokens) and tokens[i + 1] in _RUNNERS[base]:
            i += 2
        else:
            break
    return tokens[i:]


def _segment_kind(tokens: list[str]) -> str | None:
    tokens = _strip_wrappers(tokens)
    if not tokens:
        return None
    tool = tokens[0].rsplit("/", 1)[-1]
    args = tokens[1:]
    if re.fullmatch(r"python(\d(\.\d+)?)?|pypy3?", tool):
        if len(args) >= 2 and args[0] == "-m":
            module = args[1].split(".")[0]
            return _PY_TEST_MODULES.get(module) or _PY_OTHER_MODULES.get(module)
        return None
    if tool in _DIRECT:
        return _DIRECT[tool]
    if tool in _SUBCOMMANDS:
        sub = next((a for a in args if not a.startswith("-")), "")
        return _SUBCOMMANDS[tool].get(sub)
    if tool in _PACKAGE_MANAGERS:
        words = [a for a in args if not a.startswith("-")]
        if not words:
            return None
        script = words[1] if words[0] in ("run", "run-script") and len(words) > 1 else words[0]
        if words[0] not in ("run", "run-script", "test", "t", "build", "lint", "typecheck"):
            return None
        return _script_kind(script)
    if tool in _MAKES:
        targets = [a for a in args if not a.startswith("-") and "=" not in a]
        if any(_script_kind(t) == "test" for t in targets):
            return "test"
        return "build"
    if tool == "cmake" and "--build" in args:
        return "build"
    return None


def _script_kind(name: str) -> str | None:
    name = name.lower()
    if name in ("t",) or name.startswith(("test", "check", "e2e", "spec")):
        return "test"
    if name.startswith(("build", "compile")):
        return "build"
    if name.startswith(("typecheck", "type-check", "tsc")):
        return "typecheck"
    if name.startswith("lint"):
        return "lint"
    return None


def check_kind(command: str) -> str | None:
    """'test', 'build', 'typecheck' or 'lint' when a shell command runs one; else None."""
    if not isinstance(command, str) or not command.strip():
        return None
    kinds = [_segment_kind(_tokens(seg)) for seg in _SEGMENT_SPLIT.split(command)]
    found = [k for k in kinds if k]
    if not found:
        return None
    for preferred in ("test", "build", "typecheck", "lint"):
        if preferred in found:
            return preferred
    return found[0]


def _counts(lines: list[str]) -> dict[str, int]:
    mocha = {}
    for line in lines:  # mocha: "  4 passing (10ms)" / "  1 failing" / "  2 pending" lines
        match = re.match(r"^\s*(\d+) (passing|failing|pending)\b", line)
        if match:
            mocha[_NORMAL[match.group(2)]] = int(match.group(1))
    if mocha:
        return mocha
    for line in reversed(lines):
        unittest = re.match(r"^(FAILED|OK)\b\s*(\((.*)\))?", line.strip())
        if unittest:
            ran = next((m for m in map(re.compile(r"^Ran (\d+) tests?").match, lines) if m), None)
            counts: dict[str, int] = {}
            for key, value in re.findall(r"(\w+)=(\d+)", unittest.group(3) or ""):
                name = {"failures": "failed", "errors": "errors", "skipped": "skipped"}.get(key)
                if name:
                    counts[name] = counts.get(name, 0) + int(value)
            if ran:
                bad = counts.get("failed", 0) + counts.get("errors", 0)
                counts["passed"] = max(0, int(ran.group(1)) - bad - counts.get("skipped", 0))
            if counts:
                return counts
        found = _COUNT.findall(line)
        if found:
            counts = {}
            for value, word in found:
                name = _NORMAL[word.lower()]
                counts[name] = counts.get(name, 0) + int(value)
            return counts
        tsc = re.match(r"^Found (\d+) errors?\b", line.strip())
        if tsc:
            return {"errors": int(tsc.group(1))}
    return {}


def _detail(lines: list[str]) -> str | None:
    for line in lines:
        text = line.strip()
        if text and _DETAIL.match(text) and not text.startswith("FAILED ("):
            return clip(text, MAX_DETAIL)
    return None


def read_outcome(command: str, text: str, is_error: bool | None) -> Evidence | None:
    """The evidence in one test/build command's result; None when the command is not a
    test/build run or its result is no outcome (a command sent to the background)."""
    kind = check_kind(command)
    if kind is None or not isinstance(text, str):
        return None
    if _BACKGROUND.search(text[:300]) and "Exit code" not in text[:40]:
        return None
    lines = text.splitlines()
    match = _EXIT.match(text)
    exit_code = int(match.group(1)) if match else (None if is_error else 0)
    if match:
        lines = lines[1:]
    counts = _counts(lines)
    bad = counts.get("failed", 0) + counts.get("errors", 0)
    passed = not is_error and exit_code in (0, None) and bad == 0
    detail = None if passed else _detail(lines)
    return Evidence(command.strip(), kind, passed, exit_code, counts, detail)


# Commands whose non-zero exit is an answer ("no match", "they differ"), not a failure.
_ANSWERING = {"grep", "egrep", "fgrep", "rg", "ag", "diff", "cmp", "test", "[", "which", "pgrep"}


def _segments(command: str) -> list[list[str]]:
    return [_strip_wrappers(_tokens(seg)) for seg in _SEGMENT_SPLIT.split(command)]


def _git_subcommand(tokens: list[str]) -> str | None:
    if not tokens or tokens[0].rsplit("/", 1)[-1] != "git":
        return None
    args, i = tokens[1:], 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-C", "-c", "--git-dir", "--work-tree") else 1
    return args[i] if i < len(args) else None


def is_commit(command: str) -> bool:
    """Whether a shell command makes a git commit (`git commit`, `git -C dir commit ...`)."""
    if not isinstance(command, str):
        return False
    return any(_git_subcommand(seg) == "commit" for seg in _segments(command))


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return clip(line.strip(), MAX_DETAIL)
    return None


def _exit_code(text: str, is_error: bool | None) -> int | None:
    match = _EXIT.match(text)
    return int(match.group(1)) if match else (None if is_error else 0)


def read_commit(command: str, text: str, is_error: bool | None) -> Evidence | None:
    """A `git commit` and whether it was made (kind `commit`); None for other commands."""
    if not is_commit(command) or not isinstance(text, str):
        return None
    exit_code = _exit_code(text, is_error)
    passed = not is_error and exit_code in (0, None)
    body = text.split("\n", 1)[1] if _EXIT.match(text) else text
    return Evidence(command.strip(), "commit", passed, exit_code, {}, _first_line(body))


def read_failure(command: str, text: str, is_error: bool | None) -> Evidence | None:
    """A shell command that failed (kind `tool_failure`): a check run, a commit, or a command
    whose non-zero exit is an answer (grep, diff, test ...) is not one."""
    if not isinstance(command, str) or not command.strip() or not isinstance(text, str):
        return None
    if check_kind(command) is not None or is_commit(command):
        return None
    exit_code = _exit_code(text, is_error)
    if not is_error and exit_code in (0, None):
        return None
    segments = [seg for seg in _segments(command) if seg]
    if segments and segments[-1][0].rsplit("/", 1)[-1] in _ANSWERING and exit_code == 1:
        return None
    body = text.split("\n", 1)[1] if _EXIT.match(text) else text
    return Evidence(command.strip(), "tool_failure", False, exit_code, {}, _first_line(body))
