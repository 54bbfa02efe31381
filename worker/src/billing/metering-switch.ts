// Benchmarks measure what metering costs a request by comparing against the same run without it.

/**
 * BENCH_UNMETERED="true" turns reservations and usage recording off. Honoured only together with the local-development
 * switch ALLOW_PRIVATE_NODE_URLS="true", so a deployment can never be made to serve for free by one stray variable.
 */
export function meteringOff(env: {
  BENCH_UNMETERED?: string | undefined;
  ALLOW_PRIVATE_NODE_URLS?: string | undefined;
}): boolean {
  return env.BENCH_UNMETERED === "true" && env.ALLOW_PRIVATE_NODE_URLS === "true";
}
