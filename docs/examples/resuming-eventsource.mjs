// Makes the official PocketBase JS SDK resume its realtime stream after a disconnection, so that no
// event is lost when a Kiln node restarts (docs/REALTIME.md, "Resume"). The SDK opens a new
// EventSource after each disconnection, and a new EventSource forgets the id of the last event the
// old one received; this one remembers it (per URL) and asks Kiln to resume from there with
// `?lastEventId=`. Kiln then answers with the same client id, the same subscriptions and every event
// missed meanwhile. Install it before the SDK connects:
//
//   import { resumable } from './resuming-eventsource.mjs';
//   globalThis.EventSource = resumable(globalThis.EventSource);
//
// PocketBase itself ignores `lastEventId`: with it the SDK behaves as before. The last id is kept per
// URL for the whole JavaScript runtime: a server-side Node process that runs several SDK clients
// against the same URL (each with its own subscriptions) should give each its own URL (a query
// parameter Kiln ignores, such as `?client=<name>`), or they would resume each other's streams.
//
// In Node (the `eventsource` package) it also lets the microtasks that an event's listeners queue run
// before the next event is dispatched, as browsers do: the SDK adds its listeners in a microtask after
// PB_CONNECT, and the package dispatches all the events of one chunk at once, so the events replayed
// right after PB_CONNECT would reach an EventSource that does not listen yet.

/** An EventSource class whose instances resume where the last instance for the same URL stopped. */
export function resumable(Base) {
  const lastIds = new Map(); // url → the id of the last message received on it
  return class ResumingEventSource extends Base {
    #url;
    #wrapped = new WeakMap(); // listener → the wrapper that records ids
    constructor(url, init) {
      const key = String(url);
      const last = lastIds.get(key);
      let target = key;
      if (last) {
        const u = new URL(key, globalThis.location?.href);
        u.searchParams.set('lastEventId', last);
        target = u.toString();
      }
      super(target, init);
      this.#url = key;
    }

    addEventListener(type, listener, options) {
      if (typeof listener !== 'function') return super.addEventListener(type, listener, options);
      let wrapper = this.#wrapped.get(listener);
      if (!wrapper) {
        wrapper = (e) => {
          if (e.lastEventId) lastIds.set(this.#url, e.lastEventId);
          return listener.call(this, e);
        };
        this.#wrapped.set(listener, wrapper);
      }
      return super.addEventListener(type, wrapper, options);
    }

    removeEventListener(type, listener, options) {
      return super.removeEventListener(type, this.#wrapped.get(listener) ?? listener, options);
    }

    // (browsers' own EventSource does not dispatch through this method)
    #pending = [];
    dispatchEvent(event) {
      if (this.#pending.push(event) === 1) queueMicrotask(() => this.#next());
      return true;
    }

    #next() {
      super.dispatchEvent(this.#pending[0]);
      this.#pending.shift();
      if (this.#pending.length) queueMicrotask(() => this.#next());
    }
  };
}
