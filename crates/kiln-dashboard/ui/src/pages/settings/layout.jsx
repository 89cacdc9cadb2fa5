// The settings area: its own navigation on the left, the chosen section beside it.
import { t } from '../../i18n/index.js';

/** The sections, in the order of the navigation; `section` is the last part of the address. */
export const SECTIONS = [
  ['application', 'settings.nav.application'],
  ['mail', 'settings.nav.mail'],
  ['storage', 'settings.nav.storage'],
  ['backups', 'settings.nav.backups'],
  ['crons', 'settings.nav.crons'],
  ['webhooks', 'settings.nav.webhooks'],
  ['export-collections', 'settings.nav.export'],
  ['import-collections', 'settings.nav.import'],
];

export function SettingsLayout({ section, children }) {
  return (
    <div class="with-side">
      <nav class="side" aria-label={t('settings.nav.label')}>
        <ul class="side-list">
          {SECTIONS.map(([id, key]) => (
            <li key={id}>
              <a href={id === 'application' ? '#/settings' : `#/settings/${id}`} class={`side-link ${id === section ? 'active' : ''}`} aria-current={id === section ? 'page' : undefined}>
                {t(key)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="side-content">{children}</div>
    </div>
  );
}
