// Backups: the list (create, upload, download, restore, delete) and the backup options
// (automatic backups on a schedule, how many to keep, S3 storage).
import { useRef, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../../api.js';
import { formatBytes, formatDate, t } from '../../i18n/index.js';
import { confirm } from '../../ui/confirm.jsx';
import { Field, FormErrors } from '../../ui/field.jsx';
import { useRequest } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { Loading, NumInput, SaveBar, SettingsErrors, Toggle, useSettingsForm } from './form.jsx';
import { pickS3, S3Fields, S3Test } from './storage.jsx';

const PRESETS = [
  ['0 0 * * *', 'settings.backups.presetDaily'],
  ['0 0 * * 0', 'settings.backups.presetSunday'],
  ['0 0 * * 1,3', 'settings.backups.presetMonWed'],
  ['0 0 1 * *', 'settings.backups.presetMonthly'],
];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function BackupsSettings() {
  // saved options may move the backups (local disk or S3): the list then loads again
  const [saves, setSaves] = useState(0);
  return (
    <div class="stack settings-form">
      <BackupsList saves={saves} />
      <hr />
      <BackupOptions onSaved={() => setSaves((n) => n + 1)} />
    </div>
  );
}

function BackupsList({ saves }) {
  const list = useRequest(() => pb.backups.getFullList().then((l) => [...l].sort((a, b) => String(b.modified).localeCompare(String(a.modified)))), [saves]);
  const [creating, setCreating] = useState(false);
  const [restoring, setRestoring] = useState(null);
  const [busyKey, setBusyKey] = useState('');
  const [uploading, setUploading] = useState(false);
  const fileRef = useRef(null);

  const download = async (key) => {
    setBusyKey(key);
    try {
      const token = await pb.files.getToken();
      const a = document.createElement('a');
      a.href = pb.backups.getDownloadURL(token, key);
      a.download = key;
      a.rel = 'noopener';
      document.body.appendChild(a);
      a.click();
      a.remove();
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusyKey('');
    }
  };

  const remove = async (key) => {
    const ok = await confirm({ title: t('settings.backups.deleteTitle'), message: t('settings.backups.deleteConfirm', { name: key }), confirm: t('core.delete'), danger: true });
    if (!ok) return;
    setBusyKey(key);
    try {
      await pb.backups.delete(key);
      toast(t('settings.backups.deleted', { name: key }));
      list.reload();
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusyKey('');
    }
  };

  const upload = async (e) => {
    const file = e.currentTarget.files?.[0];
    e.currentTarget.value = '';
    if (!file) return;
    setUploading(true);
    try {
      await pb.backups.upload({ file });
      toast(t('settings.backups.uploaded', { name: file.name }));
      list.reload();
    } catch (err) {
      const fe = fieldErrors(err);
      toast(fe.file ? `${file.name}: ${fe.file}` : errorMessage(err), 'error');
    } finally {
      setUploading(false);
    }
  };

  const items = list.data ?? [];
  return (
    <section class="stack" aria-labelledby="kd-backups-h">
      <div class="row between">
        <h2 id="kd-backups-h" class="settings-h2">
          {t('settings.backups.list')}
        </h2>
        <div class="row">
          <button type="button" class="btn btn-icon" onClick={list.reload} aria-label={t('core.refresh')} title={t('core.refresh')} disabled={list.loading}>
            <Icon name="refresh" />
          </button>
          <input ref={fileRef} type="file" accept=".zip,application/zip" class="sr-only" tabIndex={-1} aria-hidden="true" onChange={upload} />
          <button type="button" class="btn" onClick={() => fileRef.current?.click()} disabled={uploading}>
            {uploading ? <span class="spinner" aria-hidden="true" /> : <Icon name="upload" />} {uploading ? t('settings.backups.uploading') : t('settings.backups.upload')}
          </button>
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            <Icon name="plus" /> {t('settings.backups.create')}
          </button>
        </div>
      </div>
      {list.error && <FormErrors messages={[list.error]} />}
      <div class="table-wrap" aria-busy={list.loading ? 'true' : 'false'}>
        <table class="table">
          <caption class="sr-only">{t('settings.backups.list')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('settings.backups.name')}</th>
              <th scope="col">{t('settings.backups.size')}</th>
              <th scope="col">{t('settings.backups.date')}</th>
              <th scope="col">
                <span class="sr-only">{t('settings.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((b) => (
              <tr key={b.key}>
                <td class="mono">{b.key}</td>
                <td>{formatBytes(b.size)}</td>
                <td>{formatDate(b.modified)}</td>
                <td class="settings-row-actions">
                  <button type="button" class="btn btn-sm" onClick={() => download(b.key)} disabled={busyKey === b.key} aria-label={t('settings.backups.downloadN', { name: b.key })}>
                    <Icon name="download" /> {t('settings.backups.download')}
                  </button>
                  <button type="button" class="btn btn-sm" onClick={() => setRestoring(b.key)} aria-label={t('settings.backups.restoreN', { name: b.key })}>
                    <Icon name="refresh" /> {t('settings.backups.restore')}
                  </button>
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => remove(b.key)} disabled={busyKey === b.key} aria-label={t('settings.backups.deleteN', { name: b.key })}>
                    <Icon name="trash" /> {t('core.delete')}
                  </button>
                </td>
              </tr>
            ))}
            {!items.length && !list.loading && (
              <tr>
                <td colSpan={4} class="empty">
                  {t('settings.backups.none')}
                </td>
              </tr>
            )}
            {!items.length && list.loading && (
              <tr>
                <td colSpan={4} class="empty">
                  {t('core.loading')}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <CreateBackupModal open={creating} onClose={() => setCreating(false)} onCreated={list.reload} />
      <RestoreModal name={restoring} onClose={() => setRestoring(null)} />
    </section>
  );
}

function CreateBackupModal({ open, onClose, onCreated }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState('');
  const close = () => {
    setName('');
    setErrors({});
    setMessage('');
    onClose();
  };
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage('');
    let n = name.trim();
    if (n && !n.toLowerCase().endsWith('.zip')) n += '.zip';
    try {
      await pb.backups.create(n);
      toast(t('settings.backups.created'));
      onCreated();
      close();
    } catch (err) {
      const fe = fieldErrors(err);
      setErrors(fe);
      setMessage(fe.name ? '' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('settings.backups.createTitle')}
      onClose={close}
      busy={busy}
      size="sm"
      footer={
        <>
          <button type="button" class="btn" onClick={close} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="submit" form="kd-backup-create" class="btn btn-primary" disabled={busy}>
            {busy ? t('settings.backups.creating') : t('settings.backups.createStart')}
          </button>
        </>
      }
    >
      <form id="kd-backup-create" class="stack" onSubmit={submit} noValidate>
        <p class="muted">{t('settings.backups.createIntro')}</p>
        <FormErrors messages={message ? [message] : []} />
        <Field label={t('settings.backups.name')} hint={t('settings.backups.nameHint')} error={errors.name}>
          <input class="input mono" type="text" value={name} placeholder={t('settings.backups.namePlaceholder')} onInput={(e) => setName(e.currentTarget.value)} autofocus />
        </Field>
      </form>
    </Modal>
  );
}

function RestoreModal({ name, onClose }) {
  const [typed, setTyped] = useState('');
  const [state, setState] = useState(''); // '' | 'restoring' | 'waiting'
  const [error, setError] = useState('');
  const close = () => {
    setTyped('');
    setError('');
    onClose();
  };
  const submit = async (e) => {
    e.preventDefault();
    if (typed !== name) return;
    setState('restoring');
    setError('');
    try {
      await pb.backups.restore(name);
    } catch (err) {
      setState('');
      setError(errorMessage(err));
      return;
    }
    // the server swaps its data and restarts: wait until it answers again, then start afresh
    setState('waiting');
    await sleep(1000);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      try {
        await pb.health.check({ requestKey: null });
        break;
      } catch {
        await sleep(500);
      }
    }
    location.reload();
  };
  const busy = !!state;
  return (
    <Modal
      open={!!name}
      title={t('settings.backups.restoreTitle', { name: name ?? '' })}
      onClose={close}
      busy={busy}
      footer={
        <>
          <button type="button" class="btn" onClick={close} disabled={busy}>
            {t('core.cancel')}
          </button>
          <button type="submit" form="kd-backup-restore" class="btn btn-danger" disabled={busy || typed !== name}>
            {busy ? t('settings.backups.restoring') : t('settings.backups.restoreStart')}
          </button>
        </>
      }
    >
      <form id="kd-backup-restore" class="stack" onSubmit={submit} noValidate>
        <div class="alert alert-warn">
          <p>{t('settings.backups.restoreWarn')}</p>
          <p class="small">{t('settings.backups.restoreFlow')}</p>
        </div>
        <FormErrors messages={error ? [error] : []} />
        <Field label={t('settings.backups.restoreType', { name: name ?? '' })}>
          <input class="input mono" type="text" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autocomplete="off" disabled={busy} autofocus />
        </Field>
        <div aria-live="polite">
          {state === 'waiting' && (
            <p class="row">
              <span class="spinner" aria-hidden="true" /> {t('settings.backups.restoreWaiting')}
            </p>
          )}
        </div>
      </form>
    </Modal>
  );
}

function BackupOptions({ onSaved }) {
  const f = useSettingsForm(
    (s) => ({
      backups: { cron: s.backups?.cron ?? '', cronMaxKeep: s.backups?.cronMaxKeep ?? 3, s3: pickS3(s.backups?.s3) },
    }),
    { onSaved },
  );
  const [auto, setAuto] = useState(null);
  if (!f.form) return <Loading f={f} />;
  const { form, errors, set } = f;
  const autoOn = auto ?? !!form.backups.cron;
  const toggleAuto = (on) => {
    setAuto(on);
    set('backups.cron', on ? form.backups.cron || f.orig.backups.cron || PRESETS[0][0] : '');
  };
  const reset = () => {
    setAuto(null);
    f.reset();
  };
  return (
    <form class="stack" onSubmit={f.save} noValidate aria-labelledby="kd-backup-opts-h">
      <h2 id="kd-backup-opts-h" class="settings-h2">
        {t('settings.backups.options')}
      </h2>
      <SettingsErrors f={f} shown={['backups.cron', 'backups.cronMaxKeep', 'backups.s3']} />
      <Toggle label={t('settings.backups.auto')} checked={autoOn} onChange={toggleAuto} />
      {autoOn && (
        <div class="grid-3">
          <Field label={t('settings.backups.cron')} hint={t('settings.backups.cronHint')} error={errors['backups.cron']} required>
            <input class="input mono" type="text" value={form.backups.cron} placeholder="0 0 * * *" onInput={(e) => set('backups.cron', e.currentTarget.value)} />
          </Field>
          <Field label={t('settings.backups.presets')}>
            <select class="input" value={PRESETS.some(([c]) => c === form.backups.cron) ? form.backups.cron : ''} onChange={(e) => e.currentTarget.value && set('backups.cron', e.currentTarget.value)}>
              <option value="">{t('settings.backups.presetCustom')}</option>
              {PRESETS.map(([c, key]) => (
                <option key={c} value={c}>
                  {t(key)} ({c})
                </option>
              ))}
            </select>
          </Field>
          <Field label={t('settings.backups.maxKeep')} error={errors['backups.cronMaxKeep']}>
            <NumInput min="1" step="1" value={form.backups.cronMaxKeep} onChange={(v) => set('backups.cronMaxKeep', v)} />
          </Field>
        </div>
      )}
      <S3Fields f={f} prefix="backups.s3" toggleLabel={t('settings.backups.useS3')} />
      <SaveBar f={{ ...f, reset }} extra={<S3Test saved={f.orig} filesystem="backups" enabled={f.orig.backups.s3.enabled} dirty={f.dirty} />} />
    </form>
  );
}
