#!/usr/bin/env python3
"""Writes src/requirements/data/stdlib.ts: the standard library's top-level module names for each Python
version pycage supports, so the requirements stage never mistakes `json` for a package. The file holds
the oldest version's whole list and, for each later version, the modules it added and removed; the
per-version lists are rebuilt from those on load (src/requirements/standard-library.ts). Every version's
list is checked to come back exactly before the file is written.

Run by hand when a supported version is added; it is not part of the build. Every version is read from a
real interpreter, given on the command line as VERSION=COMMAND (COMMAND is split like a shell would):

    python3 src/requirements/data/generate-stdlib.py \
        3.10=/root/.pyenv/versions/3.10.13/bin/python ... 3.13=/root/.pyenv/versions/3.13.0/bin/python \
        "3.14=$LIB/ld-linux-x86-64.so.2 --library-path $LIB $ROOT/usr/bin/python3.14" \
        --derive 3.9=/root/.pyenv/versions/3.9.18/bin/python \
        --note '3.14=python3.14-minimal and libpython3.14-stdlib 3.14.10-1 of Debian sid, ...'

The lists shipped now came from pyenv builds of 3.9.18, 3.10.13, 3.11.7, 3.12.1 and 3.13.0 on Debian 12,
and for 3.14 from Debian sid's packages, fetched with `apt-get download python3.14-minimal
libpython3.14-minimal libpython3.14-stdlib libc6` (a temporary apt configuration with a sid source),
unpacked with `dpkg-deb -x` into $ROOT and run through that libc's own loader ($LIB is
$ROOT/usr/lib/x86_64-linux-gnu), because sid's python3.14 needs a newer glibc than Debian 12 has.

Versions from 3.10 on have `sys.stdlib_module_names` and it is written as is. Python 3.9 does not have it,
so `--derive` builds its list from the next version's list and the two interpreters' real contents:
the modules each interpreter can find (`sys.builtin_module_names` plus `pkgutil.iter_modules` over its
stdlib and lib-dynload directories) are compared, the differences are applied to the newer list, and
the script stops unless those differences are exactly the ones the newer version's "What's New"
documents (DOCUMENTED_CHANGES below), so a module missing from one build cannot slip in as a change.
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

# Run inside each interpreter: what it says about itself and which modules its own stdlib holds.
PROBE = r"""
import json, os, pkgutil, sys, sysconfig
directories = []
for key in ('stdlib', 'platstdlib'):
    directory = sysconfig.get_paths()[key]
    for candidate in (directory, os.path.join(directory, 'lib-dynload')):
        if os.path.isdir(candidate) and candidate not in directories:
            directories.append(candidate)
present = set(sys.builtin_module_names) | {module.name for module in pkgutil.iter_modules(directories)}
print(json.dumps({
    'version': sys.version.split()[0],
    'stdlib_module_names': sorted(getattr(sys, 'stdlib_module_names', ())),
    'present': sorted(present),
}))
"""

# Top-level modules added to and removed from the standard library by the newer version of each pair,
# as its "What's New" states them (private modules included). A derivation must find exactly these.
DOCUMENTED_CHANGES = {
    ('3.9', '3.10'): {
        # What's New in 3.10: no new modules.
        'added': set(),
        # `parser` and `symbol` (PEP 617's old parser), `formatter` (deprecated since 3.4), and the
        # private `_peg_parser` and `_bootlocale` modules were removed.
        'removed': {'parser', 'symbol', 'formatter', '_peg_parser', '_bootlocale'},
    },
}

# Modules an interpreter ships that `sys.stdlib_module_names` leaves out on purpose (tests, examples);
# they must not count as "removed" when a derivation compares two interpreters.
def is_excluded_by_convention(name: str) -> bool:
    return (
        name == 'test'
        or name.startswith('_test')
        or name.startswith('xx')
        or name.startswith('_xx')
        or name.startswith('_ctypes_test')
        or name.startswith('_sysconfigdata')
    )


def probe(command: str) -> dict:
    output = subprocess.run([*shlex.split(command), '-c', PROBE], check=True, capture_output=True, text=True)
    return json.loads(output.stdout)


def minor(version: str) -> str:
    return '.'.join(version.split('.')[:2])


WIDTH = 110


def wrap_comment(paragraphs: list[str]) -> list[str]:
    return [f' * {line}' for paragraph in paragraphs for line in textwrap.wrap(paragraph, width=WIDTH - 5, break_on_hyphens=False)]


def wrap_names(names: list[str], indent: str) -> list[str]:
    text = ' '.join(f"'{name}'," for name in names)
    return textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def names_literal(names: list[str]) -> str:
    return '[' + ', '.join(f"'{name}'" for name in names) + ']'


def render(results: dict[str, tuple[list[str], list[str]]]) -> str:
    """The whole stdlib.ts: the oldest version's list, then each later version's changes, oldest first."""
    versions = sorted(results, key=lambda version: tuple(map(int, version.split('.'))))
    oldest = versions[0]
    header = [
        '/**',
        ' * Top-level standard library modules of each Python version pycage supports: the whole list of the',
        ' * oldest, then what each later version added to and removed from the one before it.',
        ' * Generated by src/requirements/data/generate-stdlib.py; do not edit by hand.',
    ]
    for version in versions:
        names, how = results[version]
        header += [' *', *wrap_comment([f'Python {version} ({len(names)} names). {how[0]}', *how[1:]])]
    lines = [*header, ' */']
    lines += [f"export const oldestVersion = '{oldest}';", '']
    lines += ['export const oldestModules: readonly string[] = [', *wrap_names(results[oldest][0], '  '), '];', '']
    lines += ['export const laterVersions: ReadonlyArray<{ version: string; added: readonly string[]; removed: readonly string[] }> = [']
    for previous, version in zip(versions, versions[1:]):
        before, after = set(results[previous][0]), set(results[version][0])
        added, removed = sorted(after - before), sorted(before - after)
        one_line = f"  {{ version: '{version}', added: {names_literal(added)}, removed: {names_literal(removed)} }},"
        if len(one_line) <= WIDTH:
            lines.append(one_line)
            continue
        lines += ['  {', f"    version: '{version}',"]
        for label, names in (('added', added), ('removed', removed)):
            single = f'    {label}: {names_literal(names)},'
            lines += [single] if len(single) <= WIDTH else [f'    {label}: [', *wrap_names(names, '      '), '    ],']
        lines.append('  },')
    lines.append('];')
    return '\n'.join(lines) + '\n'


def rebuild(text: str) -> dict[str, list[str]]:
    """Reads the rendered file back the way standard-library.ts does, to check that it holds every list."""
    oldest = re.search(r"export const oldestVersion = '([^']+)';", text).group(1)
    modules_block = text[text.index('export const oldestModules'):text.index('export const laterVersions')]
    current = set(re.findall(r"'([^']+)'", modules_block.split('=', 1)[1]))
    lists = {oldest: sorted(current)}
    changes = text[text.index('export const laterVersions'):].split('= [', 1)[1]
    for entry in re.finditer(r"version: '([^']+)',\s*added: \[([^\]]*)\],\s*removed: \[([^\]]*)\]", changes):
        version, added, removed = entry.group(1), re.findall(r"'([^']+)'", entry.group(2)), re.findall(r"'([^']+)'", entry.group(3))
        current = (current | set(added)) - set(removed)
        lists[version] = sorted(current)
    return lists


def write(out: Path, results: dict[str, tuple[list[str], list[str]]]) -> None:
    text = render(results)
    if rebuild(text) != {version: sorted(names) for version, (names, _) in results.items()}:
        sys.exit('the rendered file does not give back every version\'s list')
    target = out / 'stdlib.ts'
    target.write_text(text)
    for version, (names, _) in sorted(results.items(), key=lambda item: tuple(map(int, item[0].split('.')))):
        print(f'{target}: Python {version}, {len(names)} modules')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('interpreters', nargs='+', metavar='VERSION=COMMAND')
    parser.add_argument('--derive', action='append', default=[], metavar='VERSION=COMMAND',
                        help='an interpreter without sys.stdlib_module_names, derived from the next version')
    parser.add_argument('--note', action='append', default=[], metavar='VERSION=TEXT',
                        help='where an interpreter came from, written into the header')
    parser.add_argument('--out', default=str(Path(__file__).resolve().parent))
    arguments = parser.parse_args()

    notes = dict(item.split('=', 1) for item in arguments.note)
    results: dict[str, tuple[list[str], list[str]]] = {}
    probes: dict[str, dict] = {}

    for item in arguments.interpreters:
        version, command = item.split('=', 1)
        found = probe(command)
        if minor(found['version']) != version:
            sys.exit(f'{command} is Python {found["version"]}, not {version}')
        if not found['stdlib_module_names']:
            sys.exit(f'Python {version} has no sys.stdlib_module_names; pass it with --derive')
        probes[version] = found
        how = [
            f'Source: sys.stdlib_module_names of Python {found["version"]}.',
        ]
        if version in notes:
            how.append(f'Interpreter: {notes[version]}.')
        results[version] = (found['stdlib_module_names'], how)

    for item in arguments.derive:
        version, command = item.split('=', 1)
        older = probe(command)
        if minor(older['version']) != version:
            sys.exit(f'{command} is Python {older["version"]}, not {version}')
        major, minor_number = version.split('.')
        newer_version = f'{major}.{int(minor_number) + 1}'
        if newer_version not in probes:
            sys.exit(f'deriving {version} needs an interpreter for {newer_version} too')
        newer = probes[newer_version]
        newer_list = set(newer['stdlib_module_names'])
        older_present = set(older['present'])
        newer_present = set(newer['present'])
        added = (newer_present - older_present) & newer_list
        removed = {name for name in older_present - newer_present if not is_excluded_by_convention(name)}
        documented = DOCUMENTED_CHANGES.get((version, newer_version))
        if documented is None:
            sys.exit(f'no documented changes recorded for {version} -> {newer_version}')
        if added != documented['added'] or removed != documented['removed']:
            sys.exit(
                f'{version} -> {newer_version}: found added={sorted(added)} removed={sorted(removed)}, '
                f'documented added={sorted(documented["added"])} removed={sorted(documented["removed"])}'
            )
        names = sorted((newer_list - added) | removed)
        # Every module the older interpreter really has must be in the list, unless it is a test module.
        missing = {name for name in older_present - set(names) if not is_excluded_by_convention(name)}
        if missing:
            sys.exit(f'{version}: present in the interpreter but not in the derived list: {sorted(missing)}')
        absent = sorted(set(names) - older_present)
        how = [' '.join([
            f'Python {version} has no sys.stdlib_module_names. This list is the one of Python {newer["version"]},',
            f'minus the modules {newer_version} added ({", ".join(sorted(added)) or "none"}) and plus the ones it removed',
            f'({", ".join(sorted(removed))}), as its "What\'s New" documents them. The differences were found by',
            f'comparing what each interpreter can import (sys.builtin_module_names + pkgutil.iter_modules over',
            f'its stdlib and lib-dynload) and checked against that documentation. Verified against',
            f'Python {older["version"]}: every module it ships is listed; the listed ones it lacks are',
            f'other platforms\' or optional builds\' modules: {", ".join(absent)}.',
        ])]
        if version in notes:
            how.append(f'Interpreter: {notes[version]}.')
        results[version] = (names, how)

    write(Path(arguments.out), results)


if __name__ == '__main__':
    main()
