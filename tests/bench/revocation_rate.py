#!/usr/bin/env python3
"""The driver of tests/bench/revocation_rate.sh: sustained revokes against
edgepass-server's REST gateway, measured.

  revocation_rate.py --rest HOST:PORT[,HOST:PORT] --sidecar-port N --keyring FILE
                     --pids server=PID,... [--redis-port N] --out FILE.json

Sends RATE revokes a second for DURATION seconds (open loop: each at its
scheduled time, whatever the earlier ones are doing; the REST addresses take
turns), `POST /v1/sessions/<id>/revoke`. Every SAMPLE_EVERY-th revoked session
is then asked for through the sidecar's GET /auth with a token bound to it
every POLL_MS until the sidecar refuses it (403 revoked): the time from the
revoke being sent to that refusal is what a viewer sees. Meanwhile the CPU of
each given process (/proc/PID/stat utime+stime) and Redis's
total_net_output_bytes are read before and after, over the same window, with
an idle baseline taken first. Writes the figures as JSON.
"""
import argparse
import base64
import concurrent.futures as cf
import hashlib
import hmac
import http.client
import json
import os
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def status_kb(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def redis_output_bytes(port):
    if not port:
        return 0
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "stats"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("total_net_output_bytes:"):
            return int(line.split(":")[1])
    return 0


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Tokens:
    """Tokens bound to a session id only, signed with the keyring's first key."""

    def __init__(self, keyring_path):
        self.key = json.load(open(keyring_path))["keys"][0]

    @staticmethod
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    def mac(self, msg):
        return self.b64(hmac.new(self.key["value"].encode(), msg.encode(), hashlib.sha256).digest())

    def token(self, session):
        now = int(time.time())
        header = self.b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.key["id"]},
                                     separators=(",", ":")).encode())
        payload = self.b64(json.dumps(
            {"ip": False, "co": False, "cty": False, "reg": False, "ssn": True, "exp": now + 3600,
             "headers": [], "qs": [], "intsig": self.mac(session), "paths": ["/vod/"], "iat": now},
            separators=(",", ":")).encode())
        return f"{session}.{header}.{payload}.{self.mac(header + '.' + payload)}"


def auth(sidecar_port, uri, timeout=5):
    """The sidecar's answer for `uri`: '200' or 'STATUS:reason'."""
    req = urllib.request.Request(f"http://127.0.0.1:{sidecar_port}/auth",
                                 headers={"X-Original-URI": uri, "X-Real-IP": "127.0.0.1"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return str(r.status)
    except urllib.error.HTTPError as e:
        return f"{e.code}:{e.headers.get('X-Edgepass-Reason', '')}"


_local = threading.local()


def revoke(rest, session, timeout):
    """POSTs one revoke on a per-thread kept-alive connection; the HTTP status
    (0 for a connection error)."""
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    for attempt in range(2):
        conn = conns.get(rest)
        if conn is None:
            host, port = rest.rsplit(":", 1)
            conn = conns[rest] = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            conn.request("POST", f"/v1/sessions/{session}/revoke", body=b'{"reason":"bench"}',
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            return resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conns.pop(rest, None)
            if attempt == 1:
                return 0
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rest", required=True)
    ap.add_argument("--sidecar-port", type=int, required=True)
    ap.add_argument("--keyring", required=True)
    ap.add_argument("--pids", required=True, help="name=PID,...")
    ap.add_argument("--redis-port", type=int, default=0)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--sample-every", type=int, default=10)
    ap.add_argument("--poll-ms", type=float, default=50)
    ap.add_argument("--grace", type=float, default=60,
                    help="seconds after the last send to wait for answers and refusals")
    ap.add_argument("--idle", type=float, default=5, help="seconds of idle baseline")
    ap.add_argument("--concurrency", type=int, default=256)
    ap.add_argument("--tag", default="nw")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    rests = a.rest.split(",")
    pids = dict(item.split("=") for item in a.pids.split(","))
    tokens = Tokens(a.keyring)
    total = int(a.rate * a.duration)
    sessions = [f"{a.tag}{i:010d}" for i in range(total)]

    # Before anything: the sidecar lets a session not yet revoked through.
    first = auth(a.sidecar_port, f"/{tokens.token(sessions[0])}/vod/a/seg0.ts")
    if first != "200":
        raise SystemExit(f"sidecar answers {first} for a session not revoked yet")

    # Idle baseline, once the processes have settled (a server may still be
    # streaming the snapshot or reloading after its start): up to a minute of
    # 2 s looks until together they use under 5% of a core.
    settle_deadline = time.time() + 60
    while time.time() < settle_deadline:
        c0 = sum(cpu_seconds(p) for p in pids.values())
        time.sleep(2)
        if (sum(cpu_seconds(p) for p in pids.values()) - c0) / 2 < 0.05:
            break
    cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
    time.sleep(a.idle)
    idle_rate = {n: (cpu_seconds(p) - cpu0[n]) / a.idle for n, p in pids.items()}

    results = [None] * total      # (sent, answered, status)
    refusals = {}                 # index -> seconds from sent to refused (None: never)
    stop_at = [None]
    peak_rss = {n: 0 for n in pids}
    done_sampling = threading.Event()

    def watch_rss():
        while not done_sampling.is_set():
            for n, p in pids.items():
                try:
                    peak_rss[n] = max(peak_rss[n], status_kb(p, "VmRSS"))
                except OSError:
                    pass
            time.sleep(0.2)

    def send(i):
        sent = time.time()
        if stop_at[0] is not None and sent > stop_at[0]:
            return
        status = revoke(rests[i % len(rests)], sessions[i], timeout=a.grace)
        results[i] = (sent, time.time(), status)

    polls = [0]

    def sample(i, sent):
        uri = f"/{tokens.token(sessions[i])}/vod/a/seg0.ts"
        while time.time() < stop_at[0]:
            answer = auth(a.sidecar_port, uri)
            polls[0] += 1
            if answer == "403:revoked":
                refusals[i] = time.time() - sent
                return
            time.sleep(a.poll_ms / 1000)
        refusals[i] = None

    rss_thread = threading.Thread(target=watch_rss, daemon=True)
    rss_thread.start()
    cpu_start = {n: cpu_seconds(p) for n, p in pids.items()}
    redis_start = redis_output_bytes(a.redis_port)
    t_start = time.time()
    stop_at[0] = t_start + a.duration + a.grace
    pool = cf.ThreadPoolExecutor(max_workers=a.concurrency)
    samplers = cf.ThreadPoolExecutor(max_workers=64)
    futures, sample_futures = [], []
    for i in range(total):
        at = t_start + i / a.rate
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        futures.append(pool.submit(send, i))
        if i % a.sample_every == 0:
            sample_futures.append(samplers.submit(sample, i, time.time()))
    t_sent = time.time()
    cf.wait(futures + sample_futures, timeout=max(0, stop_at[0] - time.time()))
    t_end = time.time()
    # Whatever is still waiting is abandoned (counted as unanswered).
    stop_at[0] = t_end
    pool.shutdown(wait=False, cancel_futures=True)
    samplers.shutdown(wait=False, cancel_futures=True)
    time.sleep(2)  # work a revoke left behind (a reload) is counted too
    cpu_end = {n: cpu_seconds(p) for n, p in pids.items()}
    redis_end = redis_output_bytes(a.redis_port)
    window = time.time() - t_start
    done_sampling.set()
    rss_thread.join()

    answered = [r for r in results if r is not None]
    ok = [r for r in answered if r[2] == 200]
    latencies = [r[1] - r[0] for r in ok]
    refused = [v for v in refusals.values() if v is not None]
    n_ok = max(1, len(ok))
    cpu = {}
    for n in pids:
        raw = cpu_end[n] - cpu_start[n]
        net = max(0.0, raw - idle_rate[n] * window)
        cpu[n] = {"cpu_s": round(raw, 3), "idle_cpu_per_s": round(idle_rate[n], 4),
                  "cpu_ms_per_revoke": round(1000 * net / n_ok, 3),
                  "raw_cpu_ms_per_revoke": round(1000 * raw / n_ok, 3),
                  "peak_rss_mb": round(peak_rss[n] / 1024, 1),
                  "hwm_mb": round(status_kb(pids[n], "VmHWM") / 1024, 1)}
    out = {
        "scheduled": total, "rate": a.rate, "duration_s": a.duration,
        "send_s": round(t_sent - t_start, 2), "window_s": round(window, 2),
        "answered": len(answered), "ok": len(ok),
        "statuses": {str(k): sum(1 for r in answered if r[2] == k)
                     for k in sorted({r[2] for r in answered})},
        "failed": len(answered) - len(ok), "unanswered": total - len(answered),
        "ok_per_s": round(len(ok) / max(1e-9, (max(r[1] for r in ok) - t_start) if ok else 1), 1),
        "answer_ms": {p: round(1000 * percentile(latencies, p), 1) if latencies else None
                      for p in (50, 90, 99, 100)},
        "sampled": len(sample_futures), "refused": len(refused), "auth_polls": polls[0],
        "never_refused": len(sample_futures) - len(refused),
        "refuse_ms": {p: round(1000 * percentile(refused, p), 1) if refused else None
                      for p in (50, 90, 99, 100)},
        "redis_bytes_per_revoke": round((redis_end - redis_start) / n_ok) if a.redis_port else None,
        "processes": cpu,
    }
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    os._exit(0)  # threads still blocked on abandoned requests are not waited for


if __name__ == "__main__":
    main()
