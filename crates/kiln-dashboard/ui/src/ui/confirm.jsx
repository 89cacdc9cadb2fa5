// `await confirm({ title, message, confirm: 'Delete', danger: true })` → true or false, in a
// modal dialog (one at a time, mounted once by the app shell).
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { Modal } from './modal.jsx';

let show = null;

export function confirm(opts) {
  return new Promise((resolve) => {
    if (!show) return resolve(window.confirm(opts.message ?? opts.title));
    show({ ...opts, resolve });
  });
}

export function ConfirmHost() {
  const [req, setReq] = useState(null);
  useEffect(() => {
    show = setReq;
    return () => (show = null);
  }, []);
  const done = (ok) => {
    req?.resolve(ok);
    setReq(null);
  };
  return (
    <Modal
      open={!!req}
      size="sm"
      title={req?.title ?? t('core.confirm')}
      onClose={() => done(false)}
      footer={
        <>
          <button type="button" class="btn" onClick={() => done(false)}>
            {t('core.cancel')}
          </button>
          <button type="button" class={`btn ${req?.danger ? 'btn-danger' : 'btn-primary'}`} onClick={() => done(true)} autofocus>
            {req?.confirm ?? t('core.ok')}
          </button>
        </>
      }
    >
      {req?.message && <p>{req.message}</p>}
    </Modal>
  );
}
