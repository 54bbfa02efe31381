// How often the gateway challenges a node whose URL is unproven. Each challenge is a request the Worker makes to a
// URL the node chose, so they back off: 10 s, 20 s, 40 s … at most every 5 minutes, until the node proves its URL.

export const CHALLENGE_RETRY_MS = 10_000;
export const CHALLENGE_RETRY_MAX_MS = 5 * 60_000;

/** The wait after the last challenge, given how many were sent since the node's last proof. */
export function challengeDelay(challengesSent: number): number {
  return Math.min(CHALLENGE_RETRY_MS * 2 ** Math.max(0, challengesSent - 1), CHALLENGE_RETRY_MAX_MS);
}
