import { createServer, request, type IncomingMessage } from "node:http";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { memorySocketPair } from "./memory-socket.js";

describe("in-memory socket pair", () => {
  it("carries bytes both ways, and each end's end", async () => {
    const [a, b] = memorySocketPair();
    const read: Buffer[] = [];
    b.on("data", (chunk: Buffer) => read.push(chunk));
    a.end("hello");
    await once(b, "end");
    expect(Buffer.concat(read).toString()).toBe("hello");
    b.end("back");
    const [reply] = (await once(a, "data")) as [Buffer];
    expect(reply.toString()).toBe("back");
  });

  it("holds a writer back until the reader reads (backpressure)", async () => {
    const [a, b] = memorySocketPair();
    const big = Buffer.alloc(1024 * 1024);
    expect(a.write(big)).toBe(false);
    let drained = false;
    a.once("drain", () => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    b.resume();
    await once(a, "drain");
  });

  it("closes both ends when either is destroyed", async () => {
    const [a, b] = memorySocketPair();
    a.destroy();
    await once(b, "close");
    expect(b.destroyed).toBe(true);
  });

  it("carries an HTTP exchange between Node's own client and server", async () => {
    const server = createServer((req, res) => {
      req.resume().once("end", () => res.end(`${req.method} ${req.url} ${req.headers.host}`));
    });
    const [client, serverEnd] = memorySocketPair();
    server.emit("connection", serverEnd);
    const req = request({
      method: "POST",
      path: "/v1/x",
      headers: ["host", "session.invalid", "content-length", "2", "connection", "close"],
      createConnection: () => client,
    });
    req.end("{}");
    const [res] = (await once(req, "response")) as [IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    expect(res.statusCode).toBe(200);
    expect(Buffer.concat(chunks).toString()).toBe("POST /v1/x session.invalid");
  });
});
