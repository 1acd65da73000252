"""The comparison page as one self-contained HTML file (no network, no external files).

Styles and a few lines of script are inline; each OT plan is an inline SVG heatmap (cells
coloured by ``P_ij / max P`` on the viridis scale, the colour bar beside it, token labels as
text, each cell's tooltip giving both tokens and ``P_ij``), so the page opens offline in any
browser and its labels render in the reader's fonts. Plans against a passage longer than
:data:`WINDOW` tokens show the window of :data:`WINDOW` columns carrying the most mass
(:func:`~clirlens.core.ot.session.best_window`), as the window's alignment view does.

The page's script filters the query cards and counts them (``page.html#filter=TEXT`` opens
it filtered); it marks ``<body>`` with
``data-ready="1"`` when it has run and ``data-error`` if any script failed, which the
headless-browser test reads.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np

from clirlens.core.ot.alignment import Alignment
from clirlens.core.ot.session import best_window
from clirlens.core.text.labels import labels, short
from clirlens.core.text.markup import RTL_LANGS, passage_html
from clirlens.core.workspace.comparison import Hit, QueryView
from clirlens.core.workspace.comparison_report import ComparisonReport, ReportQuery

WINDOW = 48  # target columns of a plan shown at most
CELL = 14  # px per heatmap cell
_VIRIDIS = (
    "#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30",
    "#fde725",
)  # fmt: skip

_CSS = """
body{font:14px/1.45 "Noto Sans","Noto Sans Thai","Noto Sans Devanagari",system-ui,sans-serif;
 margin:0;color:#1f2937;background:#f6f7f9}
header,nav,main{max-width:1500px;margin:0 auto;padding:12px 20px}
header h1{font-size:20px;margin:4px 0 8px}
table.meta{border-collapse:collapse;font-size:13px}
table.meta td{padding:1px 10px 1px 0;vertical-align:top}
table.meta td:first-child{color:#6b7280}
nav{position:sticky;top:0;background:#f6f7f9;border-bottom:1px solid #e5e7eb;z-index:2}
nav input{font:inherit;padding:4px 8px;width:320px}
#count{margin-left:12px;color:#6b7280}
nav details{margin-top:6px;font-size:13px}
section.query{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:16px 0;
 padding:12px 16px}
section.query h2{font-size:16px;margin:0 0 4px}
.qid{color:#6b7280;font-weight:normal;font-size:13px}
.parallel{color:#374151;margin:0 0 4px}
.facts{color:#4b5563;font-size:13px;margin:0 0 10px}
.lists{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:14px}
.list h3,.plans h3{font-size:14px;margin:0 0 6px}
ol.hits{list-style:none;margin:0;padding:0}
li.hit{border:1px solid #e5e7eb;border-radius:6px;padding:6px 9px;margin:0 0 6px}
li.hit.gold{border-color:#d4a72c;background:#fffbea}
.head{display:flex;gap:8px;align-items:baseline;font-size:12.5px;flex-wrap:wrap}
.rank{font-weight:700}.score{color:#6b7280}.pid{color:#6b7280}
.badge{border-radius:4px;padding:0 5px;font-size:11.5px;font-weight:700}
.badge.gold{background:#f3c623;color:#3b2f00}.badge.judged{background:#dbe9f6;color:#0b3a63}
.badge.beyond{background:#fde68a;color:#7c5800}
.title{font-style:italic;color:#4b5563}
.other{margin-left:auto;font-weight:600}
.other.up{color:#1f7a3a}.other.down{color:#b3261e}.other.same{color:#4b5563}
.text{margin-top:3px}
.plans{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:14px;
 margin-top:12px}
figure.plan{margin:0;overflow-x:auto}
figure.plan figcaption{font-size:12.5px;color:#4b5563;margin-bottom:4px}
.note{color:#9a6700;font-size:12.5px}
svg text{font-size:11px;fill:#1f2937}
"""

_SCRIPT = """
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll("section.query"));
  var box = document.getElementById("filter"), count = document.getElementById("count");
  function apply() {
    var needle = box.value.trim().toLowerCase(), shown = 0;
    cards.forEach(function (c) {
      var hit = !needle || c.getAttribute("data-search").indexOf(needle) >= 0;
      c.hidden = !hit; shown += hit ? 1 : 0;
    });
    count.textContent = shown + " of " + cards.length + " queries";
  }
  box.addEventListener("input", apply);
  var m = /^#filter=(.*)$/.exec(location.hash);
  if (m) { box.value = decodeURIComponent(m[1]); }
  apply();
  document.body.setAttribute("data-ready", "1");
})();
"""

_ONERROR = (
    "window.onerror=function(m){document.documentElement.setAttribute('data-error',String(m));};"
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def colour(value: float) -> str:
    """``value`` in [0, 1] on the viridis scale (linear between nine stops)."""
    x = min(1.0, max(0.0, float(value))) * (len(_VIRIDIS) - 1)
    i = min(int(x), len(_VIRIDIS) - 2)
    f = x - i
    a = [int(_VIRIDIS[i][k : k + 2], 16) for k in (1, 3, 5)]
    b = [int(_VIRIDIS[i + 1][k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(p + (q - p) * f):02x}" for p, q in zip(a, b, strict=True))


def heatmap_svg(al: Alignment, window: tuple[int, int] | None = None) -> str:
    """The plan of ``al`` as an inline SVG (rows: source tokens; columns: target tokens)."""
    c0, c1 = window or (0, al.shape[1])
    plan = np.asarray(al.plan)[:, c0:c1]
    rows = labels(al.source_text, al.source_tokens, al.source_offsets)
    cols = labels(al.target_text, al.target_tokens, al.target_offsets)[c0:c1]
    top = max(plan.max(), 1e-300)
    left, head = 8 + 7 * max(len(short(r)) for r in rows), 8 + 6 * max(len(short(c)) for c in cols)
    n, m = plan.shape
    width, height = left + m * CELL + 60, head + max(n, 5) * CELL + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, r in enumerate(rows):
        y = head + i * CELL + CELL - 3
        out.append(f'<text x="{left - 4}" y="{y}" text-anchor="end">{_e(short(r))}</text>')
    for j, c in enumerate(cols):
        x = left + j * CELL + CELL - 3
        out.append(f'<text transform="translate({x},{head - 4}) rotate(-90)">{_e(short(c))}</text>')
    for i in range(n):
        for j in range(m):
            v = plan[i, j]
            out.append(
                f'<rect x="{left + j * CELL}" y="{head + i * CELL}" width="{CELL}" '
                f'height="{CELL}" fill="{colour(v / top)}"><title>{_e(rows[i])} → '
                f"{_e(cols[j])}: P = {v:.3e}</title></rect>"
            )
    bar_x, bar_h = left + m * CELL + 14, max(n, 5) * CELL
    for s in range(10):  # the colour bar, top = the plan's largest entry
        y = head + s * bar_h / 10
        out.append(
            f'<rect x="{bar_x}" y="{y:.1f}" width="10" height="{bar_h / 10 + 0.5:.1f}" '
            f'fill="{colour(1 - (s + 0.5) / 10)}"/>'
        )
    out.append(f'<text x="{bar_x + 13}" y="{head + 9}">{top:.2g}</text>')
    out.append(f'<text x="{bar_x + 13}" y="{head + bar_h}">0</text>')
    out.append("</svg>")
    return "".join(out)


def _rank(rank: int | None, k: int) -> str:
    if rank is None:
        return "–"
    return f">{k}" if rank > k else str(rank)


def _hit(hit: Hit, other: str, k: int) -> str:
    arrow = {"up": "↑", "down": "↓", "same": "="}[hit.movement]
    where = str(hit.other_rank) if hit.other_rank is not None else f">{k}"
    badges = []
    if hit.gold:
        badges.append('<span class="badge gold">GOLD</span>')
    if hit.judged is not None:
        badges.append(f'<span class="badge judged">judged {hit.judged}</span>')
    if hit.beyond:
        badges.append('<span class="badge beyond">below the list</span>')
    title = f'<span class="title">{_e(hit.passage.title)}</span>' if hit.passage.title else ""
    p = hit.passage
    return (
        f'<li class="hit{" gold" if hit.gold else ""}" data-passage="{_e(p.id)}">'
        f'<div class="head"><span class="rank">#{hit.rank}</span>'
        f'<span class="score">{hit.score:.4f}</span><span class="pid">{_e(p.id)}</span>'
        f'{"".join(badges)}{title}<span class="other {hit.movement}" '
        f'title="rank in {_e(other)}">{_e(other)}: {where} {arrow}</span></div>'
        f'<div class="text">{passage_html(p.text, hit.answer_spans, lang=p.lang)}</div></li>'
    )


def _facts(view: QueryView) -> str:
    a, b = view.pair
    ag = view.agreement
    parts = []
    if view.gold_ranks[a] is not None:
        ra, rb = view.gold_ranks[a], view.gold_ranks[b]
        parts.append(
            f"gold rank {_e(view.models[a])} {_rank(ra, view.k)} · "
            f"{_e(view.models[b])} {_rank(rb, view.k)}"
        )
        if ra is not None and rb is not None:
            parts.append(f"rank shift {rb - ra:+d}")
    parts.append(
        f"overlap@{ag.k} {ag.overlap:.2f} · RBO {ag.rbo:.3f} · Kendall τ "
        + ("–" if ag.kendall_tau != ag.kendall_tau else f"{ag.kendall_tau:.3f}")
    )
    return " · ".join(parts)


def _plans(rq: ReportQuery, models: Sequence[str]) -> str:
    figures = []
    for m, al in enumerate(rq.alignments):
        if al is None:
            continue
        win = best_window(al.plan, WINDOW) if al.shape[1] > WINDOW else None
        shown = f", columns {win[0] + 1}–{win[1]} of {al.shape[1]}" if win else ""
        unit = "words" if al.words else "tokens"
        note = "" if al.converged else ' <span class="note">(not converged)</span>'
        figures.append(
            f'<figure class="plan"><figcaption><b>{_e(models[m])}</b> · rows: query {unit} · '
            f"columns: {_e(rq.target_label)} {unit}{shown} · total cost ⟨P, C⟩ = "
            f"{al.total_cost:.4f}{note}</figcaption>{heatmap_svg(al, win)}</figure>"
        )
    if not figures:
        return ""
    return f'<div class="plans">{"".join(figures)}</div>'


def _card(rq: ReportQuery, report: ComparisonReport) -> str:
    view = rq.view
    q = view.query
    rtl = ' dir="rtl"' if q.lang in RTL_LANGS else ""
    parallel = ""
    if view.parallel is not None and view.parallel.text != q.text:
        parallel = f'<p class="parallel">{_e(view.parallel.lang)}: {_e(view.parallel.text)}</p>'
    lists = []
    for m, hits in enumerate(view.lists):
        other = view.models[view.other(m)]
        gold = f" · gold {_rank(view.gold_ranks[m], view.k)}" if view.gold else ""
        items = "".join(_hit(h, other, view.k) for h in hits)
        lists.append(
            f'<div class="list"><h3>{_e(view.models[m])}{gold}</h3>'
            f'<ol class="hits">{items}</ol></div>'
        )
    search = " ".join([q.id, q.text, view.parallel.text if view.parallel else ""]).lower()
    return (
        f'<section class="query" id="q-{_e(q.id)}" data-query="{_e(q.id)}" '
        f'data-search="{_e(search)}"><h2{rtl}>{_e(q.text)} <span class="qid">{_e(q.id)} · '
        f"{_e(q.lang)} → {_e(report.direction[1])}</span></h2>{parallel}"
        f'<p class="facts">{_facts(view)}</p><div class="lists">{"".join(lists)}</div>'
        f"{_plans(rq, report.models)}</section>"
    )


def generated_now() -> str:
    """The time a page is made, as it shows it."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def render_html(report: ComparisonReport, generated: str = "") -> str:
    """The page (see the module notes); ``generated`` is the time it was made, shown as
    is (kept out of the rest, so two runs on the same inputs differ only there)."""
    q, d = report.direction
    a, b = (report.models[i] for i in report.pair)
    ot = report.ot
    plans = "none"
    if ot is not None:
        plans = (
            f"{ot.solver}" + ("" if ot.solver == "emd" else f" ε={ot.eps:g}")
            + (f" τ={ot.tau:g}" if ot.tau is not None else "")
            + f", {'last layer' if ot.layer == -1 else f'layer {ot.layer}'}, "
            f"{ot.weights} masses, {'words' if ot.words else 'sub-word tokens'}"
        )  # fmt: skip
    meta = [
        ("dataset", report.dataset),
        ("direction", f"{q} → {d}"),
        ("models", " · ".join(report.models)),
        ("depth", f"top {report.k} retrieved, {report.shown} shown per list"),
        ("queries", report.selection),
        ("judgments", report.judgments or "none"),
        ("OT plans", plans),
        ("clirlens", report.version),
    ]
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in meta)
    toc = "".join(
        f'<li><a href="#q-{_e(rq.view.query.id)}">{_e(rq.view.query.id)}</a> '
        f"{_e(rq.view.query.text[:80])}</li>"
        for rq in report.queries
    )
    cards = "".join(_card(rq, report) for rq in report.queries)
    title = f"clirlens · {q} → {d} · {a} vs {b}"
    stamp = f'<p class="qid">generated <span id="generated">{_e(generated)}</span></p>'
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><script>{_ONERROR}</script><style>{_CSS}</style></head>"
        f'<body><header><h1>{_e(title)}</h1><table class="meta">{rows}</table>'
        f"{stamp if generated else ''}</header>"
        f'<nav><input id="filter" type="search" placeholder="Filter queries by id or text…">'
        f'<span id="count"></span><details><summary>{len(report.queries)} queries</summary>'
        f"<ol>{toc}</ol></details></nav><main>{cards}</main>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
