// Spawning child processes and owning signals for `npm start` and the end-to-end tests.
export { ManagedProcess, spawnProcess, type Exit, type SpawnOptions } from "./child.js";
export { onLines, prefixedSink, type LineSink } from "./lines.js";
export { installShutdownHandlers, onExit, onShutdown, shutdown, shutdownWithParent } from "./shutdown.js";
export { pollUntil, waitForHttp, withTimeout, type PollOptions } from "./wait.js";
export { allProcesses, readProcStat, type ProcStat } from "./proc-stat.js";
export { NODE_AGENT_BIN, startNodeAgent, type NodeAgent, type NodeAgentOptions } from "./node-agent.js";
