// A client that sends a request over a raw socket and hangs up as soon as the answer's first bytes arrive: the way
// to leave mid-stream that no HTTP client library's abort can blur (it closes the connection at once).
import { connect } from "node:net";

export interface HungUp {
  /** The status line, e.g. "HTTP/1.1 200 OK". */
  status: string;
  /** The answer's x-request-id ("" when absent). */
  requestId: string;
}

export function postThenHangUp(gatewayUrl: string, apiKey: string, path: string, body: unknown): Promise<HungUp> {
  const { hostname, port } = new URL(gatewayUrl);
  const text = JSON.stringify(body);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    `Authorization: Bearer ${apiKey}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(text)}`,
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head.join("\r\n")}\r\n\r\n${text}`));
    socket.once("data", (first) => {
      socket.destroy();
      const answer = first.toString("latin1");
      const requestId = /^x-request-id: *(\S+)/im.exec(answer)?.[1] ?? "";
      resolve({ status: answer.split("\r\n")[0] ?? "", requestId });
    });
    socket.once("error", reject);
  });
}
