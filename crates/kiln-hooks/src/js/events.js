// The app hooks (onBootstrap, onTerminate), the realtime ones, and the mailer: its hooks, MailerMessage,
// `$app.newMailClient()` and `$mails`. Kiln's own emails reach the hooks through
// `native.mailHook` (kiln-hooks/src/mail.rs); a hook's send runs the same chain right here.
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const js = native.js;

  const MAILER = ['onMailerSend', 'onMailerRecordVerificationSend', 'onMailerRecordPasswordResetSend', 'onMailerRecordEmailChangeSend', 'onMailerRecordOTPSend', 'onMailerRecordAuthAlertSend'];
  // (PocketBase's JavaScript has no onServe: routes come from routerAdd and routerUse)
  js.register(['onBootstrap', 'onTerminate', 'onRealtimeConnectRequest', 'onRealtimeSubscribeRequest', 'onRealtimeMessageSend', ...MAILER]);

  // A realtime client as the events show it (`e.client`).
  js.client = (c) => Object.freeze({
    id: () => c.id,
    subscriptions: () => [...(c.subscriptions ?? [])],
    hasSubscription: (s) => (c.subscriptions ?? []).includes(s),
    isDiscarded: () => false,
  });

  // Called by Kiln for each message to a client when onRealtimeMessageSend listens: {message}
  // to send as the hooks left it (null: dropped), or {error}. The data is bytes, as in PocketBase.
  native.realtimeMessage = (raw) => {
    const p = JSON.parse(raw);
    const e = { app: globalThis.$app, client: js.client(p.client), message: { name: p.name, data: js.utf8Bytes(p.data) } };
    let out = null;
    const failed = js.settle(() => js.chain(e, js.handlers('onRealtimeMessageSend'), () => {
      const d = e.message.data;
      out = { name: String(e.message.name), data: typeof d === 'string' ? d : toString(Array.from(d ?? [])) };
    }));
    return JSON.stringify(failed ? { error: JSON.parse(failed) } : { message: out });
  };

  // Called by Kiln once the app is open (onBootstrap) and at the end: "" or what was thrown.
  native.appHook = (name, raw) => {
    const e = { app: globalThis.$app, ...JSON.parse(raw) };
    try {
      js.chain(e, js.handlers(name), () => {});
      return '';
    } catch (err) {
      if (err == null || err instanceof InternalError) throw err ?? new InternalError('out of memory');
      return `${err?.stack ? `${err.message}\n${err.stack}` : err}`;
    }
  };

  // PocketBase's mail.Address: {address, name}; a plain string is the address.
  const address = (a) => (typeof a === 'string' ? { address: a, name: '' } : { address: String(a?.address ?? ''), name: String(a?.name ?? '') });
  const addresses = (list) => (Array.isArray(list) ? list.map(address) : list ? [address(list)] : []);

  class MailerMessage {
    constructor(data = {}) {
      this.from = address(data.from ?? {});
      this.to = addresses(data.to);
      this.bcc = addresses(data.bcc);
      this.cc = addresses(data.cc);
      this.subject = String(data.subject ?? '');
      this.html = String(data.html ?? '');
      this.text = String(data.text ?? '');
      this.headers = { ...(data.headers ?? {}) };
      this.attachments = data.attachments ?? {};
    }
  }
  globalThis.MailerMessage = MailerMessage;

  // The message as Kiln sends it (attachments are not sent).
  const wire = (m) => {
    if (m && Object.keys(m.attachments ?? {}).length) throw new Error('mail attachments are not supported by Kiln');
    return JSON.stringify({
      from: address(m.from), to: addresses(m.to), cc: addresses(m.cc), bcc: addresses(m.bcc),
      subject: String(m.subject ?? ''), html: String(m.html ?? ''), text: String(m.text ?? ''),
      headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
    });
  };

  // onMailerSend around `message`; its last e.next() hands the message as it is then to `send`.
  const mailerSend = (message, send) => {
    const e = { app: globalThis.$app, mailer: client, message };
    return js.chain(e, js.handlers('onMailerSend'), () => send(e.message));
  };
  // a record's mail hook `name`, then onMailerSend; the message as the last hook left it
  const recordSend = (name, e, send) => js.chain(e, js.handlers(name, e.record.collection()), () => mailerSend(e.message, send));

  const deliver = (m) => js.call(native.mailDeliver(wire(m)));
  const client = Object.freeze({ send: (m) => mailerSend(new MailerMessage(m), deliver) });
  js.mailClient = () => client;

  // Called by Kiln for an email it sends: {message} to send (null: a hook stopped it) or {error}.
  native.mailHook = (name, raw) => {
    const p = JSON.parse(raw);
    let out = null;
    const keep = (m) => { out = JSON.parse(wire(m)); };
    const failed = js.settle(() => {
      const message = new MailerMessage(p.message);
      if (!p.record) return mailerSend(message, keep);
      recordSend(name, { app: globalThis.$app, mailer: client, message, record: js.fromPayload(p.record), meta: p.meta ?? {} }, keep);
    });
    return JSON.stringify(failed ? { error: JSON.parse(failed) } : { message: out });
  };

  // $mails.sendRecord…(app, record, …): the account email of the record, through the hooks.
  const recordMail = (name, kind, record, extra = {}) => {
    if (!(record instanceof Record)) throw new TypeError('$mails: the record is a Record');
    const m = js.call(native.recordMail(kind, record.collection().id, record.id, JSON.stringify(extra)));
    const e = { app: globalThis.$app, mailer: client, message: new MailerMessage(m.message), record, meta: m.meta };
    recordSend(name, e, deliver);
  };
  globalThis.$mails = Object.freeze({
    sendRecordVerification: (app, record) => recordMail('onMailerRecordVerificationSend', 'verification', record),
    sendRecordPasswordReset: (app, record) => recordMail('onMailerRecordPasswordResetSend', 'password-reset', record),
    sendRecordChangeEmail: (app, record, newEmail) => recordMail('onMailerRecordEmailChangeSend', 'email-change', record, { newEmail: String(newEmail ?? '') }),
    sendRecordOTP: (app, record, otpId, pass) => recordMail('onMailerRecordOTPSend', 'otp', record, { otpId: String(otpId ?? ''), password: String(pass ?? '') }),
    sendRecordAuthAlert: (app, record, info) => recordMail('onMailerRecordAuthAlertSend', 'auth-alert', record, { info: String(info ?? '') }),
  });
})();
