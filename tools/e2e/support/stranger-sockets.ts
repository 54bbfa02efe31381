// A stranger holding sockets open to a node agent's public URL (node URLs are public in GET /v1/nodes): requests
// whose headers are sent whole and whose body is held back or dribbled a byte at a time, with no signature or with a
// signature that cannot be valid, and headers that never end. The flood keeps a fixed number of sockets in play,
// opening a new one shortly after the agent closes one, and records how long each lived, so a test can tell how
// quickly the agent lets go of them and whether it counts them as load.
import { connect, type Socket } from "node:net";
import { DISPATCH_NODE_HEADER, jwkThumbprint, newSeed, utf8, webCryptoSignerFromSeed } from "@meshgate/schemas";
import { signGatewayRequest } from "@meshgate/schemas/testing";

/**
 * - unsigned: no signature at all;
 * - forged: a fresh signature naming the gateway's key, made with another key;
 * - stale: the same, created ten minutes ago;
 * - unknown-key: a fresh signature by a key the gateway never published;
 * - slow-headers: a header line now and then, and never the blank line that ends them.
 */
export type StrangerKind = "unsigned" | "forged" | "stale" | "unknown-key" | "slow-headers";

export interface SocketLife {
  kind: StrangerKind;
  openedAt: number;
  /** When the agent closed it; null while it is open. */
  closedAt: number | null;
  /** The status line the agent answered with, if any. */
  status: string | null;
}

export interface StrangerFloodOptions {
  /** The agent's base URL, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** The node the forged requests address. */
  nodeId: string;
  /** The key id the gateway signs with (from /.well-known/meshgate.json), for forged and stale signatures. */
  gatewayKeyId: string;
  /** How many sockets of each kind to keep in play. */
  plan: Partial<Record<StrangerKind, number>>;
  /** Bodies are dribbled (a byte this often) on every other socket, held back entirely on the rest. */
  dribbleEveryMs?: number;
  /** A closed socket is replaced this long after it closed. */
  reopenAfterMs?: number;
  /** A bound on sockets opened in all, so the flood ends on its own whatever happens. */
  maxSockets?: number;
}

export interface StrangerFlood {
  /** Sockets open now. */
  open(): number;
  /** Every socket opened so far, open or closed. */
  lives(): readonly SocketLife[];
  /** Opens no more sockets; those still open stay open until the agent closes them. */
  stopReopening(): void;
  /** Destroys what is still open (clean-up). */
  destroy(): void;
}

const DECLARED_BODY_BYTES = 4096;
const CHAT_PATH = "/v1/chat/completions";

/** The request head a stranger of `kind` sends, ending with the blank line (except slow-headers, which never ends). */
async function requestHead(kind: StrangerKind, opts: StrangerFloodOptions): Promise<string> {
  const { host } = new URL(opts.url);
  if (kind === "slow-headers") return `POST ${CHAT_PATH} HTTP/1.1\r\nHost: ${host}\r\n`;
  const fields = new Headers({
    host,
    "content-type": "application/json",
    "content-length": String(DECLARED_BODY_BYTES),
    [DISPATCH_NODE_HEADER]: opts.nodeId,
  });
  if (kind !== "unsigned") {
    const keyId = kind === "unknown-key" ? jwkThumbprint : () => opts.gatewayKeyId;
    const { signer } = await webCryptoSignerFromSeed(newSeed(), keyId);
    const now = kind === "stale" ? Date.now() - 10 * 60_000 : Date.now();
    const body = utf8(" ".repeat(DECLARED_BODY_BYTES));
    await signGatewayRequest({
      url: `${opts.url}${CHAT_PATH}`,
      body,
      headers: fields,
      signer,
      nodeId: opts.nodeId,
      now,
    });
  }
  const lines = [...fields].map(([name, value]) => `${name}: ${value}`);
  return `POST ${CHAT_PATH} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

export function startStrangerFlood(opts: StrangerFloodOptions): StrangerFlood {
  const lives: SocketLife[] = [];
  const sockets = new Set<Socket>();
  const maxSockets = opts.maxSockets ?? 5_000;
  let reopening = true;
  let opened = 0;

  async function openOne(kind: StrangerKind, dribble: boolean): Promise<void> {
    if (!reopening || opened >= maxSockets) return;
    opened += 1;
    const head = await requestHead(kind, opts);
    const { hostname, port } = new URL(opts.url);
    const life: SocketLife = { kind, openedAt: Date.now(), closedAt: null, status: null };
    lives.push(life);
    const socket = connect({ host: hostname, port: Number(port) });
    sockets.add(socket);
    socket.write(head);
    // Slow headers always trickle (a header line at a time); bodies trickle on every other socket.
    const trickle = kind === "slow-headers" || dribble;
    let sent = 0;
    const timer = trickle
      ? setInterval(
          () => socket.write(kind === "slow-headers" ? `x-pad-${sent++}: a\r\n` : " "),
          opts.dribbleEveryMs ?? 500,
        )
      : undefined;
    socket.on("data", (chunk: Buffer) => (life.status ??= chunk.toString("latin1").split("\r\n", 1)[0] ?? null));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      sockets.delete(socket);
      life.closedAt = Date.now();
      setTimeout(() => void openOne(kind, dribble), opts.reopenAfterMs ?? 250);
    });
  }

  for (const [kind, count] of Object.entries(opts.plan) as [StrangerKind, number][]) {
    for (let i = 0; i < count; i++) void openOne(kind, i % 2 === 1);
  }
  return {
    open: () => sockets.size,
    lives: () => lives,
    stopReopening: () => (reopening = false),
    destroy: () => {
      reopening = false;
      for (const socket of sockets) socket.destroy();
    },
  };
}
