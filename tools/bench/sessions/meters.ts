// The meters every timed phase reads: the gateways' workerd processes (summed), this process (the simulated nodes)
// and the whole machine, whose remainder is other work on a shared machine.
import type { CpuMeter } from "../cpu.js";
import type { GatewaySet } from "./gateway-set.js";
import type { CpuWindow } from "./result.js";

export interface Meters {
  gateways: GatewaySet;
  client: CpuMeter;
  /** Null without /proc/stat. */
  machine: CpuMeter | null;
}

/** Runs `phase` and measures its wall time and CPU; `from`/`to` are its bounds in ms since the epoch. */
export async function timed<T>(
  meters: Meters,
  phase: () => Promise<T>,
): Promise<{ result: T; window: CpuWindow; from: number; to: number }> {
  const cpu0 = meters.gateways.cpuSeconds();
  const client0 = meters.client.read();
  const machine0 = meters.machine?.read() ?? null;
  const from = Date.now();
  const result = await phase();
  const to = Date.now();
  const cpu1 = meters.gateways.cpuSeconds();
  const machine1 = meters.machine?.read() ?? null;
  return {
    result,
    from,
    to,
    window: {
      seconds: (to - from) / 1000,
      workerdCpuSeconds: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
      clientCpuSeconds: meters.client.read() - client0,
      machineCpuSeconds: machine0 === null || machine1 === null ? null : machine1 - machine0,
    },
  };
}
