// Charts as SVG rendered on the server by Apache ECharts (its SSR renderer): no script, no asset
// from the internet; the page embeds the SVG as it is.
import * as echarts from 'echarts';
import { formatWan } from '../../workflows/money';

type Flow = { months: string[]; bySource: { name: string; fen: number[] }[] };

// Rendering costs ≈ 10 ms of CPU; the same figures draw the same SVG, so a page viewed again before any
// money moved reuses it (bounded: the least recently drawn go first).
const drawn = new Map<string, string | null>();
const CACHE_SIZE = 500;

function cached(key: string, render: () => string | null): string | null {
  const hit = drawn.get(key);
  if (hit !== undefined) {
    drawn.delete(key);
    drawn.set(key, hit);
    return hit;
  }
  const svg = render();
  if (drawn.size >= CACHE_SIZE) drawn.delete(drawn.keys().next().value as string);
  drawn.set(key, svg);
  return svg;
}

/** Cumulative money paid out net of recoveries per source, by month (万元). */
export function fundExecutionChart(flow: Flow): string | null {
  return cached(`fund:${JSON.stringify(flow)}`, () => draw(flow));
}

type Target = {
  name: string;
  targetText: string;
  statusName: string;
  status: 'met' | 'on_track' | 'at_risk' | 'not_met';
  percentOfTarget: number | null;
};
const STATUS_COLOURS = {
  met: '#15803d',
  on_track: '#2563eb',
  at_risk: '#d97706',
  not_met: '#9c1c1c',
};

/** Each target's figure as a share of its target (100 = reached), one bar each, coloured by status
 * (R-EV-1). Targets without a figure show an empty bar beside their name. */
export function attainmentChart(items: readonly Target[]): string | null {
  if (!items.length) return null;
  return cached(`targets:${JSON.stringify(items)}`, () => drawTargets(items));
}

function drawTargets(items: readonly Target[]): string {
  const rows = [...items].reverse(); // the first target on top
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: 720,
    height: 70 + 28 * rows.length,
  });
  try {
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: 'Noto Sans CJK SC, sans-serif' },
      title: {
        text: '绩效目标完成程度（占目标的 %）',
        left: 'center',
        textStyle: { fontSize: 14 },
      },
      grid: { left: 250, right: 110, top: 36, bottom: 24 },
      xAxis: {
        type: 'value',
        min: 0,
        max: (v: { max: number }) => Math.max(100, Math.ceil(v.max / 10) * 10),
      },
      yAxis: {
        type: 'category',
        data: rows.map((r) => `${r.name}（${r.targetText}）`),
        axisLabel: { width: 240, overflow: 'truncate' },
      },
      series: [
        {
          type: 'bar',
          barMaxWidth: 16,
          data: rows.map((r) => ({
            value: r.percentOfTarget ?? 0,
            itemStyle: { color: STATUS_COLOURS[r.status] },
          })),
          label: {
            show: true,
            position: 'right',
            formatter: (p: { dataIndex: number }) => {
              const r = rows[p.dataIndex];
              return r.percentOfTarget === null
                ? `${r.statusName}（无数据）`
                : `${r.percentOfTarget}% ${r.statusName}`;
            },
          },
          markLine: {
            silent: true,
            symbol: 'none',
            data: [{ xAxis: 100 }],
            label: { formatter: '目标' },
          },
        },
      ],
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
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
