// Page navigation for a list (`page` from 1; `totalPages` from the API).
import { formatNumber, t } from '../i18n/index.js';

export function Pager({ page, totalPages, totalItems, onPage }) {
  if (!totalPages || totalPages < 1) return null;
  return (
    <nav class="pager" aria-label={t('core.pagination')}>
      <span class="muted">{t('core.totalItems', { count: totalItems ?? 0 })}</span>
      <button type="button" class="btn btn-sm" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t('core.previous')}
      </button>
      <span aria-current="page">{t('core.pageOf', { page: formatNumber(page), pages: formatNumber(totalPages) })}</span>
      <button type="button" class="btn btn-sm" disabled={page >= totalPages} onClick={() => onPage(page + 1)}>
        {t('core.next')}
      </button>
    </nav>
  );
}
