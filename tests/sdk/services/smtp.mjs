// A real SMTP server on 127.0.0.1 (free port) that records every message it receives.
//
//   const smtp = await startSmtp();
//   ... point the server under test at smtp.host:smtp.port (no TLS) ...
//   const mail = await smtp.waitFor((m) => m.to.includes('a@b.c'));
//   await smtp.stop();
//
// Any AUTH PLAIN/LOGIN credentials are accepted and auth is optional; STARTTLS is not offered.
// Each recorded message: { from, to[], authUser, subject, html, text, headers (Map), raw }.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

export async function startSmtp() {
  const messages = [];
  const waiters = new Set();

  const notify = () => {
    for (const w of waiters) {
      const found = messages.find(w.predicate);
      if (found) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(found);
      }
    }
  };

  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    logger: false,
    banner: 'kiln test smtp',
    size: 10 * 1024 * 1024,
    onAuth(auth, _session, cb) {
      cb(null, { user: auth.username || 'anonymous' });
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('error', cb);
      stream.on('end', async () => {
        try {
          const raw = Buffer.concat(chunks);
          const parsed = await simpleParser(raw);
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            authUser: session.user ?? null,
            subject: parsed.subject ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            text: parsed.text ?? '',
            headers: parsed.headers,
            raw: raw.toString('utf8'),
          });
          // Acknowledge only after the message is recorded: once the sender has its 250, the
          // message is visible in `messages`.
          cb();
          notify();
        } catch (e) {
          cb(e);
        }
      });
    },
  });
  server.on('error', () => {}); // client-side socket errors must not crash the test process

  await new Promise((ok, fail) => {
    server.server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', fail);
      ok();
    });
  });
  const { port } = server.server.address();

  /**
   * Resolves with the first recorded message matching `predicate(message, index)`, already received
   * or future; rejects after `timeoutMs`.
   */
  function waitFor(predicate, timeoutMs = 10_000) {
    const found = messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { predicate, resolve };
      w.timer = setTimeout(() => {
        waiters.delete(w);
        const seen = messages.map((m) => `${m.to.join(',')}: ${m.subject}`).join('\n  ');
        reject(new Error(`no matching mail within ${timeoutMs} ms; received so far:\n  ${seen || '(none)'}`));
      }, timeoutMs);
      waiters.add(w);
    });
  }

  async function stop() {
    for (const w of waiters) clearTimeout(w.timer);
    waiters.clear();
    await new Promise((r) => server.close(r));
  }

  return { host: '127.0.0.1', port, messages, waitFor, stop };
}
