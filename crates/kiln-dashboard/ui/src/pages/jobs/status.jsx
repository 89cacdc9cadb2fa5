// A job's status as a badge.
import { t } from '../../i18n/index.js';

const CLASS = { queued: 'badge-info', running: 'badge-accent', done: 'badge-success', failed: 'badge-danger' };

export function StatusBadge({ status }) {
  return <span class={`badge ${CLASS[status] ?? ''}`}>{CLASS[status] ? t(`jobs.status.${status}`) : status}</span>;
}
