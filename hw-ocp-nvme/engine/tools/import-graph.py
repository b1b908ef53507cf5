#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Usage: hw-ocp-nvme/engine/tools/import-graph.py hw-ocp-nvme/engine/src
"""Import graph of the engine: one node per module (file), edges from `use`
paths and qualified paths (crate::, super::, self::) outside #[cfg(test)]
modules. Reports sibling/top-level edges and cycles (strongly connected
components); parent-child nesting (a child using its parent's items, the
parent declaring the child) is shown separately."""
import os, re, sys, collections
root = sys.argv[1]
mods = {}
for dp, dn, fn in os.walk(root):
    for f in fn:
        if f.endswith('.rs'):
            rel = os.path.relpath(os.path.join(dp, f), root)
            parts = rel[:-3].split('/')
            if parts[-1] in ('mod', 'lib'):
                parts = parts[:-1]
            mods[tuple(parts)] = rel
def strip_tests(src):
    out = []; i = 0
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*mod \w+ \{', src):
        if m.start() < i: continue
        out.append(src[i:m.start()])
        j = m.end(); d = 1
        while d and j < len(src):
            d += {'{': 1, '}': -1}.get(src[j], 0); j += 1
        i = j
    out.append(src[i:])
    return ''.join(out)
def resolve(cur, path):
    segs = path.split('::')
    if segs[0] == 'crate': base = (); segs = segs[1:]
    elif segs[0] == 'super':
        base = cur
        while segs and segs[0] == 'super': base = base[:-1]; segs = segs[1:]
    elif segs[0] == 'self': base = cur; segs = segs[1:]
    else: return None
    best = base
    for k in range(1, len(segs) + 1):
        cand = base + tuple(segs[:k])
        if cand in mods: best = cand
        else: break
    return best
edges = collections.defaultdict(set)
for cur, rel in mods.items():
    src = strip_tests(open(os.path.join(root, rel)).read())
    src = re.sub(r'//[^\n]*', '', src)
    paths = re.findall(r'\b((?:crate|super|self)(?:::\w+)+)', src)
    for ub in re.findall(r'use\s+((?:crate|super|self)(?:::\w+)*)::\{([^;]*)\};', src, re.S):
        for item in re.split(r'[,\s]+', ub[1]):
            item = item.strip('{} ')
            if item and item != 'self' and item[0].islower():
                paths.append(ub[0] + '::' + item.split('::')[0])
    for p in paths:
        t = resolve(cur, p)
        if t is None or t == cur: continue
        edges[cur].add(t)
name = lambda m: '::'.join(m) if m else 'crate'
nest = lambda a, b: a[:len(b)] == b or b[:len(a)] == a
flat = {a: {b for b in bs if not nest(a, b)} for a, bs in edges.items()}
print('edges between modules that do not contain each other:')
for a in sorted(flat, key=name):
    if flat[a]: print(' ', name(a), '->', ', '.join(sorted(map(name, flat[a]))))
print('child -> ancestor uses (a handler module using Controller, Request, ...):')
for a in sorted(edges, key=name):
    up = sorted(name(b) for b in edges[a] if nest(a, b) and len(b) < len(a))
    if up: print(' ', name(a), '->', ', '.join(up))
def sccs(g):
    idx = {}; low = {}; st = []; on = set(); out = []; c = [0]
    sys.setrecursionlimit(10000)
    def v_(v):
        idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in idx: v_(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = st.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(map(name, comp)))
    for v in list(g): 
        if v not in idx: v_(v)
    return out
print('cycles among modules that do not contain each other:', sccs(flat) or 'none')
top = collections.defaultdict(set)
for a, bs in edges.items():
    for b in bs:
        if a and b and a[0] != b[0]: top[(a[0],)].add((b[0],))
print('top-level graph:')
for a in sorted(top): print(' ', name(a), '->', ', '.join(sorted(map(name, top[a]))))
print('top-level cycles:', sccs(top) or 'none')
sys.exit(1 if sccs(flat) or sccs(top) else 0)
