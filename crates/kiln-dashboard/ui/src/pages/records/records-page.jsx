// The records of one collection: a searchable, sortable, paged table with chosen columns, row
// selection and bulk delete, live updates, the record editor and the API panel. The list's state
// (filter, sort, page, per page, the open record) is in the address.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, pb } from '../../api.js';
import { formatNumber, t } from '../../i18n/index.js';
import { href, setQuery } from '../../router.js';
import { confirm } from '../../ui/confirm.jsx';
import { useHotkey } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { Pager } from '../../ui/pager.jsx';
import { FilterInput } from '../../ui/rule-editor/index.jsx';
import { toast } from '../../ui/toast.jsx';
import { ApiPanel } from './api-panel.jsx';
import { RecordEditor } from './record-editor.jsx';
import { CellValue } from './values.jsx';
import { columnFields, defaultSort, expandFor, needsFileToken, normalizeSearch } from './util.js';
import './records.css';

const PER_PAGE = [10, 20, 30, 50, 100, 200];
const DEFAULT_PER_PAGE = 30;

function useHiddenColumns(collection) {
  const key = `kiln_records_hidden_${collection.id}`;
  const [hidden, setHidden] = useState(() => {
    try {
      return new Set(JSON.parse(localStorage.getItem(key) ?? '[]'));
    } catch {
      return new Set();
    }
  });
  const toggle = (name) => {
    const next = new Set(hidden);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    localStorage.setItem(key, JSON.stringify([...next]));
    setHidden(next);
  };
  return [hidden, toggle];
}

let batchSettings = null;
/** Whether the batch API is on (and its size limit), read once. */
function batchInfo() {
  batchSettings ??= pb.settings.getAll().then(
    (s) => ({ enabled: !!s?.batch?.enabled, max: s?.batch?.maxRequests || 50 }),
    () => ({ enabled: false, max: 0 }),
  );
  return batchSettings;
}

export function RecordsPage({ collection, query }) {
  const isView = collection.type === 'view';
  const filter = query.get('filter') ?? '';
  const sort = query.has('sort') ? query.get('sort') : defaultSort(collection);
  const page = Math.max(1, Number(query.get('page')) || 1);
  const perPage = PER_PAGE.includes(Number(query.get('perPage'))) ? Number(query.get('perPage')) : DEFAULT_PER_PAGE;
  const openId = query.get('record') ?? '';
  const expand = expandFor(collection);

  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);

  const [state, setState] = useState({ data: null, error: '', loading: true });
  const [token, setToken] = useState('');
  const [selected, setSelected] = useState(() => new Set());
  const [flash, setFlash] = useState(() => new Set());
  const [apiOpen, setApiOpen] = useState(false);
  const [prefill, setPrefill] = useState(null);
  const [hidden, toggleColumn] = useHiddenColumns(collection);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const searchRef = useRef(null);
  const newButton = useRef(null);
  // '/' anywhere (but in an input or an open dialog) goes to the search
  useHotkey('/', () => document.querySelector('dialog[open]') || searchRef.current?.focus());

  const load = useCallback(async () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const opts = { filter: normalizeSearch(filter, collection), sort };
      if (expand) opts.expand = expand;
      const [data, tok] = await Promise.all([
        pb.collection(collection.id).getList(page, perPage, opts),
        needsFileToken(collection) ? pb.files.getToken().catch(() => '') : '',
      ]);
      if (mine !== seq.current) return;
      setToken(tok);
      setState({ data, error: '', loading: false });
    } catch (err) {
      if (mine !== seq.current) return;
      setState((s) => ({ ...s, error: errorMessage(err) || String(err), loading: false }));
    }
  }, [collection, filter, sort, page, perPage, expand]);

  useEffect(() => {
    load();
  }, [load]);
  useEffect(() => setSelected(new Set()), [collection.id, filter, sort, page, perPage]);

  const highlight = (id) => {
    setFlash((f) => new Set(f).add(id));
    setTimeout(
      () =>
        setFlash((f) => {
          const n = new Set(f);
          n.delete(id);
          return n;
        }),
      2500,
    );
  };

  // Live updates from other clients (and this one).
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let unsub = null;
    let live = true;
    pb.collection(collection.id)
      .subscribe(
        '*',
        (e) => {
          const id = e.record?.id;
          if (!id) return;
          if (e.action === 'delete') {
            setState((s) => {
              if (!s.data || !s.data.items.some((r) => r.id === id)) return s;
              return { ...s, data: { ...s.data, items: s.data.items.filter((r) => r.id !== id), totalItems: Math.max(0, s.data.totalItems - 1) } };
            });
            setSelected((sel) => {
              if (!sel.has(id)) return sel;
              const n = new Set(sel);
              n.delete(id);
              return n;
            });
          } else if (e.action === 'update') {
            setState((s) => {
              if (!s.data || !s.data.items.some((r) => r.id === id)) return s;
              return { ...s, data: { ...s.data, items: s.data.items.map((r) => (r.id === id ? e.record : r)) } };
            });
            highlight(id);
          } else if (e.action === 'create') {
            loadRef.current().then(() => highlight(id));
          }
        },
        expand ? { expand } : {},
      )
      .then(
        (u) => (live ? (unsub = u) : u().catch(() => {})),
        () => {},
      );
    return () => {
      live = false;
      unsub?.().catch(() => {});
    };
  }, [collection.id, expand]);

  const submitFilter = (v) => setQuery({ filter: v.trim(), page: '' });
  const openRecord = (id) => setQuery({ record: id }, { replace: false });
  const closeEditor = () => {
    setPrefill(null);
    setQuery({ record: '' });
  };

  const fields = columnFields(collection);
  const shown = fields.filter((f) => !hidden.has(f.name));
  const items = state.data?.items ?? [];
  const allOn = items.length > 0 && items.every((r) => selected.has(r.id));
  const someOn = items.some((r) => selected.has(r.id));

  const toggleAll = () => setSelected(allOn ? new Set() : new Set(items.map((r) => r.id)));
  const toggleOne = (id) => {
    const n = new Set(selected);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    setSelected(n);
  };

  const bulkDelete = async () => {
    const ids = [...selected];
    if (!ids.length) return;
    if (!(await confirm({ title: t('records.bulk.title'), message: t('records.bulk.message', { count: ids.length }), confirm: t('core.delete'), danger: true }))) return;
    setBusy(true);
    let failed = 0;
    let lastError = '';
    try {
      const batch = await batchInfo();
      if (batch.enabled) {
        for (let i = 0; i < ids.length; i += batch.max) {
          const b = pb.createBatch();
          for (const id of ids.slice(i, i + batch.max)) b.collection(collection.id).delete(id);
          try {
            await b.send();
          } catch (err) {
            failed += ids.slice(i, i + batch.max).length;
            lastError = errorMessage(err);
          }
        }
      } else {
        for (const id of ids) {
          try {
            await pb.collection(collection.id).delete(id);
          } catch (err) {
            failed++;
            lastError = errorMessage(err);
          }
        }
      }
    } finally {
      setBusy(false);
    }
    if (failed) toast(t('records.bulk.failed', { count: failed, message: lastError }), 'error');
    else toast(t('records.bulk.done', { count: ids.length }));
    setSelected(new Set());
    load();
  };

  const sortBy = (name) => {
    const next = sort === `-${name}` ? name : `-${name}`;
    setQuery({ sort: next, page: '' });
  };

  const data = state.data;
  const recordHref = (id) => {
    const q = Object.fromEntries(query);
    q.record = id;
    return href(`/collections/${encodeURIComponent(collection.name)}`, q);
  };

  return (
    <div class="records-page">
      <header class="page-head">
        <h1>
          <span class="breadcrumb">{t('records.breadcrumb')} / </span>
          {collection.name}
        </h1>
        <span class="badge">{t(`records.collectionType.${collection.type}`)}</span>
        <a class="btn btn-icon" href={`#/collections/${encodeURIComponent(collection.name)}/edit`} aria-label={t('records.editCollection')} title={t('records.editCollection')}>
          <Icon name="settings" />
        </a>
        <button type="button" class="btn btn-icon" onClick={load} aria-label={t('core.refresh')} title={t('core.refresh')} disabled={state.loading}>
          <Icon name="refresh" class={state.loading ? 'rec-spin' : ''} />
        </button>
        <span class="grow" />
        <button type="button" class="btn" onClick={() => setApiOpen(true)}>
          <Icon name="code" size={16} />
          {t('records.api.button')}
        </button>
        {!isView && (
          <button
            type="button"
            class="btn btn-primary"
            ref={newButton}
            onClick={() => {
              setPrefill(null);
              openRecord('new');
            }}
          >
            <Icon name="plus" size={16} />
            {t('records.new')}
          </button>
        )}
      </header>
      <div class="page-body stack">
        <div class="rec-toolbar">
          <form
            class="rec-search"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              submitFilter(draft);
            }}
          >
            <div class="grow">
              <FilterInput value={draft} onChange={setDraft} onSubmit={submitFilter} collection={collection} label={t('records.search')} placeholder={t('records.searchPlaceholder')} inputRef={searchRef} shortcut="/" />
            </div>
            <button type="submit" class="btn">
              <Icon name="search" size={16} />
              {t('core.search')}
            </button>
            {filter && (
              <button type="button" class="btn btn-ghost" onClick={() => submitFilter('')}>
                {t('records.clearFilter')}
              </button>
            )}
          </form>
          <ColumnsMenu fields={fields} hidden={hidden} onToggle={toggleColumn} />
          <label class="rec-perpage">
            <span>{t('records.perPage')}</span>
            <select class="input input-sm" value={perPage} onChange={(e) => setQuery({ perPage: e.currentTarget.value, page: '' })}>
              {PER_PAGE.map((n) => (
                <option key={n} value={n}>
                  {formatNumber(n)}
                </option>
              ))}
            </select>
          </label>
        </div>
        {state.error && (
          <div class="alert alert-error row between" role="alert">
            <span>{t('records.loadFailed', { message: state.error })}</span>
            <button type="button" class="btn btn-sm" onClick={load}>
              {t('core.retry')}
            </button>
          </div>
        )}
        {selected.size > 0 && !isView && (
          <div class="rec-bulkbar" role="region" aria-label={t('records.bulk.region')}>
            <span>{t('records.bulk.selected', { count: selected.size })}</span>
            <button type="button" class="btn btn-sm" onClick={() => setSelected(new Set())}>
              {t('records.bulk.clear')}
            </button>
            <button type="button" class="btn btn-sm btn-danger" onClick={bulkDelete} disabled={busy}>
              <Icon name="trash" size={14} />
              {t('records.bulk.delete', { count: selected.size })}
            </button>
          </div>
        )}
        <div class="table-wrap">
          <table class="table rec-table" aria-busy={state.loading ? 'true' : 'false'}>
            <caption class="sr-only">{t('records.caption', { collection: collection.name })}</caption>
            <thead>
              <tr>
                {!isView && (
                  <th scope="col" class="col-check">
                    <SelectAll checked={allOn} indeterminate={!allOn && someOn} disabled={!items.length} onChange={toggleAll} />
                  </th>
                )}
                {shown.map((f) => {
                  const dir = sort === f.name ? 'ascending' : sort === `-${f.name}` ? 'descending' : undefined;
                  return (
                    <th scope="col" key={f.name} aria-sort={dir ?? 'none'}>
                      <button type="button" class="sort-btn" onClick={() => sortBy(f.name)}>
                        {f.name}
                        {dir && <Icon name={dir === 'ascending' ? 'up' : 'down'} size={14} />}
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} class={`rec-row ${flash.has(r.id) ? 'rec-flash' : ''} ${selected.has(r.id) ? 'rec-row-chosen' : ''}`} onClick={() => openRecord(r.id)}>
                  {!isView && (
                    <td class="col-check" onClick={(e) => e.stopPropagation()}>
                      <input type="checkbox" checked={selected.has(r.id)} onChange={() => toggleOne(r.id)} aria-label={t('records.selectOne', { id: r.id })} />
                    </td>
                  )}
                  {shown.map((f, i) => (
                    <td key={f.name} class={`rec-cell rec-cell-${f.type} rec-col-${f.name}`}>
                      {f.name === 'id' || (i === 0 && !shown.some((x) => x.name === 'id')) ? (
                        <a href={recordHref(r.id)} class="rec-open mono" onClick={(e) => e.stopPropagation()} aria-label={t('records.openOne', { id: r.id })}>
                          {f.name === 'id' ? r.id : <CellValue field={f} record={r} token={token} />}
                        </a>
                      ) : (
                        <CellValue field={f} record={r} token={token} />
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {data && !items.length && !state.error && (
            <div class="empty">
              {filter ? (
                <>
                  <p>{t('records.emptyFiltered')}</p>
                  <button type="button" class="btn" onClick={() => submitFilter('')}>
                    {t('records.clearFilter')}
                  </button>
                </>
              ) : (
                <>
                  <p>{t('records.empty')}</p>
                  {!isView && (
                    <button type="button" class="btn btn-primary" onClick={() => openRecord('new')}>
                      <Icon name="plus" size={16} />
                      {t('records.new')}
                    </button>
                  )}
                </>
              )}
            </div>
          )}
          {!data && state.loading && <p class="empty">{t('core.loading')}</p>}
        </div>
        {data && data.totalItems > 0 && <Pager page={data.page} totalPages={data.totalPages} totalItems={data.totalItems} onPage={(p) => setQuery({ page: p > 1 ? p : '' })} />}
      </div>
      {openId && (
        <RecordEditor
          key={`${openId}-${prefill ? 'dup' : ''}`}
          collection={collection}
          recordId={openId}
          prefill={openId === 'new' ? prefill : null}
          onClose={closeEditor}
          onSaved={(rec) => {
            closeEditor();
            load().then(() => highlight(rec.id));
          }}
          onDeleted={() => {
            closeEditor();
            load();
            // the deleted record's link, which opened the editor, is gone: keep the focus on the page
            setTimeout(() => (newButton.current ?? searchRef.current)?.focus(), 0);
          }}
          onDuplicate={(values) => {
            setPrefill(values);
            setQuery({ record: 'new' });
          }}
          onApi={() => setApiOpen(true)}
        />
      )}
      <ApiPanel open={apiOpen} onClose={() => setApiOpen(false)} collection={collection} list={{ page, perPage, filter: normalizeSearch(filter, collection), sort, expand }} recordId={openId} />
    </div>
  );
}

function SelectAll({ checked, indeterminate, disabled, onChange }) {
  const ref = useRef(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = indeterminate;
  }, [indeterminate]);
  return <input ref={ref} type="checkbox" checked={checked} disabled={disabled} onChange={onChange} aria-label={t('records.selectAll')} />;
}

/** A button opening a list of checkboxes: which fields are columns (kept per collection). */
function ColumnsMenu({ fields, hidden, onToggle }) {
  const [open, setOpen] = useState(false);
  const box = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const away = (e) => !box.current?.contains(e.target) && setOpen(false);
    const esc = (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        setOpen(false);
        box.current?.querySelector('button')?.focus();
      }
    };
    document.addEventListener('mousedown', away);
    box.current?.addEventListener('keydown', esc);
    const el = box.current;
    return () => {
      document.removeEventListener('mousedown', away);
      el?.removeEventListener('keydown', esc);
    };
  }, [open]);
  return (
    <div class="rec-columns" ref={box}>
      <button type="button" class="btn" aria-expanded={open ? 'true' : 'false'} aria-controls="rec-columns-menu" onClick={() => setOpen(!open)}>
        <Icon name="columns" size={16} />
        {t('records.columns')}
      </button>
      {open && (
        <fieldset class="rec-columns-menu" id="rec-columns-menu">
          <legend class="sr-only">{t('records.columnsLegend')}</legend>
          {fields.map((f) => (
            <label key={f.name} class="rec-option">
              <input type="checkbox" checked={!hidden.has(f.name)} onChange={() => onToggle(f.name)} />
              {f.name}
            </label>
          ))}
        </fieldset>
      )}
    </div>
  );
}
