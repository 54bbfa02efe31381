// A pure function's answer, or why it gives none, told without HTTP: the caller decides how a refusal reaches anyone
// (a route turns it into the client's error with http/refusal.ts, keeping every status, code and message as they were).

export type Result<T, R> = { ok: true; value: T } | { ok: false; refusal: R };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function refuse<R>(refusal: R): { ok: false; refusal: R } {
  return { ok: false, refusal };
}

/** The caller's input is wrong: `param` names the field at fault, `code` says how (for a program to read). */
export interface Invalid {
  kind: "invalid";
  param: string;
  code: string;
  message: string;
}

export function invalid(param: string, message: string, code = "invalid_value"): Invalid {
  return { kind: "invalid", param, code, message };
}

/**
 * The operator's configuration is wrong: nothing the caller sends can fix it. `message` is what a caller may be told,
 * `detail` (naming the setting and its value) is for the operator's log only.
 */
export interface Misconfigured {
  kind: "misconfigured";
  message: string;
  detail: string;
}
