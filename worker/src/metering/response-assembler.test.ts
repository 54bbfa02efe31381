import { describe, expect, it } from "vitest";
import { ResponseAssembler } from "./response-assembler.js";

describe("ResponseAssembler", () => {
  it("answers with the response the last event carries, whatever came before", () => {
    const a = new ResponseAssembler();
    const response = { object: "response", status: "incomplete", output: [] };
    a.add({ type: "response.created", response: { object: "response", status: "in_progress" } });
    a.add({ type: "response.output_text.delta", delta: "hi" });
    expect(a.result()).toBeNull();
    a.add({ type: "response.incomplete", response });
    expect(a.result()).toEqual(response);
    expect(a.error).toBeNull();
  });

  it("keeps the first error event, and has no answer without a last event that carries a response", () => {
    const a = new ResponseAssembler();
    a.add({ type: "error", message: "first" });
    a.add({ type: "response.failed", response: {} });
    a.add({ type: "response.completed" });
    expect(a.error).toEqual({ type: "error", message: "first" });
    expect(a.result()).toBeNull();
  });
});
