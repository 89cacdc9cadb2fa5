// Passkeys (WebAuthn), Kiln's addition to the sign-in methods. Their relying party is one for the
// whole application (`passkeys` of /api/settings), so this section saves on its own; it also
// counts the passkeys the collection's accounts have registered.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../../../api.js';
import { t } from '../../../i18n/index.js';
import { Field, FormErrors } from '../../../ui/field.jsx';
import { toast } from '../../../ui/toast.jsx';

export function PasskeysSection({ draft }) {
  const [settings, setSettings] = useState(null); // { passkeys, meta }
  const [form, setForm] = useState(null);
  const [origins, setOrigins] = useState('');
  const [error, setError] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [count, setCount] = useState(null);

  const reset = (s) => {
    setSettings(s);
    setForm({ enabled: s.passkeys?.enabled ?? true, rpId: s.passkeys?.rpId ?? '', rpName: s.passkeys?.rpName ?? '' });
    setOrigins((s.passkeys?.origins ?? []).join('\n'));
  };
  useEffect(() => {
    pb.settings.getAll().then(reset, (err) => setError(errorMessage(err)));
  }, []);
  useEffect(() => {
    if (!draft.id) return;
    pb.collection('_passkeys')
      .getList(1, 1, { filter: pb.filter('collectionRef = {:id}', { id: draft.id }), skipTotal: false, fields: 'id' })
      .then((r) => setCount(r.totalItems), () => setCount(null));
  }, [draft.id]);

  const save = async () => {
    setBusy(true);
    setError('');
    setErrors({});
    try {
      const list = origins.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
      const next = await pb.settings.update({ passkeys: { ...settings.passkeys, ...form, origins: list } });
      reset(next);
      toast(t('auth.passkeys.saved'));
    } catch (err) {
      const errs = fieldErrors(err);
      setErrors(errs);
      const shown = ['passkeys.enabled', 'passkeys.rpId', 'passkeys.rpName', 'passkeys.origins'];
      const rest = Object.entries(errs).filter(([k]) => !shown.some((s) => k === s || k.startsWith(`${s}.`)));
      setError(rest.length || !Object.keys(errs).length ? errorMessage(err) : '');
    } finally {
      setBusy(false);
    }
  };

  if (!form) {
    return error ? <FormErrors messages={[error]} /> : <p class="muted">{t('auth.loading')}</p>;
  }
  const appURL = settings.meta?.appURL ?? '';
  let host = '';
  try {
    host = appURL ? new URL(appURL).hostname : '';
  } catch {
    host = '';
  }
  const originErr = Object.entries(errors).find(([k]) => k.startsWith('passkeys.origins'))?.[1];

  return (
    // not a <form>: this section sits inside the collection editor's form; Enter saves it alone
    <div
      class="stack"
      role="group"
      aria-label={t('auth.passkeys.form')}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && e.target.tagName === 'INPUT') {
          e.preventDefault();
          if (!busy) save();
        }
      }}
    >
      <p class="alert alert-info">{t('auth.passkeys.global')}</p>
      {count !== null && <p class="muted">{t('auth.passkeys.count', { count, name: draft.name })}</p>}
      <FormErrors messages={error ? [error] : []} />
      <Field label={t('auth.passkeys.enable')} inline error={errors['passkeys.enabled']}>
        <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.currentTarget.checked })} />
      </Field>
      <div class="grid-2">
        <Field label={t('auth.passkeys.rpId')} error={errors['passkeys.rpId']} hint={host ? t('auth.passkeys.rpIdDefault', { host }) : t('auth.passkeys.rpIdHint')}>
          <input class="input" spellcheck={false} value={form.rpId} placeholder={host} onInput={(e) => setForm({ ...form, rpId: e.currentTarget.value.trim() })} />
        </Field>
        <Field label={t('auth.passkeys.rpName')} error={errors['passkeys.rpName']} hint={t('auth.passkeys.rpNameHint', { name: settings.meta?.appName ?? '' })}>
          <input class="input" value={form.rpName} placeholder={settings.meta?.appName ?? ''} onInput={(e) => setForm({ ...form, rpName: e.currentTarget.value })} />
        </Field>
      </div>
      <Field label={t('auth.passkeys.origins')} error={originErr} hint={t('auth.passkeys.originsHint', { origin: appURL ? safeOrigin(appURL) : '—' })}>
        <textarea class="input mono" rows={3} spellcheck={false} value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} />
      </Field>
      <div class="row end">
        <button type="button" class="btn btn-primary" onClick={save} disabled={busy}>
          {busy && <span class="spinner" aria-hidden="true" />}
          {t('auth.passkeys.save')}
        </button>
      </div>
    </div>
  );
}

function safeOrigin(url) {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
