// "Queue a job": a name, a JSON payload (checked before it is sent), and the optional run-at
// time, unique key, attempts and backoff.
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, otherErrors } from '../../api.js';
import { t } from '../../i18n/index.js';
import { Field, FormErrors } from '../../ui/field.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { queueJob } from './api.js';

const EMPTY = { name: '', payload: '{\n  \n}', runAt: '', uniqueKey: '', maxAttempts: '', backoff: '' };
const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const SHOWN = ['name', 'payload', 'runAt', 'uniqueKey', 'maxAttempts', 'backoff'];

/** The form's fields as the API's body, or `{ errors }` found before sending. */
export function jobBody(form) {
  const errors = {};
  const body = { name: form.name.trim() };
  if (!NAME.test(body.name)) errors.name = t('jobs.queue.nameInvalid');
  const raw = form.payload.trim();
  if (raw) {
    try {
      body.payload = JSON.parse(raw);
    } catch (err) {
      errors.payload = t('jobs.queue.payloadInvalid', { message: err.message });
    }
  } else body.payload = null;
  if (form.runAt) {
    const d = new Date(form.runAt);
    if (Number.isNaN(d.getTime())) errors.runAt = t('jobs.queue.runAtInvalid');
    else body.runAt = d.toISOString();
  }
  if (form.uniqueKey.trim()) body.uniqueKey = form.uniqueKey.trim();
  for (const [key, min, max] of [
    ['maxAttempts', 1, 100],
    ['backoff', 0, 3_600_000],
  ]) {
    const s = String(form[key]).trim();
    if (!s) continue;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) errors[key] = t('jobs.queue.between', { min, max });
    else body[key] = n;
  }
  return Object.keys(errors).length ? { errors } : { body };
}

export function QueueJob({ open, onClose, onQueued }) {
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  // after a refused submit, the focus goes to the first field in error
  const focusError = useRef(false);
  useEffect(() => {
    if (!focusError.current) return;
    focusError.current = false;
    document.querySelector('#kd-queue-job [aria-invalid=true]')?.focus();
  }, [errors]);
  const set = (k, v) => {
    setForm((f) => ({ ...f, [k]: v }));
    if (errors[k]) setErrors(({ [k]: _, ...rest }) => rest);
  };
  const close = () => {
    setForm(EMPTY);
    setErrors({});
    setMessage('');
    onClose();
  };
  const submit = async (e) => {
    e.preventDefault();
    setMessage('');
    const { body, errors: local } = jobBody(form);
    if (local) {
      focusError.current = true;
      setErrors(local);
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      const job = await queueJob(body);
      toast(t('jobs.queue.queued', { name: job?.name ?? body.name }));
      onQueued?.(job);
      close();
    } catch (err) {
      const fe = fieldErrors(err);
      focusError.current = true;
      setErrors(fe);
      const others = otherErrors(fe, SHOWN);
      setMessage(Object.keys(fe).length && !others.length ? '' : [errorMessage(err), ...others].filter(Boolean).join(' '));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('jobs.queue.title')}
      onClose={close}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={close} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="submit" form="kd-queue-job" class="btn btn-primary" disabled={busy}>
            {busy ? t('jobs.queue.submitting') : t('jobs.queue.submit')}
          </button>
        </>
      }
    >
      <form id="kd-queue-job" class="stack" onSubmit={submit} noValidate>
        <p class="muted">{t('jobs.queue.intro')}</p>
        <FormErrors messages={message ? [message] : []} />
        <Field label={t('jobs.queue.name')} hint={t('jobs.queue.nameHint')} error={errors.name} required>
          <input class="input mono" type="text" value={form.name} onInput={(e) => set('name', e.currentTarget.value)} autocomplete="off" spellcheck={false} autofocus />
        </Field>
        <Field label={t('jobs.queue.payload')} hint={t('jobs.queue.payloadHint')} error={errors.payload}>
          <textarea class="input mono job-payload-input" rows={6} value={form.payload} onInput={(e) => set('payload', e.currentTarget.value)} spellcheck={false} />
        </Field>
        <div class="grid-2">
          <Field label={t('jobs.queue.runAt')} hint={t('jobs.queue.runAtHint')} error={errors.runAt}>
            <input class="input" type="datetime-local" step="1" value={form.runAt} onInput={(e) => set('runAt', e.currentTarget.value)} />
          </Field>
          <Field label={t('jobs.queue.uniqueKey')} hint={t('jobs.queue.uniqueKeyHint')} error={errors.uniqueKey}>
            <input class="input mono" type="text" value={form.uniqueKey} maxLength={255} onInput={(e) => set('uniqueKey', e.currentTarget.value)} autocomplete="off" />
          </Field>
          <Field label={t('jobs.queue.maxAttempts')} hint={t('jobs.queue.maxAttemptsHint')} error={errors.maxAttempts}>
            <input class="input" type="number" inputMode="numeric" min="1" max="100" step="1" value={form.maxAttempts} onInput={(e) => set('maxAttempts', e.currentTarget.value)} />
          </Field>
          <Field label={t('jobs.queue.backoff')} hint={t('jobs.queue.backoffHint')} error={errors.backoff}>
            <input class="input" type="number" inputMode="numeric" min="0" max="3600000" step="100" value={form.backoff} onInput={(e) => set('backoff', e.currentTarget.value)} />
          </Field>
        </div>
      </form>
    </Modal>
  );
}
