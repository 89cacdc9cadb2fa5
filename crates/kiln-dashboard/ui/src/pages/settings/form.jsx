// The settings forms' common parts: loading and saving a slice of `GET/PATCH /api/settings`,
// the change check behind Save and Reset, the API's errors by dotted path, and a few inputs
// (numbers, comma separated lists, secrets) that keep what the user types.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, otherErrors, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { Field, FormErrors } from '../../ui/field.jsx';
import { toast } from '../../ui/toast.jsx';

export const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** `obj` with the value at the dotted `path` replaced (a copy; `undefined` removes the key). */
export function setIn(obj, path, value) {
  const keys = path.split('.');
  const root = Array.isArray(obj) ? [...obj] : { ...obj };
  let cur = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i];
    const next = cur[k];
    cur[k] = Array.isArray(next) ? [...next] : { ...(next ?? {}) };
    cur = cur[k];
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return root;
}

export function getIn(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/**
 * A form over part of the settings. `pick(settings)` makes the form's object (only the keys
 * the form edits, so PATCH sends nothing else); `toBody(form)` may adjust it before saving.
 */
export function useSettingsForm(pick, { toBody = (f) => f, saved = t('settings.saved'), onSaved } = {}) {
  const [orig, setOrig] = useState(null);
  const [form, setForm] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [settings, setSettings] = useState(null);

  const init = (s) => {
    const picked = pick(clone(s));
    setSettings(s);
    setOrig(picked);
    setForm(clone(picked));
  };

  const load = () => {
    setLoadError('');
    return pb.settings.getAll().then(init, (err) => setLoadError(errorMessage(err)));
  };
  useEffect(() => {
    load();
  }, []);

  const dirty = useMemo(() => JSON.stringify(form) !== JSON.stringify(orig), [form, orig]);

  const set = (path, value) => {
    setForm((f) => setIn(f, path, value));
    setErrors((e) => {
      if (!Object.keys(e).some((k) => k === path || k.startsWith(`${path}.`))) return e;
      const next = { ...e };
      for (const k of Object.keys(next)) if (k === path || k.startsWith(`${path}.`)) delete next[k];
      return next;
    });
  };

  const save = async (e) => {
    e?.preventDefault?.();
    if (!dirty || busy) return false;
    setBusy(true);
    setMessage('');
    setErrors({});
    try {
      const result = await pb.settings.update(toBody(clone(form)));
      init(result);
      toast(saved);
      onSaved?.(result);
      return true;
    } catch (err) {
      setErrors(fieldErrors(err));
      setMessage(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const reset = () => {
    setForm(clone(orig));
    setErrors({});
    setMessage('');
  };

  return { form, orig, settings, set, get: (p) => getIn(form, p), dirty, save, reset, busy, errors, message, loadError, reload: load, setOrig, setForm };
}

/** The top of a settings form: the API's message and the errors no input shows. */
export function SettingsErrors({ f, shown }) {
  const others = otherErrors(f.errors, shown);
  const messages = f.message ? [f.message, ...others] : others;
  return <FormErrors messages={messages} />;
}

/** Loading and load-failure states of a settings form. */
export function Loading({ f }) {
  if (f.loadError) {
    return (
      <div class="stack">
        <div class="alert alert-error" role="alert">
          {t('core.loadFailed', { message: f.loadError })}
        </div>
        <div>
          <button type="button" class="btn" onClick={f.reload}>
            {t('core.retry')}
          </button>
        </div>
      </div>
    );
  }
  return (
    <p class="muted" role="status">
      <span class="spinner" aria-hidden="true" /> {t('core.loading')}
    </p>
  );
}

/** Save (only with changes) and Reset under a settings form. */
export function SaveBar({ f, extra }) {
  return (
    <div class="settings-actions">
      {extra}
      <div class="grow" />
      <button type="button" class="btn" onClick={f.reset} disabled={!f.dirty || f.busy}>
        {t('settings.reset')}
      </button>
      <button type="submit" class="btn btn-primary" disabled={!f.dirty || f.busy}>
        {f.busy ? t('core.saving') : t('settings.save')}
      </button>
    </div>
  );
}

/** A number input that lets the field be empty while typing (empty is 0; `blankZero` shows 0 as empty). */
export function NumInput({ value, onChange, blankZero = false, class: cls = 'input', ...rest }) {
  const show = (v) => (v === undefined || v === null || (blankZero && v === 0) ? '' : String(v));
  const [text, setText] = useState(show(value));
  useEffect(() => {
    const parsed = text.trim() === '' ? 0 : Number(text);
    if (parsed !== (value ?? 0)) setText(show(value));
  }, [value]);
  return (
    <input
      {...rest}
      class={cls}
      type="number"
      inputMode="numeric"
      value={text}
      onInput={(e) => {
        const raw = e.currentTarget.value;
        setText(raw);
        const n = raw.trim() === '' ? 0 : Number(raw);
        if (!Number.isNaN(n)) onChange(n);
      }}
    />
  );
}

const splitList = (s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** A comma separated list of strings. */
export function ListInput({ value, onChange, ...rest }) {
  const [text, setText] = useState((value ?? []).join(', '));
  useEffect(() => {
    if (splitList(text).join(',') !== (value ?? []).join(',')) setText((value ?? []).join(', '));
  }, [(value ?? []).join(',')]);
  return (
    <input
      {...rest}
      class="input"
      type="text"
      value={text}
      onInput={(e) => {
        setText(e.currentTarget.value);
        onChange(splitList(e.currentTarget.value));
      }}
    />
  );
}

/**
 * A secret the API never sends back: empty means "keep the stored one"; whatever is typed
 * replaces it on save.
 */
export function SecretInput({ value, onChange, ...rest }) {
  return (
    <input
      {...rest}
      class="input"
      type="password"
      autocomplete="new-password"
      placeholder={t('settings.secret.placeholder')}
      value={value ?? ''}
      onInput={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
    />
  );
}

/** A checkbox with its label (and the API's error for it). */
export function Toggle({ label, checked, onChange, hint, error }) {
  return (
    <Field inline label={label} hint={hint} error={error}>
      <input type="checkbox" checked={!!checked} onChange={(e) => onChange(e.currentTarget.checked)} />
    </Field>
  );
}

/** A collapsible group of settings with an Enabled/Disabled badge; opens by itself on an error. */
export function Group({ title, enabled, hasError, children, open = false }) {
  const [isOpen, setOpen] = useState(open);
  useEffect(() => {
    if (hasError) setOpen(true);
  }, [hasError]);
  return (
    <details class="settings-group" open={isOpen} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <span class="settings-group-title">{title}</span>
        {enabled !== undefined && (
          <span class={`badge ${enabled ? 'badge-success' : ''}`}>{enabled ? t('settings.enabled') : t('settings.disabled')}</span>
        )}
        {hasError && (
          <span class="badge badge-danger">{t('settings.hasErrors')}</span>
        )}
      </summary>
      <div class="settings-group-body stack">{children}</div>
    </details>
  );
}

/** Whether any error path starts with one of `prefixes`. */
export function hasErrorIn(errors, ...prefixes) {
  return Object.keys(errors).some((k) => prefixes.some((p) => k === p || k.startsWith(`${p}.`)));
}

/** The outcome of a test (email, S3, cron): announced politely, errors as alerts. */
export function ResultNote({ result }) {
  return (
    <div aria-live="polite" class="settings-result">
      {result && (
        <div class={`alert ${result.ok ? 'alert-success' : 'alert-error'}`} role={result.ok ? undefined : 'alert'}>
          {result.message}
        </div>
      )}
    </div>
  );
}
