#!/usr/bin/env python3
"""The measuring half of scripts/bench (standard library only).

scripts/bench builds the binaries and installs the official CLI, then runs this file. Every
measurement starts its own fake Immich server on 127.0.0.1 with fresh users, so runs never see
each other's assets, and prints numbers: benchmarks here are never pass/fail.

How things are measured, once for all:
- wall time: a monotonic clock around the process, from spawn to exit;
- peak RSS: /proc/PID/status read every 20 ms for the process and all of its descendants
  (Node may start helpers): the larger of the highest summed VmRSS and the sum of each
  process's VmHWM (the kernel's high-water mark, so a spike between samples is not lost);
- CPU: utime + stime, from wait4() for a finished process, or /proc/PID/stat for a running one.
"""

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "target" / "bench"
RELEASE = ROOT / "target" / "release"
SYNCD = RELEASE / "immich-syncd"
FAKE = RELEASE / "fake-immich"
HELPER = RELEASE / "immich-bench"
CLI_DIR = WORK / "cli"
NODE = CLI_DIR / "node_modules" / "node" / "bin" / "node"
CLI_ENTRY = CLI_DIR / "node_modules" / "@immich" / "cli" / "dist" / "index.js"
DOCS_RESULTS = ROOT / "docs" / "benchmarks" / "results.json"
WORK_RESULTS = WORK / "results.json"

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
MB = 1024 * 1024

# Issue 5's targets, printed next to each number (they do not make anything fail).
TARGETS = {
    "first_import_ratio": 0.6,
    "peak_rss_ratio": 0.3,
    "second_run_ratio": 0.1,
    "latency_p95_s": 3.0,
    "big_file_peak_rss_mb": 64,
    "rescan_s": 2.0,
    "reconcile_requests": 40,
    "remote_delete_p95_s": 60.0,
    "app_idle_mb": 150,
    "scan_100k_s": 1.5,
    "large_scan_s": 15,
    "large_rescan_s": 5,
    "large_requests": 210,
    "large_peak_rss_mb": 64,
}


def log(message):
    print(f"[bench] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# Processes and their cost


def tree_memory(pid):
    """{pid: (VmRSS, VmHWM)} in bytes for pid and every descendant (found through
    /proc/PID/task/*/children)."""
    found, stack = {}, [pid]
    while stack:
        p = stack.pop()
        if p in found:
            continue
        try:
            with open(f"/proc/{p}/status") as f:
                status = f.read()
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if not (rss and hwm):
                continue  # a zombie: its memory is gone
            found[p] = (int(rss.group(1)) * 1024, int(hwm.group(1)) * 1024)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def tree_cpu(pid):
    """{process name: CPU seconds} of pid and its descendants, summed by name (`/proc/PID/comm`:
    the app, WebKit's web and network processes)."""
    by_name = {}
    for p in tree_memory(pid):
        try:
            name = Path(f"/proc/{p}/comm").read_text().strip()
            by_name[name] = by_name.get(name, 0) + cpu_seconds(p)
        except (OSError, ValueError, IndexError):
            continue
    return by_name


def tree_rss_bytes(pid):
    return sum(rss for rss, _ in tree_memory(pid).values())


def context_switches(pid):
    """{thread id: voluntary + involuntary context switches}. Each wake-up of a sleeping thread
    counts one, so a polling loop shows here even when it costs less than a clock tick of CPU."""
    counts = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                counts[task] = sum(int(line.split()[-1]) for line in f if "ctxt_switches:" in line)
        except FileNotFoundError:
            continue
    return counts


def switches_between(before, after):
    """Wake-ups between two context_switches() readings. A thread that ended in between is
    left out (its last counts are gone with it); one that started is counted whole."""
    return sum(n - before.get(tid, 0) for tid, n in after.items())


def cpu_seconds(pid):
    """utime + stime of a running process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name may hold spaces; the fields after it are fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class RssSampler(threading.Thread):
    """Peak memory of a process tree.

    Two readings, the larger wins: the highest sum of VmRSS over the tree seen in a sample, and
    the sum of each process's VmHWM (the kernel's own high-water mark, so a spike between two
    samples is not lost). The kernel's ru_maxrss from wait4() is not used: it also counts the
    memory of the forking Python parent before exec, which is larger than immich-syncd.
    """

    def __init__(self, pid, interval=0.02):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_sum, self.hwm = 0, {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            memory = tree_memory(self.pid)
            self.peak_sum = max(self.peak_sum, sum(rss for rss, _ in memory.values()))
            for p, (_, hwm) in memory.items():
                self.hwm[p] = max(self.hwm.get(p, 0), hwm)
            self.done.wait(self.interval)

    @property
    def peak(self):
        return max(self.peak_sum, sum(self.hwm.values()))


def machine_busy_seconds():
    """CPU seconds all CPUs spent busy since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


# Servers started by this run: their CPU is part of the measurement, not "other work".
SERVER_PIDS = set()


def servers_cpu():
    total = 0.0
    for pid in SERVER_PIDS:
        try:
            total += cpu_seconds(pid)
        except FileNotFoundError:
            pass
    return total


def run_measured(cmd, log_path, env=None, cwd=None, timeout=3600):
    """Runs cmd to its end; returns wall time, peak RSS, CPU and exit code, and how much CPU
    everything else on the machine used meanwhile (other_cpu_s: the machine's busy time minus
    the tool's and the fake server's), which tells a clean run from one that shared the CPUs."""
    busy0, server0 = machine_busy_seconds(), servers_cpu()
    with open(log_path, "ab") as out:
        out.write(f"\n$ {' '.join(map(str, cmd))}\n".encode())
        out.flush()
        start = time.monotonic()
        started_at = time.time()
        proc = subprocess.Popen(
            [str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )
        sampler = RssSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        timer.cancel()
        sampler.done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    tool_cpu = usage.ru_utime + usage.ru_stime
    other = machine_busy_seconds() - busy0 - (servers_cpu() - server0) - tool_cpu
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(sampler.peak / MB, 1),
        "peak_rss_sampled_sum_mb": round(sampler.peak_sum / MB, 1),
        "processes": len(sampler.hwm),
        "cpu_s": round(tool_cpu, 2),
        "server_cpu_s": round(servers_cpu() - server0, 2),
        "other_cpu_s": round(max(0.0, other), 2),
        "exit_code": proc.returncode,
        "_started_at": started_at,
    }


def busy_percent(seconds=2.0):
    """How busy all CPUs are (every process, ours included), from /proc/stat over `seconds`."""

    def read():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle

    total0, idle0 = read()
    time.sleep(seconds)
    total1, idle1 = read()
    return round(100 * (1 - (idle1 - idle0) / max(1, total1 - total0)), 1)


def wait_for_quiet(args):
    """On a shared machine another build or test run skews every number, so each measurement
    waits (up to --max-wait seconds) until the CPUs are nearly idle, and records how busy they
    were when it started."""
    deadline = time.monotonic() + args.max_wait
    busy = busy_percent()
    while busy > args.quiet_percent and time.monotonic() < deadline:
        log(f"  the machine is {busy} % busy with other work; waiting for it to calm down")
        time.sleep(10)
        busy = busy_percent()
    return {"cpu_busy_percent_before": busy, "load_average_before": round(os.getloadavg()[0], 2)}


def stop(proc, timeout=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# The fake server


class Server:
    """A fake Immich server with one fresh user per API key.

    counting=False runs the fake-immich binary (the project's stand-in, as users of the
    benchmark would start it); counting=True runs `immich-bench serve`, the same server
    embedded in a helper that can report the requests it received.
    """

    def __init__(self, storage, keys, counting=False):
        self.storage = Path(storage)
        shutil.rmtree(self.storage, ignore_errors=True)
        self.storage.mkdir(parents=True)
        users = []
        for i, key in enumerate(keys):
            users += ["--user", f"bench{i}@example.com:Bench {i}:{key}"]
        self.counting = counting
        binary = [HELPER, "serve"] if counting else [FAKE, "--port", "0"]
        self.proc = subprocess.Popen(
            [str(c) for c in binary + ["--profile", "v3", "--storage", str(self.storage)] + users],
            stdin=subprocess.PIPE if counting else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        SERVER_PIDS.add(self.proc.pid)
        first = self.proc.stdout.readline()
        if counting:
            self.url = json.loads(first)["url"]
        else:
            match = re.search(r"listening on (\S+)", first)
            if not match:
                raise SystemExit(f"fake-immich did not start: {first!r}")
            self.url = match.group(1)
        self.user_ids = {key: self.get("/api/users/me", key)["id"] for key in keys}

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def requests(self):
        return self.command("requests")

    def close(self):
        if self.counting and self.proc.stdin:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        stop(self.proc)
        SERVER_PIDS.discard(self.proc.pid)
        shutil.rmtree(self.storage, ignore_errors=True)

    def call(self, method, path, key, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"x-api-key": key, "content-type": "application/json", "accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def get(self, path, key):
        return self.call("GET", path, key)

    def asset_count(self, key):
        return self.get("/api/assets/statistics", key)["total"]

    def stored_files(self, key):
        """Files the server keeps for this user on disk (its own bookkeeping aside)."""
        folder = self.storage / self.user_ids[key]
        return sum(len(files) for _, _, files in os.walk(folder)) if folder.exists() else 0

    def version(self, key):
        v = self.get("/api/server/version", key)
        return f"{v['major']}.{v['minor']}.{v['patch']}"


# ---------------------------------------------------------------------------------------------
# Datasets (cached in target/bench/dataset, keyed by their size)


def dataset_bytes(folder):
    return sum(
        os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files
    )


def count_files(folder):
    return sum(len(files) for _, _, files in os.walk(folder))


def cached_dataset(kind, count, args):
    """Makes (once) and returns (folder, total bytes). The marker is written last, so a run
    that was interrupted is finished by the next one, never taken for complete."""
    folder = WORK / "dataset" / f"{kind}-{count}"
    marker = folder.with_name(folder.name + ".complete")
    if marker.exists() and count_files(folder) == count:
        return folder, int(marker.read_text())
    marker.unlink(missing_ok=True)
    log(f"making dataset {folder.relative_to(ROOT)} ({count} files)")
    t = time.monotonic()
    subprocess.run([str(HELPER), kind, "--count", str(count), "--out", str(folder)] + args, check=True)
    total = dataset_bytes(folder)
    marker.write_text(str(total))
    log(f"  {count} files, {total / MB:.0f} MB in {time.monotonic() - t:.0f} s")
    return folder, total


def warm_page_cache(folder):
    """Reads every file once, so neither tool pays for the disk and the order does not matter."""
    for d, _, files in os.walk(folder):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                while fh.read(1 << 20):
                    pass


# ---------------------------------------------------------------------------------------------
# immich-syncd


def syncd_config(path, server_url, key, folder, state, event_log=None, extra=""):
    """A configuration as a user would write it: defaults everywhere except the paths.
    `folder` may be a list of folders."""
    folders = folder if isinstance(folder, list) else [folder]
    lines = [f'database_path = "{state}"']
    if event_log:
        lines.append(f'event_log = "{event_log}"')
    lines += [
        "",
        "[defaults]",
        "upload_concurrency = 4",
        extra,
        "",
        "[[account]]",
        'name = "bench"',
        f'server_url = "{server_url}"',
        f'api_key = "{key}"',
        "",
    ]
    for f in folders:
        lines += ["[[account.folder]]", f'path = "{f}"', ""]
    Path(path).write_text("\n".join(lines))
    # The file holds an API key; the engine rightly warns about one others can read.
    os.chmod(path, 0o600)
    return path


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    Path(path).mkdir(parents=True)
    return Path(path)


def read_events(path):
    events = []
    if Path(path).exists():
        with open(path) as f:
            for line in f:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                event["t"] = parse_time(event["timestamp"])
                events.append(event)
    return events


def parse_time(text):
    # RFC 3339 with up to nanoseconds; Python keeps microseconds.
    text = text.replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    return datetime.fromisoformat(text).timestamp()


def phases(events, started_at, ended_at):
    """Seconds spent in each part of a --once pass, from the event log."""

    def first(kind):
        return next((e["t"] for e in events if e["event"] == kind), None)

    def last(kind):
        return next((e["t"] for e in reversed(events) if e["event"] == kind), None)

    connected, scan_started, scan_finished = first("connected"), first("scan_started"), last("scan_finished")
    uploaded = last("uploaded") or last("linked")
    out = {}
    if connected:
        out["connect_s"] = round(connected - started_at, 3)
    if connected and scan_started:
        out["walk_s"] = round(scan_started - connected, 3)
    if scan_started and scan_finished:
        out["hash_and_record_s"] = round(scan_finished - scan_started, 3)
    if connected and scan_finished:
        out["scan_s"] = round(scan_finished - connected, 3)
    if scan_finished and uploaded and uploaded > scan_finished:
        out["upload_and_link_s"] = round(uploaded - scan_finished, 3)
    # In a --once pass the remote check runs beside the scan; what comes after the scan and
    # the uploads is the rest of that check, the deletes, and the exit.
    end_of_work = max(t for t in (scan_finished, uploaded) if t) if (scan_finished or uploaded) else None
    if end_of_work:
        out["reconcile_and_exit_s"] = round(ended_at - end_of_work, 3)
    return out


def event_names(events):
    names = {}
    for e in events:
        names[e["event"]] = names.get(e["event"], 0) + 1
    return names


# ---------------------------------------------------------------------------------------------
# compare: the official CLI against immich-syncd --once


def cli_version():
    return json.loads((CLI_DIR / "node_modules" / "@immich" / "cli" / "package.json").read_text())["version"]


def node_version():
    return subprocess.run([str(NODE), "--version"], capture_output=True, text=True).stdout.strip()


def compare_once(args, folder, rep, cli_first_in_order):
    """One repetition: a new server with two new users, a fresh CLI config and state db."""
    run = fresh_dir(WORK / "run" / "compare" / f"rep{rep}")
    logs = run / "logs.txt"
    cli_key, our_key = "cli-key-" + os.urandom(6).hex(), "syncd-key-" + os.urandom(6).hex()
    server = Server(run / "storage", [cli_key, our_key])
    try:
        assert server.asset_count(cli_key) == 0 and server.asset_count(our_key) == 0
        cli_env = dict(os.environ)
        cli_env.update(
            IMMICH_INSTANCE_URL=server.url,
            IMMICH_API_KEY=cli_key,
            IMMICH_CONFIG_DIR=str(fresh_dir(run / "cli-config")),
        )
        tools = {
            "cli": ([NODE, CLI_ENTRY, "upload", "-r", "-c", "4", folder], cli_env),
            "immich_syncd": (
                [SYNCD, "--once", "--config",
                 syncd_config(run / "syncd.toml", server.url, our_key, folder, run / "state.db")],
                None,
            ),
        }
        # Alternating which tool goes first cancels whatever the order favours (a warmer
        # server, the other tool's uploads still being flushed to disk).
        order = ["cli", "immich_syncd"] if cli_first_in_order else ["immich_syncd", "cli"]
        measured = {tool: {} for tool in tools}
        for phase in ("first_import", "second_run"):
            for tool in order:
                cmd, env = tools[tool]
                quiet = wait_for_quiet(args)
                measured[tool][phase] = m = {**run_measured(cmd, logs, env=env), **quiet}
                log(f"  rep {rep} {tool:13} {phase:13} {m['wall_s']:8.3f} s {m['peak_rss_mb']:7.1f} MB"
                    + ("" if m["exit_code"] == 0 else f"  exit {m['exit_code']}"))
        counts = {
            "cli": {"api": server.asset_count(cli_key), "stored_files": server.stored_files(cli_key)},
            "immich_syncd": {"api": server.asset_count(our_key), "stored_files": server.stored_files(our_key)},
        }
        return measured, counts, server.version(cli_key)
    finally:
        server.close()


def bench_compare(args, results):
    if not (NODE.exists() and CLI_ENTRY.exists()):
        raise SystemExit("the official CLI is not installed; run scripts/bench (not bench.py) once")
    folder, total = cached_dataset("jpegs", args.files, [])
    warm_page_cache(folder)
    log(f"compare: {args.files} photos, {total / MB:.0f} MB, {args.repeat} repetition(s)")
    reps, all_counts = [], []
    for rep in range(1, args.repeat + 1):
        measured, counts, server_version = compare_once(args, folder, rep, rep % 2 == 1)
        reps.append(measured)
        all_counts.append(counts)

    def median(tool, phase, metric):
        return round(statistics.median(r[tool][phase][metric] for r in reps), 3)

    def summary(tool):
        return {
            phase: {metric: median(tool, phase, metric) for metric in ("wall_s", "peak_rss_mb", "cpu_s")}
            for phase in ("first_import", "second_run")
        }

    cli, ours = summary("cli"), summary("immich_syncd")

    def ratio(a, b):
        return round(a / b, 3) if b else None

    section = {
        **stamp(),
        "files": args.files,
        "dataset_bytes": total,
        "dataset": "distinct 1600x1200 JPEGs (quality 85), page cache warm",
        "server": f"fake-immich release binary, profile v3 ({server_version}); a new server and two "
                  "new users per repetition",
        "cli_command": "node dist/index.js upload -r -c 4 DIR (IMMICH_INSTANCE_URL, IMMICH_API_KEY, "
                       "private IMMICH_CONFIG_DIR)",
        "syncd_command": "immich-syncd --once --config FILE (fresh state db, upload_concurrency = 4)",
        "repetitions": args.repeat,
        "statistic": "median over repetitions; the order of the tools alternates",
        "cli": cli,
        "immich_syncd": ours,
        "ratios": {
            "first_import_wall": ratio(ours["first_import"]["wall_s"], cli["first_import"]["wall_s"]),
            "first_import_peak_rss": ratio(ours["first_import"]["peak_rss_mb"], cli["first_import"]["peak_rss_mb"]),
            "second_run_wall": ratio(ours["second_run"]["wall_s"], cli["second_run"]["wall_s"]),
        },
        "assets_on_server": all_counts,
        "assets_ok": all(
            c["api"] == args.files and c["stored_files"] == args.files
            for counts in all_counts for c in counts.values()
        ),
        "exit_codes_ok": all(
            m["exit_code"] == 0 for r in reps for tool in r.values() for m in tool.values()
        ),
        "runs": reps,
    }
    results["compare"] = section
    results.setdefault("versions", {}).update(
        {"immich_cli": cli_version(), "node_for_cli": node_version(), "fake_immich_profile": server_version}
    )
    print_compare(section)


def print_compare(s):
    cli, ours, r = s["cli"], s["immich_syncd"], s["ratios"]
    rows = [
        ("first import, wall s", cli["first_import"]["wall_s"], ours["first_import"]["wall_s"], r["first_import_wall"], TARGETS["first_import_ratio"]),
        ("first import, peak RSS MB", cli["first_import"]["peak_rss_mb"], ours["first_import"]["peak_rss_mb"], r["first_import_peak_rss"], TARGETS["peak_rss_ratio"]),
        ("nothing new, wall s", cli["second_run"]["wall_s"], ours["second_run"]["wall_s"], r["second_run_wall"], TARGETS["second_run_ratio"]),
    ]
    print()
    print(f"{s['files']} photos, {s['dataset_bytes'] / MB:.0f} MB, median of {s['repetitions']} repetition(s)")
    print(f"{'':28} {'Immich CLI':>11} {'immich-syncd':>13} {'ratio':>7} {'target':>7}")
    for name, a, b, ratio, target in rows:
        print(f"{name:28} {a:>11} {b:>13} {ratio:>7} {'≤ ' + str(target):>7}")
    for rep, counts in enumerate(s["assets_on_server"], 1):
        print(
            f"rep {rep}: assets on the server: CLI {counts['cli']['api']} "
            f"({counts['cli']['stored_files']} files stored), immich-syncd "
            f"{counts['immich_syncd']['api']} ({counts['immich_syncd']['stored_files']} files stored)"
        )
    print(f"every account holds exactly {s['files']} assets: {'yes' if s['assets_ok'] else 'NO'}; "
          f"every run exited 0: {'yes' if s['exit_codes_ok'] else 'NO'}")
    print()


# ---------------------------------------------------------------------------------------------
# Engine alone


def start_daemon(config, logs, env=None):
    out = open(logs, "ab")
    proc = subprocess.Popen(
        [str(SYNCD), "--config", str(config)], stdout=out, stderr=subprocess.STDOUT, env=env
    )
    out.close()
    return proc


def wait_for_event(event_log, kind, proc, timeout=600, after=0.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"immich-syncd stopped with status {proc.returncode}")
        if any(e["event"] == kind and e["t"] >= after for e in read_events(event_log)):
            return
        time.sleep(0.1)
    raise SystemExit(f"immich-syncd did not report {kind} within {timeout} s")


def bench_latency(args, results):
    """Drops files one at a time into a watched folder and times each until it is on the server."""
    photos, _ = cached_dataset("jpegs", args.latency_files, [])
    sources = sorted(p for p in photos.rglob("*.jpg"))
    run = fresh_dir(WORK / "run" / "latency")
    watched = fresh_dir(run / "watched")
    key = "latency-" + os.urandom(6).hex()
    server = Server(run / "storage", [key])
    events = run / "events.jsonl"
    config = syncd_config(run / "syncd.toml", server.url, key, watched, run / "state.db", events)
    proc = start_daemon(config, run / "logs.txt")
    latencies = []
    try:
        wait_for_event(events, "scan_finished", proc, timeout=60)
        quiet = wait_for_quiet(args)
        log(f"engine-latency: dropping {len(sources)} photos one by one into a watched folder")
        for i, source in enumerate(sources, 1):
            data = source.read_bytes()
            # Written under a name the engine ignores (hidden, .part), then renamed: the file
            # is complete at the rename, which is when the clock starts.
            temp = watched / f".{source.name}.part"
            temp.write_bytes(data)
            os.rename(temp, watched / source.name)
            t0 = time.monotonic()
            while server.asset_count(key) < i:
                if time.monotonic() - t0 > 60:
                    raise SystemExit(f"{source.name} was not on the server after 60 s")
                time.sleep(0.02)
            latencies.append(time.monotonic() - t0)
            time.sleep(0.2)
    finally:
        stop(proc)
        server.close()
    latencies.sort()
    section = {
        **stamp(),
        "files": len(latencies),
        "file_bytes_avg": sum(p.stat().st_size for p in sources) // len(sources),
        "stable_after": "2s (default)",
        "p50_s": round(percentile(latencies, 50), 3),
        "p95_s": round(percentile(latencies, 95), 3),
        "max_s": round(latencies[-1], 3),
        "min_s": round(latencies[0], 3),
        "how": "rename into the watched folder, then poll GET /api/assets/statistics every 20 ms",
        **quiet,
    }
    results.setdefault("engine", {})["new_file_latency"] = section
    print(f"\nnew file → on the server ({section['files']} photos): p50 {section['p50_s']} s, "
          f"p95 {section['p95_s']} s (target ≤ {TARGETS['latency_p95_s']}), max {section['max_s']} s\n")


def percentile(sorted_values, p):
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def bench_big_file(args, results):
    """Uploads one large file with --once and records the daemon's peak RSS."""
    run = fresh_dir(WORK / "run" / "big-file")
    folder = fresh_dir(run / "folder")
    big = folder / "big-video.mp4"
    size = int(args.big_gb * 1024 * MB)
    log(f"engine-2gb: writing {size / MB:.0f} MB of random data")
    # /dev/urandom is fast enough (hundreds of MB/s) and makes the content incompressible.
    with open(big, "wb") as out:
        subprocess.run(["head", "-c", str(size), "/dev/urandom"], stdout=out, check=True)
    key = "big-" + os.urandom(6).hex()
    server = Server(run / "storage", [key])
    events = run / "events.jsonl"
    try:
        config = syncd_config(run / "syncd.toml", server.url, key, folder, run / "state.db", events)
        quiet = wait_for_quiet(args)
        log("  immich-syncd --once")
        measured = {**run_measured([SYNCD, "--once", "--config", config], run / "logs.txt"), **quiet}
        on_server = server.asset_count(key)
        stored = [p.stat().st_size for p in (server.storage / server.user_ids[key]).rglob("*") if p.is_file()]
    finally:
        server.close()
        big.unlink(missing_ok=True)
    section = {
        **stamp(),
        "file_bytes": size,
        **measured,
        "throughput_mb_s": round(size / MB / measured["wall_s"], 1),
        "phases": phases(read_events(events), measured["_started_at"], measured["_started_at"] + measured["wall_s"]),
        "on_server": on_server == 1 and stored == [size],
    }
    results.setdefault("engine", {})["big_file"] = section
    print(f"\n{size / MB / 1024:.1f} GB file: {measured['wall_s']} s ({section['throughput_mb_s']} MB/s), "
          f"peak RSS {measured['peak_rss_mb']} MB (target ≤ {TARGETS['big_file_peak_rss_mb']}), "
          f"on the server: {section['on_server']}\n")


def openssl_sha1():
    """openssl speed -evp sha1 (one core): bytes per second for each block size."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", "1", "-evp", "sha1"], capture_output=True, text=True
    ).stdout
    header = re.search(r"^type\s+(.*)$", out, re.M)
    row = re.search(r"^sha1\s+(.*)$", out, re.M)
    if not (header and row):
        return {}
    sizes = re.findall(r"(\d+) bytes", header.group(1))
    rates = [round(float(v.rstrip("k")) * 1000) for v in row.group(1).split()]
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return {"version": version, "bytes_per_s_by_block": dict(zip(sizes, rates))}


def bench_scan(args, results, want, suffix=""):
    """First scan and rescan of many small files, and the requests a pass with nothing new makes.

    Both engine-rescan and engine-requests need the same 100k-file import, so they share this
    function; `all` runs it once and keeps both sections.
    """
    folder, total = cached_dataset("small-files", args.small_files, ["--size", str(args.small_size)])
    run = fresh_dir(WORK / "run" / "scan")
    key = "scan-" + os.urandom(6).hex()
    server = Server(run / "storage", [key], counting=True)
    try:
        server.command("record off")  # the import's 100k uploads need not be kept
        warm_page_cache(folder)
        events = run / "events-first.jsonl"
        config = syncd_config(run / "first.toml", server.url, key, folder, run / "state.db", events)
        log(f"engine-rescan: first --once over {args.small_files} files of {args.small_size} bytes")
        quiet = wait_for_quiet(args)
        first = {**run_measured([SYNCD, "--once", "--config", config], run / "logs.txt"), **quiet}
        ev_first = read_events(events)
        first_phases = phases(ev_first, first["_started_at"], first["_started_at"] + first["wall_s"])
        log(f"    {first['wall_s']} s (scan {first_phases.get('scan_s')} s)")
        on_server = server.asset_count(key)

        rescans = []
        for rep in range(1, args.repeat + 1):
            server.command("reset")
            server.command("record on")
            events = run / f"events-rescan{rep}.jsonl"
            config = syncd_config(run / f"rescan{rep}.toml", server.url, key, folder, run / "state.db", events)
            quiet = wait_for_quiet(args)
            measured = {**run_measured([SYNCD, "--once", "--config", config], run / "logs.txt"), **quiet}
            server.command("record off")
            ev = read_events(events)
            measured["phases"] = phases(ev, measured["_started_at"], measured["_started_at"] + measured["wall_s"])
            measured["events"] = event_names(ev)
            measured["requests"] = server.requests()
            rescans.append(measured)
            log(f"  rescan {rep}: --once {measured['wall_s']} s (scan {measured['phases'].get('scan_s')} s), "
                f"{measured['requests']['total']} requests")

        # The daemon over the same library: its start-up pass (scan and full check), then idle.
        daemon = idle_daemon(args, run, server, key, folder) if suffix == "_large" else None

        # A new state file against an account that already holds everything (a reinstall, or
        # someone moving over from the CLI): every file is hashed and linked, nothing uploaded.
        events = run / "events-relink.jsonl"
        config = syncd_config(run / "relink.toml", server.url, key, folder, run / "state-relink.db", events)
        quiet = wait_for_quiet(args)
        log("  a fresh state file against the same account (everything is linked, nothing uploaded)")
        relink = {**run_measured([SYNCD, "--once", "--config", config], run / "logs.txt"), **quiet}
        ev = read_events(events)
        relink["phases"] = phases(ev, relink["_started_at"], relink["_started_at"] + relink["wall_s"])
        relink["events"] = event_names(ev)
        log(f"    {relink['wall_s']} s (scan {relink['phases'].get('scan_s')} s, "
            f"linking {relink['phases'].get('upload_and_link_s')} s)")
    finally:
        server.close()

    sha1 = openssl_sha1()
    scan_s = first_phases.get("scan_s")
    cores = os.cpu_count()
    rate_1k = sha1.get("bytes_per_s_by_block", {}).get("1024")
    rate_16k = sha1.get("bytes_per_s_by_block", {}).get("16384")
    first_scan = {
        "wall_s_whole_pass": first["wall_s"],
        "peak_rss_mb": first["peak_rss_mb"],
        "cpu_s_whole_pass": first["cpu_s"],
        "phases": first_phases,
        "files_per_s": round(args.small_files / scan_s) if scan_s else None,
        "mb_per_s": round(total / MB / scan_s, 1) if scan_s else None,
        "hash_only_s_at_openssl_speed_all_cores": round(total / (rate_1k * cores), 3) if rate_1k else None,
        "events": event_names(ev_first),
        "exit_code": first["exit_code"],
        "assets_on_server": on_server,
        "cpu_busy_percent_before": first["cpu_busy_percent_before"],
    }

    def median(values):
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 3) if values else None

    rescan = {
        "repetitions": len(rescans),
        "median_wall_s_whole_pass": median(r["wall_s"] for r in rescans),
        "median_scan_s": median(r["phases"].get("scan_s") for r in rescans),
        "median_reconcile_and_exit_s": median(r["phases"].get("reconcile_and_exit_s") for r in rescans),
        "median_peak_rss_mb": median(r["peak_rss_mb"] for r in rescans),
        "median_cpu_s": median(r["cpu_s"] for r in rescans),
        "runs": [{k: v for k, v in r.items() if k != "requests"} for r in rescans],
    }
    engine = results.setdefault("engine", {})
    common = {**stamp(), "files": args.small_files, "file_bytes": args.small_size, "dataset_bytes": total}
    if "rescan" in want:
        engine["scan" + suffix] = {
            **common,
            "first_scan": first_scan,
            "rescan": rescan,
            "fresh_state_everything_on_server": relink,
            **({"daemon": daemon} if daemon else {}),
            "openssl_sha1": {
                **sha1,
                "mb_per_s_1k_blocks": round(rate_1k / MB, 1) if rate_1k else None,
                "mb_per_s_16k_blocks": round(rate_16k / MB, 1) if rate_16k else None,
            },
        }
        print(f"\n{args.small_files} files of {args.small_size} bytes ({total / MB:.0f} MB)")
        print(f"  first scan: {scan_s} s = {first_scan['files_per_s']} files/s, {first_scan['mb_per_s']} MB/s "
              f"(walk {first_phases.get('walk_s')} s, hash and record {first_phases.get('hash_and_record_s')} s); "
              f"hashing alone at openssl speed: {first_scan['hash_only_s_at_openssl_speed_all_cores']} s")
        if rate_1k:
            print(f"  openssl speed -evp sha1, one core: {rate_1k / MB:.0f} MB/s on 1 KB blocks, "
                  f"{rate_16k / MB:.0f} MB/s on 16 KB blocks")
        print(f"  whole first pass (scan, {on_server} uploads, reconcile): {first['wall_s']} s")
        print(f"  fresh state file, everything already on the server: {relink['wall_s']} s "
              f"(scan {relink['phases'].get('scan_s')} s, linking {relink['phases'].get('upload_and_link_s')} s)")
        print(f"  rescan, median of {len(rescans)}: scan {rescan['median_scan_s']} s "
              f"(target ≤ {TARGETS['rescan_s']}), whole --once pass {rescan['median_wall_s_whole_pass']} s "
              f"(reconcile and exit {rescan['median_reconcile_and_exit_s']} s)")
    if "requests" in want:
        requests = rescans[0]["requests"]
        engine["reconcile_requests" + suffix] = {
            **common,
            "linked_assets": on_server,
            "total_requests": requests["total"],
            "totals_of_every_repetition": [r["requests"]["total"] for r in rescans],
            "routes": requests["routes"],
            "how": "every request the server received during a --once pass with nothing changed "
                   "(connection checks, scan, upload queue, remote-delete reconciliation)",
        }
        print(f"\nrequests during a --once pass over {on_server} linked assets with nothing changed: "
              f"{requests['total']} (target ≤ {TARGETS['reconcile_requests']})")
        for route, n in requests["routes"].items():
            print(f"    {n:>6}  {route}")
    print()


def idle_daemon(args, run, server, key, folder, idle_seconds=30):
    """The daemon started over a synced library: the peak of its start-up pass (the scan and
    the full check run at start), then its memory and CPU while idle."""
    events = run / "events-daemon.jsonl"
    config = syncd_config(run / "daemon.toml", server.url, key, folder, run / "state.db", events)
    log(f"  the daemon over the same library: start-up pass, then {idle_seconds} s idle")
    started = time.time()
    proc = start_daemon(config, run / "logs.txt")
    try:
        wait_for_event(events, "scan_finished", proc, timeout=600, after=started)
        # The full check started with the scan; give it time to end before the clock starts.
        time.sleep(10)
        startup_s = round(time.time() - started, 1)
        cpu0 = cpu_seconds(proc.pid)
        time.sleep(idle_seconds)
        idle_cpu = cpu_seconds(proc.pid) - cpu0
        memory = tree_memory(proc.pid)
    finally:
        stop(proc)
    rss = sum(r for r, _ in memory.values())
    hwm = sum(h for _, h in memory.values())
    out = {
        "idle_seconds": idle_seconds,
        "startup_wait_s": startup_s,
        "peak_rss_mb": round(hwm / MB, 1),
        "idle_rss_mb": round(rss / MB, 1),
        "idle_cpu_s": round(idle_cpu, 2),
    }
    log(f"    peak {out['peak_rss_mb']} MB, idle {out['idle_rss_mb']} MB, "
        f"{out['idle_cpu_s']} CPU s over {idle_seconds} s idle")
    return out


def bench_idle(args, results):
    """CPU the daemon uses over a minute with nothing to do, after importing a folder."""
    folder, _ = cached_dataset("jpegs", args.files, [])
    run = fresh_dir(WORK / "run" / "idle")
    key = "idle-" + os.urandom(6).hex()
    server = Server(run / "storage", [key], counting=True)
    events = run / "events.jsonl"
    try:
        config = syncd_config(run / "syncd.toml", server.url, key, folder, run / "state.db", events)
        log(f"engine-idle: importing {args.files} photos first")
        run_measured([SYNCD, "--once", "--config", config], run / "logs.txt")
        started = time.time()
        proc = start_daemon(config, run / "logs.txt")
        try:
            wait_for_event(events, "scan_finished", proc, timeout=300, after=started)
            # Let the start-up reconciliation and any stragglers finish before the clock starts.
            time.sleep(5)
            quiet = wait_for_quiet(args)
            server.command("reset")
            server.command("record on")
            log(f"  daemon idle for {args.idle_seconds} s")
            startup_cpu = cpu_seconds(proc.pid)
            switches = context_switches(proc.pid)
            rss_start = tree_rss_bytes(proc.pid)
            time.sleep(args.idle_seconds)
            idle_cpu = cpu_seconds(proc.pid) - startup_cpu
            wakeups = switches_between(switches, context_switches(proc.pid))
            rss_end = tree_rss_bytes(proc.pid)
            requests = server.requests()
            threads = len(os.listdir(f"/proc/{proc.pid}/task"))
        finally:
            stop(proc)
    finally:
        server.close()
    section = {
        **stamp(),
        "folder_files": args.files,
        "seconds": args.idle_seconds,
        "cpu_s": round(idle_cpu, 3),
        "cpu_percent": round(100 * idle_cpu / args.idle_seconds, 3),
        "startup_cpu_s": round(startup_cpu, 2),
        "rss_mb_start": round(rss_start / MB, 1),
        "rss_mb_end": round(rss_end / MB, 1),
        "threads": threads,
        "context_switches": wakeups,
        "requests_while_idle": requests["total"],
        "clock_ticks_per_s": TICK,
        **quiet,
    }
    results.setdefault("engine", {})["idle"] = section
    print(f"\nidle {args.idle_seconds} s with {args.files} synced photos: {section['cpu_s']} CPU s "
          f"({section['cpu_percent']} %), {wakeups} thread wake-ups, {requests['total']} requests, RSS {section['rss_mb_end']} MB\n")


def bench_remote(args, results):
    """Photos trashed in Immich (as its web UI does: DELETE /api/assets without force) one after
    another, each timed until its file has left the synced folder for the OS trash; before
    that, the requests a running daemon makes in a minute with nothing to do. Default settings:
    the trash feed every 30 s, deletes judged 30 s after the last one of a folder."""
    n = args.remote_deletes
    run = fresh_dir(WORK / "run" / "remote")
    library = fresh_dir(run / "library")
    key = "remote-" + os.urandom(6).hex()
    server = Server(run / "storage", [key], counting=True)
    # One folder per delete, four photos each: the guard's per-folder limits (10 files, 25 %)
    # then see one delete each, so the default limits stay in force and nothing is held.
    folders = []
    for i in range(n):
        folder = library / f"album-{i:02}"
        folder.mkdir()
        for j in range(4):
            body = f"remote delete benchmark photo {i} {j} ".encode() * 64
            (folder / f"IMG_{i:02}_{j}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + body + b"\xff\xd9")
        folders.append(folder)
    events = run / "events.jsonl"
    config = syncd_config(run / "syncd.toml", server.url, key, folders, run / "state.db", events)
    # The OS trash of this run lives in the run folder.
    env = dict(os.environ, XDG_DATA_HOME=str(fresh_dir(run / "xdg")))
    proc = start_daemon(config, run / "logs.txt", env)
    latencies = []
    try:
        deadline = time.monotonic() + 120
        while server.asset_count(key) < 4 * n:
            if time.monotonic() > deadline:
                raise SystemExit("engine-remote: the library did not reach the server in 120 s")
            time.sleep(0.2)
        time.sleep(5)  # the start-up check of every synced photo
        quiet = wait_for_quiet(args)
        server.command("reset")
        server.command("record on")
        log(f"engine-remote: the daemon idles for {args.idle_seconds} s")
        time.sleep(args.idle_seconds)
        idle = server.requests()
        listed = server.call("POST", "/api/search/metadata", key, {"size": 1000})["assets"]["items"]
        ids = {a["originalFileName"]: a["id"] for a in listed}
        log(f"engine-remote: trashing {n} photos in Immich, one every {args.remote_spacing} s")
        pending = {}
        for i in range(n):
            name = f"IMG_{i:02}_0.jpg"
            server.call("DELETE", "/api/assets", key, {"ids": [ids[name]], "force": False})
            pending[folders[i] / name] = time.monotonic()
            until = time.monotonic() + args.remote_spacing
            while time.monotonic() < until:
                for path, t0 in list(pending.items()):
                    if not path.exists():
                        latencies.append(time.monotonic() - t0)
                        del pending[path]
                time.sleep(0.05)
        deadline = time.monotonic() + 300
        while pending and time.monotonic() < deadline:
            for path, t0 in list(pending.items()):
                if not path.exists():
                    latencies.append(time.monotonic() - t0)
                    del pending[path]
            time.sleep(0.05)
        in_trash = len(list((run / "xdg" / "Trash" / "files").glob("*.jpg")))
    finally:
        stop(proc)
        server.close()
    latencies.sort()
    section = {
        **stamp(),
        "deletes": n,
        "arrived": len(latencies),
        "in_os_trash": in_trash,
        "spacing_s": args.remote_spacing,
        "settings": "defaults: remote_check_interval 30s, delete_grace 30s, reconcile_interval 1h",
        "p50_s": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_s": round(percentile(latencies, 95), 1) if latencies else None,
        "max_s": round(latencies[-1], 1) if latencies else None,
        "min_s": round(latencies[0], 1) if latencies else None,
        "idle_seconds": args.idle_seconds,
        "idle_requests": idle["total"],
        "idle_routes": idle["routes"],
        **quiet,
    }
    results.setdefault("engine", {})["remote_delete_latency"] = section
    print(f"\ntrashed in Immich → in the OS trash ({len(latencies)} of {n}): p50 {section['p50_s']} s, "
          f"p95 {section['p95_s']} s (target ≤ {TARGETS['remote_delete_p95_s']}), max {section['max_s']} s; "
          f"idle: {idle['total']} requests in {args.idle_seconds} s {idle['routes']}\n")


# ---------------------------------------------------------------------------------------------
# Results


def now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def stamp():
    """When, and which engine: sub-commands refresh sections one at a time, so each section
    says which commit of the engine it measured."""
    v = versions()
    return {
        "measured_at": now(),
        "engine_commit": v["git_commit"] + (" with uncommitted changes" if v["engine_uncommitted_changes"] else ""),
    }


def machine():
    def first_match(path, pattern):
        try:
            m = re.search(pattern, Path(path).read_text(), re.M)
            return m.group(1).strip() if m else None
        except OSError:
            return None

    mem_kb = first_match("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    return {
        "cpu": first_match("/proc/cpuinfo", r"^model name\s*:\s*(.*)$"),
        "cores": os.cpu_count(),
        "ram_gb": round(int(mem_kb) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "os": first_match("/etc/os-release", r'^PRETTY_NAME="?([^"\n]*)'),
        "filesystem": subprocess.run(
            ["df", "--output=fstype", str(WORK)], capture_output=True, text=True
        ).stdout.split()[-1],
    }


def versions():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return None

    return {
        "immich_syncd": out([str(SYNCD), "--version"]),
        "rustc": out(["rustc", "--version"]),
        "python": platform.python_version(),
        "git_commit": out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        # The numbers belong to the working tree that was built, which may be ahead of HEAD.
        "engine_uncommitted_changes": bool(
            out(["git", "-C", str(ROOT), "status", "--porcelain", "--", "crates/sync-engine"])
        ),
    }


def load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def public(value):
    """Drops the keys starting with _ (bookkeeping such as absolute start times)."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def save(results, write_docs):
    """Merges into the existing files, so one sub-command refreshes only its own section, and
    redraws the tables of docs/benchmarks.md from the merged results."""
    paths = [WORK_RESULTS] + ([DOCS_RESULTS] if write_docs else [])
    for path in paths:
        merged = load(path)
        for key, value in public(results).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
        log(f"results written to {path.relative_to(ROOT)}")
    if write_docs:
        render_docs(load(DOCS_RESULTS))


DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- results: begin (scripts/bench writes this part) -->", "<!-- results: end -->"


def phase_table(sc):
    """The phases of each pass of a scan measurement, from its event log."""
    fs, rl = sc["first_scan"], sc.get("fresh_state_everything_on_server")
    out = [
        f"Phases of the {sc['files']:,}-file passes, from the event log (s):",
        "",
        "| pass | connect | walk | hash and record | upload or link | rest of the remote check, deletes, exit | whole | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    passes = [("first import", fs["phases"], fs["wall_s_whole_pass"], fs["peak_rss_mb"])]
    if rl:
        passes.append(("fresh state file, all content already on the server", rl["phases"], rl["wall_s"], rl["peak_rss_mb"]))
    passes += [(f"rescan {i}", run["phases"], run["wall_s"], run["peak_rss_mb"])
               for i, run in enumerate(sc["rescan"]["runs"], 1)]
    for name, ph, wall, rss in passes:
        out.append(
            f"| {name} | {fmt(ph.get('connect_s'))} | {fmt(ph.get('walk_s'))} | {fmt(ph.get('hash_and_record_s'))} | "
            f"{fmt(ph.get('upload_and_link_s'))} | {fmt(ph.get('reconcile_and_exit_s'))} | {fmt(wall)} | {fmt(rss, ' MB', 1)} |"
        )
    out.append("")
    return out


def large_section(sc, rq):
    """`scripts/bench --large`: the issue-11 targets at a million files."""
    fs, rs, rl = sc["first_scan"], sc["rescan"], sc.get("fresh_state_everything_on_server")
    scan_s = fs["phases"].get("scan_s")
    rows = [
        f"| first scan of {sc['files']:,} files of {sc['file_bytes']} bytes | **{fmt(scan_s, ' s')}** "
        f"({fs['files_per_s']:,} files/s) | ≤ {TARGETS['large_scan_s']} s | "
        f"{verdict(scan_s is not None and scan_s <= TARGETS['large_scan_s'])} |",
        f"| rescan with nothing changed, whole `--once` pass (median of {rs['repetitions']}) | "
        f"**{fmt(rs['median_wall_s_whole_pass'], ' s')}** (scan {fmt(rs['median_scan_s'], ' s')}) | "
        f"≤ {TARGETS['large_rescan_s']} s | "
        f"{verdict(rs['median_wall_s_whole_pass'] is not None and rs['median_wall_s_whole_pass'] <= TARGETS['large_rescan_s'])} |",
    ]
    if rq:
        rows.append(
            f"| requests of that pass | **{rq['total_requests']}** "
            f"({rq['routes'].get('POST /api/assets/bulk-upload-check', 0)} bulk-upload-check) | "
            f"≤ {TARGETS['large_requests']} | {verdict(rq['total_requests'] <= TARGETS['large_requests'])} |"
        )
    passes = [("first import", fs["peak_rss_mb"]), ("rescan", rs["median_peak_rss_mb"])]
    if rl:
        passes.append(("fresh state file, all content already on the server", rl["peak_rss_mb"]))
    dm = sc.get("daemon")
    if dm:
        passes.append(("daemon (its start-up scan and check, then idle)", dm["peak_rss_mb"]))
    for name, rss in passes:
        rows.append(
            f"| peak RSS, {name} | **{fmt(rss, ' MB', 1)}** | ≤ {TARGETS['large_peak_rss_mb']} MB | "
            f"{verdict(rss is not None and rss <= TARGETS['large_peak_rss_mb'])} |"
        )
    if dm:
        rows.append(
            f"| RSS of that daemon idle ({dm['idle_cpu_s']} CPU s in {dm['idle_seconds']} s) | "
            f"**{fmt(dm['idle_rss_mb'], ' MB', 1)}** | ≤ {TARGETS['large_peak_rss_mb']} MB | "
            f"{verdict(dm['idle_rss_mb'] <= TARGETS['large_peak_rss_mb'])} |"
        )
    if rl:
        rows.append(
            f"| linking {sc['files']:,} files already in Immich (fresh state file) | "
            f"**{fmt(rl['phases'].get('upload_and_link_s'), ' s')}** beyond a {fmt(rl['phases'].get('scan_s'), ' s')} scan | "
            f"(≤ 3 s for 100,000) | |"
        )
    return [
        f"### A million files (`scripts/bench --large`; engine {sc.get('engine_commit', '–')}, "
        f"{sc.get('measured_at', '')[:10]})",
        "",
        "| measurement | result | target | |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        *phase_table(sc),
    ]


def verdict(ok):
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def fmt(value, unit="", digits=2):
    if value is None:
        return "–"
    if isinstance(value, float):
        if 0 < abs(value) < 1 and digits == 2:
            digits = 3  # 0.046 s, not 0.05 s
        value = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
    return f"{value}{unit}"


def activity_section(a, explain=True, earlier=""):
    """The Activity window's table (`explain`: with the paragraph on how it is measured)."""
    moments = [
        ("during_import", "during the first import (a fifth uploaded; left open to the end)"),
        ("synced_library", f"the app started again over the {a['files']:,} synced files"),
        ("held_deletes", f"{a.get('deleted_locally', 0):,} local deletes held for review"),
    ]

    def cells(m):
        if not m:
            return ["–"] * 6
        search = m.get("search_ms")
        f = m.get("frames", {})
        return [
            fmt(m.get("status_shown_s"), " s", 2),
            fmt(m.get("ready_s"), " s", 2),
            " / ".join(f"{v:g}" for v in search.values()) + " ms" if search else "–",
            f"{f.get('p50_ms', '–')} / {f.get('p95_ms', '–')} / {f.get('max_ms', '–')} ms",
            fmt(m.get("app_rss_mb"), " MB", 1),
            f"{m.get('status_json_bytes', 0):,} B",
        ]

    out = [
        f"### The Activity window over {a['files']:,} files (release app; engine {a.get('engine_commit', '–')}, "
        f"{a.get('measured_at', '')[:10]}){earlier}",
        "",
    ]
    if explain:
        out += [
            "Opened as a user opens it (a second launch with `--open activity`); times run from that "
            "launch to the page's own marks after painting. Search: the three queries "
            "`F0000`, `F0000042`, `no such photo` typed whole into the events' search field. "
            "Frame gaps: between the page's animation frames over 5 s. Memory: the app and WebKit's "
            "processes. Status: `immich-syncd status --json` from the running app.",
            "",
        ]
    out += [
        "| moment | accounts and events shown | everything shown | search | frame gaps p50 / p95 / max "
        "| app RSS | status snapshot |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, name in moments:
        out.append(f"| {name} | " + " | ".join(cells(a.get(key))) + " |")
    if a.get("import_s"):
        out += ["", f"The first import, with the window open from a fifth on, took {a['import_s']} s."]
        cpu = (a.get("during_import") or {}).get("cpu_to_end_s")
        if cpu:
            # /proc/PID/comm keeps 15 characters: WebKit's helpers by what they are.
            names = {"immich-sync": "the app", "immich-sync-ui": "the windows' process",
                     "WebKitWebProces": "WebKit's web process", "WebKitNetworkPr": "its network process"}
            spent = [f"{names.get(name, name)} {seconds:g} s" for name, seconds in
                     sorted(cpu.items(), key=lambda kv: -kv[1]) if seconds > 0]
            out[-1] += " From the window's opening to the import's end, CPU time: " + ", ".join(spent) + "."
    if a.get("held_after_s"):
        out += ["", f"The {a['deleted_locally']:,} local deletes were held for review {a['held_after_s']} s "
                    "after the app started (a scan, then each delete planned; `delete_grace` 2 s)."]
    out.append("")
    return out


def render_docs(r):
    """The measured numbers as Markdown tables, between the markers in docs/benchmarks.md."""
    if not DOCS.exists():
        return
    text = DOCS.read_text()
    if BEGIN not in text or END not in text:
        return
    m, v = r.get("machine", {}), r.get("versions", {})
    out = [
        BEGIN,
        "",
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram_gb')} GB RAM, "
        f"{m.get('os')}, Linux {m.get('kernel')}, {m.get('filesystem')}. "
        f"Official CLI: @immich/cli {v.get('immich_cli', '–')} on Node.js {v.get('node_for_cli', '–')}; "
        f"server: fake-immich, v3 profile (Immich {v.get('fake_immich_profile', '–')}); {v.get('rustc')}.",
        "",
    ]
    c = r.get("compare")
    if c:
        cli, ours, ratio = c["cli"], c["immich_syncd"], c["ratios"]
        out += [
            f"### Against the official CLI ({c['files']} photos, {c['dataset_bytes'] / MB:.0f} MB; "
            f"median of {c['repetitions']}; engine {c.get('engine_commit', '–')}, {c['measured_at'][:10]})",
            "",
            "| | Immich CLI | immich-syncd | ours / CLI | target | |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            f"| first import, wall time | {fmt(cli['first_import']['wall_s'], ' s')} | "
            f"{fmt(ours['first_import']['wall_s'], ' s')} | {fmt(ratio['first_import_wall'])} | ≤ 0.6 | "
            f"{verdict(ratio['first_import_wall'] <= TARGETS['first_import_ratio'])} |",
            f"| first import, peak RSS | {fmt(cli['first_import']['peak_rss_mb'], ' MB', 1)} | "
            f"{fmt(ours['first_import']['peak_rss_mb'], ' MB', 1)} | {fmt(ratio['first_import_peak_rss'])} | ≤ 0.3 | "
            f"{verdict(ratio['first_import_peak_rss'] <= TARGETS['peak_rss_ratio'])} |",
            f"| run with nothing new, wall time | {fmt(cli['second_run']['wall_s'], ' s')} | "
            f"{fmt(ours['second_run']['wall_s'], ' s')} | {fmt(ratio['second_run_wall'])} | ≤ 0.1 | "
            f"{verdict(ratio['second_run_wall'] <= TARGETS['second_run_ratio'])} |",
            f"| first import, CPU time | {fmt(cli['first_import']['cpu_s'], ' s')} | "
            f"{fmt(ours['first_import']['cpu_s'], ' s')} | "
            f"{fmt(ours['first_import']['cpu_s'] / cli['first_import']['cpu_s'] if cli['first_import']['cpu_s'] else None)} | | |",
            f"| run with nothing new, peak RSS | {fmt(cli['second_run']['peak_rss_mb'], ' MB', 1)} | "
            f"{fmt(ours['second_run']['peak_rss_mb'], ' MB', 1)} | | | |",
            "",
            f"Every account ended with exactly {c['files']} assets (API count and files stored): "
            f"{'yes' if c['assets_ok'] else 'NO'}; every run exited 0: {'yes' if c['exit_codes_ok'] else 'NO'}.",
            "",
        ]
    e = r.get("engine", {})
    rows = []
    lat = e.get("new_file_latency")
    if lat:
        rows.append(
            f"| new file in a watched folder → on the server ({lat['files']} photos) | p50 {fmt(lat['p50_s'], ' s')}, "
            f"**p95 {fmt(lat['p95_s'], ' s')}**, max {fmt(lat['max_s'], ' s')} | p95 ≤ 3 s | "
            f"{verdict(lat['p95_s'] <= TARGETS['latency_p95_s'])} |"
        )
    big = e.get("big_file")
    if big:
        rows.append(
            f"| {big['file_bytes'] / MB / 1024:.0f} GB file uploaded by `--once` | **peak RSS {fmt(big['peak_rss_mb'], ' MB', 1)}**, "
            f"{fmt(big['wall_s'], ' s')} ({fmt(big['throughput_mb_s'], ' MB/s', 0)}) | ≤ 64 MB | "
            f"{verdict(big['peak_rss_mb'] <= TARGETS['big_file_peak_rss_mb'] and big['on_server'])} |"
        )
    sc = e.get("scan")
    if sc:
        rs, fs, ssl = sc["rescan"], sc["first_scan"], sc["openssl_sha1"]
        n = f"{sc['files']:,}"
        rows.append(
            f"| rescan of {n} unchanged files (median of {rs['repetitions']}) | **scan {fmt(rs['median_scan_s'], ' s')}**; "
            f"whole `--once` pass {fmt(rs['median_wall_s_whole_pass'], ' s')} (the remote check runs beside "
            f"the scan; it, the deletes and the exit end {fmt(rs['median_reconcile_and_exit_s'], ' s')} after it) | ≤ 2 s | "
            f"{verdict(rs['median_scan_s'] is not None and rs['median_scan_s'] <= TARGETS['rescan_s'])} |"
        )
        share = (fs["hash_only_s_at_openssl_speed_all_cores"] / fs["phases"]["scan_s"]
                 if fs.get("hash_only_s_at_openssl_speed_all_cores") and fs["phases"].get("scan_s") else None)
        rows.append(
            f"| first scan of the same files ({sc['file_bytes']} bytes each) | {fmt(fs['phases'].get('scan_s'), ' s')}: "
            f"**{fs['files_per_s']:,} files/s, {fmt(fs['mb_per_s'], ' MB/s', 1)}**; `openssl speed -evp sha1` "
            f"{fmt(ssl.get('mb_per_s_1k_blocks'), ' MB/s', 0)} per core on 1 KB blocks, so hashing is "
            f"{fmt(100 * share if share is not None else None, ' %', 1)} of the scan | "
            f"≤ {TARGETS['scan_100k_s']} s for 100,000 | "
            f"{verdict(fs['phases'].get('scan_s') is not None and fs['phases']['scan_s'] <= TARGETS['scan_100k_s'])} |"
        )
    rq = e.get("reconcile_requests")
    if rq:
        rows.append(
            f"| requests of a `--once` pass over {rq['linked_assets']:,} linked assets, nothing changed | "
            f"**{rq['total_requests']}** ({rq['routes'].get('POST /api/assets/bulk-upload-check', 0)} bulk-upload-check, "
            f"the rest connection checks) | ≤ 40 | {verdict(rq['total_requests'] <= TARGETS['reconcile_requests'])} |"
        )
    rd = e.get("remote_delete_latency")
    if rd:
        per_min = 60 * rd["idle_requests"] / rd["idle_seconds"]
        rows.append(
            f"| photo trashed in Immich → its file in the OS trash ({rd['arrived']} of {rd['deletes']}, default settings) | "
            f"p50 {fmt(rd['p50_s'], ' s', 1)}, **p95 {fmt(rd['p95_s'], ' s', 1)}**, max {fmt(rd['max_s'], ' s', 1)} | p95 ≤ 60 s | "
            f"{verdict(rd['p95_s'] is not None and rd['p95_s'] <= TARGETS['remote_delete_p95_s'] and rd['arrived'] == rd['deletes'])} |"
        )
        rows.append(
            f"| requests of an idle daemon ({', '.join(f'{k}: {v}' for k, v in rd['idle_routes'].items()) or 'none'}) | "
            f"**{rd['idle_requests']} in {rd['idle_seconds']} s** ({fmt(per_min, '/min', 1)}) | ≤ 1 small request per 30 s | "
            f"{verdict(per_min <= 2.0 + 1e-9)} |"
        )
    idle = e.get("idle")
    if idle:
        rows.append(
            f"| idle daemon, {idle['folder_files']:,} synced photos, {idle['seconds']} s | **{fmt(idle['cpu_s'], ' CPU s', 3)}** "
            f"({idle['context_switches']} thread wake-ups, {idle['requests_while_idle']} requests) | ≈ 0 (≤ 0.1 s) | "
            f"{verdict(idle['cpu_s'] <= 0.1)} |"
        )
    if rows:
        commits = sorted({s.get("engine_commit", "–") for s in e.values() if isinstance(s, dict)})
        out += [
            f"### The engine alone (engine {', '.join(commits)})",
            "",
            "| measurement | result | target | |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
        ]
    if sc:
        out += phase_table(sc)
    lg, lq = e.get("scan_large"), e.get("reconcile_requests_large")
    if lg:
        out += large_section(lg, lq)
    am = r.get("app_memory")
    if am:
        row = lambda name, key: (  # noqa: E731
            f"| {name} | {fmt(am[key]['rss_mb'], ' MB', 1)} | {fmt(am[key].get('anonymous_mb'), ' MB', 1)} | "
            f"{am[key]['processes']} | "
            f"{verdict(am[key]['rss_mb'] <= TARGETS['app_idle_mb']) if 'open' not in key else ''} |"
        )
        out += [
            f"### The tray app's memory (release build, summed over its processes; engine {am.get('engine_commit', '–')}, "
            f"{am.get('measured_at', '')[:10]})",
            "",
            "| moment | resident (RSS) | of it private (anonymous) | processes | RSS ≤ 150 MB |",
            "| --- | ---: | ---: | ---: | --- |",
            row("idle in the tray", "idle"),
            row("Activity open", "activity_open_1"),
            row("Activity closed", "after_close_1"),
            row("Activity open again", "activity_open_2"),
            row("closed again", "after_close_2"),
            "",
        ]
        ended = am.get("window_process_ended_after_s")
        if ended:
            out += [
                "The windows run in a process of their own, which stays 30 s after its last window "
                "closed in case another is opened, then ends: here "
                + " and ".join(f"{v} s" for v in ended.values())
                + " after Activity closed. Each \"closed\" row is 10 s after that.",
                "",
            ]
    # `app_activity_before`: an earlier commit's run, kept by hand for comparison.
    explained = False
    for key in ("app_activity_large", "app_activity", "app_activity_before"):
        if r.get(key):
            out += activity_section(r[key], explain=not explained,
                                    earlier=" — an earlier commit, for comparison" if key.endswith("_before") else "")
            explained = True
    out.append(END)
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    DOCS.write_text(before + "\n".join(out) + after)
    log(f"tables in {DOCS.relative_to(ROOT)} redrawn")



# ---------------------------------------------------------------------------------------------
# The tray app's memory


APP = RELEASE / "immich-sync"


def window_ids(env, title):
    """X window ids whose title contains `title` (wmctrl, through the window manager)."""
    out = subprocess.run(["wmctrl", "-l"], env=env, capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if title in line]


def wait_until(check, timeout, step=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


def tree_sample(pid):
    """(summed RSS, process count, {process name: (RSS, anonymous part) in MB}) of pid and
    its descendants. The anonymous part is the heap and stacks; the rest is mapped files
    (libraries, fonts), which the kernel can drop and processes share."""
    memory = tree_memory(pid)
    names = {}
    for p, (rss, _) in memory.items():
        try:
            name = Path(f"/proc/{p}/comm").read_text().strip()
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            anon = int(re.search(r"^Anonymous:\s+(\d+) kB", rollup, re.M).group(1)) * 1024
        except (OSError, AttributeError):
            name, anon = "?", 0
        total, anon_total = names.get(name, (0, 0))
        names[name] = (round(total + rss / MB, 1), round(anon_total + anon / MB, 1))
    return sum(rss for rss, _ in memory.values()), len(memory), names


def app_home(home, display, config):
    """The environment of a tray app living in `home` (settings `config`, keys in a file, not
    the keychain) on X display `display`."""
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "RUST_LOG"):
        env.pop(var, None)
    env.update(HOME=str(home), TMPDIR=str(home / "tmp"), IMMICH_SYNC_KEYSTORE="file", DISPLAY=display)
    (home / "tmp").mkdir(exist_ok=True)
    config_dir = home / ".config" / "immich-sync"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(config)
    # The file holds an API key; the app rightly warns about one others can read.
    os.chmod(config_dir / "config.toml", 0o600)
    return env


def start_display(env, helpers):
    """An Xvfb on env's DISPLAY and a D-Bus session for it (added to `helpers`, to be stopped)."""
    helpers.append(subprocess.Popen(["Xvfb", env["DISPLAY"], "-screen", "0", "1280x1000x24", "-nolisten", "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1.0)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    helpers.append(bus)
    env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()


def bench_app_memory(args, results):
    """The release tray app's memory, summed over its processes (WebKit's included): idle in
    the tray, with Activity open, and after Activity is closed as a user closes it (the window
    manager's close), twice over. Runs under its own Xvfb, D-Bus session and openbox."""
    home = fresh_dir(WORK / "app-memory")
    photos = home / "Pictures"
    photos.mkdir()
    for n in range(20):
        (photos / f"IMG_{n:04}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + f"app memory photo {n} ".encode() * 40 + b"\xff\xd9")
    key = "bench-app-memory-key"
    server = Server(home / "server", [key])
    env = app_home(home, ":87",
                   f'[[account]]\nname = "bench"\nserver_url = "{server.url}"\napi_key = "{key}"\n'
                   f'[[account.folder]]\npath = "{photos}"\n')
    helpers = []
    app = None
    try:
        start_display(env, helpers)
        helpers.append(subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        wait_for_quiet(args)
        app = subprocess.Popen([str(APP)], env=env, stdout=subprocess.DEVNULL,
                               stderr=open(home / "app.log", "w"))
        if not wait_until(lambda: server.asset_count(key) == 20, 120):
            raise SystemExit("the app did not upload its 20 photos; see target/bench/app-memory/app.log")
        settle = 10
        time.sleep(settle)
        samples = {"idle": tree_sample(app.pid)}
        ended_after = {}
        for round_ in (1, 2):
            subprocess.run([str(APP), "--open", "activity"], env=env, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not wait_until(lambda: window_ids(env, "Activity"), 60):
                raise SystemExit("the Activity window did not open")
            time.sleep(settle)
            samples[f"activity_open_{round_}"] = tree_sample(app.pid)
            for wid in window_ids(env, "Activity"):
                subprocess.run(["wmctrl", "-ic", wid], env=env)
            if not wait_until(lambda: not window_ids(env, "Activity"), 30):
                raise SystemExit("the Activity window did not close")
            closed = time.time()
            # The windows' process ends a while after its last window (window_process::LINGER).
            if not wait_until(lambda: tree_sample(app.pid)[1] == 1, 120):
                raise SystemExit("the window process did not end after its last window closed")
            ended_after[f"round {round_}"] = round(time.time() - closed, 1)
            time.sleep(settle)
            samples[f"after_close_{round_}"] = tree_sample(app.pid)
    finally:
        if app:
            stop(app)
        for proc in reversed(helpers):
            stop(proc)
        server.close()
    out = {name: {"rss_mb": round(rss / MB, 1), "processes": n,
                  "anonymous_mb": round(sum(anon for _, anon in procs.values()), 1),
                  "by_process": {p: {"rss_mb": r, "anonymous_mb": a} for p, (r, a) in procs.items()}}
           for name, (rss, n, procs) in samples.items()}
    out["window_process_ended_after_s"] = ended_after
    out.update(stamp())
    results["app_memory"] = out
    log("tray app memory (summed over its processes): " +
        ", ".join(f"{k} {v['rss_mb']} MB (anonymous {v['anonymous_mb']} MB, {v['processes']} processes)"
                  for k, v in out.items() if isinstance(v, dict) and "rss_mb" in v))


# ---------------------------------------------------------------------------------------------
# The Activity window over a large library


class WebDriver:
    """The few W3C WebDriver calls the benchmark needs, against tauri-driver on 127.0.0.1:4444
    (which starts the app under WebKitWebDriver). A session exists only once the app shows a
    window, so `begin` asks for it in the background and `session` waits for it."""

    URL = "http://127.0.0.1:4444"

    def __init__(self, env, log_path):
        wait_until(lambda: port_free(4444) and port_free(4445), 60)
        self.proc = subprocess.Popen(["tauri-driver", "--port", "4444"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(log_path, "a"))
        self.sid = None
        self.thread = None
        self.error = None
        if not wait_until(lambda: self.ready(), 30, step=0.1):
            raise SystemExit("tauri-driver did not start")

    def ready(self):
        try:
            urllib.request.urlopen(self.URL + "/status", timeout=2).read()
            return True
        except OSError:
            return False

    def call(self, method, path, body=None, timeout=120):
        """One WebDriver command. tauri-driver sometimes drops a connection while the app is
        busy (a first import on both cores); the commands used here can simply be sent again."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(10):
            request = urllib.request.Request(self.URL + path, data=data, method=method,
                                             headers={"content-type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return json.loads(response.read())["value"]
            except urllib.error.HTTPError as e:
                raise RuntimeError(f"WebDriver {method} {path}: {e.code} {e.read()[:300]!r}") from None
            except (ConnectionError, http.client.RemoteDisconnected) as e:
                if attempt == 9:
                    raise RuntimeError(f"WebDriver {method} {path}: {e}") from None
                time.sleep(0.5)

    def begin(self):
        """Starts the app; the session itself is created when its first window opens."""
        caps = {"capabilities": {"alwaysMatch": {"browserName": "wry",
                                                 "tauri:options": {"application": str(APP)}}}}

        def create():
            try:
                self.sid = self.call("POST", "/session", caps, timeout=600)["sessionId"]
            except Exception as e:  # reported by session()
                self.error = e

        self.thread = threading.Thread(target=create, daemon=True)
        self.thread.start()

    def session(self, timeout=120):
        self.thread.join(timeout)
        if not self.sid:
            raise SystemExit(f"no WebDriver session: {self.error or 'timed out'}")
        return self.sid

    def switch_to(self, page, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for handle in self.call("GET", f"/session/{self.sid}/window/handles"):
                self.call("POST", f"/session/{self.sid}/window", {"handle": handle})
                if self.call("GET", f"/session/{self.sid}/url").endswith(page):
                    return
            time.sleep(0.05)
        raise SystemExit(f"no window shows {page}")

    def js(self, script, *args, asynchronous=False):
        kind = "async" if asynchronous else "sync"
        return self.call("POST", f"/session/{self.sid}/execute/{kind}", {"script": script, "args": list(args)})

    def close(self):
        if self.sid:
            try:
                self.call("DELETE", f"/session/{self.sid}", timeout=60)
            except (RuntimeError, OSError):
                pass
        if self.thread:
            self.thread.join(5)
        stop(self.proc)
        # The next app started while this one still ends would hand over to it and exit.
        if not wait_until(lambda: app_pid() is None, 60):
            pid = app_pid()
            if pid:
                os.kill(pid, signal.SIGKILL)


def port_free(port):
    import socket
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def app_pid():
    """The running tray app (started by WebKitWebDriver), not a second launch handing over nor
    its windows' process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] == str(APP).encode() and b"--open" not in argv and b"--window-process" not in argv:
            return int(entry.name)
    return None


ACTIVITY_MARKS = """
const mark = (name) => performance.getEntriesByName(name)[0];
const status = mark("activity-status"), ready = mark("activity-ready");
return [performance.timeOrigin, status ? status.startTime : null, ready ? ready.startTime : null,
        document.querySelectorAll("#activity-list li").length,
        document.querySelectorAll("#held-list li[data-id]").length];
"""

# Each query is typed into the search field as a whole; the time is the input handler plus the
# layout it causes, measured in the page.
ACTIVITY_SEARCH = """
const input = document.getElementById("event-search");
const out = [];
for (const query of arguments[0]) {
  const t = performance.now();
  input.value = query;
  input.dispatchEvent(new Event("input"));
  void document.body.offsetHeight;
  out.push([query, performance.now() - t, document.querySelectorAll("#activity-list li").length]);
}
input.value = "";
input.dispatchEvent(new Event("input"));
return out;
"""

# The gaps between frames over a few seconds: how smoothly the page keeps up.
ACTIVITY_FRAMES = """
const done = arguments[arguments.length - 1];
const seconds = arguments[0];
const times = [];
const end = performance.now() + seconds * 1000;
function frame(t) {
  times.push(t);
  if (t < end) { requestAnimationFrame(frame); return; }
  const gaps = times.slice(1).map((x, i) => x - times[i]).sort((a, b) => a - b);
  done([gaps.length, gaps[Math.floor(gaps.length / 2)], gaps[Math.floor(gaps.length * 0.95)], gaps[gaps.length - 1]]);
}
requestAnimationFrame(frame);
"""


def measure_activity(driver, env, label, search=True, quiet=True):
    """Opens Activity as a user does (a second launch with --open), and reads from the page how
    long it took until the accounts and events showed ("activity-status") and until the held
    deletes and the Deletes lists had too ("activity-ready"), from the moment of the launch."""
    idle = None
    if quiet:
        wait_for_quiet(driver.args)
        # What the app spends with no window and nothing to do (but holds to wait on).
        pid = app_pid()
        if pid:
            cpu0 = cpu_seconds(pid)
            time.sleep(30)
            idle = round(cpu_seconds(pid) - cpu0, 2)
    started = time.time()
    subprocess.run([str(APP), "--open", "activity"], env=env, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver.session()
    driver.switch_to("activity.html")
    deadline = time.time() + 600
    while True:
        origin, status, ready, events, held = driver.js(ACTIVITY_MARKS)
        if ready is not None or time.time() > deadline:
            break
        time.sleep(0.05)
    out = {
        "page_started_s": round(origin / 1000 - started, 3),
        "idle_cpu_s_per_30s": idle,
        "status_shown_s": round((origin + status) / 1000 - started, 3) if status is not None else None,
        "ready_s": round((origin + ready) / 1000 - started, 3) if ready is not None else None,
        "events_listed": events,
        "held_listed": held,
    }
    if search:
        queries = ["F0000", "F0000042", "no such photo"]
        out["search_ms"] = {q: round(ms, 1) for q, ms, _ in driver.js(ACTIVITY_SEARCH, queries)}
    n, p50, p95, worst = driver.js(ACTIVITY_FRAMES, 5, asynchronous=True)
    out["frames"] = {"count": n, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "max_ms": round(worst, 1)}
    pid = app_pid()
    if pid:
        rss, processes, names = tree_sample(pid)
        out["app_rss_mb"] = round(rss / MB, 1)
        out["app_processes"] = processes
        out["by_process"] = {p: {"rss_mb": r, "anonymous_mb": a} for p, (r, a) in names.items()}
    status_json = subprocess.run([str(SYNCD), "status", "--json"], env=env, capture_output=True, timeout=60)
    out["status_json_bytes"] = len(status_json.stdout)
    log(f"  {label}: page started after {out['page_started_s']} s, accounts and events shown after "
        f"{out['status_shown_s']} s, everything after "
        f"{out['ready_s']} s; search {out.get('search_ms')} ms; frames p95 {out['frames']['p95_ms']} ms; "
        f"{out.get('app_rss_mb')} MB {out.get('by_process')}; status {out['status_json_bytes']} bytes; "
        f"{idle} CPU s in 30 s before opening")
    return out


def held_count(env):
    done = subprocess.run([str(SYNCD), "status", "--json"], env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        return None
    status = json.loads(done.stdout)
    return sum(f.get("held_deletes", 0) for a in status["accounts"] for f in a.get("folders", []))


def bench_app_activity(args, results):
    """The Activity window of the release tray app over a large library (--small-files, a
    million with --large): while the first import runs, after it (the app started again over
    the synced library), and with a tenth of the library deleted locally, which the mass-delete
    guard holds for review. Each time: how long until the window shows its content, how long a
    search of the events takes, the page's frame gaps, the app's memory and the size of a
    status snapshot."""
    count = args.small_files
    dataset, _ = cached_dataset("small-files", count, ["--size", str(args.small_size)])
    home = fresh_dir(WORK / "app-activity")
    library = home / "Library"
    log(f"app-activity: linking a copy of the {count}-file dataset")
    subprocess.run(["cp", "-al", str(dataset), str(library)], check=True)
    key = "bench-activity-key"
    server = Server(home / "server", [key])
    env = app_home(home, ":88",
                   "[defaults]\ndelete_grace = \"2s\"\n\n"
                   f'[[account]]\nname = "bench"\nserver_url = "{server.url}"\napi_key = "{key}"\n'
                   f'delete_mode = "mirror"\ndelete_threshold = 3000\n'
                   f'[[account.folder]]\npath = "{library}"\n')
    helpers, driver, out = [], None, {"files": count}
    try:
        start_display(env, helpers)

        def start_app():
            d = WebDriver(env, home / "app.log")
            d.args = args
            d.begin()
            if not wait_until(lambda: subprocess.run([str(SYNCD), "status"], env=env, capture_output=True).returncode == 0, 120):
                raise SystemExit("the app did not start; see target/bench/app-activity/app.log")
            return d

        # 1. The first import, with Activity opened when a fifth is uploaded and left open.
        started = time.time()
        driver = start_app()
        if not wait_until(lambda: server.asset_count(key) >= count // 5, 3600, step=1):
            raise SystemExit("the import did not get going")
        out["during_import"] = measure_activity(driver, env, "during the first import", quiet=False)
        pid = app_pid()
        # CPU from here on: the page drawing a live import must not cost the import (the web
        # process once took more CPU than the import itself).
        cpu_open = tree_cpu(pid) if pid else {}
        if not wait_until(lambda: server.asset_count(key) >= count, 3600, step=2):
            raise SystemExit("the import did not finish")
        out["import_s"] = round(time.time() - started, 1)
        if pid:
            cpu_end = tree_cpu(pid)
            out["during_import"]["cpu_to_end_s"] = {
                name: round(cpu_end[name] - cpu_open.get(name, 0), 1) for name in cpu_end}
            rss, _, names = tree_sample(pid)
            out["during_import"]["end_rss_mb"] = round(rss / MB, 1)
            out["during_import"]["end_by_process"] = {p: {"rss_mb": r, "anonymous_mb": a} for p, (r, a) in names.items()}
        log(f"  the whole import took {out['import_s']} s with Activity open; at its end "
            f"{out['during_import'].get('end_rss_mb')} MB {out['during_import'].get('end_by_process')}; "
            f"CPU s from the window's opening {out['during_import'].get('cpu_to_end_s')}")
        time.sleep(5)
        driver.close()

        # 2. The app started again over the synced library; Activity opened as it starts.
        driver = start_app()
        time.sleep(3)
        out["synced_library"] = measure_activity(driver, env, "started again over the synced library")
        driver.close()

        # 3. A tenth of the library deleted while the app was not running: held at its start.
        gone = 0
        for folder, dirs, files in os.walk(library):
            dirs.sort()
            if gone >= count // 10:
                break
            if files and not dirs:
                gone += len(files)
                shutil.rmtree(folder)
        out["deleted_locally"] = gone
        started = time.time()
        driver = start_app()
        if not wait_until(lambda: (held_count(env) or 0) >= gone, 1800, step=1):
            raise SystemExit(f"the {gone} deletes were not held; see target/bench/app-activity/app.log")
        out["held_after_s"] = round(time.time() - started, 1)
        log(f"  the {gone} deletes were held {out['held_after_s']} s after the app started")
        out["held_deletes"] = measure_activity(driver, env, f"{gone} deletes held", search=False)
        driver.close()
        driver = None
    finally:
        if driver:
            driver.close()
        for proc in reversed(helpers):
            stop(proc)
        server.close()
    out.update(stamp())
    results["app_activity" + ("_large" if count >= 1_000_000 else "")] = out
    shutil.rmtree(library, ignore_errors=True)


COMMANDS = {
    "compare": lambda a, r: bench_compare(a, r),
    "engine-latency": lambda a, r: bench_latency(a, r),
    "engine-2gb": lambda a, r: bench_big_file(a, r),
    "engine-rescan": lambda a, r: bench_scan(a, r, {"rescan"}),
    "engine-requests": lambda a, r: bench_scan(a, r, {"requests"}),
    "engine-idle": lambda a, r: bench_idle(a, r),
    "engine-remote": lambda a, r: bench_remote(a, r),
    "app-memory": lambda a, r: bench_app_memory(a, r),
    "app-activity": lambda a, r: bench_app_activity(a, r),
}


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["all", "engine"] + list(COMMANDS), nargs="?", default="all")
    parser.add_argument("--files", type=int, default=2000, help="photos in the comparison dataset (2000)")
    parser.add_argument("--latency-files", type=int, default=50, help="photos dropped one by one (50)")
    parser.add_argument("--big-gb", type=float, default=2.0, help="size of the large file in GiB (2)")
    parser.add_argument("--small-files", type=int, default=100_000, help="files for the rescan (100000)")
    parser.add_argument("--small-size", type=int, default=1024, help="bytes per small file (1024)")
    parser.add_argument("--idle-seconds", type=int, default=60, help="idle measurement length (60)")
    parser.add_argument("--remote-deletes", type=int, default=20, help="photos trashed in Immich (20)")
    parser.add_argument("--remote-spacing", type=float, default=3.0,
                        help="seconds between two trashes in Immich (3)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of compare and of the rescan (3)")
    parser.add_argument("--quiet-percent", type=float, default=10,
                        help="wait before each measurement until other work uses less CPU than this (10)")
    parser.add_argument("--max-wait", type=int, default=600,
                        help="longest wait for a quiet machine, in seconds (600)")
    parser.add_argument("--no-docs", action="store_true", help="write target/bench/results.json only")
    parser.add_argument("--large", action="store_true",
                        help="the first scan, rescan, requests, fresh state file and peak memory at "
                             "1,000,000 files (their own section)")
    args = parser.parse_args()
    if args.large:
        args.small_files = 1_000_000

    WORK.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "versions": versions()}
    if args.large and args.command == "app-activity":
        steps = [COMMANDS["app-activity"]]
    elif args.large:
        steps = [lambda a, r: bench_scan(a, r, {"rescan", "requests"}, "_large"), COMMANDS["app-activity"]]
    elif args.command in ("all", "engine"):
        steps = [] if args.command == "engine" else [COMMANDS["compare"]]
        steps += [
            COMMANDS["engine-latency"],
            COMMANDS["engine-2gb"],
            lambda a, r: bench_scan(a, r, {"rescan", "requests"}),
            COMMANDS["engine-idle"],
            COMMANDS["engine-remote"],
        ]
    else:
        steps = [COMMANDS[args.command]]
    for step in steps:
        step(args, results)
        # Saved after every step, so a long run that stops late keeps what it measured.
        save(results, not args.no_docs)


if __name__ == "__main__":
    main()
