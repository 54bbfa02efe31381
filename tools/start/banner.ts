// What `npm start` and `npm run dev` print once everything is up: where things are, the credentials, lines that put
// them in the shell (the README's snippets read $MESHGATE_URL and $MESHGATE_API_KEY), and requests to paste.
import type { DemoNode } from "./demo.js";

export interface BannerFacts {
  /** The first line, e.g. "Meshgate is running (local development)." */
  title: string;
  gatewayUrl: string;
  adminToken: string;
  apiKey: string;
  apiKeyFile: string;
  /** Labelled process ids worth knowing, e.g. ["workerd pid", 1234]. */
  pids: [label: string, pid: number | undefined][];
  stateDir: string;
  /** Said after the state directory, e.g. whose state it is. */
  stateNote?: string;
  demo: DemoNode | null;
}

const field = (label: string, value: string) => `  ${label.padEnd(12)} ${value}`;

function facts(f: BannerFacts): string[] {
  const lines = [
    field("Gateway", f.gatewayUrl),
    field("Pages", `${f.gatewayUrl}/status   ${f.gatewayUrl}/usage   (in a browser; the usage page asks for the key)`),
    field("Admin token", `${f.adminToken}   (ADMIN_TOKEN in .dev.vars)`),
    field("API key", `${f.apiKey}   (saved in ${f.apiKeyFile})`),
    field("State", f.stateNote ? `${f.stateDir}   (${f.stateNote})` : f.stateDir),
    ...f.pids.map(([label, pid]) => field(label, String(pid ?? "unknown"))),
  ];
  if (f.demo) {
    lines.push(field("Node", f.demo.nodeId));
    lines.push(
      `               in front of a SIMULATED backend at ${f.demo.backendUrl} (models: ${f.demo.models.join(", ")})`,
    );
  } else {
    lines.push(
      field("Nodes", `none yet: start one with \`npx node-agent start --gateway ${f.gatewayUrl} --upstream URL\``),
    );
  }
  return lines;
}

/** Shell lines to paste as they are: the key is URL-safe base64 and the URL has no quotes, so neither needs quoting. */
function exports(f: BannerFacts): string[] {
  return [
    "To use the README's snippets in another shell, paste there:",
    "",
    `  export MESHGATE_URL=${f.gatewayUrl}`,
    `  export MESHGATE_API_KEY=${f.apiKey}`,
  ];
}

function tryIt(f: BannerFacts): string[] {
  const model = f.demo?.models[0] ?? "MODEL";
  return [
    "Try it:",
    "",
    `  curl ${f.gatewayUrl}/v1/chat/completions \\`,
    `    -H "Authorization: Bearer ${f.apiKey}" \\`,
    `    -H "Content-Type: application/json" \\`,
    `    -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
    "",
    "  // Node.js, with the official SDK (npm install openai):",
    `  import OpenAI from "openai";`,
    `  const client = new OpenAI({ baseURL: "${f.gatewayUrl}/v1", apiKey: "${f.apiKey}" });`,
    `  const reply = await client.chat.completions.create({ model: "${model}", messages: [{ role: "user", content: "Hello!" }] });`,
    "  console.log(reply.choices[0].message.content);",
  ];
}

export function banner(f: BannerFacts): string {
  return ["", f.title, "", ...facts(f), "", ...exports(f), "", ...tryIt(f), "", "Press Ctrl-C to stop.", ""].join("\n");
}
