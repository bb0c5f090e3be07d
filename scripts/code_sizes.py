#!/usr/bin/env python3
"""Library code size report: files over a line limit and functions over a line limit.

Counts lines of library sources (`*/src/**/*.rs` of the library crates: not the `cli` binary,
not `tests/`, `benches/`, `fuzz/`, `examples/`), stopping a file's count at its `#[cfg(test)]` module. Functions are found by
`fn name` at the start of a line (after visibility) and measured by brace matching, skipping
strings, chars and comments well enough for this codebase.

usage: scripts/code_sizes.py [--file-limit 800] [--fn-limit 100] [--check]
With --check, exits 1 when anything is over a limit.
"""
import argparse, os, re, sys

FN_RE = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+"C"\s+)?fn\s+(\w+)')


def library_files(root):
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ('target', '.git', 'tests', 'benches', 'fuzz', 'examples', 'node_modules')]
        rel = top.replace(root, '')
        if '/src' not in rel or rel.startswith('/cli/'):
            continue
        for f in files:
            if f.endswith('.rs'):
                yield os.path.join(top, f)


def strip(line, state):
    """Removes strings and comments from a line; state carries block comments across lines."""
    out, i, n = [], 0, len(line)
    while i < n:
        if state['block']:
            j = line.find('*/', i)
            if j < 0:
                return ''.join(out)
            state['block'], i = False, j + 2
            continue
        c = line[i]
        if line.startswith('//', i):
            break
        if line.startswith('/*', i):
            state['block'], i = True, i + 2
            continue
        if c == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == '\\' else 1
            i += 1
            continue
        if c == "'" and i + 2 < n and (line[i + 2] == "'" or line[i + 1] == '\\'):
            j = line.find("'", i + 2)
            i = j + 1 if j > 0 else n
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def measure(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    end = len(lines)
    for k, l in enumerate(lines):
        if l.strip() == '#[cfg(test)]':
            end = k
            break
    lines = lines[:end]
    fns, state = [], {'block': False}
    code = [strip(l, state) for l in lines]
    k = 0
    while k < len(code):
        m = FN_RE.match(lines[k])
        if m and not lines[k].lstrip().startswith('//'):
            depth, started, j = 0, False, k
            while j < len(code):
                for ch in code[j]:
                    if ch == '{':
                        depth, started = depth + 1, True
                    elif ch == '}':
                        depth -= 1
                if started and depth <= 0:
                    break
                if not started and code[j].rstrip().endswith(';'):
                    break
                j += 1
            if started:
                fns.append((m.group(7), k + 1, j - k + 1))
        k += 1
    return end, fns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--file-limit', type=int, default=800)
    ap.add_argument('--fn-limit', type=int, default=100)
    ap.add_argument('--check', action='store_true')
    ap.add_argument('root', nargs='?', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = ap.parse_args()
    over = 0
    for path in sorted(library_files(a.root)):
        rel = os.path.relpath(path, a.root)
        n, fns = measure(path)
        if n > a.file_limit:
            print(f'file {rel}: {n} lines')
            over += 1
        for name, line, length in fns:
            if length > a.fn_limit:
                print(f'fn {rel}:{line} {name}: {length} lines')
                over += 1
    print(f'{over} over the limits (files {a.file_limit}, functions {a.fn_limit} lines)')
    sys.exit(1 if a.check and over else 0)


main()
