// One log entry in a side panel: its fields and every data key, JSON pretty-printed, with copy.
import { errorMessage, pb } from '../../api.js';
import { formatDate, t } from '../../i18n/index.js';
import { FormErrors } from '../../ui/field.jsx';
import { useRequest } from '../../ui/hooks.js';
import { Icon } from '../../ui/icon.jsx';
import { Modal } from '../../ui/modal.jsx';
import { toast } from '../../ui/toast.jsx';
import { LevelBadge } from './levels.jsx';

const show = (v) => (v !== null && typeof v === 'object' ? JSON.stringify(v, null, 2) : String(v));

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t('core.copied'));
  } catch (err) {
    toast(errorMessage(err) || String(err), 'error');
  }
}

function CopyButton({ text, label }) {
  return (
    <button type="button" class="btn btn-icon btn-sm" onClick={() => copy(text)} aria-label={label} title={label}>
      <Icon name="copy" />
    </button>
  );
}

export function LogDetail({ id, onClose }) {
  const req = useRequest(() => (id ? pb.logs.getOne(id) : Promise.resolve(null)), [id]);
  const log = req.data?.id === id ? req.data : null;
  const data = log?.data ?? {};
  const keys = Object.keys(data).sort((a, b) => (a === 'error' ? -1 : b === 'error' ? 1 : a === 'details' ? -1 : b === 'details' ? 1 : a.localeCompare(b)));
  return (
    <Modal
      open={!!id}
      size="panel"
      title={t('logs.detail.title')}
      onClose={onClose}
      footer={
        <>
          {log && (
            <button type="button" class="btn" onClick={() => copy(JSON.stringify(log, null, 2))}>
              <Icon name="copy" /> {t('logs.detail.copyJSON')}
            </button>
          )}
          <button type="button" class="btn btn-primary" onClick={onClose}>
            {t('core.close')}
          </button>
        </>
      }
    >
      {req.error && !log && <FormErrors messages={[req.error]} />}
      {!log && !req.error && <p class="muted">{t('core.loading')}</p>}
      {log && (
        <table class="table log-detail">
          <caption class="sr-only">{t('logs.detail.title')}</caption>
          <tbody>
            <Row name="id" text={log.id}>
              <span class="mono">{log.id}</span>
            </Row>
            <Row name="level" text={String(log.level)}>
              <LevelBadge level={log.level} /> <span class="muted">({log.level})</span>
            </Row>
            <Row name="created" text={log.created}>
              {formatDate(log.created)} <span class="muted small mono">{log.created}</span>
            </Row>
            <Row name="message" text={log.message}>
              {log.message}
            </Row>
            {keys.map((k) => (
              <Row key={k} name={`data.${k}`} text={show(data[k])}>
                <DataValue name={k} value={data[k]} />
              </Row>
            ))}
          </tbody>
        </table>
      )}
    </Modal>
  );
}

function Row({ name, text, children }) {
  return (
    <tr>
      <th scope="row" class="mono">
        {name}
      </th>
      <td>{children}</td>
      <td class="log-detail-copy">
        <CopyButton text={text} label={t('logs.detail.copyN', { name })} />
      </td>
    </tr>
  );
}

function DataValue({ name, value }) {
  if (value === null || value === undefined || value === '') return <span class="muted">{t('logs.detail.empty')}</span>;
  if (typeof value === 'object') return <pre class="log-json">{JSON.stringify(value, null, 2)}</pre>;
  if (name === 'error') return <span class="log-error">{String(value)}</span>;
  if (name === 'execTime' && typeof value === 'number') return <span>{t('logs.detail.ms', { ms: value })}</span>;
  return <span class={typeof value === 'string' ? '' : 'mono'}>{String(value)}</span>;
}
