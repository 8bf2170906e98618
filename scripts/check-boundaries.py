#!/usr/bin/env python3
"""The module boundaries of docs/architecture.md, checked (`make check-boundaries`, run by `make test`).

1. Each C module is imported by exactly one Swift module's sources (librdkafka only by
   KafkaBridge, PCRE2 and the JSON scanner loops only by StreamForgeLanguage, libsystemd only
   by StreamForgeSupervisor, the process shim only by StreamForgeIPC), and Yams only by
   StreamForgeCore.
2. Package.swift's dependencies point one way: no module depends on one above it, and
   streamforgectl (and StreamForgeControl, its commands) depends on neither the worker nor the
   supervisor.
3. No source file imports a StreamForge module its target does not declare (the compiler finds
   transitive modules, so this is checked here).
Exit 1 with one line per violation.
"""
import json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)

# Which target's sources may import each C module (and Yams).
OWNERS = {
    "CRdKafka": {"KafkaBridge"},
    "CPCRE2": {"StreamForgeLanguage"},
    "CJSONScan": {"StreamForgeLanguage"},
    "CSystemd": {"StreamForgeSupervisor"},
    "CProcessShim": {"StreamForgeIPC"},
    "Yams": {"StreamForgeCore"},
}
# Layers, lowest first: a library target may depend only on targets of a lower layer.
LAYERS = [
    {"KafkaBridge", "StreamForgeLanguage"},
    {"StreamForgeCore"},
    {"StreamForgeIPC"},
    {"StreamForgeWorker", "StreamForgeSupervisor", "StreamForgeControl"},
]
FORBIDDEN = {
    "streamforgectl": {"StreamForgeWorker", "StreamForgeSupervisor"},
    "StreamForgeControl": {"StreamForgeWorker", "StreamForgeSupervisor"},
}
IMPORT = re.compile(r"^\s*(?:@\w+\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?import\s+(?:\w+\s+)?(\w+)", re.M)

problems = []
package = json.loads(subprocess.run(["swift", "package", "dump-package"], capture_output=True, text=True, check=True).stdout)
targets = {t["name"]: t for t in package["targets"]}

def deps(t):
    out = set()
    for d in t.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in d:
                out.add(d[kind][0])
    return out

def path_of(t):
    if t.get("path"):
        return t["path"]
    base = "Tests" if t["type"] == "test" else "Sources"
    return os.path.join(base, t["name"])

layer_of = {name: i for i, layer in enumerate(LAYERS) for name in layer}
for name, t in targets.items():
    d = deps(t)
    if name in layer_of:
        for dep in d:
            if dep in layer_of and layer_of[dep] >= layer_of[name]:
                problems.append(f"Package.swift: {name} depends on {dep}, which is not below it")
    for dep in FORBIDDEN.get(name, ()):
        if dep in d:
            problems.append(f"Package.swift: {name} must not depend on {dep}")
    if t["type"] == "system":
        continue
    root = path_of(t)
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".swift"):
                continue
            path = os.path.join(dirpath, f)
            for m in IMPORT.finditer(open(path, encoding="utf-8").read()):
                mod = m.group(1)
                if mod in OWNERS and name not in OWNERS[mod] and t["type"] != "test":
                    problems.append(f"{path}: imports {mod}, which only {', '.join(sorted(OWNERS[mod]))} may see")
                if mod in targets and mod != name and mod not in d:
                    problems.append(f"{path}: imports {mod}, which target {name} does not declare")

for p in problems:
    print("check-boundaries: " + p)
if problems:
    sys.exit(1)
print(f"check-boundaries: {len(targets)} targets, dependencies one way, each C module seen by one module")
