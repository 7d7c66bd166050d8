"""The benchmark behind bench/run: see that script for how to run it.

For each fleet size it generates a synthetic fleet and its kustomize equivalent, then times:
- `fleetgen render` into a fresh folder (median, min-max of --runs) and its peak RSS;
- the copy floor: `cp -r` of the rendered tree into a fresh folder (median of --runs);
- kustomize building every cluster's overlay, the engine loaded once (one run: it is slow),
  and checks that every cluster's kustomize output equals fleetgen's objects;
- `fleetgen check` (tree up to date) and `fleetgen lint`;
and prints a Markdown table with the ratios and the time per placement.
"""

import argparse
import ctypes
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml


def run_timed(cmd, cwd=None):
    """Wall seconds and peak RSS (KiB) of one run of `cmd`; fails on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(map(str, cmd))} exited {code}:\n{err[-2000:]}")
    return wall, usage.ru_maxrss


def repeat(runs, cmd, before=None, cwd=None):
    walls, rss = [], 0
    for _ in range(runs):
        if before:
            before()
        wall, peak = run_timed(cmd, cwd)
        walls.append(wall)
        rss = max(rss, peak)
    return walls, rss


def fmt(walls):
    med = statistics.median(walls)
    return f"{med:.2f} s ({min(walls):.2f}–{max(walls):.2f})" if med >= 1 else \
        f"{med * 1000:.0f} ms ({min(walls) * 1000:.0f}–{max(walls) * 1000:.0f})"


def tree_size(root):
    files, size = 0, 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, n))
    return files, size


def normalise(v):
    """kustomize drops empty maps and lists; Kubernetes reads them as absent too."""
    if isinstance(v, dict):
        out = {k: normalise(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x not in ({}, [])}
    if isinstance(v, list):
        return [normalise(x) for x in v]
    return v


def key(doc):
    return (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])


def kustomize_all(lib_path, kustomize_root, rendered):
    """Builds every cluster overlay with one loaded engine; returns (seconds, objects, clusters
    whose output differs from fleetgen's)."""
    lib = ctypes.CDLL(str(lib_path))
    lib.pykustomize_build.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
    lib.pykustomize_last_error.restype = ctypes.c_char_p
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    clusters = sorted(p.name for p in (kustomize_root / "clusters").iterdir())
    outputs, seconds = {}, 0.0
    for c in clusters:
        out = ctypes.c_char_p()
        start = time.perf_counter()
        rc = lib.pykustomize_build(str(kustomize_root / "clusters" / c).encode(), b"{}", ctypes.byref(out))
        seconds += time.perf_counter() - start
        if rc != 0:
            sys.exit(f"kustomize build {c} failed: {(lib.pykustomize_last_error() or b'').decode()[:500]}")
        outputs[c] = out.value.decode() if out.value else ""
    objects, differ = 0, []
    for c, text in outputs.items():
        got = {key(d): normalise(d) for d in yaml.load_all(text, Loader=loader) if d}
        want = {}
        for f in (rendered / c / "apps").glob("*/*.yaml"):
            if f.name in ("kustomization.yaml", "values.yaml"):
                continue
            d = yaml.load(f.read_text(), Loader=loader)
            want[key(d)] = normalise(d)
        objects += len(got)
        if got != want:
            differ.append(c)
    return seconds, objects, differ


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", default=["20x50", "100x200", "200x500"])
    ap.add_argument("--fleetgen", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--kustomize", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    fleetgen, work = a.fleetgen, Path(a.dir)
    rows = []
    for size in a.sizes:
        clusters, apps = (int(x) for x in size.split("x"))
        root = work / size
        print(f"# {size}: generating", file=sys.stderr)
        subprocess.run([a.gen, "--clusters", str(clusters), "--apps", str(apps), "--seed", "1", "--out", str(root)],
                       check=True, stdout=subprocess.DEVNULL)
        fleet = root / "fleet"
        out = root / "out"
        copy = root / "copy"

        def fresh(*dirs):
            return lambda: [shutil.rmtree(d, ignore_errors=True) for d in dirs]

        print(f"# {size}: fleetgen render ×{a.runs}", file=sys.stderr)
        render, rss = repeat(a.runs, [fleetgen, "render", "--color", "never", "--out", str(out)], fresh(out), cwd=fleet)
        files, size_bytes = tree_size(out)
        print(f"# {size}: cp -r ×{a.runs}", file=sys.stderr)
        floor, _ = repeat(a.runs, ["cp", "-r", str(out), str(copy)], fresh(copy))
        placements = sum(1 for line in (out / "fleet.yaml").read_text().splitlines() if line.startswith("  - app: "))
        # check and lint read the fleet's own rendered/.
        subprocess.run([fleetgen, "render", "--color", "never"], cwd=fleet, check=True, stdout=subprocess.DEVNULL)
        # The generated fleet must lint clean, warnings included.
        res = subprocess.run([fleetgen, "lint", "--color", "never", "--format", "concise"], cwd=fleet,
                             capture_output=True, text=True)
        if res.returncode != 0 or not res.stdout.startswith("no findings"):
            sys.exit(f"the {size} fleet does not lint clean:\n{res.stdout[-3000:]}{res.stderr[-2000:]}")
        print(f"# {size}: fleetgen check, lint ×{a.runs}", file=sys.stderr)
        check, _ = repeat(a.runs, [fleetgen, "check", "--color", "never"], cwd=fleet)
        lint, _ = repeat(a.runs, [fleetgen, "lint", "--color", "never"], cwd=fleet)
        print(f"# {size}: kustomize (every cluster overlay, one run)", file=sys.stderr)
        k_seconds, k_objects, differ = kustomize_all(a.kustomize, root / "kustomize", out)
        if differ:
            sys.exit(f"kustomize output differs from fleetgen's on {len(differ)} clusters, e.g. {differ[:3]}")
        med = statistics.median(render)
        rows.append({
            "size": size, "placements": placements, "objects": k_objects, "files": files, "bytes": size_bytes,
            "render": render, "rss": rss, "floor": floor, "kustomize": k_seconds,
            "check": check, "lint": lint, "per_placement_ms": med / placements * 1000,
        })
        shutil.rmtree(root, ignore_errors=True)

    bundled, _ = repeat(max(a.runs, 20), [fleetgen, "check", "--color", "never"], cwd=a.repo)

    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    fs = subprocess.run(["df", "-T", str(work)], capture_output=True, text=True).stdout.splitlines()[-1].split()[1]
    print(f"Machine: {os.cpu_count()} × {cpu}, {mem:.0f} GiB, Linux {platform.release()}; "
          f"outputs on {fs}; medians of {a.runs} runs (min–max), kustomize one run.\n")
    print("| clusters×apps | placements | objects (kustomize) | files | output | fleetgen render | peak RSS | "
          "cp -r floor | render ÷ floor | kustomize | kustomize ÷ render | per placement | check (no-op) | lint |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        med = statistics.median(r["render"])
        print(f"| {r['size']} | {r['placements']} | {r['objects']} | {r['files']} | {r['bytes'] / 2**20:.0f} MiB | "
              f"{fmt(r['render'])} | {r['rss'] / 1024:.0f} MiB | {fmt(r['floor'])} | "
              f"{med / statistics.median(r['floor']):.1f}× | {r['kustomize']:.1f} s | {r['kustomize'] / med:.0f}× | "
              f"{r['per_placement_ms']:.3f} ms | {fmt(r['check'])} | {fmt(r['lint'])} |")
    if len(rows) > 1:
        per = [r["per_placement_ms"] for r in rows]
        print(f"\nTime per placement from {rows[0]['size']} to {rows[-1]['size']}: "
              f"{per[0]:.3f} → {per[-1]:.3f} ms ({(per[-1] / per[0] - 1) * 100:+.0f}%).")
        # The cost of one more placement, between consecutive sizes: flat means linear.
        steps = []
        for small, big in zip(rows, rows[1:]):
            dt = statistics.median(big["render"]) - statistics.median(small["render"])
            steps.append(f"{small['size']}→{big['size']}: {dt / (big['placements'] - small['placements']) * 1000:.3f} ms")
        print("Marginal time per placement: " + ", ".join(steps) + ".")
    print(f"`fleetgen check` on the bundled fleet: {fmt(bundled)} over {len(bundled)} runs.")


if __name__ == "__main__":
    main()
