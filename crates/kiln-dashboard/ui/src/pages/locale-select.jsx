// The language switch (every page: the sign-in card and the app's navigation).
import { LOCALES, setLocale, t, useLocale } from '../i18n/index.js';
import { useId } from 'preact/hooks';

export function LocaleSelect({ compact = false }) {
  const locale = useLocale();
  const id = useId();
  return (
    <div class={`locale-select ${compact ? 'compact' : ''}`}>
      <label for={id} class={compact ? 'sr-only' : ''}>
        {t('core.language')}
      </label>
      <select id={id} class="input input-sm" value={locale} title={LOCALES[locale].name} onChange={(e) => setLocale(e.currentTarget.value)}>
        {Object.entries(LOCALES).map(([tag, l]) => (
          <option key={tag} value={tag} lang={tag} title={l.name}>
            {compact ? tag.toUpperCase() : l.name}
          </option>
        ))}
      </select>
    </div>
  );
}
