import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_STATE_DIR, parseStartOptions } from "../start/options.js";
import { DEV_STATE_DIR, parseDevOptions } from "./options.js";

describe("npm start's and npm run dev's options", () => {
  it("share their defaults except the state directory", () => {
    expect(parseStartOptions([])).toEqual({
      host: "127.0.0.1",
      port: 8787,
      demo: true,
      stateDir: DEFAULT_STATE_DIR,
      isolates: 1,
    });
    expect(parseDevOptions([])).toEqual({
      host: "127.0.0.1",
      port: 8787,
      demo: true,
      stateDir: DEV_STATE_DIR,
      wranglerArgs: [],
    });
  });

  it("pass what follows -- to wrangler dev, and read the rest as npm start does", () => {
    expect(parseDevOptions(["--port", "9000", "--no-demo", "--state-dir", "s", "--", "--ip", "0.0.0.0"])).toEqual({
      host: "127.0.0.1",
      port: 9000,
      demo: false,
      stateDir: resolve("s"),
      wranglerArgs: ["--ip", "0.0.0.0"],
    });
  });

  it("let npm start pick a port (0) but not wrangler dev, and refuse ports out of range", () => {
    expect(parseStartOptions(["--port", "0"])).toMatchObject({ port: 0 });
    expect(() => parseDevOptions(["--port", "0"])).toThrow("--port must be an integer from 1 to 65535, got 0");
    expect(() => parseStartOptions(["--port", "70000"])).toThrow(
      "--port must be an integer from 0 to 65535, got 70000",
    );
    expect(parseDevOptions(["-h"])).toBe("help");
  });

  it("let npm start serve from several isolates, and refuse a count that is not one", () => {
    expect(parseStartOptions(["--isolates", "4", "--no-demo"])).toMatchObject({ isolates: 4, demo: false });
    expect(parseStartOptions(["--isolates=2"])).toMatchObject({ isolates: 2 });
    for (const bad of ["0", "65", "1.5", "four"])
      expect(() => parseStartOptions(["--isolates", bad])).toThrow(
        `--isolates must be an integer from 1 to 64, got ${bad}`,
      );
    expect(() => parseStartOptions(["--isolates"])).toThrow("got nothing");
    expect(() => parseDevOptions(["--isolates", "2"])).toThrow();
  });
});
