/**
 * The attempt timeline drawn in SVG from timeline.ts's layout: per lane the due marker, the drift
 * (due → start) as a thin line, the run as a bar coloured by outcome, and the wait the decision
 * chose as a dashed line labelled with its delay. The same facts are in the attempts table as text.
 */
import { formatDuration, formatSigned } from '../format.js';
import { MARGIN, layoutTimeline, waitLabel, type TimelineInput } from '../timeline.js';

const WIDTH = 960;

export function Timeline({ input }: { input: TimelineInput }) {
  const l = layoutTimeline(input, WIDTH);
  const axisY = l.height - MARGIN.bottom + 8;
  const summary = `Attempt timeline: ${l.lanes.length} attempts over ${formatDuration(l.t1 - l.t0)}`;
  return (
    <figure class="timeline">
      <svg
        viewBox={`0 0 ${l.width} ${l.height}`}
        role="img"
        aria-label={summary}
        preserveAspectRatio="xMinYMin meet"
      >
        <title>{summary}</title>
        {l.ticks.map((t) => (
          <g key={t.offsetMs} class="tick">
            <line x1={t.x} x2={t.x} y1={MARGIN.top - 4} y2={axisY} />
            <text x={t.x} y={axisY + 14} text-anchor="middle">
              {t.offsetMs === 0 ? '0' : `+${formatDuration(t.offsetMs)}`}
            </text>
          </g>
        ))}
        {l.waits.map((w) => (
          <g key={`w${w.after}`} class={w.pending ? 'wait pending' : 'wait'} data-wait-after={w.after}>
            <line x1={w.fromX} x2={Math.max(w.toX, w.fromX + 1)} y1={w.y + 12} y2={w.y + 12} />
            <text x={(w.fromX + w.toX) / 2} y={w.y + 32} text-anchor="middle">
              {waitLabel(w.pending, w.delayMs, w.explanation, w.toX - w.fromX)}
            </text>
            <title>{`After attempt ${w.after}: ${formatDuration(w.delayMs)} (${w.explanation})`}</title>
          </g>
        ))}
        {l.lanes.map((lane) => (
          <g key={lane.n} class={`lane outcome-${lane.outcome}`} data-attempt={lane.n}>
            <text x={8} y={lane.y + 16} class="lane-label">
              {`#${lane.n} ${lane.trigger}`}
            </text>
            <path class="due" d={`M${lane.dueX},${lane.y + 4} l4,8 l-4,8 l-4,-8 z`} />
            <line class="drift" x1={lane.dueX} x2={lane.startX} y1={lane.y + 12} y2={lane.y + 12} />
            <rect
              class="run"
              x={lane.startX}
              y={lane.y + 4}
              width={Math.max(3, lane.endX - lane.startX)}
              height={16}
              rx={2}
            />
            <title>{`Attempt ${lane.n} (${lane.trigger}): drift ${formatSigned(lane.driftMs)}, ran ${formatDuration(lane.durationMs)}, ${lane.outcome}`}</title>
          </g>
        ))}
        <line class="axis" x1={MARGIN.left} x2={l.width - MARGIN.right} y1={axisY} y2={axisY} />
      </svg>
      <figcaption class="legend">
        <span class="key due-key">◆ due</span> <span class="key drift-key">— drift</span>{' '}
        <span class="key run-key">▬ run (green succeeded, red failed, amber other)</span>{' '}
        <span class="key wait-key">┄ wait before the next attempt</span>
      </figcaption>
    </figure>
  );
}
