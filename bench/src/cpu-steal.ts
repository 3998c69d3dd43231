// The share of the machine's CPU time its hypervisor gave to other tenants ("steal" in /proc/stat): on a shared
// cloud VM it is time no thread of ours could run, and what makes figures move between runs. Linux only.
import { readFileSync } from 'node:fs';

/** The aggregate `cpu` line of /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal (ticks). */
function cpuTicks(): number[] | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    return line.trim().split(/\s+/).slice(1, 9).map(Number);
  } catch {
    return undefined;
  }
}

/** Starts measuring; the answer gives the per cent of all CPU time stolen since, or undefined off Linux. */
export function stealMeter(): () => number | undefined {
  const before = cpuTicks();
  return () => {
    const after = cpuTicks();
    if (!before || !after) return undefined;
    const delta = after.map((ticks, i) => ticks - before[i]!);
    const total = delta.reduce((sum, ticks) => sum + ticks, 0);
    return total > 0 ? Math.round((delta[7]! / total) * 1000) / 10 : undefined;
  };
}
