// Helpers shared by the end-to-end files: failure-tracking tests, SDK clients, error assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import PocketBase, { ClientResponseError } from 'pocketbase';
import { SUPERUSER } from './server.mjs';

/**
 * `it(name, [options,] fn)`: a `node:test` test with a timeout that records failure, and `failed()`, read
 * by the file's `after` hook to print the server log and keep its temp dir.
 */
export function suite(timeout) {
  let anyFailed = false;
  function it(name, opts, fn) {
    if (typeof opts === 'function') [opts, fn] = [{}, opts];
    test(name, { timeout, ...opts }, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        anyFailed = true;
        throw e;
      }
    });
  }
  return { it, failed: () => anyFailed };
}

/**
 * Stops a file's server after its tests; when one failed, prints the server's log and keeps its temp
 * dir for a look.
 */
export async function stopServer(server, failed) {
  if (!server) return;
  if (failed) {
    console.error(server.logs());
    console.error(`(server temp dir kept at ${server.root})`);
  }
  await server.stop({ keep: failed });
}

/** An SDK client without auto-cancellation (tests issue parallel requests on purpose). */
export function newClient(url) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  return pb;
}

/** An SDK client signed in as the test superuser. */
export async function newSuperuser(url) {
  const pb = newClient(url);
  await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
  return pb;
}

/** Runs `fn`, expects a ClientResponseError with `status` (and `message`, if given); returns it. */
export async function rejects(fn, status, message) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a ${status} error, got success`);
  assert.ok(err instanceof ClientResponseError, `unexpected error: ${err?.stack ?? err}`);
  assert.equal(err.status, status, `status; response: ${JSON.stringify(err.response)}`);
  if (message !== undefined) assert.equal(err.response.message, message);
  return err;
}
