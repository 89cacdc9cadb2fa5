// The logs settings dialog: retention, minimum level, maximum data size, IP and auth id logging.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, otherErrors, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { Field, FormErrors } from '../../ui/field.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { LEVELS } from './levels.jsx';
import { NumInput } from '../settings/form.jsx';

export function LogsSettings({ open, onClose, onSaved }) {
  const [orig, setOrig] = useState(null);
  const [form, setForm] = useState(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState('');
  useEffect(() => {
    if (!open) return;
    setErrors({});
    setMessage('');
    setForm(null);
    pb.settings.getAll().then(
      (s) => {
        const l = s.logs ?? {};
        const picked = { maxDays: l.maxDays ?? 0, minLevel: l.minLevel ?? 0, logIP: !!l.logIP, logAuthId: !!l.logAuthId };
        if ('maxDataSize' in l) picked.maxDataSize = l.maxDataSize ?? 0;
        setOrig(picked);
        setForm({ ...picked });
      },
      (err) => setMessage(errorMessage(err)),
    );
  }, [open]);
  const set = (k, v) => setForm((f) => ({ ...f, [k]: v }));
  const dirty = form && JSON.stringify(form) !== JSON.stringify(orig);
  const save = async (e) => {
    e.preventDefault();
    if (!dirty) return;
    setBusy(true);
    setErrors({});
    setMessage('');
    try {
      await pb.settings.update({ logs: form });
      toast(t('logs.settings.saved'));
      onSaved?.();
      onClose();
    } catch (err) {
      setErrors(fieldErrors(err));
      setMessage(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const others = otherErrors(errors, ['logs.maxDays', 'logs.minLevel', 'logs.maxDataSize', 'logs.logIP', 'logs.logAuthId']);
  return (
    <Modal
      open={open}
      title={t('logs.settings.title')}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="submit" form="kd-logs-settings" class="btn btn-primary" disabled={busy || !dirty}>
            {busy ? t('core.saving') : t('logs.settings.save')}
          </button>
        </>
      }
    >
      <form id="kd-logs-settings" class="stack" onSubmit={save} noValidate>
        <FormErrors messages={message ? [message, ...others] : others} />
        {!form && !message && <p class="muted">{t('core.loading')}</p>}
        {form && (
          <>
            <Field label={t('logs.settings.maxDays')} hint={t('logs.settings.maxDaysHint')} error={errors['logs.maxDays']}>
              <NumInput min="0" step="1" value={form.maxDays} onChange={(v) => set('maxDays', v)} />
            </Field>
            <Field label={t('logs.settings.minLevel')} hint={t('logs.settings.minLevelHint', { levels: Object.entries(LEVELS).sort((a, b) => a[0] - b[0]).map(([n, [name]]) => `${n} ${name}`).join(', ') })} error={errors['logs.minLevel']}>
              <NumInput step="1" value={form.minLevel} onChange={(v) => set('minLevel', v)} />
            </Field>
            {'maxDataSize' in form && (
              <Field label={t('logs.settings.maxDataSize')} hint={t('logs.settings.maxDataSizeHint')} error={errors['logs.maxDataSize']}>
                <NumInput min="0" step="1" blankZero value={form.maxDataSize} onChange={(v) => set('maxDataSize', v)} />
              </Field>
            )}
            <Field inline label={t('logs.settings.logIP')} error={errors['logs.logIP']}>
              <input type="checkbox" checked={form.logIP} onChange={(e) => set('logIP', e.currentTarget.checked)} />
            </Field>
            <Field inline label={t('logs.settings.logAuthId')} error={errors['logs.logAuthId']}>
              <input type="checkbox" checked={form.logAuthId} onChange={(e) => set('logAuthId', e.currentTarget.checked)} />
            </Field>
          </>
        )}
      </form>
    </Modal>
  );
}
