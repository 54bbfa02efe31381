import { describe, expect, it } from "vitest";
import { goalLine, loadModelLine } from "./bench-line.js";

describe("the bench's load-model line", () => {
  it("quotes the report's verdict", () => {
    const report = "## Today's design\n\n| a | b |\n\nGoal: no object above 250 req/s. Not met by: ApiKeys.\n";
    expect(goalLine(report)).toBe("Goal: no object above 250 req/s. Not met by: ApiKeys.");
  });

  it("says so when there is no table", () => {
    expect(loadModelLine("/nonexistent/edge.md")).toMatch(/no table yet/);
  });

  it("quotes this design's verdict and the one before it", () => {
    expect(loadModelLine()).toMatch(
      /^Durable Object load at production scale .*: Goal: .* Before issue 17 \(today\.md\): Not met by: /,
    );
  });
});
