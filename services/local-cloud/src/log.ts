// What the local cloud reports while it runs: one entry per event, from whichever component had something to
// say. `pnpm start` prints them as readable lines; tests collect them.

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogEntry {
  /** Which part of the local cloud speaks: `ingest`, `pipeline`, `outbox`, `model`, ... */
  component: string;
  level: LogLevel;
  message: string;
  /** Structured details (never secrets). */
  [attribute: string]: unknown;
}

export type Log = (entry: LogEntry) => void;

/** `12:03:04 ingest  image uploaded  key=images/ab….jpg size=53712`. */
export function formatLogEntry(entry: LogEntry, now: Date = new Date()): string {
  const { component, level, message, ...attributes } = entry;
  const time = now.toTimeString().slice(0, 8);
  const details = Object.entries(attributes)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const marker = level === 'info' ? '' : `${level.toUpperCase()} `;
  return `${time} ${component.padEnd(8)} ${marker}${message}${details ? `  ${details}` : ''}`;
}

/** Prints entries on the console: warnings and errors to stderr. */
export const consoleLog: Log = (entry) => {
  const line = formatLogEntry(entry);
  if (entry.level === 'info') console.log(line);
  else console.error(line);
};
