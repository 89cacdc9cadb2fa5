// The logs: requests and application messages, searchable with the filter language, an hourly
// chart of the same selection, the detail of one entry (?log=ID), the logs settings and clearing.
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, pb } from '../../api.js';
import { href, setQuery } from '../../router.js';
import { formatDate, t } from '../../i18n/index.js';
import { confirm } from '../../ui/confirm.jsx';
import { FormErrors } from '../../ui/field.jsx';
import { useHotkey, useRequest } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { Pager } from '../../ui/pager.jsx';
import { toast } from '../../ui/toast.jsx';
import { FilterInput } from '../../ui/rule-editor/index.jsx';
import { LevelBadge } from './levels.jsx';
import { LogsChart } from './logs-chart.jsx';
import { LogDetail } from './log-detail.jsx';
import { LogsSettings } from './logs-settings.jsx';
import './logs.css';

const PER_PAGE = 50;
const SUPERUSERS_KEY = 'kiln_logs_superusers';
const NO_SUPERUSERS = "data.auth != '_superusers'";
export const LOGS_COLLECTION = {
  name: '_logs',
  fields: [{ name: 'id' }, { name: 'created', type: 'date' }, { name: 'level', type: 'number' }, { name: 'message', type: 'text' }, { name: 'data', type: 'json' }],
};

/** A search term without an operator becomes a search in level, message and data (as PocketBase does). */
export function normalizeSearch(term) {
  const s = (term ?? '').trim();
  if (!s) return '';
  if (['=', '~', '>', '<'].some((op) => s.includes(op))) return s;
  const v = Number.isNaN(Number(s)) && s !== 'true' && s !== 'false' ? s.replace(/^["'`]|["'`]$/g, '') : s;
  return ['level', 'message', 'data'].map((f) => pb.filter(`${f}?~{:v}`, { v })).join('||');
}

export function LogsPage({ query }) {
  const filter = query.get('filter') ?? '';
  const page = Math.max(1, Number(query.get('page')) || 1);
  const logId = query.get('log') ?? '';
  const [text, setText] = useState(filter);
  const [withSuperusers, setWithSuperusers] = useState(() => localStorage.getItem(SUPERUSERS_KEY) === '1');
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => setText(filter), [filter]);
  const searchRef = useRef(null);
  // '/' anywhere (but in an input or an open dialog) goes to the search
  useHotkey('/', () => document.querySelector('dialog[open]') || searchRef.current?.focus());

  const parts = [withSuperusers ? '' : NO_SUPERUSERS, normalizeSearch(filter)].filter(Boolean);
  const full = parts.map((p) => `(${p})`).join(' && ');
  const list = useRequest(() => pb.logs.getList(page, PER_PAGE, { sort: '-@rowid', filter: full }), [full, page, tick]);
  const stats = useRequest(() => pb.logs.getStats({ filter: full }), [full, tick]);

  const search = (value) => setQuery({ filter: value.trim(), page: '' });
  const refresh = () => setTick((n) => n + 1);
  const toggleSuperusers = (on) => {
    setWithSuperusers(on);
    localStorage.setItem(SUPERUSERS_KEY, on ? '1' : '0');
    setQuery({ page: '' });
  };
  const clear = async () => {
    const ok = await confirm({ title: t('logs.clearTitle'), message: t('logs.clearConfirm'), confirm: t('logs.clearYes'), danger: true });
    if (!ok) return;
    try {
      await pb.logs.truncate();
      toast(t('logs.cleared'));
      setQuery({ page: '' });
      refresh();
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  const res = list.data;
  const items = res?.items ?? [];
  const queryObj = Object.fromEntries(query);
  return (
    <div class="logs-page">
      <header class="page-head">
        <h1>{t('logs.title')}</h1>
        <div class="grow" />
        <button type="button" class="btn" onClick={refresh} disabled={list.loading}>
          {list.loading ? <span class="spinner" aria-hidden="true" /> : <Icon name="refresh" />} {t('core.refresh')}
        </button>
        <button type="button" class="btn" onClick={() => setSettingsOpen(true)}>
          <Icon name="settings" /> {t('logs.settings.open')}
        </button>
        <button type="button" class="btn btn-ghost" onClick={clear}>
          <Icon name="trash" /> {t('logs.clear')}
        </button>
      </header>
      <div class="page-body stack">
        <form
          class="logs-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            search(text);
          }}
        >
          <div class="grow">
            <FilterInput value={text} onChange={setText} onSubmit={search} collection={LOGS_COLLECTION} label={t('logs.search')} placeholder={t('logs.searchPlaceholder')} inputRef={searchRef} shortcut="/" />
          </div>
          <button type="submit" class="btn">
            <Icon name="search" /> {t('core.search')}
          </button>
          {filter && (
            <button type="button" class="btn btn-ghost" onClick={() => search('')}>
              {t('logs.clearSearch')}
            </button>
          )}
        </form>
        <div class="row between">
          <label class="row small">
            <input type="checkbox" checked={withSuperusers} onChange={(e) => toggleSuperusers(e.currentTarget.checked)} />
            {t('logs.withSuperusers')}
          </label>
          <span class="muted small" aria-live="polite">
            {res ? t('logs.found', { count: res.totalItems }) : ''}
          </span>
        </div>
        {stats.error && <FormErrors messages={[stats.error]} />}
        <LogsChart stats={stats.data} loading={stats.loading} />
        {list.error && <FormErrors messages={[list.error]} />}
        <div class="table-wrap" aria-busy={list.loading ? 'true' : 'false'}>
          <table class="table logs-table">
            <caption class="sr-only">{t('logs.tableCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('logs.level')}</th>
                <th scope="col">{t('logs.message')}</th>
                <th scope="col">{t('logs.status')}</th>
                <th scope="col">{t('logs.created')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((log) => {
                const d = log.data ?? {};
                const isRequest = d.type === 'request' || (d.method && d.url);
                const link = href('/logs', { ...queryObj, log: log.id });
                return (
                  <tr key={log.id} class={`logs-row ${log.id === logId ? 'active' : ''}`} onClick={(e) => e.target.closest('a') || (location.hash = link)}>
                    <td>
                      <LevelBadge level={log.level} />
                    </td>
                    <td class="logs-message">
                      <a href={link} class="logs-link">
                        {isRequest ? (
                          <>
                            <span class="badge logs-method">{d.method}</span> <span class="mono">{d.url}</span>
                          </>
                        ) : (
                          log.message || t('logs.noMessage')
                        )}
                      </a>
                      {d.error && <div class="small logs-err ellipsis">{String(d.error)}</div>}
                    </td>
                    <td>{d.status !== undefined && <span class={`badge ${statusClass(d.status)}`}>{d.status}</span>}</td>
                    <td class="nowrap">
                      <time dateTime={log.created.replace(' ', 'T')}>{formatDate(log.created)}</time>
                    </td>
                  </tr>
                );
              })}
              {!items.length && (
                <tr>
                  <td colSpan={4} class="empty">
                    {list.loading ? t('core.loading') : filter ? t('logs.noneFiltered') : t('logs.none')}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {res && <Pager page={res.page} totalPages={res.totalPages} totalItems={res.totalItems} onPage={(p) => setQuery({ page: p > 1 ? p : '' })} />}
      </div>
      <LogDetail id={logId} onClose={() => setQuery({ log: '' })} />
      <LogsSettings open={settingsOpen} onClose={() => setSettingsOpen(false)} onSaved={refresh} />
    </div>
  );
}

function statusClass(status) {
  const s = Number(status);
  if (s >= 500) return 'badge-danger';
  if (s >= 400) return 'badge-warn';
  if (s >= 300) return 'badge-info';
  return 'badge-success';
}

