// The record editor: a panel with an input for every field of the collection; create, save,
// duplicate and delete; auth records' email, password and verification.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, otherErrors, pb } from '../../api.js';
import { formatDate, t } from '../../i18n/index.js';
import { confirm } from '../../ui/confirm.jsx';
import { Field, FormErrors } from '../../ui/field.jsx';
import { useHotkey } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import {
  AutodateInput,
  BoolInput,
  DateInput,
  EditorInput,
  FileInput,
  GeoInput,
  JsonInput,
  NumberInput,
  RelationInput,
  SelectInput,
  TextInput,
} from './inputs.jsx';
import { findCollection } from '../../store/collections.js';
import { ImpersonateDialog } from '../collections/auth-options/impersonate.jsx';
import { RelationPicker } from './relation-picker.jsx';
import { asList, editorFields, expandFor, isMulti, needsFileToken, uniqueColumns } from './util.js';

/** The editor's state for a record (or for a new one, from `prefill`). */
function initialValues(collection, record) {
  const v = {};
  for (const f of editorFields(collection)) {
    const raw = record?.[f.name];
    switch (f.type) {
      case 'file':
        v[f.name] = { kept: asList(raw), added: [], removed: [] };
        break;
      case 'json':
        v[f.name] = raw === undefined || raw === null ? '' : JSON.stringify(raw, null, 2);
        break;
      case 'select':
      case 'relation':
        v[f.name] = isMulti(f) ? asList(raw) : Array.isArray(raw) ? raw[0] ?? '' : raw ?? '';
        break;
      case 'bool':
        v[f.name] = !!raw;
        break;
      case 'number':
        v[f.name] = raw ?? 0;
        break;
      case 'geoPoint':
        v[f.name] = raw ?? { lon: 0, lat: 0 };
        break;
      default:
        v[f.name] = raw ?? '';
    }
  }
  if (collection.type === 'auth') {
    v.email = record?.email ?? '';
    v.emailVisibility = !!record?.emailVisibility;
    v.verified = !!record?.verified;
    v.password = '';
    v.passwordConfirm = '';
  }
  v.id = record?.id ?? '';
  return v;
}

/** The values a duplicate starts with: no id, files, unique values, dates set by the server. */
export function duplicateValues(collection, record) {
  const unique = uniqueColumns(collection);
  const out = {};
  for (const f of collection.fields ?? []) {
    if (f.name === 'id' || f.type === 'file' || f.type === 'autodate' || f.type === 'password' || f.name === 'tokenKey') continue;
    if (unique.has(f.name)) continue;
    if (record[f.name] !== undefined) out[f.name] = record[f.name];
  }
  out.expand = record.expand;
  return out;
}

/**
 * Props: { collection, recordId ('new' or an id), prefill (a record's values for a new one),
 * onClose, onSaved(record, created), onDeleted(id), onDuplicate(values), onApi() }.
 */
export function RecordEditor({ collection, recordId, prefill, onClose, onSaved, onDeleted, onDuplicate, onApi }) {
  const isNew = recordId === 'new';
  const readOnly = collection.type === 'view';
  const expand = expandFor(collection);
  const [record, setRecord] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [values, setValues] = useState(() => initialValues(collection, isNew ? prefill : null));
  const [initial, setInitial] = useState(values);
  const [known, setKnown] = useState(() => indexExpand(isNew ? prefill : null));
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const [token, setToken] = useState('');
  const [changePassword, setChangePassword] = useState(false);
  const [impersonating, setImpersonating] = useState(false);
  const [picking, setPicking] = useState(null); // the relation field whose picker is open

  useEffect(() => {
    if (needsFileToken(collection)) pb.files.getToken().then(setToken, () => {});
  }, [collection]);

  useEffect(() => {
    if (isNew) return;
    let live = true;
    setLoadError('');
    pb.collection(collection.id)
      .getOne(recordId, expand ? { expand } : {})
      .then(
        (r) => {
          if (!live) return;
          const v = initialValues(collection, r);
          setRecord(r);
          setValues(v);
          setInitial(v);
          setKnown(indexExpand(r));
        },
        (err) => live && setLoadError(errorMessage(err)),
      );
    return () => (live = false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [recordId, collection.id]);

  const dirty = useMemo(() => JSON.stringify(values) !== JSON.stringify(initial) || Object.values(values).some((v) => v?.added?.length), [values, initial]);
  const set = (name) => (v) => {
    setValues((s) => ({ ...s, [name]: v }));
    // an error goes once its value is changed
    setErrors((e) => {
      if (!(name in e)) return e;
      const { [name]: _gone, ...rest } = e;
      return rest;
    });
  };

  const close = async () => {
    if (busy) return;
    if (dirty && !readOnly && !(await confirm({ title: t('records.discard.title'), message: t('records.discard.message'), confirm: t('records.discard.confirm'), danger: true }))) return;
    onClose();
  };

  const payload = () => {
    const data = {};
    const bad = {};
    for (const f of editorFields(collection)) {
      const v = values[f.name];
      switch (f.type) {
        case 'autodate':
          break;
        case 'file': {
          const max = f.maxSelect || 1;
          if (isNew) {
            if (v.added.length) data[f.name] = max <= 1 ? v.added[0] : v.added;
          } else if (max <= 1) {
            if (v.added.length) data[f.name] = v.added[0];
            else if (v.removed.length && !v.kept.length) data[f.name] = '';
          } else {
            if (v.added.length) data[`${f.name}+`] = v.added;
            if (v.removed.length) data[`${f.name}-`] = v.removed;
          }
          break;
        }
        case 'json': {
          const s = String(v ?? '').trim();
          if (!s) data[f.name] = null;
          else {
            try {
              data[f.name] = JSON.parse(s);
            } catch (e) {
              bad[f.name] = t('records.json.invalid', { message: e.message });
            }
          }
          break;
        }
        case 'text':
          if (isNew && f.autogeneratePattern && v === '') break;
          data[f.name] = v;
          break;
        default:
          data[f.name] = v;
      }
    }
    if (isNew && values.id.trim()) data.id = values.id.trim();
    if (collection.type === 'auth') {
      data.email = values.email;
      data.emailVisibility = values.emailVisibility;
      data.verified = values.verified;
      if (isNew || changePassword) {
        data.password = values.password;
        data.passwordConfirm = values.passwordConfirm;
      }
    }
    return { data, bad };
  };

  const save = async (e) => {
    e?.preventDefault();
    if (busy || readOnly) return;
    const { data, bad } = payload();
    if (Object.keys(bad).length) {
      setErrors(bad);
      setFormError('');
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError('');
    try {
      const opts = expand ? { expand } : {};
      const saved = isNew ? await pb.collection(collection.id).create(data, opts) : await pb.collection(collection.id).update(recordId, data, opts);
      toast(isNew ? t('records.created') : t('records.saved'));
      setInitial(values);
      onSaved(saved, isNew);
    } catch (err) {
      const fe = fieldErrors(err);
      setErrors(fe);
      setFormError(Object.keys(fe).length ? '' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  useHotkey('mod+s', () => save(), { inInputs: true });

  const remove = async () => {
    if (!(await confirm({ title: t('records.delete.title'), message: t('records.delete.message', { id: recordId }), confirm: t('core.delete'), danger: true }))) return;
    setBusy(true);
    try {
      await pb.collection(collection.id).delete(recordId);
      toast(t('records.deleted'));
      onDeleted(recordId);
    } catch (err) {
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const duplicate = async () => {
    if (dirty && !(await confirm({ title: t('records.discard.title'), message: t('records.discard.message'), confirm: t('records.discard.confirm'), danger: true }))) return;
    onDuplicate(duplicateValues(collection, record));
  };

  const sendVerification = async () => {
    try {
      await pb.collection(collection.id).requestVerification(record.email);
      toast(t('records.auth.verificationSent', { email: record.email }));
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  const fields = editorFields(collection);
  const shown = ['id', ...fields.map((f) => f.name), ...(collection.type === 'auth' ? ['email', 'emailVisibility', 'verified', 'password', 'passwordConfirm'] : [])];
  const rest = otherErrors(errors, shown);
  const loading = !isNew && !record && !loadError;
  const title = readOnly
    ? t('records.editor.viewTitle', { collection: collection.name })
    : isNew
      ? t('records.editor.newTitle', { collection: collection.name })
      : t('records.editor.editTitle', { collection: collection.name });

  const input = (f) => {
    const common = { key: f.name, field: f, value: values[f.name], onChange: set(f.name), error: errors[f.name], disabled: readOnly || busy };
    switch (f.type) {
      case 'number':
        return <NumberInput {...common} />;
      case 'bool':
        return <BoolInput {...common} />;
      case 'email':
        return <TextInput {...common} type="email" />;
      case 'url':
        return <TextInput {...common} type="url" />;
      case 'editor':
        return <EditorInput {...common} />;
      case 'date':
        return <DateInput {...common} />;
      case 'autodate':
        return <AutodateInput {...common} />;
      case 'select':
        return <SelectInput {...common} />;
      case 'json':
        return <JsonInput {...common} />;
      case 'file':
        return <FileInput {...common} record={record ?? { collectionId: collection.id, collectionName: collection.name, id: '' }} token={token} />;
      case 'relation':
        return <RelationInput {...common} known={known} onOpenPicker={setPicking} />;
      case 'geoPoint':
        return <GeoInput {...common} />;
      default:
        return <TextInput {...common} />;
    }
  };

  const footer = readOnly ? (
    <button type="button" class="btn" onClick={onClose}>
      {t('core.close')}
    </button>
  ) : (
    <>
      {!isNew && record && (
        <>
          <button type="button" class="btn btn-ghost rec-danger-text" onClick={remove} disabled={busy}>
            <Icon name="trash" size={16} />
            {t('core.delete')}
          </button>
          <button type="button" class="btn btn-ghost" onClick={duplicate} disabled={busy}>
            <Icon name="copy" size={16} />
            {t('records.duplicate')}
          </button>
        </>
      )}
      <span class="grow" />
      <button type="button" class="btn" onClick={close} disabled={busy}>
        {t('core.cancel')}
      </button>
      <button type="submit" form="record-form" class="btn btn-primary" disabled={busy || loading || !!loadError}>
        {busy ? t('core.saving') : isNew ? t('core.create') : t('core.save')}
      </button>
    </>
  );

  return (
    <Modal open size="panel" title={title} onClose={close} footer={footer} busy={busy} class="rec-editor-modal">
      {loadError ? (
        <p class="alert alert-error" role="alert">
          {loadError}
        </p>
      ) : loading ? (
        <p class="muted">{t('core.loading')}</p>
      ) : (
        <form id="record-form" class="stack" onSubmit={save} noValidate>
          <FormErrors messages={[formError, ...rest].filter(Boolean)} />
          {!isNew && record && (
            <div class="rec-meta">
              <span class="mono small">{record.id}</span>
              {record.created && <span class="muted small">{t('records.editor.createdAt', { date: formatDate(record.created) })}</span>}
              {record.updated && <span class="muted small">{t('records.editor.updatedAt', { date: formatDate(record.updated) })}</span>}
              <span class="grow" />
              <button type="button" class="btn btn-sm" onClick={onApi}>
                <Icon name="code" size={14} />
                {t('records.api.button')}
              </button>
            </div>
          )}
          {isNew && (
            <Field label={t('records.editor.id')} error={errors.id} hint={t('records.editor.idHint')}>
              <input class="input mono" value={values.id} onInput={(e) => set('id')(e.currentTarget.value)} autocomplete="off" />
            </Field>
          )}
          {collection.type === 'auth' && (
            <AuthFields
              values={values}
              set={set}
              errors={errors}
              isNew={isNew}
              record={record}
              disabled={readOnly || busy}
              changePassword={changePassword}
              setChangePassword={setChangePassword}
              onSendVerification={sendVerification}
              onImpersonate={() => setImpersonating(true)}
            />
          )}
          {fields.map(input)}
        </form>
      )}
      {collection.type === 'auth' && record && (
        <ImpersonateDialog collection={collection} record={record} open={impersonating} onClose={() => setImpersonating(false)} />
      )}
      {picking && (
        <RelationPicker
          open
          field={picking}
          collection={findCollection(picking.collectionId)}
          selected={asList(values[picking.name]).map((i) => known[i] ?? { id: i })}
          onClose={() => setPicking(null)}
          onPick={(list) => {
            setKnown((k) => ({ ...k, ...Object.fromEntries(list.map((r) => [r.id, r])) }));
            set(picking.name)(isMulti(picking) ? list.map((r) => r.id) : list[0]?.id ?? '');
            setPicking(null);
          }}
        />
      )}
    </Modal>
  );
}

function indexExpand(record) {
  const out = {};
  for (const v of Object.values(record?.expand ?? {})) for (const r of asList(v)) if (r?.id) out[r.id] = r;
  return out;
}

function AuthFields({ values, set, errors, isNew, record, disabled, changePassword, setChangePassword, onSendVerification, onImpersonate }) {
  const showPassword = isNew || changePassword;
  return (
    <fieldset class="rec-fieldset rec-auth">
      <legend>{t('records.auth.legend')}</legend>
      {!isNew && record && (
        <div class="row">
          {record.verified ? <span class="badge badge-success">{t('records.auth.verified')}</span> : <span class="badge badge-warn">{t('records.auth.unverified')}</span>}
          {!record.verified && record.email && (
            <button type="button" class="btn btn-sm" onClick={onSendVerification} disabled={disabled}>
              <Icon name="globe" size={14} />
              {t('records.auth.sendVerification')}
            </button>
          )}
          <button type="button" class="btn btn-sm" onClick={onImpersonate} disabled={disabled}>
            <Icon name="user" size={14} />
            {t('records.auth.impersonate')}
          </button>
        </div>
      )}
      <Field label={t('records.auth.email')} error={errors.email}>
        <input class="input" type="email" value={values.email} disabled={disabled} autocomplete="off" onInput={(e) => set('email')(e.currentTarget.value)} />
      </Field>
      <div class="row">
        <BoolInput field={{ name: 'emailVisibility' }} labelText={t('records.auth.emailVisibility')} value={values.emailVisibility} onChange={set('emailVisibility')} error={errors.emailVisibility} disabled={disabled} />
        <BoolInput field={{ name: 'verified' }} labelText={t('records.auth.verifiedField')} value={values.verified} onChange={set('verified')} error={errors.verified} disabled={disabled} />
      </div>
      {!isNew && (
        <BoolInput field={{ name: 'changePassword' }} labelText={t('records.auth.changePassword')} value={changePassword} onChange={setChangePassword} disabled={disabled} />
      )}
      {showPassword && (
        <div class="grid-2">
          <Field label={t('records.auth.password')} error={errors.password} required={isNew}>
            <input class="input" type="password" autocomplete="new-password" value={values.password} disabled={disabled} onInput={(e) => set('password')(e.currentTarget.value)} />
          </Field>
          <Field label={t('records.auth.passwordConfirm')} error={errors.passwordConfirm} required={isNew}>
            <input class="input" type="password" autocomplete="new-password" value={values.passwordConfirm} disabled={disabled} onInput={(e) => set('passwordConfirm')(e.currentTarget.value)} />
          </Field>
        </div>
      )}
    </fieldset>
  );
}
