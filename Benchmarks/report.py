"""The report of Benchmarks/run.sh: reads what one sitting measured (OUT/run-N/TUNNEL/: iperf3's
JSON reports, ping's output, the daemons' CPU time from /proc, the WAN's fragment count) and
writes it as figures, each tunnel against kernel VXLAN measured in the same run.

  report.py run OUT N     OUT/run-N.json, and prints run N's tables
  report.py summary OUT   OUT/summary.json, the means of all runs, printed as tables; and
                          OUT/chart.png

The chart needs matplotlib (installed by `make bench` into .build/python); without it the
summary says so and the rest stands.
"""
import glob
import json
import math
import os
import sys

BASELINE = "vxlan"

# key, what, unit, which way is better, whether a ratio to VXLAN means anything. Loss is a
# share already and VXLAN's is near zero; CPU and fragments: VXLAN has no daemon and none.
FIGURES = [
    ("tcp_1_a_to_b", "TCP 1 stream A->B", "Gbit/s", "higher", True),
    ("tcp_1_b_to_a", "TCP 1 stream B->A", "Gbit/s", "higher", True),
    ("tcp_both_ways_sum", "TCP both ways at once, sum", "Gbit/s", "higher", True),
    ("tcp_4_a_to_b", "TCP 4 streams A->B", "Gbit/s", "higher", True),
    ("udp64_received_kpps", "UDP 64-byte frames received", "kpps", "higher", True),
    ("udp64_loss_percent", "UDP 64-byte frames lost", "%", "lower", False),
    ("ping_avg_ms", "ping average", "ms", "lower", True),
    ("ping_p99_ms", "ping 99th percentile", "ms", "lower", True),
    ("cpu_a_s_per_gb", "daemon CPU, gateway A", "CPU-s/GB", "lower", False),
    ("cpu_b_s_per_gb", "daemon CPU, gateway B", "CPU-s/GB", "lower", False),
    ("wan_fragments", "WAN IP fragments (TCP runs)", "count", "lower", False),
]
FIGURE = {key: (what, unit, better, ratio) for key, what, unit, better, ratio in FIGURES}


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def settings(out):
    lines = (read(os.path.join(out, "settings.txt"), "") or "").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def tcp(raw, name):
    """(Gbit/s received, bytes received) of one iperf3 run; for --bidir, of both directions."""
    report = read_json(os.path.join(raw, name + ".json"))
    if not report or "end" not in report or "sum_received" not in report["end"]:
        return None
    end = report["end"]
    ways = [end["sum_received"]] + ([end["sum_received_bidir_reverse"]] if "sum_received_bidir_reverse" in end else [])
    return [(way["bits_per_second"] / 1e9, way["bytes"]) for way in ways]


def udp(raw):
    """Datagrams sent and received a second (thousands), over the seconds iperf3 sent, and the
    share of those sent that did not arrive. The client's report holds the server's count."""
    report = read_json(os.path.join(raw, "udp-64.json"))
    try:
        sent, arrived = report["end"]["sum_sent"], report["end"]["sum_received"]
        received = arrived["packets"] - arrived["lost_packets"]
        return {"udp64_sent_packets": sent["packets"], "udp64_received_packets": received,
                "udp64_sent_kpps": sent["packets"] / sent["seconds"] / 1e3,
                "udp64_received_kpps": received / sent["seconds"] / 1e3,
                "udp64_loss_percent": 100 * (1 - received / sent["packets"])}
    except (TypeError, KeyError, ZeroDivisionError):
        return {}


def percentile(values, share):
    """Nearest rank: the smallest value at least share of the values are not above."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ping(raw):
    times, sent = [], None
    for line in (read(os.path.join(raw, "ping.txt"), "") or "").splitlines():
        if "time=" in line:
            times.append(float(line.split("time=")[1].split()[0]))
        elif "packets transmitted" in line:
            sent = int(line.split()[0])
    if not times:
        return {}
    return {"ping_sent": sent, "ping_received": len(times),
            "ping_avg_ms": sum(times) / len(times), "ping_p99_ms": percentile(times, 0.99)}


def cpu_seconds(raw, side):
    """What side's daemon and its children used during the TCP runs, or None without one."""
    before, after = read_json(os.path.join(raw, "cpu-before.json")), read_json(os.path.join(raw, "cpu-after.json"))
    if not before or not after or side not in after:
        return None
    return sum(seconds - before.get(side, {}).get(pid, 0.0) for pid, seconds in after[side].items())


def tunnel(raw, name):
    result = {"name": name, "note": read(os.path.join(raw, "note.txt"), ""),
              "status": read(os.path.join(raw, "status.txt"), "did not finish")}
    runs = {key: tcp(raw, "tcp-" + key.split("tcp_")[1].replace("_", "-"))
            for key in ("tcp_1_a_to_b", "tcp_1_b_to_a", "tcp_4_a_to_b")}
    for key, ways in runs.items():
        result[key] = ways[0][0] if ways else None
    both = tcp(raw, "tcp-1-both-ways")
    if both and len(both) == 2:
        result["tcp_both_ways_a_to_b"], result["tcp_both_ways_b_to_a"] = both[0][0], both[1][0]
        result["tcp_both_ways_sum"] = both[0][0] + both[1][0]
    measured = [way for ways in list(runs.values()) + [both] if ways for way in ways]
    # GB carried: TCP payload the hosts received in the four runs, 10^9 bytes.
    gigabytes = sum(received for _, received in measured) / 1e9 if measured else None
    result["tcp_gb_received"] = gigabytes
    for side in "ab":
        seconds = cpu_seconds(raw, side)
        result[f"cpu_{side}_seconds"] = seconds
        result[f"cpu_{side}_s_per_gb"] = seconds / gigabytes if seconds is not None and gigabytes else None
    result.update(udp(raw))
    result.update(ping(raw))
    fragments = read(os.path.join(raw, "wan-fragments.txt"))
    result["wan_fragments"] = int(fragments) if fragments and fragments.isdigit() else None
    return result


def ratio(value, base):
    return value / base if value is not None and base else None


def with_ratios(tunnels):
    """Adds each figure's ratio to VXLAN's in the same list, where one means something."""
    base = next((t for t in tunnels if t["name"] == BASELINE), {})
    for t in tunnels:
        t["ratio_to_vxlan"] = {key: ratio(t.get(key), base.get(key)) for key, *_, has_ratio in FIGURES if has_ratio}
    return tunnels


# The tables: figures in two groups, so each line stays under 150 characters.
TABLES = [
    [("tcp_1_a_to_b", "1 STREAM A->B"), ("tcp_1_b_to_a", "1 STREAM B->A"), ("tcp_both_ways_sum", "BOTH WAYS SUM"),
     ("tcp_both_ways_split", "A->B + B->A"), ("tcp_4_a_to_b", "4 STREAMS A->B"), ("udp64_received_kpps", "UDP64 KPPS"),
     ("udp64_sent_kpps", "SENT"), ("udp64_loss_percent", "LOSS %")],
    [("ping_avg_ms", "PING AVG MS"), ("ping_p99_ms", "PING P99 MS"), ("ping_lost", "LOST"),
     ("cpu_a_s_per_gb", "CPU s/GB GW A"), ("cpu_b_s_per_gb", "GW B"), ("wan_fragments", "WAN FRAGMENTS"), ("note", "NOTES")],
]


def number(value, key):
    if value is None:
        return "-"
    if key == "wan_fragments":
        return f"{round(value):,}"
    return f"{value:.3f}" if key.startswith("ping") else f"{value:.2f}"


def cell(t, key):
    """A figure, and its ratio to VXLAN where it has one."""
    if key == "tcp_both_ways_split":
        a, b = t.get("tcp_both_ways_a_to_b"), t.get("tcp_both_ways_b_to_a")
        return f"{number(a, key)} + {number(b, key)}" if a is not None else "-"
    if key == "ping_lost":
        sent, received = t.get("ping_sent"), t.get("ping_received")
        return f"{sent - received:.0f}" if sent is not None and received is not None else "-"
    if key == "note":
        return t["note"] if t["status"] == "ok" else f"{t['status']}; {t['note']}"
    text = number(t.get(key), key)
    if key in FIGURE and FIGURE[key][3]:
        r = t["ratio_to_vxlan"].get(key)
        text += f" {r:.2f}x" if r is not None else "      "
    return text


def print_tables(tunnels):
    for columns in TABLES:
        cells = [[cell(t, key) for key, _ in columns] for t in tunnels]
        widths = [max([len(title)] + [len(row[i]) for row in cells]) for i, (_, title) in enumerate(columns)]
        name_width = max([len("TUNNEL")] + [len(t["name"]) for t in tunnels])
        header = "  ".join(title.rjust(w) if key != "note" else title for (key, title), w in zip(columns, widths))
        print(f"{'TUNNEL':<{name_width}}  {header}")
        for t, row in zip(tunnels, cells):
            line = "  ".join(text.rjust(w) if key != "note" else text for (key, _), text, w in zip(columns, row, widths))
            print(f"{t['name']:<{name_width}}  {line}".rstrip())
        print()


LEGEND = """Ratios (x) are to kernel VXLAN in the same run: for throughput higher is better, for
ping lower is better. BOTH WAYS: one stream each way at once, A->B + B->A = SUM. UDP64:
64-byte Ethernet frames (18-byte payload) A->B, SENT and received in thousands a second,
LOSS the share of those sent (lower is better). Kernel VXLAN does all its work in the
sending host's system call, which slows the sender: its UDP figure is bounded by what iperf3
sends. CPU s/GB: CPU seconds (user + system) of the tunnel daemon on each gateway during the
four TCP runs per GB (10^9 bytes) of TCP payload the hosts received; lower is better; "-"
for kernel VXLAN, whose work is the kernel's and not attributed. WAN FRAGMENTS: IP fragments
on the WAN during the TCP runs."""


def run_report(out, number_):
    info = settings(out)
    names = (read(os.path.join(out, "candidates.txt"), "") or "").split()
    run_dir = os.path.join(out, f"run-{number_}")
    tunnels = with_ratios([tunnel(os.path.join(run_dir, name), name) for name in names])
    document = {"run": int(number_), "runs": int(info.get("runs", 1)), "started": info.get("started"),
                "duration_s": int(info.get("duration", 0)), "pings": int(info.get("pings", 0)),
                "ping_interval_s": float(info.get("ping_interval", 0.01)), "udp_payload_bytes": int(info.get("udp_payload", 0)),
                "udp_frame_bytes": int(info.get("udp_payload", 0)) + 46, "udp_offered": info.get("udp_rate"),
                "cores": int(info.get("cores", 0)), "kernel": info.get("kernel"), "baseline": BASELINE,
                "tunnels": tunnels}
    with open(os.path.join(out, f"run-{number_}.json"), "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    print(f"Run {number_} of {document['runs']}: {document['duration_s']} s per iperf3 run, {document['pings']} pings "
          f"{document['ping_interval_s'] * 1000:g} ms apart, UDP offered at {document['udp_offered']}bit/s of payload; "
          f"{document['cores']} cores, kernel {document['kernel']}")
    print_tables(tunnels)
    print(LEGEND)
    print()


def runs(out):
    documents = [read_json(path) for path in glob.glob(os.path.join(out, "run-*.json"))]
    return sorted((d for d in documents if d), key=lambda d: d["run"])


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summary(documents):
    """Per tunnel: each figure's mean over the runs, and the ratio of means to VXLAN's."""
    names = [t["name"] for t in documents[0]["tunnels"]]
    merged = []
    for name in names:
        per_run = [next((t for t in d["tunnels"] if t["name"] == name), {}) for d in documents]
        keys = dict.fromkeys(key for t in per_run for key in t if key not in ("name", "note", "status", "ratio_to_vxlan"))
        ok = sum(r.get("status") == "ok" for r in per_run)
        t = {"name": name, "note": per_run[0].get("note", ""),
             "status": "ok" if ok == len(per_run) else f"ok in {ok} of {len(per_run)} runs"}
        t.update({key: mean([r.get(key) for r in per_run]) for key in keys})
        merged.append(t)
    return with_ratios(merged)


def summary_report(out):
    documents = runs(out)
    if not documents:
        print("no run to summarize")
        return
    print(f"Summary: the mean of {len(documents)} run(s) for each figure, ratios of the means to kernel VXLAN's")
    tunnels = summary(documents)
    print_tables(tunnels)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"runs": [d["run"] for d in documents], "means": tunnels}, f, indent=2)
        f.write("\n")
    chart(out, documents)


def chart(out, documents):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("no chart: matplotlib is not installed (`make bench` installs it into .build/python)")
        return
    names = [t["name"] for t in documents[0]["tunnels"]]
    means = {t["name"]: t for t in summary(documents)}
    columns = 3
    rows = math.ceil((len(FIGURES) + 1) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(16, 4.2 * rows), constrained_layout=True)
    width = 0.8 / len(documents)
    colors = plt.get_cmap("tab10").colors
    for ax, (key, what, unit, better, has_ratio) in zip(axes.flat, FIGURES):
        for i, d in enumerate(documents):
            values = [next((t.get(key) for t in d["tunnels"] if t["name"] == name), None) for name in names]
            xs = [x - 0.4 + width * (i + 0.5) for x in range(len(names))]
            ax.bar(xs, [v or 0 for v in values], width, color=colors[i % 10], label=f"run {d['run']}")
            if key == "udp64_received_kpps":  # what iperf3 managed to send, over each bar
                sent = [next((t.get("udp64_sent_kpps") for t in d["tunnels"] if t["name"] == name), None) for name in names]
                ax.scatter(xs, sent, marker="_", s=200, color="black", zorder=3, label="UDP: sent" if i == 0 else None)
        top = max(ax.get_ylim()[1], 1e-9)
        for x, name in enumerate(names):
            t = means[name]
            highest = max([t2.get(key) or 0 for d in documents for t2 in d["tunnels"] if t2["name"] == name] + [0])
            if t.get(key) is None:
                label = "no daemon" if key.startswith("cpu") and name == BASELINE else "-"
                ax.text(x, 0, label, ha="center", va="bottom", fontsize=7, color="gray")
            elif has_ratio and t["ratio_to_vxlan"].get(key) is not None:
                ax.text(x, highest + top * 0.02, f"{t['ratio_to_vxlan'][key]:.2f}x", ha="center", va="bottom", fontsize=8)
            elif t[key] == 0:
                ax.text(x, 0, "0", ha="center", va="bottom", fontsize=8)
        # An all-zero panel (no fragments) keeps a scale of 0 to 1.
        anything = any(t2.get(key) for d in documents for t2 in d["tunnels"])
        ax.set_ylim(0, top * 1.12 if anything else 1)
        ax.set_title(f"{what}\n{unit}, {better} is better", fontsize=10)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=35, ha="right", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if key == "wan_fragments":
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}" if key == "wan_fragments" else "{x:g}"))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    udp = axes.flat[[key for key, *_ in FIGURES].index("udp64_received_kpps")]
    handles += [h for h, label in zip(*udp.get_legend_handles_labels()) if label == "UDP: sent"]
    labels = [h.get_label() for h in handles]
    for ax in list(axes.flat)[len(FIGURES):]:
        ax.axis("off")
    last = axes.flat[len(FIGURES)]
    last.legend(handles, labels, loc="upper left", title="bars", fontsize=10)
    first = documents[0]
    last.text(0, 0.55, f"Above the bars: the mean's ratio to kernel VXLAN.\n"
                       f"{first['duration_s']} s per iperf3 run, {first['pings']} pings {first['ping_interval_s'] * 1000:g} ms apart,\n"
                       f"UDP: {first['udp_frame_bytes']}-byte frames offered at {first['udp_offered']}bit/s of payload.\n"
                       f"CPU: both tunnel daemons' user + system time over\n"
                       f"the four TCP runs, per GB of TCP payload received\n"
                       f"(n2n: the edges only, not the supernode).\n"
                       f"{first['cores']} cores, kernel {first['kernel']}.",
              transform=last.transAxes, va="top", fontsize=10)
    fig.suptitle(f"make bench, {first['started']}: {len(documents)} run(s) in one sitting", fontsize=13)
    path = os.path.join(out, "chart.png")
    fig.savefig(path, dpi=100)
    print(f"chart: {path}")


if __name__ == "__main__":
    command, out = sys.argv[1], sys.argv[2]
    if command == "run":
        run_report(out, sys.argv[3])
    elif command == "summary":
        summary_report(out)
    else:
        sys.exit(__doc__)
