#!/usr/bin/env python3
"""Helper of tests/bench/service_ratios.sh; Python standard library only.

  service_ratios.py frame OUT < MESSAGE
      Writes the gRPC length-prefixed message (flag 0, 4-byte big-endian
      length, then the serialized protobuf read from stdin) to OUT.
  service_ratios.py phase RECORDS --name N --round R --driven TEXT --out H2LOAD_OUT
                          --server-ticks T --client-cpu-before TIMES --client-cpu-after TIMES
                          --busy-ticks M --load L
                          [--min-bytes B] [--log H2LOAD_LOG]
      Checks one h2load run (no failed, errored or timed-out call, every
      response 2xx and, with --min-bytes, at least 99% of B response-body bytes
      per call: a gRPC error is a trailers-only response with no body, which
      h2load counts as a success), prints one line and appends its record.
      T: the server's CPU clock ticks over the run; M: the whole machine's
      (/proc/stat); TIMES: files holding the output of bash's `times` before
      and after it (the load tool's CPU).
      Exits 1 when the run is not clean.
  service_ratios.py stalls RECORDS SECONDS
      Measures how late the machine wakes a sleeping thread: on each CPU at
      once, a process pinned to it sleeps 0.2 ms at a time for SECONDS and
      counts the wake-ups more than 2 ms late (on a VM, a halted virtual CPU
      the host has not yet scheduled again). Prints one line and appends a
      record named "stalls". Run it while the server is idle.
  service_ratios.py mean RECORDS NAME
      Prints the mean calls/s of the runs named NAME.
  service_ratios.py summary RECORDS
      Prints the table, the ratios, server CPU per call, the latency at half
      rate, and PASS/FAIL against the targets of issue 11.
"""
import json
import math
import os
import re
import statistics
import struct
import sys
import time

TARGET_ISSUE_OVER_HEALTH = 0.8
TARGET_REST_OVER_GRPC = 0.7
TARGET_P99_MS = 2.0
SPEED_SHIFT = 1.3  # rounds further apart than this: the host changed speed


def frame(out):
    message = sys.stdin.buffer.read()
    with open(out, "wb") as f:
        f.write(b"\0" + struct.pack(">I", len(message)) + message)


def children_cpu_seconds(times_output):
    # bash `times`: the shell's user and system time, then its children's:
    # "0m0.010s 0m0.004s\n0m1.234s 0m0.567s" -> 1.801
    children = times_output.strip().splitlines()[-1]
    return sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", children))


def parse_h2load(text):
    def need(pattern):
        m = re.search(pattern, text, re.M)
        if not m:
            sys.exit(f"service_ratios: no '{pattern}' in h2load output:\n{text}")
        return m.groups()

    value, unit = need(r"^finished in ([\d.]+)(ms|s),")
    seconds = float(value) / (1000 if unit == "ms" else 1)
    done, ok, failed, errored, timeout = map(int, need(
        r"^requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
        r"(\d+) errored, (\d+) timeout"))
    (status_2xx,) = map(int, need(r"^status codes: (\d+) 2xx"))
    (data,) = map(int, need(r"^traffic: .*\((\d+)\) data"))
    return dict(seconds=seconds, done=done, succeeded=ok, failed=failed, errored=errored,
                timeout=timeout, status_2xx=status_2xx, data=data)


def percentile(sorted_values, q):  # nearest rank
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def latency(log):
    # h2load --log-file: start time (us since epoch), status, us until end of response.
    starts, durations = [], []
    with open(log) as f:
        for line in f:
            start, status, duration = line.split("\t")[:3]
            if status.strip() != "-1":
                starts.append(int(start))
                durations.append(int(duration))
    if not durations:
        sys.exit(f"service_ratios: no completed call in {log}")
    durations.sort()
    span = (max(starts) - min(starts)) / 1e6
    result = {f"p{k}_ms": percentile(durations, q) / 1000
              for k, q in (("50", 0.50), ("90", 0.90), ("99", 0.99), ("999", 0.999))}
    result["max_ms"] = durations[-1] / 1000
    result["logged_calls"] = len(durations)
    result["achieved_rps"] = (len(starts) - 1) / span if span > 0 else 0.0
    return result


def phase(args):
    records = args.pop(0)
    opts = dict(zip(args[::2], args[1::2]))
    text = open(opts["--out"]).read()
    r = parse_h2load(text)
    problems = []
    if r["done"] == 0:
        problems.append("no call done")
    if r["failed"] or r["errored"] or r["timeout"]:
        problems.append(f"{r['failed']} failed, {r['errored']} errored, {r['timeout']} timed out")
    if r["status_2xx"] != r["done"]:
        problems.append(f"{r['done'] - r['status_2xx']} responses not 2xx")
    min_bytes = int(opts.get("--min-bytes", 0))
    if min_bytes and r["data"] < 0.99 * min_bytes * r["done"]:
        problems.append(f"{r['data']} body bytes for {r['done']} calls of {min_bytes} bytes each: "
                        "some calls ended without a message (gRPC error)")
    if problems:
        sys.exit(f"service_ratios: {opts['--name']} run not clean: {'; '.join(problems)}\n{text}")
    hz = os.sysconf("SC_CLK_TCK")
    server_s = int(opts["--server-ticks"]) / hz
    client_s = (children_cpu_seconds(open(opts["--client-cpu-after"]).read()) -
                children_cpu_seconds(open(opts["--client-cpu-before"]).read()))
    others_s = max(0.0, int(opts["--busy-ticks"]) / hz - server_s - client_s)
    record = dict(name=opts["--name"], round=int(opts["--round"]), driven=opts["--driven"],
                  calls=r["done"], seconds=r["seconds"], rps=r["done"] / r["seconds"],
                  server_us_per_call=1e6 * server_s / r["done"],
                  client_cpu_pct=100 * client_s / r["seconds"],
                  others_cores=others_s / r["seconds"], load1=float(opts["--load"]))
    if "--log" in opts:
        record.update(latency(opts["--log"]))
    with open(records, "a") as f:
        f.write(json.dumps(record) + "\n")
    line = (f"  {record['name']:<16} round {record['round']}: {record['rps']:9.0f} calls/s, "
            f"server {record['server_us_per_call']:6.1f} us/call, h2load {record['client_cpu_pct']:3.0f}% "
            f"of a core, others {record['others_cores']:.2f} cores, load {record['load1']:.2f}")
    if "p99_ms" in record:
        line += f", p99 {record['p99_ms']:.3f} ms"
    print(line, flush=True)


STALL_MS = 2.0  # a wake-up later than this alone breaks the p99 target


def stall_probe(seconds):
    # Lateness of each 0.2 ms sleep: what a thread waiting for a call on an
    # idle CPU pays before it runs, however fast the code it then runs.
    late = []
    nap = 0.0002
    end = time.monotonic() + seconds
    before = time.monotonic()
    while before < end:
        time.sleep(nap)
        after = time.monotonic()
        if after - before - nap > STALL_MS / 1000:
            late.append(after - before - nap)
        before = after
    return dict(stalls=len(late), stalled_s=sum(late), max_ms=1000 * max(late, default=0.0))


def stalls(records, seconds):
    probes = {}
    for cpu in sorted(os.sched_getaffinity(0)):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            os.sched_setaffinity(0, {cpu})
            with os.fdopen(write_end, "w") as out:
                out.write(json.dumps(stall_probe(seconds)))
            os._exit(0)
        os.close(write_end)
        probes[cpu] = (pid, read_end)
    per_cpu = {}
    for cpu, (pid, read_end) in probes.items():
        with os.fdopen(read_end) as f:
            text = f.read()
        os.waitpid(pid, 0)
        if not text:
            sys.exit(f"service_ratios: the stall probe on CPU {cpu} died")
        per_cpu[cpu] = json.loads(text)
    record = dict(name="stalls", seconds=seconds, per_cpu=per_cpu)
    with open(records, "a") as f:
        f.write(json.dumps(record) + "\n")
    print(f"  {'stalls':<16} {stall_text(record)}", flush=True)


def stall_text(record):
    cpus = record["per_cpu"]
    return (f"a thread sleeping 0.2 ms on an idle CPU woke over {STALL_MS:g} ms late "
            f"{sum(c['stalls'] for c in cpus.values())} times in {record['seconds']} s ("
            + ", ".join(f"cpu{cpu} {c['stalls']}, {100 * c['stalled_s'] / record['seconds']:.1f}% of the time"
                        for cpu, c in cpus.items())
            + f"; up to {max(c['max_ms'] for c in cpus.values()):.1f} ms)")


def summary(records_path):
    records = [json.loads(line) for line in open(records_path)]
    stall_records = [r for r in records if r["name"] == "stalls"]
    records = [r for r in records if r["name"] != "stalls"]
    by_name = {}
    for r in records:
        by_name.setdefault(r["name"], []).append(r)

    def mean(name, key):
        values = [r[key] for r in by_name[name]]
        return sum(values) / len(values)

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    print(f"\n{'phase':<16} {'round':>5} {'calls/s':>9} {'server us/call':>15} "
          f"{'h2load cpu':>10} {'others cpu':>10} {'load1':>6}  driven as")
    for r in records:
        print(f"{r['name']:<16} {r['round']:>5} {r['rps']:9.0f} {r['server_us_per_call']:15.1f} "
              f"{r['client_cpu_pct']:9.0f}% {r['others_cores']:10.2f} {r['load1']:6.2f}  {r['driven']}")
    print()
    health, grpc, rest = (mean(n, "rps") for n in ("health", "issue-grpc", "issue-rest"))
    rounds = sorted({r["round"] for r in by_name["issue-grpc"]})

    def ratio_line(label, num, den, target, how=""):
        # Each round's phases run back to back, so a round's ratio cancels slow
        # drift of the machine; the verdict is on the median of the rounds.
        ratios = [a["rps"] / b["rps"] for a in by_name[num] for b in by_name[den]
                  if a["round"] == b["round"]]
        median = statistics.median(ratios)
        print(f"{label:<26}{median:5.2f}x  (median of rounds {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"ratio of means {mean(num, 'rps') / mean(den, 'rps'):.2f})  target >= {target}x  "
              f"{verdict(median >= target)}{how}")

    print(f"mean calls/s over {len(rounds)} round(s): health {health:.0f}, IssuePlayback gRPC {grpc:.0f}, "
          f"REST {rest:.0f}" + (f", REST a connection per call {mean('issue-rest-conns', 'rps'):.0f}"
                                if "issue-rest-conns" in by_name else ""))
    issue_rates = [r["rps"] for r in by_name["issue-grpc"]]
    if max(issue_rates) > SPEED_SHIFT * min(issue_rates):
        # The half rate is half the mean: on a host whose speed shifted during
        # the rounds it can be more than the host gave at the end.
        print(f"note: IssuePlayback's rounds ran at {min(issue_rates):.0f}..{max(issue_rates):.0f} calls/s, "
              f"the host's speed changed during the run; read the half-rate p99 beside the empty RPC's")
    print(f"server CPU per call (mean): health {mean('health', 'server_us_per_call'):.1f} us, "
          f"IssuePlayback gRPC {mean('issue-grpc', 'server_us_per_call'):.1f} us, "
          f"REST {mean('issue-rest', 'server_us_per_call'):.1f} us" +
          (f", REST a connection per call {mean('issue-rest-conns', 'server_us_per_call'):.1f} us"
           if "issue-rest-conns" in by_name else ""))
    ratio_line("IssuePlayback / health", "issue-grpc", "health", TARGET_ISSUE_OVER_HEALTH)
    ratio_line("REST / gRPC IssuePlayback", "issue-rest", "issue-grpc", TARGET_REST_OVER_GRPC,
               "  (REST on the same connections, pipelined)")
    if "issue-rest-conns" in by_name:
        ratio_line("REST / gRPC IssuePlayback", "issue-rest-conns", "issue-grpc", TARGET_REST_OVER_GRPC,
                   "  (REST over a connection per call in flight)")

    def latency_line(label, record):
        print(f"{label}: {record['achieved_rps']:.0f} calls/s achieved, {record['logged_calls']} calls, "
              f"latency ms p50 {record['p50_ms']:.3f} p90 {record['p90_ms']:.3f} p99 {record['p99_ms']:.3f} "
              f"p99.9 {record['p999_ms']:.3f} max {record['max_ms']:.3f}, "
              f"server {record['server_us_per_call']:.1f} us/call, {record['driven']}")

    if "issue-half-rate" in by_name:
        h = by_name["issue-half-rate"][-1]
        latency_line(f"IssuePlayback gRPC at half of {grpc:.0f}/s", h)
        baseline = ""
        if "health-half-rate" in by_name:
            b = by_name["health-half-rate"][-1]
            latency_line("baseline, the empty RPC at the same rate and arrivals", b)
            baseline = f"  (the empty RPC's: {b['p99_ms']:.3f} ms)"
        print(f"{'p99 at half rate':<26}{h['p99_ms']:.3f} ms  target <= {TARGET_P99_MS} ms  "
              f"{verdict(h['p99_ms'] <= TARGET_P99_MS)}{baseline}")
        if "issue-bursts" in by_name and "health-bursts" in by_name:
            h, b = by_name["issue-bursts"][-1], by_name["health-bursts"][-1]
            latency_line("bursts, IssuePlayback at the same rate on fewer connections", h)
            latency_line("bursts, the empty RPC the same way", b)
            conns = int(re.match(r"h2c, (\d+) conns", h["driven"]).group(1))
            at_once = max(1, h["achieved_rps"] / conns / 100)  # h2load's ticks: every 10 ms at most
            over = "over" if h["p99_ms"] > TARGET_P99_MS else "within"
            print(f"{'p99 in bursts':<26}{h['p99_ms']:.3f} ms  ({over} the {TARGET_P99_MS} ms target, not judged by it; "
                  f"about {at_once:.0f} calls at once on a connection; the empty RPC's: {b['p99_ms']:.3f} ms)")
        for r in stall_records:
            print(f"{'the machine, idle':<26}{stall_text(r)}")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "frame":
        frame(args[0])
    elif command == "phase":
        phase(args)
    elif command == "mean":
        rates = [json.loads(line)["rps"] for line in open(args[0])
                 if json.loads(line)["name"] == args[1]]
        print(f"{sum(rates) / len(rates):.1f}")
    elif command == "stalls":
        stalls(args[0], int(args[1]))
    elif command == "summary":
        summary(args[0])
    else:
        sys.exit(f"service_ratios.py: unknown command {command}")


if __name__ == "__main__":
    main()
