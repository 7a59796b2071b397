#!/usr/bin/python3
"""Text helpers for the benchmarks in bench/ (python3 standard library only).

  report.py ready dns|ca|host ID FIELD  a field of autodisco's `ready {json}` line (stdin)
  report.py dnsperf                      dnsperf's statistics (stdin) -> qps avg_ms resp_bytes lost
                                         completed
  report.py dnsperf-latency              `dnsperf -v` lines (stdin) -> count p50_ms p99_ms
  report.py wrk                          `wrk --latency` output (stdin) -> rps avg_ms p99_ms
                                         requests non_2xx_3xx socket_errors
  report.py table RESULTS.tsv            the summary table (medians of repeated runs), with
                                         ratios autodisco / peer

Each parser fails (exit 1, message on stderr) when a number it needs is missing, so that a
changed tool output cannot turn into a silently empty benchmark.
"""
import json
import re
import statistics
import sys

PEERS = ("knotd", "nginx")


def fail(msg):
    sys.stderr.write(f"report.py: {msg}\n")
    sys.exit(1)


def need(pattern, text, what):
    m = re.search(pattern, text, re.MULTILINE)
    if m is None:
        fail(f"no {what} in the tool's output:\n{text}")
    return m


def cmd_ready(args):
    info = json.loads(sys.stdin.readline())
    if len(args) == 1 and args[0] in ("dns", "ca"):
        print(info[args[0]])
        return
    if len(args) == 3 and args[0] == "host":
        for host in info["hosts"]:
            if host["id"] == args[1]:
                print(host[args[2]])
                return
        fail(f"no host {args[1]} in the ready line")
    fail("usage: ready dns | ready ca | ready host ID FIELD")


def cmd_dnsperf(_args):
    text = sys.stdin.read()
    qps = float(need(r"Queries per second:\s+([\d.]+)", text, "queries per second").group(1))
    avg = float(need(r"Average Latency \(s\):\s+([\d.]+)", text, "average latency").group(1))
    resp = need(r"Average packet size:\s+request \d+, response (\d+)", text, "packet size")
    lost = need(r"Queries lost:\s+(\d+)", text, "lost count").group(1)
    done = need(r"Queries completed:\s+(\d+)", text, "completed count").group(1)
    print(f"{qps:.0f}\t{avg * 1000:.3f}\t{resp.group(1)}\t{lost}\t{done}")


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


def cmd_dnsperf_latency(_args):
    # `dnsperf -v` prints one line per answered query: "> NOERROR name type 0.000123".
    lat = sorted(float(m.group(1))
                 for m in re.finditer(r"^> \S+ \S+ \S+ ([\d.]+)$", sys.stdin.read(), re.M))
    if not lat:
        fail("no per-query lines in dnsperf -v output")
    print(f"{len(lat)}\t{percentile(lat, 50) * 1000:.3f}\t{percentile(lat, 99) * 1000:.3f}")


def wrk_ms(value):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if m is None:
        fail(f"unreadable wrk duration {value!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]
    return float(m.group(1)) * scale


def cmd_wrk(_args):
    text = sys.stdin.read()
    rps = float(need(r"^Requests/sec:\s+([\d.]+)", text, "requests/sec").group(1))
    avg = wrk_ms(need(r"^\s+Latency\s+(\S+)", text, "average latency").group(1))
    p99 = wrk_ms(need(r"^\s+99%\s+(\S+)", text, "99th percentile").group(1))
    requests = need(r"^\s+(\d+) requests in", text, "request count").group(1)
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    non2xx = m.group(1) if m else "0"
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = sum(int(g) for g in m.groups()) if m else 0
    print(f"{rps:.0f}\t{avg:.3f}\t{p99:.3f}\t{requests}\t{non2xx}\t{errors}")


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def ratio(mine, peer):
    if mine is None or peer is None or peer == 0:
        return "-"
    return f"{mine / peer:.2f}"


def median_cell(values):
    nums = [number(v) for v in values]
    if any(n is None for n in nums):
        return values[0]
    m = statistics.median(nums)
    return f"{m:.0f}" if all(v.isdigit() for v in values) else f"{m:.3f}".rstrip("0").rstrip(".")


def peak_cell(values):
    """The largest of the runs' peak RSS in KiB, or "-" for a row that measured none."""
    if not all(v.isdigit() for v in values):
        return "-"
    return str(max(int(v) for v in values))


def cmd_table(args):
    """Markdown table: one line per (suite, case, server), the median of its repeated runs
    (peak RSS: the largest), and ratios against the case's peer."""
    groups = {}
    with open(args[0], encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 10:
                fail(f"bad results line {line!r}")
            groups.setdefault(tuple(fields[:3]), []).append(fields)
    rows = []
    for key, runs in groups.items():
        col = list(zip(*runs))
        rates = [number(v) for v in col[3]]
        note = col[9][0]
        if len(runs) > 1:
            note = (f"median of {len(runs)} runs, rate {min(rates):.0f}-{max(rates):.0f}; "
                    + note)
        rows.append(list(key) + [median_cell(col[3]), median_cell(col[4]), median_cell(col[5]),
                                 peak_cell(col[6]), median_cell(col[7]),
                                 median_cell(col[8]), note])
    peers = {(r[0], r[1]): r for r in rows if r[2] in PEERS}
    print("| suite | case | server | rate /s | avg ms | p99 ms | peak RSS MiB | server CPU % "
          "| CPU µs/op | rate | avg | p99 | RSS | CPU/op | note |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: | ---: | ---: | ---: | ---: | --- |")
    for suite, case, server, rate, avg, p99, rss, cpu, cpu_op, note in rows:
        peer = peers.get((suite, case))
        rss_mib = f"{int(rss) / 1024:.1f}" if rss.isdigit() else rss
        cells = [suite, case, server, rate, avg, p99, rss_mib, cpu, cpu_op]
        if peer is None or server in PEERS:
            cells += ["", "", "", "", ""]
        else:
            cells += [ratio(number(rate), number(peer[3])), ratio(number(avg), number(peer[4])),
                      ratio(number(p99), number(peer[5])), ratio(number(rss), number(peer[6])),
                      ratio(number(cpu_op), number(peer[8]))]
        cells.append(note)
        print("| " + " | ".join(cells) + " |")
    print()
    print("Each line is the median of its runs (peak RSS: the largest). The last five numeric "
          "columns are ratios autodisco / peer (knotd for dns, nginx for https) in the same case: "
          "rate above 1 is faster; avg, p99, RSS and CPU/op above 1 are worse. Server CPU % is "
          "the server's CPU time over the run's wall time (100 = one core busy): well under 100 "
          "means the load generator, not the server, was the limit, and CPU µs/op (server CPU "
          "time per query or request) is then the fairer comparison.")


COMMANDS = {
    "ready": cmd_ready,
    "dnsperf": cmd_dnsperf,
    "dnsperf-latency": cmd_dnsperf_latency,
    "wrk": cmd_wrk,
    "table": cmd_table,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail("usage: report.py ready|dnsperf|dnsperf-latency|wrk|table ...")
    COMMANDS[sys.argv[1]](sys.argv[2:])
