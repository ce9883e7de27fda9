#!/usr/bin/env python3
"""Latency and throughput of `cdspred serve` on loopback, next to the CLI.

1. A single 150-nt read per request, sequential, keep-alive: median and p95 round trip.
2. C concurrent clients (default 10) sending 100-read JSON requests for D seconds:
   reads/s, request latency percentiles, errors — with batching on and off.
3. `cdspred predict` on the same kind of reads: reads/s (wall, all cores).

Everything runs on this machine (client threads share the 2 cores with the server).
Bounded in requests and time; loopback only.
usage: scripts/serve_bench.py [--seconds 10] [--clients 10]
"""
import argparse, gzip, http.client, json, os, random, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("CDSPRED_SHARED", os.path.join(ROOT, "..", "shared"))
GENOME = os.path.join(SHARED, "data/genomes/dev/Corynebacterium_diphtheriae_NCTC11397_LN831026.fna.gz")
BIN = os.path.join(ROOT, "target/release/cdspred")


def reads(n, length, rng, seq):
    out = []
    for i in range(n):
        p = rng.randrange(0, len(seq) - length)
        out.append({"id": f"r{i}", "sequence": seq[p:p + length]})
    return out


def start(extra):
    d = tempfile.mkdtemp(prefix="cdspred-serve-bench-")
    p = subprocess.Popen([BIN, "serve", "--addr", "127.0.0.1:0", "--data-dir", d] + extra, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    addr = p.stdout.readline().strip().removeprefix("listening on http://")
    host, port = addr.split(":")
    for _ in range(200):
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("GET", "/health/ready")
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        time.sleep(0.02)
    return p, host, int(port)


def post(conn, body):
    conn.request("POST", "/v1/predict", body=body, headers={"content-type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status


def single(host, port, body, n):
    c = http.client.HTTPConnection(host, port, timeout=30)
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        assert post(c, body) == 200
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    return statistics.median(lat), lat[int(0.95 * len(lat))]


def load(host, port, body, clients, seconds, reads_per_req):
    stop = time.perf_counter() + seconds
    lat, errors, lock = [], [0], threading.Lock()

    def worker():
        c = http.client.HTTPConnection(host, port, timeout=30)
        mine = []
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                st = post(c, body)
            except OSError:
                st = 0
                c = http.client.HTTPConnection(host, port, timeout=30)
            if st == 200:
                mine.append((time.perf_counter() - t) * 1000)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            lat.extend(mine)

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else float("nan")
    return len(lat) * reads_per_req / wall, len(lat) / wall, q(0.5), q(0.95), q(0.99), errors[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=10)
    a = ap.parse_args()
    with gzip.open(GENOME, "rt") as f:
        seq = "".join(l.strip() for l in f if not l.startswith(">")).upper()
    rng = random.Random(3)
    one = json.dumps({"sequences": reads(1, 150, rng, seq)})
    hundred = json.dumps({"sequences": reads(100, 150, rng, seq)})
    rows = []
    for label, extra in (("on", []), ("off", ["--batching", "false"])):
        p, host, port = start(extra)
        try:
            single(host, port, one, 50)  # warm
            med, p95 = single(host, port, one, 1000)
            rps, qps, p50, p95l, p99, err = load(host, port, hundred, a.clients, a.seconds, 100)
            rows.append((label, med, p95, rps, qps, p50, p95l, p99, err))
        finally:
            p.terminate()
            p.wait()
    tmp = tempfile.mkdtemp()
    fa = os.path.join(tmp, "r.fa")
    with open(fa, "w") as f:
        for r in reads(200_000, 150, rng, seq):
            f.write(f">{r['id']}\n{r['sequence']}\n")
    t = time.perf_counter()
    subprocess.run([BIN, "predict", fa, "-o", os.path.join(tmp, "o.tsv")], check=True)
    cli = 200_000 / (time.perf_counter() - t)
    print(f"{os.cpu_count()} cores; server, clients and CLI on the same machine; {a.clients} clients x 100-read requests for {a.seconds:.0f} s.\n")
    print("| batching | 1 read: median ms | 1 read: p95 ms | 100-read reqs: reads/s | req/s | p50 ms | p95 ms | p99 ms | errors | share of CLI reads/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, med, p95, rps, qps, p50, p95l, p99, err in rows:
        print(f"| {label} | {med:.2f} | {p95:.2f} | {rps:,.0f} | {qps:,.0f} | {p50:.1f} | {p95l:.1f} | {p99:.1f} | {err} | {rps / cli:.0%} |")
    print(f"\nCLI `cdspred predict` on 200,000 reads of 150 nt: {cli:,.0f} reads/s (wall, all cores).")


if __name__ == "__main__":
    sys.exit(main())
