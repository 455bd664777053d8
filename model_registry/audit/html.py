"""An audit as one self-contained HTML page: findings first, the chain drawn as SVG."""

from __future__ import annotations

from html import escape

from model_registry.audit.evidence import Audit
from model_registry.audit.render import _facts, chain

# Where each node sits: the serving chain on top, the evidence below the package.
_POSITIONS = {
    "artifact": (0, 0),
    "package": (1, 0),
    "model": (2, 0),
    "config": (3, 0),
    "endpoint": (4, 0),
    "execution": (0, 1),
    "recommender": (1, 1),
    "gate": (2, 1),
}
_W, _H, _GAP_X, _GAP_Y, _PAD = 190, 64, 40, 50, 20


def _xy(key: str) -> tuple[int, int]:
    col, row = _POSITIONS[key]
    return _PAD + col * (_W + _GAP_X), _PAD + row * (_H + _GAP_Y)


def svg(a: Audit) -> str:
    nodes, edges = chain(a)
    width = _PAD * 2 + 5 * _W + 4 * _GAP_X
    height = _PAD * 2 + 2 * _H + _GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for src, dst, label in edges:
        (x1, y1), (x2, y2) = _xy(src), _xy(dst)
        if y1 == y2:
            sx, sy, ex, ey = x1 + _W, y1 + _H / 2, x2, y2 + _H / 2
        else:
            sx, sy, ex, ey = x1 + _W / 2, y1, x2 + _W / 2, y2 + _H
        parts.append(f'<line x1="{sx}" y1="{sy}" x2="{ex}" y2="{ey}" stroke="#555" marker-end="url(#arrow)"/>')
        parts.append(f'<text x="{(sx + ex) / 2 + 4}" y="{(sy + ey) / 2 - 4}" fill="#777">{escape(label)}</text>')
    for n in nodes:
        x, y = _xy(n.key)
        fill, stroke = ("#fde2e2", "#c0392b") if n.bad else ("#eef4fb", "#3b6ea5")
        parts.append(
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6"'
            f' fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
        )
        lines = [n.title, *n.detail.split("\n")]
        for i, text in enumerate(lines[:4]):
            weight = "bold" if i == 0 else "normal"
            shown = text if len(text) <= 34 else "…" + text[-33:]
            parts.append(f'<text x="{x + 8}" y="{y + 16 + i * 14}" font-weight="{weight}">{escape(shown)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def as_html(a: Audit) -> str:
    title = a.endpoint.name if a.endpoint else a.package.arn
    findings = (
        "".join(
            f'<li class="{escape(f.severity)}"><b>{escape(f.code)}</b> {escape(f.message)}</li>' for f in a.findings
        )
        or '<li class="ok">no findings: the chain is intact</li>'
    )
    facts = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in _facts(a))
    steps = ""
    if a.execution is not None:
        rows = "".join(
            f"<tr><td>{escape(s.name)}</td><td>{escape(s.status)}</td><td>{s.start}</td><td>{s.end}</td>"
            f"<td>{escape(s.failure_reason)}</td></tr>"
            for s in a.execution.steps
        )
        head = "".join(f"<th>{h}</th>" for h in ("step", "status", "start", "end", "failure"))
        steps = f"<h2>Pipeline execution</h2><table><tr>{head}</tr>{rows}</table>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Audit: {escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
li.critical {{ color: #a00; }} li.high {{ color: #b35900; }} li.medium {{ color: #7a6a00; }} li.ok {{ color: #1a7f37; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
</style></head><body>
<h1>Audit: {escape(title)}</h1>
<h2>Findings</h2><ul>{findings}</ul>
<h2>Chain</h2>{svg(a)}
<table>{facts}</table>
{steps}
</body></html>
"""
