// Apple's client secret is a JWT signed with the developer's private key: this dialog has the
// server make one (POST /api/settings/apple/generate-client-secret); the key is not stored.
import { useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../../../api.js';
import { t } from '../../../i18n/index.js';
import { Field, FormErrors } from '../../../ui/field.jsx';
import { Modal } from '../../../ui/modal.jsx';
import { humanDuration } from './util.js';

const MAX = 15777000; // about six months, Apple's limit

export function AppleSecretDialog({ open, onClose, onSecret, clientId = '' }) {
  const [form, setForm] = useState({ clientId, teamId: '', keyId: '', privateKey: '', duration: MAX });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [errors, setErrors] = useState({});
  const set = (k) => (e) => setForm({ ...form, [k]: k === 'duration' ? Math.trunc(e.currentTarget.valueAsNumber || 0) : e.currentTarget.value });

  const submit = async (e) => {
    e.preventDefault();
    // the dialog may sit inside another form (the collection or record editor): keep the submit here
    e.stopPropagation();
    setBusy(true);
    setError('');
    setErrors({});
    try {
      const r = await pb.settings.generateAppleClientSecret(form.clientId.trim(), form.teamId.trim(), form.keyId.trim(), form.privateKey.trim(), form.duration);
      onSecret(r.secret);
      onClose();
    } catch (err) {
      const errs = fieldErrors(err);
      setErrors(errs);
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('auth.apple.title')}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            {t('auth.close')}
          </button>
          <button type="submit" form="ao-apple" class="btn btn-primary" disabled={busy}>
            {busy && <span class="spinner" aria-hidden="true" />}
            {t('auth.apple.generate')}
          </button>
        </>
      }
    >
      <form id="ao-apple" class="stack" onSubmit={submit} noValidate>
        <FormErrors messages={error ? [error] : []} />
        <div class="grid-2">
          <Field label={t('auth.oauth2.clientId')} error={errors.clientId} required>
            <input class="input" value={form.clientId} onInput={set('clientId')} />
          </Field>
          <Field label={t('auth.apple.teamId')} error={errors.teamId} required>
            <input class="input" value={form.teamId} onInput={set('teamId')} />
          </Field>
          <Field label={t('auth.apple.keyId')} error={errors.keyId} required>
            <input class="input" value={form.keyId} onInput={set('keyId')} />
          </Field>
          <Field label={t('auth.apple.duration')} error={errors.duration} hint={t('auth.apple.durationHint', { max: humanDuration(MAX) })} required>
            <input class="input" type="number" min={1} max={MAX} step={1} value={form.duration} onInput={set('duration')} />
          </Field>
        </div>
        <Field label={t('auth.apple.privateKey')} error={errors.privateKey} hint={t('auth.apple.privateKeyHint')} required>
          <textarea class="input mono" rows={7} spellcheck={false} placeholder={'-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----'} value={form.privateKey} onInput={set('privateKey')} />
        </Field>
      </form>
    </Modal>
  );
}
