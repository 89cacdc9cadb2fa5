// File storage: the local disk or an S3-compatible bucket, with a connection test. The same S3
// fields serve the backups' storage (`prefix` 'backups.s3', test filesystem 'backups').
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { Field } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { Loading, ResultNote, SaveBar, SecretInput, SettingsErrors, Toggle, useSettingsForm } from './form.jsx';

export const pickS3 = (s3 = {}) => ({
  enabled: !!s3.enabled,
  bucket: s3.bucket ?? '',
  region: s3.region ?? '',
  endpoint: s3.endpoint ?? '',
  accessKey: s3.accessKey ?? '',
  forcePathStyle: !!s3.forcePathStyle,
});

/** The S3 fields of `f.form` at `prefix` ('s3' or 'backups.s3'). */
export function S3Fields({ f, prefix, toggleLabel }) {
  const s3 = f.get(prefix);
  const e = (k) => f.errors[`${prefix}.${k}`];
  const set = (k, v) => f.set(`${prefix}.${k}`, v);
  return (
    <div class="stack">
      <Toggle label={toggleLabel} checked={s3.enabled} error={e('enabled')} onChange={(v) => set('enabled', v)} />
      {s3.enabled && (
        <>
          <div class="grid-2">
            <Field label={t('settings.s3.endpoint')} hint={t('settings.s3.endpointHint')} error={e('endpoint')} required>
              <input class="input" type="text" inputMode="url" value={s3.endpoint} onInput={(ev) => set('endpoint', ev.currentTarget.value)} />
            </Field>
            <Field label={t('settings.s3.bucket')} error={e('bucket')} required>
              <input class="input" type="text" value={s3.bucket} onInput={(ev) => set('bucket', ev.currentTarget.value)} />
            </Field>
            <Field label={t('settings.s3.region')} error={e('region')} required>
              <input class="input" type="text" value={s3.region} onInput={(ev) => set('region', ev.currentTarget.value)} />
            </Field>
            <Field label={t('settings.s3.accessKey')} error={e('accessKey')} required>
              <input class="input" type="text" autocomplete="off" value={s3.accessKey} onInput={(ev) => set('accessKey', ev.currentTarget.value)} />
            </Field>
            <Field label={t('settings.s3.secret')} hint={t('settings.secret.hint')} error={e('secret')}>
              <SecretInput value={s3.secret} onChange={(v) => set('secret', v)} />
            </Field>
          </div>
          <Toggle label={t('settings.s3.forcePathStyle')} hint={t('settings.s3.forcePathStyleHint')} checked={s3.forcePathStyle} error={e('forcePathStyle')} onChange={(v) => set('forcePathStyle', v)} />
        </>
      )}
    </div>
  );
}

/**
 * "Test connection" of the saved S3 settings of `filesystem` ('storage' or 'backups'). `saved` (the
 * form's saved settings, a new object on every save) clears an outcome once it is out of date.
 */
export function S3Test({ filesystem, enabled, dirty, saved }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  useEffect(() => setResult(null), [saved]);
  if (!enabled) return null;
  const run = async () => {
    setBusy(true);
    setResult(null);
    try {
      await pb.settings.testS3(filesystem);
      setResult({ ok: true, message: t('settings.s3.testOk') });
    } catch (err) {
      setResult({ ok: false, message: t('settings.s3.testFailed', { message: errorMessage(err) }) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack settings-tight">
      <div class="row">
        <button type="button" class="btn" onClick={run} disabled={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : <Icon name="check" />} {busy ? t('settings.s3.testing') : t('settings.s3.test')}
        </button>
        {dirty && <span class="muted small">{t('settings.s3.testSavedOnly')}</span>}
      </div>
      <ResultNote result={result} />
    </div>
  );
}

export function StorageSettings() {
  const f = useSettingsForm((s) => ({ s3: pickS3(s.s3) }));
  if (!f.form) return <Loading f={f} />;
  return (
    <form class="stack settings-form" onSubmit={f.save} noValidate>
      <p class="muted">{t('settings.storage.intro')}</p>
      <SettingsErrors f={f} shown={['s3']} />
      <S3Fields f={f} prefix="s3" toggleLabel={t('settings.storage.useS3')} />
      {f.orig.s3.enabled !== f.form.s3.enabled && <p class="alert alert-warn">{t('settings.storage.switchWarn')}</p>}
      <SaveBar f={f} extra={<S3Test saved={f.orig} filesystem="storage" enabled={f.orig.s3.enabled} dirty={f.dirty} />} />
    </form>
  );
}
