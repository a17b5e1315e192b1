#!/usr/bin/python3
"""Format the benchmark measurements of run.sh as markdown.

usage: report.py META.tsv RESULTS.tsv FAILURES.txt > report.md

RESULTS.tsv: id, tool, run, status, wall s, cpu s, max rss KiB, bytes stored, input bytes
"""
import os
import statistics
import sys

GB = 1e9
MIB = 1024 * 1024


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return meta


def read_results(path):
    rows = []
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 9:
                continue
            rows.append({
                "id": p[0], "tool": p[1], "run": p[2], "status": p[3],
                "wall": float(p[4]) if p[4] else None,
                "cpu": float(p[5]) if p[5] else None,
                "rss": int(p[6]) if p[6] else None,
                "bytes": int(p[7]) if p[7] else None,
                "input": int(p[8]) if p[8] else None,
            })
    return rows


def human_bytes(n):
    if n is None:
        return "—"
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= div:
            return "%s (%.1f %s)" % (format(n, ","), n / div, unit)
    return "%s B" % format(n, ",")


def short_bytes(n):
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div:
            return "%.4g %s" % (n / div, unit)
    return "%d B" % n


def throughput(bps):
    if bps >= GB:
        return "%.2f GB/s" % (bps / GB)
    return "%.0f MB/s" % (bps / 1e6)


def secs(x):
    if x is None:
        return "—"
    if x < 0.1:
        return "%.4f" % x
    if x < 10:
        return "%.3f" % x
    return "%.2f" % x


class Results:
    def __init__(self, rows):
        self.rows = rows
        self.keys = []
        for r in rows:
            k = (r["id"], r["tool"])
            if k not in self.keys:
                self.keys.append(k)

    def runs(self, id_, tool):
        return [r for r in self.rows if r["id"] == id_ and r["tool"] == tool]

    def ok(self, id_, tool):
        return [r for r in self.runs(id_, tool) if r["status"] == "ok"]

    def median(self, id_, tool, field):
        vals = [r[field] for r in self.ok(id_, tool) if r[field] is not None]
        return statistics.median(vals) if vals else None

    def maximum(self, id_, tool, field):
        vals = [r[field] for r in self.ok(id_, tool) if r[field] is not None]
        return max(vals) if vals else None

    def input(self, id_, tool):
        for r in self.runs(id_, tool):
            if r["input"]:
                return r["input"]
        return None

    def status(self, id_, tool):
        runs = self.runs(id_, tool)
        ok = [r for r in runs if r["status"] == "ok"]
        bad = [r["status"] for r in runs if r["status"] != "ok"]
        if not bad:
            return ""
        if not ok:
            return bad[0]
        return "%d/%d runs ok; %s" % (len(ok), len(runs), bad[0])


def describe(id_, meta, res):
    files = meta.get("tree_files", "?")
    try:
        files = format(int(files), ",")
    except ValueError:
        pass
    key = {"model-edit": "size_model2", "csv-add": "size_csv1", "csv-edit": "size_csv2",
           "smallfiles-add": "size_tree", "status-tree": None}.get(id_, "size_model")
    try:
        size = int(meta.get(key, "")) if key else None
    except ValueError:
        size = None
    sz = " (%s)" % short_bytes(size) if size else ""
    return {
        "bounds-cat": "read model file (`cat > /dev/null`)%s" % sz,
        "bounds-sha256": "SHA-256 of model file (`openssl dgst -sha256`)%s" % sz,
        "bounds-cp": "copy model file (`cp`)%s" % sz,
        "model-add": "add model file, first version%s" % sz,
        "model-edit": "add edited model after the first%s" % sz,
        "checkout": "restore deleted model from local store%s" % sz,
        "checkout-cp": "copy model file into the checkout's work tree just before it (`cp`)%s" % sz,
        "status-tree": "status, %s unchanged files" % files,
        "smallfiles-add": "add %s small files%s" % (files, sz),
        "csv-add": "add CSV, first version%s" % sz,
        "csv-edit": "add CSV v2 (2%% rows appended, 0.5%% changed)%s" % sz,
    }.get(id_, id_)


ORDER = ["bounds-cat", "bounds-sha256", "bounds-cp", "model-add", "model-edit", "checkout-cp",
         "checkout",
         "status-tree", "smallfiles-add", "csv-add", "csv-edit"]
TOOL_ORDER = ["dv", "git-lfs", "restic", "casync", "borg", "git", "cat", "openssl", "cp"]


def sort_key(k):
    id_, tool = k
    a = ORDER.index(id_) if id_ in ORDER else len(ORDER)
    b = TOOL_ORDER.index(tool) if tool in TOOL_ORDER else len(TOOL_ORDER)
    return (a, b)


def results_table(meta, res):
    out = ["| what | tool | wall s, median [min–max] | throughput | CPU s (user+sys) | "
           "peak RSS MiB | bytes stored | note |",
           "|---|---|---|---|---|---|---|---|"]
    for id_, tool in sorted(res.keys, key=sort_key):
        ok = res.ok(id_, tool)
        what = describe(id_, meta, res)
        note = res.status(id_, tool)
        if not ok:
            out.append("| %s | %s | — | — | — | — | — | %s |" % (what, tool, note))
            continue
        walls = [r["wall"] for r in ok]
        med = statistics.median(walls)
        wall = "%s [%s–%s]" % (secs(med), secs(min(walls)), secs(max(walls)))
        inp = res.input(id_, tool)
        thr = throughput(inp / med) if inp and med > 0 else "—"
        cpu = res.median(id_, tool, "cpu")
        cpu = "%.2f" % cpu if cpu is not None else "—"
        rss = res.maximum(id_, tool, "rss")
        rss = "%.1f" % (rss / 1024) if rss is not None else "—"
        b = res.median(id_, tool, "bytes")
        bvals = {r["bytes"] for r in ok if r["bytes"] is not None}
        if len(bvals) > 1:
            note = (note + "; " if note else "") + "bytes vary: %s–%s" % (
                format(min(bvals), ","), format(max(bvals), ","))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            what, tool, wall, thr, cpu, rss, human_bytes(int(b)) if b is not None else "—", note))
    return out


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def targets_table(meta, res):
    out = ["| target | measured | value | target | result |", "|---|---|---|---|---|"]

    def row(name, measured, value, fmt, op, limit, limit_text, info=False):
        if value is None:
            verdict = "n/a"
            shown = "—"
        else:
            shown = fmt % value
            if info:
                verdict = "info"
            else:
                good = value <= limit if op == "<=" else value >= limit
                verdict = "**PASS**" if good else "**FAIL**"
        out.append("| %s | %s | %s | %s | %s |" % (name, measured, shown, limit_text, verdict))

    m = lambda i, t, f="wall": res.median(i, t, f)
    inp = res.input("model-add", "dv")
    w = m("model-add", "dv")
    row("dv add, fresh model: throughput", "model size / dv wall",
        (inp / w / GB) if inp and w else None, "%.2f GB/s", ">=", 1.0, "≥ 1 GB/s")
    r = ratio(w, m("model-add", "git-lfs"))
    row("dv add, fresh model: ≥ 6x faster than git-lfs add", "dv wall / git-lfs wall",
        r, "%.3f", "<=", 1 / 6, "≤ 0.167")
    r = ratio(w, m("model-add", "restic"))
    row("dv add, fresh model: ≥ 5x faster than restic backup", "dv wall / restic wall",
        r, "%.3f", "<=", 1 / 5, "≤ 0.200")
    r = ratio(m("model-edit", "dv", "bytes"), m("model-edit", "casync", "bytes"))
    row("dv add, edited model: new bytes ≤ casync's", "dv bytes / casync bytes",
        r, "%.3f", "<=", 1.0, "≤ 1.000")
    r = ratio(m("model-edit", "dv", "bytes"), m("model-edit", "restic", "bytes"))
    row("dv add, edited model: new bytes ≤ 1/10 of restic's", "dv bytes / restic bytes",
        r, "%.3f", "<=", 0.1, "≤ 0.100")
    r = ratio(m("model-edit", "dv"), w)
    row("dv add, edited model: time ≤ 0.6x first add", "dv edit wall / dv first wall",
        r, "%.3f", "<=", 0.6, "≤ 0.600")
    # the cp measured beside each checkout when there is one, else the bounds cp
    cp = m("checkout-cp", "cp") or m("bounds-cp", "cp")
    r = ratio(m("checkout", "dv"), cp)
    row("dv checkout of model ≤ 2x cp", "dv checkout wall / cp wall",
        r, "%.3f", "<=", 2.0, "≤ 2.000")
    r = ratio(m("status-tree", "dv"), m("status-tree", "git"))
    row("dv status, unchanged tree ≤ 2x git status", "dv status wall / git status wall",
        r, "%.3f", "<=", 2.0, "≤ 2.000")
    r = ratio(m("smallfiles-add", "dv"), m("smallfiles-add", "git-lfs"))
    row("dv add, small files ≤ 1/3 of git-lfs time", "dv wall / git-lfs wall",
        r, "%.3f", "<=", 1 / 3, "≤ 0.333")
    rss = [x["rss"] for x in res.rows if x["tool"] == "dv" and x["status"] == "ok" and x["rss"]]
    row("peak RSS of every dv run ≤ 150 MiB", "max over all dv runs",
        max(rss) / 1024 if rss else None, "%.1f MiB", "<=", 150.0, "≤ 150 MiB")
    # informational, no target
    r = ratio(m("model-edit", "dv", "bytes"), m("model-edit", "borg", "bytes"))
    row("dv add, edited model: new bytes vs borg", "dv bytes / borg bytes",
        r, "%.3f", "", 0, "—", info=True)
    for id_, label in (("csv-add", "CSV v1"), ("csv-edit", "CSV v2")):
        for anchor in ("casync", "restic", "borg"):
            r = ratio(m(id_, "dv", "bytes"), m(id_, anchor, "bytes"))
            row("dv add, %s: bytes stored vs %s" % (label, anchor),
                "dv bytes / %s bytes" % anchor, r, "%.3f", "", 0, "—", info=True)
    return out


def raw_table(res):
    out = ["| id | tool | run | status | wall s | CPU s | max RSS KiB | bytes stored |",
           "|---|---|---|---|---|---|---|---|"]
    for r in res.rows:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["id"], r["tool"], r["run"], r["status"],
            "%.6f" % r["wall"] if r["wall"] is not None else "",
            "%.2f" % r["cpu"] if r["cpu"] is not None else "",
            r["rss"] if r["rss"] is not None else "",
            r["bytes"] if r["bytes"] is not None else ""))
    return out


def main():
    meta = read_meta(sys.argv[1])
    res = Results(read_results(sys.argv[2]))
    failures = open(sys.argv[3]).read() if len(sys.argv) > 3 and os.path.exists(sys.argv[3]) else ""
    scale = meta.get("scale", "?")
    o = []
    o.append("# dv benchmark results (%s scale)" % scale)
    o.append("")
    o.append("- date: %s" % meta.get("date", "?"))
    o.append("- command: `%s`" % meta.get("command", "?"))
    o.append("- scale: %s, runs per measurement: %s, per-command timeout: %s s, suite time: %s" % (
        scale, meta.get("runs", "?"), meta.get("timeout", "?"), meta.get("elapsed", "?")))
    o.append("- machine: %s CPUs (nproc), %s, %s RAM; %s; %s" % (
        meta.get("host_nproc", "?"), meta.get("host_cpu", "?"), meta.get("host_ram", "?"),
        meta.get("host_os", "?"), meta.get("host_kernel", "?")))
    o.append("- work directory filesystem: %s" % meta.get("host_fs", "?"))
    o.append("- load average (1/5/15 min) at start: %s, at end: %s" % (
        meta.get("load_start", "?"), meta.get("load_end", "?")))
    build = meta.get("dv_build", "")
    o.append("- dv binary: `%s`%s" % (meta.get("dv_path", "?"),
                                      " (CMake build type: %s)" % build if build else ""))
    o.append("")
    o.append("| tool | version |")
    o.append("|---|---|")
    for t in ("dv", "git", "git-lfs", "restic", "casync", "borg", "openssl"):
        o.append("| %s | %s |" % (t, meta.get("version_" + t, "?").replace("|", "/")))
    o.append("")
    o.append("Method: every add/backup runs in a fresh repository; inputs are read once "
             "(after `sync`) before each timed command, so the page cache is warm. "
             "Wall time: median [min–max] over the runs; CPU: median user+sys; "
             "peak RSS: maximum over the runs (largest single process, GNU time %M); bytes stored: growth of the tool's store "
             "(sum of file sizes; dv `.dv/cache`, git-lfs `.git/lfs/objects`, the restic/borg "
             "repository, the casync store), median over the runs. "
             "Throughput: input size / median wall (GB = 10^9 bytes).")
    if scale != "full":
        o.append("")
        o.append("**Note:** the targets are defined for the full-scale data set (1 GiB model, "
                 "100,000 files); verdicts at %s scale are indicative only." % scale)
    o.append("")
    o.append("## Results")
    o.append("")
    o += results_table(meta, res)
    o.append("")
    o.append("## Targets (dv / anchor)")
    o.append("")
    o += targets_table(meta, res)
    o.append("")
    data_dir = meta.get("data_dir", "")
    manifest = os.path.join(data_dir, "MANIFEST")
    if data_dir and os.path.exists(manifest):
        o.append("## Data set")
        o.append("")
        o.append("`%s` (name, size, sha256):" % data_dir)
        o.append("")
        o.append("```")
        o.append(open(manifest).read().rstrip("\n"))
        o.append("```")
        o.append("")
    if failures.strip():
        o.append("## Failures")
        o.append("")
        o.append(failures.rstrip("\n"))
        o.append("")
    o.append("<details><summary>All measurements</summary>")
    o.append("")
    o += raw_table(res)
    o.append("")
    o.append("</details>")
    print("\n".join(o))


if __name__ == "__main__":
    main()
