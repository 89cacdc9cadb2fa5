// "Impersonate": a superuser gets an auth token of an account (POST
// /api/collections/{collection}/impersonate/{id}), for a chosen lifetime, to try the API as that
// account. The token is shown with a copy button and a ready curl command.
import { useEffect, useState } from 'preact/hooks';
import { apiBase, errorMessage, fieldErrors, pb } from '../../../api.js';
import { t } from '../../../i18n/index.js';
import { findCollection } from '../../../store/collections.js';
import { Field, FormErrors } from '../../../ui/field.jsx';
import { Icon } from '../../../ui/icon.jsx';
import { Modal } from '../../../ui/modal.jsx';
import { toast } from '../../../ui/toast.jsx';
import { humanDuration } from './util.js';
import './auth-options.css';

/** `collection`: the collection (object) or its name or id; `record`: the auth record. */
export function ImpersonateDialog({ collection, record, open, onClose }) {
  const col = typeof collection === 'string' ? findCollection(collection) ?? { name: collection } : collection ?? {};
  const fallback = col.authToken?.duration ?? 0;
  const [duration, setDuration] = useState(fallback);
  const [busy, setBusy] = useState(false);
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [errors, setErrors] = useState({});

  useEffect(() => {
    if (!open) return;
    setDuration(fallback);
    setToken('');
    setError('');
    setErrors({});
  }, [open, record?.id]);

  const submit = async (e) => {
    e.preventDefault();
    // the dialog may sit inside another form (the collection or record editor): keep the submit here
    e.stopPropagation();
    setBusy(true);
    setError('');
    setErrors({});
    try {
      const client = await pb.collection(col.name ?? col.id).impersonate(record.id, Number(duration) || 0);
      setToken(client.authStore.token);
    } catch (err) {
      const errs = fieldErrors(err);
      setErrors(errs);
      setError(errs.duration && Object.keys(errs).length === 1 ? '' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const copy = async (text, what) => {
    try {
      await navigator.clipboard.writeText(text);
      toast(t('auth.imp.copied', { what }));
    } catch {
      toast(t('auth.imp.copyFailed'), 'error');
    }
  };

  const name = col.name ?? '';
  const curl = `curl -H "Authorization: ${token}" "${apiBase}/api/collections/${encodeURIComponent(name)}/records"`;
  const who = record?.email || record?.username || record?.name || record?.id || '';
  return (
    <Modal
      open={open}
      title={t('auth.imp.title', { who })}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            {t('auth.close')}
          </button>
          <button type="submit" form="ao-impersonate" class="btn btn-primary" disabled={busy}>
            {busy && <span class="spinner" aria-hidden="true" />}
            {token ? t('auth.imp.again') : t('auth.imp.generate')}
          </button>
        </>
      }
    >
      <form id="ao-impersonate" class="stack" onSubmit={submit} noValidate>
        <p class="muted">{t('auth.imp.intro', { collection: name })}</p>
        <FormErrors messages={error ? [error] : []} />
        <Field
          label={t('auth.imp.duration')}
          error={errors.duration}
          hint={`${humanDuration(duration)} · ${t('auth.imp.durationHint')}`}
        >
          <input
            class="input"
            type="number"
            min={0}
            step={1}
            inputMode="numeric"
            value={duration}
            onInput={(e) => {
              const v = e.currentTarget.valueAsNumber;
              setDuration(Number.isFinite(v) ? Math.trunc(v) : 0);
            }}
          />
        </Field>
        {token && (
          <div class="stack ao-token-out">
            <p class="alert alert-success" role="status">
              {t('auth.imp.ready')}
            </p>
            <Field label={t('auth.imp.token')}>
              <textarea class="input mono ao-token-text" readOnly rows={4} value={token} onFocus={(e) => e.currentTarget.select()} />
            </Field>
            <div class="row">
              <button type="button" class="btn btn-sm" onClick={() => copy(token, t('auth.imp.token'))}>
                <Icon name="copy" />
                {t('auth.imp.copyToken')}
              </button>
            </div>
            <Field label={t('auth.imp.curl')} hint={t('auth.imp.curlHint')}>
              <textarea class="input mono ao-token-text" readOnly rows={6} value={curl} onFocus={(e) => e.currentTarget.select()} />
            </Field>
            <div class="row">
              <button type="button" class="btn btn-sm" onClick={() => copy(curl, t('auth.imp.curl'))}>
                <Icon name="copy" />
                {t('auth.imp.copyCurl')}
              </button>
            </div>
          </div>
        )}
      </form>
    </Modal>
  );
}
