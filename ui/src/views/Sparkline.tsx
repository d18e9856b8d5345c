/**
 * A small uPlot chart of completed and failed attempts per 10 s over the last 5 minutes. The
 * numbers it draws are also in the overview table as text.
 */
import 'uplot/dist/uPlot.min.css';

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export function Sparkline({ data, label }: { data: number[][]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    if (!box.current) return;
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    plot.current = new uPlot(
      {
        width: 150,
        height: 36,
        legend: { show: false },
        cursor: { show: false },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [
          {},
          { label: 'completed', stroke: dark ? '#4ade80' : '#15803d', width: 1.5 },
          { label: 'failed', stroke: dark ? '#f87171' : '#b91c1c', width: 1.5 },
        ],
      },
      data as uPlot.AlignedData,
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data as uPlot.AlignedData), [data]);
  return <div class="spark" ref={box} role="img" aria-label={label} />;
}
