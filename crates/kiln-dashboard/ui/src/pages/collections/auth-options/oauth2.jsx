// OAuth2 of an auth collection: on/off, the providers (added from the API's list, each with its
// client credentials and, for the generic OpenID Connect and self-hostable ones, its endpoints),
// and the mapping of the provider's user data to the collection's fields.
import { useEffect, useId, useMemo, useState } from 'preact/hooks';
import { errorMessage, pb } from '../../../api.js';
import { t } from '../../../i18n/index.js';
import { Field, FormErrors } from '../../../ui/field.jsx';
import { Icon } from '../../../ui/icon.jsx';
import { Modal } from '../../../ui/modal.jsx';
import { hasErrors, mappableFields, setPath, setPaths } from './util.js';
import { AppleSecretDialog } from './apple.jsx';

/** Providers with their own endpoints: OpenID Connect (all of them) and self-hostable ones. */
const OIDC = ['oidc', 'oidc2', 'oidc3'];
const SELF_HOSTED = ['gitlab', 'gitea', 'mailcow', 'microsoft'];

let providersCache = null;
function loadProviders() {
  providersCache ??= pb.send('/api/collections/meta/oauth2-providers', {}).catch((err) => {
    providersCache = null;
    throw err;
  });
  return providersCache;
}

export function OAuth2Section({ draft, onChange, errors }) {
  const [known, setKnown] = useState([]);
  const [loadError, setLoadError] = useState('');
  const [picking, setPicking] = useState(false);
  const [added, setAdded] = useState(() => new Set()); // providers added in this editor (secret required)
  const [openName, setOpenName] = useState(null);
  useEffect(() => {
    loadProviders().then(setKnown, (err) => setLoadError(errorMessage(err)));
  }, []);
  const oauth2 = draft.oauth2 ?? {};
  const providers = oauth2.providers ?? [];
  const display = (p) => p.displayName || known.find((k) => k.name === p.name)?.displayName || p.name;

  const add = (info) => {
    const provider = { name: info.name, clientId: '', clientSecret: '', authURL: '', tokenURL: '', userInfoURL: '', displayName: '', pkce: null, extra: {} };
    onChange(setPaths(draft, [['oauth2.providers', [...providers, provider]]]));
    setAdded(new Set([...added, info.name]));
    setOpenName(info.name);
    setPicking(false);
  };
  const remove = (i) => {
    onChange(setPath(draft, 'oauth2.providers', providers.filter((_, j) => j !== i)));
  };

  return (
    <div class="stack">
      <Field label={t('auth.oauth2.enable')} inline error={errors['oauth2.enabled']} hint={t('auth.oauth2.enableHint')}>
        <input type="checkbox" checked={!!oauth2.enabled} onChange={(e) => onChange(setPath(draft, 'oauth2.enabled', e.currentTarget.checked))} />
      </Field>
      <FormErrors messages={loadError ? [loadError] : []} />
      <div class="row between">
        <h3 class="ao-subhead">{t('auth.oauth2.providers')}</h3>
        <button type="button" class="btn btn-sm" onClick={() => setPicking(true)}>
          <Icon name="plus" />
          {t('auth.oauth2.add')}
        </button>
      </div>
      {errors['oauth2.providers'] && <p class="error" role="alert">{errors['oauth2.providers']}</p>}
      {providers.length === 0 ? (
        <p class="muted">{t('auth.oauth2.none')}</p>
      ) : (
        <ul class="ao-providers">
          {providers.map((p, i) => (
            <ProviderCard
              key={`${p.name}-${i}`}
              provider={p}
              index={i}
              title={display(p)}
              draft={draft}
              onChange={onChange}
              errors={errors}
              isNew={added.has(p.name)}
              initiallyOpen={openName === p.name}
              onRemove={() => remove(i)}
            />
          ))}
        </ul>
      )}
      <MappedFields draft={draft} onChange={onChange} errors={errors} />
      <ProviderPicker open={picking} onClose={() => setPicking(false)} known={known} exclude={providers.map((p) => p.name)} onPick={add} />
    </div>
  );
}

function ProviderCard({ provider: p, index: i, title, draft, onChange, errors, isNew, initiallyOpen, onRemove }) {
  const base = useId();
  const prefix = `oauth2.providers.${i}`;
  const invalid = hasErrors(errors, [prefix]);
  const [openState, setOpen] = useState(initiallyOpen || isNew);
  const open = openState || invalid;
  const set = (key, v) => onChange(setPath(draft, `${prefix}.${key}`, v));
  const err = (key) => errors[`${prefix}.${key}`];
  const oidc = OIDC.includes(p.name);
  const selfHosted = SELF_HOSTED.includes(p.name);
  const extra = p.extra ?? {};
  const setExtra = (key, v) => {
    const next = { ...extra };
    if (v === '' || v == null || (Array.isArray(v) && !v.length)) delete next[key];
    else next[key] = v;
    set('extra', next);
  };
  const secretKept = !isNew && p.clientSecret === undefined;
  const [apple, setApple] = useState(false);

  return (
    <li class={`ao-collapsible ${invalid ? 'ao-invalid' : ''}`}>
      <div class="ao-collapsible-head row between">
        <h4 class="ao-provider-title">
          <button type="button" class="ao-toggle" aria-expanded={open ? 'true' : 'false'} aria-controls={`${base}-body`} onClick={() => setOpen(!open)}>
            <Icon name={open ? 'down' : 'chevron'} />
            <span>{title}</span>
            <span class="badge mono">{p.name}</span>
            {invalid && <span class="badge badge-danger">{t('auth.hasErrors')}</span>}
          </button>
        </h4>
        <button type="button" class="btn btn-sm btn-ghost" onClick={onRemove} aria-label={t('auth.oauth2.remove', { name: title })}>
          <Icon name="trash" />
          {t('auth.remove')}
        </button>
      </div>
      {open && (
        <div class="ao-collapsible-body stack" id={`${base}-body`}>
          {err('name') && <p class="error" role="alert">{err('name')}</p>}
          <div class="grid-2">
            <Field label={t('auth.oauth2.clientId')} error={err('clientId')} required>
              <input class="input" autocomplete="off" spellcheck={false} value={p.clientId ?? ''} onInput={(e) => set('clientId', e.currentTarget.value.trim())} />
            </Field>
            <Field
              label={t('auth.oauth2.clientSecret')}
              error={err('clientSecret')}
              required={isNew}
              hint={isNew ? undefined : t('auth.oauth2.secretKept')}
            >
              <input
                class="input"
                type="password"
                autocomplete="new-password"
                placeholder={secretKept ? t('auth.oauth2.secretUnchanged') : ''}
                value={p.clientSecret ?? ''}
                onInput={(e) => {
                  const v = e.currentTarget.value.trim();
                  // an existing provider keeps its stored secret unless a new one is typed
                  set('clientSecret', v === '' && !isNew ? undefined : v);
                }}
              />
            </Field>
          </div>
          {p.name === 'apple' && (
            <div class="row">
              <button type="button" class="btn btn-sm" onClick={() => setApple(true)}>
                <Icon name="lock" />
                {t('auth.apple.open')}
              </button>
              <span class="hint">{t('auth.apple.openHint')}</span>
              <AppleSecretDialog open={apple} onClose={() => setApple(false)} clientId={p.clientId ?? ''} onSecret={(secret) => set('clientSecret', secret)} />
            </div>
          )}
          {oidc && (
            <Field label={t('auth.oauth2.displayName')} error={err('displayName')} hint={t('auth.oauth2.displayNameHint')}>
              <input class="input" value={p.displayName ?? ''} onInput={(e) => set('displayName', e.currentTarget.value)} />
            </Field>
          )}
          {(oidc || selfHosted) && (
            <fieldset class="stack">
              <legend>{oidc ? t('auth.oauth2.endpoints') : t('auth.oauth2.selfHosted')}</legend>
              <Field label={t('auth.oauth2.authURL')} error={err('authURL')} required={oidc}>
                <input class="input" type="url" value={p.authURL ?? ''} onInput={(e) => set('authURL', e.currentTarget.value.trim())} />
              </Field>
              <Field label={t('auth.oauth2.tokenURL')} error={err('tokenURL')} required={oidc}>
                <input class="input" type="url" value={p.tokenURL ?? ''} onInput={(e) => set('tokenURL', e.currentTarget.value.trim())} />
              </Field>
              <Field label={t('auth.oauth2.userInfoURL')} error={err('userInfoURL')} hint={oidc ? t('auth.oauth2.userInfoHint') : undefined}>
                <input class="input" type="url" value={p.userInfoURL ?? ''} onInput={(e) => set('userInfoURL', e.currentTarget.value.trim())} />
              </Field>
            </fieldset>
          )}
          {oidc && (
            <>
              <div class="grid-2">
                <Field label={t('auth.oauth2.jwksURL')} error={err('extra.jwksURL')} hint={t('auth.oauth2.jwksHint')}>
                  <input class="input" type="url" value={extra.jwksURL ?? ''} onInput={(e) => setExtra('jwksURL', e.currentTarget.value.trim())} />
                </Field>
                <Field label={t('auth.oauth2.issuers')} error={err('extra.issuers')} hint={t('auth.oauth2.issuersHint')}>
                  <input
                    class="input"
                    value={(extra.issuers ?? []).join(', ')}
                    onChange={(e) =>
                      setExtra(
                        'issuers',
                        e.currentTarget.value.split(',').map((s) => s.trim()).filter(Boolean),
                      )
                    }
                  />
                </Field>
              </div>
              <Field label={t('auth.oauth2.pkce')} inline error={err('pkce')} hint={t('auth.oauth2.pkceHint')}>
                <input type="checkbox" checked={p.pkce === true} onChange={(e) => set('pkce', e.currentTarget.checked)} />
              </Field>
            </>
          )}
        </div>
      )}
    </li>
  );
}

const MAPPINGS = [
  ['id', 'text'],
  ['name', 'text'],
  ['username', 'text'],
  ['avatarURL', 'avatar'],
];

function MappedFields({ draft, onChange, errors }) {
  const mapped = draft.oauth2?.mappedFields ?? {};
  return (
    <fieldset>
      <legend>{t('auth.oauth2.mapping')}</legend>
      <p class="hint">{t('auth.oauth2.mappingHint')}</p>
      <div class="grid-2">
        {MAPPINGS.map(([key, kind]) => {
          const options = mappableFields(draft, kind);
          const current = mapped[key] ?? '';
          if (current && !options.includes(current)) options.push(current);
          return (
            <Field key={key} label={t(`auth.oauth2.map.${key}`)} error={errors[`oauth2.mappedFields.${key}`]}>
              <select class="input" value={current} onChange={(e) => onChange(setPath(draft, `oauth2.mappedFields.${key}`, e.currentTarget.value))}>
                <option value="">{t('auth.oauth2.noField')}</option>
                {options.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </Field>
          );
        })}
      </div>
    </fieldset>
  );
}

function ProviderPicker({ open, onClose, known, exclude, onPick }) {
  const [q, setQ] = useState('');
  const list = useMemo(() => {
    const s = q.trim().toLowerCase().replace(/\s+/g, '');
    return known.filter((p) => !exclude.includes(p.name) && `${p.name}${p.displayName}`.toLowerCase().replace(/\s+/g, '').includes(s));
  }, [q, known, exclude]);
  const close = () => {
    setQ('');
    onClose();
  };
  return (
    <Modal open={open} title={t('auth.oauth2.pickTitle')} onClose={close}>
      <div class="stack">
        <input
          class="input"
          type="search"
          aria-label={t('auth.oauth2.search')}
          placeholder={t('auth.oauth2.search')}
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
          autofocus
        />
        {list.length === 0 ? (
          <p class="muted">{t('auth.oauth2.noMatch')}</p>
        ) : (
          <ul class="ao-picker" aria-label={t('auth.oauth2.providers')}>
            {list.map((p) => (
              <li key={p.name}>
                <button
                  type="button"
                  class="btn ao-pick"
                  onClick={() => {
                    setQ('');
                    onPick(p);
                  }}
                >
                  <span>{p.displayName}</span>
                  <span class="muted small mono">{p.name}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Modal>
  );
}
