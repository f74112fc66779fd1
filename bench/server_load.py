"""Load run of `vibevoice serve`: K concurrent clients (K = 1..4) each send a bounded number of speech
requests; prints first-audio p50/p95, per-stream RTF, aggregate audio seconds per wall second and the
server's peak RSS, as a table and as JSON.

    build/venv/bin/python bench/server_load.py --model MODEL_DIR [--exe build/dev/vibevoice] \
        [--clients 1,2,3,4] [--requests 4] [--seconds 5] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import threading
import time
from pathlib import Path

import httpx

TEXT = ("The streaming model speaks while the text is still arriving, one window of text tokens after "
        "another, and the decoder turns each latent frame into audio at once.")


def start(exe: str, model: str, streams: int, threads: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([exe, "serve", "--model", model, "--port", "0", "--max-streams", str(streams),
                             "--max-queue", "64", "--threads", str(threads), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    m = re.search(r"http://[0-9.]+:\d+", line)
    if not m:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read().decode()}")
    return proc, m.group(0)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_request(url: str, seconds: float, seed: int) -> dict:
    body = {"voice": VOICE, "input": TEXT, "response_format": "pcm", "seed": seed, "ignore_eos": True,
            "max_seconds": seconds}
    start = time.monotonic()
    first = None
    size = 0
    with httpx.stream("POST", url + "/v1/audio/speech", json=body, timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            if first is None:
                first = time.monotonic() - start
            size += len(chunk)
    wall = time.monotonic() - start
    audio = size / 2 / 24000
    return {"first_audio_s": first, "wall_s": wall, "audio_s": audio, "rtf": wall / audio}


def run_level(url: str, clients: int, requests: int, seconds: float) -> dict:
    results: list[dict] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(requests):
            r = one_request(url, seconds, 1000 * k + i)
            with lock:
                results.append(r)

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    firsts = sorted(r["first_audio_s"] for r in results)
    return {
        "clients": clients,
        "requests": len(results),
        "first_audio_p50_ms": 1000 * statistics.median(firsts),
        "first_audio_p95_ms": 1000 * firsts[min(len(firsts) - 1, int(0.95 * len(firsts)))],
        "rtf_per_stream_mean": statistics.mean(r["rtf"] for r in results),
        "audio_s_per_wall_s": sum(r["audio_s"] for r in results) / wall,
    }


def main() -> None:
    global VOICE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--exe", default="build/dev/vibevoice")
    ap.add_argument("--clients", default="1,2,3,4")
    ap.add_argument("--requests", type=int, default=4, help="requests per client")
    ap.add_argument("--seconds", type=float, default=5, help="audio seconds per request")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--voice", default=None)
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    levels = [int(k) for k in a.clients.split(",")]
    proc, url = start(a.exe, a.model, max(levels), a.threads)
    try:
        VOICE = a.voice or httpx.get(url + "/v1/audio/voices").json()["voices"][0]["id"]
        one_request(url, 1, 0)  # warm-up
        rows = [run_level(url, k, a.requests, a.seconds) for k in levels]
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print(f"{'K':>2} {'req':>4} {'first p50 ms':>12} {'first p95 ms':>12} {'RTF/stream':>10} {'audio s/s':>9}")
    for r in rows:
        print(f"{r['clients']:>2} {r['requests']:>4} {r['first_audio_p50_ms']:>12.0f} {r['first_audio_p95_ms']:>12.0f}"
              f" {r['rtf_per_stream_mean']:>10.3f} {r['audio_s_per_wall_s']:>9.2f}")
    print(f"server peak RSS {rss:.0f} MB")
    if a.json:
        Path(a.json).write_text(json.dumps({"model": a.model, "threads": a.threads, "rows": rows,
                                            "peak_rss_mb": rss}, indent=1))


VOICE = ""
if __name__ == "__main__":
    main()
