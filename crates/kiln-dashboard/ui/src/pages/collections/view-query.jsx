// A view collection's SQL query, with a dry run (`POST /api/collections/meta/dry-run-view`, the
// endpoint PocketBase's own dashboard uses) that shows the fields the query yields, or its error.
import { useState } from 'preact/hooks';
import { errorMessage, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { Field } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { TYPE_ICONS } from './draft.js';

export function ViewQueryTab({ draft, setDraft, errors }) {
  const [result, setResult] = useState(null); // { fields, sample } | { error }
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      const r = await pb.collections.dryRunViewQuery(draft.viewQuery ?? '');
      setResult({ fields: r?.fields ?? [], sample: r?.sample ?? (Array.isArray(r) ? r : []) });
    } catch (err) {
      setResult({ error: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack">
      <Field label={t('collections.view.query')} error={errors.viewQuery} hint={t('collections.view.hint')} required>
        <textarea
          class="input mono vq-input"
          rows={10}
          spellcheck={false}
          value={draft.viewQuery ?? ''}
          placeholder="SELECT id, title FROM posts"
          onInput={(e) => setDraft((d) => ({ ...d, viewQuery: e.currentTarget.value }))}
        />
      </Field>
      <ul class="small muted vq-caveats">
        <li>{t('collections.view.caveatWildcard')}</li>
        <li>{t('collections.view.caveatId')}</li>
        <li>{t('collections.view.caveatAlias')}</li>
        <li>{t('collections.view.caveatUnion')}</li>
      </ul>
      <div class="row">
        <button type="button" class="btn" onClick={run} disabled={busy || !(draft.viewQuery ?? '').trim()}>
          {busy ? <span class="spinner" aria-hidden="true" /> : <Icon name="play" size={16} />}
          {t('collections.view.dryRun')}
        </button>
      </div>
      <div aria-live="polite">
        {result?.error && (
          <p class="alert alert-error" role="alert">
            {result.error}
          </p>
        )}
        {result?.fields && (
          <div class="stack">
            <h2 class="cf-sub">{t('collections.view.resultFields', { count: result.fields.length })}</h2>
            <div class="table-wrap">
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">{t('collections.view.fieldName')}</th>
                    <th scope="col">{t('collections.view.fieldType')}</th>
                  </tr>
                </thead>
                <tbody>
                  {result.fields.map((f) => (
                    <tr key={f.name}>
                      <td class="mono">{f.name}</td>
                      <td>
                        <span class="row">
                          <Icon name={TYPE_ICONS[f.type] ?? 'edit'} size={14} />
                          {t(`collections.type.${f.type}`)}
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {result.sample.length > 0 && (
              <details>
                <summary>{t('collections.view.sample', { count: result.sample.length })}</summary>
                <pre class="code-block" tabIndex={0}>
                  {JSON.stringify(result.sample, null, 2)}
                </pre>
              </details>
            )}
            {result.sample.length === 0 && <p class="muted small">{t('collections.view.noRows')}</p>}
          </div>
        )}
      </div>
    </div>
  );
}
