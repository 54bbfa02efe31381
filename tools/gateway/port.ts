// Whether a port is free, asked before starting a server on it: workerd's own failure to bind is a fatal stack trace.
import { createServer } from "node:net";

export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`${host}:${port} is already in use`);
  }

  /** One line for a person: what is wrong and the two ways out. `command` is how they started it, e.g. "npm start". */
  advice(command: string): string {
    const other = this.port < 65535 ? this.port + 1 : this.port - 1;
    return `${command} failed: port ${this.port} on ${this.host} is already in use (by another npm start or npm run dev?). Stop what listens there, or choose another port: ${command} -- --port ${other}`;
  }
}

/** Rejects with PortInUseError if something listens on host:port; port 0 (any free port) always passes. */
export async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new PortInUseError(host, port) : err),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
