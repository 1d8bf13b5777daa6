/**
 * A real terminal for CLI tests: tmux runs the built `pycage` in a pane with only the environment
 * given, the test types into it and reads the screen, as a user would. After pycage exits the pane
 * prints `PYCAGE-EXITED:<status>`, so a test can read the exit status off the screen.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { baseEnv, cliPath } from './cli.js';
import { hangBoundMs, waitFor } from './wait.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

export interface Terminal {
  readonly name: string;
  screen(): string;
  /** Resolves with the screen once it shows `text`; fails showing the screen if it has not within `boundMs` (default: the hang bound). */
  waitForScreen(text: string | RegExp, boundMs?: number): Promise<string>;
  /** Types the text, then Enter. */
  type(text: string): void;
  /** Sends tmux key names (`C-c`, `Up`, `Enter`). */
  keys(...names: string[]): void;
  /** The pid of pycage itself (the pane shell's child). */
  pycagePid(): number;
  kill(): void;
}

function quote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

export function startTerminal(args: readonly string[], options: { env: Record<string, string>; cwd?: string }): Terminal {
  const env = { ...baseEnv(), TERM: 'xterm-256color', ...options.env };
  const command = [
    ...(options.cwd === undefined ? [] : [`cd ${quote(options.cwd)} &&`]),
    'env -i',
    ...Object.entries(env).map(([key, value]) => `${key}=${quote(value)}`),
    quote(process.execPath),
    quote(cliPath),
    ...args.map(quote),
    '; echo "PYCAGE-EXITED:$?"; sleep 600',
  ].join(' ');
  const name = `pycage-test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  // A tmux server whose last session was just killed may still be exiting: try again then.
  for (let attempt = 1; ; attempt += 1) {
    const started = spawnSync('tmux', ['new-session', '-d', '-s', name, '-x', '160', '-y', '60', command], { encoding: 'utf8' });
    if (started.status === 0) break;
    if (attempt >= 5 || !/server exited unexpectedly|lost server/.test(started.stderr)) throw new Error(`tmux new-session failed: ${started.stderr}`);
  }

  const screen = (): string => execFileSync('tmux', ['capture-pane', '-p', '-J', '-S', '-300', '-t', name], { encoding: 'utf8' });
  return {
    name,
    screen,
    async waitForScreen(text, boundMs = hangBoundMs) {
      const matches = (content: string): boolean => (typeof text === 'string' ? content.includes(text) : text.test(content));
      await waitFor(() => matches(screen()), `the screen to show ${String(text)}`, { boundMs, intervalMs: 200, state: () => `it shows:\n${screen()}` });
      return screen();
    },
    type(text) {
      if (text !== '') execFileSync('tmux', ['send-keys', '-t', name, '-l', text]);
      execFileSync('tmux', ['send-keys', '-t', name, 'Enter']);
    },
    keys(...names) {
      execFileSync('tmux', ['send-keys', '-t', name, ...names]);
    },
    pycagePid() {
      const panePid = execFileSync('tmux', ['display-message', '-p', '-t', name, '#{pane_pid}'], { encoding: 'utf8' }).trim();
      return Number(execFileSync('pgrep', ['-P', panePid], { encoding: 'utf8' }).trim().split('\n')[0]);
    },
    kill() {
      spawnSync('tmux', ['kill-session', '-t', name]);
    },
  };
}
