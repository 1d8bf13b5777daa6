// One case per shape of answer the design lists for extract, then answers written the way real models
// write them. Each case says which code must come out and which rule must have chosen it.
import { describe, expect, it } from 'vitest';
import { extractCode, NoCodeBlockError, type ExtractRule } from '../../../src/extract/index.js';
import { ExitCode } from '../../../src/errors.js';

const fence = '```';
const fourFence = '````';

interface Case {
  name: string;
  answer: string;
  code: string;
  rule: ExtractRule;
  language?: string | undefined;
  /** Words the reason must contain. */
  reason?: string[];
}

const designCases: Case[] = [
  {
    name: '```python',
    answer: `${fence}python\nprint("hi")\n${fence}`,
    code: 'print("hi")\n',
    rule: 'python-block',
    language: 'python',
    reason: ['only block tagged python'],
  },
  {
    name: '```py',
    answer: `${fence}py\nimport sys\nprint(sys.version)\n${fence}\n`,
    code: 'import sys\nprint(sys.version)\n',
    rule: 'python-block',
    language: 'py',
  },
  {
    name: '```python3',
    answer: `${fence}python3\nprint(2 ** 10)\n${fence}`,
    code: 'print(2 ** 10)\n',
    rule: 'python-block',
    language: 'python3',
  },
  {
    name: 'untagged fence holding a program',
    answer: `Run this:\n\n${fence}\nimport json\nprint(json.dumps({"a": 1}))\n${fence}\n`,
    code: 'import json\nprint(json.dumps({"a": 1}))\n',
    rule: 'untagged-block',
    language: undefined,
    reason: ['no block is tagged python'],
  },
  {
    name: '~~~python fence',
    answer: '~~~python\nprint("tilde")\n~~~',
    code: 'print("tilde")\n',
    rule: 'python-block',
  },
  {
    name: 'untagged ~~~ fence',
    answer: '~~~\nimport os\nprint(os.getcwd())\n~~~',
    code: 'import os\nprint(os.getcwd())\n',
    rule: 'untagged-block',
  },
  {
    name: 'CRLF line endings',
    answer: `Here you go:\r\n\r\n${fence}python\r\nimport math\r\nprint(math.pi)\r\n${fence}\r\n`,
    code: 'import math\nprint(math.pi)\n',
    rule: 'python-block',
  },
  {
    name: 'prose before and after',
    answer: `Sure! This prints the date.\n\n${fence}python\nimport datetime\nprint(datetime.date.today())\n${fence}\n\nIt uses the standard library only, so nothing needs installing.`,
    code: 'import datetime\nprint(datetime.date.today())\n',
    rule: 'python-block',
  },
  {
    name: 'a bash block before the python block is never joined in',
    answer: `Install the dependency first:\n\n${fence}bash\npip install requests\n${fence}\n\nThen run:\n\n${fence}python\nimport requests\nprint(requests.get("https://example.com").status_code)\n${fence}`,
    code: 'import requests\nprint(requests.get("https://example.com").status_code)\n',
    rule: 'python-block',
    reason: ['block 2 of 2', 'ignored 1 bash block'],
  },
  {
    name: 'a json block after the python block is ignored',
    answer: `${fence}python\nimport json\nprint(json.dumps({"ok": True}))\n${fence}\n\nExpected output:\n\n${fence}json\n{"ok": true}\n${fence}`,
    code: 'import json\nprint(json.dumps({"ok": True}))\n',
    rule: 'python-block',
    reason: ['ignored 1 json block'],
  },
  {
    name: 'several python blocks: the one with the most code',
    answer: [
      `${fence}python`,
      'import csv',
      '',
      'def count_rows(path):',
      '    with open(path) as handle:',
      '        return sum(1 for _ in csv.reader(handle))',
      '',
      'print(count_rows("data.csv"))',
      fence,
      '',
      'To count another file, change the call:',
      '',
      `${fence}python`,
      'print(count_rows("other.csv"))',
      fence,
    ].join('\n'),
    code: 'import csv\n\ndef count_rows(path):\n    with open(path) as handle:\n        return sum(1 for _ in csv.reader(handle))\n\nprint(count_rows("data.csv"))\n',
    rule: 'largest-python-block',
    reason: ['block 1 of 2', 'largest of 2 python blocks', '5 and 1 lines of code'],
  },
  {
    name: 'several python blocks of the same size: the later one',
    answer: `${fence}python\nprint("first try")\n${fence}\n\nActually, use this:\n\n${fence}python\nprint("second try")\n${fence}`,
    code: 'print("second try")\n',
    rule: 'largest-python-block',
    reason: ['block 2 of 2', 'a tie goes to the later block'],
  },
  {
    name: 'a python-tagged block that only runs pip install is not the program',
    answer: `${fence}python\n!pip install pandas\n${fence}\n\n${fence}python\nimport pandas as pd\nprint(pd.__version__)\n${fence}`,
    code: 'import pandas as pd\nprint(pd.__version__)\n',
    rule: 'python-block',
    reason: ['skipped 1 python-tagged block that only installs packages'],
  },
  {
    name: 'four backticks wrapping a program that contains three',
    answer: [
      '````python',
      'readme = """',
      '```bash',
      'pip install mytool',
      '```',
      '"""',
      'print(readme)',
      '````',
    ].join('\n'),
    code: 'readme = """\n```bash\npip install mytool\n```\n"""\nprint(readme)\n',
    rule: 'python-block',
    language: 'python',
  },
  {
    name: 'four backticks wrapping a markdown answer that holds the python block',
    answer: `${fourFence}markdown\nHere is the script:\n\n${fence}python\nprint("inner")\n${fence}\n${fourFence}`,
    code: 'print("inner")\n',
    rule: 'python-block',
    reason: ['found inside a markdown block'],
  },
  {
    name: 'a block left unclosed at the end of the answer',
    answer: `Here is the code:\n\n${fence}python\nimport platform\nprint(platform.system())\n`,
    code: 'import platform\nprint(platform.system())\n',
    rule: 'python-block',
    reason: ['left unclosed at the end of the answer'],
  },
  {
    name: '<think> sections are ignored, draft code and all',
    answer: `<think>\nThe user wants the sum. Draft:\n${fence}python\nprint(1 + 1 + 1 + 1)\nprint("draft")\n${fence}\nSimpler is better.\n</think>\n\n${fence}python\nprint(sum([1, 2, 3]))\n${fence}`,
    code: 'print(sum([1, 2, 3]))\n',
    rule: 'python-block',
    reason: ['block 1 of 1'],
  },
  {
    name: 'a </think> with no opening tag (the template opened it)',
    answer: `Okay, I need to list files. os.listdir works.\n</think>\n\n${fence}python\nimport os\nprint(os.listdir("."))\n${fence}`,
    code: 'import os\nprint(os.listdir("."))\n',
    rule: 'python-block',
  },
  {
    name: 'no fence, but the whole answer is a Python program',
    answer: 'import random\n\nprint(random.randint(1, 6))\n',
    code: 'import random\n\nprint(random.randint(1, 6))\n',
    rule: 'bare-code',
    language: undefined,
  },
  {
    name: 'a fence indented under a list item is dedented',
    answer: `1. Save this as main.py:\n\n   ${fence}python\n   import sys\n   if len(sys.argv) > 1:\n       print(sys.argv[1])\n   ${fence}\n`,
    code: 'import sys\nif len(sys.argv) > 1:\n    print(sys.argv[1])\n',
    rule: 'python-block',
  },
  {
    name: 'info strings with a capital, attributes or a file name',
    answer: `${fence}Python title="hello.py"\nprint("a")\n${fence}`,
    code: 'print("a")\n',
    rule: 'python-block',
    language: 'python',
  },
  {
    name: 'an info string that is a .py file name',
    answer: `${fence}main.py\nprint("b")\n${fence}`,
    code: 'print("b")\n',
    rule: 'python-block',
    language: 'python',
  },
  {
    name: 'three backticks inline on one line are not a fence',
    answer: `Use ${fence}pip install rich${fence} if needed.\n\n${fence}python\nfrom rich import print\nprint("[bold]hi[/bold]")\n${fence}`,
    code: 'from rich import print\nprint("[bold]hi[/bold]")\n',
    rule: 'python-block',
    reason: ['block 1 of 1'],
  },
  {
    name: 'an untagged output block next to an untagged program',
    answer: `${fence}\nfor n in range(3):\n    print(n)\n${fence}\n\nOutput:\n\n${fence}\n0\n1\n2\n${fence}`,
    code: 'for n in range(3):\n    print(n)\n',
    rule: 'untagged-block',
    reason: ['an untagged block reads as a Python program', 'ignored 1 untagged block'],
  },
];

// Answers in the style real models send. gpt-oss (Groq) writes a heading, the block and a short list;
// Llama writes "Here is..." and explains after; many models put a bash install block first.
const realCases: Case[] = [
  {
    name: 'gpt-oss: heading, block, bullet list',
    answer: [
      '**Solution**',
      '',
      '```python',
      '#!/usr/bin/env python3',
      'import requests',
      '',
      'def main() -> None:',
      '    response = requests.get("https://api.github.com/users/synacktraa", timeout=10)',
      '    response.raise_for_status()',
      '    print(response.json())',
      '',
      'if __name__ == "__main__":',
      '    main()',
      '```',
      '',
      '**How it works**',
      '',
      '* `requests.get` fetches the profile.',
      '* `raise_for_status()` raises an exception if the request fails.',
    ].join('\n'),
    code: [
      '#!/usr/bin/env python3',
      'import requests',
      '',
      'def main() -> None:',
      '    response = requests.get("https://api.github.com/users/synacktraa", timeout=10)',
      '    response.raise_for_status()',
      '    print(response.json())',
      '',
      'if __name__ == "__main__":',
      '    main()',
      '',
    ].join('\n'),
    rule: 'python-block',
  },
  {
    name: 'Llama: "Here is the code" + block + explanation + example output',
    answer: [
      "Here is a Python script that prints the first 10 Fibonacci numbers:",
      '```python',
      'def fibonacci(n):',
      '    a, b = 0, 1',
      '    for _ in range(n):',
      '        yield a',
      '        a, b = b, a + b',
      '',
      'print(list(fibonacci(10)))',
      '```',
      'This code defines a generator function `fibonacci` that yields numbers one at a time.',
      '',
      'Example output:',
      '```',
      '[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]',
      '```',
    ].join('\n'),
    code: 'def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        yield a\n        a, b = b, a + b\n\nprint(list(fibonacci(10)))\n',
    rule: 'python-block',
    reason: ['ignored 1 untagged block'],
  },
  {
    name: 'install block first (shell), then the program, then how to run it',
    answer: [
      'You will need `matplotlib`:',
      '',
      '```bash',
      'pip install matplotlib numpy',
      '```',
      '',
      '```python',
      'import os',
      'import numpy as np',
      'import matplotlib',
      'matplotlib.use("Agg")',
      'import matplotlib.pyplot as plt',
      '',
      'x = np.linspace(0, 2 * np.pi, 200)',
      'plt.plot(x, np.sin(x))',
      'os.makedirs("output", exist_ok=True)',
      'plt.savefig("output/sine.png")',
      'print("saved output/sine.png")',
      '```',
      '',
      'Run it with:',
      '',
      '```sh',
      'python plot.py',
      '```',
    ].join('\n'),
    code: [
      'import os',
      'import numpy as np',
      'import matplotlib',
      'matplotlib.use("Agg")',
      'import matplotlib.pyplot as plt',
      '',
      'x = np.linspace(0, 2 * np.pi, 200)',
      'plt.plot(x, np.sin(x))',
      'os.makedirs("output", exist_ok=True)',
      'plt.savefig("output/sine.png")',
      'print("saved output/sine.png")',
      '',
    ].join('\n'),
    rule: 'python-block',
    reason: ['block 2 of 3', 'ignored 1 bash block and 1 sh block'],
  },
  {
    name: 'Qwen 3 in raw reasoning mode: <think> with a draft, then the answer',
    answer: [
      '<think>',
      "Okay, the user wants today's weekday. I could write:",
      '',
      '```python',
      'import time',
      'print(time.strftime("%A"))',
      '```',
      '',
      'But datetime reads better. Let me use that.',
      '</think>',
      '',
      '```python',
      'from datetime import datetime',
      '',
      'print(datetime.now().strftime("%A"))',
      '```',
    ].join('\n'),
    code: 'from datetime import datetime\n\nprint(datetime.now().strftime("%A"))\n',
    rule: 'python-block',
  },
  {
    name: 'a small local model that sends only code, with a comment on top',
    answer: '# Count the words in input.txt\nwith open("input.txt") as handle:\n    words = handle.read().split()\nprint(len(words))',
    code: '# Count the words in input.txt\nwith open("input.txt") as handle:\n    words = handle.read().split()\nprint(len(words))\n',
    rule: 'bare-code',
  },
  {
    name: 'a program with a multi-line dict and a docstring, untagged',
    answer: [
      '```',
      '"""Print a small inventory."""',
      'inventory = {',
      '    "apples": 3,',
      '    "pears": 5,',
      '}',
      'for name, count in inventory.items():',
      '    print(f"{name}: {count}")',
      '```',
    ].join('\n'),
    code: '"""Print a small inventory."""\ninventory = {\n    "apples": 3,\n    "pears": 5,\n}\nfor name, count in inventory.items():\n    print(f"{name}: {count}")\n',
    rule: 'untagged-block',
  },
];

// Answers that split one program over several Python blocks, or that end an unclosed block with a
// sentence, as held-out answers from real models do.
const multiBlockCases: Case[] = [
  {
    name: 'definitions in one block, the calls in a shorter later one: joined in order',
    answer: [
      'First, the helpers:',
      '',
      `${fence}python`,
      'import statistics',
      '',
      'def load(path):',
      '    with open(path) as handle:',
      '        return [float(line) for line in handle if line.strip()]',
      '',
      'def summarize(values):',
      '    return statistics.mean(values), statistics.stdev(values)',
      fence,
      '',
      'Then use them:',
      '',
      `${fence}python`,
      'mean, spread = summarize(load("numbers.txt"))',
      'print(f"mean: {mean:.3f}, stdev: {spread:.3f}")',
      fence,
    ].join('\n'),
    code: [
      'import statistics',
      '',
      'def load(path):',
      '    with open(path) as handle:',
      '        return [float(line) for line in handle if line.strip()]',
      '',
      'def summarize(values):',
      '    return statistics.mean(values), statistics.stdev(values)',
      '',
      'mean, spread = summarize(load("numbers.txt"))',
      'print(f"mean: {mean:.3f}, stdev: {spread:.3f}")',
      '',
    ].join('\n'),
    rule: 'joined-python-blocks',
    reason: ['blocks 1 and 2 of 2 joined in order', 'only defines what a later block uses'],
  },
  {
    name: 'the largest block uses a function only an earlier block defines: joined',
    answer: [
      `${fence}python`,
      'def fahrenheit(celsius):',
      '    return celsius * 9 / 5 + 32',
      fence,
      '',
      'Now the main part:',
      '',
      `${fence}python`,
      'readings = [12.5, 18.0, 21.25]',
      'for reading in readings:',
      '    print(reading, "C =", fahrenheit(reading), "F")',
      'print("done")',
      fence,
    ].join('\n'),
    code: 'def fahrenheit(celsius):\n    return celsius * 9 / 5 + 32\n\nreadings = [12.5, 18.0, 21.25]\nfor reading in readings:\n    print(reading, "C =", fahrenheit(reading), "F")\nprint("done")\n',
    rule: 'joined-python-blocks',
    reason: ['blocks 1 and 2 of 2', 'the largest uses fahrenheit, defined only in another block'],
  },
  {
    name: 'a bash block between split python blocks is never joined in',
    answer: [
      `${fence}python`,
      'import json',
      'def pretty(data):',
      '    return json.dumps(data, indent=2, sort_keys=True)',
      fence,
      `${fence}bash`,
      'python main.py',
      fence,
      `${fence}python`,
      'print(pretty({"b": 1, "a": 2}))',
      fence,
    ].join('\n'),
    code: 'import json\ndef pretty(data):\n    return json.dumps(data, indent=2, sort_keys=True)\n\nprint(pretty({"b": 1, "a": 2}))\n',
    rule: 'joined-python-blocks',
    reason: ['blocks 1 and 3 of 3'],
  },
  {
    name: 'a complete program and a usage fragment: the program alone, never both',
    answer: [
      `${fence}python`,
      'def greet(name):',
      '    return f"hello {name}"',
      'print(greet("ada"))',
      fence,
      '',
      'You can also call it like this:',
      '',
      `${fence}python`,
      'message = greet("bob")',
      'print(message)',
      'print(len(message))',
      fence,
    ].join('\n'),
    code: 'def greet(name):\n    return f"hello {name}"\nprint(greet("ada"))\n',
    rule: 'largest-python-block',
    reason: ['block 1 of 2', 'a tie goes to the complete program, not a usage fragment'],
  },
  {
    name: 'two complete programs of the same size: still the later one',
    answer: `${fence}python\nimport math\nprint(math.pi)\n${fence}\n\nOr, more precisely:\n\n${fence}python\nimport decimal\nprint(decimal.Decimal(1) / 7)\n${fence}`,
    code: 'import decimal\nprint(decimal.Decimal(1) / 7)\n',
    rule: 'largest-python-block',
    reason: ['block 2 of 2', 'a tie goes to the later block'],
  },
  {
    name: 'an unclosed block stops before the trailing prose',
    answer: `Here it is:\n\n${fence}python\nimport os\nprint(os.cpu_count())\n\nThis prints how many CPUs the machine has.\nIt needs no packages.\n`,
    code: 'import os\nprint(os.cpu_count())\n',
    rule: 'python-block',
    reason: ['left unclosed at the end of the answer'],
  },
  {
    name: 'an unclosed block keeps code after a blank line',
    answer: `${fence}python\ndef main():\n    print("main")\n\nmain()\n`,
    code: 'def main():\n    print("main")\n\nmain()\n',
    rule: 'python-block',
  },
];

describe('extractCode: programs split over blocks, and unclosed blocks', () => {
  it.each(multiBlockCases)('$name', (testCase) => {
    const extracted = extractCode(testCase.answer);
    expect(extracted.code).toBe(testCase.code);
    expect(extracted.rule).toBe(testCase.rule);
    for (const words of testCase.reason ?? []) expect(extracted.reason).toContain(words);
  });
});

describe('extractCode: the cases the design lists', () => {
  it.each(designCases)('$name', (testCase) => {
    const extracted = extractCode(testCase.answer);
    expect(extracted.code).toBe(testCase.code);
    expect(extracted.rule).toBe(testCase.rule);
    if ('language' in testCase) expect(extracted.language).toBe(testCase.language);
    for (const words of testCase.reason ?? []) expect(extracted.reason).toContain(words);
  });
});

describe('extractCode: answers as real models write them', () => {
  it.each(realCases)('$name', (testCase) => {
    const extracted = extractCode(testCase.answer);
    expect(extracted.code).toBe(testCase.code);
    expect(extracted.rule).toBe(testCase.rule);
    for (const words of testCase.reason ?? []) expect(extracted.reason).toContain(words);
  });
});

describe('extractCode: answers with nothing to run', () => {
  const refusals = [
    { name: 'prose only', answer: "I'm sorry, but I can't help with that request.", message: 'no code block' },
    {
      name: 'a shell block only',
      answer: `Run this in your terminal:\n\n${fence}bash\ncurl -s https://example.com | head\n${fence}`,
      message: 'it has 1 bash block',
    },
    { name: 'a python-tagged pip install only', answer: `${fence}python\npip install numpy\n${fence}`, message: 'only installs packages' },
    { name: 'JSON in an untagged block', answer: `${fence}\n{"name": "pycage", "ok": true}\n${fence}`, message: '1 untagged block' },
    {
      name: 'no fence, code mixed with prose',
      answer: 'You can do it like this:\nimport os\nprint(os.getcwd())\nThat prints the directory.',
      message: 'no code block',
    },
    { name: 'a <think> section that never closes', answer: `<think>\nLet me write:\n${fence}python\nprint(1)\n${fence}\nHmm, but`, message: 'no code block' },
    { name: 'an empty answer', answer: '', message: 'no code block' },
  ];

  it.each(refusals)('$name -> NoCodeBlockError carrying the answer', ({ answer, message }) => {
    let caught: unknown;
    try {
      extractCode(answer);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NoCodeBlockError);
    const error = caught as NoCodeBlockError;
    expect(error.answer).toBe(answer);
    expect(error.exitCode).toBe(ExitCode.model);
    expect(error.message).toContain(message);
  });
});

describe('extractCode: bookkeeping', () => {
  it('counts every fenced block in `blocks`', () => {
    const answer = `${fence}bash\npip install x\n${fence}\n${fence}python\nimport x\nprint(x)\n${fence}\n${fence}text\ndone\n${fence}`;
    expect(extractCode(answer).blocks).toBe(3);
  });

  it('gives the same answer every time (no hidden state)', () => {
    const answer = realCases[2]?.answer ?? '';
    expect(extractCode(answer)).toEqual(extractCode(answer));
  });
});
