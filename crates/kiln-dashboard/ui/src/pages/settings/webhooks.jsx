// Webhooks (`webhooks` in the settings): the inbound endpoints other services post to
// (`POST /api/webhooks/{name}`, signatures checked, each event handed to a job) and the outbound
// ones (a collection's record events posted to a URL, signed per Standard Webhooks, delivered as
// `__webhook` jobs). Each webhook is edited in a dialog and saved on its own: the list is sent
// back as read, and the server keeps the secrets of every webhook sent without them (it merges
// items by name), so a secret is only sent when it is new.
import { useEffect, useId, useState } from 'preact/hooks';
import { apiBase, errorMessage, fieldErrors, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { href } from '../../router.js';
import { findCollection, useCollections } from '../../store/collections.js';
import { confirm } from '../../ui/confirm.jsx';
import { Field, FormErrors } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { CodeBox } from '../../ui/rule-editor/code-box.jsx';
import { checkSyntax } from '../../ui/rule-editor/lexer.js';
import { useDebounced } from '../../ui/hooks.js';
import { Loading, NumInput, Toggle } from './form.jsx';

export const EVENTS = ['create', 'update', 'delete'];
/** The job name of outbound deliveries (their log on the Jobs page). */
const DELIVERY_JOB = '__webhook';
const MESSAGE_SHAPE = '{"type": "record.create", "timestamp": "…", "data": {"collection": "…", "record": {…}}}';

const NEW = {
  inbound: () => ({ name: '', scheme: 'standard', tolerance: 300, job: '' }),
  outbound: () => ({ name: '', url: '', collection: '', events: [...EVENTS], filter: '', enabled: true }),
};

const pick = (s) => ({ inbound: s.webhooks?.inbound ?? [], outbound: s.webhooks?.outbound ?? [] });

/** A new Standard Webhooks secret: `whsec_` and the base64 of 24 random bytes. */
export function generateSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** The address other services post to for the inbound webhook `name`. */
export const endpointUrl = (name) => `${apiBase}/api/webhooks/${encodeURIComponent(name)}`;

const splitSecrets = (text) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t('core.copied'));
  } catch (err) {
    toast(errorMessage(err) || String(err), 'error');
  }
}

export function WebhooksSettings() {
  const [data, setData] = useState(null);
  const [loadError, setLoadError] = useState('');
  // { way: 'inbound' | 'outbound', index: a position in the list, or -1 for a new one }
  const [editing, setEditing] = useState(null);
  const load = () => {
    setLoadError('');
    return pb.settings.getAll().then(
      (s) => setData(pick(s)),
      (err) => setLoadError(errorMessage(err)),
    );
  };
  useEffect(() => {
    load();
  }, []);
  if (!data) return <Loading f={{ loadError, reload: load }} />;

  const remove = async (way, index) => {
    const name = data[way][index].name;
    const ok = await confirm({
      title: t('settings.webhooks.removeTitle'),
      message: t(way === 'outbound' ? 'settings.webhooks.removeOutbound' : 'settings.webhooks.removeInbound', { name }),
      confirm: t('settings.webhooks.remove'),
      danger: true,
    });
    if (!ok) return;
    try {
      const s = await pb.settings.update({ webhooks: { [way]: data[way].filter((_, i) => i !== index) } });
      setData(pick(s));
      toast(t('settings.webhooks.removed', { name }));
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  return (
    <div class="stack settings-form">
      <p class="muted">{t('settings.webhooks.intro')}</p>
      <OutboundList list={data.outbound} onAdd={() => setEditing({ way: 'outbound', index: -1 })} onEdit={(i) => setEditing({ way: 'outbound', index: i })} onRemove={(i) => remove('outbound', i)} />
      <hr />
      <InboundList list={data.inbound} onAdd={() => setEditing({ way: 'inbound', index: -1 })} onEdit={(i) => setEditing({ way: 'inbound', index: i })} onRemove={(i) => remove('inbound', i)} />
      {editing && (
        <WebhookEditor
          key={`${editing.way}-${editing.index}`}
          way={editing.way}
          index={editing.index}
          list={data[editing.way]}
          onClose={() => setEditing(null)}
          onSaved={(s) => setData(pick(s))}
        />
      )}
    </div>
  );
}

function OutboundList({ list, onAdd, onEdit, onRemove }) {
  return (
    <section class="stack" aria-labelledby="kd-wh-out-h">
      <div class="row between">
        <h2 id="kd-wh-out-h" class="settings-h2">
          {t('settings.webhooks.outbound')}
        </h2>
        <button type="button" class="btn btn-primary" onClick={onAdd}>
          <Icon name="plus" /> {t('settings.webhooks.addOutbound')}
        </button>
      </div>
      <p class="muted small">
        {t('settings.webhooks.outboundIntro')} <code>{MESSAGE_SHAPE}</code>
      </p>
      <div class="table-wrap">
        <table class="table webhooks-table">
          <caption class="sr-only">{t('settings.webhooks.outbound')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('settings.webhooks.name')}</th>
              <th scope="col">{t('settings.webhooks.url')}</th>
              <th scope="col">{t('settings.webhooks.collection')}</th>
              <th scope="col">{t('settings.webhooks.events')}</th>
              <th scope="col">
                <span class="sr-only">{t('settings.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((w, i) => (
              <tr key={w.name || i}>
                <td>
                  <span class="mono">{w.name}</span>{' '}
                  <span class={`badge ${w.enabled ? 'badge-success' : ''}`}>{w.enabled ? t('settings.enabled') : t('settings.disabled')}</span>
                  {w.filter && <div class="small muted mono ellipsis" title={w.filter}>{w.filter}</div>}
                </td>
                <td class="mono webhooks-url">{w.url}</td>
                <td class="mono">{findCollection(w.collection)?.name ?? w.collection}</td>
                <td>{(w.events ?? []).map((e) => t(`settings.webhooks.event.${e}`)).join(', ')}</td>
                <td class="settings-row-actions">
                  <a class="btn btn-sm btn-ghost" href={href('/jobs', { name: DELIVERY_JOB })} aria-label={t('settings.webhooks.deliveriesN', { name: w.name })}>
                    {t('settings.webhooks.deliveries')}
                  </a>
                  <button type="button" class="btn btn-sm" onClick={() => onEdit(i)} aria-label={t('settings.webhooks.editN', { name: w.name })}>
                    <Icon name="edit" /> {t('core.edit')}
                  </button>
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => onRemove(i)} aria-label={t('settings.webhooks.removeN', { name: w.name })}>
                    <Icon name="trash" /> {t('settings.webhooks.remove')}
                  </button>
                </td>
              </tr>
            ))}
            {!list.length && (
              <tr>
                <td colSpan={5} class="empty">
                  {t('settings.webhooks.noneOutbound')}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function InboundList({ list, onAdd, onEdit, onRemove }) {
  return (
    <section class="stack" aria-labelledby="kd-wh-in-h">
      <div class="row between">
        <h2 id="kd-wh-in-h" class="settings-h2">
          {t('settings.webhooks.inbound')}
        </h2>
        <button type="button" class="btn btn-primary" onClick={onAdd}>
          <Icon name="plus" /> {t('settings.webhooks.addInbound')}
        </button>
      </div>
      <p class="muted small">{t('settings.webhooks.inboundIntro')}</p>
      <div class="table-wrap">
        <table class="table webhooks-table">
          <caption class="sr-only">{t('settings.webhooks.inbound')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('settings.webhooks.name')}</th>
              <th scope="col">{t('settings.webhooks.endpoint')}</th>
              <th scope="col">{t('settings.webhooks.scheme')}</th>
              <th scope="col">{t('settings.webhooks.job')}</th>
              <th scope="col">
                <span class="sr-only">{t('settings.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((w, i) => (
              <tr key={w.name || i}>
                <td class="mono">{w.name}</td>
                <td>
                  <span class="row webhooks-endpoint">
                    <span class="mono webhooks-url">{endpointUrl(w.name)}</span>
                    <button type="button" class="btn btn-icon btn-sm" onClick={() => copy(endpointUrl(w.name))} aria-label={t('settings.webhooks.copyEndpointN', { name: w.name })} title={t('settings.webhooks.copyEndpointN', { name: w.name })}>
                      <Icon name="copy" />
                    </button>
                  </span>
                </td>
                <td>{t(`settings.webhooks.scheme.${w.scheme === 'stripe' ? 'stripe' : 'standard'}`)}</td>
                <td>
                  {w.job ? (
                    <a class="mono" href={href('/jobs', { name: w.job })} aria-label={t('settings.webhooks.jobsN', { name: w.job })}>
                      {w.job}
                    </a>
                  ) : (
                    <span class="muted">{t('settings.webhooks.noJob')}</span>
                  )}
                </td>
                <td class="settings-row-actions">
                  <button type="button" class="btn btn-sm" onClick={() => onEdit(i)} aria-label={t('settings.webhooks.editN', { name: w.name })}>
                    <Icon name="edit" /> {t('core.edit')}
                  </button>
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => onRemove(i)} aria-label={t('settings.webhooks.removeN', { name: w.name })}>
                    <Icon name="trash" /> {t('settings.webhooks.remove')}
                  </button>
                </td>
              </tr>
            ))}
            {!list.length && (
              <tr>
                <td colSpan={5} class="empty">
                  {t('settings.webhooks.noneInbound')}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/**
 * The dialog of one webhook: `index` -1 adds one. Saving sends the whole list of its kind, the
 * others as read (their secrets kept by the server).
 */
function WebhookEditor({ way, index, list, onClose, onSaved }) {
  const original = index >= 0 ? list[index] : null;
  const [draft, setDraft] = useState(() => ({ ...NEW[way](), ...(original ?? {}) }));
  const [secrets, setSecrets] = useState('');
  const [generated, setGenerated] = useState('');
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState([]);
  const [busy, setBusy] = useState(false);
  const formId = useId();
  const outbound = way === 'outbound';
  const renamed = !!original && draft.name.trim() !== original.name;

  const set = (k, v) => {
    setDraft((d) => ({ ...d, [k]: v }));
    if (errors[k]) setErrors(({ [k]: _, ...rest }) => rest);
  };
  const setSecretText = (v) => {
    setSecrets(v);
    if (errors.secrets) setErrors(({ secrets: _, ...rest }) => rest);
  };

  const generate = () => {
    const s = generateSecret();
    setGenerated(s);
    setSecretText(secrets.trim() ? `${secrets.trim()}\n${s}` : s);
  };

  const submit = async (e) => {
    e.preventDefault();
    const item = { ...draft, name: draft.name.trim() };
    if (outbound) item.url = item.url.trim();
    else item.job = item.job.trim();
    const given = splitSecrets(secrets);
    if (given.length) item.secrets = given;
    else if (!original || renamed) {
      setErrors({ secrets: t(renamed ? 'settings.webhooks.secretsRenamed' : 'settings.webhooks.secretsRequired') });
      setMessage([]);
      return;
    }
    const at = index >= 0 ? index : list.length;
    const next = index >= 0 ? list.map((w, i) => (i === index ? item : w)) : [...list, item];
    setBusy(true);
    setErrors({});
    setMessage([]);
    try {
      const s = await pb.settings.update({ webhooks: { [way]: next } });
      toast(t('settings.webhooks.saved', { name: item.name }));
      onSaved(s);
      onClose();
    } catch (err) {
      const all = fieldErrors(err);
      const prefix = `webhooks.${way}.${at}.`;
      const mine = {};
      const others = [];
      for (const [k, v] of Object.entries(all)) {
        if (k.startsWith(prefix)) mine[k.slice(prefix.length).split('.')[0]] = v;
        else others.push(`${k}: ${v}`);
      }
      setErrors(mine);
      setMessage(Object.keys(mine).length && !others.length ? [] : [errorMessage(err), ...others].filter(Boolean));
    } finally {
      setBusy(false);
    }
  };

  const title = original
    ? t(outbound ? 'settings.webhooks.editOutbound' : 'settings.webhooks.editInbound', { name: original.name })
    : t(outbound ? 'settings.webhooks.newOutbound' : 'settings.webhooks.newInbound');
  const canGenerate = outbound || draft.scheme === 'standard';
  const secretsHint = [
    original ? t('settings.webhooks.secretsKeep') : t('settings.webhooks.secretsHint'),
    !outbound && draft.scheme === 'stripe' ? t('settings.webhooks.secretsStripe') : '',
    renamed && !secrets.trim() ? t('settings.webhooks.secretsRenamed') : '',
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <Modal
      open
      size="lg"
      title={title}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="submit" form={formId} class="btn btn-primary" disabled={busy}>
            {busy ? t('core.saving') : t('settings.webhooks.save')}
          </button>
        </>
      }
    >
      <form id={formId} class="stack" onSubmit={submit} noValidate>
        <FormErrors messages={message} />
        <div class="grid-2">
          <Field label={t('settings.webhooks.name')} hint={t('settings.webhooks.nameHint')} error={errors.name} required>
            <input class="input mono" type="text" value={draft.name} maxLength={100} onInput={(e) => set('name', e.currentTarget.value)} autocomplete="off" spellcheck={false} autofocus={!original} />
          </Field>
          {outbound ? (
            <CollectionSelect value={draft.collection} error={errors.collection} onChange={(v) => set('collection', v)} />
          ) : (
            <Field label={t('settings.webhooks.scheme')} error={errors.scheme}>
              <select class="input" value={draft.scheme} onChange={(e) => set('scheme', e.currentTarget.value)}>
                <option value="standard">{t('settings.webhooks.scheme.standard')}</option>
                <option value="stripe">{t('settings.webhooks.scheme.stripe')}</option>
              </select>
            </Field>
          )}
        </div>
        {outbound ? (
          <>
            <Field label={t('settings.webhooks.url')} hint={t('settings.webhooks.urlHint')} error={errors.url} required>
              <input class="input mono" type="url" inputMode="url" value={draft.url} placeholder="https://example.com/hooks/kiln" onInput={(e) => set('url', e.currentTarget.value)} autocomplete="off" spellcheck={false} />
            </Field>
            <EventsField value={draft.events ?? []} error={errors.events} onChange={(v) => set('events', v)} />
            <FilterField value={draft.filter ?? ''} collection={findCollection(draft.collection)} error={errors.filter} onChange={(v) => set('filter', v)} />
            <Toggle label={t('settings.webhooks.enabled')} hint={t('settings.webhooks.enabledHint')} checked={draft.enabled} error={errors.enabled} onChange={(v) => set('enabled', v)} />
          </>
        ) : (
          <>
            <EndpointField name={draft.name.trim()} />
            <div class="grid-2">
              <Field label={t('settings.webhooks.tolerance')} hint={t('settings.webhooks.toleranceHint')} error={errors.tolerance}>
                <NumInput min="1" max="86400" step="1" value={draft.tolerance} onChange={(v) => set('tolerance', v)} />
              </Field>
              <Field label={t('settings.webhooks.job')} hint={t('settings.webhooks.jobHint')} error={errors.job}>
                <input class="input mono" type="text" value={draft.job} maxLength={100} onInput={(e) => set('job', e.currentTarget.value)} autocomplete="off" spellcheck={false} />
              </Field>
            </div>
          </>
        )}
        <div class="stack settings-tight">
          <Field label={t('settings.webhooks.secrets')} hint={secretsHint} error={errors.secrets} required={!original || renamed}>
            <textarea
              class="input mono webhooks-secrets"
              rows={2}
              value={secrets}
              placeholder={original ? t('settings.secret.placeholder') : 'whsec_…'}
              onInput={(e) => setSecretText(e.currentTarget.value)}
              autocomplete="off"
              spellcheck={false}
            />
          </Field>
          {canGenerate && (
            <div>
              <button type="button" class="btn btn-sm" onClick={generate}>
                <Icon name="lock" /> {t('settings.webhooks.generate')}
              </button>
            </div>
          )}
          <div aria-live="polite">
            {generated && (
              <div class="alert alert-info stack settings-tight">
                <p>{t('settings.webhooks.generated')}</p>
                <div class="row webhooks-generated">
                  <code class="grow">{generated}</code>
                  <button type="button" class="btn btn-sm" onClick={() => copy(generated)}>
                    <Icon name="copy" /> {t('settings.webhooks.copySecret')}
                  </button>
                </div>
              </div>
            )}
          </div>
        </div>
        {outbound && original && (
          <p class="small">
            <a href={href('/jobs', { name: DELIVERY_JOB })}>{t('settings.webhooks.deliveriesLink')}</a>
          </p>
        )}
      </form>
    </Modal>
  );
}

function CollectionSelect({ value, error, onChange }) {
  const cols = useCollections();
  const options = (cols.list ?? []).filter((c) => c.type !== 'view' && !c.system);
  const known = options.some((c) => c.name === value || c.id === value);
  return (
    <Field label={t('settings.webhooks.collection')} error={error} required>
      <select class="input" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{t('settings.webhooks.chooseCollection')}</option>
        {value && !known && <option value={value}>{value}</option>}
        {options.map((c) => (
          <option key={c.id} value={c.id === value ? c.id : c.name}>
            {c.name}
          </option>
        ))}
      </select>
    </Field>
  );
}

function EventsField({ value, error, onChange }) {
  const id = useId();
  const toggle = (ev, on) => onChange(EVENTS.filter((e) => (e === ev ? on : value.includes(e))));
  return (
    <fieldset class={`webhooks-events ${error ? 'has-error' : ''}`} aria-describedby={error ? `${id}-err` : undefined}>
      <legend>{t('settings.webhooks.events')}</legend>
      <div class="row">
        {EVENTS.map((ev) => (
          <label key={ev} class="row webhooks-event">
            <input type="checkbox" checked={value.includes(ev)} onChange={(e) => toggle(ev, e.currentTarget.checked)} />
            {t(`settings.webhooks.event.${ev}`)}
          </label>
        ))}
      </div>
      {error && (
        <p class="error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** The filter: the rule language, highlighted, with the collection's fields offered. */
function FilterField({ value, collection, error, onChange }) {
  const id = useId();
  const settled = useDebounced(value, 350);
  let problem = null;
  if (settled === value && value.trim()) {
    const names = (collection?.fields ?? []).map((f) => f?.name).filter(Boolean);
    const p = checkSyntax(value, { fields: names.length ? names : undefined });
    if (p) problem = { ...p, message: t(`rules.problem.${p.code}`, p.vars) };
  }
  const hintId = `${id}-hint`;
  const probId = `${id}-problem`;
  const errId = `${id}-err`;
  return (
    <div class={`field ${error ? 'has-error' : ''}`}>
      <label for={id}>{t('settings.webhooks.filter')}</label>
      <CodeBox
        id={id}
        value={value}
        onChange={onChange}
        multiline
        collection={collection}
        placeholder={t('settings.webhooks.filterPlaceholder')}
        describedBy={[hintId, problem && probId, error && errId].filter(Boolean).join(' ')}
        invalid={!!error}
        problem={problem}
      />
      <p class="hint" id={hintId}>
        {t('settings.webhooks.filterHint')}
      </p>
      {problem && (
        <p class="hint rule-problem" id={probId}>
          <Icon name="alert" size={14} />
          {problem.message}
        </p>
      )}
      {error && (
        <p class="error" id={errId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The inbound endpoint's full address, to copy into the sender's settings. */
function EndpointField({ name }) {
  const url = endpointUrl(name || '…');
  return (
    <Field label={t('settings.webhooks.endpoint')} hint={t('settings.webhooks.endpointHint')}>
      <input class="input mono" type="text" value={url} readOnly />
      <div>
        <button type="button" class="btn btn-sm" onClick={() => copy(endpointUrl(name))} disabled={!name}>
          <Icon name="copy" /> {t('settings.webhooks.copyEndpoint')}
        </button>
      </div>
    </Field>
  );
}
