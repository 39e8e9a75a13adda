/**
 * Charts of the console: a uPlot canvas that follows its container's width, named for assistive
 * technology, with the same numbers in a table beside it. Lines, bars (stacked or not) and filled
 * bands between two series (e.g. a forecast's quantiles).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber, useId } from './ui';

export interface ChartSeries {
  label: string;
  /** One value per x; null for none. */
  values: ReadonlyArray<number | null>;
  /** `line` (default) or `bars`. */
  kind?: 'line' | 'bars';
  /** A CSS color, or a custom property of the stylesheet (`--accent`); by default the next color of the palette. */
  color?: string;
  /** false: no line of its own (e.g. the edges of a band); still in the table. */
  line?: boolean;
  dash?: number[];
}

/** A filled area between two series, given by their index in `series`. */
export interface ChartBand {
  upper: number;
  lower: number;
  /** A CSS color (give it transparency); by default the upper series' color, faded. */
  color?: string;
}

export interface ChartProps {
  /** The chart's accessible name and caption. */
  title: string;
  /** One sentence for assistive technology, e.g. what the lines are. */
  description?: string;
  /** `day`: UTC days as unix seconds at midnight; `time`: unix seconds; `number`: plain numbers. */
  xKind?: 'day' | 'time' | 'number';
  /** Ascending. Pass arrays that keep their identity between renders (useMemo): a change redraws. */
  x: ReadonlyArray<number>;
  series: ChartSeries[];
  bands?: ChartBand[];
  /** Bars (and lines) drawn on top of one another; the table keeps each series' own values. */
  stacked?: boolean;
  /** Height of the plotting area in CSS pixels. */
  height?: number;
  /** Formats values (axis, legend and table). */
  format?: (value: number) => string;
  /** The x column's heading in the table. */
  xLabel?: string;
}

/** Colors readable on light and dark backgrounds, distinguishable for common color blindness. */
export const CHART_PALETTE = ['#4f7cf0', '#e8871e', '#2da44e', '#d1478a', '#8a63d2', '#1f9fb0', '#b08800', '#8c959f'];

const DAY_SECONDS = 86_400;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** A color with transparency, from #rrggbb (anything else is returned as is). */
function faded(color: string, alpha: number): string {
  const match = /^#([0-9a-f]{6})$/i.exec(color);
  if (!match) return color;
  const n = parseInt(match[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** How an x value is written in the table and the legend. */
export function formatX(kind: ChartProps['xKind'], value: number): string {
  if (kind === 'day') return new Date(value * 1000).toISOString().slice(0, 10);
  if (kind === 'time') return new Date(value * 1000).toISOString().replace('T', ' ').slice(0, 16);
  return formatNumber(value, 4);
}

/** Each series' values added to those of the series before it. */
function stack(series: ChartSeries[]): (number | null)[][] {
  const sums: (number | null)[][] = [];
  series.forEach((s, i) => {
    sums.push(s.values.map((v, j) => (v ?? 0) + (i > 0 ? (sums[i - 1][j] ?? 0) : 0)));
  });
  return sums;
}

function xStep(x: ReadonlyArray<number>, kind: ChartProps['xKind']): number {
  if (x.length > 1) return x[1] - x[0];
  return kind === 'day' ? DAY_SECONDS : 1;
}

function options(props: ChartProps, width: number): { opts: uPlot.Options; data: uPlot.AlignedData } {
  const format = props.format ?? ((v: number) => formatNumber(v, 2));
  const text = cssVar('--muted', '#57606a');
  const grid = cssVar('--border', '#d0d7de');
  const colors = props.series.map((s, i) => {
    const color = s.color ?? CHART_PALETTE[i % CHART_PALETTE.length];
    return color.startsWith('--') ? cssVar(color, 'currentColor') : color;
  });
  const sums = props.stacked ? stack(props.series) : props.series.map((s) => [...s.values]);
  // A bar of nothing is not drawn (not even its outline).
  const values = sums.map((vs, i) =>
    props.series[i].kind === 'bars' ? vs.map((v, j) => (props.series[i].values[j] ? v : null)) : vs,
  );
  // Stacked: the top of the stack is drawn first, each lower series over it.
  const order = props.series.map((_, i) => i);
  if (props.stacked) order.reverse();
  const hasBars = props.series.some((s) => s.kind === 'bars');
  const bars = uPlot.paths.bars!({ size: [0.7, 48], align: 0 });
  const step = xStep(props.x, props.xKind);
  const series: uPlot.Series[] = [
    {
      label: props.xLabel ?? (props.xKind === 'number' ? 'x' : 'Date'),
      value: (_u, v) => (v === null ? '—' : formatX(props.xKind, v)),
    },
    ...order.map((i): uPlot.Series => {
      const s = props.series[i];
      const own = s.values;
      return {
        label: s.label,
        stroke: s.line === false ? 'transparent' : colors[i],
        width: s.line === false ? 0 : s.kind === 'bars' ? 1 : 2,
        fill: s.kind === 'bars' ? colors[i] : undefined,
        dash: s.dash,
        paths: s.kind === 'bars' ? bars : undefined,
        points: { show: s.kind !== 'bars' && s.line !== false && props.x.length < 40 },
        value: (_u, _v, _si, idx) => {
          const v = idx === null ? null : own[idx];
          return v === null || v === undefined ? '—' : format(v);
        },
      };
    }),
  ];
  const position = (i: number) => order.indexOf(i) + 1;
  const bands: uPlot.Band[] = (props.bands ?? []).map((b) => ({
    series: [position(b.upper), position(b.lower)],
    fill: b.color ?? faded(colors[b.upper], 0.2),
  }));
  const axis: uPlot.Axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const opts: uPlot.Options = {
    width,
    height: props.height ?? 220,
    series,
    bands,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      x: {
        time: props.xKind !== 'number',
        // Bars need half a step on either side; a lone point needs a range at all.
        range: (_u, min, max) => (hasBars || min === max ? [min - step / 2, max + step / 2] : [min, max]),
      },
      y: {
        range: (_u, min, max) => {
          const low = hasBars || props.stacked ? Math.min(0, min) : min;
          const high = max > low ? max : low + 1;
          return uPlot.rangeNum(low, high, 0.1, true);
        },
      },
    },
    axes: [
      { ...axis, space: 60 },
      { ...axis, size: 64, values: (_u, splits) => splits.map((v) => format(v)) },
    ],
  };
  const data = [[...props.x], ...order.map((i) => values[i])] as uPlot.AlignedData;
  return { opts, data };
}

/** Follows the light/dark preference: the canvas' colors are read from the stylesheet's variables. */
function useColorScheme(): boolean {
  const query = useMemo(() => window.matchMedia('(prefers-color-scheme: dark)'), []);
  const [dark, setDark] = useState(query.matches);
  useEffect(() => {
    const changed = () => setDark(query.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, [query]);
  return dark;
}

/** The numbers of a chart, as a table (the chart's alternative for assistive technology and copying). */
function ChartTable(props: ChartProps) {
  const format = props.format ?? ((v: number) => formatNumber(v, 2));
  return (
    <details class="chart-data">
      <summary>Table: {props.title}</summary>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{props.title}</caption>
          <thead>
            <tr>
              <th scope="col">{props.xLabel ?? (props.xKind === 'number' ? 'x' : 'Date')}</th>
              {props.series.map((s) => (
                <th scope="col" class="num" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.x.map((x, i) => (
              <tr key={x}>
                <th scope="row">{formatX(props.xKind, x)}</th>
                {props.series.map((s) => {
                  const v = s.values[i];
                  return (
                    <td class="num" key={s.label}>
                      {v === null || v === undefined ? '—' : format(v)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export function Chart(props: ChartProps) {
  const captionId = useId('chart');
  const box = useRef<HTMLDivElement>(null);
  const dark = useColorScheme();
  useEffect(() => {
    const target = box.current;
    if (!target) return;
    const { opts, data } = options(props, Math.max(120, target.clientWidth));
    const plot = new uPlot(opts, data, target);
    const height = opts.height;
    let width = target.clientWidth;
    const observer = new ResizeObserver(() => {
      const next = Math.max(120, target.clientWidth);
      if (next === width) return;
      width = next;
      plot.setSize({ width: next, height });
    });
    observer.observe(target);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
    // Redrawn when the data or the color scheme changes (the title and format are read at drawing).
  }, [props.x, props.series, props.bands, props.stacked, props.height, dark]);
  const label = props.description ? `${props.title}. ${props.description}` : props.title;
  return (
    <figure class="chart" aria-labelledby={captionId}>
      <figcaption id={captionId} class="chart-title">
        {props.title}
      </figcaption>
      <div class="chart-canvas" ref={box} role="img" aria-label={label} />
      <ChartTable {...props} />
    </figure>
  );
}
