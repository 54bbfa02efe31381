import { describe, expect, it } from "vitest";
import {
  HEARTBEAT,
  rowsWritten,
  SESSION_ALARM,
  SESSION_CLOSE,
  SESSION_FIRST_OPEN_EXTRA,
  SESSION_OPEN,
  SESSION_STATE,
} from "./write-counts.js";

describe("rowsWritten", () => {
  it("counts each path's table rows, and index entries on top", () => {
    expect(rowsWritten(SESSION_OPEN)).toEqual({ rows: 6, withIndexes: 8 });
    expect(rowsWritten([...SESSION_OPEN, ...SESSION_FIRST_OPEN_EXTRA])).toEqual({ rows: 7, withIndexes: 13 });
    expect(rowsWritten(SESSION_STATE)).toEqual({ rows: 1, withIndexes: 3 });
    expect(rowsWritten(SESSION_CLOSE)).toEqual({ rows: 1, withIndexes: 2 });
    expect(rowsWritten(SESSION_ALARM)).toEqual({ rows: 1, withIndexes: 1 });
  });

  it("counts at least three rows per heartbeat, as the design note says", () => {
    expect(rowsWritten(HEARTBEAT)).toEqual({ rows: 3, withIndexes: 7 });
  });
});
