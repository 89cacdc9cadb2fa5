// `#/pbinstall/TOKEN`: the link `kiln serve` prints while there is no superuser. The token is a
// short-lived, non-refreshable token of the installer superuser; with it the page creates the
// first real superuser (which removes the installer account) and signs in as it.
import { useEffect, useState } from 'preact/hooks';
import { getTokenPayload, isTokenExpired } from 'pocketbase';
import { errorMessage, fieldErrors, pb, SUPERUSERS } from '../api.js';
import { t } from '../i18n/index.js';
import { Field, FormErrors } from '../ui/field.jsx';
import { AuthCard } from './auth-card.jsx';

export function InstallPage({ token, onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirmPw, setConfirmPw] = useState('');
  const [errors, setErrors] = useState({});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [expired, setExpired] = useState(() => !token || isTokenExpired(token) || getTokenPayload(token).type !== 'auth');

  // A used link's token still looks valid: ask the API whether its account still exists.
  useEffect(() => {
    if (expired) return;
    const { id } = getTokenPayload(token);
    pb.collection(SUPERUSERS)
      .getOne(id, { headers: { Authorization: token }, fields: 'id' })
      .catch((err) => err?.status && err.status < 500 && setExpired(true));
  }, [token]);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError('');
    try {
      await pb
        .collection(SUPERUSERS)
        .create({ email, password, passwordConfirm: confirmPw }, { headers: { Authorization: token } });
      await pb.collection(SUPERUSERS).authWithPassword(email, password);
      onSignedIn();
    } catch (err) {
      if (err?.status === 401 || err?.status === 403) setExpired(true);
      const fe = fieldErrors(err);
      setErrors(fe);
      if (!Object.keys(fe).length) setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (expired) {
    return (
      <AuthCard title={t('install.title')}>
        <p class="alert alert-error" role="alert">
          {t('install.expired')}
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title={t('install.title')}>
      <form onSubmit={submit} class="stack">
        <p>{t('install.intro')}</p>
        <FormErrors messages={error ? [error] : []} />
        <Field label={t('install.email')} error={errors.email}>
          <input class="input" type="email" name="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="username" required autofocus />
        </Field>
        <Field label={t('install.password')} error={errors.password} hint={t('install.hint')}>
          <input class="input" type="password" name="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} autocomplete="new-password" minLength={8} required />
        </Field>
        <Field label={t('install.passwordConfirm')} error={errors.passwordConfirm}>
          <input class="input" type="password" name="passwordConfirm" value={confirmPw} onInput={(e) => setConfirmPw(e.currentTarget.value)} autocomplete="new-password" required />
        </Field>
        <button class="btn btn-primary btn-block" disabled={busy}>
          {t('install.submit')}
        </button>
      </form>
    </AuthCard>
  );
}
