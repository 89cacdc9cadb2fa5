// Settings › Import collections: paste JSON or load a file, review what changes (collections
// added, changed — with their fields added, removed and changed — and deleted), then
// `PUT /api/collections/import`.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { reloadCollections, useCollections } from '../../store/collections.js';
import { Field, FormErrors } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { SettingsLayout } from '../settings/layout.jsx';
import './collections.css';

const IGNORED = new Set(['id', 'fields', 'created', 'updated', 'system']);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function findMatch(list, item) {
  return (item.id && list.find((c) => c.id === item.id)) || list.find((c) => c.name === item.name) || null;
}

/** Whether `next` (as imported, maybe with fewer keys) differs from `prev`. */
function differs(prev, next) {
  return Object.keys(next).some((k) => !IGNORED.has(k) && !same(prev[k], next[k]));
}

/**
 * The fields an import leaves an existing collection with, as PocketBase does it: fields of the
 * import matched by id (or by name and type, taking the existing id), then the existing fields it
 * lacks — system ones always, the others unless `deleteMissing`.
 */
export function mergedFields(old, imported, deleteMissing) {
  const oldFields = old.fields ?? [];
  const fields = (imported.fields ?? []).map((f) => {
    if (f.id && oldFields.some((o) => o.id === f.id)) return f;
    const byName = oldFields.find((o) => o.name === f.name && o.type === f.type);
    return byName ? { ...f, id: byName.id } : f;
  });
  for (const o of oldFields) {
    if (fields.some((f) => f.id === o.id)) continue;
    if (o.system || !deleteMissing) fields.push(o);
  }
  return fields;
}

/** What importing `list` over `current` changes. */
export function diffImport(current, list, deleteMissing) {
  const added = [];
  const changed = [];
  let unchanged = 0;
  const matched = new Set();
  for (const item of list) {
    const old = findMatch(current, item);
    if (!old) {
      added.push(item);
      continue;
    }
    matched.add(old.id);
    const fields = item.fields ? mergedFields(old, item, deleteMissing) : old.fields ?? [];
    const oldFields = old.fields ?? [];
    const fieldsAdded = fields.filter((f) => !oldFields.some((o) => o.id === f.id)).map((f) => f.name);
    const fieldsRemoved = oldFields.filter((o) => !fields.some((f) => f.id === o.id)).map((o) => o.name);
    const fieldsChanged = fields.filter((f) => {
      const o = oldFields.find((x) => x.id === f.id);
      return o && Object.keys(f).some((k) => k !== 'id' && !same(o[k], f[k]));
    }).map((f) => {
      const o = oldFields.find((x) => x.id === f.id);
      return o.name !== f.name ? `${o.name} → ${f.name}` : f.name;
    });
    const props = Object.keys(item).filter((k) => !IGNORED.has(k) && !same(old[k], item[k]));
    if (props.length || fieldsAdded.length || fieldsRemoved.length || fieldsChanged.length) {
      changed.push({ name: item.name, oldName: old.name, props, fieldsAdded, fieldsRemoved, fieldsChanged });
    } else unchanged++;
  }
  const deleted = deleteMissing ? current.filter((c) => !c.system && !matched.has(c.id)) : [];
  return { added, changed, deleted, unchanged };
}

/** The collections of pasted JSON, or an error key. */
function parse(raw) {
  if (!raw.trim()) return { list: null, error: '' };
  let data;
  try {
    data = JSON.parse(raw);
  } catch {
    return { list: null, error: 'collections.import.invalidJson' };
  }
  if (!Array.isArray(data) || !data.length || !data.every((c) => c && typeof c === 'object' && typeof c.name === 'string' && c.name)) {
    return { list: null, error: 'collections.import.invalidShape' };
  }
  return {
    list: data.map((c) => {
      const out = { ...c };
      delete out.created;
      delete out.updated;
      return out;
    }),
    error: '',
  };
}

export function ImportCollectionsPage() {
  const { list: current, loaded } = useCollections();
  const [raw, setRaw] = useState('');
  const [deleteMissing, setDeleteMissing] = useState(false);
  const [reviewing, setReviewing] = useState(false);
  const [fileError, setFileError] = useState('');
  useEffect(() => {
    reloadCollections();
  }, []);
  const parsed = useMemo(() => parse(raw), [raw]);
  const diff = useMemo(() => (parsed.list && loaded ? diffImport(current, parsed.list, deleteMissing) : null), [parsed, current, loaded, deleteMissing]);
  const hasChanges = !!diff && (diff.added.length || diff.changed.length || diff.deleted.length);

  const loadFile = async (e) => {
    const file = e.currentTarget.files?.[0];
    e.currentTarget.value = '';
    if (!file) return;
    setFileError('');
    try {
      setRaw(await file.text());
    } catch {
      setFileError(t('collections.import.fileFailed'));
    }
  };

  return (
    <SettingsLayout section="import-collections">
      <div class="page-head">
        <h1>{t('collections.import.title')}</h1>
      </div>
      <div class="page-body stack sync-page">
        <p>{t('collections.import.intro')}</p>
        <div class="row">
          <span class="btn file-pick">
            <Icon name="upload" size={16} />
            <span aria-hidden="true">{t('collections.import.loadFile')}</span>
            <input type="file" accept=".json,application/json" aria-label={t('collections.import.loadFile')} onChange={loadFile} />
          </span>
          {raw && (
            <button type="button" class="btn" onClick={() => setRaw('')}>
              {t('collections.import.clear')}
            </button>
          )}
        </div>
        {fileError && (
          <p class="alert alert-error" role="alert">
            {fileError}
          </p>
        )}
        <Field label={t('collections.import.json')} error={parsed.error ? t(parsed.error) : ''} hint={t('collections.import.jsonHint')}>
          <textarea class="input mono sync-json" rows={16} spellcheck={false} value={raw} onInput={(e) => setRaw(e.currentTarget.value)} />
        </Field>
        <Field label={t('collections.import.deleteMissing')} hint={t('collections.import.deleteMissingHint')} inline>
          <input type="checkbox" checked={deleteMissing} onChange={(e) => setDeleteMissing(e.currentTarget.checked)} />
        </Field>
        {diff && !hasChanges && <p class="alert alert-info">{t('collections.import.upToDate')}</p>}
        {diff && hasChanges && <DiffSummary diff={diff} />}
        <div class="row">
          <button type="button" class="btn btn-primary" disabled={!hasChanges} onClick={() => setReviewing(true)}>
            <Icon name="eye" size={16} />
            {t('collections.import.review')}
          </button>
        </div>
      </div>
      {reviewing && (
        <ReviewDialog
          diff={diff}
          list={parsed.list}
          current={current}
          deleteMissing={deleteMissing}
          onClose={() => setReviewing(false)}
          onDone={() => {
            setReviewing(false);
            setRaw('');
          }}
        />
      )}
    </SettingsLayout>
  );
}

function DiffSummary({ diff }) {
  return (
    <p class="row small" aria-live="polite">
      <strong>{t('collections.import.detected')}</strong>
      {diff.added.length > 0 && <span class="badge badge-success">{t('collections.import.nAdded', { count: diff.added.length })}</span>}
      {diff.changed.length > 0 && <span class="badge badge-warn">{t('collections.import.nChanged', { count: diff.changed.length })}</span>}
      {diff.deleted.length > 0 && <span class="badge badge-danger">{t('collections.import.nDeleted', { count: diff.deleted.length })}</span>}
      {diff.unchanged > 0 && <span class="badge">{t('collections.import.nUnchanged', { count: diff.unchanged })}</span>}
    </p>
  );
}

function ReviewDialog({ diff, list, current, deleteMissing, onClose, onDone }) {
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState([]);
  const submit = async () => {
    setBusy(true);
    setErrors([]);
    try {
      // the server keeps the fields an import leaves out unless deleteMissing, as the preview shows
      await pb.collections.import(list, deleteMissing);
      await reloadCollections();
      toast(t('collections.import.done'));
      onDone();
    } catch (err) {
      const fe = fieldErrors(err);
      const msgs = Object.entries(fe).map(([path, msg]) => {
        const m = path.match(/^collections\.([^.]+)\.?(.*)$/);
        if (!m) return `${path}: ${msg}`;
        const name = /^\d+$/.test(m[1]) ? payload[Number(m[1])]?.name ?? m[1] : m[1];
        return `${name}${m[2] ? ` › ${m[2]}` : ''}: ${msg}`;
      });
      setErrors([errorMessage(err), ...msgs].filter(Boolean));
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      size="lg"
      title={t('collections.import.reviewTitle')}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="button" class={`btn ${diff.deleted.length ? 'btn-danger' : 'btn-primary'}`} onClick={submit} disabled={busy}>
            {busy ? t('collections.import.importing') : t('collections.import.confirm')}
          </button>
        </>
      }
    >
      <div class="stack">
        <FormErrors messages={errors} />
        {diff.deleted.length > 0 && <p class="alert alert-warn">{t('collections.import.deleteWarning')}</p>}
        <ul class="diff-list">
          {diff.deleted.map((c) => (
            <li class="diff-item" key={`d-${c.id}`}>
              <span class="badge badge-danger">{t('collections.import.deleted')}</span> <strong class="mono">{c.name}</strong>
            </li>
          ))}
          {diff.changed.map((c) => (
            <li class="diff-item" key={`c-${c.oldName}`}>
              <span class="badge badge-warn">{t('collections.import.changed')}</span>{' '}
              <strong class="mono">{c.oldName !== c.name ? `${c.oldName} → ${c.name}` : c.name}</strong>
              <ul class="small">
                {c.fieldsAdded.map((n) => (
                  <li key={`fa-${n}`} class="diff-add">
                    {t('collections.import.fieldAdded', { name: n })}
                  </li>
                ))}
                {c.fieldsRemoved.map((n) => (
                  <li key={`fr-${n}`} class="diff-del">
                    {t('collections.import.fieldRemoved', { name: n })}
                  </li>
                ))}
                {c.fieldsChanged.map((n) => (
                  <li key={`fc-${n}`} class="diff-chg">
                    {t('collections.import.fieldChanged', { name: n })}
                  </li>
                ))}
                {c.props.length > 0 && <li>{t('collections.import.propsChanged', { props: c.props.join(', ') })}</li>}
              </ul>
            </li>
          ))}
          {diff.added.map((c) => (
            <li class="diff-item" key={`a-${c.name}`}>
              <span class="badge badge-success">{t('collections.import.added')}</span> <strong class="mono">{c.name}</strong>{' '}
              <span class="muted small">{t('collections.import.withFields', { count: (c.fields ?? []).length })}</span>
            </li>
          ))}
        </ul>
      </div>
    </Modal>
  );
}
