/**
 * A small uPlot chart of lines over one x axis, with an optional shaded band between two edges
 * (a forecast's quantile interval). Colours are CSS custom properties of the console's theme
 * (`--accent`…), read when the chart is drawn and again when the colour scheme changes.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartLine {
  label: string;
  values: (number | null)[];
  /** A CSS colour, or a custom property of the theme (`--accent`). */
  color: string;
  dash?: number[];
}

export interface ChartBand {
  label: string;
  lower: (number | null)[];
  upper: (number | null)[];
  color: string;
}

export interface LineBandChartProps {
  /** What the chart shows, for screen readers (pair the chart with a table of its numbers). */
  title: string;
  /** The x value of each point: ms since epoch when `time`, else any numbers (e.g. steps). */
  x: number[];
  time?: boolean;
  lines: ChartLine[];
  band?: ChartBand;
  height?: number;
}

function resolve(color: string, style: CSSStyleDeclaration): string {
  return color.startsWith('--') ? style.getPropertyValue(color).trim() || 'currentColor' : color;
}

/** `#rrggbb` at an opacity, for the band's fill; other colours as they are. */
function translucent(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (!hex) return color;
  const n = parseInt(hex[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function options(props: LineBandChartProps, width: number): { opts: uPlot.Options; data: uPlot.AlignedData } {
  const style = getComputedStyle(document.documentElement);
  const text = resolve('--muted', style);
  const grid = resolve('--border', style);
  const series: uPlot.Series[] = [{ label: props.time ? 'Time' : 'Step' }];
  const data: (number | null)[][] = [props.time ? props.x.map((t) => t / 1000) : props.x];
  const bands: uPlot.Band[] = [];
  if (props.band) {
    const color = resolve(props.band.color, style);
    series.push(
      { label: `${props.band.label} (upper)`, stroke: translucent(color, 0.5), width: 1, points: { show: false } },
      { label: `${props.band.label} (lower)`, stroke: translucent(color, 0.5), width: 1, points: { show: false } },
    );
    data.push(props.band.upper, props.band.lower);
    bands.push({ series: [1, 2], fill: translucent(color, 0.18) });
  }
  for (const line of props.lines) {
    series.push({ label: line.label, stroke: resolve(line.color, style), width: 2, dash: line.dash, spanGaps: false });
    data.push(line.values);
  }
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    opts: {
      width,
      height: props.height ?? 300,
      series,
      bands,
      scales: { x: { time: Boolean(props.time) } },
      axes: [axis, { ...axis, size: 60 }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    },
    data: data as uPlot.AlignedData,
  };
}

/** Tracks the colour scheme, so the chart is redrawn in the other theme's colours. */
function useColorScheme(): boolean {
  const query = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  const [dark, setDark] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const change = () => setDark(query.matches);
    query.addEventListener('change', change);
    return () => query.removeEventListener('change', change);
  }, []);
  return dark;
}

export function LineBandChart(props: LineBandChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const dark = useColorScheme();
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const { opts, data } = options(props, Math.max(element.clientWidth, 200));
    const chart = new uPlot(opts, data, element);
    const observer = new ResizeObserver(() => {
      const width = Math.max(element.clientWidth, 200);
      if (width !== chart.width) chart.setSize({ width, height: chart.height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [props, dark]);
  return <div class="line-band-chart" ref={box} role="img" aria-label={props.title} />;
}
