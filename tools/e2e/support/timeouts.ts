// Backstop timeouts for end-to-end tests, which start workerd and node agents on a possibly loaded 2-core machine.
// The tests wait on conditions with their own, more specific deadlines; these only catch a hang.

/** For `describe(name, E2E, ...)`: each test's limit. */
export const E2E = { timeout: 60_000 };
/** For `beforeAll(fn, SETUP_TIMEOUT_MS)`: starting a whole cluster. */
export const SETUP_TIMEOUT_MS = 120_000;
