// Cron jobs: every registered job with its schedule, and "Run now".
import { useState } from 'preact/hooks';
import { errorMessage, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { FormErrors } from '../../ui/field.jsx';
import { useRequest } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { ResultNote } from './form.jsx';

export function CronsSettings() {
  const list = useRequest(() => pb.crons.getFullList(), []);
  const [running, setRunning] = useState('');
  const [result, setResult] = useState(null);
  const run = async (id) => {
    setRunning(id);
    setResult(null);
    try {
      await pb.crons.run(id);
      setResult({ ok: true, message: t('settings.crons.ran', { id }) });
    } catch (err) {
      setResult({ ok: false, message: t('settings.crons.failed', { id, message: errorMessage(err) }) });
    } finally {
      setRunning('');
    }
  };
  const items = list.data ?? [];
  return (
    <div class="stack settings-form">
      <div class="row between">
        <p class="muted">{t('settings.crons.intro')}</p>
        <button type="button" class="btn btn-icon" onClick={list.reload} aria-label={t('core.refresh')} title={t('core.refresh')} disabled={list.loading}>
          <Icon name="refresh" />
        </button>
      </div>
      {list.error && <FormErrors messages={[list.error]} />}
      <ResultNote result={result} />
      <div class="table-wrap" aria-busy={list.loading ? 'true' : 'false'}>
        <table class="table">
          <caption class="sr-only">{t('settings.crons.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('settings.crons.id')}</th>
              <th scope="col">{t('settings.crons.expression')}</th>
              <th scope="col">
                <span class="sr-only">{t('settings.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <td class="mono">
                  {c.id} {/^__pb.*__$/.test(c.id) && <span class="badge">{t('settings.crons.system')}</span>}
                </td>
                <td class="mono">{c.expression}</td>
                <td class="settings-row-actions">
                  <button type="button" class="btn btn-sm" onClick={() => run(c.id)} disabled={!!running} aria-label={t('settings.crons.runN', { id: c.id })}>
                    {running === c.id ? <span class="spinner" aria-hidden="true" /> : <Icon name="play" />} {t('settings.crons.run')}
                  </button>
                </td>
              </tr>
            ))}
            {!items.length && (
              <tr>
                <td colSpan={3} class="empty">
                  {list.loading ? t('core.loading') : t('settings.crons.none')}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
