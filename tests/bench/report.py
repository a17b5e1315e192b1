#!/usr/bin/python3
"""Format the benchmark measurements of run.sh as markdown.

usage: report.py META.tsv RESULTS.tsv FAILURES.txt [REQUESTS.tsv] > report.md

RESULTS.tsv: id, tool, run, status, wall s, cpu s, max rss KiB, bytes stored, input bytes
REQUESTS.tsv (s3 group): id, tool, run, the rig's counts (list, get, head, put, delete, other,
  requests, bytes in, bytes out, "Expect: 100-continue" requests, longest wait for it in ms),
  the rig's CPU s, and dv's --stats (list, get, put, other, retries, sent, received)
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


REQ_FIELDS = ["list", "get", "head", "put", "delete", "other", "requests", "bytes_in", "bytes_out",
              "expect", "expect_wait_ms", "rig_cpu", "dv_list", "dv_get", "dv_put", "dv_other",
              "dv_retries", "dv_sent", "dv_received"]


def read_requests(path):
    rows = []
    if not path or not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 3:
                continue
            r = {"id": p[0], "tool": p[1], "run": p[2]}
            for k, v in zip(REQ_FIELDS, p[3:]):
                try:
                    r[k] = float(v) if k == "rig_cpu" else int(v)
                except ValueError:
                    r[k] = None
            rows.append(r)
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
           "smallfiles-add": "size_tree", "status-tree": None, "s3-push-v2": "size_model2",
           "s3-pull-v2": "size_model2"}.get(id_, "size_model")
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
        "s3-push-v1": "push model to the S3 rig, first version%s" % sz,
        "s3-push-v2": "push edited model to the S3 rig after the first%s" % sz,
        "s3-pull-v1": "pull model from the S3 rig into a fresh clone%s" % sz,
        "s3-pull-v2": "pull edited model over the first%s" % sz,
        "rev-ls": "list %s files at an old revision (`dv ls -r v1 tree`, `git ls-tree -r v1 tree`)" % files,
        "rev-ls-long": "list %s files at an old revision with mode, size, id (`dv ls -r -l v1 tree`)" % files,
        "rev-ls-names": "list %s file names at an old revision (`git ls-tree -r --name-only v1 tree`)" % files,
        "rev-ls-dir": "list one level of the tree at an old revision (`dv ls v1 tree/`, `git ls-tree v1 tree/`)",
        "rev-cat": "model file at an old revision to /dev/null (`dv cat v1:model.bin`, `cat model.bin`)%s" % sz,
        "rev-cat-pipe": "model file at an old revision through a pipe (`… \\| cat > /dev/null`)%s" % sz,
    }.get(id_, id_)


ORDER = ["bounds-cat", "bounds-sha256", "bounds-cp", "model-add", "model-edit", "checkout-cp",
         "checkout",
         "status-tree", "smallfiles-add", "csv-add", "csv-edit",
         "s3-push-v1", "s3-push-v2", "s3-pull-v1", "s3-pull-v2",
         "rev-ls", "rev-ls-long", "rev-ls-names", "rev-ls-dir", "rev-cat", "rev-cat-pipe"]
TOOL_ORDER = ["dv", "git-lfs", "restic", "casync", "borg", "aws", "dv-direct", "aws-direct",
              "git", "cat", "openssl", "cp"]
S3_STEPS = [("s3-push-v1", "push, first version"), ("s3-push-v2", "push, edited version"),
            ("s3-pull-v1", "pull, first version"), ("s3-pull-v2", "pull, edited version")]


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


def ok_requests(res, reqs, id_, tool):
    """The rig's counts of the runs of ID/TOOL that succeeded."""
    runs = {r["run"] for r in res.ok(id_, tool)}
    return [q for q in reqs if q["id"] == id_ and q["tool"] == tool and q["run"] in runs]


def put_budget(q):
    """PUT requests allowed for the bytes one push sent: bytes / 32 MiB + 10."""
    sent = q.get("dv_sent") if q.get("dv_sent") is not None else q.get("bytes_in")
    return None if sent is None else sent / (32 * MIB) + 10


def targets_table(meta, res, reqs=()):
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
    for id_, label in S3_STEPS:
        r = ratio(m(id_, "aws"), m(id_, "dv"))
        row("dv S3 %s: ≥ 3x faster than `aws s3 sync`" % label,
            "aws wall / dv wall", r, "%.2f", ">=", 3.0, "≥ 3.00")
    for id_, label in S3_STEPS[:2]:
        qs = [q for q in ok_requests(res, reqs, id_, "dv")
              if q.get("put") is not None and put_budget(q) is not None]
        worst = max(qs, key=lambda q: q["put"] - put_budget(q)) if qs else None
        row("dv S3 %s: PUT requests ≤ bytes / 32 MiB + 10" % label,
            "PUTs counted by the rig (worst run)", worst["put"] if worst else None, "%d", "<=",
            put_budget(worst) if worst else 0,
            "≤ %.1f (%s B sent)" % (put_budget(worst), format(worst.get("dv_sent") or worst["bytes_in"], ","))
            if worst else "≤ bytes / 32 MiB + 10")
    r = ratio(m("rev-ls", "dv"), m("rev-ls", "git"))
    row("dv ls -r of 100,000 files at an old revision ≤ 3x git ls-tree -r",
        "dv ls -r wall / git ls-tree -r wall", r, "%.3f", "<=", 3.0, "≤ 3.000")
    w = m("rev-ls-dir", "dv")
    row("dv ls of one level at an old revision well under a second", "dv ls v1 tree/ wall",
        w, "%.3f s", "<=", 0.5, "≤ 0.5 s")
    r = ratio(m("rev-cat", "dv"), m("rev-cat", "cat"))
    row("dv cat of the 1 GiB model at an old revision ≤ 1.5x cat", "dv cat wall / cat wall",
        r, "%.3f", "<=", 1.5, "≤ 1.500")
    r = ratio(m("rev-cat-pipe", "dv"), m("rev-cat-pipe", "cat"))
    row("… through a pipe ≤ 1.5x cat through a pipe", "dv cat \\| cat wall / cat \\| cat wall",
        r, "%.3f", "<=", 1.5, "≤ 1.500")
    rss = [x["rss"] for x in res.rows
           if x["tool"] in ("dv", "dv-direct") and x["status"] == "ok" and x["rss"]]
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
    r = ratio(m("rev-ls-long", "dv"), m("rev-ls", "git"))
    row("dv ls -r -l (mode, size, id, path) vs git ls-tree -r (mode, type, id, path)",
        "dv ls -r -l wall / git ls-tree -r wall", r, "%.3f", "", 0, "—", info=True)
    r = ratio(m("rev-ls", "dv"), m("rev-ls-names", "git"))
    row("dv ls -r (paths) vs git ls-tree -r --name-only", "dv ls -r wall / git --name-only wall",
        r, "%.3f", "", 0, "—", info=True)
    for id_, label in S3_STEPS[:2]:
        r = ratio(m(id_, "aws-direct"), m(id_, "dv-direct"))
        row("dv S3 %s, straight to s3rver (no counting proxy), vs `aws s3 sync`" % label,
            "aws-direct wall / dv-direct wall", r, "%.2f", "", 0, "—", info=True)
    return out


def spread(vals, fmt="%g"):
    """median, and the range when the values differ"""
    vals = [v for v in vals if v is not None]
    if not vals:
        return "—"
    med = fmt % statistics.median(vals)
    if min(vals) == max(vals):
        return med
    return "%s (%s–%s)" % (med, fmt % min(vals), fmt % max(vals))


def s3_section(meta, res, reqs):
    ids = {k[0] for k in res.keys}
    if not any(i.startswith("s3-") for i in ids):
        return []
    o = ["## S3: push and pull of the model pair (dv vs `aws s3 sync`)", ""]
    o.append("Both tools talk to the S3 test rig of `tests/s3` on loopback: s3rver %s (node %s) "
             "behind a proxy that checks SigV4 signatures and counts requests. "
             "Each run uses fresh key prefixes. dv: `dv push --stats` of the first version "
             "(committed with `dv add`), then of the edited one; `dv pull --stats` in a fresh "
             "`git clone` with the first version's commit checked out, then again after "
             "`git checkout -` (the edited version). aws (%s): `aws s3 sync DIR s3://…/v1`, then "
             "the edited file under the same name to `…/v2` (sync uploads a changed file whole "
             "either way), then `aws s3 sync s3://…/v1 DIR2` and `…/v2` into the same DIR2; "
             "path-style addressing, everything else as shipped (8 MiB parts, 10 requests in "
             "flight). Every pulled file is checked against the original's SHA-256. Wall, CPU and "
             "peak RSS are the client's; the rig's two node processes share the machine "
             "(their CPU time is listed with the requests)." % (
                 meta.get("version_s3rver", "?"), meta.get("version_node", "?"),
                 meta.get("version_aws", "?")))
    o.append("")
    o.append("The proxy never answers `Expect: 100-continue`: aws sends it with every PUT and "
             "waits up to a second before sending the body anyway; dv sends it too but does not "
             "wait. The proxy also stores each PUT's whole body on disk before forwarding it, "
             "which delays large single PUTs (dv's packs) more than aws's 8 MiB parts. The "
             "`-direct` rows push the same files straight to s3rver, which answers "
             "100-continue at once as S3 does (no request counts there).")
    o.append("")

    def cell(id_, tool):
        ok = res.ok(id_, tool)
        if not ok:
            note = res.status(id_, tool) or "—"
            return [note, "—", "—"]
        walls = [r["wall"] for r in ok]
        wall = "%s [%s–%s]" % (secs(statistics.median(walls)), secs(min(walls)), secs(max(walls)))
        cpu = res.median(id_, tool, "cpu")
        rss = res.maximum(id_, tool, "rss")
        return [wall, "%.2f" % cpu if cpu is not None else "—",
                "%.1f" % (rss / 1024) if rss is not None else "—"]

    o.append("| step | dv wall s, median [min–max] | dv CPU s | dv peak RSS MiB | "
             "aws wall s, median [min–max] | aws CPU s | aws peak RSS MiB | aws / dv (wall) |")
    o.append("|---|---|---|---|---|---|---|---|")
    for dv, aws, suffix in (("dv", "aws", ""), ("dv-direct", "aws-direct", ", straight to s3rver")):
        for id_, label in S3_STEPS:
            if (id_, dv) not in res.keys and (id_, aws) not in res.keys:
                continue
            r = ratio(res.median(id_, aws, "wall"), res.median(id_, dv, "wall"))
            o.append("| %s%s | %s | %s | %s |" % (
                label, suffix, " | ".join(cell(id_, dv)), " | ".join(cell(id_, aws)),
                "%.2f" % r if r is not None else "—"))
    o.append("")
    if reqs:
        o.append("Requests as the rig counted them for each timed command (median over the "
                 "successful runs; a range when runs differ). Sent / received: request and "
                 "response body bytes through the proxy. PUT budget: bytes sent / 32 MiB + 10. "
                 "dv --stats: dv's own count (list/get/put/other, retries).")
        o.append("")
        o.append("| step | tool | list | get | head | put | delete | other | all | sent | "
                 "received | PUT budget | 100-continue sent / longest wait ms | rig CPU s | "
                 "dv --stats |")
        o.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for id_, label in S3_STEPS:
            for tool in ("dv", "aws"):
                qs = ok_requests(res, reqs, id_, tool)
                if not qs:
                    continue
                col = lambda k, f="%g": spread([q.get(k) for q in qs], f)
                sent = [q.get("bytes_in") for q in qs if q.get("bytes_in") is not None]
                recv = [q.get("bytes_out") for q in qs if q.get("bytes_out") is not None]
                budget = "—"
                if id_.startswith("s3-push"):
                    budget = spread([put_budget(q) for q in qs], "%.1f")
                dvs = "—"
                if tool == "dv" and qs[0].get("dv_put") is not None:
                    dvs = "%s/%s/%s/%s, %s" % (col("dv_list"), col("dv_get"), col("dv_put"),
                                               col("dv_other"), col("dv_retries"))
                o.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |" % (
                    label, tool, col("list"), col("get"), col("head"), col("put"), col("delete"),
                    col("other"), col("requests"),
                    short_bytes(statistics.median(sent)) if sent else "—",
                    short_bytes(statistics.median(recv)) if recv else "—",
                    budget, col("expect"), col("expect_wait_ms"), col("rig_cpu", "%.2f"), dvs))
        o.append("")
    return o


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
    reqs = read_requests(sys.argv[4] if len(sys.argv) > 4 else None)
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
    for t in ("dv", "git", "git-lfs", "restic", "casync", "borg", "openssl", "aws", "s3rver",
              "node"):
        if t in ("aws", "s3rver", "node") and "version_" + t not in meta:
            continue
        o.append("| %s | %s |" % (t, meta.get("version_" + t, "?").replace("|", "/")))
    o.append("")
    o.append("Method: every add/backup runs in a fresh repository; inputs are read once "
             "(after `sync`) before each timed command, so the page cache is warm. "
             "Wall time: median [min–max] over the runs; CPU: median user+sys; "
             "peak RSS: maximum over the runs (largest single process, GNU time %M); bytes stored: growth of the tool's store "
             "(sum of file sizes; dv `.dv/cache`, git-lfs `.git/lfs/objects`, the restic/borg "
             "repository, the casync store; for S3 pushes, s3rver's files under the run's prefix), "
             "median over the runs. "
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
    o += targets_table(meta, res, reqs)
    o.append("")
    o += s3_section(meta, res, reqs)
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
