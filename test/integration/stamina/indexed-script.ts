/**
 * The script of the runs-in-a-row checks (the test and `npm run bench -- stamina`): each run prints
 * something only its own index and argument give, computed in Python, so a result from another run or
 * a stale container cannot pass for the right one.
 */
export function indexedScript(index: number): string {
  return `import sys\nindex = ${index}\nprint(index, sum(range(index + 1)) * 7 + 3, sys.argv[1])\n`;
}

export function indexedArgs(index: number): string[] {
  return [`arg-${index}`];
}

export function indexedOutput(index: number): string {
  return `${index} ${((index * (index + 1)) / 2) * 7 + 3} arg-${index}\n`;
}
