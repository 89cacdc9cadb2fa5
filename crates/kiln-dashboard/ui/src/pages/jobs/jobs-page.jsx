// The job queue: every job (hooks' $jobs.enqueue, outbound webhook deliveries, inbound webhook
// events), by status and name (both kept in the address), the detail of one (?job=ID) with retry
// and delete, and a dialog to queue a job by hand.
import { useEffect, useState } from 'preact/hooks';
import { href, setQuery } from '../../router.js';
import { formatDate, formatNumber, t } from '../../i18n/index.js';
import { FormErrors } from '../../ui/field.jsx';
import { useRequest } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { Pager } from '../../ui/pager.jsx';
import { Tabs } from '../../ui/tabs.jsx';
import { listJobs, STATUSES, WEBHOOK_JOB, webhookDelivery } from './api.js';
import { StatusBadge } from './status.jsx';
import { JobDetail } from './job-detail.jsx';
import { QueueJob } from './queue-job.jsx';
import './jobs.css';

const PER_PAGE = 30;

export function JobsPage({ query }) {
  const rawStatus = query.get('status') ?? '';
  const status = STATUSES.includes(rawStatus) ? rawStatus : '';
  const name = query.get('name') ?? '';
  const page = Math.max(1, Number(query.get('page')) || 1);
  const jobId = query.get('job') ?? '';
  const [text, setText] = useState(name);
  const [tick, setTick] = useState(0);
  const [queueOpen, setQueueOpen] = useState(false);
  useEffect(() => setText(name), [name]);

  const list = useRequest(() => listJobs({ status, name, page, perPage: PER_PAGE }), [status, name, page, tick]);
  // how many failed jobs wait (whatever the current tab): a count on the Failed tab
  const failed = useRequest(() => listJobs({ status: 'failed', name, perPage: 1 }), [name, tick]);

  const refresh = () => setTick((n) => n + 1);
  const filterName = (value) => setQuery({ name: value.trim(), page: '' });
  const res = list.data;
  const items = res?.items ?? [];
  const total = res?.totalItems ?? 0;
  const totalPages = Math.ceil(total / (res?.perPage || PER_PAGE));

  // a page past the end (the last jobs of it were deleted): go to the last one
  useEffect(() => {
    if (res && !items.length && page > 1 && totalPages >= 1 && page > totalPages) setQuery({ page: totalPages > 1 ? totalPages : '' });
  }, [res, page, totalPages]);

  const failedCount = failed.data?.totalItems ?? 0;
  const tabs = [{ id: '', label: t('jobs.status.all') }].concat(
    STATUSES.map((s) => ({
      id: s,
      label:
        s === 'failed' && failedCount > 0 ? (
          <>
            {t('jobs.status.failed')} <span class="badge badge-danger">{formatNumber(failedCount)}</span>
          </>
        ) : (
          t(`jobs.status.${s}`)
        ),
    })),
  );
  const queryObj = Object.fromEntries(query);
  const filtered = !!(status || name);

  return (
    <div class="jobs-page">
      <header class="page-head">
        <h1>{t('jobs.title')}</h1>
        <div class="grow" />
        <button type="button" class="btn" onClick={refresh} disabled={list.loading}>
          {list.loading ? <span class="spinner" aria-hidden="true" /> : <Icon name="refresh" />} {t('core.refresh')}
        </button>
        <button type="button" class="btn btn-primary" onClick={() => setQueueOpen(true)}>
          <Icon name="plus" /> {t('jobs.queue.open')}
        </button>
      </header>
      <div class="page-body stack">
        <p class="muted">{t('jobs.intro')}</p>
        <form
          class="jobs-search"
          role="search"
          aria-label={t('jobs.filterLabel')}
          onSubmit={(e) => {
            e.preventDefault();
            filterName(text);
          }}
        >
          <label class="sr-only" for="kd-jobs-name">
            {t('jobs.nameFilter')}
          </label>
          <input
            id="kd-jobs-name"
            class="input mono grow"
            type="search"
            list="kd-jobs-names"
            value={text}
            placeholder={t('jobs.nameFilterPlaceholder')}
            onInput={(e) => setText(e.currentTarget.value)}
            autocomplete="off"
            spellcheck={false}
          />
          <datalist id="kd-jobs-names">
            {[...new Set([WEBHOOK_JOB, ...items.map((j) => j.name)])].map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          <button type="submit" class="btn">
            <Icon name="search" /> {t('jobs.filter')}
          </button>
          {name ? (
            <button type="button" class="btn btn-ghost" onClick={() => filterName('')}>
              {t('jobs.clearFilter')}
            </button>
          ) : (
            <a class="btn btn-ghost" href={href('/jobs', { status, name: WEBHOOK_JOB })}>
              {t('jobs.webhookDeliveries')}
            </a>
          )}
        </form>
        <Tabs tabs={tabs} active={status} onChange={(s) => setQuery({ status: s, page: '' })} label={t('jobs.statusFilter')}>
          <div class="stack">
            <div class="row between">
              <span class="muted small" aria-live="polite">
                {res ? t('jobs.found', { count: total }) : ''}
              </span>
            </div>
            {list.error && <FormErrors messages={[list.error]} />}
            <div class="table-wrap" aria-busy={list.loading ? 'true' : 'false'}>
              <table class="table jobs-table">
                <caption class="sr-only">{t('jobs.tableCaption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('jobs.col.name')}</th>
                    <th scope="col">{t('jobs.col.status')}</th>
                    <th scope="col">{t('jobs.col.attempts')}</th>
                    <th scope="col">{t('jobs.col.runAt')}</th>
                    <th scope="col">{t('jobs.col.lastError')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((job) => (
                    <JobRow key={job.id} job={job} active={job.id === jobId} link={href('/jobs', { ...queryObj, job: job.id })} />
                  ))}
                  {!items.length && (
                    <tr>
                      <td colSpan={5} class="empty">
                        {list.loading && !res ? t('core.loading') : filtered ? t('jobs.noneFiltered') : t('jobs.none')}
                      </td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
            {res && totalPages > 0 && <Pager page={page} totalPages={totalPages} totalItems={total} onPage={(p) => setQuery({ page: p > 1 ? p : '' })} />}
          </div>
        </Tabs>
      </div>
      <JobDetail id={jobId} onClose={() => setQuery({ job: '' })} onChanged={refresh} />
      <QueueJob open={queueOpen} onClose={() => setQueueOpen(false)} onQueued={refresh} />
    </div>
  );
}

function JobRow({ job, active, link }) {
  const hook = webhookDelivery(job);
  return (
    <tr class={`jobs-row ${active ? 'active' : ''}`} onClick={(e) => e.target.closest('a') || (location.hash = link)}>
      <td class="jobs-name">
        <a href={link} class="jobs-link">
          {hook ? (
            <>
              <span class="badge badge-accent">{t('jobs.webhook.delivery')}</span> <span class="mono">{hook.webhook || '?'}</span>
            </>
          ) : (
            <span class="mono">{job.name}</span>
          )}
        </a>
        {hook ? (
          <div class="small muted">
            <span class="mono">{hook.type}</span>
            {hook.collection && <> · {hook.collection}</>}
            {hook.recordId && <> · <span class="mono">{hook.recordId}</span></>}
          </div>
        ) : (
          job.uniqueKey && <div class="small muted mono ellipsis">{job.uniqueKey}</div>
        )}
      </td>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td class="nowrap" title={t('jobs.attemptsTitle', { attempts: job.attempts, max: job.maxAttempts })}>
        {t('jobs.attemptsOf', { attempts: job.attempts, max: job.maxAttempts })}
      </td>
      <td class="nowrap">
        <time dateTime={job.runAt.replace(' ', 'T')}>{formatDate(job.runAt)}</time>
        <div class="small muted">{t('jobs.updatedAt', { date: formatDate(job.updated) })}</div>
      </td>
      <td class="jobs-error">{job.lastError && <span class="small ellipsis-2">{job.lastError}</span>}</td>
    </tr>
  );
}
