// Application settings: name and address, hidden controls, the batch API, the trusted proxy,
// rate limits and the superuser IP allow list.
import { cloneElement } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { pb, SUPERUSERS } from '../../api.js';
import { t } from '../../i18n/index.js';
import { useCollections } from '../../store/collections.js';
import { confirm } from '../../ui/confirm.jsx';
import { Field } from '../../ui/field.jsx';
import { Icon } from '../../ui/icon.jsx';
import { Group, hasErrorIn, ListInput, Loading, NumInput, SaveBar, SettingsErrors, Toggle, useSettingsForm } from './form.jsx';

const PROXY_HEADERS = ['X-Forwarded-For', 'Fly-Client-IP', 'CF-Connecting-IP'];
const BASE_TAGS = ['list', 'view', 'create', 'update', 'delete', 'file', 'listAuthMethods', 'authRefresh', 'auth', 'authWithPassword', 'authWithOAuth2', 'authWithOTP', 'requestOTP', 'requestPasswordReset', 'confirmPasswordReset', 'requestVerification', 'confirmVerification', 'requestEmailChange', 'confirmEmailChange'];
const SHOWN = ['meta.appName', 'meta.appURL', 'meta.hideControls', 'batch', 'rateLimits', 'trustedProxy', 'superuserIPs'];

const pick = (s) => {
  const out = {
    meta: { appName: s.meta?.appName ?? '', appURL: s.meta?.appURL ?? '', hideControls: !!s.meta?.hideControls },
    batch: s.batch ?? { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 },
    rateLimits: { enabled: !!s.rateLimits?.enabled, rules: s.rateLimits?.rules ?? [] },
    trustedProxy: { headers: s.trustedProxy?.headers ?? [], useLeftmostIP: !!s.trustedProxy?.useLeftmostIP },
  };
  if ('excludedIPs' in (s.rateLimits ?? {})) out.rateLimits.excludedIPs = s.rateLimits.excludedIPs ?? [];
  if ('superuserIPs' in s) out.superuserIPs = s.superuserIPs ?? [];
  return out;
};

export function ApplicationSettings() {
  const [health, setHealth] = useState(null);
  const loadHealth = () => pb.health.check().then((h) => setHealth(h?.data ?? {}), () => setHealth({}));
  useEffect(() => {
    loadHealth();
  }, []);
  const f = useSettingsForm(pick, {
    onSaved: async () => {
      loadHealth();
      // the allow list may now exclude this browser: check the session still works
      try {
        await pb.collection(SUPERUSERS).authRefresh();
      } catch (err) {
        if (err?.status === 401 || err?.status === 403) pb.authStore.clear();
      }
    },
  });
  if (!f.form) return <Loading f={f} />;
  const { form, errors, set } = f;

  const submit = async (e) => {
    e.preventDefault();
    const ips = form.superuserIPs ?? [];
    const changed = JSON.stringify(ips) !== JSON.stringify(f.orig.superuserIPs ?? []);
    if (changed && ips.length) {
      const ok = await confirm({
        title: t('settings.app.ipsConfirmTitle'),
        message: t('settings.app.ipsConfirm', { ips: ips.join(', ') }),
        confirm: t('settings.app.ipsConfirmYes'),
        danger: true,
      });
      if (!ok) return;
    }
    f.save();
  };

  return (
    <form class="stack settings-form" onSubmit={submit} noValidate>
      <SettingsErrors f={f} shown={SHOWN} />
      <div class="grid-2">
        <Field label={t('settings.app.appName')} error={errors['meta.appName']} required>
          <input class="input" type="text" value={form.meta.appName} onInput={(e) => set('meta.appName', e.currentTarget.value)} />
        </Field>
        <Field label={t('settings.app.appURL')} error={errors['meta.appURL']} hint={t('settings.app.appURLHint')} required>
          <input class="input" type="text" inputMode="url" value={form.meta.appURL} onInput={(e) => set('meta.appURL', e.currentTarget.value)} />
        </Field>
      </div>
      <Toggle label={t('settings.app.hideControls')} hint={t('settings.app.hideControlsHint')} error={errors['meta.hideControls']} checked={form.meta.hideControls} onChange={(v) => set('meta.hideControls', v)} />

      <div class="settings-groups">
        <BatchGroup f={f} />
        <ProxyGroup f={f} health={health} />
        <RateLimitGroup f={f} />
        {'superuserIPs' in form && <SuperuserIPsGroup f={f} health={health} />}
      </div>
      <SaveBar f={f} />
    </form>
  );
}

function BatchGroup({ f }) {
  const { form, errors, set } = f;
  const off = !form.batch.enabled;
  return (
    <Group title={t('settings.app.batch')} enabled={form.batch.enabled} hasError={hasErrorIn(errors, 'batch')}>
      <Toggle label={t('settings.app.batchEnabled')} checked={form.batch.enabled} error={errors['batch.enabled']} onChange={(v) => set('batch.enabled', v)} />
      <div class="grid-3">
        <Field label={t('settings.app.batchMaxRequests')} hint={t('settings.app.batchMaxRequestsHint')} error={errors['batch.maxRequests']}>
          <NumInput min="1" step="1" disabled={off} value={form.batch.maxRequests} onChange={(v) => set('batch.maxRequests', v)} />
        </Field>
        <Field label={t('settings.app.batchTimeout')} error={errors['batch.timeout']}>
          <NumInput min="1" step="1" disabled={off} value={form.batch.timeout} onChange={(v) => set('batch.timeout', v)} />
        </Field>
        <Field label={t('settings.app.batchMaxBodySize')} hint={t('settings.app.batchMaxBodySizeHint')} error={errors['batch.maxBodySize']}>
          <NumInput min="0" step="1" blankZero disabled={off} value={form.batch.maxBodySize} onChange={(v) => set('batch.maxBodySize', v)} />
        </Field>
      </div>
    </Group>
  );
}

function ProxyGroup({ f, health }) {
  const { form, errors, set } = f;
  const detected = health?.possibleProxyHeader || '';
  const headers = form.trustedProxy.headers;
  const suggestions = detected ? [detected, ...PROXY_HEADERS.filter((h) => h !== detected)] : PROXY_HEADERS;
  return (
    <Group title={t('settings.app.proxy')} enabled={headers.length > 0} hasError={hasErrorIn(errors, 'trustedProxy')}>
      <p class="muted">{t('settings.app.proxyIntro')}</p>
      {health && (
        <dl class="settings-facts">
          <dt>{t('settings.app.proxyRealIP')}</dt>
          <dd class="mono">{health.realIP || t('core.none')}</dd>
          <dt>{t('settings.app.proxyDetected')}</dt>
          <dd class="mono">{detected || t('settings.app.proxyNoneDetected')}</dd>
        </dl>
      )}
      {detected && !headers.includes(detected) && (
        <p class="alert alert-warn">{headers.length ? t('settings.app.proxyMismatch', { header: detected }) : t('settings.app.proxyDetectedWarn', { header: detected })}</p>
      )}
      <div class="grid-2">
        <div class="stack settings-tight">
          <Field label={t('settings.app.proxyHeaders')} hint={t('settings.app.proxyHeadersHint')} error={errors['trustedProxy.headers']}>
            <ListInput value={headers} placeholder={t('settings.app.proxyHeadersPlaceholder')} onChange={(v) => set('trustedProxy.headers', v)} />
          </Field>
          <div class="row small" role="group" aria-label={t('settings.app.proxySuggestions')}>
            <span class="muted">{t('settings.app.proxySuggestions')}:</span>
            {suggestions.map((h) => (
              <button key={h} type="button" class="btn btn-sm" onClick={() => set('trustedProxy.headers', [h])}>
                {h}
              </button>
            ))}
            {headers.length > 0 && (
              <button type="button" class="btn btn-sm btn-ghost" onClick={() => set('trustedProxy.headers', [])}>
                {t('settings.clear')}
              </button>
            )}
          </div>
        </div>
        <Field label={t('settings.app.proxyIPPriority')} hint={t('settings.app.proxyIPPriorityHint')} error={errors['trustedProxy.useLeftmostIP']}>
          <select class="input" value={form.trustedProxy.useLeftmostIP ? 'left' : 'right'} onChange={(e) => set('trustedProxy.useLeftmostIP', e.currentTarget.value === 'left')}>
            <option value="right">{t('settings.app.proxyRightmost')}</option>
            <option value="left">{t('settings.app.proxyLeftmost')}</option>
          </select>
        </Field>
      </div>
    </Group>
  );
}

function RateLimitGroup({ f }) {
  const { form, errors, set } = f;
  const cols = useCollections();
  const rules = form.rateLimits.rules ?? [];
  const tags = [];
  for (const c of cols.list ?? []) {
    if (c.system) continue;
    const ops = c.type === 'view' ? ['list', 'view'] : ['list', 'view', 'create', 'update', 'delete'];
    if (c.type === 'auth') ops.push('auth', 'authWithPassword', 'authWithOAuth2', 'authWithOTP', 'requestOTP', 'requestPasswordReset', 'requestVerification', 'requestEmailChange');
    for (const op of ops) tags.push(`${c.name}:${op}`);
  }
  for (const op of BASE_TAGS) tags.push(`*:${op}`);
  const setRule = (i, key, v) => set(`rateLimits.rules.${i}.${key}`, v);
  const add = () => {
    const next = [...rules, { label: '', audience: '', duration: 3, maxRequests: 200 }];
    set('rateLimits.rules', next);
    if (next.length === 1) set('rateLimits.enabled', true);
  };
  const remove = (i) => {
    const next = rules.filter((_, j) => j !== i);
    set('rateLimits.rules', next);
    if (!next.length) set('rateLimits.enabled', false);
  };
  return (
    <Group title={t('settings.app.rateLimits')} enabled={form.rateLimits.enabled} hasError={hasErrorIn(errors, 'rateLimits')}>
      <Toggle label={t('settings.app.rateLimitsEnabled')} checked={form.rateLimits.enabled} error={errors['rateLimits.enabled']} onChange={(v) => set('rateLimits.enabled', v)} />
      <p class="muted small">{t('settings.app.rateLimitsIntro')}</p>
      <datalist id="kd-rate-tags">
        {tags.map((tg) => (
          <option key={tg} value={tg} />
        ))}
      </datalist>
      {rules.length ? (
        <div class="table-wrap">
          <table class="table rate-table">
            <caption class="sr-only">{t('settings.app.rateLimitsRules')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('settings.app.ruleLabel')}</th>
                <th scope="col">{t('settings.app.ruleAudience')}</th>
                <th scope="col">{t('settings.app.ruleDuration')}</th>
                <th scope="col">{t('settings.app.ruleMaxRequests')}</th>
                <th scope="col">
                  <span class="sr-only">{t('settings.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r, i) => {
                const n = i + 1;
                const e = (k) => errors[`rateLimits.rules.${i}.${k}`];
                return (
                  <tr key={i}>
                    <td>
                      <RuleCell error={e('label')}>
                        <input class="input input-sm mono" list="kd-rate-tags" aria-label={t('settings.app.ruleLabelN', { n })} placeholder={t('settings.app.ruleLabelPlaceholder')} value={r.label} onInput={(ev) => setRule(i, 'label', ev.currentTarget.value)} />
                      </RuleCell>
                    </td>
                    <td>
                      <RuleCell error={e('audience')}>
                        <select class="input input-sm" aria-label={t('settings.app.ruleAudienceN', { n })} value={r.audience ?? ''} onChange={(ev) => setRule(i, 'audience', ev.currentTarget.value)}>
                          <option value="">{t('settings.app.audienceAll')}</option>
                          <option value="@guest">{t('settings.app.audienceGuest')}</option>
                          <option value="@auth">{t('settings.app.audienceAuth')}</option>
                        </select>
                      </RuleCell>
                    </td>
                    <td>
                      <RuleCell error={e('duration')}>
                        <NumInput class="input input-sm" min="1" step="1" aria-label={t('settings.app.ruleDurationN', { n })} value={r.duration} onChange={(v) => setRule(i, 'duration', v)} />
                      </RuleCell>
                    </td>
                    <td>
                      <RuleCell error={e('maxRequests')}>
                        <NumInput class="input input-sm" min="1" step="1" aria-label={t('settings.app.ruleMaxRequestsN', { n })} value={r.maxRequests} onChange={(v) => setRule(i, 'maxRequests', v)} />
                      </RuleCell>
                    </td>
                    <td>
                      <button type="button" class="btn btn-icon btn-sm" aria-label={t('settings.app.ruleRemove', { n })} title={t('settings.app.ruleRemove', { n })} onClick={() => remove(i)}>
                        <Icon name="trash" />
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">{t('settings.app.rateLimitsNone')}</p>
      )}
      {errors['rateLimits.rules'] && (
        <p class="error" role="alert">
          {errors['rateLimits.rules']}
        </p>
      )}
      <div>
        <button type="button" class="btn btn-sm" onClick={add}>
          <Icon name="plus" /> {t('settings.app.ruleAdd')}
        </button>
      </div>
      {'excludedIPs' in form.rateLimits && (
        <Field label={t('settings.app.excludedIPs')} hint={t('settings.app.excludedIPsHint')} error={errors['rateLimits.excludedIPs']}>
          <ListInput value={form.rateLimits.excludedIPs} onChange={(v) => set('rateLimits.excludedIPs', v)} />
        </Field>
      )}
    </Group>
  );
}

/** A table cell's control with the API's error under it (the control names itself by aria-label). */
function RuleCell({ error, children }) {
  const id = useId();
  const control = cloneElement(children, { 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': error ? id : undefined });
  return (
    <div class={`field ${error ? 'has-error' : ''}`}>
      {control}
      {error && (
        <p class="error" id={id} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function SuperuserIPsGroup({ f, health }) {
  const { form, errors, set } = f;
  const ips = form.superuserIPs ?? [];
  const mine = health?.realIP;
  return (
    <Group title={t('settings.app.superuserIPs')} enabled={ips.length > 0} hasError={hasErrorIn(errors, 'superuserIPs')}>
      <p class="muted">{t('settings.app.superuserIPsIntro')}</p>
      <Field label={t('settings.app.superuserIPsLabel')} hint={t('settings.app.superuserIPsHint')} error={errors.superuserIPs}>
        <ListInput value={ips} placeholder={t('settings.app.superuserIPsPlaceholder')} onChange={(v) => set('superuserIPs', v)} />
      </Field>
      <div class="row">
        {mine && !ips.includes(mine) && (
          <button type="button" class="btn btn-sm" onClick={() => set('superuserIPs', [...ips, mine])}>
            <Icon name="plus" /> {t('settings.app.superuserIPsAddMine', { ip: mine })}
          </button>
        )}
        {ips.length > 0 && (
          <button type="button" class="btn btn-sm btn-ghost" onClick={() => set('superuserIPs', [])}>
            {t('settings.clear')}
          </button>
        )}
      </div>
    </Group>
  );
}
