// Superuser sign-in: password first; when the superusers collection asks for MFA with a one-time
// password, the API answers 401 with an mfaId, an OTP is mailed and a second form takes it.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb, SUPERUSERS } from '../api.js';
import { navigate } from '../router.js';
import { t } from '../i18n/index.js';
import { Field, FormErrors } from '../ui/field.jsx';
import { AuthCard } from './auth-card.jsx';

export function LoginPage({ onSignedIn }) {
  const [methods, setMethods] = useState(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mfa, setMfa] = useState(null); // { mfaId, otpId }
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [errors, setErrors] = useState({});

  useEffect(() => {
    pb.collection(SUPERUSERS)
      .listAuthMethods()
      .then(setMethods, () => setMethods({ password: { enabled: true }, otp: { enabled: false } }));
  }, []);

  const fail = (err) => {
    setErrors(fieldErrors(err));
    setError(err?.status === 400 && !Object.keys(fieldErrors(err)).length ? t('login.failed') : errorMessage(err));
  };

  const sendOtp = async (mfaId) => {
    const { otpId } = await pb.collection(SUPERUSERS).requestOTP(email);
    setMfa({ mfaId, otpId });
    setCode('');
  };

  const submitPassword = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setErrors({});
    try {
      await pb.collection(SUPERUSERS).authWithPassword(email, password);
      onSignedIn();
    } catch (err) {
      const mfaId = err?.response?.mfaId;
      if (mfaId) {
        try {
          await sendOtp(mfaId);
        } catch (e2) {
          fail(e2);
        }
      } else fail(err);
    } finally {
      setBusy(false);
    }
  };

  const submitOtp = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await pb.collection(SUPERUSERS).authWithOTP(mfa.otpId, code.trim(), { mfaId: mfa.mfaId });
      onSignedIn();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  if (mfa) {
    return (
      <AuthCard title={t('login.otpTitle')}>
        <form onSubmit={submitOtp} class="stack">
          <p>{t('login.otpSent', { email })}</p>
          <FormErrors messages={error ? [error] : []} />
          <Field label={t('login.otpCode')} error={errors.password}>
            <input class="input" name="otp" value={code} onInput={(e) => setCode(e.currentTarget.value)} autocomplete="one-time-code" inputMode="numeric" required autofocus />
          </Field>
          <button class="btn btn-primary btn-block" disabled={busy}>
            {t('login.otpSubmit')}
          </button>
          <div class="row between">
            <button type="button" class="btn btn-link" onClick={() => setMfa(null)}>
              {t('login.back')}
            </button>
            <button type="button" class="btn btn-link" disabled={busy} onClick={() => sendOtp(mfa.mfaId).catch(fail)}>
              {t('login.otpResend')}
            </button>
          </div>
        </form>
      </AuthCard>
    );
  }

  const passwordEnabled = methods?.password?.enabled !== false;
  return (
    <AuthCard title={t('login.title')}>
      {passwordEnabled ? (
        <form onSubmit={submitPassword} class="stack">
          <FormErrors messages={error ? [error] : []} />
          <Field label={t('login.email')} error={errors.identity}>
            <input class="input" type="email" name="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="username" required autofocus />
          </Field>
          <Field label={t('login.password')} error={errors.password}>
            <input class="input" type="password" name="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} autocomplete="current-password" required />
          </Field>
          <button class="btn btn-primary btn-block" disabled={busy}>
            {busy ? t('login.submitting') : t('login.submit')}
          </button>
          <a class="center small" href="#/request-password-reset">
            {t('login.forgot')}
          </a>
        </form>
      ) : (
        <p>{methods ? t('login.noPassword') : t('core.loading')}</p>
      )}
    </AuthCard>
  );
}

/** `#/request-password-reset`: mails a reset link (PocketBase's superuser reset page). */
export function RequestResetPage() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await pb.collection(SUPERUSERS).requestPasswordReset(email);
      setSent(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title={t('reset.title')}>
      {sent ? (
        <p role="status">{t('reset.sent', { email })}</p>
      ) : (
        <form onSubmit={submit} class="stack">
          <p>{t('reset.intro')}</p>
          <FormErrors messages={error ? [error] : []} />
          <Field label={t('login.email')}>
            <input class="input" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required autofocus autocomplete="username" />
          </Field>
          <button class="btn btn-primary btn-block" disabled={busy}>
            {t('reset.submit')}
          </button>
        </form>
      )}
      <a class="center small" href="#/login">
        {t('login.back')}
      </a>
    </AuthCard>
  );
}

/** `#/confirm-password-reset/TOKEN`: the link of the reset mail. */
export function ConfirmResetPage({ token }) {
  const [password, setPassword] = useState('');
  const [confirmPw, setConfirmPw] = useState('');
  const [errors, setErrors] = useState({});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError('');
    try {
      await pb.collection(SUPERUSERS).confirmPasswordReset(token, password, confirmPw);
      navigate('/login', { reset: 'done' });
    } catch (err) {
      const fe = fieldErrors(err);
      setErrors(fe);
      setError(fe.password || fe.passwordConfirm ? '' : fe.token ?? errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title={t('reset.confirmTitle')}>
      <form onSubmit={submit} class="stack">
        <FormErrors messages={error ? [error] : []} />
        <Field label={t('reset.newPassword')} error={errors.password}>
          <input class="input" type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} autocomplete="new-password" required autofocus />
        </Field>
        <Field label={t('reset.confirmPassword')} error={errors.passwordConfirm}>
          <input class="input" type="password" value={confirmPw} onInput={(e) => setConfirmPw(e.currentTarget.value)} autocomplete="new-password" required />
        </Field>
        <button class="btn btn-primary btn-block" disabled={busy}>
          {t('reset.confirmSubmit')}
        </button>
      </form>
    </AuthCard>
  );
}
