// The settings area: one section beside the settings navigation.
import { t } from '../../i18n/index.js';
import { SettingsLayout } from './layout.jsx';
import { ApplicationSettings } from './application.jsx';
import { MailSettings } from './mail.jsx';
import { StorageSettings } from './storage.jsx';
import { BackupsSettings } from './backups.jsx';
import { CronsSettings } from './crons.jsx';
import { WebhooksSettings } from './webhooks.jsx';
import './settings.css';

const PAGES = {
  application: ['settings.nav.application', ApplicationSettings],
  mail: ['settings.nav.mail', MailSettings],
  storage: ['settings.nav.storage', StorageSettings],
  backups: ['settings.nav.backups', BackupsSettings],
  crons: ['settings.nav.crons', CronsSettings],
  webhooks: ['settings.nav.webhooks', WebhooksSettings],
};

export function SettingsPage({ section = 'application' }) {
  const page = PAGES[section];
  if (!page) {
    return (
      <SettingsLayout section={section}>
        <div class="pad">
          <h1>{t('core.notFound')}</h1>
          <a href="#/settings">{t('settings.backToSettings')}</a>
        </div>
      </SettingsLayout>
    );
  }
  const [titleKey, Section] = page;
  return (
    <SettingsLayout section={section}>
      <header class="page-head">
        <h1>
          <span class="breadcrumb">{t('settings.title')} / </span>
          {t(titleKey)}
        </h1>
      </header>
      <div class="page-body settings-body">
        <Section key={section} />
      </div>
    </SettingsLayout>
  );
}
