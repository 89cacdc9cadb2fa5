// The centred card of the pages shown before sign-in, with the language switch.
import { t } from '../i18n/index.js';
import { LocaleSelect } from './locale-select.jsx';

export function AuthCard({ title, children }) {
  return (
    <main class="auth-page" id="main">
      <div class="auth-card">
        <div class="brand">
          <img src="favicon.svg" alt="" width="36" height="36" />
          <span>{t('core.appName')}</span>
        </div>
        <h1>{title}</h1>
        {children}
      </div>
      <LocaleSelect />
    </main>
  );
}
