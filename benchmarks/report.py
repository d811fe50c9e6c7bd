"""The results as a Markdown table (printed and saved) and as JSON."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
from typing import Any

import libs
import memwarm
from cases import Result


def revision() -> str:
    """The git commit measured ('+dirty' when tracked files differ), or 'unknown'."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "-uno"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    mem = 0
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 2**30, 1),
            "load_average_at_end": [round(x, 2) for x in load], "commit": revision(),
            "os": platform.platform(), "python": sys.version.split()[0],
            "versions": libs.versions(),
            # freed memory handed back to a host (virtual machine): see memwarm.py
            "page_reporting_bytes": memwarm.page_reporting()}


def _fmt_time(seconds: float, unit: str) -> str:
    if unit == "bytes":
        return f"{seconds / 2**20:.0f} MiB"
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _verdict(res: Result) -> str:
    if res.status != "ok":
        return res.status
    return "pass" if res.passed else "MISS"


def _row(res: Result) -> str:
    if res.pair is None:
        return f"| {res.id} | - | - | - | {res.target} | - | {_verdict(res)} |"
    p = res.pair
    ratio = f"**{p.ratio:.2f}** ({p.ratios.min:.2f}-{p.ratios.max:.2f})"
    floor = f"{res.floor['ratio']:.2f}x {res.floor['name']}" if res.floor else ""
    # the floor's own check (when judged) is already said by the floor
    own = f"vs {res.floor['name']}" if res.floor else None
    checks = ", ".join(f"{c.label} {c.value:.2f}" for c in res.checks
                       if c.label not in ("vs NiBabel", own))
    extra = "; ".join(x for x in (floor, checks) if x)
    return (f"| {res.id} | {ratio} | {_fmt_time(p.voxelio.median, res.unit)} | "
            f"{_fmt_time(p.nibabel.median, res.unit)} | {res.target} | {extra} | "
            f"{_verdict(res)} |")


def describe(info: dict[str, Any]) -> str:
    """One line naming the machine, its load and the versions that matter."""
    v = info["versions"]
    libs_ = ", ".join(f"{k} {v[k]}" for k in ("voxelio", "nibabel", "numpy", "isal", "zlib-ng",
                                              "indexed_gzip"))
    return (f"commit {info['commit']}; {info['cpu']}, {info['cores']} cores, "
            f"{info['memory_gib']} GiB, {info['os']}, Python {info['python']}; {libs_}; "
            f"load average at end {info['load_average_at_end'][0]}"
            + (f"; freed memory reported to the host in {reported >> 20} MiB blocks"
               if (reported := info.get("page_reporting_bytes")) else ""))


def markdown(results: list[Result], floors_table: list[dict[str, Any]], mode: str) -> str:
    """The table of ratios (voxelio / NiBabel, median and per-pair range) and floors."""
    lines = [f"Mode: {mode}. Machine: {describe(machine())}.", "",
             "Ratio = voxelio / NiBabel of medians (per-pair min-max); lower is better.", "",
             "| case | ratio | voxelio | NiBabel | target | floor / other checks | result |",
             "|---|---|---|---|---|---|---|"]
    lines += [_row(r) for r in results]
    lines += ["", "Cases:", ""] + [f"- `{r.id}`: {r.title}" for r in results]
    if floors_table:
        lines += ["", "Floors (T1 int16, warm page cache):", "",
                  "| floor | median | throughput of output |", "|---|---|---|"]
        lines += [f"| {f['name']} | {f['median'] * 1e3:.1f} ms | {f['mb_s']:.0f} MB/s |"
                  for f in floors_table]
    return "\n".join(lines) + "\n"


def as_json(results: list[Result], floors_table: list[dict[str, Any]], mode: str
            ) -> dict[str, Any]:
    """Everything measured, machine-readable."""
    cases = {}
    for r in results:
        cases[r.id] = {
            "title": r.title, "target": r.target, "status": r.status, "unit": r.unit,
            "ratio": r.ratio, "passed": r.passed,
            "ratio_range": [r.pair.ratios.min, r.pair.ratios.max] if r.pair else None,
            "voxelio": r.pair.voxelio.as_dict() if r.pair else None,
            "nibabel": r.pair.nibabel.as_dict() if r.pair else None,
            "floor": r.floor,
            "checks": [{"label": c.label, "value": c.value, "limit": c.limit,
                        "passed": c.passed} for c in r.checks],
            "notes": r.notes,
        }
    return {"mode": mode, "machine": machine(), "cases": cases, "floors": floors_table}


def write(results_dir: str, md: str, data: dict[str, Any]) -> None:
    """Write latest.md and latest.json into ``results_dir``."""
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, "latest.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(results_dir, "latest.json"), "w") as fh:
        json.dump(data, fh, indent=1, default=str)


# -- codec modes, docs and chart --------------------------------------------------------

MODE_TITLES = {"default": "default install", "stdlib": "VOXELIO_STDLIB_CODECS=1"}
DOCS_BEGIN = "<!-- bench-results:begin (written by make bench) -->"
DOCS_END = "<!-- bench-results:end -->"


def load_average() -> float:
    """The one-minute load average (0.0 where unknown)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else 0.0


@contextlib.contextmanager
def codec_mode(mode: str) -> Any:
    """Run the enclosed cases with the default codecs or the standard library's only."""
    saved = os.environ.get("VOXELIO_STDLIB_CODECS")
    if mode == "stdlib":
        os.environ["VOXELIO_STDLIB_CODECS"] = "1"
    else:
        os.environ.pop("VOXELIO_STDLIB_CODECS", None)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("VOXELIO_STDLIB_CODECS", None)
        else:
            os.environ["VOXELIO_STDLIB_CODECS"] = saved


def codecs_in_use() -> str:
    """What voxelio inflates gzip with in the current mode."""
    from voxelio.codecs import backends

    return (f"gzip {backends.available_codecs()['gzip']}, seek index "
            f"{backends.seek_index_codec()}, {backends.thread_count()} threads")


def markdown_modes(by_mode: dict[str, list[Result]], floors_table: list[dict[str, Any]],
                   mode: str, load_start: float) -> str:
    """One table per codec mode, then the floors."""
    lines = [f"Mode: {mode}. Machine: {describe(machine())}; load average at start "
             f"{load_start}.", "",
             "Ratio = voxelio / NiBabel of medians (per-pair min-max); lower is better.", ""]
    titles: dict[str, str] = {}
    for name, results in by_mode.items():
        with codec_mode(name):
            used = codecs_in_use()
        lines += [f"### {MODE_TITLES[name]} ({used})", "",
                  "| case | ratio | voxelio | NiBabel | target | floor / other checks | result |",
                  "|---|---|---|---|---|---|---|"]
        lines += [_row(r) for r in results]
        lines.append("")
        titles.update({r.id: r.title for r in results})
    lines += ["Cases:", ""] + [f"- `{k}`: {v}" for k, v in titles.items()]
    if floors_table:
        lines += ["", "Floors (T1 int16, warm page cache):", "",
                  "| floor | median | throughput of output |", "|---|---|---|"]
        lines += [f"| {f['name']} | {f['median'] * 1e3:.1f} ms | {f['mb_s']:.0f} MB/s |"
                  for f in floors_table]
    return "\n".join(lines) + "\n"



def as_json_modes(by_mode: dict[str, list[Result]], floors_table: list[dict[str, Any]],
                  mode: str) -> dict[str, Any]:
    """``cases`` holds the first mode's results, ``<mode>_cases`` each other mode's."""
    modes = list(by_mode)
    out = as_json(by_mode[modes[0]], floors_table, mode)
    out["codec_mode"] = modes[0]
    for other in modes[1:]:
        out[f"{other}_cases"] = as_json(by_mode[other], [], mode)["cases"]
    return out


def chart(by_mode: dict[str, list[Result]], path: str) -> None:
    """A bar chart: the ratio of every timed case, one bar per codec mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = [r.id for r in next(iter(by_mode.values())) if r.ratio is not None and r.unit == "s"]
    width = 0.8 / len(by_mode)
    fig, ax = plt.subplots(figsize=(12, 5.5))
    for i, (name, results) in enumerate(by_mode.items()):
        ratios = {r.id: r.ratio for r in results if r.ratio is not None}
        xs = [j + i * width for j, case_id in enumerate(ids) if case_id in ratios]
        ax.bar(xs, [ratios[c] for c in ids if c in ratios], width, label=MODE_TITLES[name])
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks([j + width * (len(by_mode) - 1) / 2 for j in range(len(ids))])
    ax.set_xticklabels(ids, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("voxelio / NiBabel (lower is better)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def update_docs(docs_dir: str, md: str, by_mode: dict[str, list[Result]]) -> None:
    """Put the tables between the markers of docs/performance.md and redraw the chart."""
    page = os.path.join(docs_dir, "performance.md")
    with open(page) as fh:
        text = fh.read()
    head, _, rest = text.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    body = (f"{DOCS_BEGIN}\n\n![voxelio / NiBabel per case and codec mode]"
            f"(performance-ratios.png)\n\n{md}\n{DOCS_END}")
    with open(page, "w") as fh:
        fh.write(head + body + tail)
    chart(by_mode, os.path.join(docs_dir, "performance-ratios.png"))
