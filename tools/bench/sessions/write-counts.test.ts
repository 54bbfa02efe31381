import { describe, expect, it } from "vitest";
import {
  HEARTBEAT,
  REGISTRY_CALLS,
  rowsWritten,
  SESSION_ALARM,
  SESSION_CLOSE,
  SESSION_FIRST_OPEN,
  SESSION_REOPEN,
  SESSION_STATE,
  SESSION_STATE_UNCHANGED,
} from "./write-counts.js";

describe("rowsWritten", () => {
  it("counts each path's table rows, and index entries on top", () => {
    expect(rowsWritten(SESSION_FIRST_OPEN)).toEqual({ rows: 9, withIndexes: 17 });
    expect(rowsWritten(SESSION_REOPEN)).toEqual({ rows: 6, withIndexes: 10 });
    expect(rowsWritten(SESSION_STATE)).toEqual({ rows: 2, withIndexes: 4 });
    expect(rowsWritten(SESSION_STATE_UNCHANGED)).toEqual({ rows: 0, withIndexes: 0 });
    expect(rowsWritten(SESSION_CLOSE)).toEqual({ rows: 1, withIndexes: 2 });
    expect(rowsWritten(SESSION_ALARM)).toEqual({ rows: 1, withIndexes: 1 });
  });

  it("counts at least three rows per heartbeat, as the design note says", () => {
    expect(rowsWritten(HEARTBEAT)).toEqual({ rows: 3, withIndexes: 7 });
  });
});

describe("REGISTRY_CALLS", () => {
  it("costs a new node two calls, a reconnect one, an unchanged state none", () => {
    expect(REGISTRY_CALLS.firstConnect).toBe(2);
    expect(REGISTRY_CALLS.reconnect).toBe(1);
    expect(REGISTRY_CALLS.unchangedState).toBe(0);
  });
});
