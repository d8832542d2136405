#!/usr/bin/env python3
"""Fails when an import goes against the crate's layers (see ARCHITECTURE.md).

Reads every `crate::` and `super::` path in src/ (use trees and paths in code,
comments and strings left out) and checks two things:

- between top-level modules, every edge goes down the layer table below;
- inside each folder, the sibling modules import each other without a cycle
  (a child may always use its parent, and the parent its children).

`python3 scripts/check_layers.py` prints each back edge with the file and
line that makes it, and exits 1 if there is one; `--graph` prints the edges.
"""

import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# Top-level modules, from the top layer down; a module may import only from
# rows below its own. Keep in step with ARCHITECTURE.md.
LAYERS = [
    ["main", "bench"],
    ["fixture", "api", "fleet"],
    ["server"],
    ["shell", "services"],
    ["tools"],
    ["program"],
    ["instance"],
    ["faults", "journal", "net", "limits"],
    ["client"],
    ["jobs", "cmdline"],
]
RANK = {m: i for i, row in enumerate(LAYERS) for m in row}
# The crate root only declares and re-exports.
ROOT_MODULES = {"lib"}


def module_of(path):
    """`src/shell/builtins/ls.rs` -> ("shell", "builtins", "ls")."""
    rel = os.path.relpath(path, ROOT)[: -len(".rs")]
    parts = rel.split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def strip(text):
    """The text with comments and string literals blanked, lines kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('r#"', i) or text.startswith('r"', i):
            hashes = 1 if text[i + 1] == "#" else 0
            end = '"' + "#" * hashes
            j = text.find(end, i + 2 + hashes)
            j = n if j < 0 else j + len(end)
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append("\n" * text.count("\n", i, j + 1))
            i = j + 1
        elif c == "'" and i + 2 < n and (text[i + 2] == "'" or text[i + 1] == "\\"):
            # A char literal ('x', '\n', '\''); lifetimes have no closing quote.
            j = text.find("'", i + 2)
            i = j + 1 if j >= 0 else n
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, c in enumerate(tree):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                prefix, inner, rest = tree[:start], tree[start + 1 : i], tree[i + 1 :]
                parts, d, cur = [], 0, ""
                for ch in inner:
                    if ch == "," and d == 0:
                        parts.append(cur)
                        cur = ""
                        continue
                    d += ch == "{"
                    d -= ch == "}"
                    cur += ch
                parts.append(cur)
                out = []
                for p in filter(None, parts):
                    out.extend(expand_use(prefix + p + rest))
                return out
    return [tree]


def references(text):
    """(line, path) for every `crate::`/`super::`/`self::` path in code,
    leaving out a trailing `#[cfg(test)] mod tests` (tests may reach up)."""
    code = strip(text)
    tests = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", code)
    if tests:
        code = code[: tests.start()]
    found = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        line = code.count("\n", 0, m.start()) + 1
        for p in expand_use(m.group(1)):
            found.append((line, re.sub(r"\bas\b.*$", "", p)))
    uses = [(m.start(), m.end()) for m in re.finditer(r"\buse\s+[^;]+;", code)]
    for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", code):
        if any(a <= m.start() < b for a, b in uses):
            continue
        found.append((code.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def resolve(current, path, modules):
    """The module a path names, as the longest known module prefix."""
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    else:
        base = current
        rest = parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    target = base
    for p in rest:
        if target + (p,) in modules:
            target = target + (p,)
        else:
            break
    return target


def main():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                files[module_of(path)] = path
    modules = set(files)
    edges = defaultdict(list)  # (from, to) -> [(file, line)]
    for mod, path in files.items():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for line, ref in references(text):
            target = resolve(mod, ref, modules)
            if target and target != mod:
                edges[(mod, target)].append((os.path.relpath(path, ROOT), line))

    problems = []
    # Top-level layers.
    for (a, b), sites in sorted(edges.items()):
        ta, tb = a[0], b[0]
        if ta == tb or ta in ROOT_MODULES:
            continue
        for t in (ta, tb):
            if t not in RANK:
                problems.append(f"module {t} is in no layer of scripts/check_layers.py")
        if ta in RANK and tb in RANK and RANK[tb] <= RANK[ta]:
            file, line = sites[0]
            problems.append(f"{'::'.join(a)} -> {'::'.join(b)} goes up the layers (src/{file}:{line})")
    # Cycles among siblings.
    sib = defaultdict(lambda: defaultdict(list))
    for (a, b), sites in edges.items():
        common = 0
        while common < min(len(a), len(b)) and a[common] == b[common]:
            common += 1
        if common == len(a) or common == len(b):
            continue  # parent and child
        parent = a[:common]
        sib[parent][(a[common], b[common])].extend(sites)
    for parent, sedges in sib.items():
        if not parent:
            continue  # the top level is checked by layers
        graph = defaultdict(set)
        for (x, y) in sedges:
            graph[x].add(y)
        for cycle in cycles(graph):
            where = "::".join(parent)
            steps = " -> ".join(cycle + [cycle[0]])
            file, line = sedges[(cycle[0], cycle[1 % len(cycle)])][0]
            problems.append(f"cycle in {where}: {steps} (src/{file}:{line})")
    if "--graph" in sys.argv:
        for (a, b) in sorted(edges):
            if a[0] != b[0]:
                print(f"{'::'.join(a)} -> {'::'.join(b)}")
    for p in sorted(set(problems)):
        print(p)
    if problems:
        print(f"{len(set(problems))} layering problem(s); see ARCHITECTURE.md")
        return 1
    print(f"layers: {len(files)} modules, {len(edges)} edges, no back edge, no cycle")
    return 0


def cycles(graph):
    """One cycle per strongly connected component of more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(path_in(graph, sorted(comp)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def path_in(graph, comp):
    """A cycle through the component's first node."""
    start, members = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path))
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


if __name__ == "__main__":
    sys.exit(main())
