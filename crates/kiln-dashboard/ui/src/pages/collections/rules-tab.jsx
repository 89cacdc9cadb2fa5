// The editor's API Rules tab: each rule through the shared RuleEditor (null = superusers only).
import { t } from '../../i18n/index.js';
import { RuleEditor } from '../../ui/rule-editor/index.jsx';

export const RULES = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'];
export const AUTH_RULES = ['authRule', 'manageRule'];

/** The rules a collection of `type` has. */
export function rulesOf(type) {
  if (type === 'view') return ['listRule', 'viewRule'];
  if (type === 'auth') return [...RULES, ...AUTH_RULES];
  return RULES;
}

export function RulesTab({ draft, setDraft, errors }) {
  const locked = draft.system && draft.id;
  const rule = (name) => (
    <RuleEditor
      key={name}
      label={t(`collections.rules.${name}`)}
      hint={t(`collections.rules.${name}Hint`)}
      value={draft[name] ?? null}
      onChange={(v) => setDraft((d) => ({ ...d, [name]: v }))}
      collection={draft}
      error={errors[name]}
    />
  );
  const main = rulesOf(draft.type).filter((r) => !AUTH_RULES.includes(r));
  return (
    <div class="stack">
      <p class="muted">{t('collections.rules.intro')}</p>
      {locked && <p class="alert alert-info">{t('collections.rules.systemNote')}</p>}
      {main.map(rule)}
      {draft.type === 'auth' && (
        <section class="stack cf-auth-rules" aria-labelledby="cf-auth-rules-h">
          <h2 id="cf-auth-rules-h" class="cf-sub">
            {t('collections.rules.authTitle')}
          </h2>
          {AUTH_RULES.map(rule)}
        </section>
      )}
    </div>
  );
}
