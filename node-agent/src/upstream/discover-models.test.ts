import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { discoverModels } from "./discover-models.js";

describe("discoverModels", () => {
  it("keeps vLLM's max_model_len as the context length only when the gateway would accept it", async () => {
    const entries = [
      { id: "vllm", owned_by: "vllm", max_model_len: 32768 },
      { id: "as-text", max_model_len: "4096" },
      { id: "zero", max_model_len: 0 },
      { id: "huge", max_model_len: 20_000_000 },
      { id: "fraction", max_model_len: 1.5 },
      { id: "ollama", owned_by: "library" },
    ];
    const server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: entries })),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const found = await discoverModels(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      expect(found).toEqual({
        models: [
          { id: "vllm", owned_by: "vllm", context_length: 32768 },
          { id: "as-text" },
          { id: "zero" },
          { id: "huge" },
          { id: "fraction" },
          { id: "ollama", owned_by: "library" },
        ],
        skipped: 0,
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
