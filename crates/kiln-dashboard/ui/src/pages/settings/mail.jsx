// Mail settings: the sender, the SMTP server, and a test email through the saved settings.
import { useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb, SUPERUSERS } from '../../api.js';
import { t } from '../../i18n/index.js';
import { useCollections } from '../../store/collections.js';
import { Field } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { Loading, NumInput, ResultNote, SaveBar, SecretInput, SettingsErrors, Toggle, useSettingsForm } from './form.jsx';

const SHOWN = ['meta.senderName', 'meta.senderAddress', 'smtp'];
export const TEMPLATES = ['verification', 'password-reset', 'email-change', 'otp', 'login-alert'];

const pick = (s) => ({
  meta: { senderName: s.meta?.senderName ?? '', senderAddress: s.meta?.senderAddress ?? '' },
  smtp: {
    enabled: !!s.smtp?.enabled,
    host: s.smtp?.host ?? '',
    port: s.smtp?.port ?? 587,
    username: s.smtp?.username ?? '',
    authMethod: s.smtp?.authMethod || 'PLAIN',
    tls: !!s.smtp?.tls,
    localName: s.smtp?.localName ?? '',
  },
});

export function MailSettings() {
  const f = useSettingsForm(pick);
  const [testing, setTesting] = useState(false);
  if (!f.form) return <Loading f={f} />;
  const { form, errors, set } = f;
  const on = form.smtp.enabled;
  return (
    <>
      <form class="stack settings-form" onSubmit={f.save} noValidate>
        <p class="muted">{t('settings.mail.intro')}</p>
        <SettingsErrors f={f} shown={SHOWN} />
        <div class="grid-2">
          <Field label={t('settings.mail.senderName')} error={errors['meta.senderName']} required>
            <input class="input" type="text" value={form.meta.senderName} onInput={(e) => set('meta.senderName', e.currentTarget.value)} />
          </Field>
          <Field label={t('settings.mail.senderAddress')} error={errors['meta.senderAddress']} required>
            <input class="input" type="email" value={form.meta.senderAddress} onInput={(e) => set('meta.senderAddress', e.currentTarget.value)} />
          </Field>
        </div>
        <fieldset class="stack">
          <legend>{t('settings.mail.smtp')}</legend>
          <Toggle label={t('settings.mail.smtpEnabled')} hint={t('settings.mail.smtpEnabledHint')} checked={on} error={errors['smtp.enabled']} onChange={(v) => set('smtp.enabled', v)} />
          {on && (
            <>
              <div class="grid-2">
                <Field label={t('settings.mail.host')} error={errors['smtp.host']} required>
                  <input class="input" type="text" value={form.smtp.host} onInput={(e) => set('smtp.host', e.currentTarget.value)} />
                </Field>
                <Field label={t('settings.mail.port')} error={errors['smtp.port']} required>
                  <NumInput min="1" max="65535" step="1" value={form.smtp.port} onChange={(v) => set('smtp.port', v)} />
                </Field>
                <Field label={t('settings.mail.username')} error={errors['smtp.username']}>
                  <input class="input" type="text" autocomplete="off" value={form.smtp.username} onInput={(e) => set('smtp.username', e.currentTarget.value)} />
                </Field>
                <Field label={t('settings.mail.password')} hint={t('settings.secret.hint')} error={errors['smtp.password']}>
                  <SecretInput value={form.smtp.password} onChange={(v) => set('smtp.password', v)} />
                </Field>
              </div>
              <div class="grid-3">
                <Field label={t('settings.mail.tls')} error={errors['smtp.tls']}>
                  <select class="input" value={form.smtp.tls ? 'always' : 'auto'} onChange={(e) => set('smtp.tls', e.currentTarget.value === 'always')}>
                    <option value="auto">{t('settings.mail.tlsAuto')}</option>
                    <option value="always">{t('settings.mail.tlsAlways')}</option>
                  </select>
                </Field>
                <Field label={t('settings.mail.authMethod')} error={errors['smtp.authMethod']}>
                  <select class="input" value={form.smtp.authMethod} onChange={(e) => set('smtp.authMethod', e.currentTarget.value)}>
                    <option value="PLAIN">{t('settings.mail.authPlain')}</option>
                    <option value="LOGIN">LOGIN</option>
                  </select>
                </Field>
                <Field label={t('settings.mail.localName')} hint={t('settings.mail.localNameHint')} error={errors['smtp.localName']}>
                  <input class="input" type="text" placeholder="localhost" value={form.smtp.localName} onInput={(e) => set('smtp.localName', e.currentTarget.value)} />
                </Field>
              </div>
            </>
          )}
        </fieldset>
        <SaveBar
          f={f}
          extra={
            <button type="button" class="btn" onClick={() => setTesting(true)}>
              <Icon name="play" /> {t('settings.mail.test')}
            </button>
          }
        />
      </form>
      <TestEmailModal open={testing} onClose={() => setTesting(false)} unsaved={f.dirty} />
    </>
  );
}

function TestEmailModal({ open, onClose, unsaved }) {
  const cols = useCollections();
  const auths = (cols.list ?? []).filter((c) => c.type === 'auth');
  const [email, setEmail] = useState(pb.authStore.record?.email ?? '');
  const [template, setTemplate] = useState(TEMPLATES[0]);
  const [collection, setCollection] = useState(SUPERUSERS);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null); // { ok, message }
  const [errors, setErrors] = useState({});
  const close = () => {
    setResult(null);
    setErrors({});
    onClose();
  };
  const send = async (e) => {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    setErrors({});
    try {
      await pb.settings.testEmail(collection, email.trim(), template);
      setResult({ ok: true, message: t('settings.mail.testSent', { email: email.trim() }) });
    } catch (err) {
      const fe = fieldErrors(err);
      setErrors(fe);
      const rest = Object.entries(fe).filter(([k]) => !['email', 'template', 'collection'].includes(k)).map(([k, v]) => `${k}: ${v}`);
      setResult({ ok: false, message: [errorMessage(err), ...rest].join(' ') });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('settings.mail.testTitle')}
      onClose={close}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={close} disabled={busy}>
            {t('core.close')}
          </button>
          <button type="submit" form="kd-test-email" class="btn btn-primary" disabled={busy || !email.trim()}>
            {busy ? t('settings.mail.testSending') : t('settings.mail.testSend')}
          </button>
        </>
      }
    >
      <form id="kd-test-email" class="stack" onSubmit={send} noValidate>
        {unsaved && <p class="alert alert-warn">{t('settings.mail.testUnsaved')}</p>}
        <fieldset class="stack settings-tight">
          <legend>{t('settings.mail.testTemplate')}</legend>
          {TEMPLATES.map((tpl) => (
            <label key={tpl} class="settings-radio">
              <input type="radio" name="template" value={tpl} checked={template === tpl} onChange={() => setTemplate(tpl)} />
              {t(`settings.mail.template.${tpl}`)}
            </label>
          ))}
          {errors.template && (
            <p class="error" role="alert">
              {errors.template}
            </p>
          )}
        </fieldset>
        <Field label={t('settings.mail.testCollection')} error={errors.collection}>
          <select class="input" value={collection} onChange={(e) => setCollection(e.currentTarget.value)}>
            {(auths.length ? auths : [{ id: SUPERUSERS, name: SUPERUSERS }]).map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('settings.mail.testEmail')} error={errors.email} required>
          <input class="input" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} autofocus />
        </Field>
        <ResultNote result={result} />
      </form>
    </Modal>
  );
}
