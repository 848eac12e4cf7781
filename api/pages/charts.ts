// Charts as SVG rendered on the server by Apache ECharts (its SSR renderer): no script, no asset
// from the internet; the page embeds the SVG as it is.
import * as echarts from 'echarts';
import { formatWan } from '../../workflows/money';

type Flow = { months: string[]; bySource: { name: string; fen: number[] }[] };

// Rendering costs ≈ 10 ms of CPU; the same figures draw the same SVG, so a page viewed again before any
// money moved reuses it (bounded: the least recently drawn go first).
const drawn = new Map<string, string | null>();
const CACHE_SIZE = 500;

/** Cumulative money paid out net of recoveries per source, by month (万元). */
export function fundExecutionChart(flow: Flow): string | null {
  const key = JSON.stringify(flow);
  const hit = drawn.get(key);
  if (hit !== undefined) {
    drawn.delete(key);
    drawn.set(key, hit);
    return hit;
  }
  const svg = draw(flow);
  if (drawn.size >= CACHE_SIZE) drawn.delete(drawn.keys().next().value as string);
  drawn.set(key, svg);
  return svg;
}

function draw(flow: Flow): string | null {
  if (!flow.months.length) return null;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 720, height: 280 });
  try {
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: 'Noto Sans CJK SC, sans-serif' },
      color: ['#9c1c1c', '#d97706', '#2563eb'],
      title: { text: '资金执行（累计净拨付，万元）', left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 50 },
      xAxis: { type: 'category', data: flow.months },
      yAxis: { type: 'value', axisLabel: { formatter: '{value}' } },
      series: flow.bySource.map((s) => {
        let total = 0;
        return {
          name: s.name,
          type: 'line',
          step: 'end',
          data: s.fen.map((f) => Number(formatWan((total += f)).replace(/,/g, ''))),
        };
      }),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
