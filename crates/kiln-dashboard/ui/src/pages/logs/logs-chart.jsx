// Requests per hour as an SVG bar chart (no library): a labelled image for screen readers plus
// a table alternative in a details element.
import { formatDate as fmt, formatNumber, parseDate, t } from '../../i18n/index.js';

const formatDate = (d, o) => fmt(d.toISOString(), o);

const W = 960;
const H = 190;
const PAD = { left: 44, right: 12, top: 12, bottom: 42 };
const HOUR = 3600_000;

/** Hourly buckets from the first to the last stats entry, missing hours as zero. */
export function hourly(stats) {
  const points = (stats ?? []).map((s) => ({ date: parseDate(s.date), total: Number(s.total) || 0 })).filter((p) => p.date);
  if (!points.length) return [];
  points.sort((a, b) => a.date - b.date);
  const byTime = new Map(points.map((p) => [Math.floor(p.date.getTime() / HOUR), p.total]));
  const first = Math.floor(points[0].date.getTime() / HOUR);
  const last = Math.floor(points[points.length - 1].date.getTime() / HOUR);
  const out = [];
  // at least the last day up to now, so a quiet log still reads as a timeline
  const end = Math.max(last, Math.floor(Date.now() / HOUR));
  const start = Math.max(Math.min(first, end - 23), end - 24 * 14);
  for (let h = start; h <= end; h++) out.push({ date: new Date(h * HOUR), total: byTime.get(h) ?? 0 });
  return out;
}

function niceMax(v) {
  if (v <= 5) return Math.max(1, v);
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return v;
}

export function LogsChart({ stats, loading }) {
  const data = hourly(stats);
  const total = data.reduce((s, d) => s + d.total, 0);
  const peak = data.reduce((m, d) => (d.total > (m?.total ?? -1) ? d : m), null);
  const summary = data.length
    ? t('logs.chart.summary', {
        count: total,
        from: formatDate(data[0].date, { date: 'medium', time: 'short' }),
        to: formatDate(new Date(data[data.length - 1].date.getTime() + HOUR), { date: 'medium', time: 'short' }),
        peak: formatNumber(peak.total),
        peakAt: formatDate(peak.date, { date: 'medium', time: 'short' }),
      })
    : t('logs.chart.empty');
  const max = niceMax(peak?.total ?? 0);
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const n = Math.max(data.length, 1);
  const bw = iw / n;
  const ticks = [0, max / 2, max].filter((v, i, a) => a.indexOf(v) === i && Number.isInteger(v));
  // x labels: at most 9 across, on round hours; the date under the first label of each day
  const every = [1, 2, 3, 4, 6, 12, 24].find((h) => n / h <= 9) ?? 24;
  let lastDay = '';
  return (
    <div class="logs-chart" aria-busy={loading ? 'true' : 'false'}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${t('logs.chart.title')}. ${summary}`} class="logs-chart-svg">
        {ticks.map((v) => {
          const y = PAD.top + ih - (v / max) * ih;
          return (
            <g key={v} class="logs-chart-grid" aria-hidden="true">
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} />
              <text x={PAD.left - 6} y={y + 4} text-anchor="end">
                {formatNumber(v)}
              </text>
            </g>
          );
        })}
        {data.map((d, i) => {
          if (!d.total) return null;
          const h = (d.total / max) * ih;
          return (
            <rect key={i} class="logs-chart-bar" x={PAD.left + i * bw + bw * 0.1} y={PAD.top + ih - h} width={Math.max(1, bw * 0.8)} height={h}>
              <title>{`${formatDate(d.date, { date: 'medium', time: 'short' })}: ${formatNumber(d.total)}`}</title>
            </rect>
          );
        })}
        <line class="logs-chart-axis" x1={PAD.left} x2={W - PAD.right} y1={PAD.top + ih} y2={PAD.top + ih} />
        {data.map((d, i) => {
          if (d.date.getHours() % every) return null;
          const day = formatDate(d.date, { date: 'short', time: null });
          const showDay = day !== lastDay;
          lastDay = day;
          const x = PAD.left + i * bw + bw / 2;
          return (
            <text key={`l${i}`} class="logs-chart-label" x={x} y={H - 22} text-anchor="middle" aria-hidden="true">
              <tspan x={x}>{formatDate(d.date, { date: null, time: 'short' })}</tspan>
              {showDay && (
                <tspan x={x} dy="13">
                  {day}
                </tspan>
              )}
            </text>
          );
        })}
      </svg>
      <details class="logs-chart-table">
        <summary>{t('logs.chart.asTable')}</summary>
        <p class="small muted">{summary}</p>
        {data.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <caption class="sr-only">{t('logs.chart.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('logs.chart.hour')}</th>
                  <th scope="col">{t('logs.chart.count')}</th>
                </tr>
              </thead>
              <tbody>
                {data
                  .filter((d) => d.total > 0)
                  .map((d) => (
                    <tr key={d.date.getTime()}>
                      <td>{formatDate(d.date, { date: 'medium', time: 'short' })}</td>
                      <td>{formatNumber(d.total)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        )}
      </details>
    </div>
  );
}
