// What `npm start` prints once everything is up: where things are, the credentials, and requests to paste.

export interface BannerFacts {
  gatewayUrl: string;
  adminToken: string;
  apiKey: string;
  apiKeyFile: string;
  workerdPid: number | undefined;
  stateDir: string;
  demo: { nodeId: string; backendUrl: string; models: readonly string[] } | null;
}

export function banner(f: BannerFacts): string {
  const model = f.demo?.models[0] ?? "MODEL";
  const lines = [
    "",
    "Meshgate is running (local development).",
    "",
    `  Gateway      ${f.gatewayUrl}`,
    `  Admin token  ${f.adminToken}   (ADMIN_TOKEN in .dev.vars)`,
    `  API key      ${f.apiKey}   (saved in ${f.apiKeyFile})`,
    `  State        ${f.stateDir}`,
    `  workerd pid  ${f.workerdPid ?? "unknown"}`,
  ];
  if (f.demo) {
    lines.push(`  Node         ${f.demo.nodeId}`);
    lines.push(
      `               in front of a SIMULATED backend at ${f.demo.backendUrl} (models: ${f.demo.models.join(", ")})`,
    );
  } else {
    lines.push("  Nodes        none yet: start one with `npx node-agent start --gateway URL --upstream URL`");
  }
  lines.push(
    "",
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
    "",
    "Press Ctrl-C to stop.",
    "",
  );
  return lines.join("\n");
}
