// The editor's Fields tab: the list of fields (add, rename, reorder, remove with undo) and each
// field's options as PocketBase 0.40 has them.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { formatBytes, t } from '../../i18n/index.js';
import { useCollections } from '../../store/collections.js';
import { Field } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { DateInput, ListInput, NumberInput } from './inputs.jsx';
import { FIELD_TYPES, newField, renameColumn, TYPE_ICONS } from './draft.js';

const MIME_PRESETS = {
  images: ['image/jpeg', 'image/png', 'image/svg+xml', 'image/gif', 'image/webp'],
  documents: ['application/pdf', 'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  videos: ['video/mp4', 'video/mpeg', 'video/x-msvideo', 'video/quicktime', 'video/3gpp'],
  archives: ['application/zip', 'application/x-7z-compressed', 'application/vnd.rar'],
};

/** The options each type's form shows (the API's errors for others go in the field's list). */
const SHOWN = {
  text: ['min', 'max', 'pattern', 'autogeneratePattern', 'primaryKey'],
  editor: ['maxSize', 'convertURLs'],
  number: ['min', 'max', 'onlyInt'],
  bool: [],
  email: ['exceptDomains', 'onlyDomains'],
  url: ['exceptDomains', 'onlyDomains'],
  date: ['min', 'max'],
  autodate: ['onCreate', 'onUpdate'],
  select: ['values', 'maxSelect'],
  file: ['maxSelect', 'maxSize', 'mimeTypes', 'thumbs', 'protected'],
  relation: ['collectionId', 'minSelect', 'maxSelect', 'cascadeDelete'],
  json: ['maxSize'],
  geoPoint: [],
  password: ['min', 'max', 'cost', 'pattern'],
};
const COMMON = ['name', 'type', 'required', 'hidden', 'presentable', 'help'];

/** Fields whose required/hidden flags PocketBase does not let change. */
const lockedFlags = (draft, f) => f.system && (f.name === 'id' || (draft.type === 'auth' && ['password', 'tokenKey', 'email'].includes(f.name)));

export function FieldsTab({ draft, setDraft, fieldErrs }) {
  const [menu, setMenu] = useState(false);
  const [focusKey, setFocusKey] = useState(null);
  const menuRef = useRef(null);
  const listRef = useRef(null);
  const addRef = useRef(null);
  // After a move, a removal or a restore, the button pressed has moved or is gone: the focus goes
  // to `[field key, selector…]`, the first of the card's controls found enabled ('add': the
  // "New field" button).
  const refocus = useRef(null);
  useEffect(() => {
    if (!refocus.current) return;
    const [key, ...targets] = refocus.current;
    refocus.current = null;
    const card = listRef.current?.querySelector(`[data-key="${CSS.escape(String(key))}"]`);
    for (const sel of targets) {
      const el = sel === 'add' ? addRef.current : card?.querySelector(sel);
      if (el && !el.disabled) return el.focus();
    }
  });
  const types = FIELD_TYPES.filter((ty) => ty !== 'password' || draft.type === 'auth');

  const fields = draft.fields;
  const patchField = (key, patch) =>
    setDraft((d) => {
      const old = d.fields.find((f) => f._key === key);
      let indexes = d.indexes;
      const extra = {};
      // indexes follow a renamed field (from the last non-empty name, so clearing the input and
      // typing a new name works too)
      const from = old?._idxName ?? old?.name;
      if (patch.name && from && from !== patch.name) {
        indexes = indexes.map((i) => renameColumn(i, from, patch.name));
        extra._idxName = patch.name;
      }
      const fs = d.fields.map((f) => (f._key === key ? { ...f, ...patch, ...extra } : f));
      return { ...d, fields: fs, indexes };
    });
  const move = (i, by) => {
    const [to, back] = by < 0 ? ['up', 'down'] : ['down', 'up'];
    refocus.current = [fields[i]._key, `[data-act=${to}]`, `[data-act=${back}]`];
    setDraft((d) => {
      const fs = [...d.fields];
      const j = i + by;
      if (j < 0 || j >= fs.length) return d;
      [fs[i], fs[j]] = [fs[j], fs[i]];
      return { ...d, fields: fs };
    });
  };
  const remove = (key) => {
    refocus.current = [key, '[data-act=restore]', 'add'];
    setDraft((d) => {
      const f = d.fields.find((x) => x._key === key);
      // fields never saved simply go; saved ones are marked and can be restored until saving
      if (f?._new) return { ...d, fields: d.fields.filter((x) => x._key !== key) };
      return { ...d, fields: d.fields.map((x) => (x._key === key ? { ...x, _deleted: true } : x)) };
    });
  };
  const restore = (key) => {
    refocus.current = [key, '[data-act=remove]'];
    patchField(key, { _deleted: false });
  };
  const add = (type) => {
    const f = newField(type, draft.fields);
    setDraft((d) => ({ ...d, fields: [...d.fields, f] }));
    setMenu(false);
    setFocusKey(f._key);
  };

  useEffect(() => {
    if (!menu) return;
    const first = menuRef.current?.querySelector('button');
    first?.focus();
  }, [menu]);

  // drag and drop (the move buttons do the same by keyboard)
  const [dragKey, setDragKey] = useState(null);
  const onDrop = (targetKey) => {
    if (!dragKey || dragKey === targetKey) return;
    setDraft((d) => {
      const fs = [...d.fields];
      const from = fs.findIndex((f) => f._key === dragKey);
      const to = fs.findIndex((f) => f._key === targetKey);
      const [f] = fs.splice(from, 1);
      fs.splice(to, 0, f);
      return { ...d, fields: fs };
    });
    setDragKey(null);
  };

  return (
    <section aria-label={t('collections.tab.fields')}>
      <ul class="cf-list" ref={listRef}>
        {fields.map((f, i) => (
          <FieldCard
            key={f._key}
            draft={draft}
            field={f}
            index={i}
            count={fields.length}
            errors={fieldErrs[f._key]}
            autoFocus={focusKey === f._key}
            onPatch={(p) => patchField(f._key, p)}
            onMove={(by) => move(i, by)}
            onRemove={() => remove(f._key)}
            onRestore={() => restore(f._key)}
            onDragStart={() => setDragKey(f._key)}
            onDrop={() => onDrop(f._key)}
          />
        ))}
      </ul>
      <div class="cf-add">
        <button type="button" class="btn btn-block cf-add-btn" ref={addRef} aria-expanded={menu ? 'true' : 'false'} onClick={() => setMenu(!menu)}>
          <Icon name="plus" size={16} />
          {t('collections.field.add')}
        </button>
        {menu && (
          <div
            class="cf-types"
            ref={menuRef}
            role="group"
            aria-label={t('collections.field.chooseType')}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setMenu(false);
                e.currentTarget.parentElement.querySelector('.cf-add-btn')?.focus();
              }
            }}
          >
            {types.map((ty) => (
              <button type="button" class="btn btn-sm cf-type" key={ty} onClick={() => add(ty)}>
                <Icon name={TYPE_ICONS[ty]} size={15} />
                {t(`collections.type.${ty}`)}
              </button>
            ))}
          </div>
        )}
      </div>
    </section>
  );
}

function FieldCard({ draft, field: f, index, count, errors = {}, autoFocus, onPatch, onMove, onRemove, onRestore, onDragStart, onDrop }) {
  const id = useId();
  const nameRef = useRef(null);
  const hasErrors = Object.keys(errors).length > 0;
  const [open, setOpen] = useState(!!f._new && f.type !== 'autodate');
  useEffect(() => {
    if (hasErrors) setOpen(true);
  }, [hasErrors]);
  useEffect(() => {
    if (autoFocus) nameRef.current?.select();
  }, [autoFocus]);
  const typeLabel = t(`collections.type.${f.type}`);
  const label = f.name || typeLabel;
  const e = (k) => errors[k];
  const shown = [...COMMON, ...(SHOWN[f.type] ?? [])];
  const other = Object.entries(errors).filter(([k]) => !shown.includes(k.split('.')[0]) || k === '');

  if (f._deleted) {
    return (
      <li class="cf-item cf-deleted" data-key={f._key}>
        <div class="cf-head">
          <Icon name={TYPE_ICONS[f.type] ?? 'edit'} size={16} />
          <s class="cf-del-name">{f.name}</s>
          <span class="badge badge-danger">{t('collections.field.removed')}</span>
          <div class="grow" />
          <button type="button" class="btn btn-sm" data-act="restore" onClick={onRestore}>
            <Icon name="refresh" size={14} />
            {t('collections.field.restore', { name: f.name })}
          </button>
        </div>
      </li>
    );
  }

  return (
    <li
      class={`cf-item ${hasErrors ? 'cf-error' : ''}`}
      data-key={f._key}
      onDragOver={(ev) => ev.preventDefault()}
      onDrop={(ev) => {
        ev.preventDefault();
        onDrop();
      }}
    >
      <div class="cf-head">
        <span
          class="cf-handle"
          draggable
          onDragStart={(ev) => {
            ev.dataTransfer.effectAllowed = 'move';
            ev.dataTransfer.setData('text/plain', f.name);
            onDragStart();
          }}
          title={t('collections.field.drag')}
        >
          <Icon name="drag" size={16} />
        </span>
        <span class="cf-type-badge" title={f.system ? t('collections.field.systemType', { type: typeLabel }) : typeLabel}>
          <Icon name={f.system ? 'lock' : TYPE_ICONS[f.type] ?? 'edit'} size={15} />
          <span class="cf-type-name">{typeLabel}</span>
        </span>
        <div class="cf-name">
          <label class="sr-only" for={`${id}-name`}>
            {t('collections.field.name')}
          </label>
          <input
            ref={nameRef}
            id={`${id}-name`}
            class="input input-sm mono"
            value={f.name}
            disabled={f.system}
            spellcheck={false}
            autocomplete="off"
            aria-invalid={e('name') ? 'true' : undefined}
            aria-describedby={e('name') ? `${id}-name-err` : undefined}
            onInput={(ev) => onPatch({ name: ev.currentTarget.value })}
          />
          {e('name') && (
            <p class="error" id={`${id}-name-err`} role="alert">
              {e('name')}
            </p>
          )}
        </div>
        <span class="cf-flags">
          {f.required && <span class="badge badge-success">{t('collections.field.requiredBadge')}</span>}
          {f.hidden ? <span class="badge badge-danger">{t('collections.field.hiddenBadge')}</span> : f.presentable ? <span class="badge badge-info">{t('collections.field.presentableBadge')}</span> : null}
          {f.system && <span class="badge">{t('collections.field.systemBadge')}</span>}
        </span>
        <button type="button" class="btn btn-icon btn-sm" data-act="up" disabled={index === 0} onClick={() => onMove(-1)} aria-label={t('collections.field.moveUp', { name: label })} title={t('collections.field.moveUp', { name: label })}>
          <Icon name="up" size={16} />
        </button>
        <button type="button" class="btn btn-icon btn-sm" data-act="down" disabled={index === count - 1} onClick={() => onMove(1)} aria-label={t('collections.field.moveDown', { name: label })} title={t('collections.field.moveDown', { name: label })}>
          <Icon name="down" size={16} />
        </button>
        <button
          type="button"
          class={`btn btn-icon btn-sm ${hasErrors ? 'cf-err-btn' : ''}`}
          aria-expanded={open ? 'true' : 'false'}
          aria-controls={`${id}-opts`}
          onClick={() => setOpen(!open)}
          aria-label={t('collections.field.options', { name: label })}
          title={t('collections.field.options', { name: label })}
        >
          <Icon name="settings" size={16} />
        </button>
        {!f.system && (
          <button type="button" class="btn btn-icon btn-sm" data-act="remove" onClick={onRemove} aria-label={t('collections.field.remove', { name: label })} title={t('collections.field.remove', { name: label })}>
            <Icon name="trash" size={16} />
          </button>
        )}
      </div>
      {open && (
        <div class="cf-opts" id={`${id}-opts`}>
          <TypeOptions draft={draft} f={f} e={e} onPatch={onPatch} />
          <div class="cf-common">
            {f.type !== 'autodate' && (
              <Field label={t('collections.field.help')} error={e('help')} hint={t('collections.field.helpHint')} class="cf-help">
                <input class="input" value={f.help ?? ''} onInput={(ev) => onPatch({ help: ev.currentTarget.value })} />
              </Field>
            )}
            <div class="row cf-checks">
              {f.type !== 'autodate' && (
                <Check label={t('collections.field.required')} hint={t(`collections.field.requiredHint.${f.type}`)} checked={!!f.required} disabled={lockedFlags(draft, f)} error={e('required')} onChange={(v) => onPatch({ required: v })} />
              )}
              <Check
                label={t('collections.field.hidden')}
                hint={t('collections.field.hiddenHint')}
                checked={!!f.hidden}
                disabled={lockedFlags(draft, f)}
                error={e('hidden')}
                onChange={(v) => onPatch(v ? { hidden: true, presentable: false } : { hidden: false })}
              />
              <Check label={t('collections.field.presentable')} hint={t('collections.field.presentableHint')} checked={!!f.presentable} disabled={!!f.hidden} error={e('presentable')} onChange={(v) => onPatch({ presentable: v })} />
            </div>
          </div>
          {other.length > 0 && (
            <ul class="error cf-other" role="alert">
              {other.map(([k, msg]) => (
                <li key={k}>{k ? `${k}: ${msg}` : msg}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </li>
  );
}

function Check({ label, hint, checked, onChange, disabled, error }) {
  return (
    <Field label={label} hint={hint} error={error} inline class="cf-check">
      <input type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.currentTarget.checked)} />
    </Field>
  );
}

function MultiToggle({ label, multiple, onChange }) {
  return (
    <Field label={label}>
      <select class="input" value={multiple ? 'multiple' : 'single'} onChange={(e) => onChange(e.currentTarget.value === 'multiple')}>
        <option value="single">{t('collections.opt.single')}</option>
        <option value="multiple">{t('collections.opt.multiple')}</option>
      </select>
    </Field>
  );
}

function TypeOptions({ draft, f, e, onPatch }) {
  const { list } = useCollections();
  switch (f.type) {
    case 'text':
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.minLength')} hint={t('collections.opt.noLimitHint')} error={e('min')}>
            <NumberInput value={f.min} min={0} step={1} onChange={(v) => onPatch({ min: v })} />
          </Field>
          <Field label={t('collections.opt.maxLength')} hint={t('collections.opt.textMaxHint')} error={e('max')}>
            <NumberInput value={f.max} min={0} step={1} onChange={(v) => onPatch({ max: v })} />
          </Field>
          <Field label={t('collections.opt.pattern')} hint={t('collections.opt.patternHint')} error={e('pattern')}>
            <input class="input mono" value={f.pattern ?? ''} spellcheck={false} onInput={(ev) => onPatch({ pattern: ev.currentTarget.value })} />
          </Field>
          <Field label={t('collections.opt.autogeneratePattern')} hint={t('collections.opt.autogenerateHint')} error={e('autogeneratePattern')}>
            <input class="input mono" value={f.autogeneratePattern ?? ''} spellcheck={false} onInput={(ev) => onPatch({ autogeneratePattern: ev.currentTarget.value })} />
          </Field>
          {f.primaryKey && (
            <Check label={t('collections.opt.primaryKey')} hint={t('collections.opt.primaryKeyHint')} checked disabled error={e('primaryKey')} onChange={() => {}} />
          )}
        </div>
      );
    case 'password':
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.minLength')} hint={t('collections.opt.noLimitHint')} error={e('min')}>
            <NumberInput value={f.min} min={0} step={1} onChange={(v) => onPatch({ min: v })} />
          </Field>
          <Field label={t('collections.opt.maxLength')} hint={t('collections.opt.passwordMaxHint')} error={e('max')}>
            <NumberInput value={f.max} min={0} step={1} onChange={(v) => onPatch({ max: v })} />
          </Field>
          <Field label={t('collections.opt.cost')} hint={t('collections.opt.costHint')} error={e('cost')}>
            <NumberInput value={f.cost} min={0} step={1} onChange={(v) => onPatch({ cost: v })} />
          </Field>
          <Field label={t('collections.opt.pattern')} hint={t('collections.opt.patternHint')} error={e('pattern')}>
            <input class="input mono" value={f.pattern ?? ''} spellcheck={false} onInput={(ev) => onPatch({ pattern: ev.currentTarget.value })} />
          </Field>
        </div>
      );
    case 'number':
      return (
        <div class="grid-3">
          <Field label={t('collections.opt.min')} error={e('min')}>
            <NumberInput value={f.min} nullable onChange={(v) => onPatch({ min: v })} />
          </Field>
          <Field label={t('collections.opt.max')} error={e('max')}>
            <NumberInput value={f.max} nullable onChange={(v) => onPatch({ max: v })} />
          </Field>
          <Check label={t('collections.opt.onlyInt')} hint={t('collections.opt.onlyIntHint')} checked={!!f.onlyInt} error={e('onlyInt')} onChange={(v) => onPatch({ onlyInt: v })} />
        </div>
      );
    case 'email':
    case 'url':
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.exceptDomains')} hint={t('collections.opt.exceptHint')} error={e('exceptDomains')}>
            <ListInput value={f.exceptDomains} disabled={f.onlyDomains?.length > 0} onChange={(v) => onPatch({ exceptDomains: v })} />
          </Field>
          <Field label={t('collections.opt.onlyDomains')} hint={t('collections.opt.onlyHint')} error={e('onlyDomains')}>
            <ListInput value={f.onlyDomains} disabled={f.exceptDomains?.length > 0} onChange={(v) => onPatch({ onlyDomains: v })} />
          </Field>
        </div>
      );
    case 'editor':
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.maxSize')} hint={sizeHint(f.maxSize, 'collections.opt.editorMaxHint')} error={e('maxSize')}>
            <NumberInput value={f.maxSize} min={0} step={1} onChange={(v) => onPatch({ maxSize: v })} />
          </Field>
          <Check label={t('collections.opt.convertURLs')} hint={t('collections.opt.convertURLsHint')} checked={!!f.convertURLs} error={e('convertURLs')} onChange={(v) => onPatch({ convertURLs: v })} />
        </div>
      );
    case 'json':
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.maxSize')} hint={sizeHint(f.maxSize, 'collections.opt.jsonMaxHint')} error={e('maxSize')}>
            <NumberInput value={f.maxSize} min={0} step={1} onChange={(v) => onPatch({ maxSize: v })} />
          </Field>
        </div>
      );
    case 'date':
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.minDate')} error={e('min')}>
            <DateInput value={f.min} onChange={(v) => onPatch({ min: v })} />
          </Field>
          <Field label={t('collections.opt.maxDate')} error={e('max')}>
            <DateInput value={f.max} onChange={(v) => onPatch({ max: v })} />
          </Field>
        </div>
      );
    case 'autodate': {
      const mode = f.onCreate && f.onUpdate ? 'both' : f.onUpdate ? 'update' : 'create';
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.autodateOn')} error={e('onCreate') || e('onUpdate')}>
            <select
              class="input"
              value={mode}
              disabled={f.system}
              onChange={(ev) => {
                const v = ev.currentTarget.value;
                onPatch({ onCreate: v !== 'update', onUpdate: v !== 'create' });
              }}
            >
              <option value="create">{t('collections.opt.onCreate')}</option>
              <option value="update">{t('collections.opt.onUpdate')}</option>
              <option value="both">{t('collections.opt.onCreateUpdate')}</option>
            </select>
          </Field>
        </div>
      );
    }
    case 'select': {
      const multiple = (f.maxSelect ?? 1) > 1;
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.values')} hint={t('collections.opt.valuesHint')} error={e('values')} class="span-2">
            <ListInput lines value={f.values} onChange={(v) => onPatch({ values: v })} />
          </Field>
          <MultiToggle label={t('collections.opt.selectKind')} multiple={multiple} onChange={(m) => onPatch({ maxSelect: m ? Math.max(2, f.values?.length || 2) : 1 })} />
          {multiple && (
            <Field label={t('collections.opt.maxSelect')} error={e('maxSelect')}>
              <NumberInput value={f.maxSelect} min={2} step={1} onChange={(v) => onPatch({ maxSelect: v })} />
            </Field>
          )}
        </div>
      );
    }
    case 'file': {
      const multiple = (f.maxSelect ?? 1) > 1;
      return (
        <div class="grid-2">
          <MultiToggle label={t('collections.opt.fileKind')} multiple={multiple} onChange={(m) => onPatch({ maxSelect: m ? 99 : 1 })} />
          {multiple && (
            <Field label={t('collections.opt.maxSelect')} error={e('maxSelect')}>
              <NumberInput value={f.maxSelect} min={2} step={1} onChange={(v) => onPatch({ maxSelect: v })} />
            </Field>
          )}
          <Field label={t('collections.opt.maxSize')} hint={sizeHint(f.maxSize, 'collections.opt.fileMaxHint')} error={e('maxSize')}>
            <NumberInput value={f.maxSize} min={0} step={1} onChange={(v) => onPatch({ maxSize: v })} />
          </Field>
          <Field label={t('collections.opt.mimeTypes')} hint={t('collections.opt.mimeTypesHint')} error={e('mimeTypes')} class="span-2">
            <ListInput value={f.mimeTypes} onChange={(v) => onPatch({ mimeTypes: v })} />
          </Field>
          <div class="row span-2 cf-presets">
            <span class="small muted">{t('collections.opt.presets')}</span>
            {Object.entries(MIME_PRESETS).map(([k, types]) => (
              <button type="button" class="btn btn-sm" key={k} onClick={() => onPatch({ mimeTypes: [...new Set([...(f.mimeTypes ?? []), ...types])] })}>
                {t(`collections.opt.preset.${k}`)}
              </button>
            ))}
          </div>
          <Field label={t('collections.opt.thumbs')} hint={t('collections.opt.thumbsHint')} error={e('thumbs')} class="span-2">
            <ListInput value={f.thumbs} onChange={(v) => onPatch({ thumbs: v })} />
          </Field>
          <Check label={t('collections.opt.protected')} hint={t('collections.opt.protectedHint')} checked={!!f.protected} error={e('protected')} onChange={(v) => onPatch({ protected: v })} />
        </div>
      );
    }
    case 'relation': {
      const multiple = (f.maxSelect ?? 1) > 1;
      const targets = list;
      return (
        <div class="grid-2">
          <Field label={t('collections.opt.relationTarget')} error={e('collectionId')} required>
            <select class="input" value={f.collectionId} disabled={!!f.id} onChange={(ev) => onPatch({ collectionId: ev.currentTarget.value })}>
              <option value="">{t('collections.opt.chooseCollection')}</option>
              {targets.map((c) => (
                <option value={c.id} key={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </Field>
          <MultiToggle label={t('collections.opt.relationKind')} multiple={multiple} onChange={(m) => onPatch({ maxSelect: m ? 999 : 1, minSelect: m ? f.minSelect : 0 })} />
          {multiple && (
            <>
              <Field label={t('collections.opt.minSelect')} error={e('minSelect')}>
                <NumberInput value={f.minSelect} min={0} step={1} onChange={(v) => onPatch({ minSelect: v })} />
              </Field>
              <Field label={t('collections.opt.maxSelect')} error={e('maxSelect')}>
                <NumberInput value={f.maxSelect} min={1} step={1} onChange={(v) => onPatch({ maxSelect: v })} />
              </Field>
            </>
          )}
          <Check label={t('collections.opt.cascadeDelete')} hint={t('collections.opt.cascadeDeleteHint')} checked={!!f.cascadeDelete} error={e('cascadeDelete')} onChange={(v) => onPatch({ cascadeDelete: v })} />
        </div>
      );
    }
    case 'bool':
    case 'geoPoint':
    default:
      return null;
  }
}

function sizeHint(value, key) {
  return value > 0 ? t('collections.opt.sizeIs', { size: formatBytes(value) }) : t(key);
}
