#!/usr/bin/env python3
"""Load test of `cdspred serve` with Goose (crates/loadtest), loopback only.

For batching on and off, for 1, 10, 50, 100 and 200 concurrent users, and for two request
mixes (`mixed`: single reads, 10- and 100-read batches, FASTA uploads, /health/ready,
/metrics; `batch10`: only 10-read requests), it starts a fresh server, runs
`cdspred-load` for --run-time seconds, and reads the server's CPU seconds and peak RSS
from /proc. Writes docs/loadtest.json (raw), docs/loadtest.md (tables, saturation point)
and docs/img/loadtest.svg (plot).

Usage: python3 scripts/loadtest.py [--run-time 10] [--users 1,10,50,100,200]
"""
import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait_ready(url, proc, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"server not ready at {url}")


def run_one(bins, batching, users, mix, run_time, tmp, extra=()):
    port = free_port()
    data = os.path.join(tmp, f"data-{batching}-{users}-{mix}-{len(extra)}")
    server = subprocess.Popen(
        [bins["cdspred"], "-q", "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", data,
         "--batching", "true" if batching else "false", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health/ready", server)
        cpu0 = cpu_seconds(server.pid)
        out = os.path.join(tmp, "result.json")
        t0 = time.time()
        subprocess.run(
            [bins["cdspred-load"], "--host", f"http://127.0.0.1:{port}", "--users", str(users),
             "--run-time", str(run_time), "--mix", mix, "--reads",
             os.path.join(ROOT, "examples/reads.fasta"), "--out", out],
            check=True, stderr=subprocess.DEVNULL)
        wall = time.time() - t0
        cpu = cpu_seconds(server.pid) - cpu0
        rss = peak_rss_mb(server.pid)
        with open(out) as f:
            r = json.load(f)
        r.update(batching=batching, server_cpu_percent=100 * cpu / wall, server_peak_rss_mb=rss)
        return r
    finally:
        server.terminate()
        server.wait(timeout=30)


def saturation(rows):
    """Fewest users at which reads/s reaches 90% of the best reads/s."""
    best = max(r["reads_per_s"] for r in rows)
    for r in sorted(rows, key=lambda r: r["users"]):
        if r["reads_per_s"] >= 0.9 * best:
            return r["users"], best
    return None, best


def svg_plot(results, path):
    """Two panels: reads/s and p95 latency against users (log x), one line per setting."""
    W, H, PAD = 880, 340, 55
    panel_w = (W - 3 * PAD) / 2
    users = sorted({r["users"] for r in results})
    import math
    xs = {u: i for i, u in enumerate(users)}
    series = {}
    for r in results:
        if r.get("queue_capacity_reads"):
            continue
        key = f"{r['mix']}, batching {'on' if r['batching'] else 'off'}"
        series.setdefault(key, []).append(r)
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 70}" '
           f'font-family="sans-serif" font-size="12">', '<rect width="100%" height="100%" fill="white"/>']
    for p, (metric, label, logy) in enumerate([("reads_per_s", "reads per second (200 OK)", False),
                                               ("p95_ms", "p95 latency (ms, log scale)", True)]):
        x0 = PAD + p * (panel_w + PAD)
        vals = [r[metric] for r in results if not r.get("queue_capacity_reads") and r[metric] == r[metric] and r[metric] > 0]
        lo, hi = (min(vals), max(vals)) if vals else (0.1, 1)
        if logy:
            lo, hi = math.log10(lo) - 0.1, math.log10(hi) + 0.1
        else:
            lo, hi = 0, hi * 1.1

        def y(v):
            v = math.log10(v) if logy else v
            return PAD + (H - 2 * PAD) * (1 - (v - lo) / (hi - lo))

        def x(u):
            return x0 + panel_w * (xs[u] + 0.5) / len(users)
        out.append(f'<rect x="{x0}" y="{PAD}" width="{panel_w}" height="{H - 2 * PAD}" '
                   'fill="none" stroke="#999"/>')
        out.append(f'<text x="{x0 + panel_w / 2}" y="{PAD - 12}" text-anchor="middle" '
                   f'font-weight="bold">{label}</text>')
        for u in users:
            out.append(f'<text x="{x(u)}" y="{H - PAD + 16}" text-anchor="middle">{u}</text>')
        out.append(f'<text x="{x0 + panel_w / 2}" y="{H - PAD + 32}" text-anchor="middle">'
                   'concurrent users</text>')
        for k in range(5):
            v = lo + (hi - lo) * k / 4
            shown = 10 ** v if logy else v
            yy = PAD + (H - 2 * PAD) * (1 - k / 4)
            text = f"{shown:.3g}" if logy else f"{shown:,.0f}"
            out.append(f'<text x="{x0 - 4}" y="{yy + 4}" text-anchor="end">{text}</text>')
        for c, (key, rows) in enumerate(sorted(series.items())):
            rows = sorted(rows, key=lambda r: r["users"])
            pts = " ".join(f"{x(r['users']):.1f},{y(r[metric]):.1f}" for r in rows if r[metric] > 0)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{colors[c % 4]}" stroke-width="2"/>')
            for r in rows:
                if r[metric] > 0:
                    out.append(f'<circle cx="{x(r["users"]):.1f}" cy="{y(r[metric]):.1f}" r="3" '
                               f'fill="{colors[c % 4]}"/>')
    for c, key in enumerate(sorted(series)):
        lx = PAD + c * 210
        out.append(f'<rect x="{lx}" y="{H + 25}" width="14" height="4" fill="{colors[c % 4]}"/>')
        out.append(f'<text x="{lx + 20}" y="{H + 31}">{key}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def markdown(results, meta):
    lines = [
        "# Load test",
        "",
        "Generated by `python3 scripts/loadtest.py` (Goose via `cdspred-load`, "
        "`crates/loadtest`); do not edit by hand.",
        "",
        f"Machine: {meta['machine']}; {meta['cpus']} CPUs shared by the server and the "
        f"load generator. Each cell: a fresh server, {meta['run_time']} s of closed-loop load "
        "after a 1 s ramp (ignored), loopback. Reads are 150 nt from `examples/reads.fasta`. "
        "Latency is to the last byte of the body. 429 = queue full (back-pressure), counted "
        "apart from errors.",
        "",
        "Mixes: **batch10** — only 10-read JSON requests; **mixed** — per 20 requests: 8 "
        "single reads, 4 10-read and 2 100-read JSON batches, 3 20-read FASTA uploads, 2 "
        "`/health/ready`, 1 `/metrics`.",
        "",
        "![reads per second and p95 latency against users](img/loadtest.svg)",
        "",
        "For comparison, the original FastAPI service under Locust: 10 users — median 3.1 s, "
        "p95 6.9 s; 50 users — 7% errors.",
        "",
    ]
    for mix in ["batch10", "mixed"]:
        for batching in [True, False]:
            rows = sorted([r for r in results if r["mix"] == mix and r["batching"] == batching
                           and not r.get("queue_capacity_reads")],
                          key=lambda r: r["users"])
            if not rows:
                continue
            sat, best = saturation(rows)
            lines += [f"## {mix}, batching {'on' if batching else 'off'}", "",
                      "| users | requests/s | reads/s | p50 ms | p95 ms | p99 ms | 5xx | 429 | "
                      "other errors | server CPU % | server peak RSS MB |",
                      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for r in rows:
                lines.append(
                    f"| {r['users']} | {r['rps']:,.0f} | {r['reads_per_s']:,.0f} | "
                    f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
                    f"{r['errors_5xx']} | {r['rejected_429']} | {r['other_errors']} | "
                    f"{r['server_cpu_percent']:.0f} | {r['server_peak_rss_mb']:.0f} |")
            lines += ["", f"Saturation: reads/s reaches 90% of its best ({best:,.0f}) at "
                          f"**{sat} users**; beyond that more users only add latency.", ""]
    small = [r for r in results if r.get("queue_capacity_reads")]
    if small:
        lines += ["## Back-pressure: a small queue", "",
                  "The same server with `--queue-capacity-reads "
                  f"{small[0]['queue_capacity_reads']}` (default 200,000) under the mixed load: "
                  "past the limit requests get 429 + Retry-After at once, never a 5xx.", "",
                  "| users | requests/s | 200 | 429 | 5xx | p95 ms |", "|---:|---:|---:|---:|---:|---:|"]
        for r in small:
            lines.append(f"| {r['users']} | {r['rps']:,.0f} | {r['ok']} | {r['rejected_429']} | "
                         f"{r['errors_5xx']} | {r['p95_ms']:.1f} |")
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-time", type=int, default=10)
    ap.add_argument("--users", default="1,10,50,100,200")
    ap.add_argument("--mixes", default="batch10,mixed")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--skip-backpressure", action="store_true")
    a = ap.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    # The load test is a workspace of its own (crates/loadtest, see the root Cargo.toml).
    load_target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "crates", "loadtest", "target"))
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "cdspred"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "--locked", "--manifest-path",
                        os.path.join("crates", "loadtest", "Cargo.toml")], cwd=ROOT, check=True)
    bins = {"cdspred": os.path.join(target, "release", "cdspred"),
            "cdspred-load": os.path.join(load_target, "release", "cdspred-load")}
    import tempfile
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for mix in a.mixes.split(","):
            for batching in [True, False]:
                for users in [int(u) for u in a.users.split(",")]:
                    r = run_one(bins, batching, users, mix, a.run_time, tmp)
                    results.append(r)
                    print(f"{mix:8} batching={'on ' if batching else 'off'} users={users:4} "
                          f"rps={r['rps']:8.0f} reads/s={r['reads_per_s']:8.0f} "
                          f"p95={r['p95_ms']:7.1f} ms 5xx={r['errors_5xx']} 429={r['rejected_429']} "
                          f"cpu={r['server_cpu_percent']:.0f}% rss={r['server_peak_rss_mb']:.0f} MB",
                          file=sys.stderr)
        if not a.skip_backpressure:
            r = run_one(bins, True, 200, "mixed", a.run_time, tmp,
                        ("--queue-capacity-reads", "1000"))
            r["queue_capacity_reads"] = 1000
            results.append(r)
            print(f"backpressure: 429={r['rejected_429']} 5xx={r['errors_5xx']}", file=sys.stderr)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "run_time": a.run_time}
    os.makedirs(os.path.join(a.out_dir, "img"), exist_ok=True)
    with open(os.path.join(a.out_dir, "loadtest.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    svg_plot(results, os.path.join(a.out_dir, "img", "loadtest.svg"))
    with open(os.path.join(a.out_dir, "loadtest.md"), "w") as f:
        f.write(markdown(results, meta))


if __name__ == "__main__":
    main()
