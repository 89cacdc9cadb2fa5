// The collection's indexes: a list (each with the API's error for it), and a dialog to add or
// change one by picking columns and "unique", or by writing its SQL.
import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { Field } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { buildIndex, indexName, parseIndex } from './draft.js';

export function IndexesSection({ draft, setDraft, errors }) {
  const [editing, setEditing] = useState(null); // { pos (-1 = new), sql }
  const indexes = draft.indexes ?? [];
  const columnsOf = (sql) => parseIndex(sql)?.columns.map((c) => c.name).join(', ') ?? sql;

  const save = (sql) => {
    setDraft((d) => {
      const list = [...(d.indexes ?? [])];
      if (editing.pos < 0) list.push(sql);
      else list[editing.pos] = sql;
      return { ...d, indexes: list };
    });
    setEditing(null);
  };
  const remove = (pos) => {
    setDraft((d) => ({ ...d, indexes: d.indexes.filter((_, i) => i !== pos) }));
    setEditing(null);
  };

  return (
    <section class="section cf-indexes" aria-labelledby="cf-indexes-h">
      <h2 id="cf-indexes-h" class="cf-sub">
        {t('collections.indexes.title')} <span class="muted small">({indexes.length})</span>
      </h2>
      {errors.indexes && <p class="error" role="alert">{errors.indexes}</p>}
      <ul class="idx-list">
        {indexes.map((sql, i) => {
          const p = parseIndex(sql);
          const err = errors[`indexes.${i}`];
          return (
            <li key={`${i}:${sql}`} class={`idx-item ${err ? 'has-error' : ''}`}>
              <button type="button" class="btn btn-sm idx-btn" onClick={() => setEditing({ pos: i, sql })} aria-label={t('collections.indexes.editOne', { columns: columnsOf(sql) })} title={sql}>
                {p?.unique && <span class="badge badge-accent">{t('collections.indexes.uniqueBadge')}</span>}
                <span class="mono">{columnsOf(sql)}</span>
                <Icon name="edit" size={14} />
              </button>
              {err && (
                <p class="error" role="alert">
                  {err}
                </p>
              )}
            </li>
          );
        })}
        <li>
          <button type="button" class="btn btn-sm" onClick={() => setEditing({ pos: -1, sql: '' })}>
            <Icon name="plus" size={14} />
            {t('collections.indexes.new')}
          </button>
        </li>
      </ul>
      {editing && (
        <IndexDialog
          draft={draft}
          initial={editing.sql}
          isNew={editing.pos < 0}
          error={editing.pos >= 0 ? errors[`indexes.${editing.pos}`] : ''}
          onSave={save}
          onRemove={() => remove(editing.pos)}
          onClose={() => setEditing(null)}
        />
      )}
    </section>
  );
}

function IndexDialog({ draft, initial, isNew, error, onSave, onRemove, onClose }) {
  const [sql, setSql] = useState(() => initial || buildIndex({ unique: false, name: indexName(draft.name), table: draft.name, columns: [], where: '' }));
  const parsed = parseIndex(sql);
  const columns = draft.fields.filter((f) => !f._deleted && f.name && f.name !== 'id').map((f) => f.name);
  const chosen = new Set((parsed?.columns ?? []).map((c) => c.name.toLowerCase()));
  const change = (patch) => parsed && setSql(buildIndex({ ...parsed, table: draft.name, ...patch }));
  const toggle = (name) => {
    if (!parsed) return;
    const has = chosen.has(name.toLowerCase());
    change({ columns: has ? parsed.columns.filter((c) => c.name.toLowerCase() !== name.toLowerCase()) : [...parsed.columns, { name, rest: '' }] });
  };
  const canSave = !!parsed && parsed.columns.length > 0;
  return (
    <Modal
      open
      title={isNew ? t('collections.indexes.createTitle') : t('collections.indexes.editTitle')}
      onClose={onClose}
      footer={
        <>
          {!isNew && (
            <button type="button" class="btn btn-danger" onClick={onRemove}>
              <Icon name="trash" size={16} />
              {t('collections.indexes.remove')}
            </button>
          )}
          <div class="grow" />
          <button type="button" class="btn" onClick={onClose}>
            {t('core.cancel')}
          </button>
          <button type="button" class="btn btn-primary" disabled={!canSave} onClick={() => onSave(sql.trim())}>
            {isNew ? t('collections.indexes.add') : t('collections.indexes.apply')}
          </button>
        </>
      }
    >
      <div class="stack">
        {error && <p class="alert alert-error">{error}</p>}
        <Field label={t('collections.indexes.name')}>
          <input class="input mono" value={parsed?.name ?? ''} disabled={!parsed} spellcheck={false} onInput={(e) => change({ name: e.currentTarget.value })} />
        </Field>
        <Field label={t('collections.indexes.unique')} inline>
          <input type="checkbox" checked={!!parsed?.unique} disabled={!parsed} onChange={(e) => change({ unique: e.currentTarget.checked })} />
        </Field>
        <fieldset>
          <legend>{t('collections.indexes.columns')}</legend>
          <div class="idx-cols">
            {columns.map((c) => (
              <label key={c} class="idx-col">
                <input type="checkbox" checked={chosen.has(c.toLowerCase())} disabled={!parsed} onChange={() => toggle(c)} />
                <span class="mono">{c}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <Field label={t('collections.indexes.sql')} hint={parsed ? t('collections.indexes.sqlHint') : ''} error={parsed ? '' : t('collections.indexes.unparsed')}>
          <textarea class="input mono" rows={4} spellcheck={false} value={sql} onInput={(e) => setSql(e.currentTarget.value)} />
        </Field>
      </div>
    </Modal>
  );
}
