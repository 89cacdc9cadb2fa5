// The "Options" tab of an auth collection's editor: sign-in methods (password, OAuth2, OTP, MFA,
// passkeys), token lifetimes and invalidation, and the email templates. Edits go back through
// `onChange(nextDraft)` as new objects; `errors` (the API's, as dotted paths) show next to their
// inputs, and the sub-tab holding an error is marked and brought forward.
import { useEffect, useRef, useState } from 'preact/hooks';
import { SUPERUSERS } from '../../../api.js';
import { t } from '../../../i18n/index.js';
import { Field } from '../../../ui/field.jsx';
import { Icon } from '../../../ui/icon.jsx';
import { Tabs } from '../../../ui/tabs.jsx';
import { RuleEditor } from '../../../ui/rule-editor/index.jsx';
import { OAuth2Section } from './oauth2.jsx';
import { PasskeysSection } from './passkeys.jsx';
import { TEMPLATES, TemplateEditor, TestEmailDialog } from './templates.jsx';
import { hasErrors, humanDuration, identityCandidates, randomSecret, setPath, setPaths } from './util.js';
import './auth-options.css';

const TOKENS = ['authToken', 'verificationToken', 'passwordResetToken', 'emailChangeToken', 'fileToken'];
const SUPERUSER_TOKENS = ['authToken', 'passwordResetToken', 'fileToken'];

/** Which error paths belong to which section. */
const SECTION_ERRORS = {
  password: ['passwordAuth'],
  oauth2: ['oauth2'],
  otp: ['otp'],
  mfa: ['mfa'],
  passkeys: [],
  tokens: TOKENS,
  emails: ['verificationTemplate', 'resetPasswordTemplate', 'confirmEmailChangeTemplate', 'authAlert'],
};

export function AuthOptions({ draft, onChange, errors = {} }) {
  const superusers = draft?.name === SUPERUSERS;
  const sections = ['password', ...(superusers ? [] : ['oauth2']), 'otp', 'mfa', 'passkeys', 'tokens', 'emails'];
  const [active, setActive] = useState('password');
  const errs = errors ?? {};

  // bring forward the first section with an error when new errors arrive
  const signature = Object.keys(errs).sort().join('|');
  const lastSignature = useRef(signature);
  useEffect(() => {
    if (lastSignature.current === signature) return;
    lastSignature.current = signature;
    if (hasErrors(errs, SECTION_ERRORS[active] ?? [])) return;
    const first = sections.find((s) => hasErrors(errs, SECTION_ERRORS[s]));
    if (first) setActive(first);
  }, [signature]);

  if (!draft) return null;
  const tabs = sections.map((id) => ({ id, label: t(`auth.section.${id}`), error: hasErrors(errs, SECTION_ERRORS[id]) }));
  const props = { draft, onChange, errors: errs, superusers };
  return (
    <div class="auth-options">
      <Tabs tabs={tabs} active={sections.includes(active) ? active : 'password'} onChange={setActive} label={t('auth.sections')}>
        {active === 'password' && <PasswordSection {...props} />}
        {active === 'oauth2' && !superusers && <OAuth2Section {...props} />}
        {active === 'otp' && <OtpSection {...props} />}
        {active === 'mfa' && <MfaSection {...props} />}
        {active === 'passkeys' && <PasskeysSection draft={draft} />}
        {active === 'tokens' && <TokensSection {...props} />}
        {active === 'emails' && <EmailsSection {...props} />}
        {(active === 'oauth2' && superusers) && <p class="alert alert-info">{t('auth.oauth2.superusers')}</p>}
      </Tabs>
    </div>
  );
}

function Toggle({ label, checked, onChange, error, hint, disabled }) {
  return (
    <Field label={label} inline error={error} hint={hint}>
      <input type="checkbox" checked={!!checked} disabled={disabled} onChange={(e) => onChange(e.currentTarget.checked)} />
    </Field>
  );
}

function Seconds({ label, value, onChange, error, min = 0, hint }) {
  const n = Number(value) || 0;
  return (
    <Field label={label} error={error} hint={[humanDuration(n), hint].filter(Boolean).join(' · ')}>
      <input
        class="input"
        type="number"
        inputMode="numeric"
        min={min}
        step={1}
        value={value ?? ''}
        onInput={(e) => {
          const v = e.currentTarget.valueAsNumber;
          onChange(Number.isFinite(v) ? Math.trunc(v) : 0);
        }}
      />
    </Field>
  );
}

function PasswordSection({ draft, onChange, errors, superusers }) {
  const pa = draft.passwordAuth ?? {};
  const chosen = pa.identityFields ?? [];
  const candidates = identityCandidates(draft);
  const all = [...candidates, ...chosen.filter((n) => !candidates.includes(n))];
  const err = errors['passwordAuth.identityFields'] ?? Object.entries(errors).find(([k]) => k.startsWith('passwordAuth.identityFields.'))?.[1];
  const toggle = (name, on) => {
    const next = on ? [...chosen, name] : chosen.filter((n) => n !== name);
    onChange(setPath(draft, 'passwordAuth.identityFields', all.filter((n) => next.includes(n))));
  };
  return (
    <div class="stack">
      <Toggle
        label={t('auth.password.enable')}
        checked={superusers ? true : pa.enabled}
        disabled={superusers}
        hint={superusers ? t('auth.password.superusers') : undefined}
        error={errors['passwordAuth.enabled']}
        onChange={(v) => onChange(setPath(draft, 'passwordAuth.enabled', v))}
      />
      <fieldset aria-describedby="ao-identity-hint" class={`stack ${err ? 'has-error' : ''}`}>
        <legend>{t('auth.password.identityFields')}</legend>
        <p class="hint" id="ao-identity-hint">
          {t('auth.password.identityHint')}
        </p>
        <div class="row ao-checks">
          {all.map((name) => (
            <label key={name} class="ao-check">
              <input type="checkbox" checked={chosen.includes(name)} onChange={(e) => toggle(name, e.currentTarget.checked)} />
              <span class="mono">{name}</span>
              {!candidates.includes(name) && <span class="badge badge-warn">{t('auth.password.notUnique')}</span>}
            </label>
          ))}
          {all.length === 0 && <span class="muted">{t('auth.password.noCandidates')}</span>}
        </div>
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
      </fieldset>
    </div>
  );
}

function OtpSection({ draft, onChange, errors, superusers }) {
  const otp = draft.otp ?? {};
  const tpl = TEMPLATES.find((x) => x.key === 'otp');
  return (
    <div class="stack">
      <Toggle
        label={t('auth.otp.enable')}
        checked={otp.enabled}
        error={errors['otp.enabled']}
        hint={superusers ? t('auth.otp.superusers') : t('auth.otp.enableHint')}
        onChange={(v) => onChange(setPaths(draft, superusers && v ? [['otp.enabled', v], ['mfa.enabled', true]] : [['otp.enabled', v]]))}
      />
      <div class="grid-2">
        <Seconds label={t('auth.otp.duration')} value={otp.duration} error={errors['otp.duration']} min={10} onChange={(v) => onChange(setPath(draft, 'otp.duration', v))} />
        <Field label={t('auth.otp.length')} error={errors['otp.length']} hint={t('auth.otp.lengthHint')}>
          <input
            class="input"
            type="number"
            min={4}
            step={1}
            value={otp.length ?? ''}
            onInput={(e) => {
              const v = e.currentTarget.valueAsNumber;
              onChange(setPath(draft, 'otp.length', Number.isFinite(v) ? Math.trunc(v) : 0));
            }}
          />
        </Field>
      </div>
      <TemplateEditor draft={draft} onChange={onChange} errors={errors} tpl={tpl} title={t('auth.otp.template')} />
    </div>
  );
}

function MfaSection({ draft, onChange, errors, superusers }) {
  const mfa = draft.mfa ?? {};
  return (
    <div class="stack">
      <p class="muted">{t('auth.mfa.intro')}</p>
      <Toggle
        label={t('auth.mfa.enable')}
        checked={mfa.enabled}
        error={errors['mfa.enabled']}
        hint={superusers && draft.otp?.enabled ? t('auth.otp.superusers') : t('auth.mfa.enableHint')}
        onChange={(v) => onChange(setPath(draft, 'mfa.enabled', v))}
      />
      <Seconds label={t('auth.mfa.duration')} value={mfa.duration} error={errors['mfa.duration']} min={10} hint={t('auth.mfa.durationHint')} onChange={(v) => onChange(setPath(draft, 'mfa.duration', v))} />
      <RuleEditor
        label={t('auth.mfa.rule')}
        value={mfa.rule ?? ''}
        onChange={(v) => onChange(setPath(draft, 'mfa.rule', v ?? ''))}
        collection={draft}
        error={errors['mfa.rule']}
        hint={t('auth.mfa.ruleHint')}
        allowNull={false}
      />
    </div>
  );
}

function TokensSection({ draft, onChange, errors, superusers }) {
  const kinds = superusers ? SUPERUSER_TOKENS : TOKENS;
  return (
    <div class="stack">
      <p class="muted">{t('auth.tokens.intro')}</p>
      {kinds.map((kind) => {
        const cfg = draft[kind] ?? {};
        const invalidating = !!cfg.secret;
        return (
          <fieldset key={kind} class="ao-token">
            <legend>{t(`auth.tokens.${kind}`)}</legend>
            <div class="row ao-token-row">
              <div class="grow">
                <Seconds label={t('auth.tokens.duration')} value={cfg.duration} error={errors[`${kind}.duration`]} min={10} onChange={(v) => onChange(setPath(draft, `${kind}.duration`, v))} />
              </div>
              <div class="ao-token-actions">
                <button
                  type="button"
                  class={`btn btn-sm ${invalidating ? '' : 'btn-ghost ao-danger-text'}`}
                  aria-pressed={invalidating ? 'true' : 'false'}
                  onClick={() => onChange(setPath(draft, `${kind}.secret`, invalidating ? undefined : randomSecret(50)))}
                >
                  <Icon name={invalidating ? 'refresh' : 'lock'} />
                  {invalidating ? t('auth.tokens.undoInvalidate') : t('auth.tokens.invalidate')}
                </button>
              </div>
            </div>
            {invalidating && (
              <p class="alert alert-warn small" role="status">
                {t('auth.tokens.willInvalidate')}
              </p>
            )}
            {errors[`${kind}.secret`] && (
              <p class="error" role="alert">
                {errors[`${kind}.secret`]}
              </p>
            )}
          </fieldset>
        );
      })}
    </div>
  );
}

function EmailsSection({ draft, onChange, errors }) {
  const [testing, setTesting] = useState(false);
  const saved = !!draft.id;
  return (
    <div class="stack">
      <div class="row between">
        <p class="muted grow">{t('auth.emails.intro')}</p>
        <button type="button" class="btn btn-sm" onClick={() => setTesting(true)} disabled={!saved} title={saved ? undefined : t('auth.emails.saveFirst')}>
          <Icon name="play" />
          {t('auth.test.open')}
        </button>
      </div>
      <Toggle
        label={t('auth.emails.alert')}
        checked={draft.authAlert?.enabled}
        error={errors['authAlert.enabled']}
        hint={t('auth.emails.alertHint')}
        onChange={(v) => onChange(setPath(draft, 'authAlert.enabled', v))}
      />
      {TEMPLATES.map((tpl) => (
        <TemplateEditor key={tpl.path} draft={draft} onChange={onChange} errors={errors} tpl={tpl} />
      ))}
      {saved && <TestEmailDialog open={testing} onClose={() => setTesting(false)} collection={draft.id} />}
    </div>
  );
}
