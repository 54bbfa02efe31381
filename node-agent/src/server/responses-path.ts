/** The Responses API's path: proxied only by a node whose upstream serves it (`--responses-api`), metered by its events. */
export const RESPONSES_PATH = "/v1/responses";
