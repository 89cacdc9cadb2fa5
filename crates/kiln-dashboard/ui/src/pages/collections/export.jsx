// Settings › Export collections: pick collections (all by default), see their JSON, copy it or
// download it, to import it into another Kiln or PocketBase.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { reloadCollections, useCollections } from '../../store/collections.js';
import { Icon } from '../../ui/icon.jsx';
import { toast } from '../../ui/toast.jsx';
import { SettingsLayout } from '../settings/layout.jsx';
import './collections.css';

/** A collection as exported: without timestamps and OAuth2 providers (they hold secrets). */
export function exportable(c) {
  const out = JSON.parse(JSON.stringify(c));
  delete out.created;
  delete out.updated;
  if (out.oauth2) delete out.oauth2.providers;
  return out;
}

export function ExportCollectionsPage() {
  const { list, loaded, error } = useCollections();
  const [excluded, setExcluded] = useState(() => new Set());
  useEffect(() => {
    reloadCollections();
  }, []);
  const chosen = list.filter((c) => !excluded.has(c.id));
  const json = useMemo(() => JSON.stringify(chosen.map(exportable), null, 2), [list, excluded]);
  const all = chosen.length === list.length;
  const toggle = (id) => {
    const next = new Set(excluded);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setExcluded(next);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(json);
      toast(t('core.copied'));
    } catch {
      toast(t('collections.export.copyFailed'), 'error');
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'pb_schema.json';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <SettingsLayout section="export-collections">
      <div class="page-head">
        <h1>{t('collections.export.title')}</h1>
      </div>
      <div class="page-body stack sync-page">
        <p>{t('collections.export.intro')}</p>
        {error && (
          <p class="alert alert-error" role="alert">
            {error}
          </p>
        )}
        {!loaded ? (
          <p class="muted">{t('core.loading')}</p>
        ) : (
          <>
            <fieldset>
              <legend>{t('collections.export.pick')}</legend>
              <div class="stack">
                <label class="row">
                  <input type="checkbox" checked={all} onChange={() => setExcluded(all ? new Set(list.map((c) => c.id)) : new Set())} />
                  <strong>{t('collections.export.all')}</strong>
                  <span class="muted small">{t('collections.export.count', { count: chosen.length })}</span>
                </label>
                <ul class="sync-list">
                  {list.map((c) => (
                    <li key={c.id}>
                      <label>
                        <input type="checkbox" checked={!excluded.has(c.id)} onChange={() => toggle(c.id)} />
                        <span class="mono">{c.name}</span>
                      </label>
                    </li>
                  ))}
                </ul>
              </div>
            </fieldset>
            <div class="row">
              <button type="button" class="btn btn-primary" onClick={download} disabled={!chosen.length}>
                <Icon name="download" size={16} />
                {t('collections.export.download')}
              </button>
              <button type="button" class="btn" onClick={copy} disabled={!chosen.length}>
                <Icon name="copy" size={16} />
                {t('core.copy')}
              </button>
            </div>
            <div class="field">
              <label for="export-json">{t('collections.export.json')}</label>
              <textarea id="export-json" class="input mono sync-json" readOnly value={json} rows={20} spellcheck={false} />
            </div>
          </>
        )}
      </div>
    </SettingsLayout>
  );
}
