// The email templates of an auth collection (subject and HTML body, with their placeholders) and
// the "send a test email" dialog.
import { useId, useRef, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../../../api.js';
import { t } from '../../../i18n/index.js';
import { Field, FormErrors } from '../../../ui/field.jsx';
import { Icon } from '../../../ui/icon.jsx';
import { Modal } from '../../../ui/modal.jsx';
import { getPath, hasErrors, setPath } from './util.js';

/** The templates, with the key the test email endpoint knows them by and their placeholders. */
export const TEMPLATES = [
  { path: 'verificationTemplate', key: 'verification', placeholders: ['{APP_NAME}', '{APP_URL}', '{TOKEN}'] },
  { path: 'resetPasswordTemplate', key: 'password-reset', placeholders: ['{APP_NAME}', '{APP_URL}', '{TOKEN}'] },
  { path: 'confirmEmailChangeTemplate', key: 'email-change', placeholders: ['{APP_NAME}', '{APP_URL}', '{TOKEN}'] },
  { path: 'otp.emailTemplate', key: 'otp', placeholders: ['{APP_NAME}', '{APP_URL}', '{OTP}', '{OTP_ID}'] },
  { path: 'authAlert.emailTemplate', key: 'login-alert', placeholders: ['{APP_NAME}', '{APP_URL}', '{ALERT_INFO}'] },
];

export const templateTitle = (key) => t(`auth.tpl.${key}`);

/** One template, collapsible (open by default when it has an error). */
export function TemplateEditor({ draft, onChange, errors, tpl, defaultOpen = false, title }) {
  const base = useId();
  const [openState, setOpen] = useState(defaultOpen);
  const invalid = hasErrors(errors, [tpl.path]);
  const open = openState || invalid;
  const value = getPath(draft, tpl.path) ?? { subject: '', body: '' };
  const body = useRef(null);
  const set = (key, v) => onChange(setPath(draft, `${tpl.path}.${key}`, v));

  const insert = (text) => {
    const el = body.current;
    const current = value.body ?? '';
    const start = el ? el.selectionStart : current.length;
    const end = el ? el.selectionEnd : current.length;
    set('body', current.slice(0, start) + text + current.slice(end));
    requestAnimationFrame(() => {
      if (!body.current) return;
      body.current.focus();
      body.current.setSelectionRange(start + text.length, start + text.length);
    });
  };
  const recordFields = (draft.fields ?? []).filter((f) => f.type !== 'password' && f.name !== 'tokenKey').map((f) => f.name);

  return (
    <section class={`ao-collapsible ${invalid ? 'ao-invalid' : ''}`} aria-labelledby={`${base}-h`}>
      <h4 class="ao-collapsible-head" id={`${base}-h`}>
        <button type="button" class="ao-toggle" aria-expanded={open ? 'true' : 'false'} aria-controls={`${base}-body`} onClick={() => setOpen(!open)}>
          <Icon name={open ? 'down' : 'chevron'} />
          <span>{title ?? templateTitle(tpl.key)}</span>
          {invalid && <span class="badge badge-danger">{t('auth.hasErrors')}</span>}
        </button>
      </h4>
      {open && (
        <div class="ao-collapsible-body stack" id={`${base}-body`}>
          <Field label={t('auth.tpl.subject')} error={errors[`${tpl.path}.subject`]}>
            <input class="input" value={value.subject ?? ''} onInput={(e) => set('subject', e.currentTarget.value)} />
          </Field>
          <Field label={t('auth.tpl.body')} error={errors[`${tpl.path}.body`]} hint={t('auth.tpl.bodyHint')}>
            <textarea ref={body} class="input mono ao-body" rows={10} spellcheck={false} value={value.body ?? ''} onInput={(e) => set('body', e.currentTarget.value)} />
          </Field>
          <div class="ao-placeholders" role="group" aria-label={t('auth.tpl.placeholders')}>
            <span class="small muted">{t('auth.tpl.placeholders')}:</span>
            {tpl.placeholders.map((p) => (
              <button key={p} type="button" class="btn btn-sm mono" onClick={() => insert(p)} title={t('auth.tpl.insert', { text: p })} aria-label={t('auth.tpl.insert', { text: p })}>
                {p}
              </button>
            ))}
            <select
              class="input input-sm ao-record-select"
              aria-label={t('auth.tpl.insertRecord')}
              value=""
              onChange={(e) => {
                const name = e.currentTarget.value;
                e.currentTarget.value = '';
                if (name) insert(`{RECORD:${name}}`);
              }}
            >
              <option value="">{'{RECORD:…}'}</option>
              {recordFields.map((n) => (
                <option key={n} value={n}>{`{RECORD:${n}}`}</option>
              ))}
            </select>
          </div>
          <p class="hint">{t(`auth.tpl.help.${tpl.key}`)}</p>
        </div>
      )}
    </section>
  );
}

/** Sends one of the collection's (saved) templates to an address: `POST /api/settings/test/email`. */
export function TestEmailDialog({ open, onClose, collection, initialTemplate = 'verification', templates = TEMPLATES }) {
  const [email, setEmail] = useState('');
  const [template, setTemplate] = useState(initialTemplate);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null); // { ok, message, errors }

  const send = async (e) => {
    e.preventDefault();
    // the dialog may sit inside another form (the collection or record editor): keep the submit here
    e.stopPropagation();
    setBusy(true);
    setResult(null);
    try {
      await pb.settings.testEmail(collection, email.trim(), template);
      setResult({ ok: true, message: t('auth.test.sent', { email: email.trim() }), errors: {} });
    } catch (err) {
      const errs = fieldErrors(err);
      setResult({ ok: false, message: errorMessage(err), errors: errs });
    } finally {
      setBusy(false);
    }
  };
  const errs = result?.errors ?? {};
  const close = () => {
    setResult(null);
    onClose();
  };

  return (
    <Modal
      open={open}
      title={t('auth.test.title')}
      onClose={close}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={close} disabled={busy}>
            {t('auth.close')}
          </button>
          <button type="submit" form="ao-test-email" class="btn btn-primary" disabled={busy || !email.trim()}>
            {busy ? <span class="spinner" aria-hidden="true" /> : <Icon name="play" />}
            {t('auth.test.send')}
          </button>
        </>
      }
    >
      <form id="ao-test-email" class="stack" onSubmit={send} noValidate>
        <p class="muted">{t('auth.test.intro')}</p>
        {result?.ok && (
          <p class="alert alert-success" role="status">
            {result.message}
          </p>
        )}
        {result && !result.ok && <FormErrors messages={[result.message]} />}
        <Field label={t('auth.test.to')} error={errs.email} required>
          <input class="input" type="email" autocomplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} autofocus />
        </Field>
        <Field label={t('auth.test.template')} error={errs.template}>
          <select class="input" value={template} onChange={(e) => setTemplate(e.currentTarget.value)}>
            {templates.map((tpl) => (
              <option key={tpl.key} value={tpl.key}>
                {templateTitle(tpl.key)}
              </option>
            ))}
          </select>
        </Field>
        {errs.collection && <FormErrors messages={[errs.collection]} />}
      </form>
    </Modal>
  );
}
