// acontext-mcp for OpenClaw: forwards turns to `acontext-mcp hook openclaw EVENT`, adds the
// project brief to the system prompt and the learned lesson matching each prompt to that prompt. The MCP server itself is declared in openclaw.plugin.json
// (`mcpServers.acontext`). Fail open everywhere: a missing, slow or broken acontext-mcp is
// logged and never surfaces as an error in the user's session.
import { spawn } from "node:child_process";
import { homedir } from "node:os";
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";

type Json = Record<string, unknown>;
type Logger = { info?: (m: string) => void; warn?: (m: string) => void; debug?: (m: string) => void };

interface Config {
  command: string;
  acontextHome?: string;
  capture: boolean;
  brief: boolean;
  lesson: boolean;
  timeoutMs: number;
  briefTimeoutMs: number;
}

const BRIEF_CACHE_MAX = 200;
const PROMPT_MAX_CHARS = 20_000; // of the prompt sent to the lesson lookup (it reads 16 words)

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? homedir() + p.slice(1) : p;
}

function readConfig(raw: unknown): Config {
  const c = (raw && typeof raw === "object" ? raw : {}) as Json;
  const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);
  const num = (v: unknown, d: number, lo: number, hi: number) =>
    typeof v === "number" && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d;
  const home = str(c.acontextHome);
  return {
    command: expandHome(str(c.command) ?? "acontext-mcp"),
    acontextHome: home ? expandHome(home) : undefined,
    capture: c.capture !== false,
    brief: c.brief !== false,
    lesson: c.lesson !== false,
    timeoutMs: num(c.timeoutMs, 10_000, 500, 60_000),
    briefTimeoutMs: num(c.briefTimeoutMs, 5_000, 200, 14_000),
  };
}

// --- Message normalization: pi-agent-core agent messages -> OpenAI Chat Completions ---
// Same rules as the reference plugin (text blocks joined, thinking dropped, tool calls as
// `tool_calls`, toolResult -> role "tool"), plus: user images kept as data-URL image parts, and
// each message keeps its `timestamp`, from which acontext-mcp derives a stable message id.

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((b: any) => b && b.type === "text" && typeof b.text === "string")
    .map((b: any) => b.text)
    .join("\n");
}

const TOOL_CALL_TYPES = new Set(["toolCall", "toolUse", "tool_use", "functionCall"]);

function normalizeOne(m: any): Json | null {
  if (!m || typeof m !== "object") return null;
  const stamp = typeof m.timestamp === "number" ? { timestamp: m.timestamp } : {};
  if (m.role === "user") {
    if (typeof m.content === "string") return m.content ? { role: "user", content: m.content, ...stamp } : null;
    if (!Array.isArray(m.content)) return null;
    const parts: Json[] = [];
    for (const b of m.content) {
      if (b?.type === "text" && typeof b.text === "string") parts.push({ type: "text", text: b.text });
      else if (b?.type === "image" && typeof b.data === "string" && typeof b.mimeType === "string")
        parts.push({ type: "image_url", image_url: { url: `data:${b.mimeType};base64,${b.data}` } });
    }
    if (!parts.length) return null;
    const onlyText = parts.every((p) => p.type === "text");
    return {
      role: "user",
      content: onlyText ? parts.map((p) => p.text).join("\n") : parts,
      ...stamp,
    };
  }
  if (m.role === "assistant") {
    if (m.content == null) return null;
    if (typeof m.content === "string") return m.content ? { role: "assistant", content: m.content, ...stamp } : null;
    if (!Array.isArray(m.content)) return null;
    const text = textOf(m.content);
    const calls = m.content
      .filter((b: any) => b && TOOL_CALL_TYPES.has(b.type) && b.id && b.name)
      .map((b: any) => {
        const args = b.arguments ?? b.input ?? {};
        return {
          id: String(b.id),
          type: "function",
          function: { name: String(b.name), arguments: typeof args === "string" ? args : JSON.stringify(args) },
        };
      });
    if (!text && !calls.length) return null;
    return { role: "assistant", content: text || null, ...(calls.length ? { tool_calls: calls } : {}), ...stamp };
  }
  if (m.role === "toolResult") {
    const id = m.toolCallId ?? m.toolUseId;
    if (!id) return null;
    return { role: "tool", tool_call_id: String(id), content: textOf(m.content), ...stamp };
  }
  return null; // system, compaction summaries, custom entries: not conversation turns
}

export function normalizeMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages)) return [];
  const out: Json[] = [];
  for (const m of messages) {
    try {
      const n = normalizeOne(m);
      if (n) out.push(n);
    } catch {
      // one odd message must not cost the rest of the turn
    }
  }
  return out;
}

// --- Running the hook process ---

// Resolves {ok: false} when the process could not run, failed or timed out; never rejects.
type HookResult = { ok: boolean; answer: Json | null };

function runHook(cfg: Config, log: Logger, event: string, payload: Json, timeoutMs: number): Promise<HookResult> {
  return new Promise((resolve) => {
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (answer: Json | null, problem?: string) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      if (problem) log.warn?.(`acontext: hook ${event} ${problem}`);
      resolve({ ok: !problem, answer });
    };
    const env = { ...process.env };
    if (cfg.acontextHome) env.ACONTEXT_HOME = cfg.acontextHome;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cfg.command, ["hook", "openclaw", event], { env, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      finish(null, `cannot start ${cfg.command}: ${String(e)}`);
      return;
    }
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      finish(null, `timed out after ${timeoutMs} ms (killed)`);
    }, timeoutMs);
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-2000)));
    child.on("error", (e) => finish(null, `failed to run ${cfg.command}: ${String(e)}`));
    child.on("close", (code) => {
      if (code !== 0) return finish(null, `exited ${code}: ${err.trim()}`);
      if (!out.trim()) return finish(null);
      try {
        const answer = JSON.parse(out);
        finish(answer && typeof answer === "object" ? (answer as Json) : null);
      } catch {
        finish(null, `printed non-JSON output: ${out.slice(0, 200)}`);
      }
    });
    child.stdin?.on("error", () => undefined); // EPIPE when the command died early
    try {
      child.stdin?.end(JSON.stringify(payload));
    } catch (e) {
      finish(null, `could not send input: ${String(e)}`);
    }
  });
}

function identity(ctx: any): Json {
  const pick = (k: string) => (typeof ctx?.[k] === "string" && ctx[k] ? { [k]: ctx[k] } : {});
  return {
    ...pick("sessionId"),
    ...pick("sessionKey"),
    ...pick("agentId"),
    cwd: typeof ctx?.workspaceDir === "string" && ctx.workspaceDir ? ctx.workspaceDir : process.cwd(),
  };
}

export default definePluginEntry({
  id: "acontext",
  name: "acontext-mcp",
  description: "Local skill memory: turn capture, session brief, acontext MCP tools",
  register(api: any) {
    const cfg = readConfig(api.pluginConfig);
    const log: Logger = api.logger ?? console;
    const briefs = new Map<string, string | null>(); // sessionId -> brief, computed once per session

    const forward = (event: string) => async (ev: any, ctx: any) => {
      try {
        const payload: Json = { ...identity(ctx) };
        if (Array.isArray(ev?.messages)) payload.messages = normalizeMessages(ev.messages);
        for (const k of ["success", "error", "runId", "durationMs", "messageCount", "compactingCount", "tokenCount", "reason"]) {
          if (ev?.[k] !== undefined) payload[k] = k === "error" ? String(ev[k]) : ev[k];
        }
        if (event === "agent_end" && !(payload.messages as Json[] | undefined)?.length) return;
        await runHook(cfg, log, event, payload, cfg.timeoutMs);
      } catch (e) {
        log.warn?.(`acontext: ${event} capture failed: ${String(e)}`);
      }
      return undefined;
    };

    if (cfg.capture) {
      api.on("agent_end", forward("agent_end"));
      api.on("before_compaction", forward("before_compaction"));
      api.on("before_reset", forward("before_reset"));
    }
    // The session's brief (system context, computed once per session) and this turn's lesson:
    // the one learned entry matching the prompt, if any (prepended to the prompt, every turn).
    const briefFor = async (who: Json): Promise<string | null> => {
      const key = String(who.sessionId ?? who.sessionKey ?? "");
      let brief = key ? briefs.get(key) : undefined;
      if (brief === undefined) {
        const result = await runHook(cfg, log, "before_prompt_build", who, cfg.briefTimeoutMs);
        const text = result.answer?.additionalContext;
        brief = typeof text === "string" && text.trim() ? text : null;
        if (key && result.ok) {
          if (briefs.size >= BRIEF_CACHE_MAX) briefs.delete(briefs.keys().next().value as string);
          briefs.set(key, brief);
        }
      }
      return brief;
    };
    const lessonFor = async (ev: any, who: Json): Promise<string | null> => {
      // currentUserMessage: this turn's request as typed ("" = none); older hosts: prompt.
      const asked = typeof ev?.currentUserMessage === "string" ? ev.currentUserMessage : ev?.prompt;
      if (typeof asked !== "string" || !asked.trim()) return null;
      const payload = { ...who, prompt: asked.slice(0, PROMPT_MAX_CHARS) };
      const result = await runHook(cfg, log, "prompt", payload, cfg.briefTimeoutMs);
      const text = result.answer?.additionalContext;
      return typeof text === "string" && text.trim() ? text : null;
    };

    if (cfg.brief || cfg.lesson) {
      // OpenClaw 2026.9 dropped before_agent_start; before_prompt_build runs at that point.
      api.on("before_prompt_build", async (ev: any, ctx: any) => {
        try {
          const who = identity(ctx);
          // The brief first: it records the entries it shows, so the lesson does not repeat
          // one of them (only the session's first turn computes a brief; later ones are cached).
          const brief = cfg.brief ? await briefFor(who) : null;
          const lesson = cfg.lesson ? await lessonFor(ev, who) : null;
          const out: Json = {};
          if (brief) out.appendSystemContext = brief;
          if (lesson) out.prependContext = lesson;
          return Object.keys(out).length ? out : undefined;
        } catch (e) {
          log.warn?.(`acontext: brief or lesson failed: ${String(e)}`);
          return undefined;
        }
      });
    }
  },
});
