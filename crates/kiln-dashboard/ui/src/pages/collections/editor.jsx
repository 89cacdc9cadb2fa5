// The collection editor (#/collections/new and #/collections/NAME/edit): name and type, the
// fields and indexes, the API rules, an auth collection's options, a view's query; save, and
// duplicate, truncate or delete the collection.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, otherErrors, pb } from '../../api.js';
import { navigate } from '../../router.js';
import { t } from '../../i18n/index.js';
import { collectionsNow, findCollection, reloadCollections, useCollections } from '../../store/collections.js';
import { Field, FormErrors } from '../../ui/field.jsx';
import { Tabs } from '../../ui/tabs.jsx';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { confirm } from '../../ui/confirm.jsx';
import { useHotkey, useRequest } from '../../ui/hooks.js';
import { AuthOptions } from './auth-options/index.jsx';
import { FieldsTab } from './fields-tab.jsx';
import { IndexesSection } from './indexes.jsx';
import { rulesOf, RulesTab } from './rules-tab.jsx';
import { ViewQueryTab } from './view-query.jsx';
import { clone, copyDraft, draftFrom, newDraft, renameTable, sameDraft, splitErrors, toPayload } from './draft.js';
import './collections.css';

/** The top-level keys of an auth collection's options (shown by the Options tab). */
const AUTH_OPTION_KEYS = [
  'passwordAuth',
  'oauth2',
  'mfa',
  'otp',
  'authAlert',
  'authToken',
  'passwordResetToken',
  'emailChangeToken',
  'verificationToken',
  'fileToken',
  'verificationTemplate',
  'resetPasswordTemplate',
  'confirmEmailChangeTemplate',
];

export function CollectionEditorPage({ collection, query }) {
  const dup = collection ? '' : query?.get('duplicate') ?? '';
  const cols = useCollections();
  const scaffolds = useRequest(() => pb.collections.getScaffolds(), []);
  if (collection) return <Editor key={collection.id} saved={collection} scaffolds={scaffolds.data} />;
  if (scaffolds.error && !scaffolds.data) {
    return (
      <div class="pad stack">
        <p class="alert alert-error" role="alert">
          {t('core.loadFailed', { message: scaffolds.error })}
        </p>
        <div>
          <button type="button" class="btn" onClick={scaffolds.reload}>
            {t('core.retry')}
          </button>
        </div>
      </div>
    );
  }
  if (!scaffolds.data || (dup && !cols.loaded)) return <p class="pad muted">{t('core.loading')}</p>;
  const source = dup ? findCollection(dup) : null;
  const initial = source ? copyDraft(source, collectionsNow()) : newDraft(scaffolds.data, 'base');
  return <Editor key={`new:${dup}`} saved={null} initial={initial} scaffolds={scaffolds.data} />;
}

function Editor({ saved, initial, scaffolds }) {
  const isNew = !saved;
  const [original, setOriginal] = useState(() => (saved ? draftFrom(saved) : initial));
  const [draft, setDraft] = useState(() => clone(original));
  const [tab, setTab] = useState(draft.type === 'view' ? 'query' : 'fields');
  const [errs, setErrs] = useState({ fields: {}, rest: {} });
  const [formErrors, setFormErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const dirty = !sameDraft(draft, original);
  const system = !!saved?.system;

  // a warning before the page is left with unsaved changes
  useEffect(() => {
    if (!dirty) return;
    const on = (e) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', on);
    return () => window.removeEventListener('beforeunload', on);
  }, [dirty]);

  const rest = errs.rest;
  const tabs = [];
  const fieldsErr = Object.keys(errs.fields).length > 0 || Object.keys(rest).some((k) => k === 'fields' || k.startsWith('fields.') || k.startsWith('indexes'));
  const rulesErr = rulesOf(draft.type).some((r) => rest[r]);
  const optsErr = Object.keys(rest).some((k) => AUTH_OPTION_KEYS.includes(k.split('.')[0]));
  if (draft.type === 'view') tabs.push({ id: 'query', label: t('collections.tab.query'), error: !!rest.viewQuery });
  else tabs.push({ id: 'fields', label: t('collections.tab.fields'), error: fieldsErr });
  tabs.push({ id: 'rules', label: t('collections.tab.rules'), error: rulesErr });
  if (draft.type === 'auth') tabs.push({ id: 'options', label: t('collections.tab.options'), error: optsErr });
  const activeTab = tabs.some((x) => x.id === tab) ? tab : tabs[0].id;

  const setName = (name) => setDraft((d) => ({ ...d, name, indexes: (d.indexes ?? []).map((i) => renameTable(i, name)) }));
  const setType = (type) => {
    setDraft((d) => newDraft(scaffolds, type, d));
    setErrs({ fields: {}, rest: {} });
    setTab(type === 'view' ? 'query' : 'fields');
  };

  const leave = async (to) => {
    if (dirty && !(await confirm({ title: t('collections.discardTitle'), message: t('collections.discardMessage'), confirm: t('collections.discard'), danger: true }))) return false;
    setOriginal(draft); // nothing left to warn about
    navigate(to.path, to.query);
    return true;
  };
  const cancel = () => leave({ path: saved ? `/collections/${encodeURIComponent(saved.name)}` : '/collections' });

  const save = async (e) => {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setFormErrors([]);
    const { payload, keys } = toPayload(draft);
    try {
      const res = isNew ? await pb.collections.create(payload) : await pb.collections.update(saved.id, payload);
      setErrs({ fields: {}, rest: {} });
      setOriginal(draft);
      await reloadCollections();
      toast(t(isNew ? 'collections.createdToast' : 'collections.savedToast', { name: res.name }));
      navigate(`/collections/${encodeURIComponent(res.name)}`);
    } catch (err) {
      const split = splitErrors(fieldErrors(err), keys);
      setErrs(split);
      const shown = ['name', 'type', 'viewQuery', 'indexes', 'fields', ...rulesOf(draft.type), ...(draft.type === 'auth' ? AUTH_OPTION_KEYS : [])];
      setFormErrors([errorMessage(err), ...otherErrors(split.rest, shown)].filter(Boolean));
      // show a tab with errors when the current one has none
      const withErr = tabs.map((x) => x.id).find((id) => {
        if (id === 'fields') return Object.keys(split.fields).length || Object.keys(split.rest).some((k) => k.startsWith('fields') || k.startsWith('indexes'));
        if (id === 'rules') return rulesOf(draft.type).some((r) => split.rest[r]);
        if (id === 'query') return !!split.rest.viewQuery;
        if (id === 'options') return Object.keys(split.rest).some((k) => AUTH_OPTION_KEYS.includes(k.split('.')[0]));
        return false;
      });
      if (withErr) setTab((cur) => (cur === withErr ? cur : tabHasErr(cur, split, draft) ? cur : withErr));
    } finally {
      setBusy(false);
    }
  };
  useHotkey('mod+s', () => save());

  const duplicate = () => leave({ path: '/collections/new', query: { duplicate: saved.name } });
  const truncate = async () => {
    const ok = await confirm({ title: t('collections.truncateTitle', { name: saved.name }), message: t('collections.truncateMessage', { name: saved.name }), confirm: t('collections.truncate'), danger: true });
    if (!ok) return;
    try {
      await pb.collections.truncate(saved.id);
      toast(t('collections.truncatedToast', { name: saved.name }));
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  return (
    <div class="coll-editor">
      <div class="page-head">
        <h1>
          {isNew ? (
            t('collections.newTitle')
          ) : (
            <>
              <span class="breadcrumb">{t('collections.editCrumb')} / </span>
              {saved.name}
            </>
          )}
        </h1>
        {!isNew && <span class="badge">{t(`collections.kind.${saved.type}`)}</span>}
        {dirty && <span class="badge badge-warn">{t('collections.unsaved')}</span>}
        <div class="grow" />
        {!isNew && !system && (
          <div class="row">
            <button type="button" class="btn btn-sm" onClick={duplicate}>
              <Icon name="copy" size={15} />
              {t('collections.duplicate')}
            </button>
            {saved.type !== 'view' && (
              <button type="button" class="btn btn-sm" onClick={truncate}>
                <Icon name="refresh" size={15} />
                {t('collections.truncate')}
              </button>
            )}
            <button type="button" class="btn btn-sm ce-danger" onClick={() => setDeleting(true)}>
              <Icon name="trash" size={15} />
              {t('collections.delete')}
            </button>
          </div>
        )}
      </div>
      <form class="page-body stack ce-form" onSubmit={save} noValidate>
        <FormErrors messages={formErrors} />
        <div class="ce-top">
          <Field label={t('collections.name')} error={rest.name} hint={system ? t('collections.systemName') : t('collections.nameHint')} required class="ce-name">
            <input class="input mono" value={draft.name} disabled={system} spellcheck={false} autocomplete="off" autofocus={isNew} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <Field label={t('collections.type')} error={rest.type} hint={isNew ? t('collections.typeHint') : t('collections.typeFixed')} class="ce-type">
            <select class="input" value={draft.type} disabled={!isNew} onChange={(e) => setType(e.currentTarget.value)}>
              {['base', 'auth', 'view'].map((ty) => (
                <option value={ty} key={ty}>
                  {t(`collections.kind.${ty}`)}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Tabs tabs={tabs} active={activeTab} onChange={setTab} label={t('collections.tabsLabel')}>
          {activeTab === 'fields' && (
            <div class="stack">
              {rest.fields && (
                <p class="alert alert-error" role="alert">
                  {rest.fields}
                </p>
              )}
              <FieldsTab draft={draft} setDraft={setDraft} fieldErrs={errs.fields} />
              <IndexesSection draft={draft} setDraft={setDraft} errors={rest} />
            </div>
          )}
          {activeTab === 'query' && <ViewQueryTab draft={draft} setDraft={setDraft} errors={rest} />}
          {activeTab === 'rules' && <RulesTab draft={draft} setDraft={setDraft} errors={rest} />}
          {activeTab === 'options' && <AuthOptions draft={draft} onChange={setDraft} errors={rest} />}
        </Tabs>
        <div class="ce-foot">
          <span class="muted small">{t('collections.saveHint')}</span>
          <div class="grow" />
          <button type="button" class="btn" onClick={cancel} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy || (!isNew && !dirty)}>
            {busy ? t('core.saving') : isNew ? t('collections.create') : t('collections.save')}
          </button>
        </div>
      </form>
      {deleting && <DeleteDialog collection={saved} onClose={() => setDeleting(false)} onDeleted={() => setOriginal(draft)} />}
    </div>
  );
}

function tabHasErr(id, split, draft) {
  if (id === 'fields') return Object.keys(split.fields).length > 0;
  if (id === 'rules') return rulesOf(draft.type).some((r) => split.rest[r]);
  if (id === 'query') return !!split.rest.viewQuery;
  return false;
}

/** Deleting a collection, confirmed by typing its name. */
function DeleteDialog({ collection, onClose, onDeleted }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const ok = typed === collection.name;
  const submit = async (e) => {
    e.preventDefault();
    if (!ok || busy) return;
    setBusy(true);
    setError('');
    try {
      await pb.collections.delete(collection.id);
      onDeleted();
      await reloadCollections();
      toast(t('collections.deletedToast', { name: collection.name }));
      navigate('/collections');
    } catch (err) {
      const fe = fieldErrors(err);
      setError([errorMessage(err), ...Object.values(fe)].filter(Boolean).join(' '));
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      size="sm"
      title={t('collections.deleteTitle', { name: collection.name })}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="submit" form="ce-delete-form" class="btn btn-danger" disabled={!ok || busy}>
            {t('collections.deleteConfirm')}
          </button>
        </>
      }
    >
      <form id="ce-delete-form" class="stack" onSubmit={submit}>
        <p>{t('collections.deleteMessage', { name: collection.name })}</p>
        <FormErrors messages={error ? [error] : []} />
        <Field label={t('collections.deleteTypeName', { name: collection.name })}>
          <input class="input mono" value={typed} autocomplete="off" spellcheck={false} onInput={(e) => setTyped(e.currentTarget.value)} />
        </Field>
      </form>
    </Modal>
  );
}
