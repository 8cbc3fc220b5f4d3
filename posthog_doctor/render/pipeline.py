"""The diagnosis as an inline SVG: the event's path as a row of stages coloured by state, the break marked, the
dead-letter branches and side services below. Each stage links to the first check that spoke for it. No
script, no font, nothing fetched; every label escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from ..model import Diagnosis, StageView

BOX_W, BOX_H, GAP, ROW_GAP, PAD = 132, 58, 22, 34, 8
COLOURS = {"ok": "#1a7f37", "degraded": "#9a6700", "broken": "#cf222e", "unknown": "#8250df", "unchecked": "#6e7781"}
FILLS = {"ok": "#dafbe1", "degraded": "#fff8c5", "broken": "#ffebe9", "unknown": "#fbefff", "unchecked": "#f6f8fa"}
ROWS = (("path", "The event's path"), ("dead_letter", "Where failed events go"), ("service", "What the path leans on"))


def pipeline_svg(diagnosis: Diagnosis) -> Markup:
    rows = [(label, [s for s in diagnosis.stages if s.kind == kind]) for kind, label in ROWS]
    rows = [(label, stages) for label, stages in rows if stages]
    if not rows:
        return Markup("")
    widest = max(len(stages) for _, stages in rows)
    width = PAD * 2 + widest * BOX_W + (widest - 1) * GAP
    height = PAD * 2 + len(rows) * (BOX_H + ROW_GAP + 14)
    parts = [
        f'<svg class="pipeline" role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-label="{escape(diagnosis.headline)}">',
        f"<title>{escape(diagnosis.headline)}</title>",
    ]
    y = PAD
    for index, (label, stages) in enumerate(rows):
        parts.append(f'<text x="{PAD}" y="{y + 10}" class="row-label">{escape(label)}</text>')
        top = y + 14
        for i, stage in enumerate(stages):
            x = PAD + i * (BOX_W + GAP)
            parts.append(_box(stage, x, top, stage.id == diagnosis.break_stage))
            if index == 0 and i:  # the path reads left to right
                parts.append(
                    f'<line x1="{x - GAP + 2}" y1="{top + BOX_H / 2}" x2="{x - 4}" y2="{top + BOX_H / 2}" '
                    'class="arrow" marker-end="url(#head)"/>'
                )
        y = top + BOX_H + ROW_GAP
    parts.insert(
        2,
        '<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" class="arrow-head"/></marker></defs>',
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _box(stage: StageView, x: float, y: float, is_break: bool) -> str:
    colour, fill = COLOURS.get(stage.state, "#6e7781"), FILLS.get(stage.state, "#f6f8fa")
    classes = f"stage {stage.state}" + (" break" if is_break else "")
    target = f"#check-{stage.checks[0]}" if stage.checks else "#diagnosis"
    said = stage.settle if stage.state in ("unknown", "unchecked") else stage.said
    lines = _wrap(stage.title, 18)[:3]
    text = "".join(
        f'<tspan x="{x + BOX_W / 2}" dy="{0 if i == 0 else 13}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    first = y + BOX_H / 2 - 6 * (len(lines) - 1) - 4
    return (
        f'<a href="{escape(target)}" class="{classes}" data-stage="{escape(stage.id)}" '
        f'data-state="{escape(stage.state)}">'
        f"<title>{escape(stage.title)}: {escape(stage.state)}{(' — ' + escape(said)) if said else ''}</title>"
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="7" fill="{fill}" stroke="{colour}" '
        f'stroke-width="{4 if is_break else 1.5}"/>'
        f'<text x="{x + BOX_W / 2}" y="{first}" text-anchor="middle" class="stage-title">{text}</text>'
        f'<text x="{x + BOX_W / 2}" y="{y + BOX_H - 6}" text-anchor="middle" class="stage-state" '
        f'fill="{colour}">{"BREAK · " if is_break else ""}{escape(stage.state)}</text></a>'
    )


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])
