// The "API" panel: how to make the request behind the current list (and the open record) with
// the JS SDK and with curl, each copyable.
import { apiBase } from '../../api.js';
import { t } from '../../i18n/index.js';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { shellQuote } from './util.js';

/** A JS string literal, single-quoted when the text has double quotes (filters often do). */
function jsString(s) {
  s = String(s);
  return s.includes('"') && !s.includes("'") ? jsQuote(s) : JSON.stringify(s);
}

function jsQuote(s) {
  return `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The SDK call and the curl command for a list request. */
export function listSnippets({ collection, page, perPage, filter, sort, expand }) {
  const opts = [];
  if (filter) opts.push(`filter: ${jsString(filter)}`);
  if (sort) opts.push(`sort: ${jsString(sort)}`);
  if (expand) opts.push(`expand: ${jsString(expand)}`);
  const sdk = `const result = await pb.collection(${jsQuote(collection.name)}).getList(${page}, ${perPage}${opts.length ? `, { ${opts.join(', ')} }` : ''});`;
  const parts = [`curl -G ${shellQuote(`${apiBase}/api/collections/${encodeURIComponent(collection.name)}/records`)}`];
  parts.push(`-d ${shellQuote(`page=${page}`)}`, `-d ${shellQuote(`perPage=${perPage}`)}`);
  if (filter) parts.push(`--data-urlencode ${shellQuote(`filter=${filter}`)}`);
  if (sort) parts.push(`--data-urlencode ${shellQuote(`sort=${sort}`)}`);
  if (expand) parts.push(`--data-urlencode ${shellQuote(`expand=${expand}`)}`);
  parts.push(`-H 'Authorization: YOUR_TOKEN'`);
  return { sdk, curl: parts.join(' \\\n  ') };
}

/** The SDK call and the curl command for one record. */
export function recordSnippets({ collection, id, expand }) {
  const sdk = `const record = await pb.collection(${jsQuote(collection.name)}).getOne(${jsQuote(id)}${expand ? `, { expand: ${jsString(expand)} }` : ''});`;
  const parts = [`curl -G ${shellQuote(`${apiBase}/api/collections/${encodeURIComponent(collection.name)}/records/${encodeURIComponent(id)}`)}`];
  if (expand) parts.push(`--data-urlencode ${shellQuote(`expand=${expand}`)}`);
  parts.push(`-H 'Authorization: YOUR_TOKEN'`);
  return { sdk, curl: parts.join(' \\\n  ') };
}

function Snippet({ title, code }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code);
      toast(t('core.copied'));
    } catch {
      toast(t('records.api.copyFailed'), 'error');
    }
  };
  return (
    <section class="rec-snippet">
      <div class="row between">
        <h4>{title}</h4>
        <button type="button" class="btn btn-sm" onClick={copy} aria-label={t('records.api.copyNamed', { name: title })}>
          <Icon name="copy" size={14} />
          {t('core.copy')}
        </button>
      </div>
      <pre class="rec-code" tabIndex={0} aria-label={title}>
        <code>{code}</code>
      </pre>
    </section>
  );
}

/** Props: { open, onClose, collection, list: {page, perPage, filter, sort, expand}, recordId }. */
export function ApiPanel({ open, onClose, collection, list, recordId }) {
  const l = listSnippets({ collection, ...list });
  const r = recordId && recordId !== 'new' ? recordSnippets({ collection, id: recordId, expand: list.expand }) : null;
  return (
    <Modal open={open} onClose={onClose} size="lg" title={t('records.api.title', { collection: collection.name })}>
      <div class="stack">
        <p class="muted">{t('records.api.intro', { base: apiBase })}</p>
        <h3>{t('records.api.list')}</h3>
        <Snippet title={t('records.api.sdkList')} code={`import PocketBase from 'pocketbase';\n\nconst pb = new PocketBase(${jsQuote(apiBase)});\n\n${l.sdk}`} />
        <Snippet title={t('records.api.curlList')} code={l.curl} />
        {r && (
          <>
            <h3>{t('records.api.one', { id: recordId })}</h3>
            <Snippet title={t('records.api.sdkOne')} code={r.sdk} />
            <Snippet title={t('records.api.curlOne')} code={r.curl} />
          </>
        )}
        <p class="hint">{t('records.api.authHint')}</p>
      </div>
    </Modal>
  );
}
