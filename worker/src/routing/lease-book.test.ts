import { describe, expect, it } from "vitest";
import { LeaseBook } from "./lease-book.js";

describe("LeaseBook", () => {
  it("counts each node's leases exactly through grants and releases", () => {
    const book = new LeaseBook();
    book.grant({ id: "a", nodeId: "n1", expiresAt: 100 });
    book.grant({ id: "b", nodeId: "n1", expiresAt: 100 });
    book.grant({ id: "c", nodeId: "n2", expiresAt: 100 });
    expect(book.held("n1")).toBe(2);
    expect(book.held("n2")).toBe(1);
    expect(book.release("a")?.nodeId).toBe("n1");
    expect(book.held("n1")).toBe(1);
    expect(book.size).toBe(2);
  });

  it("gives a lease back once: a second release changes nothing", () => {
    const book = new LeaseBook([{ id: "a", nodeId: "n1", expiresAt: 100 }]);
    expect(book.release("a")).not.toBeNull();
    expect(book.release("a")).toBeNull();
    expect(book.held("n1")).toBe(0);
  });

  it("refuses to grant the same lease id twice", () => {
    const book = new LeaseBook([{ id: "a", nodeId: "n1", expiresAt: 100 }]);
    expect(() => book.grant({ id: "a", nodeId: "n2", expiresAt: 100 })).toThrow();
    expect(book.held("n2")).toBe(0);
  });

  it("drops leases at their expiry, not before, and a renewal moves the expiry later only", () => {
    const book = new LeaseBook([
      { id: "a", nodeId: "n1", expiresAt: 100 },
      { id: "b", nodeId: "n1", expiresAt: 200 },
    ]);
    expect(book.renew("a", 50)?.expiresAt).toBe(100);
    expect(book.expire(99)).toEqual([]);
    expect(book.expire(100).map((l) => l.id)).toEqual(["a"]);
    expect(book.held("n1")).toBe(1);
    expect(book.renew("b", 300)?.expiresAt).toBe(300);
    expect(book.expire(250)).toEqual([]);
    expect(book.renew("a", 400)).toBeNull();
  });

  it("starts from the leases it is given (an object restarting from storage)", () => {
    const book = new LeaseBook([
      { id: "a", nodeId: "n1", expiresAt: 100 },
      { id: "b", nodeId: "n2", expiresAt: 100 },
    ]);
    expect(book.held("n1") + book.held("n2")).toBe(2);
    expect(book.has("b")).toBe(true);
  });
});
