// Tool calling, as a model that always uses a tool when it may: a request offering tools (tool_choice not "none")
// whose last message is not a tool's result is answered with a call to the chosen tool (the named one, else the
// first), its arguments made deterministically from the tool's JSON Schema. After a tool's result the model answers
// in text as usual. Enough for clients' tool round trips to be tested end to end.
import { countTokens } from "./tokenizer.js";
import type { JsonObject } from "./http-io.js";

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface FunctionTool {
  name: string;
  parameters: unknown;
}

function functionTools(body: JsonObject): FunctionTool[] {
  const tools = body["tools"];
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((t: unknown) => {
    const fn = (t as { type?: unknown; function?: { name?: unknown; parameters?: unknown } }).function;
    return typeof fn?.name === "string" ? [{ name: fn.name, parameters: fn.parameters }] : [];
  });
}

function lastRole(body: JsonObject): unknown {
  const messages = body["messages"];
  return Array.isArray(messages) ? (messages.at(-1) as { role?: unknown } | undefined)?.role : undefined;
}

/** A value of the schema's type: what a model would fill in, the same every time. */
function sampleValue(schema: unknown, name: string): unknown {
  const s = (schema ?? {}) as { type?: unknown; enum?: unknown[]; properties?: Record<string, unknown> };
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (s.type) {
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, sampleValue(v, k)]));
    default:
      return `${name}-value`;
  }
}

/** The tool call this request gets, or null when the model should answer in text. */
export function toolCallFor(body: JsonObject, id: string): ToolCall | null {
  const tools = functionTools(body);
  const choice = body["tool_choice"];
  if (tools.length === 0 || choice === "none" || lastRole(body) === "tool") return null;
  const named = (choice as { function?: { name?: unknown } } | undefined)?.function?.name;
  const tool = tools.find((t) => t.name === named) ?? tools[0]!;
  return { id, name: tool.name, arguments: JSON.stringify(sampleValue(tool.parameters ?? { type: "object" }, "")) };
}

/** Completion tokens a tool call counts for: its name and arguments, as the simulated tokenizer counts them. */
export function toolCallTokens(call: ToolCall): number {
  return Math.max(1, countTokens(`${call.name} ${call.arguments}`));
}

/** The arguments in streamed fragments, as models send them. */
export function argumentFragments(args: string, size = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out.length > 0 ? out : [""];
}
