"""The HTML report's inline style sheet (system fonts only: nothing is fetched)."""

from __future__ import annotations

__all__ = ["PAGE_STYLE"]

_COLOURS = {
    "s0": "#1f77b4",
    "s1": "#d95f02",
    "s2": "#7570b3",
    "s3": "#1b9e77",
    "s4": "#666666",
    "s5": "#a6761d",
    "warn": "#e6ab02",
    "bad": "#d62728",
}


def _series_rules() -> str:
    rules = []
    for name, colour in _COLOURS.items():
        rules.append(
            f".{name}.line,.{name}.faint{{stroke:{colour}}}"
            f".{name}.band{{fill:{colour}}}.{name}.points{{fill:{colour}}}"
            f".swatch.{name}{{background:{colour}}}"
        )
    return "".join(rules)


PAGE_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#222;background:#fafafa;line-height:1.45}"
    "main{max-width:960px;margin:0 auto;padding:16px 20px 40px}"
    "h1{font-size:1.5em;margin:0.2em 0}h2{border-bottom:1px solid #ddd;margin-top:1.6em}"
    "h3{margin:0.4em 0;font-size:1.05em}code{background:#eee;padding:0 3px}"
    ".verdict{font-size:1.15em;font-weight:600;padding:6px 10px;border-left:5px solid #888}"
    ".risk-high{border-color:#d62728}.risk-medium{border-color:#e6ab02}"
    ".risk-low{border-color:#1b9e77}"
    ".facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}"
    ".facts dt{color:#666}.facts dd{margin:0;overflow-wrap:anywhere}"
    "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;"
    "overflow-wrap:break-word;vertical-align:top}th{white-space:nowrap}.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".kinds td{border-bottom:1px solid #eee}.barcell{width:220px}"
    ".bar{height:12px;background:#9ecae1}.bar.high{background:#d62728}"
    ".finding{background:#fff;border:1px solid #ddd;border-left:5px solid #9ecae1;"
    "padding:6px 12px;margin:10px 0}.sev-warning{border-left-color:#e6ab02}"
    ".sev-critical{border-left-color:#d62728}.p{color:#555;font-weight:400}"
    ".sev,.tag{font-size:0.8em;background:#eee;padding:1px 6px;border-radius:3px}"
    ".where{color:#555;font-size:0.9em;margin:2px 0;overflow-wrap:anywhere}"
    ".evidence td{font-size:0.9em;border-bottom:1px solid #f0f0f0}"
    ".chart-figure{margin:12px 0;background:#fff;border:1px solid #ddd;padding:4px}"
    "svg.chart{max-width:100%;height:auto;display:block}"
    ".plot-area{fill:#fff;stroke:#bbb}.grid{stroke:#eee}"
    ".tick{font-size:10px;fill:#555}.axis-label{font-size:11px;fill:#555}"
    ".title{font-size:13px;font-weight:600;fill:#222}"
    ".line{fill:none;stroke-width:1.8}.faint{fill:none;stroke-width:0.7;opacity:0.35}"
    ".band{opacity:0.18;stroke:none}.points circle{opacity:0.85}"
    ".rule line{stroke-width:1.2}.rule text{font-size:10px}"
    ".change line{stroke:#555;stroke-dasharray:4 3}.change text{fill:#555}"
    ".onset line{stroke:#d62728}.onset text{fill:#d62728}"
    ".clip line{stroke:#e6ab02;stroke-dasharray:6 3}.clip text{fill:#b08000}"
    ".legend{list-style:none;padding:0 8px;margin:4px 0;font-size:0.85em;display:flex;"
    "flex-wrap:wrap;gap:4px 14px}.legend li{overflow-wrap:anywhere}"
    ".swatch{display:inline-block;width:14px;height:8px;margin-right:5px}"
    ".swatch.band{opacity:0.3}.swatch.faint{opacity:0.4}"
    "footer{margin-top:2em;color:#888;font-size:0.85em}" + _series_rules()
)
