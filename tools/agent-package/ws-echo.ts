// A ws client and server that echo one message: bundled by package.e2e.test.ts the way the agent is, to show ws
// (CommonJS, with optional native add-ons) runs from the bundle. Prints `echo hello` and exits.
import { WebSocket, WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
server.on("connection", (socket) => socket.on("message", (message) => socket.send(`echo ${String(message)}`)));
server.on("listening", () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`unexpected address ${String(address)}`);
  const client = new WebSocket(`ws://127.0.0.1:${address.port}`);
  client.on("open", () => client.send("hello"));
  client.on("message", (message) => {
    process.stdout.write(`${String(message)}\n`);
    client.close();
    server.close();
  });
});
