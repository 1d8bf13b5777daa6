// Sixteen runs at once in one runtime: each gets its own result, and no run can see what another
// wrote, neither its files (in its work directory, /tmp, or anywhere else on the filesystem) nor its
// processes or environment. Each run also gets the other runs' secrets (on stdin, which leaves no file
// behind, so its own script does not contain them), so it looks for their contents, not only names. The runs overlap in time (checked from their own clocks), so a shared
// container or a shared directory would show.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratch, waitForSessionContainers, type Scratch } from '../runtime/helpers.js';

const count = 16;
let scratch: Scratch;

beforeAll(async () => {
  scratch = await createScratch('stamina-concurrent');
});

afterAll(async () => {
  await scratch?.dispose();
});

interface Report {
  index: number;
  ownSecretReadBack: boolean;
  othersGiven: number;
  foundNames: string[];
  foundContents: string[];
  foundInProcesses: string[];
  writtenAt: number;
  checkedAt: number;
}

/** Writes its secret in /work and /tmp, waits, then searches everything it can read for the others'. */
function isolationScript(index: number): string {
  return `
import json, os, sys, time
index = ${index}
mine = os.environ["PYCAGE_STAMINA_SECRET"]
others = json.load(sys.stdin)
for directory in ("/work", "/tmp"):
    with open(os.path.join(directory, "pycage-secret-%d" % index), "w") as handle:
        handle.write(mine)
written_at = time.time()
time.sleep(3)

found_names, found_contents, found_in_processes = [], [], []
# Names anywhere on the filesystem (not /proc and /sys, which are the kernel's views).
for directory, subdirectories, files in os.walk("/"):
    if directory in ("/proc", "/sys"):
        subdirectories[:] = []
        continue
    for name in files:
        if name.startswith("pycage-secret-") and name != "pycage-secret-%d" % index:
            found_names.append(os.path.join(directory, name))
# Contents of every small file in the places a run can write or that could be shared.
for root in ("/work", "/tmp", "/dev/shm", "/run", "/var/tmp", "/opt/pycage"):
    for directory, subdirectories, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            try:
                if os.path.islink(path) or os.path.getsize(path) > 1 << 20:
                    continue
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            for secret in others:
                if secret.encode() in data:
                    found_contents.append(path)
# Every process this run can see: its command line and environment.
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for part in ("cmdline", "environ"):
        try:
            with open("/proc/%s/%s" % (pid, part), "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        for secret in others:
            if secret.encode() in data:
                found_in_processes.append("%s/%s" % (pid, part))
print(json.dumps({
    "index": index,
    "ownSecretReadBack": open("/work/pycage-secret-%d" % index).read() == mine and open("/tmp/pycage-secret-%d" % index).read() == mine,
    "othersGiven": len(others),
    "foundNames": found_names,
    "foundContents": found_contents,
    "foundInProcesses": found_in_processes,
    "writtenAt": written_at,
    "checkedAt": time.time(),
}))
`;
}

describe('stamina: concurrent runs', () => {
  it(`runs ${count} scripts at once, each right, none seeing another's files, processes or environment`, async () => {
    const runtime = scratch.runtime({ poolSize: 2, timeoutMs: 120_000 });
    await runtime.start();
    const secrets = Array.from({ length: count }, () => randomBytes(12).toString('hex'));

    const results = await Promise.all(
      secrets.map((secret, index) =>
        runtime.runScript(isolationScript(index), {
          env: { PYCAGE_STAMINA_SECRET: secret },
          stdin: JSON.stringify(secrets.filter((_, position) => position !== index)),
        }),
      ),
    );
    const reports: Report[] = results.map((result, index) => {
      expect(result.exitCode, `run ${index} stderr: ${result.stderr.slice(-500)}`).toBe(0);
      return JSON.parse(result.stdout) as Report;
    });
    expect(reports.map((report) => report.index)).toEqual(secrets.map((_, index) => index));
    for (const report of reports) {
      expect(report).toMatchObject({ ownSecretReadBack: true, othersGiven: count - 1, foundNames: [], foundContents: [], foundInProcesses: [] });
    }

    // The runs did overlap: some run looked after other runs had written (had they shared anything, it would have shown).
    const overlapping = reports.reduce(
      (pairs, report) => pairs + reports.filter((other) => other.index !== report.index && other.writtenAt < report.checkedAt).length,
      0,
    );
    expect(overlapping).toBeGreaterThan(0);

    // A later run finds none of it either: containers are never reused.
    const after = await runtime.runScript(
      'import os\nfound = [os.path.join(d, n) for d, s, f in os.walk("/") if not d.startswith(("/proc", "/sys")) for n in f if n.startswith("pycage-secret-")]\nprint(found)\n',
    );
    expect(after.stdout).toBe('[]\n');

    await runtime.close();
    await waitForSessionContainers(runtime);
  });
});
