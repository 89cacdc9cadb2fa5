// One job in a side panel (?job=ID): every field, the payload as formatted JSON, the last error in
// full; Retry (a failed job) and Delete (not while it runs).
import { useState } from 'preact/hooks';
import { errorMessage } from '../../api.js';
import { formatDate, formatNumber, t } from '../../i18n/index.js';
import { href } from '../../router.js';
import { confirm } from '../../ui/confirm.jsx';
import { FormErrors } from '../../ui/field.jsx';
import { useRequest } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { deleteJob, getJob, retryJob, webhookDelivery } from './api.js';
import { StatusBadge } from './status.jsx';

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t('core.copied'));
  } catch (err) {
    toast(errorMessage(err) || String(err), 'error');
  }
}

export function JobDetail({ id, onClose, onChanged }) {
  const req = useRequest(() => (id ? getJob(id) : Promise.resolve(null)), [id]);
  const [busy, setBusy] = useState('');
  const job = req.data?.id === id ? req.data : null;
  const hook = webhookDelivery(job);

  const retry = async () => {
    setBusy('retry');
    try {
      await retryJob(job.id);
      toast(t('jobs.retried', { name: job.name }));
      await req.reload();
      onChanged?.();
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy('');
    }
  };

  const remove = async () => {
    const ok = await confirm({ title: t('jobs.deleteTitle'), message: t('jobs.deleteConfirm', { name: job.name, id: job.id }), confirm: t('core.delete'), danger: true });
    if (!ok) return;
    setBusy('delete');
    try {
      await deleteJob(job.id);
      toast(t('jobs.deleted', { name: job.name }));
      onChanged?.();
      onClose();
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy('');
    }
  };

  return (
    <Modal
      open={!!id}
      size="panel"
      title={t('jobs.detail.title')}
      onClose={onClose}
      busy={!!busy}
      footer={
        <>
          {job && (
            <button type="button" class="btn" onClick={() => copy(JSON.stringify(job, null, 2))}>
              <Icon name="copy" /> {t('jobs.detail.copyJSON')}
            </button>
          )}
          {job && (
            <button
              type="button"
              class="btn btn-ghost"
              onClick={remove}
              disabled={!!busy || job.status === 'running'}
              title={job.status === 'running' ? t('jobs.runningNoDelete') : undefined}
            >
              {busy === 'delete' ? <span class="spinner" aria-hidden="true" /> : <Icon name="trash" />} {t('core.delete')}
            </button>
          )}
          <div class="grow" />
          {job?.status === 'failed' && (
            <button type="button" class="btn" onClick={retry} disabled={!!busy}>
              {busy === 'retry' ? <span class="spinner" aria-hidden="true" /> : <Icon name="refresh" />} {t('jobs.retry')}
            </button>
          )}
          <button type="button" class="btn btn-primary" onClick={onClose} disabled={!!busy}>
            {t('core.close')}
          </button>
        </>
      }
    >
      {req.error && !job && <FormErrors messages={[req.error]} />}
      {!job && !req.error && <p class="muted">{t('core.loading')}</p>}
      {job && (
        <div class="stack">
          {job.status === 'failed' && (
            <div class="alert alert-error">
              <p class="job-error-title">{t('jobs.detail.failed', { count: job.attempts })}</p>
              {job.lastError && <pre class="job-error">{job.lastError}</pre>}
            </div>
          )}
          {hook && <WebhookSummary hook={hook} />}
          <table class="table job-detail">
            <caption class="sr-only">{t('jobs.detail.title')}</caption>
            <tbody>
              <Row name="id" text={job.id}>
                <span class="mono">{job.id}</span>
              </Row>
              <Row name="name" text={job.name}>
                <span class="mono">{job.name}</span>
              </Row>
              <Row name="status" text={job.status}>
                <StatusBadge status={job.status} />
              </Row>
              <Row name="attempts" text={`${job.attempts}/${job.maxAttempts}`}>
                {t('jobs.attemptsTitle', { attempts: job.attempts, max: job.maxAttempts })}
              </Row>
              <Row name="maxAttempts" text={String(job.maxAttempts)}>
                {formatNumber(job.maxAttempts)}
              </Row>
              <Row name="backoff" text={String(job.backoff)}>
                {t('jobs.detail.ms', { ms: job.backoff })} <span class="muted small">{t('jobs.detail.backoffHint')}</span>
              </Row>
              <DateRow name="runAt" value={job.runAt} />
              <Row name="uniqueKey" text={job.uniqueKey}>
                {job.uniqueKey ? <span class="mono">{job.uniqueKey}</span> : <span class="muted">{t('jobs.detail.empty')}</span>}
              </Row>
              <Row name="lastError" text={job.lastError}>
                {job.lastError ? <pre class="job-error">{job.lastError}</pre> : <span class="muted">{t('jobs.detail.empty')}</span>}
              </Row>
              <DateRow name="created" value={job.created} />
              <DateRow name="updated" value={job.updated} />
              <Row name="payload" text={JSON.stringify(job.payload, null, 2)}>
                <pre class="job-json">{JSON.stringify(job.payload, null, 2)}</pre>
              </Row>
            </tbody>
          </table>
        </div>
      )}
    </Modal>
  );
}

function WebhookSummary({ hook }) {
  return (
    <section class="card job-webhook" aria-label={t('jobs.webhook.delivery')}>
      <h3>{t('jobs.webhook.delivery')}</h3>
      <dl class="job-facts">
        <dt>{t('jobs.webhook.name')}</dt>
        <dd>
          <a href={href('/settings/webhooks')} class="mono">
            {hook.webhook || '?'}
          </a>
        </dd>
        <dt>{t('jobs.webhook.event')}</dt>
        <dd class="mono">{hook.type}</dd>
        <dt>{t('jobs.webhook.collection')}</dt>
        <dd class="mono">{hook.collection}</dd>
        {hook.recordId && (
          <>
            <dt>{t('jobs.webhook.record')}</dt>
            <dd>
              <a class="mono" href={href(`/collections/${encodeURIComponent(hook.collection)}`, { record: hook.recordId })}>
                {hook.recordId}
              </a>
            </dd>
          </>
        )}
        <dt>{t('jobs.webhook.messageId')}</dt>
        <dd class="mono">{hook.messageId}</dd>
      </dl>
    </section>
  );
}

function DateRow({ name, value }) {
  return (
    <Row name={name} text={value}>
      {formatDate(value)} <span class="muted small mono">{value}</span>
    </Row>
  );
}

function Row({ name, text, children }) {
  const label = t('jobs.detail.copyN', { name });
  return (
    <tr>
      <th scope="row" class="mono">
        {name}
      </th>
      <td>{children}</td>
      <td class="job-detail-copy">
        <button type="button" class="btn btn-icon btn-sm" onClick={() => copy(text ?? '')} aria-label={label} title={label}>
          <Icon name="copy" />
        </button>
      </td>
    </tr>
  );
}
