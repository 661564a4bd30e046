// @ts-check
// Speed-time charts on uPlot (small and fast: thousands of 5-minute points draw in milliseconds).
// Times are UTC, the y axis is bits per second with SI units, and horizontal reference lines
// (the billed 95th percentile, a commit rate) are drawn on top of the series.
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { formatBps, formatUtc } from './format.js';

const TIME_INCRS_SEC = [300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400];

/** @param {number} tsSec */
const UTC = (tsSec) => uPlot.tzDate(new Date(tsSec * 1000), 'Etc/UTC');

/** Draws each reference line across the plot area, dashed, with its label at the right end. */
/** @param {{label: string, bps: number, color?: string}[]} lines @param {HTMLElement} container */
function referenceLinesPlugin(lines, container) {
  return {
    hooks: {
      draw: [(/** @type {uPlot} */ u) => {
        const { ctx } = u;
        const { left, top, width, height } = u.bbox;
        let drawn = 0;
        for (const line of lines) {
          if (!Number.isFinite(line.bps)) continue;
          const y = Math.round(u.valToPos(line.bps, 'y', true));
          if (y < top || y > top + height) continue;
          ctx.save();
          ctx.strokeStyle = line.color || '#b42318';
          ctx.lineWidth = 2 * uPlot.pxRatio;
          ctx.setLineDash([8 * uPlot.pxRatio, 5 * uPlot.pxRatio]);
          ctx.beginPath();
          ctx.moveTo(left, y);
          ctx.lineTo(left + width, y);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = line.color || '#b42318';
          ctx.font = `${12 * uPlot.pxRatio}px system-ui, sans-serif`;
          ctx.textAlign = 'right';
          ctx.textBaseline = 'bottom';
          ctx.fillText(`${line.label}: ${formatBps(line.bps)}`, left + width - 4 * uPlot.pxRatio, y - 3 * uPlot.pxRatio);
          ctx.restore();
          drawn++;
        }
        // Lets tests (and curious users) see that the lines were really drawn, not just configured.
        container.dataset.referenceLinesDrawn = String(drawn);
      }],
    },
  };
}

/**
 * Render a speed-time chart into container.
 * timesSec: bucket starts (Unix seconds, ascending); series: [{label, values (bps, null = no data), color}];
 * lines: [{label, bps, color}] reference lines. Returns {destroy(), setData(timesSec, valuesPerSeries)}.
 */
/**
 * @param {HTMLElement} container
 * @param {{timesSec: number[], series: {label: string, values: (number|null)[], color: string}[],
 *   lines?: {label: string, bps: number, color?: string}[], height?: number, title?: string,
 *   onSelectRange?: (fromSec: number, toSec: number) => void}} opts
 * onSelectRange: a drag-select over the plot reports the selected time span (the caller zooms by
 * reloading that range, so the table and the CSV follow); without it, dragging does nothing.
 */
export function speedTimeChart(container, { timesSec, series, lines = [], height = 320, title, onSelectRange }) {
  container.classList.add('chart');
  const maxLine = Math.max(0, ...lines.map((l) => (Number.isFinite(l.bps) ? l.bps : 0)));
  // Cast: uPlot's Options type does not take its own callbacks' loose JSDoc signatures.
  const opts = /** @type {any} */ ({
    title,
    width: Math.max(300, container.clientWidth || 800),
    height,
    tzDate: UTC,
    scales: {
      x: { time: true },
      // Always from 0, and tall enough that the reference lines stay in view.
      y: { range: (/** @type {uPlot} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => [0, Math.max(1000, max, maxLine) * 1.1] },
    },
    series: [
      { label: 'Time (UTC)', value: (/** @type {uPlot} */ _u, /** @type {number|null} */ v) => (v == null ? '—' : formatUtc(v * 1000)) },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        fill: `${s.color}22`,
        width: 1.5,
        spanGaps: false,
        points: { show: false },
        value: (/** @type {uPlot} */ _u, /** @type {number|null} */ v) => formatBps(v),
      })),
    ],
    axes: [
      // Ticks at whole 5-minute steps or coarser: the data's resolution, and HH:MM labels never repeat.
      { incrs: TIME_INCRS_SEC, values: (/** @type {uPlot} */ _u, /** @type {number[]} */ splits) => utcTimeLabels(splits) },
      { size: 86, values: (/** @type {uPlot} */ _u, /** @type {number[]} */ splits) => splits.map((v) => axisBps(v)) },
    ],
    plugins: [referenceLinesPlugin(lines, container)],
    // The chart never rescales itself on a drag: the page reloads the selected range instead.
    cursor: { drag: { x: !!onSelectRange, y: false, setScale: false } },
    hooks: onSelectRange ? {
      setSelect: [(/** @type {any} */ u) => {
        if (u.select.width < 2) return;
        const fromSec = u.posToVal(u.select.left, 'x');
        const toSec = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        onSelectRange(fromSec, toSec);
      }],
    } : {},
  });
  const plot = new uPlot(opts, [timesSec, ...series.map((s) => s.values)], container);
  const observer = typeof ResizeObserver === 'function'
    ? new ResizeObserver(() => {
      const w = Math.max(300, container.clientWidth);
      if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height });
    })
    : null;
  if (observer) observer.observe(container);
  return {
    plot,
    /** @param {number[]} newTimesSec @param {(number|null)[][]} valuesPerSeries */
    setData(newTimesSec, valuesPerSeries) { plot.setData([newTimesSec, ...valuesPerSeries]); },
    destroy() { if (observer) observer.disconnect(); plot.destroy(); },
  };
}

/** "600 Mbps" rather than "600.0 Mbps": axis ticks are round numbers. */
/** @param {number} v */
function axisBps(v) {
  return formatBps(v).replace(/\.0+ /, ' ').replace(/(\.\d*?)0+ /, '$1 ');
}

/** @param {number} n */
function pad2(n) { return String(n).padStart(2, '0'); }

/**
 * 24-hour UTC tick labels: "HH:MM", with the date ("MM-DD") on the first tick and at each new day;
 * only dates when the ticks are a day or more apart.
 */
/** @param {number[]} splits */
function utcTimeLabels(splits) {
  const stepSec = splits.length > 1 ? splits[1] - splits[0] : 0;
  let lastDay = '';
  return splits.map((sec) => {
    const d = new Date(sec * 1000);
    const day = `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
    const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
    if (stepSec >= 86400) return day;
    const label = day !== lastDay ? `${time}\n${day}` : time;
    lastDay = day;
    return label;
  });
}

/** Series points {bucketStartSec, bytesIn, bytesOut} → aligned arrays of bps, nulls where a bucket has no data. */
/** @param {{bucketStartSec: number, bytesIn: number, bytesOut: number}[]} points @param {number} fromSec @param {number} toSec */
export function seriesToBps(points, fromSec, toSec, stepSec = 300) {
  const byStart = new Map(points.map((p) => [Number(p.bucketStartSec), p]));
  const times = [];
  const inBps = [];
  const outBps = [];
  const first = Math.floor(fromSec / stepSec) * stepSec;
  for (let t = first; t < toSec; t += stepSec) {
    const p = byStart.get(t);
    times.push(t);
    inBps.push(p ? (Number(p.bytesIn) * 8) / stepSec : null);
    outBps.push(p ? (Number(p.bytesOut) * 8) / stepSec : null);
  }
  return { times, inBps, outBps };
}
