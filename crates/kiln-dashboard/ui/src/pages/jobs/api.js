// The job queue's API (`/api/jobs`, superusers only): the SDK has no service for it, so these
// call `pb.send` directly.
import { pb } from '../../api.js';

export const STATUSES = ['queued', 'running', 'done', 'failed'];

/** The job name of outbound webhook deliveries. */
export const WEBHOOK_JOB = '__webhook';

const path = (id) => `/api/jobs/${encodeURIComponent(id)}`;

/** `{ items, page, perPage, totalItems }`, the newest first. */
export function listJobs({ status = '', name = '', page = 1, perPage = 30 } = {}) {
  const query = { page, perPage };
  if (status) query.status = status;
  if (name) query.name = name;
  return pb.send('/api/jobs', { method: 'GET', query, requestKey: null });
}

export const getJob = (id) => pb.send(path(id), { method: 'GET', requestKey: null });
export const deleteJob = (id) => pb.send(path(id), { method: 'DELETE', requestKey: null });
export const retryJob = (id) => pb.send(`${path(id)}/retry`, { method: 'POST', requestKey: null });
/** `{ name, payload, runAt?, uniqueKey?, maxAttempts?, backoff? }` → the queued job. */
export const queueJob = (body) => pb.send('/api/jobs', { method: 'POST', body, requestKey: null });

/**
 * What an outbound webhook delivery carries (`{ webhook, type, collection, recordId, messageId }`),
 * or null for any other job.
 */
export function webhookDelivery(job) {
  if (job?.name !== WEBHOOK_JOB) return null;
  const p = job.payload && typeof job.payload === 'object' ? job.payload : {};
  const m = p.message && typeof p.message === 'object' ? p.message : {};
  const data = m.data && typeof m.data === 'object' ? m.data : {};
  return {
    webhook: typeof p.webhook === 'string' ? p.webhook : '',
    messageId: typeof p.id === 'string' ? p.id : '',
    type: typeof m.type === 'string' ? m.type : '',
    timestamp: typeof m.timestamp === 'string' ? m.timestamp : '',
    collection: typeof data.collection === 'string' ? data.collection : '',
    recordId: typeof data.record?.id === 'string' ? data.record.id : '',
  };
}
