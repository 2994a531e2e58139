"""Tables, target checks and the plot for docs/PERFORMANCE.md, from the JSON results."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
PLOT = ROOT / "docs" / "performance-charge.png"
COUNTS_TEST = ROOT / "tests" / "services" / "test_statement_counts.py"

# The targets (issue 20: re-based on the stack floor, the prescribed libraries without our code).
MIN_THROUGHPUT_RATIO = 0.75  # pointcharge / stack floor at 32 clients, 1 worker
MAX_P99_RATIO = 1.5  # pointcharge p99 / stack floor p99
MAX_CPU_RATIO = 1.35  # pointcharge CPU ms per charge / stack floor's
PORTONE_PER_CHARGE = 1.00
MAX_HISTORY_GROWTH = 1.2  # latency at 1M / at 1k, page 1 and cursor
MAX_RSS_MB = 200
# With PortOne's latency (the sandbox's latency fault): throughput against clients / latency, p50
# against the latency plus what our side may add.
MIN_BOUND_RATIO = 0.9
P50_ALLOWANCE_MS = 10.0


def _md_table(headers: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    for row in rows:
        out.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(out)


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != v:  # nan
            return "–"
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def portone_points(result: dict) -> list[dict]:
    """The points that claim PortOne payments (all but the Bootpay scenario's): the floor and the
    targets are PortOne's."""
    return [p for p in result["points"] if p.get("gateway", "portone") == "portone"]


def _points(result: dict, *, latency: bool = False) -> list[dict[str, dict]]:
    """Per (backend, workers, concurrency): its points by target (floor, stack, pointcharge); the
    sweep's points (no injected PortOne latency), or with ``latency`` the latency scenario's."""
    keyed: dict[tuple, dict[str, dict]] = {}
    for p in portone_points(result):
        if bool(p.get("latency_ms")) != latency:
            continue
        key = (p["backend"], p["workers"], p["concurrency"], p.get("latency_ms", 0))
        keyed.setdefault(key, {})[p["target"]] = p
    return list(keyed.values())


def _ratio(a: dict | None, b: dict | None, key: str) -> float | None:
    return round(a[key] / b[key], 2) if a and b and b[key] else None


def charge_table(result: dict) -> str:
    rows = []
    for by_target in _points(result):
        floor, stack, pc = by_target.get("floor"), by_target.get("stack"), by_target.get("pointcharge")
        ref = pc or floor or stack
        assert ref is not None
        rows.append([
            ref["backend"], ref["workers"], ref["concurrency"],
            floor and floor["charges_per_s"], stack and stack["charges_per_s"], pc and pc["charges_per_s"],
            _ratio(stack, floor, "charges_per_s"), _ratio(pc, floor, "charges_per_s"),
            _ratio(pc, stack, "charges_per_s"),
            floor and floor["p50_ms"], pc and pc["p50_ms"],
            floor and floor["p99_ms"], stack and stack["p99_ms"], pc and pc["p99_ms"],
            _ratio(stack, floor, "p99_ms"), _ratio(pc, floor, "p99_ms"), _ratio(pc, stack, "p99_ms"),
            pc and pc["errors"], floor and floor["errors"],
            pc and pc["portone_gets_per_charge"], pc and pc["peak_rss_mb"], floor and floor["peak_rss_mb"],
            floor and floor.get("server_cpu_ms_per_charge"), stack and stack.get("server_cpu_ms_per_charge"),
            pc and pc.get("server_cpu_ms_per_charge"),
            max((x.get("foreign_cpu_pct") or 0) for x in (floor, stack, pc) if x),
        ])
    return _md_table(
        ["db", "workers", "clients", "floor /s", "stack /s", "pointcharge /s", "stack / floor", "pc / floor",
         "pc / stack", "floor p50 ms", "pc p50 ms", "floor p99 ms", "stack p99 ms", "pc p99 ms",
         "stack p99 / floor", "pc p99 / floor", "pc p99 / stack", "pc errors", "floor errors", "PortOne GETs/charge", "pc peak RSS MB",
         "floor peak RSS MB", "floor CPU ms/charge", "stack CPU ms/charge", "pc CPU ms/charge", "foreign CPU %"],
        rows,
    )


def charge_targets(result: dict) -> str:
    lines = []
    for by_target in _points(result):
        stack, pc = by_target.get("stack"), by_target.get("pointcharge")
        if not (stack and pc) or pc["concurrency"] != 32 or pc["workers"] != 1:
            continue
        where = f"{pc['backend']}, 1 worker, 32 clients"
        ratio = pc["charges_per_s"] / stack["charges_per_s"] if stack["charges_per_s"] else 0
        p99r = pc["p99_ms"] / stack["p99_ms"] if stack["p99_ms"] else float("inf")
        lines.append(_check(f"throughput ≥ {MIN_THROUGHPUT_RATIO}× the stack floor ({where})",
                            ratio >= MIN_THROUGHPUT_RATIO, f"{ratio:.2f}×"))
        lines.append(_check(f"p99 ≤ {MAX_P99_RATIO}× the stack floor's ({where})", p99r <= MAX_P99_RATIO, f"{p99r:.2f}×"))
        cpu_pc, cpu_stack = pc.get("server_cpu_ms_per_charge"), stack.get("server_cpu_ms_per_charge")
        if cpu_pc and cpu_stack:
            cpur = cpu_pc / cpu_stack
            lines.append(_check(f"CPU ms per charge ≤ {MAX_CPU_RATIO}× the stack floor's ({where})",
                                cpur <= MAX_CPU_RATIO, f"{cpur:.2f}× ({cpu_pc:.2f} vs {cpu_stack:.2f} ms)"))
    for by_target in _points(result):
        floor, stack = by_target.get("floor"), by_target.get("stack")
        if floor and stack and stack["concurrency"] == 32 and floor["charges_per_s"] and floor["p99_ms"]:
            lines.append(
                f"- ℹ️ the stack floor ({stack['backend']}, {stack['workers']} worker(s), 32 clients; Strawberry + "
                f"httpx, none of pointcharge's code): {stack['charges_per_s'] / floor['charges_per_s']:.2f}× "
                f"the floor's throughput, p99 {stack['p99_ms'] / floor['p99_ms']:.2f}×"
            )
    gets = [p["portone_gets_per_charge"] for p in portone_points(result) if p["target"] == "pointcharge"]
    if gets:
        worst = max(gets)
        lines.append(_check("PortOne requests per charge = 1.00", round(worst, 2) <= PORTONE_PER_CHARGE, f"max {worst:.3f} GET /payments per charge"))
    rss = [p["peak_rss_mb"] for p in portone_points(result) if p["target"] == "pointcharge" and p["workers"] == 1]
    if rss:
        lines.append(_check(f"peak RSS of one API worker ≤ {MAX_RSS_MB} MB", max(rss) <= MAX_RSS_MB, f"{max(rss):.0f} MB"))
    errs = sum(p["errors"] for p in portone_points(result) if p["target"] == "pointcharge")
    lines.append(_check("no failed charges", errs == 0, f"{errs} errors"))
    return "\n".join(lines)


def _check(what: str, ok: bool, value: str) -> str:
    return f"- {'✅ met' if ok else '❌ missed'}: {what} — {value}"


# --- with PortOne's latency --------------------------------------------------------------------


def latency_table(result: dict) -> str:
    rows = []
    for by_target in _points(result, latency=True):
        stack, pc = by_target.get("stack"), by_target.get("pointcharge")
        ref = pc or stack
        assert ref is not None
        bound = ref["concurrency"] / (ref["latency_ms"] / 1000)
        rows.append([
            ref["backend"], ref["workers"], ref["concurrency"], ref["latency_ms"], bound,
            stack and stack["charges_per_s"], pc and pc["charges_per_s"],
            stack and round(stack["charges_per_s"] / bound, 2), pc and round(pc["charges_per_s"] / bound, 2),
            stack and stack["p50_ms"], pc and pc["p50_ms"], ref["latency_ms"] + P50_ALLOWANCE_MS,
            stack and stack["p99_ms"], pc and pc["p99_ms"],
            pc and pc["errors"], pc and pc["portone_gets_per_charge"],
            stack and stack.get("server_cpu_ms_per_charge"), pc and pc.get("server_cpu_ms_per_charge"),
            max((x.get("foreign_cpu_pct") or 0) for x in (stack, pc) if x),
        ])
    return _md_table(
        ["db", "workers", "clients", "PortOne latency ms", "bound /s (clients / latency)", "stack /s",
         "pointcharge /s", "stack / bound", "pc / bound", "stack p50 ms", "pc p50 ms", "p50 target ms",
         "stack p99 ms", "pc p99 ms", "pc errors", "PortOne GETs/charge", "stack CPU ms/charge",
         "pc CPU ms/charge", "foreign CPU %"],
        rows,
    )


def latency_targets(result: dict) -> str:
    lines = []
    for by_target in _points(result, latency=True):
        pc = by_target.get("pointcharge")
        if not pc:
            continue
        bound = pc["concurrency"] / (pc["latency_ms"] / 1000)
        where = f"{pc['backend']}, {pc['workers']} worker(s), {pc['concurrency']} clients, PortOne +{pc['latency_ms']} ms"
        ratio = pc["charges_per_s"] / bound
        lines.append(_check(f"throughput ≥ {MIN_BOUND_RATIO}× the concurrency bound {bound:,.0f}/s ({where})",
                            ratio >= MIN_BOUND_RATIO, f"{pc['charges_per_s']:,.0f}/s, {ratio:.2f}×"))
        limit = pc["latency_ms"] + P50_ALLOWANCE_MS
        lines.append(_check(f"p50 ≤ {limit:.0f} ms ({where})", pc["p50_ms"] <= limit, f"{pc['p50_ms']:.1f} ms"))
    return "\n".join(lines)


def latency_section(result: dict) -> str:
    if not _points(result, latency=True):
        return ("No latency scenario in this run (`python -m bench run` measures it unless "
                "`--latency-ms 0`; `--latency-only` runs it alone).")
    return latency_table(result) + "\n\n" + latency_targets(result)


def bootpay_section(result: dict) -> str:
    from bench import bootpay

    return bootpay.table(result) or ("No Bootpay point in this run (`python -m bench run` measures them unless "
                                     "`--gateway portone`).")


# --- statement counts (tests/services/test_statement_counts.py) ---------------------------------


def expected_counts(path: Path = COUNTS_TEST) -> dict[str, dict[str, tuple[int, int]]]:
    """The guard's ``EXPECTED`` table, read from the test module's source (not imported: the
    table is a literal)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id == "EXPECTED" and node.value is not None:  # type: ignore[union-attr]
            return ast.literal_eval(node.value)  # type: ignore[union-attr]
    raise ValueError(f"no EXPECTED table in {path}")


def statement_counts_table(path: Path = COUNTS_TEST) -> str:
    table = expected_counts(path)
    dialects = sorted({d for per in table.values() for d in per}, key=lambda d: (d != "sqlite", d))
    headers = ["flow"] + [f"{d} SQL statements" for d in dialects] + [f"{d} PortOne requests" for d in dialects]
    rows = [[name] + [per.get(d, (None, None))[0] for d in dialects] + [per.get(d, (None, None))[1] for d in dialects]
            for name, per in table.items()]
    return _md_table(headers, rows)


# --- history -----------------------------------------------------------------------------------


def history_table(result: dict) -> str:
    rows = []
    for r in result["rows"]:
        rows.append([r["backend"], f"{r['entries']:,}", f"{r['user_entries']:,}", r["query"], r.get("page"),
                     r["p50_ms"], r["p99_ms"], r.get("ref_p50_ms"), r.get("growth_vs_1k"), r.get("foreign_cpu_pct")])
    return _md_table(["db", "ledger entries", "this user's", "query", "page", "p50 ms", "p99 ms",
                      "1k reference p50 ms (same window)", "p50 vs 1k", "foreign CPU %"], rows)


def history_targets(result: dict) -> str:
    lines = []
    for r in result["rows"]:
        if r["query"] in ("page 1", "cursor first:10") and r["entries"] == max(x["entries"] for x in result["rows"]):
            g = r.get("growth_vs_1k")
            if g is not None:
                lines.append(_check(f"{r['backend']} {r['query']} at {r['entries']:,} ≤ {MAX_HISTORY_GROWTH}× its 1k latency", g <= MAX_HISTORY_GROWTH, f"{g:.2f}×"))
    return "\n".join(lines)


# --- profile -----------------------------------------------------------------------------------


def profile_table(result: dict) -> str:
    parts = []
    for run in result.get("runs", []):
        rows = [[name, v["ms_per_charge"], v["share_pct"]] for name, v in run["phases"].items()]
        stmts = "\n".join(f"    {x}" for x in run.get("statements_of_one_charge", []))
        parts.append(f"**{run['backend']}, {run['charges']} charges, 1 client (wall time per charge; "
                     f"{run.get('sql_statements_per_charge')} SQL statements per charge)**\n\n"
                     + _md_table(["phase", "ms / charge", "% of claim"], rows)
                     + (f"\n\nThe statements of one first-time charge (time in the driver, statement):\n\n{stmts}" if stmts else ""))
    for name, spy in result.get("py_spy", {}).items():
        rows = [[k, v] for k, v in spy["buckets"].items()]
        parts.append(f"**py-spy --gil, {name}: samples of the thread holding the GIL, by innermost library "
                     f"frame ({spy['samples']} samples, {spy.get('charges_per_s')} charges/s while sampled)**\n\n"
                     + _md_table(["where", "% of samples"], rows))
    if result.get("micro"):
        rows = [[k, v] for k, v in result["micro"].items()]
        parts.append("**micro-benchmarks (in-process, per operation)**\n\n" + _md_table(["what", "ms"], rows))
    return "\n\n".join(parts)


# --- plot + docs -------------------------------------------------------------------------------


def plot(result: dict, path: Path = PLOT) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    series: dict[tuple[str, str], list[dict]] = {}
    for p in portone_points(result):
        if p["workers"] != 1 or p.get("latency_ms"):
            continue
        series.setdefault((p["backend"], p["target"]), []).append(p)
    if not series:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"floor": "--", "stack": ":", "pointcharge": "-"}
    colors = {"sqlite": "tab:blue", "postgres": "tab:orange"}
    for (backend, target), pts in sorted(series.items()):
        pts = sorted(pts, key=lambda p: p["concurrency"])
        xs = [p["concurrency"] for p in pts]
        label = f"{target} ({backend})"
        ax1.plot(xs, [p["charges_per_s"] for p in pts], styles.get(target, "-"), marker="o", color=colors.get(backend), label=label)
        ax2.plot(xs, [p["p99_ms"] for p in pts], styles.get(target, "-"), marker="o", color=colors.get(backend), label=label)
    ticks = sorted({p["concurrency"] for pts in series.values() for p in pts})
    for ax, title, ylabel in ((ax1, "throughput", "charges / s"), (ax2, "p99 latency", "ms")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_xlabel("concurrent clients (closed loop)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}, 1 API worker")
        ax.grid(True, alpha=0.3)
    ax2.set_yscale("log")
    ax1.legend(fontsize=8)
    fig.suptitle(f"createPointTransactionOfLoading vs the bare floor — {result.get('when', '')}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path and path.exists() else None


def build(charge_path: Path, history_path: Path, profile_path: Path, *, write_docs: bool = True) -> str:
    """The generated part of docs/PERFORMANCE.md (between the BENCH markers)."""
    charge, history, profile = _load(charge_path), _load(history_path), _load(profile_path)
    parts: list[str] = []
    if charge:
        m = charge.get("machine", {})
        parts.append(
            f"### Charge path ({charge['when']}, {m.get('cpus')} cores, Python {m.get('python')}, "
            f"{charge['wall_s']} s wall)\n\n" + charge_table(charge) + "\n\n" + charge_targets(charge)
        )
        # Without matplotlib the plot is not redrawn; the one on disk is still referenced.
        if (write_docs and plot(charge)) or PLOT.exists():
            parts.append(f"![throughput and p99 vs concurrency]({PLOT.name})")
        parts.append(f"### With realistic PortOne latency ({charge['when']})\n\n" + latency_section(charge))
        parts.append(f"### Bootpay charges ({charge['when']}; no floor, no targets)\n\n" + bootpay_section(charge))
    if history:
        parts.append(f"### History at scale ({history['when']})\n\n" + history_table(history) + "\n\n" + history_targets(history))
    if profile:
        parts.append(f"### Where a charge's time goes ({profile['when']})\n\n" + profile_table(profile))
    text = "\n\n".join(parts)
    if write_docs:
        _write_block("BENCH", text)
        write_counts()
    return text


def write_counts() -> str:
    """Rewrites the statement-count table in docs/PERFORMANCE.md from the guard's ``EXPECTED``."""
    table = statement_counts_table()
    _write_block("COUNTS", table)
    return table


def _write_block(name: str, text: str) -> None:
    if not DOC.exists():
        return
    doc = DOC.read_text()
    start, end = f"<!-- {name}:BEGIN -->", f"<!-- {name}:END -->"
    if start in doc and end in doc:
        doc = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: f"{start}\n{text}\n{end}", doc, flags=re.S)
        DOC.write_text(doc)
