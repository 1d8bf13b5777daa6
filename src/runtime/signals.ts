/**
 * SIGINT/SIGTERM while runtimes are open and nobody else listens for the signal: Node would exit at
 * once and leave the runtimes' containers to the lifeline; instead they are all closed (containers
 * removed), then the signal is raised again so Node's default (exit by that signal) still happens.
 * One shared handler per signal, installed with the first open runtime and removed with the last.
 *
 * When the application has a listener of its own, the signal is its business: it may cancel a run and
 * carry on (an interactive session's Ctrl-C), so the runtimes are left open. If it then exits, the
 * lifeline removes the containers all the same. A second signal during cleanup stops waiting for it.
 */
export interface Closable {
  close(): Promise<void>;
}

const signals = ['SIGINT', 'SIGTERM'] as const;
const openRuntimes = new Set<Closable>();
let installed = false;
let closing = false;

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal: Node will not exit, and closing runtimes under them would break
  // whatever they do next.
  if (process.listenerCount(signal) > 1) return;
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
