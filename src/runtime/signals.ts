/**
 * SIGINT/SIGTERM while runtimes are open: close them all (their containers are removed), then let the
 * signal do what it would have done. One shared handler per signal, installed with the first open
 * runtime and removed with the last. After cleanup the signal is raised again only when no other
 * listener remains, so Node's default (exit by that signal) still happens for a plain script, while
 * an application with its own handler (the CLI) keeps control. A second signal during cleanup stops
 * waiting for it.
 */

export interface Closable {
  close(): Promise<void>;
}

const signals = ['SIGINT', 'SIGTERM'] as const;
const openRuntimes = new Set<Closable>();
let installed = false;
let closing = false;

function onSignal(signal: NodeJS.Signals): void {
  if (closing) {
    uninstall();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    return;
  }
  closing = true;
  void Promise.allSettled([...openRuntimes].map((runtime) => runtime.close())).then(() => {
    closing = false;
    uninstall();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of signals) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of signals) process.removeListener(signal, onSignal);
}

export function registerOpenRuntime(runtime: Closable): void {
  openRuntimes.add(runtime);
  install();
}

export function unregisterOpenRuntime(runtime: Closable): void {
  openRuntimes.delete(runtime);
  if (openRuntimes.size === 0 && !closing) uninstall();
}

/** For tests: how many runtimes the handler would close. */
export function openRuntimeCount(): number {
  return openRuntimes.size;
}
