"""The benchmark behind bench/run: see that script for how to run it.

For each fleet size it generates a synthetic fleet and its kustomize equivalent, then times:
- `fleetgen render` into a fresh folder (median, min-max of --runs), its CPU time and peak RSS;
- two floors: the file-creation floor (examples/write-floor.rs writes the same files from
  memory, in parallel, as render does) and `cp -r` of the rendered tree (median of --runs);
- kustomize building every cluster's overlay, the engine loaded once (one run: it is slow),
  wall and CPU, and checks that every cluster's kustomize output equals fleetgen's objects;
- `fleetgen check` (tree up to date, warm cache), and after a one-contract change with a cold
  cache (no `.fleetgen/`) and a warm one (the cache of the tree before the change);
- `fleetgen render` after a one-contract change (warm cache; each run a version of its own);
- `fleetgen lint` and its peak RSS;
- the stat floor (`find` listing and stating every rendered file) and `git status` on the
  rendered files committed (git's index stats every file, as `check` does);
and prints Markdown tables with the ratios and the time per placement. `--no-kustomize`
leaves kustomize out (for the largest sizes).
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


CPU = {}  # id(list of walls) → list of CPU seconds, for the runs `repeat` timed


def run_timed(cmd, cwd=None, codes=(0,)):
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one run of `cmd`;
    fails on an exit code not in `codes`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in codes:
        sys.exit(f"{' '.join(map(str, cmd))} exited {code}:\n{err[-2000:]}")
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def repeat(runs, cmd, before=None, cwd=None, codes=(0,)):
    walls, rss, cpu = [], 0, []
    for _ in range(runs):
        if before:
            before()
        wall, peak, used = run_timed(cmd, cwd, codes)
        walls.append(wall)
        cpu.append(used)
        rss = max(rss, peak)
    CPU[id(walls)] = cpu
    return walls, rss


def cpu_of(walls):
    return statistics.median(CPU[id(walls)])


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
    outputs, seconds, cpu = {}, 0.0, 0.0
    for c in clusters:
        out = ctypes.c_char_p()
        start, start_cpu = time.perf_counter(), time.process_time()
        rc = lib.pykustomize_build(str(kustomize_root / "clusters" / c).encode(), b"{}", ctypes.byref(out))
        seconds += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
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
    return seconds, cpu, objects, differ


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", default=["20x50", "100x200", "200x500"])
    ap.add_argument("--fleetgen", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--kustomize", required=True)
    ap.add_argument("--floor", required=True, help="the write-floor example")
    ap.add_argument("--no-kustomize", action="store_true")
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
        render, rss = repeat(a.runs, [fleetgen, "render", "--color", "never", "--no-cache", "--out", str(out)],
                             fresh(out), cwd=fleet)
        files, size_bytes = tree_size(out)
        print(f"# {size}: file-creation floor, cp -r ×{a.runs}", file=sys.stderr)
        writes = []
        for _ in range(a.runs):
            shutil.rmtree(copy, ignore_errors=True)
            res = subprocess.run([a.floor, str(out), str(copy)], check=True, capture_output=True, text=True)
            writes.append(float(res.stdout.strip()))
        floor, _ = repeat(a.runs, ["cp", "-r", str(out), str(copy)], fresh(copy))
        shutil.rmtree(copy, ignore_errors=True)
        placements = sum(1 for line in (out / "fleet.yaml").read_text().splitlines() if line.startswith("  - app: "))
        # check and lint read the fleet's own rendered/.
        subprocess.run([fleetgen, "render", "--color", "never"], cwd=fleet, check=True, stdout=subprocess.DEVNULL)
        # The generated fleet must lint clean, warnings included.
        res = subprocess.run([fleetgen, "lint", "--color", "never", "--format", "concise"], cwd=fleet,
                             capture_output=True, text=True)
        if res.returncode != 0 or not res.stdout.startswith("no findings"):
            sys.exit(f"the {size} fleet does not lint clean:\n{res.stdout[-3000:]}{res.stderr[-2000:]}")
        print(f"# {size}: fleetgen check, lint ×{a.runs}", file=sys.stderr)
        # Files written within the stat index's racy window are hashed again: let them age.
        time.sleep(4)
        subprocess.run([fleetgen, "check", "--color", "never"], cwd=fleet, check=True, stdout=subprocess.DEVNULL)
        check, _ = repeat(a.runs, [fleetgen, "check", "--color", "never"], cwd=fleet)
        lint, lint_rss = repeat(a.runs, [fleetgen, "lint", "--color", "never"], cwd=fleet)
        # The floor of any check that finds hand edits by each file's stat: listing and
        # stating every rendered file and nothing else (`find`), and `git status` on the same
        # files committed (git's index: an lstat per file, as fleetgen's stat index).
        print(f"# {size}: stat floor (find), git status ×{a.runs}", file=sys.stderr)
        stat_floor, _ = repeat(a.runs, ["find", "rendered", "-type", "f", "-printf", "%s %T@ %C@ %i\n"], cwd=fleet)
        tracked = root / "git-status"
        shutil.copytree(fleet / "rendered", tracked / "rendered")
        # No automatic gc or maintenance: `git commit` of tens of thousands of loose objects
        # starts one in the background, which repacks them while the folder is removed below
        # (a run failed so: a loose-object folder gone in the middle of `shutil.rmtree`).
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "core.fsmonitor=false",
               "-c", "core.untrackedCache=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false"]
        subprocess.run(git + ["init", "-q"], cwd=tracked, check=True)
        subprocess.run(git + ["add", "-A"], cwd=tracked, check=True)
        subprocess.run(git + ["commit", "-q", "-m", "rendered"], cwd=tracked, check=True)
        time.sleep(4)  # out of the index's racy window, as above
        subprocess.run(git + ["status", "--porcelain"], cwd=tracked, check=True, stdout=subprocess.DEVNULL)
        git_status, _ = repeat(a.runs, git + ["status", "--porcelain"], cwd=tracked)
        shutil.rmtree(tracked)
        # One contract changes (its version): what a pre-commit hook meets.
        cache = fleet / ".fleetgen"
        contract = sorted((fleet / "apps").iterdir())[0] / "app.yaml"
        original = contract.read_text()
        edited = original.replace("  version: ", "  version: 9", 1)
        assert edited != original
        contract.write_text(edited)

        # The cache of the tree before the change is the one the last check left in place: a
        # copy of a cache folder reads as empty (the cache trusts only files its own runs
        # wrote, see The incremental cache), so it is not restored from a copy. Before each
        # run the contract is checked as it was, then given a version no run saw before.
        check_versions = iter(range(1, 1_000_000))

        def cache_as_before():
            contract.write_text(original)
            subprocess.run([fleetgen, "check", "--color", "never"], cwd=fleet, check=True, stdout=subprocess.DEVNULL)
            contract.write_text(original.replace("  version: ", f"  version: 8{next(check_versions)}", 1))

        print(f"# {size}: check after a one-contract change, cold and warm ×{a.runs}", file=sys.stderr)
        changed_cold, _ = repeat(a.runs, [fleetgen, "check", "--color", "never"], fresh(cache), cwd=fleet, codes=(1,))
        changed_warm, _ = repeat(a.runs, [fleetgen, "check", "--color", "never"], cache_as_before, cwd=fleet,
                                 codes=(1,))

        # Each timed render makes a version no render made before: a render brings the tree
        # before last (the cache's shadow) up to date, and with one edit made over and over
        # the shadow would already hold the changed files (a swap, nothing written).
        versions = iter(range(1, 1_000_000))

        def tree_as_before():
            contract.write_text(original)
            subprocess.run([fleetgen, "render", "--color", "never"], cwd=fleet, check=True, stdout=subprocess.DEVNULL)
            contract.write_text(original.replace("  version: ", f"  version: 9{next(versions)}", 1))

        print(f"# {size}: render after a one-contract change ×{a.runs}", file=sys.stderr)
        changed_render, _ = repeat(a.runs, [fleetgen, "render", "--color", "never"], tree_as_before, cwd=fleet)
        # What a reviewer runs on that change once it is committed: `diff HEAD~1 HEAD`, with the
        # cache the render left (of HEAD) and without one. diff only reads the cache.
        print(f"# {size}: diff HEAD~1 HEAD with and without the cache ×{a.runs}", file=sys.stderr)
        subprocess.run(git + ["init", "-q"], cwd=fleet, check=True)
        (fleet / ".git" / "info").mkdir(parents=True, exist_ok=True)
        (fleet / ".git" / "info" / "exclude").write_text("/rendered/\n")
        contract.write_text(original)
        subprocess.run(git + ["add", "-A"], cwd=fleet, check=True)
        subprocess.run(git + ["commit", "-q", "-m", "base"], cwd=fleet, check=True)
        contract.write_text(edited)
        subprocess.run(git + ["commit", "-q", "-a", "-m", "one contract"], cwd=fleet, check=True)
        diff_cold, _ = repeat(a.runs, [fleetgen, "diff", "--color", "never", "--no-cache", "HEAD~1", "HEAD"], cwd=fleet)
        diff_warm, _ = repeat(a.runs, [fleetgen, "diff", "--color", "never", "HEAD~1", "HEAD"], cwd=fleet)
        if a.no_kustomize:
            k_seconds, k_cpu, k_objects = None, None, None
        else:
            print(f"# {size}: kustomize (every cluster overlay, one run)", file=sys.stderr)
            k_seconds, k_cpu, k_objects, differ = kustomize_all(a.kustomize, root / "kustomize", out)
            if differ:
                sys.exit(f"kustomize output differs from fleetgen's on {len(differ)} clusters, e.g. {differ[:3]}")
        med = statistics.median(render)
        rows.append({
            "size": size, "placements": placements, "objects": k_objects, "files": files, "bytes": size_bytes,
            "render": render, "rss": rss, "floor": floor, "writes": writes, "kustomize": k_seconds,
            "kustomize_cpu": k_cpu, "check": check, "lint": lint, "lint_rss": lint_rss,
            "changed_cold": changed_cold, "changed_warm": changed_warm, "changed_render": changed_render,
            "stat_floor": stat_floor, "git_status": git_status, "diff_cold": diff_cold, "diff_warm": diff_warm,
            "per_placement_ms": med / placements * 1000,
        })
        shutil.rmtree(root, ignore_errors=True)

    bundled, _ = repeat(max(a.runs, 20), [fleetgen, "check", "--color", "never"], cwd=a.repo)

    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    fs = subprocess.run(["df", "-T", str(work)], capture_output=True, text=True).stdout.splitlines()[-1].split()[1]
    print(f"Machine: {os.cpu_count()} × {cpu}, {mem:.0f} GiB, Linux {platform.release()}; "
          f"outputs on {fs}; medians of {a.runs} runs (min–max), kustomize one run.\n")
    print("| clusters×apps | placements | files | output | fleetgen render (CPU) | peak RSS | write floor | "
          "render ÷ write floor | cp -r | kustomize (CPU) | kustomize ÷ render: wall, CPU | per placement |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        med = statistics.median(r["render"])
        kust, ratio = "–", "–"
        if r["kustomize"] is not None:
            kust = f"{r['kustomize']:.1f} s ({r['kustomize_cpu']:.1f} s)"
            ratio = f"{r['kustomize'] / med:.0f}×, {r['kustomize_cpu'] / cpu_of(r['render']):.0f}×"
        print(f"| {r['size']} | {r['placements']} | {r['files']} | {r['bytes'] / 2**20:.0f} MiB | "
              f"{fmt(r['render'])} ({cpu_of(r['render']):.2f} s) | {r['rss'] / 1024:.0f} MiB | "
              f"{fmt(r['writes'])} | {med / statistics.median(r['writes']):.1f}× | {fmt(r['floor'])} | "
              f"{kust} | {ratio} | {r['per_placement_ms']:.3f} ms |")
    print()
    print("| clusters×apps | check (no-op) | check after a contract change: cold cache | warm cache | "
          "warm ÷ cold | stat floor (find) | git status | warm ÷ stat floor | "
          "render after a contract change | ÷ full render | lint | lint peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cold, warm = statistics.median(r["changed_cold"]), statistics.median(r["changed_warm"])
        again = statistics.median(r["changed_render"])
        print(f"| {r['size']} | {fmt(r['check'])} | {fmt(r['changed_cold'])} | {fmt(r['changed_warm'])} | "
              f"{warm / cold:.2f} | {fmt(r['stat_floor'])} ({cpu_of(r['stat_floor']):.2f} s CPU) | "
              f"{fmt(r['git_status'])} | {warm / statistics.median(r['stat_floor']):.2f} | "
              f"{fmt(r['changed_render'])} | {again / statistics.median(r['render']):.2f} | "
              f"{fmt(r['lint'])} | {r['lint_rss'] / 1024:.0f} MiB |")
    print()
    print("| clusters×apps | diff HEAD~1 HEAD, --no-cache (CPU) | with the cache of a render (CPU) | ÷ |")
    print("|---|---|---|---|")
    for r in rows:
        cold, warm = statistics.median(r["diff_cold"]), statistics.median(r["diff_warm"])
        print(f"| {r['size']} | {fmt(r['diff_cold'])} ({cpu_of(r['diff_cold']):.2f} s) | "
              f"{fmt(r['diff_warm'])} ({cpu_of(r['diff_warm']):.2f} s) | {warm / cold:.2f} |")
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
    print(f"`fleetgen check` on the bundled fleet: {fmt(bundled)}, {cpu_of(bundled) * 1000:.0f} ms CPU "
          f"(median) over {len(bundled)} runs.")


if __name__ == "__main__":
    main()
